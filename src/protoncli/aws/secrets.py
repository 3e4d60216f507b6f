"""AWS Secrets Manager: where the values of secret inputs are stored.

The only module that calls Secrets Manager. A value goes in once, as the secret's string, and
never comes back out through pcli: nothing here reads a secret, logs a value or puts one in a
message (an error whose text would hold the value has it replaced by "***").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from protoncli.aws.errors import aws_errors, error_code, error_message
from protoncli.errors import AwsError, PcliError

_EXISTS_CODES = frozenset({"ResourceExistsException"})
_REFUSED_CODES = frozenset({"InvalidRequestException"})
REDACTED = "***"


class SecretStore:
    """Puts values into secrets of one account and region (one botocore client)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def put(self, name: str, value: str, tags: Mapping[str, str]) -> str:
        """Store `value` as secret `name`: created with `tags`, or given a new current value
        when it exists already. Returns the secret's ARN."""
        try:
            arn = self._create(name, value, tags)
            return arn if arn is not None else self._put_value(name, value)
        except PcliError as error:
            if _mentions(error, value):
                raise _redacted(error, value) from None
            raise

    def _create(self, name: str, value: str, tags: Mapping[str, str]) -> str | None:
        """The new secret's ARN, or None when a secret of that name exists already."""
        with aws_errors("CreateSecret", f"secret {name}"):
            try:
                response = self._client.create_secret(
                    Name=name,
                    Description=_description(tags),
                    SecretString=value,
                    Tags=[{"Key": key, "Value": text} for key, text in tags.items()],
                )
            except ClientError as error:
                if error_code(error) in _EXISTS_CODES:
                    return None
                if error_code(error) in _REFUSED_CODES:
                    raise _refused("CreateSecret", name, error) from error
                raise
        return str(response["ARN"])

    def _put_value(self, name: str, value: str) -> str:
        with aws_errors("PutSecretValue", f"secret {name}"):
            try:
                response = self._client.put_secret_value(SecretId=name, SecretString=value)
            except ClientError as error:
                if error_code(error) in _REFUSED_CODES:
                    raise _refused("PutSecretValue", name, error) from error
                raise
        return str(response["ARN"])


def _description(tags: Mapping[str, str]) -> str:
    """What the secret holds, in words: "Input db_password of environment dev (pcli acme)"."""
    owner = " ".join(
        part
        for part in (
            tags.get("pcli:kind", "resource").replace("-", " "),
            "/".join(
                tags[key]
                for key in ("pcli:environment", "pcli:service", "pcli:instance")
                if key in tags
            ),
        )
        if part
    )
    workspace = tags.get("pcli:workspace", "")
    return f"Input {tags.get('pcli:input', '')} of {owner} (pcli workspace {workspace})"


def _refused(action: str, name: str, error: ClientError) -> AwsError:
    """Secrets Manager refuses a secret that is scheduled for deletion (among other states)."""
    return AwsError(
        f"{action} failed for secret {name}: {error_message(error)}",
        hint=(
            f"if the secret is scheduled for deletion, restore it with `aws secretsmanager "
            f"restore-secret --secret-id {name}` and run the command again"
        ),
    )


def _mentions(error: PcliError, value: str) -> bool:
    texts = [error.message, error.hint or "", *error.details]
    return bool(value) and any(value in text for text in texts)


def _redacted(error: PcliError, value: str) -> AwsError:
    """The error as an `AwsError` with every occurrence of the value replaced."""

    def scrub(text: str) -> str:
        return text.replace(value, REDACTED)

    return AwsError(
        scrub(error.message),
        hint=scrub(error.hint) if error.hint else None,
        details=[scrub(text) for text in error.details],
    )
