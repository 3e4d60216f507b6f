"""botocore's exceptions, translated into pcli's errors at the aws/ boundary.

Every AWS call runs inside `aws_errors(action, resource)`. A failure becomes one `AwsError` line
that names the action and the resource, plus a hint that says what to do about it. Translation goes
by error code (or exception class), never by matching message text, except where AWS gives no code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import urlsplit

from botocore import exceptions as boto  # type: ignore[import-untyped]
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

from protoncli.errors import AwsError, PcliError

EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "RequestExpired"})
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"})
THROTTLED_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
BAD_KEY_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
    }
)
AWS_FAULT_CODES = frozenset(
    {"InternalFailure", "InternalError", "InternalServiceError", "ServiceUnavailable"}
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SANDBOX_HINT = "is the local sandbox running? check it with `pcli sandbox status`"
_REGION_IN_HOST = re.compile(r"\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com")


def error_code(error: BaseException) -> str | None:
    """The AWS error code of a ClientError (e.g. "ValidationError"), else None."""
    if isinstance(error, boto.ClientError):
        code = error.response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


def error_message(error: BaseException) -> str:
    """AWS's own message of a ClientError (or the exception text), on one line."""
    if isinstance(error, boto.ClientError):
        text = str(error.response.get("Error", {}).get("Message") or "")
    else:
        text = str(error)
    return " ".join(text.split())


@contextmanager
def aws_errors(action: str, resource: str | None = None) -> Iterator[None]:
    """Run an AWS call; re-raise botocore's errors as `AwsError`.

    `action` is the AWS operation (e.g. "CreateChangeSet") or a short phrase ("create client"),
    `resource` what it acts on, e.g. "stack pcli-acme-env-dev" or "bucket NAME".
    """
    try:
        yield
    except (boto.BotoCoreError, boto.ClientError, ResponseParserError) as error:
        raise translate(error, action=action, resource=resource) from error


class DeniedError(AwsError):
    """A call the credentials may not make; `permission` is the IAM action to add."""

    def __init__(self, message: str, permission: str) -> None:
        super().__init__(
            message,
            hint=f"add the permission {permission} to the policy of the credentials in use "
            "(or use a profile or role that has it)",
        )
        self.permission = permission


@contextmanager
def naming_permission(action: str, resource: str, permission: str) -> Iterator[None]:
    """`aws_errors`, with a denied call turned into a `DeniedError` that names `permission`
    (reads that report a missing permission instead of failing the whole command)."""
    with aws_errors(action, resource):
        try:
            yield
        except boto.ClientError as error:
            if error_code(error) in DENIED_CODES:
                message = error_message(error)
                raise DeniedError(
                    f"{action} failed for {resource}: access denied"
                    + (f" ({message})" if message else ""),
                    permission,
                ) from error
            raise


def translate(error: BaseException, *, action: str, resource: str | None = None) -> PcliError:
    """One clear `PcliError` for a failed AWS call: what failed, on what, and a hint."""
    if isinstance(error, PcliError):
        return error
    where = f"{action} failed for {resource}" if resource else f"{action} failed"
    if isinstance(error, boto.ClientError):
        problem, hint = _client_error(error, action)
    else:
        problem, hint = _botocore_error(error, action)
    return AwsError(f"{where}: {problem}", hint=hint)


def _client_error(error: BaseException, action: str) -> tuple[str, str | None]:
    code = error_code(error) or "Unknown"
    message = error_message(error)
    for codes, explain in _CODE_TABLE:
        if code in codes:
            return explain(code, message)
    if code.isdigit() and int(code) >= 500:  # noqa: PLR2004 - HTTP 5xx: an error page, not AWS XML
        return _unsupported(action, f"HTTP {code}")
    return f"{code}: {message}" if message else code, None


def _expired(_code: str, message: str) -> tuple[str, str | None]:
    return (
        f"the AWS credentials have expired ({message})",
        "refresh them (`aws sso login`, or new temporary credentials) and run the command again",
    )


def _denied(_code: str, message: str) -> tuple[str, str | None]:
    return (
        f"access denied ({message})" if message else "access denied",
        (
            "the credentials in use lack this permission: use a profile or role that has it "
            "(AWS_PROFILE, or the workspace's role), or ask for the permission to be granted"
        ),
    )


def _throttled(code: str, message: str) -> tuple[str, str | None]:
    return (
        f"AWS is throttling requests ({code}: {message}), still after retries",
        "wait a minute and run the command again; with many stacks, lower the concurrency",
    )


def _validation(_code: str, message: str) -> tuple[str, str | None]:
    return message or "the request was refused as invalid", None


def _bad_keys(code: str, message: str) -> tuple[str, str | None]:
    return (
        f"AWS rejected the credentials ({code}: {message})",
        (
            "the access key is unknown or its secret is wrong: check the keys of the profile in "
            "use (`aws configure list`)"
        ),
    )


