"""Dynamic references as values of secret inputs; the warning for a plain secret in a spec."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protoncli.cli.app import app
from protoncli.errors import InputError
from protoncli.schema.parse import parse_schema
from protoncli.schema.secrets import is_dynamic_reference
from protoncli.schema.validate import validate_inputs, value_problems
from protoncli.specs.io import load_spec
from protoncli.specs.resolve import apply_params, resolve_environment_spec, resolve_service_spec

ENV_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: DbInput
  types:
    DbInput:
      type: object
      required: [db_password]
      properties:
        db_user: {type: string, default: admin, pattern: "^[a-z]+$"}
        db_password: {type: string, format: password, minLength: 12, pattern: "^[A-Za-z0-9 ]+$"}
        api_pin: {type: integer, format: password, maximum: 9999}
"""
SERVICE_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: WebInput
  pipeline_input_type: PipelineInput
  types:
    WebInput:
      type: object
      properties:
        api_key: {type: string, format: password}
    PipelineInput:
      type: object
      properties:
        repo_token: {type: string, format: password}
"""
PLAIN_VALUE = "Sw0rdfish and more"
MALFORMED = (
    "the value is not a valid dynamic reference; write "
    "{{resolve:secretsmanager:SECRET-ID:SecretString}} or {{resolve:ssm-secure:PARAMETER}}"
)
HOW_TO_FIX = (
    "is secret (format: password) but its value is written in plain text in this file; store "
    "it in AWS Secrets Manager and write {{resolve:secretsmanager:NAME:SecretString}} in its "
    "place (pcli does not rewrite the file; see docs/reference/secrets.md)"
)


@pytest.fixture(scope="module")
def env_schema():
    return parse_schema(ENV_SCHEMA, "schema/schema.yaml")


@pytest.fixture(scope="module")
def service_schema():
    return parse_schema(SERVICE_SCHEMA, "schema/schema.yaml")


def _messages(schema, values):
    return [str(p) for p in validate_inputs(schema.main, values, where="", source="dev.yaml")]


@pytest.mark.parametrize(
    "reference",
    [
        "{{resolve:secretsmanager:pcli/acme/env/dev/db_password:SecretString}}",
        "{{resolve:secretsmanager:team/db}}",
        "{{resolve:secretsmanager:team/db:SecretString:password}}",
        "{{resolve:secretsmanager:team/db:SecretString:password:AWSPREVIOUS}}",
        "{{resolve:secretsmanager:team/db:SecretString:::a1b2c3d4-5678-90ab-cdef-EXAMPLE11111}}",
        (
            "{{resolve:secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:"
            "secret:team/db-AbCdEf:SecretString:password}}"
        ),
        "{{resolve:ssm-secure:/team/db/password}}",
        "{{resolve:ssm-secure:db-password:3}}",
    ],
)
def test_a_reference_passes_without_type_pattern_or_length_checks(env_schema, reference):
    assert is_dynamic_reference(reference)
    assert _messages(env_schema, {"db_password": reference, "api_pin": reference}) == []
    assert value_problems(env_schema.main.get("db_password").raw, reference, secret=True) == []


@pytest.mark.parametrize(
    "malformed",
    [
        "{{resolve:secretsmanager:}}",
        "{{resolve:secretsmanager:team/db:SecretString:password:AWSCURRENT:a1b2c3d4}}",
        "{{resolve:secretsmanager:team/db:SecretBinary}}",
        "{{resolve:ssm:/team/db/password}}",
        "{{resolve:secretsmanager:team/db",
    ],
)
def test_a_malformed_reference_is_a_problem_that_does_not_show_it(env_schema, malformed):
    assert not is_dynamic_reference(malformed)
    assert _messages(env_schema, {"db_password": malformed}) == [
        f"dev.yaml: input 'db_password': {MALFORMED}"
    ]
    prop = env_schema.main.get("db_password").raw
    assert value_problems(prop, malformed, secret=True) == [MALFORMED]


def test_a_reference_for_an_input_that_is_not_secret_is_checked_as_usual(env_schema):
    reference = "{{resolve:secretsmanager:team/user:SecretString}}"
    found = _messages(env_schema, {"db_password": PLAIN_VALUE, "db_user": reference})
    assert found == [f"dev.yaml: input 'db_user': '{reference}' must be lower-case letters only"]


def test_plain_secret_values_are_still_checked_and_never_shown(env_schema):
    found = _messages(env_schema, {"db_password": "short!", "api_pin": 12345})
    assert found == [
        "dev.yaml: input 'db_password': the value is too short: 6 characters, at least 12 needed",
        "dev.yaml: input 'db_password': the value must be letters, digits and spaces only",
        "dev.yaml: input 'api_pin': the value is greater than the maximum of 9999",
    ]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_a_plain_secret_in_a_spec_file_is_a_warning_naming_file_line_and_input(
    tmp_path, env_schema
):
    path = _write(
        tmp_path / "environments" / "dev.yaml",
        f"""\
        blueprint: db-env
        version: "1.0"
        proton: EnvironmentSpec
        spec:
          db_user: app
          db_password: {PLAIN_VALUE}
        """,
    )
    resolved = resolve_environment_spec(env_schema, load_spec(path))

    assert resolved.inputs["db_password"] == PLAIN_VALUE  # warned about, not refused
    assert resolved.warnings == (f"{path}:6: input 'db_password' {HOW_TO_FIX}",)
    assert PLAIN_VALUE not in resolved.warnings[0]


def test_a_reference_or_a_param_value_gives_no_warning(tmp_path, env_schema):
    path = _write(
        tmp_path / "dev.yaml",
        """\
        proton: EnvironmentSpec
        spec:
          db_password: "{{resolve:secretsmanager:team/db:SecretString:password}}"
        """,
    )
    spec = load_spec(path)
    assert resolve_environment_spec(env_schema, spec).warnings == ()
    # A --param value is not written in any file: nothing to warn about.
    values = apply_params({}, {"db_password": PLAIN_VALUE}, env_schema.main)
    candidate = type(spec)(inputs=values, source="environment dev", key_lines={})
    assert resolve_environment_spec(env_schema, candidate).warnings == ()


def test_plain_secrets_of_instances_and_pipeline_are_each_named(tmp_path, service_schema):
    path = _write(
        tmp_path / "services" / "web.yaml",
        """\
        proton: ServiceSpec
        pipeline:
          repo_token: ghp-plain-token
        instances:
          - name: web-dev
            environment: dev
            spec:
              api_key: plain-api-key
          - name: web-prod
            environment: prod
            spec:
              api_key: "{{resolve:secretsmanager:team/web/api-key:SecretString}}"
        """,
    )
    resolved = resolve_service_spec(service_schema, load_spec(path), has_pipeline=True)
    assert resolved.warnings == (
        f"{path}:3: pipeline, input 'repo_token' {HOW_TO_FIX}",
        f"{path}:8: instance 'web-dev', input 'api_key' {HOW_TO_FIX}",
    )


def test_a_malformed_reference_in_a_spec_is_an_input_error(tmp_path, env_schema):
    path = _write(
        tmp_path / "dev.yaml",
        """\
        proton: EnvironmentSpec
        spec:
          db_password: "{{resolve:secretsmanager:}}"
        """,
    )
    with pytest.raises(InputError) as caught:
        resolve_environment_spec(env_schema, load_spec(path))
    assert caught.value.message == f"{path}:3: input 'db_password': {MALFORMED}"


@pytest.fixture
def db_bundle(tmp_path: Path) -> Path:
    bundle = tmp_path / "db-env"
    _write(bundle / "schema" / "schema.yaml", ENV_SCHEMA)
    _write(
        bundle / "infrastructure" / "manifest.yaml",
        """\
        infrastructure:
          templates:
            - file: cloudformation.yaml
              rendering_engine: jinja
              template_language: cloudformation
        """,
    )
    _write(
        bundle / "infrastructure" / "cloudformation.yaml",
        """\
        Resources:
          Db:
            Type: AWS::RDS::DBInstance
            Properties:
              MasterUsername: "{{ environment.inputs.db_user }}"
              MasterUserPassword: "{{ environment.inputs.db_password }}"
        """,
    )
    return bundle


def _render(tmp_path: Path, bundle: Path, spec_text: str):
    spec = _write(tmp_path / "dev.yaml", spec_text)
    out = tmp_path / "out"
    args = ["--registry", str(tmp_path / "reg"), "blueprint", "render", str(bundle)]
    result = CliRunner().invoke(app, [*args, "--spec", str(spec), "-o", str(out)])
    return spec, out, result


def test_render_warns_about_a_plain_secret_and_never_prints_it(tmp_path, db_bundle):
    spec, _, result = _render(
        tmp_path,
        db_bundle,
        f"proton: EnvironmentSpec\nspec:\n  db_password: {PLAIN_VALUE}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == f"Warning: {spec}:3: input 'db_password' {HOW_TO_FIX}\n"
    assert PLAIN_VALUE not in result.stdout
    assert PLAIN_VALUE not in result.stderr


def test_render_keeps_a_reference_for_cloudformation_to_resolve(tmp_path, db_bundle):
    reference = "{{resolve:secretsmanager:pcli/acme/env/dev/db_password:SecretString}}"
    _, out, result = _render(
        tmp_path, db_bundle, f'proton: EnvironmentSpec\nspec:\n  db_password: "{reference}"\n'
    )
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    template = (out / "dev" / "cloudformation.yaml").read_text()
    assert f'MasterUserPassword: "{reference}"' in template


def test_render_refuses_a_bad_secret_without_showing_it(tmp_path, db_bundle):
    _, _, result = _render(
        tmp_path, db_bundle, "proton: EnvironmentSpec\nspec:\n  db_password: hunter2\n"
    )
    assert result.exit_code == 2
    assert "input 'db_password': the value is too short: 7 characters" in result.stderr
    assert "hunter2" not in result.stderr
    assert "hunter2" not in result.stdout
