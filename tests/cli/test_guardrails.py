"""Guardrails on the sandbox: rules in a bundle and in the registry, checked before any change set.

An environment blueprint of our own makes a bucket whose encryption and a log group whose
retention are inputs; its `guardrails/` holds an error rule (encryption) and a warning rule
(retention). Every deploy goes through the real CLI to the moto server; the rules run in Guard.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import boto3
import jsonschema
import pytest
from typer.testing import Result

pytest.importorskip("cfn_guard_rs")

SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "StoreInput"
  types:
    StoreInput:
      type: object
      properties:
        encrypted:
          type: boolean
          default: true
        retention:
          type: integer
          default: 0
"""
TEMPLATE = """\
Resources:
  Store:
    Type: AWS::S3::Bucket
{%- if environment.inputs.encrypted %}
    Properties:
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: AES256
{%- endif %}
  Logs:
    Type: AWS::Logs::LogGroup
{%- if environment.inputs.retention %}
    Properties:
      RetentionInDays: {{ environment.inputs.retention }}
{%- endif %}
Outputs:
  StoreName:
    Value: !Ref Store
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
STORAGE_RULE = """\
let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]

rule bucket_encrypted when %buckets !empty {
  %buckets {
    Properties.BucketEncryption.ServerSideEncryptionConfiguration[*]
      .ServerSideEncryptionByDefault.SSEAlgorithm exists
    <<encrypt the bucket at rest>>
  }
}
"""
LOGGING_RULE = """\
let log_groups = Resources.*[ Type == 'AWS::Logs::LogGroup' ]

rule retention_set when %log_groups !empty {
  %log_groups {
    Properties.RetentionInDays exists
    <<set a retention>>
  }
}
"""
SEVERITIES = "rules:\n  retention_set: warning\n"
# A registry-wide rule: every log group's name is left to CloudFormation.
REGISTRY_RULE = """\
let log_groups = Resources.*[ Type == 'AWS::Logs::LogGroup' ]

