"""The artifact bucket: where templates too large to send inline go before CloudFormation reads
them through a TemplateURL.

One bucket per account and region, `pcli-artifacts-<account>-<region>`, created on first need with
default encryption (SSE-S3) and every kind of public access blocked. Keys are content-addressed
(`templates/<stack>/<sha256>.yaml`), so uploading the same template twice is harmless.

The same bucket keeps the deployment records of the stacks of its account and region, one JSON
object per deployment under `records/<stack>/` (`put_record`, `record_keys`, `get_record`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from protoncli.aws.errors import aws_errors, error_code
from protoncli.errors import AwsError

_MISSING_BUCKET_CODES = frozenset({"404", "NoSuchBucket", "NotFound"})
_OWNED_ALREADY_CODES = frozenset({"BucketAlreadyOwnedByYou"})
_DENIED_CODES = frozenset({"403", "AccessDenied"})
_PUBLIC_ACCESS_BLOCKED = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
_SSE_S3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


class ArtifactStore:
    """Uploads templates to the account's pcli artifact bucket in one region."""

    def __init__(self, client: Any, *, account_id: str, region: str) -> None:
        self._client = client
        self._account_id = account_id
        self._region = region
        self.bucket = f"pcli-artifacts-{account_id}-{region}"
        self._ready = False
        self._lock = threading.Lock()

    def upload_template(self, stack_name: str, body: str) -> str:
        """Store the template; its canonical https URL (never the endpoint's, which
        CloudFormation could not read)."""
        data = body.encode("utf-8")
        key = f"templates/{stack_name}/{hashlib.sha256(data).hexdigest()}.yaml"
        self._put(key, data, "application/x-yaml")
        return f"https://{self.bucket}.s3.{self._region}.amazonaws.com/{key}"

    def put_record(self, key: str, document: dict[str, Any]) -> None:
        """Store one JSON record under `key` (the bucket is made first if need be)."""
        data = json.dumps(document, indent=2, sort_keys=True).encode("utf-8")
        self._put(key, data, "application/json")

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        """PutObject; the bucket is made when the first put finds none (no HeadBucket before
        every run's first put: the bucket is there but once per account and region)."""

        def put() -> None:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                ExpectedBucketOwner=self._account_id,
            )

        with aws_errors("PutObject", f"bucket {self.bucket}"):
            try:
                put()
            except ClientError as error:
                code = error_code(error)
                if code in _DENIED_CODES:
                    raise self._not_ours("PutObject") from error
                if code not in _MISSING_BUCKET_CODES:
                    raise
            else:
                return
        self._ensure_bucket()
        with aws_errors("PutObject", f"bucket {self.bucket}"):
            put()

    def record_keys(self, prefix: str) -> list[str]:
        """Every key under `prefix` (paginated), sorted; empty when the bucket does not exist."""
        with self._lock:
            ready = self._ready
        if not ready and not self._bucket_exists():
            return []
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        with aws_errors("ListObjectsV2", f"bucket {self.bucket}"):
            for page in paginator.paginate(
                Bucket=self.bucket, Prefix=prefix, ExpectedBucketOwner=self._account_id
            ):
                keys += [str(item["Key"]) for item in page.get("Contents", [])]
        return sorted(keys)

    def keys_if_any(self, prefix: str) -> list[str]:
        """Every key under `prefix`, sorted; empty when the bucket does not exist. One
        ListObjectsV2 a page, and no HeadBucket first: a fleet read asks every place once."""
        keys: list[str] = []
        paginator = self._client.get_paginator("list_objects_v2")
        with aws_errors("ListObjectsV2", f"bucket {self.bucket}"):
            try:
                for page in paginator.paginate(
                    Bucket=self.bucket, Prefix=prefix, ExpectedBucketOwner=self._account_id
                ):
                    keys += [str(item["Key"]) for item in page.get("Contents", [])]
            except ClientError as error:
                code = error_code(error)
                if code in _MISSING_BUCKET_CODES:
                    return []
                if code in _DENIED_CODES:
                    raise self._not_ours("ListObjectsV2") from error
                raise
        return sorted(keys)

    def record_if_any(self, key: str) -> Any:
        """The JSON document stored under `key`; None when there is none (or no bucket)."""
        with aws_errors("GetObject", f"s3://{self.bucket}/{key}"):
            try:
                answer = self._client.get_object(
                    Bucket=self.bucket, Key=key, ExpectedBucketOwner=self._account_id
                )
            except ClientError as error:
                if error_code(error) in {*_MISSING_BUCKET_CODES, "NoSuchKey"}:
                    return None
                raise
            data = answer["Body"].read()
        return _json(self.bucket, key, data)

    def delete_record(self, key: str) -> None:
        """Remove the object under `key` (gone already is fine)."""
        with aws_errors("DeleteObject", f"s3://{self.bucket}/{key}"):
            try:
                self._client.delete_object(
                    Bucket=self.bucket, Key=key, ExpectedBucketOwner=self._account_id
                )
            except ClientError as error:
                if error_code(error) not in {*_MISSING_BUCKET_CODES, "NoSuchKey"}:
                    raise

    def get_record(self, key: str) -> Any:
        """The JSON document stored under `key`."""
        with aws_errors("GetObject", f"s3://{self.bucket}/{key}"):
            answer = self._client.get_object(
                Bucket=self.bucket, Key=key, ExpectedBucketOwner=self._account_id
            )
            data = answer["Body"].read()
        return _json(self.bucket, key, data)

    def ensure(self) -> None:
        """Make the bucket if it is not there yet (Terraform's state goes in it)."""
        self._ensure_bucket()

    def exists(self) -> bool:
        """Whether the bucket is there (HeadBucket); an error when it is another account's or
        these credentials may not read it."""
        return self._bucket_exists()

    def _ensure_bucket(self) -> None:
        with self._lock:
            if self._ready:
                return
            if not self._bucket_exists():
                self._create_bucket()
            self._ready = True

    def _bucket_exists(self) -> bool:
        with aws_errors("HeadBucket", f"bucket {self.bucket}"):
            try:
                self._client.head_bucket(Bucket=self.bucket, ExpectedBucketOwner=self._account_id)
            except ClientError as error:
                code = error_code(error)
                if code in _MISSING_BUCKET_CODES:
                    return False
                if code in _DENIED_CODES:
                    raise self._not_ours("HeadBucket") from error
                raise
        return True

    def _not_ours(self, action: str) -> AwsError:
        return AwsError(
            f"{action} failed for bucket {self.bucket}: access denied (the bucket belongs to "
            "another account, or these credentials may not use it)",
            hint="allow s3:ListBucket and s3:PutObject on it, or check which account owns it",
        )

    def _create_bucket(self) -> None:
        arguments: dict[str, Any] = {"Bucket": self.bucket}
        if self._region != "us-east-1":  # us-east-1 refuses a LocationConstraint naming itself
            arguments["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
        resource = f"bucket {self.bucket}"
        with aws_errors("CreateBucket", resource):
            try:
                self._client.create_bucket(**arguments)
            except ClientError as error:
                if error_code(error) not in _OWNED_ALREADY_CODES:  # made meanwhile by another run
                    raise
        with aws_errors("PutPublicAccessBlock", resource):
            self._client.put_public_access_block(
                Bucket=self.bucket,
                PublicAccessBlockConfiguration=_PUBLIC_ACCESS_BLOCKED,
                ExpectedBucketOwner=self._account_id,
            )
        with aws_errors("PutBucketEncryption", resource):
            self._client.put_bucket_encryption(
                Bucket=self.bucket,
                ServerSideEncryptionConfiguration=_SSE_S3,
                ExpectedBucketOwner=self._account_id,
            )


def _json(bucket: str, key: str, data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError as error:
        raise AwsError(f"s3://{bucket}/{key}: not a JSON document ({error})") from None


class LazyArtifactStore:
    """An `ArtifactStore` made on the first upload: most templates never need one, and an S3
    client (and the account id) cost time on every deploy."""

    def __init__(self, make: Callable[[], ArtifactStore]) -> None:
        self._make = make
        self._store: ArtifactStore | None = None
        self._lock = threading.Lock()

    def upload_template(self, stack_name: str, body: str) -> str:
        with self._lock:
            if self._store is None:
                self._store = self._make()
        return self._store.upload_template(stack_name, body)
