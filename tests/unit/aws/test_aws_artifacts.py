"""The artifact bucket against a real moto server: created safely once, canonical URLs."""

from __future__ import annotations

import hashlib

import pytest
from botocore.stub import Stubber

from protoncli.aws.s3 import ArtifactStore
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.errors import AwsError


def _store(moto_url, region="us-east-1"):
    factory = SessionFactory()
    target = AwsTarget(region=region, endpoint_url=moto_url)
    s3 = factory.client("s3", target)
    return ArtifactStore(s3, account_id=factory.account_id(target), region=region), s3


def test_first_upload_creates_an_encrypted_private_bucket(moto_url):
    store, s3 = _store(moto_url)
    body = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    url = store.upload_template("pcli-acme-env-dev", body)

    bucket = "pcli-artifacts-123456789012-us-east-1"
    digest = hashlib.sha256(body.encode()).hexdigest()
    key = f"templates/pcli-acme-env-dev/{digest}.yaml"
    assert url == f"https://{bucket}.s3.us-east-1.amazonaws.com/{key}"
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() == body
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None


def test_other_regions_get_a_bucket_located_there(moto_url):
    store, s3 = _store(moto_url, region="eu-west-1")
    url = store.upload_template("s", "x: 1\n")
    bucket = "pcli-artifacts-123456789012-eu-west-1"
    assert url.startswith(f"https://{bucket}.s3.eu-west-1.amazonaws.com/templates/s/")
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "eu-west-1"


def test_an_existing_bucket_is_reused(moto_url):
    store, s3 = _store(moto_url)
    store.upload_template("a", "one: 1\n")
    again, _ = _store(moto_url)
    again.upload_template("b", "two: 2\n")
    keys = sorted(
        item["Key"]
        for item in s3.list_objects_v2(Bucket="pcli-artifacts-123456789012-us-east-1")["Contents"]
    )
    assert [key.split("/")[1] for key in keys] == ["a", "b"]
    assert len(s3.list_buckets()["Buckets"]) == 1


def test_a_put_into_an_existing_bucket_is_the_only_call(moto_url):
    """The bucket is looked for only when a put finds none: once per account and region."""
    first, _ = _store(moto_url, region="ap-south-1")
    first.put_record("records/s/1.json", {"n": 1})
    store, s3 = _store(moto_url, region="ap-south-1")
    calls = []
    s3.meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))

    store.put_record("records/s/2.json", {"n": 2})
    store.put_record("records/s/3.json", {"n": 3})

    assert calls == ["PutObject", "PutObject"]


@pytest.mark.parametrize(
    ("answers", "action"),
    [
        ([("put_object", "AccessDenied")], "PutObject"),  # ExpectedBucketOwner differs
        ([("put_object", "NoSuchBucket"), ("head_bucket", "403")], "HeadBucket"),
    ],
)
def test_a_bucket_of_another_account_is_refused(answers, action):
    client = SessionFactory().client(
        "s3", AwsTarget("us-east-1", endpoint_url="http://127.0.0.1:1")
    )
    store = ArtifactStore(client, account_id="123456789012", region="us-east-1")
    with Stubber(client) as stubber:
        for operation, code in answers:
            stubber.add_client_error(operation, code, "Forbidden", 403)
        with pytest.raises(AwsError) as caught:
            store.upload_template("s", "x: 1\n")
    assert caught.value.message.startswith(
        f"{action} failed for bucket pcli-artifacts-123456789012-us-east-1: access denied"
    )