rule no_fixed_log_group_name when %log_groups !empty {
  %log_groups.Properties.LogGroupName !exists
  <<let CloudFormation name the log group>>
}
"""

Cli = Callable[..., Result]
SCHEMA_OF_GUARDRAILS = json.loads(
    (
        Path(__file__).resolve().parents[2]
        / "docs/reference/schemas/blueprint-guardrails.schema.json"
    ).read_text()
)


def bundle_files(**extra: str) -> dict[str, str]:
    files = {
        "schema/schema.yaml": SCHEMA,
        "infrastructure/manifest.yaml": MANIFEST,
        "infrastructure/cloudformation.yaml": TEMPLATE,
        "guardrails/storage.guard": STORAGE_RULE,
        "guardrails/logging.guard": LOGGING_RULE,
        "guardrails/guardrails.yaml": SEVERITIES,
    }
    files.update(extra)
    return {name: text for name, text in files.items() if text}


@pytest.fixture
def publish(
    cli: Cli, write_files: Callable[[Path | str, dict[str, str]], Path]
) -> Callable[..., None]:
    def run(name: str = "store-env", **extra: str) -> None:
        bundle = write_files(f"bundles/{name}", bundle_files(**extra))
        published = cli("blueprint", "publish", str(bundle), "--name", name)
        assert published.exit_code == 0, published.output

    return run


def stack_names(moto_url: str) -> list[str]:
    client = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")
    return [s["StackName"] for s in client.describe_stacks()["Stacks"]]


def create(cli: Cli, name: str, *args: str) -> Result:
    return cli("env", "create", name, "-b", "store-env", "--yes", *args)


def test_an_error_rule_blocks_the_deploy_before_any_stack(
    cli: Cli, publish: Callable[..., None], moto_url: str
) -> None:
    publish()
    result = create(cli, "dev", "--param", "encrypted=false", "--param", "retention=7")
    assert result.exit_code == 1, result.output
    assert "1 guardrail violation(s) of bucket_encrypted; nothing was deployed" in result.output
    # every violation: rule, resource, property, message, and where the rule is written
    assert (
        "bucket_encrypted: Store (AWS::S3::Bucket) BucketEncryption.ServerSideEncryption"
        "Configuration.ServerSideEncryptionByDefault.SSEAlgorithm: encrypt the bucket at rest"
    ) in result.output
    assert "guardrails/storage.guard" in result.output
    assert "--override-rule bucket_encrypted" in result.output
    assert stack_names(moto_url) == []
    # in CI: the NDJSON result says why; the violations are on stderr
    as_json = cli("env", "deploy", "dev", "--yes", "--json")
    assert as_json.exit_code == 1, as_json.output
    result_line = json.loads(as_json.stdout.splitlines()[-1])
    assert (result_line["type"], result_line["ok"], result_line["exit_code"]) == (
        "result",
        False,
        1,
    )
    assert "guardrail violation(s) of bucket_encrypted" in result_line["error"]
    assert "Store (AWS::S3::Bucket) BucketEncryption" in as_json.stderr
    assert stack_names(moto_url) == []


def test_a_warning_rule_is_shown_and_the_deploy_goes_on(
    cli: Cli, publish: Callable[..., None], moto_url: str
) -> None:
    publish()
    result = create(cli, "dev")  # encrypted, no retention
    assert result.exit_code == 0, result.output
    assert "guardrail retention_set: Logs (AWS::Logs::LogGroup) RetentionInDays" in result.output
    assert "(warning)" in result.output
    assert len(stack_names(moto_url)) == 1


def test_an_override_names_the_rule_and_is_recorded(
    cli: Cli, publish: Callable[..., None], moto_url: str
) -> None:
    publish()
    blocked = create(cli, "dev", "--param", "encrypted=false", "--param", "retention=7")
    assert blocked.exit_code == 1
    deployed = cli("env", "deploy", "dev", "--yes", "--override-rule", "bucket_encrypted")
    assert deployed.exit_code == 0, deployed.output
    assert "(overridden)" in deployed.output
    history = cli("env", "history", "dev", "--json")
    assert history.exit_code == 0, history.output
    (record,) = json.loads(history.stdout)["records"]
    assert record["overridden_rules"] == ["bucket_encrypted"]
    assert record["outcome"] == "ok"
    table = cli("env", "history", "dev")
    assert "overrode bucket_encrypted" in table.output

    # Back to an encrypted bucket; a rollback to the overridden deployment is a deploy like any
    spec = cli.workspace / "environments" / "dev.yaml"
    spec.write_text(spec.read_text().replace("encrypted: false", "encrypted: true"))
    assert cli("env", "deploy", "dev", "--yes").exit_code == 0
    back = cli("env", "rollback", "dev", "--to", record["deployment_id"], "--yes")
    assert back.exit_code == 1, back.output
    assert "guardrail violation(s) of bucket_encrypted" in back.output
    allowed = cli(
        "env", "rollback", "dev", "--to", record["deployment_id"], "--yes",
        "--override-rule", "bucket_encrypted",
    )  # fmt: skip
    assert allowed.exit_code == 0, allowed.output


def test_an_override_of_an_unknown_rule_is_refused(
    cli: Cli, publish: Callable[..., None], moto_url: str
) -> None:
    publish()
    result = create(cli, "dev", "--override-rule", "bucket_encryptd")
    assert result.exit_code == 2, result.output
    assert "--override-rule bucket_encryptd: no guardrail of environment dev" in result.output
    assert "did you mean 'bucket_encrypted'" in result.output
    assert stack_names(moto_url) == []


def test_apply_checks_overrides_against_every_blueprint_first(
    cli: Cli, publish: Callable[..., None], moto_url: str
) -> None:
    publish()
    written = create(
        cli, "dev", "--no-deploy", "--param", "encrypted=false", "--param", "retention=7"
    )
    assert written.exit_code == 0, written.output
    unknown = cli("apply", "--yes", "--override-rule", "no_such_rule")
    assert unknown.exit_code == 2, unknown.output
    assert "no guardrail of this run's templates has that name" in unknown.output
    blocked = cli("apply", "--yes")
    assert blocked.exit_code == 3, blocked.output  # the item failed: apply's own exit code
    assert "bucket_encrypted" in blocked.output
    assert stack_names(moto_url) == []
    allowed = cli("apply", "--yes", "--override-rule", "bucket_encrypted")
    assert allowed.exit_code == 0, allowed.output
    assert len(stack_names(moto_url)) == 1


@pytest.fixture
def plain_env(cli: Cli, write_files: Callable[[Path | str, dict[str, str]], Path]) -> None:
    """Publish `plain-env`: a log group of a fixed name, and no guardrails of its own."""
    named = "  Logs:\n    Type: AWS::Logs::LogGroup\n    Properties:\n      LogGroupName: fixed\n"
    files = {
        "schema/schema.yaml": SCHEMA,
        "infrastructure/manifest.yaml": MANIFEST,
        "infrastructure/cloudformation.yaml": f"Resources:\n{named}",
    }
    bundle = write_files("bundles/plain-env", files)
    published = cli("blueprint", "publish", str(bundle), "--name", "plain-env")
    assert published.exit_code == 0, published.output


@pytest.mark.usefixtures("plain_env")
def test_registry_rules_apply_to_every_blueprint(cli: Cli, registry: Path, moto_url: str) -> None:
    (registry / ".guardrails").mkdir(parents=True)
    (registry / ".guardrails" / "naming.guard").write_text(REGISTRY_RULE)
    result = cli("env", "create", "dev", "-b", "plain-env", "--yes")
    assert result.exit_code == 1, result.output
    assert "no_fixed_log_group_name: Logs (AWS::Logs::LogGroup) LogGroupName" in result.output
    assert str(registry / ".guardrails" / "naming.guard") in result.output
    assert stack_names(moto_url) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"guardrails/broken.guard": "rule broken {\n  Resources exists\n"}, "broken.guard:"),
        ({"guardrails/again.guard": LOGGING_RULE}, "rule 'retention_set' is defined twice"),
    ],
)
def test_a_bundle_whose_rules_guard_cannot_use_is_not_published(
    cli: Cli,
    write_files: Callable[[Path | str, dict[str, str]], Path],
    extra: dict[str, str],
    message: str,
) -> None:
    bundle = write_files("bundles/store-env", bundle_files(**extra))
    refused = cli("blueprint", "publish", str(bundle), "--name", "store-env")
    assert refused.exit_code == 1, refused.output
    assert message in refused.output
    assert "Traceback" not in refused.output
    listed = json.loads(cli("blueprint", "list", "--json").stdout)
    assert "store-env" not in [blueprint["name"] for blueprint in listed["blueprints"]]


@pytest.mark.usefixtures("plain_env")
def test_registry_rules_that_guard_cannot_use_stop_the_deploy(
    cli: Cli, registry: Path, moto_url: str
) -> None:
    (registry / ".guardrails").mkdir(parents=True)
    (registry / ".guardrails" / "naming.guard").write_text("rule broken {\n  Resources exists\n")
    result = cli("env", "create", "dev", "-b", "plain-env", "--yes")
    assert result.exit_code == 1, result.output
    assert f"{registry / '.guardrails' / 'naming.guard'}:" in result.output
    assert "Guard cannot read this rule file" in result.output
    assert "Traceback" not in result.output
    assert stack_names(moto_url) == []


def test_blueprint_lint_reports_violations_and_bad_rule_files(
    pcli: Cli, write_files: Callable[[Path | str, dict[str, str]], Path]
) -> None:
    bundle = write_files(
        "bundles/lint-env",
        bundle_files(**{"spec/spec.yaml": "proton: EnvironmentSpec\nspec:\n  encrypted: false\n"}),
    )
    report = pcli("blueprint", "lint", str(bundle), "--json")
    assert report.exit_code == 1, report.output
    document = json.loads(report.stdout)
    assert "guardrails" in document["checks"]
    found = {(f["severity"], f["code"]) for f in document["findings"] if f["check"] == "guardrails"}
    assert ("error", "bucket_encrypted") in found
    assert ("warning", "retention_set") in found
    broken = write_files("bundles/lint-env/guardrails", {"broken.guard": "rule x {\n"})
    assert broken.is_dir()
    again = pcli("blueprint", "lint", str(bundle))
    assert again.exit_code == 1
    assert "broken.guard" in again.output
    assert "Guard cannot read this rule file" in again.output


@pytest.mark.usefixtures("plain_env")
def test_the_registry_rules_are_set_shown_and_cleared_from_the_cli(
    cli: Cli,
    write_files: Callable[[Path | str, dict[str, str]], Path],
    registry: Path,
    moto_url: str,
) -> None:
    none = cli("blueprint", "guardrails")
    assert none.exit_code == 0, none.output
    assert "has no guardrails of its own" in none.output

    broken = write_files("rules-broken", {"naming.guard": "rule x {\n"})
    refused = cli("blueprint", "guardrails", "--set", str(broken))
    assert refused.exit_code == 1, refused.output
    assert "naming.guard" in refused.output
    assert not (registry / ".guardrails").exists()  # nothing written

    rules = write_files(
        "rules", {"naming.guard": REGISTRY_RULE, "guardrails.yaml": SEVERITIES.replace(
            "retention_set", "no_fixed_log_group_name")}
    )  # fmt: skip
    done = cli("blueprint", "guardrails", "--set", str(rules), "--json")
    assert done.exit_code == 0, done.output
    jsonschema.validate(json.loads(done.stdout), SCHEMA_OF_GUARDRAILS)
    assert json.loads(done.stdout)["rules"] == [
        {"name": "no_fixed_log_group_name", "severity": "warning", "file": "naming.guard"}
    ]
    (rules / "guardrails.yaml").unlink()  # the rule becomes an error
    assert cli("blueprint", "guardrails", "--set", str(rules)).exit_code == 0
    shown = cli("blueprint", "guardrails")
    assert "no_fixed_log_group_name" in shown.output
    assert "error" in shown.output
    blocked = cli("env", "create", "dev", "-b", "plain-env", "--yes")
    assert blocked.exit_code == 1, blocked.output
    assert "no_fixed_log_group_name" in blocked.output

    asked = cli("blueprint", "guardrails", "--clear")
    assert asked.exit_code == 2, asked.output
    assert "needs --yes" in asked.output
    cleared = cli("blueprint", "guardrails", "--clear", "--yes")
    assert cleared.exit_code == 0, cleared.output
    assert not (registry / ".guardrails").exists()
    assert cli("env", "deploy", "dev", "--yes").exit_code == 0
    assert len(stack_names(moto_url)) == 1


def test_a_components_own_rules_are_checked_from_its_workspace_copy(
    cli: Cli,
    write_files: Callable[[Path | str, dict[str, str]], Path],
    starters_dir: Path,
    tmp_path: Path,
) -> None:
    from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC

    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        bundle = write_files(f"bundles/{name}", files)
        assert cli("blueprint", "publish", str(bundle), "--name", name).exit_code == 0
    assert cli("env", "create", "dev", "-b", "tiny-env", "--yes").exit_code == 0
    created = cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes")
    assert created.exit_code == 0, created.output
    queue = shutil.copytree(starters_dir / "sqs-queue-component" / "v1", tmp_path / "queue")
    template = queue / "cloudformation.yaml"
    template.write_text(template.read_text().replace("      SqsManagedSseEnabled: true\n", ""))

    args = ("component", "create", "queue", "--service", "web", "--instance", "web-dev")
    blocked = cli(*args, "--bundle", str(queue), "--yes")
    assert blocked.exit_code == 1, blocked.output
    assert "2 guardrail violation(s) of sqs_queue_encrypted" in blocked.output
    assert "DeadLetterQueue (AWS::SQS::Queue)" in blocked.output
    allowed = cli("component", "deploy", "queue", "--yes", "--override-rule", "sqs_queue_encrypted")
    assert allowed.exit_code == 0, allowed.output


def test_lint_checks_the_bundles_rules_when_the_registry_is_out_of_reach(
    write_files: Callable[[Path | str, dict[str, str]], Path], moto_url: str
) -> None:
    from typer.testing import CliRunner

    from protoncli.cli.app import app

    bundle = write_files(
        "bundles/lint-env",
        bundle_files(**{"spec/spec.yaml": "proton: EnvironmentSpec\nspec:\n  encrypted: false\n"}),
    )
    runner = CliRunner()
    report = runner.invoke(
        app, ["--registry", "s3://no-such-registry-bucket", "blueprint", "lint", str(bundle)]
    )
    assert report.exit_code == 1, report.output  # the bundle's own error rule still counts
    assert "the registry's guardrails could not be read (" in report.output
    assert "bucket_encrypted" in report.output
