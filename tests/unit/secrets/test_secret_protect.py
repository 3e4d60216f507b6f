"""protect_secret_inputs against a real moto server: values stored, references in the spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.blueprints.registry import Registry
from protoncli.deploy.project import AwsSettings, Project
from protoncli.deploy.secrets import (
    protect_secret_inputs,
    secret_name,
    secret_reference,
    secret_tags,
)
from protoncli.errors import AwsError, InputError
from protoncli.schema.parse import parse_schema
from protoncli.schema.secrets import is_dynamic_reference
from protoncli.specs.model import EnvironmentSpec
from protoncli.specs.resolve import resolve_environment_spec
from protoncli.workspace.model import Workspace
from protoncli.workspace.specfiles import environment_document, read_spec, write_new_spec

SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: DbInput
  types:
    DbInput:
      type: object
      required: [db_password]
      properties:
        db_user: {type: string, default: admin}
        db_password: {type: string, format: password, minLength: 12, pattern: "^[A-Za-z0-9 ]+$"}
        api_pin: {type: integer, format: password}
        ssh_keys: {type: array, items: {type: string}, format: password}
"""
PLAIN_VALUE = "Sw0rdfish and more"
REFERENCE = "{{resolve:secretsmanager:pcli/acme/env/dev/db_password:SecretString}}"


@pytest.fixture
def schema():
    return parse_schema(SCHEMA, "schema/schema.yaml")


def _project(tmp_path: Path, endpoint: str) -> Project:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    workspace = Workspace(root=root, name="acme", region="us-east-1", registry=None)
    settings = AwsSettings(endpoint_url=endpoint)
    return Project(workspace, Registry(tmp_path / "reg"), SessionFactory(max_attempts=1), settings)


def _secrets_client(moto_url: str, region: str):
    target = AwsTarget(region=region, endpoint_url=moto_url)
    return SessionFactory().client("secretsmanager", target)


def _value(moto_url: str, region: str, name: str) -> str:
    return _secrets_client(moto_url, region).get_secret_value(SecretId=name)["SecretString"]


def test_a_plain_secret_is_stored_and_replaced_by_a_reference(moto_url, tmp_path, schema):
    project = _project(tmp_path, moto_url)
    inputs = {"db_user": "app", "db_password": PLAIN_VALUE}

    protected = protect_secret_inputs(project, "env/dev", schema.main, inputs, "eu-west-1")

    assert protected == {"db_user": "app", "db_password": REFERENCE}
    assert inputs["db_password"] == PLAIN_VALUE  # the caller's mapping is left as it was
    name = "pcli/acme/env/dev/db_password"
    assert _value(moto_url, "eu-west-1", name) == PLAIN_VALUE
    described = _secrets_client(moto_url, "eu-west-1").describe_secret(SecretId=name)
    assert {tag["Key"]: tag["Value"] for tag in described["Tags"]} == {
        "pcli:workspace": "acme",
        "pcli:kind": "environment",
        "pcli:environment": "dev",
        "pcli:input": "db_password",
    }


def test_the_spec_file_holds_the_reference_and_validates(moto_url, tmp_path, schema):
    project = _project(tmp_path, moto_url)
    protected = protect_secret_inputs(
        project, "env/dev", schema.main, {"db_password": PLAIN_VALUE}, "us-east-1"
    )
    path = project.workspace.root / "environments" / "dev.yaml"
    document = environment_document(
        blueprint="db-env", version="1.0", region="us-east-1", inputs=protected
    )
    write_new_spec(path, document)

    text = path.read_text()
    assert PLAIN_VALUE not in text
    assert f"db_password: '{REFERENCE}'" in text
    spec, _ = read_spec(path)
    assert isinstance(spec, EnvironmentSpec)
    # The reference breaks the input's pattern and length rules; as a reference it passes.
    resolved = resolve_environment_spec(schema, spec)
    assert resolved.inputs["db_password"] == REFERENCE
    assert resolved.warnings == ()


def test_a_second_value_updates_the_existing_secret(moto_url, tmp_path, schema):
    project = _project(tmp_path, moto_url)
    for value in ("first value 11", "second value 22"):
        protected = protect_secret_inputs(
            project, "env/dev", schema.main, {"db_password": value}, "us-east-1"
        )
        assert protected["db_password"] == REFERENCE
    assert _value(moto_url, "us-east-1", "pcli/acme/env/dev/db_password") == "second value 22"
    listed = _secrets_client(moto_url, "us-east-1").list_secrets()["SecretList"]
    assert [entry["Name"] for entry in listed] == ["pcli/acme/env/dev/db_password"]