def _aws_fault(code: str, message: str) -> tuple[str, str | None]:
    return (
        f"AWS had an internal error ({code}: {message})",
        "this is usually temporary: run the command again",
    )


_CODE_TABLE: tuple[tuple[frozenset[str], Callable[[str, str], tuple[str, str | None]]], ...] = (
    (EXPIRED_CODES, _expired),
    (DENIED_CODES, _denied),
    (THROTTLED_CODES, _throttled),
    (frozenset({"ValidationError"}), _validation),
    (BAD_KEY_CODES, _bad_keys),
    (AWS_FAULT_CODES, _aws_fault),
)


def _botocore_error(error: BaseException, action: str) -> tuple[str, str | None]:  # noqa: PLR0911 - one branch per botocore exception family
    kwargs: dict[str, object] = getattr(error, "kwargs", {}) or {}
    if isinstance(error, boto.NoCredentialsError):
        return "no AWS credentials found", (
            "set a profile (--profile, PCLI_PROFILE or AWS_PROFILE), run `aws configure` or "
            "`aws sso login`, or use the local sandbox"
        )
    if isinstance(error, boto.PartialCredentialsError):
        return (
            (
                f"incomplete AWS credentials: {kwargs.get('cred_var')} is missing "
                f"(from {kwargs.get('provider')})"
            ),
            "set both the access key id and the secret access key, or use a profile",
        )
    if isinstance(error, boto.ProfileNotFound):
        return f"AWS profile '{kwargs.get('profile')}' not found", (
            "check --profile, PCLI_PROFILE or AWS_PROFILE against `aws configure list-profiles`"
        )
    if isinstance(error, boto.NoRegionError):
        return "no AWS region set", (
            "pass --region, set PCLI_REGION or AWS_REGION, or run `pcli config set region REGION`"
        )
    if isinstance(error, boto.InvalidRegionError):
        return f"'{kwargs.get('region_name')}' is not a valid AWS region name", (
            "use a region such as us-east-1 (--region or AWS_REGION)"
        )
    if isinstance(error, boto.SSOError | boto.TokenRetrievalError | boto.SSOTokenLoadError):
        return f"the AWS SSO session is missing or expired ({error_message(error)})", (
            "run `aws sso login` (with --profile if you use one) and run the command again"
        )
    if isinstance(error, boto.CredentialRetrievalError):
        return f"cannot get AWS credentials ({error_message(error)})", (
            "check the credential source of the profile in use (`aws configure list`)"
        )
    if isinstance(error, boto.ReadTimeoutError):
        endpoint = str(kwargs.get("endpoint_url") or "the endpoint")
        return (
            f"no answer from {endpoint} to {action}: it accepts connections but did not "
            "answer in time, attempt after attempt"
        ), (
            "check the endpoint (for the sandbox: pcli sandbox status) and the network; if "
            "it is only slow, give it more time with --read-timeout SECONDS (or "
            "PCLI_READ_TIMEOUT), and fewer or more attempts with AWS_MAX_ATTEMPTS"
        )
    if isinstance(error, boto.EndpointConnectionError | boto.ConnectTimeoutError):
        return _unreachable(str(kwargs.get("endpoint_url") or ""))
    if isinstance(error, boto.ConnectionError):
        return f"the connection to the endpoint failed ({error_message(error)})", (
            "check the network connection and run the command again"
        )
    if isinstance(error, ResponseParserError):
        return _unsupported(action, "an error page instead of an AWS response")
    return error_message(error), None


def _unreachable(endpoint: str) -> tuple[str, str | None]:
    host = urlsplit(endpoint).hostname or ""
    region = _REGION_IN_HOST.search(endpoint)
    if region and region.group(1) not in known_regions():
        return f"'{region.group(1)}' is not a known AWS region (no endpoint {endpoint})", (
            "check --region or AWS_REGION"
        )
    if host in LOCAL_HOSTS:
        return f"cannot connect to the endpoint {endpoint}", SANDBOX_HINT
    return f"cannot connect to the endpoint {endpoint}", (
        "check the network connection, any proxy settings and the endpoint URL (AWS_ENDPOINT_URL)"
    )


def _unsupported(action: str, answer: str) -> tuple[str, str | None]:
    return f"the endpoint does not support {action} (it answered with {answer})", (
        "the local sandbox does not implement every AWS operation or template feature "
        "(Fn::Cidr, for one): run this against AWS, or simplify the template"
    )


@cache
def known_regions() -> frozenset[str]:
    """Every region of every AWS partition, from botocore's own data (no network)."""
    from botocore.loaders import create_loader  # type: ignore[import-untyped]

    partitions = create_loader().load_data("partitions")["partitions"]
    return frozenset(region for partition in partitions for region in partition["regions"])
