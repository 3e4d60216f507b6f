"""The local Proton endpoint that CodeBuild commands notify, called by boto3, the real AWS CLI and
raw HTTP."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from protoncli.provision.notify_endpoint import NotifyEndpoint

ARN = "arn:aws:proton:us-east-1:123456789012:environment/dev"
TARGET = "AwsProton20200720.NotifyResourceDeploymentStatusChange"


@pytest.fixture
def endpoint():
    with NotifyEndpoint(ARN) as notify:
        yield notify


def proton(url):
    return boto3.client(
        "proton",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",  # noqa: S106 - a dummy
    )


def aws_cli():
    beside = Path(sys.executable).parent / "aws"
    found = str(beside) if beside.exists() else shutil.which("aws")
    if not found:
        pytest.skip("the AWS CLI is not installed")
    return found


def post(url, body, *, target=TARGET, signed=True):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target}
    if signed:
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=x/20240101/us-east-1/proton/..."
    request = urllib.request.Request(url + "/", data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, json.loads(error.read())


def test_boto3_notification_is_kept_and_merged(endpoint):
    client = proton(endpoint.url)
    client.notify_resource_deployment_status_change(
        resourceArn=ARN, status="IN_PROGRESS", statusMessage="starting"
    )
    answer = client.notify_resource_deployment_status_change(
        resourceArn=ARN,
        status="SUCCEEDED",
        outputs=[{"key": "url", "valueString": "https://a"}, {"key": "n", "valueString": "1"}],
    )
    client.notify_resource_deployment_status_change(
        resourceArn=ARN, outputs=[{"key": "url", "valueString": "https://b"}]
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert endpoint.outputs == {"url": "https://b", "n": "1"}
    assert endpoint.statuses == ["IN_PROGRESS", "SUCCEEDED"]
    assert endpoint.messages == ["starting"]


def test_answer_is_awsjson(endpoint):
    status, headers, body = post(endpoint.url, {"resourceArn": ARN, "status": "SUCCEEDED"})
    assert (status, body) == (200, {})
    assert headers["Content-Type"] == "application/x-amz-json-1.0"


def test_wrong_arn_is_not_found(endpoint):
    with pytest.raises(ClientError) as caught:
        proton(endpoint.url).notify_resource_deployment_status_change(
            resourceArn=ARN + "-other", status="SUCCEEDED"
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "ResourceNotFoundException"
    assert ARN + "-other" in error["Message"]
    assert "$RESOURCE_ARN" in error["Message"]
    assert endpoint.statuses == []


def test_unknown_operation_is_named(endpoint):
    with pytest.raises(ClientError) as caught:
        proton(endpoint.url).list_environments()
    error = caught.value.response["Error"]
    assert error["Code"] == "UnknownOperationException"
    assert "ListEnvironments" in error["Message"]


@pytest.mark.parametrize(
    ("outputs", "named"),
    [
        ([{"key": "big", "valueString": "v" * 1025}], "big"),
        ([{"key": "k" * 1025, "valueString": "v"}], "k" * 60),
        ([{"key": "empty", "valueString": ""}], "empty"),
        ([{"key": "count", "valueString": 3}], "count"),
        ([{"key": "lost"}], "lost"),
        ([{"valueString": "v"}], "None"),
    ],
)
def test_bad_outputs_are_refused(endpoint, outputs, named):
    status, _, body = post(endpoint.url, {"resourceArn": ARN, "outputs": outputs})
    assert status == 400
    assert body["__type"] == "ValidationException"
    assert named in body["message"]
    assert endpoint.outputs == {}


def test_boto3_sees_validation_error(endpoint):
    with pytest.raises(ClientError) as caught:
        proton(endpoint.url).notify_resource_deployment_status_change(
            resourceArn=ARN, outputs=[{"key": "big", "valueString": "v" * 1025}]
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "'big'" in caught.value.response["Error"]["Message"]


def test_more_than_fifty_outputs_in_one_call_are_refused(endpoint):
    outputs = [{"key": f"k{i}", "valueString": "v"} for i in range(51)]
    status, _, body = post(endpoint.url, {"resourceArn": ARN, "outputs": outputs})
    assert (status, body["__type"]) == (400, "ValidationException")


def test_bad_status_and_body(endpoint):
    status, _, body = post(endpoint.url, {"resourceArn": ARN, "status": "DONE"})
    assert (status, body["__type"]) == (400, "ValidationException")
    assert "DONE" in body["message"]
    status, _, body = post(endpoint.url, b"{not json")
    assert (status, body["__type"]) == (400, "SerializationException")


def test_other_target_and_unsigned_request(endpoint):
    status, _, body = post(endpoint.url, {}, target="AwsProton20200720.DeleteEnvironment")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    assert "AwsProton20200720.DeleteEnvironment" in body["message"]
    status, _, body = post(endpoint.url, {"resourceArn": ARN}, signed=False)
    assert (status, body["__type"]) == (403, "MissingAuthenticationTokenException")
    assert endpoint.statuses == []


def test_concurrent_notifications_all_arrive(endpoint):
    def notify(number):
        client = proton(endpoint.url)
        for round_ in range(5):
            client.notify_resource_deployment_status_change(
                resourceArn=ARN,
                status="IN_PROGRESS",
                outputs=[{"key": f"t{number}-{round_}", "valueString": str(number)}],
            )

    threads = [threading.Thread(target=notify, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(endpoint.outputs) == 40
    assert len(endpoint.statuses) == 40


def test_real_aws_cli(endpoint, tmp_path, monkeypatch):
    aws = aws_cli()
    (tmp_path / "outputs.json").write_text(
        json.dumps([{"key": "bucket", "valueString": "my-bucket"}]), encoding="utf-8"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        **endpoint.environment({}),
    }
    command = [aws, "proton", "notify-resource-deployment-status-change", "--resource-arn"]
    done = subprocess.run(
        [*command, ARN, "--status", "SUCCEEDED", "--outputs", "file://outputs.json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert endpoint.outputs == {"bucket": "my-bucket"}
    assert endpoint.statuses == ["SUCCEEDED"]
    refused = subprocess.run(
        [*command, ARN + "x", "--status", "FAILED"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode != 0
    assert "ResourceNotFoundException" in refused.stderr
    assert endpoint.statuses == ["SUCCEEDED"]


def test_environment_points_proton_calls_here(endpoint):
    env = endpoint.environment({"NO_PROXY": "example.com"})
    assert env["AWS_ENDPOINT_URL_PROTON"] == endpoint.url
    assert endpoint.url.startswith("http://127.0.0.1:")
    assert env["NO_PROXY"] == "example.com,127.0.0.1"
    assert env["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] == "false"
    assert endpoint.environment({"no_proxy": "127.0.0.1"})["NO_PROXY"] == "127.0.0.1"


def test_stops_on_exit():
    with NotifyEndpoint(ARN) as notify:
        url = notify.url
        assert post(url, {"resourceArn": ARN})[0] == 200
    with pytest.raises(urllib.error.URLError):
        post(url, {"resourceArn": ARN})
    with pytest.raises(RuntimeError, match="not running"):
        _ = notify.url
