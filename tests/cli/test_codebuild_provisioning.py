"""A CodeBuild-provisioned environment, end to end: pcli runs the bundle's commands itself.

The bundle (written here) deploys a CloudFormation stack with the AWS CLI, reads its outputs and
reports them with `aws proton notify-resource-deployment-status-change`, as a Proton CodeBuild
bundle does. Everything runs against the real moto server; the AWS CLI is the venv's (awscli is
in the test extra).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "schemas"
BIN = Path(sys.executable).absolute().parent  # the venv's bin (not resolved: a symlink)
ENV = "cbenv"
STACK = "pcli-demo-env-cbenv"  # the name pcli gives the item (its state's key)
CB_STACK = f"cb-{ENV}"  # the stack the bundle's commands deploy
ENV_NAME = (
    "ENV_NAME=\"$(python3 -c 'import json;"
    'print(json.load(open("proton-inputs.json"))["environment"]["name"])\')"'
)
GREETING = (
    "GREETING=\"$(python3 -c 'import json;"
    'print(json.load(open("proton-inputs.json"))["environment"]["inputs"]["greeting"])\')"'
)
DEPLOY = (
    "aws cloudformation deploy --template-file parameter.yaml"
    ' --stack-name "cb-$ENV_NAME" --parameter-overrides "Greeting=$GREETING"'
    " --no-fail-on-empty-changeset"
)
WRITE_OUTPUTS = (
    'aws cloudformation describe-stacks --stack-name "cb-$ENV_NAME"'
    " --query 'Stacks[0].Outputs[].{key: OutputKey, valueString: OutputValue}'"
    " --output json > outputs.json"
)
NOTIFY = (
    'aws proton notify-resource-deployment-status-change --resource-arn "$RESOURCE_ARN"'
    " --status SUCCEEDED --outputs file://./outputs.json"
)
PROVISION = [ENV_NAME, GREETING, DEPLOY, WRITE_OUTPUTS, "cat outputs.json", NOTIFY]
DEPROVISION = [
    ENV_NAME,
    'aws cloudformation delete-stack --stack-name "cb-$ENV_NAME"',
    'aws cloudformation wait stack-delete-complete --stack-name "cb-$ENV_NAME"',
]
SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "GreetingInput"
  types:
    GreetingInput:
      type: object
      description: "One SSM parameter, deployed by the bundle's commands"
      properties:
        greeting:
          type: string
          description: "The parameter's value"
          default: "hello"
"""
TEMPLATE = """\
Parameters:
  Greeting:
    Type: String
Resources:
  Parameter:
    Type: AWS::SSM::Parameter
    Properties:
      Name: !Sub "/pcli-cb/${AWS::StackName}"
      Type: String
      Value: !Ref Greeting
Outputs:
  ParameterName:
    Value: !Ref Parameter
  Greeting:
    Value: !Ref Greeting
"""


def manifest(provision, deprovision=DEPROVISION, runtimes=None):
    document = {
        "infrastructure": {
            "templates": [
                {
                    "rendering_engine": "codebuild",
                    "settings": {
                        "image": "aws/codebuild/amazonlinux2-x86_64-standard:4.0",
                        "runtimes": runtimes or {"python": 3},
                        "provision": list(provision),
                        "deprovision": list(deprovision),
                    },
                }
            ]
        }
    }
    return json.dumps(document, indent=2) + "\n"  # JSON is YAML


@pytest.fixture(autouse=True)
def aws_cli(monkeypatch):
    """The venv's AWS CLI (and python3) first on PATH for the commands pcli runs."""
    if not (BIN / "aws").is_file():
        pytest.skip(f"the AWS CLI is not installed next to {sys.executable}")
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def publish(cli, tmp_path, write_files):
    """`publish(name, provision=..., ...)` writes a CodeBuild environment bundle, publishes it."""

    def run(name="cb-env", provision=PROVISION, deprovision=DEPROVISION, runtimes=None):
        bundle = write_files(
            tmp_path / name,
            {
                "schema/schema.yaml": SCHEMA,
                "infrastructure/manifest.yaml": manifest(provision, deprovision, runtimes),
                "infrastructure/parameter.yaml": TEMPLATE,
            },
        )
        published = cli("blueprint", "publish", str(bundle), "--name", name)
        assert published.exit_code == 0, published.output
        return name

    return run


def stack_of(cloudformation, name):
    stacks = [s for s in cloudformation.describe_stacks()["Stacks"] if s["StackName"] == name]
    return stacks[0] if stacks else None


def create(cli, blueprint, *extra):
    return cli("env", "create", ENV, "-b", blueprint, "-p", "greeting=hi-there", "--yes", *extra)


def status_rows(cli):
    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["resources"]


def test_create_runs_the_provision_commands_and_keeps_the_notified_outputs(
    cli, publish, cloudformation
):
    blueprint = publish()

    result = create(cli, blueprint)

    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    shown = [line.split("  | ", 1)[1] for line in lines if line.startswith(f"{STACK}  | ")]
    assert f"+ {DEPLOY}" in shown  # each command, announced
    assert f"+ {NOTIFY}" in shown
    assert f"Successfully created/updated stack - {CB_STACK}" in shown  # and what it printed
    assert '        "valueString": "hi-there"' in shown  # `cat outputs.json`
    assert lines[-1] == f"Deployed environment {ENV}: CREATE_COMPLETE ({STACK})."
    stack = stack_of(cloudformation, CB_STACK)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    expected = {"Greeting": "hi-there", "ParameterName": f"/pcli-cb/{CB_STACK}"}
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == expected

    outputs = cli("env", "outputs", ENV, "--json")
    assert outputs.exit_code == 0, outputs.output
    assert json.loads(outputs.stdout) == expected
    (row,) = status_rows(cli)
    assert (row["kind"], row["name"], row["stack_name"]) == ("environment", ENV, STACK)
    assert (row["stack_status"], row["deployed"], row["pending"]) == (
        "CREATE_COMPLETE",
        True,
        False,
    )
    assert (row["blueprint"], row["deployed_version"]) == (blueprint, "1.0")
    assert (row["provisioning"], row["status_reason"]) == ("codebuild", None)


