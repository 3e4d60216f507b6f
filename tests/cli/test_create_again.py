"""The same `pcli env create` / `pcli svc create` run again after its deploy was refused or
failed: it continues with the spec file it wrote (deploys it), instead of "already exists";
what differs, or what is deployed, is still refused. Against a real moto server; a failed
create (which moto never produces) is shown by reporting the first stack as ROLLBACK_COMPLETE.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from protoncli.aws import cloudformation as cloudformation_module

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
ENV_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: TinyInput
  types:
    TinyInput:
      type: object
      required: [team]
      properties:
        team: {type: string}
        size: {type: integer, default: 2}
        token: {type: string, format: password}
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
SVC_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: QueueInput
  types:
    QueueInput:
      type: object
      properties:
        retention: {type: integer, default: 60}
"""
SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
"""
STACK = "pcli-demo-env-small"
CREATE = ("env", "create", "small", "-b", "tiny-env", "-p", "team=core")
AGAIN = "the spec file is kept: the same `pcli env create small` command, run again, continues "
AGAIN += "with it and deploys it"


@pytest.fixture
def tiny(cli, tmp_path, write_files):
    """tiny-env (one topic) and tiny-svc (one queue, runs on tiny-env:1), published."""
    env = write_files(
        tmp_path / "tiny-env",
        {
            "schema/schema.yaml": ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": ENV_TEMPLATE,
        },
    )
    svc = write_files(
        tmp_path / "tiny-svc",
        {
            ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
            "schema/schema.yaml": SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": SVC_TEMPLATE,
        },
    )
    for bundle, name in ((env, "tiny-env"), (svc, "tiny-svc")):
        published = cli("blueprint", "publish", str(bundle), "--name", name)
        assert published.exit_code == 0, published.output
    return cli


def status_of(cloudformation, name):
    for stack in cloudformation.describe_stacks()["Stacks"]:
        if stack["StackName"] == name:
            return stack["StackStatus"]
    return None


class FailedCreate:
    """Reports the first stack of `name` that completes as ROLLBACK_COMPLETE (its creation
    failed and was rolled back), as CloudFormation would; moto's answers otherwise (a deleted
    stack, a stack created again)."""

    def __init__(self, monkeypatch, name):
        self.name = name
        self.failed_id = None
        original = cloudformation_module.stack_info

        def stack_info(raw):
            info = original(raw)
            if info.name != self.name or info.status != "CREATE_COMPLETE":
                return info
            if self.failed_id is None:
                self.failed_id = info.stack_id
            if info.stack_id == self.failed_id:
                return replace(info, status="ROLLBACK_COMPLETE", outputs={})
            return info

        monkeypatch.setattr(cloudformation_module, "stack_info", stack_info)


def test_a_create_refused_for_lack_of_confirmation_continues_when_run_again(tiny, cloudformation):
    refused = tiny(*CREATE)

    assert refused.exit_code == 2
    assert refused.stderr.endswith(
        "Hint: review the changes above, then run: pcli env deploy small --yes; " + AGAIN + "\n"
    )
    spec = tiny.workspace / "environments" / "small.yaml"
    written = spec.read_text()

    again = tiny(*CREATE, "--yes")

    assert again.exit_code == 0, again.output
    assert (
        f"{spec} already holds these values, and nothing of it is deployed yet: continuing "
        "with it (nothing was written)."
    ) in again.stderr
    assert "Wrote" not in again.stderr
    assert (
        again.stderr.splitlines()[-1] == f"Deployed environment small: CREATE_COMPLETE ({STACK})."
    )
    assert spec.read_text() == written
    assert status_of(cloudformation, STACK) == "CREATE_COMPLETE"


def test_values_not_given_fall_back_to_the_spec_files(tiny):
    assert tiny(*CREATE).exit_code == 2  # written, not deployed

    again = tiny("env", "create", "small", "--yes")

    assert again.exit_code == 0, again.output
    assert "already holds these values" in again.stderr


def test_a_create_whose_deploy_failed_continues_and_replaces_the_failed_stack(
    tiny, monkeypatch, cloudformation
):
    FailedCreate(monkeypatch, STACK)

    failed = tiny(*CREATE, "--yes")

    assert failed.exit_code == 3
    assert failed.stderr.splitlines()[-1] == (
        "Hint: the stack could not be created and was rolled back; fix the cause, then deploy "
        f"again (the failed stack is replaced after confirmation); {AGAIN}"
    )

    again = tiny(*CREATE, "--yes")

    assert again.exit_code == 0, again.output
    assert (
        f"already holds these values, and its last deployment failed ({STACK}: "
        "ROLLBACK_COMPLETE): continuing with it (nothing was written)."
    ) in again.stderr
    assert (
        again.stderr.splitlines()[-1] == f"Deployed environment small: CREATE_COMPLETE ({STACK})."
    )
    assert status_of(cloudformation, STACK) == "CREATE_COMPLETE"


def test_other_values_are_refused_with_already_exists(tiny):
    assert tiny(*CREATE).exit_code == 2
    spec = tiny.workspace / "environments" / "small.yaml"

    for other in (["-p", "team=ops"], ["-p", "size=3"], ["--region", "eu-west-1"]):
        result = tiny(*CREATE, *other, "--yes")

        assert result.exit_code == 2, other
        assert result.stderr == (
            f"Error: environment 'small' already exists: {spec}\n"
            "Hint: deploy it with `pcli env deploy small`, or edit the spec file\n"
        )
    assert yaml.safe_load(spec.read_text())["spec"] == {"team": "core"}


def test_a_default_given_as_written_is_the_same_value(tiny):
    assert tiny(*CREATE).exit_code == 2  # size not given: its default, 2

    again = tiny(*CREATE, "-p", "size=2", "--yes")

    assert again.exit_code == 0, again.output


def test_a_deployed_environment_is_refused_with_what_runs(tiny):
    assert tiny(*CREATE, "--yes").exit_code == 0
    spec = tiny.workspace / "environments" / "small.yaml"

    result = tiny(*CREATE, "--yes")

    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: environment 'small' already exists: {spec}\n"
        f"  environment small is deployed: {STACK} (CREATE_COMPLETE)\n"
        "Hint: deploy it with `pcli env deploy small`, or edit the spec file\n"
    )


def test_with_no_deploy_the_same_create_writes_nothing_and_succeeds(tiny):
    assert tiny(*CREATE, "--no-deploy").exit_code == 0
    spec = tiny.workspace / "environments" / "small.yaml"

    again = tiny(*CREATE, "--no-deploy")

    assert again.exit_code == 0, again.output
    assert again.stderr.splitlines() == [
        f"{spec} already holds these values: nothing was written.",
        "Deploy it with: pcli env deploy small",
    ]


def test_a_secret_given_again_is_stored_again_under_the_same_reference(tiny):
    import boto3

    first = tiny(*CREATE, "-p", "token=first-value")
    assert first.exit_code == 2
    spec = tiny.workspace / "environments" / "small.yaml"
    reference = "{{resolve:secretsmanager:pcli/demo/env/small/token:SecretString}}"
    assert yaml.safe_load(spec.read_text())["spec"]["token"] == reference

    again = tiny(*CREATE, "-p", "token=second-value", "--yes")

    assert again.exit_code == 0, again.output
    assert "second-value" not in again.output
    secrets = boto3.client("secretsmanager", region_name="us-east-1")
    stored = secrets.get_secret_value(SecretId="pcli/demo/env/small/token")["SecretString"]
    assert stored == "second-value"
    assert yaml.safe_load(spec.read_text())["spec"]["token"] == reference


def test_the_same_svc_create_continues_after_a_refused_deploy(tiny, cloudformation):
    assert tiny(*CREATE, "--yes").exit_code == 0
    create = ("svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=small", "-p", "retention=30")
    refused = tiny(*create)
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1].endswith(
        "; the spec file is kept: the same `pcli svc create api` command, run again, continues "
        "with it and deploys it"
    )
    spec = tiny.workspace / "services" / "api.yaml"

    moved = tiny("svc", "create", "api", "-b", "tiny-svc", "-i", "api-b=small", "--yes")
    other = tiny(*create[:-1], "retention=31", "--yes")
    again = tiny(*create, "--yes")

    for refusal in (moved, other):
        assert refusal.exit_code == 2
        assert refusal.stderr.startswith(f"Error: service 'api' already exists: {spec}\n")
    assert again.exit_code == 0, again.output
    assert f"{spec} already holds these values, and nothing of it is deployed yet" in again.stderr
    assert status_of(cloudformation, "pcli-demo-svc-api-api-a") == "CREATE_COMPLETE"