def test_service_instances_and_pipelines_get_their_own_secrets(moto_url, tmp_path, schema):
    project = _project(tmp_path, moto_url)
    for owner, value in (("svc/web/web-dev", "instance pw 1"), ("svc/web/pipeline", "pipe pw 22")):
        protected = protect_secret_inputs(
            project, owner, schema.main, {"db_password": value}, "us-east-1"
        )
        name = f"pcli/acme/{owner}/db_password"
        assert protected["db_password"] == f"{{{{resolve:secretsmanager:{name}:SecretString}}}}"
        assert _value(moto_url, "us-east-1", name) == value
    client = _secrets_client(moto_url, "us-east-1")
    tags = client.describe_secret(SecretId="pcli/acme/svc/web/web-dev/db_password")["Tags"]
    assert {tag["Key"]: tag["Value"] for tag in tags} == {
        "pcli:workspace": "acme",
        "pcli:kind": "service-instance",
        "pcli:service": "web",
        "pcli:instance": "web-dev",
        "pcli:input": "db_password",
    }
    assert secret_tags("acme", "svc/web/pipeline", "token") == {
        "pcli:workspace": "acme",
        "pcli:kind": "pipeline",
        "pcli:service": "web",
        "pcli:input": "token",
    }


def test_a_number_is_stored_as_text(moto_url, tmp_path, schema):
    project = _project(tmp_path, moto_url)
    inputs = {"db_password": PLAIN_VALUE, "api_pin": 4711}
    protected = protect_secret_inputs(project, "env/dev", schema.main, inputs, "us-east-1")
    assert protected["api_pin"] == secret_reference("pcli/acme/env/dev/api_pin")
    assert _value(moto_url, "us-east-1", "pcli/acme/env/dev/api_pin") == "4711"


def test_references_and_placeholders_are_kept_and_nothing_is_called(tmp_path, schema):
    # An endpoint nothing listens on: any AWS call would fail.
    project = _project(tmp_path, "http://127.0.0.1:9")
    inputs = {
        "db_user": "app",
        "db_password": "{{resolve:secretsmanager:team/db:SecretString:password}}",
        "api_pin": "{{resolve:ssm-secure:/team/pin:3}}",
    }
    assert protect_secret_inputs(project, "env/dev", schema.main, inputs, "us-east-1") == inputs
    current = {"db_password": "${Proton::CURRENT_VAL}", "api_pin": ""}
    assert protect_secret_inputs(project, "env/dev", schema.main, current, "us-east-1") == current


def test_an_unreachable_endpoint_is_an_aws_error_without_the_value(tmp_path, schema):
    project = _project(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(AwsError) as caught:
        protect_secret_inputs(
            project, "env/dev", schema.main, {"db_password": PLAIN_VALUE}, "us-east-1"
        )
    text = f"{caught.value.message} {caught.value.hint}"
    assert text.startswith("CreateSecret failed for secret pcli/acme/env/dev/db_password: ")
    assert PLAIN_VALUE not in text


def test_a_malformed_reference_or_a_list_is_refused_without_the_value(tmp_path, schema):
    project = _project(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(InputError) as caught:
        protect_secret_inputs(
            project,
            "env/dev",
            schema.main,
            {"db_password": "{{resolve:secretsmanager:}}"},
            "us-east-1",
        )
    assert caught.value.message == (
        "env/dev: input 'db_password': the value is not a valid dynamic reference; write "
        "{{resolve:secretsmanager:SECRET-ID:SecretString}} or {{resolve:ssm-secure:PARAMETER}}"
    )
    with pytest.raises(InputError) as caught:
        protect_secret_inputs(
            project, "env/dev", schema.main, {"ssh_keys": ["ssh-ed25519 AAAAkey"]}, "us-east-1"
        )
    assert caught.value.message == (
        "secret input 'ssh_keys' of env/dev: only text or a number can be stored in "
        "AWS Secrets Manager"
    )
    assert "AAAAkey" not in str(caught.value.hint)


def test_secret_names_follow_workspace_owner_and_input():
    assert secret_name("acme", "svc/web/web-dev", "token") == "pcli/acme/svc/web/web-dev/token"
    assert is_dynamic_reference(secret_reference(secret_name("acme", "env/dev", "pw")))
    with pytest.raises(InputError) as caught:
        secret_name("acme", "env/dev", "db password")
    assert caught.value.message == (
        "secret input 'db password' of env/dev: 'pcli/acme/env/dev/db password' cannot be a "
        "Secrets Manager secret name (letters, digits and /_+=.@- only, at most 512 characters)"
    )
    with pytest.raises(ValueError, match="owner 'comp/x'"):
        secret_tags("acme", "comp/x", "token")
