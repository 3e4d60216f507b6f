"""SecretStore against a real moto server: create, new value for an existing secret, refusals."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from protoncli.aws.secrets import SecretStore
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.errors import AwsError

NAME = "pcli/acme/env/dev/db_password"
TAGS = {
    "pcli:workspace": "acme",
    "pcli:kind": "environment",
    "pcli:environment": "dev",
    "pcli:input": "db_password",
}


@pytest.fixture
def client(moto_url):
    target = AwsTarget(region="eu-west-1", endpoint_url=moto_url)
    return SessionFactory(max_attempts=1).client("secretsmanager", target)


def test_put_creates_a_tagged_secret_and_returns_its_arn(client):
    arn = SecretStore(client).put(NAME, "correct horse battery", TAGS)

    assert arn.startswith("arn:aws:secretsmanager:eu-west-1:123456789012:secret:" + NAME)
    assert client.get_secret_value(SecretId=NAME)["SecretString"] == "correct horse battery"
    described = client.describe_secret(SecretId=NAME)
    assert {tag["Key"]: tag["Value"] for tag in described["Tags"]} == TAGS
    assert described["Description"] == (
        "Input db_password of environment dev (pcli workspace acme)"
    )
    assert "correct horse" not in described["Description"]


def test_put_gives_an_existing_secret_a_new_current_value(client):
    store = SecretStore(client)
    first = store.put(NAME, "first value 123", TAGS)
    second = store.put(NAME, "second value 456", TAGS)

    assert second == first
    assert client.get_secret_value(SecretId=NAME)["SecretString"] == "second value 456"
    previous = client.get_secret_value(SecretId=NAME, VersionStage="AWSPREVIOUS")
    assert previous["SecretString"] == "first value 123"


def test_a_secret_scheduled_for_deletion_is_refused_with_a_restore_hint(client):
    # moto lets a deleted secret's name be taken again at once; AWS refuses it.
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "create_secret",
            service_error_code="InvalidRequestException",
            service_message=(
                "You can't create this secret because a secret with this name is already "
                "scheduled for deletion."
            ),
        )
        with pytest.raises(AwsError) as caught:
            SecretStore(client).put(NAME, "second value 456", TAGS)

    error = caught.value
    assert error.message == (
        f"CreateSecret failed for secret {NAME}: You can't create this secret because a secret "
        "with this name is already scheduled for deletion."
    )
    assert error.hint == (
        f"if the secret is scheduled for deletion, restore it with `aws secretsmanager "
        f"restore-secret --secret-id {NAME}` and run the command again"
    )


def test_an_error_that_quotes_the_value_is_redacted(client):
    # AWS's messages do not quote secret values; pcli does not rely on it.
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "create_secret",
            service_error_code="ValidationException",
            service_message="SecretString 'hunter2-hunter2' is not accepted",
        )
        with pytest.raises(AwsError) as caught:
            SecretStore(client).put(NAME, "hunter2-hunter2", TAGS)

    assert caught.value.message == (
        f"CreateSecret failed for secret {NAME}: ValidationException: "
        "SecretString '***' is not accepted"
    )
    assert caught.value.__cause__ is None


def test_denied_access_names_the_action_and_the_secret(client):
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "create_secret",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: secretsmanager:CreateSecret",
        )
        with pytest.raises(AwsError) as caught:
            SecretStore(client).put(NAME, "a value of some length", TAGS)

    assert caught.value.message == (
        f"CreateSecret failed for secret {NAME}: access denied "
        "(not authorized to perform: secretsmanager:CreateSecret)"
    )
    assert caught.value.hint is not None
    assert "permission" in caught.value.hint
