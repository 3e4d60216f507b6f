"""botocore failures become one clear line naming the action and resource, plus a hint."""

from __future__ import annotations

import socket

import pytest
from botocore import exceptions as boto
from botocore.parsers import ResponseParserError
from botocore.stub import Stubber

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.errors import aws_errors, translate
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.errors import AwsError, ExitCode, PcliError

STUB_TARGET = AwsTarget(region="us-east-1", endpoint_url="http://127.0.0.1:1")


@pytest.fixture
def stubbed():
    client = SessionFactory().client("cloudformation", STUB_TARGET)
    with Stubber(client) as stubber:
        yield CloudFormationGateway(client), stubber
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("code", "status", "message", "hint"),
    [
        (
            "ExpiredToken",
            400,
            (
                "the AWS credentials have expired (The security token included in the request "
                "is expired)"
            ),
            "aws sso login",
        ),
        ("ExpiredTokenException", 400, "the AWS credentials have expired", "refresh them"),
        ("RequestExpired", 400, "the AWS credentials have expired", "refresh them"),
        ("AccessDenied", 403, "access denied (User: arn:aws:iam::1:user/x is not", "permission"),
        ("AccessDeniedException", 403, "access denied", "permission"),
        ("UnauthorizedOperation", 403, "access denied", "permission"),
        ("Throttling", 400, "AWS is throttling requests (Throttling: ", "lower the concurrency"),
        ("ThrottlingException", 400, "AWS is throttling requests", "wait a minute"),
        ("RequestLimitExceeded", 400, "AWS is throttling requests", "wait a minute"),
        ("InvalidClientTokenId", 403, "AWS rejected the credentials (InvalidClientTokenId", "key"),
        ("SignatureDoesNotMatch", 403, "AWS rejected the credentials", "secret is wrong"),
        ("InternalFailure", 500, "AWS had an internal error", "run the command again"),
    ],
)
def test_error_codes_get_their_message_and_hint(stubbed, code, status, message, hint):
    gateway, stubber = stubbed
    aws_text = {
        "ExpiredToken": "The security token included in the request is expired",
        "AccessDenied": "User: arn:aws:iam::1:user/x is not authorized to perform: "
        "cloudformation:DescribeStacks",
    }.get(code, "Rate exceeded")
    stubber.add_client_error("describe_stacks", code, aws_text, status)
    with pytest.raises(AwsError) as caught:
        gateway.describe("pcli-acme-env-dev")
    error = caught.value
    assert error.message.startswith(f"DescribeStacks failed for stack pcli-acme-env-dev: {message}")
    assert hint in (error.hint or "")
    assert "\n" not in error.message
    assert error.exit_code == ExitCode.ERROR


def test_validation_errors_keep_aws_message(stubbed):
    gateway, stubber = stubbed
    stubber.add_client_error(
        "create_change_set",
        "ValidationError",
        "Template format error: Unresolved resource dependencies [Vpc] in the Resources block",
        400,
    )
    from protoncli.deploy.model import StackRequest

    request = StackRequest("pcli-acme-env-dev", "Resources: {}", {}, "environment dev")
    with pytest.raises(AwsError) as caught:
        gateway.create_change_set(request, change_set_type="CREATE")
    assert caught.value.message == (
        "CreateChangeSet failed for stack pcli-acme-env-dev: Template format error: "
        "Unresolved resource dependencies [Vpc] in the Resources block"
    )


def test_unknown_codes_show_code_and_message(stubbed):
    gateway, stubber = stubbed
    stubber.add_client_error("delete_stack", "LimitExceededException", "Too many\nstacks", 400)
    with pytest.raises(AwsError, match=r"LimitExceededException: Too many stacks$"):
        gateway.delete_stack("pcli-acme-env-dev")


def test_an_html_error_page_means_the_endpoint_does_not_support_the_action(stubbed):
    gateway, stubber = stubbed
    stubber.add_client_error("cancel_update_stack", "501", "Not Implemented", 501)
    with pytest.raises(AwsError) as caught:
        gateway.cancel_update("pcli-acme-env-dev")
    assert caught.value.message == (
        "CancelUpdateStack failed for stack pcli-acme-env-dev: the endpoint does not support "
        "CancelUpdateStack (it answered with HTTP 501)"
    )
    assert "run this against AWS" in (caught.value.hint or "")


