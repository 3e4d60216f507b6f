"""A team registry in S3 (`s3://BUCKET/PREFIX`): its index and its version archives.

Objects, under the prefix:

- `index.json`: every version of every blueprint (blueprints/remote.py says what it holds);
  replaced only by a PutObject conditional on the ETag read (`If-Match`), or created with
  `If-None-Match: *`, so of two publishers that read the same index only one writes it;
- `<name>/sha256-<hex>.tar.gz`: a version's bundle, named by its content digest and created with
  `If-None-Match: *`: never overwritten. A version is only ever added to the index after its
  archive is complete, so a reader never finds an entry without its archive.

pcli never creates the bucket: a team registry's bucket is the team's (a missing one is an
error that says how to make it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from protoncli.aws.errors import aws_errors, error_code
from protoncli.errors import AwsError, RegistryError

if TYPE_CHECKING:
    from protoncli.blueprints.location import Access, RemoteLocation
    from protoncli.blueprints.remote import NewVersion
    from protoncli.blueprints.versions import VersionInfo

INDEX_KEY = "index.json"
_CHANGED_CODES = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})
_MISSING_KEY_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_MISSING_BUCKET_CODES = frozenset({"NoSuchBucket"})


class RegistryBucket:
    """The S3 side of a team registry (the `Store` of blueprints/remote.py)."""

    def __init__(self, client: Any, bucket: str, prefix: str) -> None:
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"

    @classmethod
    def open(cls, location: RemoteLocation, access: Access) -> RegistryBucket:
        """The bucket of `location`, with a client of pcli's session layer: its profile,
        region, and endpoint (the sandbox's with --sandbox; else AWS_ENDPOINT_URL)."""
        from protoncli.aws.session import SessionFactory
        from protoncli.aws.target import AwsTarget

        sessions = SessionFactory(
            connect_timeout=access.connect_timeout, read_timeout=access.read_timeout
        )
        target = AwsTarget(
            region=access.region or "", profile=access.profile, endpoint_url=access.endpoint_url
        )
        return cls(sessions.client("s3", target), location.bucket, location.prefix)

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def archive_key(self, name: str, digest: str) -> str:
        return self.key(f"{name}/{digest.replace(':', '-')}.tar.gz")

    def read_index(self) -> tuple[bytes | None, str | None]:
        key = self.key(INDEX_KEY)
        with aws_errors("GetObject", f"s3://{self.bucket}/{key}"):
            try:
                answer = self._client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                self._raise_if_no_bucket(error)
                if error_code(error) in _MISSING_KEY_CODES:
                    return None, None
                raise
            return answer["Body"].read(), str(answer["ETag"])

    def fetch(self, info: VersionInfo, scratch: Path) -> Path:
        key = self.archive_key(info.name, info.digest)
        with aws_errors("GetObject", f"s3://{self.bucket}/{key}"):
            try:
                data = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as error:
                self._raise_if_no_bucket(error)
                if error_code(error) not in _MISSING_KEY_CODES:
                    raise
                raise RegistryError(
                    f"blueprint {info.ref}: its archive s3://{self.bucket}/{key} is missing "
                    f"from {self.url}",
                    hint="ask the registry's owners to restore it (S3 object versioning keeps "
                    "deleted objects)",
                ) from None
        path = scratch / "bundle.tar.gz"
        path.write_bytes(data)
        return path

    def commit(self, index: bytes, token: str | None, added: NewVersion | None, what: str) -> None:
        if added is not None:
            self._put_archive(added)
        key = self.key(INDEX_KEY)
        condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}
        with aws_errors("PutObject", f"s3://{self.bucket}/{key} ({what})"):
            try:
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=index,
                    ContentType="application/json",
                    **condition,
                )
            except ClientError as error:
                if error_code(error) in _CHANGED_CODES:
                    from protoncli.blueprints.remote import IndexChanged

                    raise IndexChanged(what) from error
                self._raise_if_no_bucket(error)
                raise

    def _put_archive(self, added: NewVersion) -> None:
        """Create the archive; one already there has the same content (its name is its
        digest, and readers check it), so it is kept as it is."""
        key = self.archive_key(added.name, added.info.digest)
        with aws_errors("PutObject", f"s3://{self.bucket}/{key}"):
            try:
                self._client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=added.archive(),
                    ContentType="application/gzip",
                    IfNoneMatch="*",
                )
            except ClientError as error:
                if error_code(error) in _CHANGED_CODES:
                    return
                self._raise_if_no_bucket(error)
                raise

    def _raise_if_no_bucket(self, error: ClientError) -> None:
        if error_code(error) in _MISSING_BUCKET_CODES:
            raise AwsError(
                f"the bucket of registry {self.url} does not exist",
                hint=f"create it (aws s3 mb s3://{self.bucket}; turn on its object versioning "
                "to keep every change), or check the registry setting",
            ) from error
