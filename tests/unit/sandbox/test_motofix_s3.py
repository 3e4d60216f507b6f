"""pcli's correction to moto's conditional PutObject: the check and the write are one step, as
in S3, so of two writers that read the same ETag exactly one succeeds (a team registry's index
relies on it)."""

from __future__ import annotations

import threading
import time

import boto3
from botocore.exceptions import ClientError
from moto.s3.models import S3Backend


def test_two_conditional_puts_on_one_etag_never_both_succeed(moto_url, monkeypatch):
    def client():
        return boto3.session.Session().client(
            "s3",
            endpoint_url=moto_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
        )

    s3 = client()
    s3.create_bucket(Bucket="cond-bucket")
    etag = s3.put_object(Bucket="cond-bucket", Key="index.json", Body=b"0")["ETag"]
    slow_write = S3Backend.put_object

    def put_object(self, *args, **kwargs):
        time.sleep(0.3)  # between moto's check of the condition and its write
        return slow_write(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", put_object)
    answers: list[str] = []

    def write(body: bytes) -> None:
        try:
            client().put_object(Bucket="cond-bucket", Key="index.json", Body=body, IfMatch=etag)
            answers.append("written")
        except ClientError as error:
            answers.append(error.response["Error"]["Code"])

    threads = [threading.Thread(target=write, args=(body,)) for body in (b"1", b"2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(answers) == ["PreconditionFailed", "written"]