def test_deploy_json_streams_the_command_output_as_log_events(cli, publish):
    blueprint = publish()
    assert create(cli, blueprint).exit_code == 0
    spec = cli.workspace / "environments" / f"{ENV}.yaml"
    spec.write_text(spec.read_text().replace("greeting: hi-there", "greeting: hello-again"))

    result = cli("env", "deploy", ENV, "--yes", "--json")

    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    logs = [record for record in records if record["type"] == "log"]
    validator = Draft202012Validator(json.loads((SCHEMAS / "event-log.schema.json").read_text()))
    for record in logs:
        validator.validate(record)
    assert {record["stack"] for record in logs} == {STACK}
    messages = [record["message"] for record in logs]
    assert f"+ {DEPLOY}" in messages
    assert f"Successfully created/updated stack - {CB_STACK}" in messages
    assert '        "valueString": "hello-again"' in messages
    assert records[-1]["type"] == "result"
    assert (records[-1]["ok"], records[-1]["exit_code"]) == (True, 0)
    (resource,) = records[-1]["resources"]
    assert resource["outputs"]["Greeting"] == "hello-again"
    (row,) = status_rows(cli)
    assert row["stack_status"] == "UPDATE_COMPLETE"


def test_a_failing_command_is_exit_3_with_its_last_lines_and_the_environment_failed(cli, publish):
    failing = 'echo "about to fail"; echo "cannot reach the cluster" >&2; exit 7'
    blueprint = publish(provision=["echo step one", failing, "echo never run"])

    result = create(cli, blueprint)

    assert result.exit_code == 3, result.output
    assert "never run" not in result.output
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    assert "provisioning command 2 failed with exit status 7" in error
    assert failing in error
    assert "  about to fail" in result.stderr.splitlines()
    assert "  cannot reach the cluster" in result.stderr.splitlines()
    assert "Hint: its last lines of output are below" in result.stderr
    (row,) = status_rows(cli)
    assert (row["stack_status"], row["provisioning"]) == ("CREATE_FAILED", "codebuild")
    assert row["status_reason"] == (
        f"environment {ENV}: provisioning command 2 failed with exit status 7: {failing}"
    )
    assert row["pending_reasons"] == ["last deployment failed (CREATE_FAILED)"]
    table = cli("status")
    assert " CREATE_FAILED " in table.stdout
    assert "1 failed" in table.stdout.splitlines()[-1]


def test_a_command_that_runs_past_the_time_limit_is_stopped(cli, publish, monkeypatch):
    blueprint = publish(provision=["echo waiting", "sleep 60"])
    monkeypatch.setenv("PCLI_CODEBUILD_TIMEOUT", "2")

    started = time.monotonic()
    result = create(cli, blueprint)
    took = time.monotonic() - started

    assert result.exit_code == 3, result.output
    assert took < 15
    error = next(line for line in result.stderr.splitlines() if line.startswith("Error: "))
    assert "did not finish within 2 s and was stopped: sleep 60" in error
    assert "PCLI_CODEBUILD_TIMEOUT=SECONDS" in result.stderr
    (row,) = status_rows(cli)
    assert row["stack_status"] == "CREATE_FAILED"
    assert "did not finish within 2 s" in row["status_reason"]


def test_outputs_written_to_proton_outputs_json_are_kept(cli, publish):
    write = (
        'python3 -c \'import json; json.dump({"Color": "blue", "Size": "3"},'
        ' open("proton-outputs.json", "w"))\''
    )
    blueprint = publish(provision=[write], deprovision=["echo nothing to remove"])

    result = create(cli, blueprint)

    assert result.exit_code == 0, result.output
    outputs = cli("env", "outputs", ENV, "--json")
    assert json.loads(outputs.stdout) == {"Color": "blue", "Size": "3"}


def test_delete_runs_the_deprovision_commands(cli, publish, cloudformation):
    blueprint = publish()
    assert create(cli, blueprint).exit_code == 0
    assert stack_of(cloudformation, CB_STACK) is not None

    result = cli("env", "delete", ENV, "--yes")

    assert result.exit_code == 0, result.output
    shown = [line.split("  | ", 1)[1] for line in result.stderr.splitlines() if "  | " in line]
    assert f"+ {DEPROVISION[1]}" in shown
    assert stack_of(cloudformation, CB_STACK) is None
    assert status_rows(cli) == []


def test_a_runtime_that_is_not_installed_is_a_warning_and_the_deploy_goes_on(cli, publish):
    blueprint = publish(
        provision=["echo provisioned"],
        deprovision=["echo nothing to remove"],
        runtimes={"python": 3, "golang": 99},
    )

    result = create(cli, blueprint)

    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1, result.stderr
    assert warnings[0].startswith("Warning: golang 99 is required, go ")
    assert f"{STACK}  | provisioned" in result.stderr.splitlines()
