"""`pcli drift` against a real moto server: template drift (a changed spec, a template replaced
behind pcli's back), what it checks, exit codes of --check; moto has no drift detection, which
the command says and survives. And `--revert-drift` on the deploying commands."""

from __future__ import annotations

import json

import pytest

ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "EnvInput"
  types:
    EnvInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
"""
ENV_TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ environment.name }}-{{ environment.inputs.team }}"
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
STACK = "pcli-demo-env-dev"
SANDBOX_NOTE = (
    "CloudFormation drift cannot be detected on this endpoint (the sandbox does not implement "
    "drift detection): only template drift is shown."
)


@pytest.fixture
def deployed(cli, tmp_path, write_files):
    """Environment dev (blueprint drift-env, one SNS topic named after input `team`), deployed."""
    bundle = write_files(
        tmp_path / "drift-env",
        {
            "schema/schema.yaml": ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": ENV_TEMPLATE,
        },
    )
    assert cli("blueprint", "publish", str(bundle), "--name", "drift-env").exit_code == 0
    created = cli("env", "create", "dev", "-b", "drift-env", "-p", "team=core", "--yes")
    assert created.exit_code == 0, created.output
    return cli.workspace / "environments" / "dev.yaml"


def test_a_deployed_environment_that_matches_its_spec_has_no_drift(cli, deployed):
    result = cli("drift")

    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if STACK in line]
    assert rows == [["environment", "dev", STACK, "not", "available", "matches"]]
    assert SANDBOX_NOTE in result.stderr
    assert "No drift found on 1 stack(s)." in result.stderr
    assert cli("drift", "--check").exit_code == 0


def test_a_changed_spec_input_is_template_drift(cli, deployed):
    deployed.write_text(deployed.read_text().replace("team: core", "team: platform"))

    result = cli("drift", "dev")

    assert result.exit_code == 0, result.output  # without --check, drift found is a report
    assert f"--- {STACK} (deployed)" in result.stdout
    assert f"+++ {STACK} (rendered)" in result.stdout
    assert '-      TopicName: "dev-core"' in result.stdout
    assert '+      TopicName: "dev-platform"' in result.stdout
    assert "Drift found on 1 of 1 stack(s)." in result.stderr
    assert cli("drift", "--check").exit_code == 4


def test_a_template_replaced_outside_pcli_is_template_drift(cli, deployed, cloudformation):
    by_hand = ENV_TEMPLATE.replace('"{{ environment.name }}-{{ environment.inputs.team }}"', "x")
    cloudformation.update_stack(StackName=STACK, TemplateBody=by_hand)

    result = cli("drift", "--check", "--json")

    assert result.exit_code == 4, result.output
    document = json.loads(result.stdout)
    assert document["drifted"] is True
    (stack,) = document["stacks"]
    assert stack["drifted"] is True
    assert stack["drift_status"] == "UNAVAILABLE"
    assert "-      TopicName: x" in stack["template_diff"].splitlines()
    assert '+      TopicName: "dev-core"' in stack["template_diff"].splitlines()


def test_a_named_environment_that_is_not_deployed_is_shown_as_such(cli, deployed):
    created = cli("env", "create", "idle", "-b", "drift-env", "--no-deploy")
    assert created.exit_code == 0, created.output

    everything = cli("drift", "--json")
    named = cli("drift", "idle", "--json")

    assert [s["name"] for s in json.loads(everything.stdout)["stacks"]] == ["dev"]
    (idle,) = json.loads(named.stdout)["stacks"]
    assert (idle["stack_status"], idle["drift_status"], idle["drifted"]) == (
        "NOT_DEPLOYED",
        "NOT_DEPLOYED",
        False,
    )
    assert named.exit_code == 0


def test_an_unknown_name_is_a_usage_error(cli, deployed):
    result = cli("drift", "nope")

    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: no environment, service or component named 'nope' in this workspace (known: dev)"
    )


def test_revert_drift_deploys_and_is_refused_with_cancel(cli, deployed):
    deployed.write_text(deployed.read_text().replace("team: core", "team: platform"))

    refused = cli("env", "deploy", "dev", "--revert-drift", "--cancel", "--yes")
    deployed_again = cli("env", "deploy", "dev", "--revert-drift", "--yes")

    assert refused.exit_code == 2
    assert "--revert-drift and --cancel cannot be used together" in refused.stderr
    assert deployed_again.exit_code == 0, deployed_again.output
    assert cli("drift", "--check").exit_code == 0