@pytest.mark.parametrize(
    ("error", "message", "hint"),
    [
        (boto.NoCredentialsError(), "no AWS credentials found", "AWS_PROFILE"),
        (
            boto.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            "incomplete AWS credentials: AWS_SECRET_ACCESS_KEY is missing (from env)",
            "secret access key",
        ),
        (boto.ProfileNotFound(profile="prod"), "AWS profile 'prod' not found", "list-profiles"),
        (boto.NoRegionError(), "no AWS region set", "AWS_REGION"),
        (
            boto.InvalidRegionError(region_name="us east"),
            "'us east' is not a valid AWS region name",
            "us-east-1",
        ),
        (
            boto.EndpointConnectionError(
                endpoint_url="https://cloudformation.us-moon-1.amazonaws.com/"
            ),
            (
                "'us-moon-1' is not a known AWS region "
                "(no endpoint https://cloudformation.us-moon-1.amazonaws.com/)"
            ),
            "--region",
        ),
        (
            boto.EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/"),
            "cannot connect to the endpoint http://127.0.0.1:4566/",
            "`pcli sandbox status`",
        ),
        (
            boto.ConnectTimeoutError(
                endpoint_url="https://cloudformation.eu-west-1.amazonaws.com/"
            ),
            "cannot connect to the endpoint https://cloudformation.eu-west-1.amazonaws.com/",
            "proxy",
        ),
        (
            boto.TokenRetrievalError(provider="sso", error_msg="Token has expired"),
            "the AWS SSO session is missing or expired",
            "aws sso login",
        ),
        (
            ResponseParserError("Unable to parse response, invalid XML received"),
            "the endpoint does not support DescribeStacks (it answered with an error page",
            "run this against AWS",
        ),
    ],
)
def test_botocore_exceptions_get_their_message_and_hint(error, message, hint):
    translated = translate(error, action="DescribeStacks", resource="stack s")
    assert translated.message.startswith(f"DescribeStacks failed for stack s: {message}")
    assert hint in (translated.hint or "")


def test_aws_errors_translates_and_chains_the_cause():
    with pytest.raises(AwsError) as caught, aws_errors("ListStacks"):
        raise boto.NoRegionError
    assert caught.value.message == "ListStacks failed: no AWS region set"
    assert isinstance(caught.value.__cause__, boto.NoRegionError)


@pytest.mark.parametrize("error", [KeyboardInterrupt(), ValueError("bug"), PcliError("mine")])
def test_aws_errors_lets_other_exceptions_through_unchanged(error):
    with pytest.raises(type(error)) as caught, aws_errors("ListStacks"):
        raise error
    assert caught.value is error


def test_translate_keeps_pcli_errors():
    error = PcliError("already clear")
    assert translate(error, action="x") is error


def test_a_closed_port_is_a_connection_error_naming_the_endpoint():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    factory = SessionFactory(max_attempts=1)
    target = AwsTarget(region="us-east-1", endpoint_url=f"http://127.0.0.1:{port}")
    with pytest.raises(AwsError) as caught:
        factory.account_id(target)
    assert caught.value.message == (
        f"GetCallerIdentity failed for region us-east-1 (endpoint http://127.0.0.1:{port}): "
        f"cannot connect to the endpoint http://127.0.0.1:{port}/"
    )
    assert caught.value.hint == "is the local sandbox running? check it with `pcli sandbox status`"


def test_a_missing_profile_is_named(monkeypatch):
    target = AwsTarget(region="us-east-1", profile="nope")
    with pytest.raises(AwsError) as caught:
        SessionFactory().client("cloudformation", target)
    assert caught.value.message == (
        "create the cloudformation client failed for region us-east-1 (profile nope): "
        "AWS profile 'nope' not found"
    )


def test_no_credentials_at_all(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(AwsError) as caught:
        SessionFactory(max_attempts=1).account_id(AwsTarget(region="us-east-1"))
    assert caught.value.message == (
        "GetCallerIdentity failed for region us-east-1: no AWS credentials found"
    )
    assert "aws sso login" in (caught.value.hint or "")


def test_no_region_at_all(monkeypatch):
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(AwsError) as caught:
        SessionFactory().client("cloudformation", AwsTarget(region=""))
    assert caught.value.message == (
        "create the cloudformation client failed for the default region: no AWS region set"
    )


def test_a_malformed_region_name():
    with pytest.raises(AwsError, match="'us east' is not a valid AWS region name"):
        SessionFactory().client("sts", AwsTarget(region="us east"))
