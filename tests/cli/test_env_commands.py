"""`pcli env ...` against a real moto server: create, deploy, list, show, outputs, delete, cancel.

Every command runs the real app in-process; stdin is not a terminal, so deploying needs --yes.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime

import boto3
import pytest

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.deploy.model import StackEvent

TINY_ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TinyEnvironmentInput"
  types:
    TinyEnvironmentInput:
      type: object
      required: [team, size]
      properties:
        team:
          type: string
          description: "Team that owns the environment"
        size:
          type: integer
        label:
          type: string
          default: "plain"
"""
TINY_ENV_TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: >-
        {{ environment.name }}-{{ environment.inputs.team }}-{{ environment.inputs.size }}
Outputs:
  TopicArn:
    Value: !Ref Topic
  Team:
    Value: "{{ environment.inputs.team }}"
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TINY_SVC_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "TinyServiceInput"
  types:
    TinyServiceInput:
      type: object
      properties:
        retention:
          type: integer
          default: 60
"""
TINY_SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""
STACK = "pcli-demo-env-small"
PCLI_TAGS = {
    "pcli:workspace",
    "pcli:kind",
    "pcli:environment",
    "pcli:blueprint",
    "pcli:version",
    "pcli:spec-digest",
    "pcli:inputs-digest",
    "pcli:bundle-digest",
    "pcli:deployment-id",
}


@pytest.fixture
def tiny_env(cli, tmp_path, write_files):
    """A one-topic environment blueprint (tiny-env) with two required inputs, published."""
    bundle = write_files(
        tmp_path / "tiny-env",
        {
            "schema/schema.yaml": TINY_ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": TINY_ENV_TEMPLATE,
        },
    )
    published = cli("blueprint", "publish", str(bundle), "--name", "tiny-env")
    assert published.exit_code == 0, published.output
    return "tiny-env"


def create_small(cli, *extra):
    result = cli(
        "env", "create", "small", "-b", "tiny-env", "-p", "team=core", "-p", "size=2", *extra
    )
    assert result.exit_code == 0, result.output
    return result


def stack_of(cloudformation, name):
    stacks = [s for s in cloudformation.describe_stacks()["Stacks"] if s["StackName"] == name]
    return stacks[0] if stacks else None


def tags_of(stack):
    return {tag["Key"]: tag["Value"] for tag in stack["Tags"]}


# --- create -------------------------------------------------------------------------------------


def test_env_create_writes_the_spec_and_deploys_a_tagged_stack(cli, cloudformation):
    result = cli(
        "env", "create", "dev", "-b", "vpc-ecs-env", "-p", "log_retention_days=14", "--yes"
    )

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    spec = cli.workspace / "environments" / "dev.yaml"
    assert spec.read_text() == (
        'blueprint: vpc-ecs-env\nversion: "1.0"\nregion: us-east-1\n'
        "proton: EnvironmentSpec\nspec:\n  log_retention_days: 14\n"
    )
    lines = result.stderr.splitlines()
    assert lines[0] == f"Wrote {spec} (vpc-ecs-env@1.0, us-east-1)."
    assert "pcli-demo-env-dev  Change set for environment dev: 12 change(s)" in lines
    assert lines[-1] == "Deployed environment dev: CREATE_COMPLETE (pcli-demo-env-dev)."
    stack = stack_of(cloudformation, "pcli-demo-env-dev")
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    tags = tags_of(stack)
    assert set(tags) == PCLI_TAGS
    assert {k: tags[k] for k in ("pcli:workspace", "pcli:kind", "pcli:environment")} == {
        "pcli:workspace": "demo",
        "pcli:kind": "environment",
        "pcli:environment": "dev",
    }
    assert (tags["pcli:blueprint"], tags["pcli:version"]) == ("vpc-ecs-env", "1.0")
    assert re.fullmatch(r"[0-9a-f]{16}", tags["pcli:spec-digest"])
    assert re.fullmatch(r"[0-9a-f-]{36}", tags["pcli:deployment-id"])


def test_env_create_json_streams_ndjson_from_a_version_line_to_a_result_line(
    cli, tiny_env, cloudformation
):
    result = create_small(cli, "--json", "--yes")

    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0] == {
        "type": "version",
        "schema": "1",
        "pcli": records[0]["pcli"],
        "command": "env create",
    }
    spec = cli.workspace / "environments" / "small.yaml"
    assert records[1] == {"type": "note", "message": f"Wrote {spec} (tiny-env@1.0, us-east-1)."}
    changes = next(r for r in records if r["type"] == "changes")
    assert changes["changes"] == [
        {
            "action": "Add",
            "logical_id": "Topic",
            "type": "AWS::SNS::Topic",
            "replacement": None,
            "details": [],
        }
    ]
    assert changes["inputs"] is None  # a creation: nothing deployed before to compare with
    result_line = records[-1]
    assert result_line["type"] == "result"
    assert (result_line["ok"], result_line["exit_code"]) == (True, 0)
    (resource,) = result_line["resources"]
    assert (resource["stack"], resource["status"], resource["changed"]) == (
        STACK,
        "CREATE_COMPLETE",
        True,
    )
    assert resource["outputs"]["Team"] == "core"
    assert resource["outputs"]["TopicArn"].endswith(":small-core-2")
    assert stack_of(cloudformation, STACK)["StackStatus"] == "CREATE_COMPLETE"


def test_env_create_no_deploy_writes_the_spec_only(cli, tiny_env, cloudformation):
    result = create_small(cli, "--no-deploy", "--region", "eu-west-1")

    spec = cli.workspace / "environments" / "small.yaml"
    assert result.stderr == (
        f"Wrote {spec} (tiny-env@1.0, eu-west-1).\nDeploy it with: pcli env deploy small\n"
    )
    assert "region: eu-west-1\n" in spec.read_text()
    assert stack_of(cloudformation, STACK) is None


def test_env_create_lists_every_missing_required_input_and_the_param_flag(cli, tiny_env):
    result = cli("env", "create", "small", "-b", "tiny-env", "-p", "label=x", "--yes")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: environment 'small': 2 required input(s) missing: team, size\n"
        "  environment small: input 'team' is required (type string: Team that owns the "
        "environment)\n"
        "  environment small: input 'size' is required (type integer)\n"
        "Hint: give them with --param team=VALUE --param size=VALUE (or in a spec file with "
        "--spec FILE)\n"
    )
    assert not (cli.workspace / "environments" / "small.yaml").exists()


def test_env_create_json_reports_a_usage_error_in_its_result_line(cli, tiny_env):
    result = cli("env", "create", "small", "-b", "tiny-env", "--json")

    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["type"] for r in records] == ["version", "result"]
    assert records[-1]["ok"] is False
    assert records[-1]["exit_code"] == 2
    assert records[-1]["error"] == "environment 'small': 2 required input(s) missing: team, size"
    assert result.stderr.startswith("Error: environment 'small': 2 required input(s) missing")


def test_env_create_names_the_input_type_and_value_of_a_wrong_param(cli, tiny_env):
    result = cli("env", "create", "small", "-b", "tiny-env", "-p", "team=a", "-p", "size=big")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --param size: input 'size' expects a whole number (integer), got 'big'\n"
        "Hint: inputs of 'TinyEnvironmentInput': team, size, label\n"
    )
    assert not (cli.workspace / "environments" / "small.yaml").exists()


def test_env_create_refuses_an_existing_environment(cli, tiny_env):
    create_small(cli, "--no-deploy")

    result = cli("env", "create", "small", "-b", "tiny-env", "-p", "team=b", "-p", "size=1")

    spec = cli.workspace / "environments" / "small.yaml"
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: environment 'small' already exists: {spec}\n"
        "Hint: deploy it with `pcli env deploy small`, or edit the spec file\n"
    )
    assert "team: core" in spec.read_text()


def test_env_create_without_yes_shows_the_changes_deploys_nothing_and_names_the_command(
    cli, tiny_env, cloudformation
):
    result = cli("env", "create", "small", "-b", "tiny-env", "-p", "team=core", "-p", "size=2")

    assert result.exit_code == 2
    assert "    Add     Topic       AWS::SNS::Topic  -" in result.stderr
    assert result.stderr.endswith(
        "Error: the change set needs confirmation and pcli cannot ask here (stdin is not a "
        "terminal, CI is set, or --no-input was given); nothing was deployed\n"
        "Hint: review the changes above, then run: pcli env deploy small --yes; the spec file "
        "is kept: the same `pcli env create small` command, run again, continues with it and "
        "deploys it\n"
    )
    assert stack_of(cloudformation, STACK) is None  # no change set or empty stack left behind

    deployed = cli("env", "deploy", "small", "--yes")

    assert deployed.exit_code == 0, deployed.output
    assert stack_of(cloudformation, STACK)["StackStatus"] == "CREATE_COMPLETE"


# --- deploy -------------------------------------------------------------------------------------


@pytest.fixture
def change_set_tags(monkeypatch):
    """The pcli:* tags of every CreateChangeSet call, in order (moto does not update the tags of
    a stack that a change set updates, so they are read from the requests)."""
    from protoncli.aws.session import SessionFactory

    sent: list[dict[str, str]] = []
    client = SessionFactory.client

    def record(params, **_kwargs):
        sent.append({tag["Key"]: tag["Value"] for tag in params["Tags"]})

    def client_with_hook(factory, service, target):
        made = client(factory, service, target)
        if service == "cloudformation" and not getattr(made, "_test_hooked", False):
            made.meta.events.register(
                "provide-client-params.cloudformation.CreateChangeSet", record
            )
            made._test_hooked = True
        return made

    monkeypatch.setattr(SessionFactory, "client", client_with_hook)
    return sent


def test_env_deploy_of_an_unchanged_spec_says_no_changes_and_keeps_the_tags(
    cli, tiny_env, change_set_tags
):
    create_small(cli, "--yes")

    again = cli("env", "deploy", "small", "--yes")

    assert again.exit_code == 0, again.output
    assert again.stderr.splitlines()[-1] == "No changes: environment small is up to date."
    first, second = change_set_tags
    assert second == first  # an unchanged spec sends unchanged tags: CloudFormation sees no change


def test_env_deploy_of_a_changed_spec_updates_the_stack_and_its_deployment_tags(
    cli, tiny_env, cloudformation, change_set_tags
):
    create_small(cli, "--yes")
    spec = cli.workspace / "environments" / "small.yaml"
    spec.write_text(spec.read_text().replace("size: 2", "size: 3"))

    result = cli("env", "deploy", "small", "--yes")

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (
        f"Deployed environment small: UPDATE_COMPLETE ({STACK})."
    )
    stack = stack_of(cloudformation, STACK)
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["TopicArn"].endswith(
        ":small-core-3"
    )
    before, after = change_set_tags
    assert after["pcli:spec-digest"] != before["pcli:spec-digest"]
    assert after["pcli:deployment-id"] != before["pcli:deployment-id"]


def test_env_deploy_of_an_unknown_environment_names_the_known_ones(cli, tiny_env):
    create_small(cli, "--no-deploy")

    result = cli("env", "deploy", "prod", "--yes")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: no environment named 'prod' in this workspace (known: small)\n"
        "Hint: create it: pcli env create prod\n"
    )


# --- list, show, outputs ------------------------------------------------------------------------


def test_env_list_show_and_outputs_in_words_and_json(cli, tiny_env, cloudformation):
    create_small(cli, "--yes")
    create = cli("env", "create", "later", "-b", "tiny-env", "-p", "team=x", "-p", "size=1")
    assert create.exit_code == 2  # not deployed: no --yes
    topic = {o["OutputKey"]: o["OutputValue"] for o in stack_of(cloudformation, STACK)["Outputs"]}

    listed = cli("env", "list")
    assert listed.exit_code == 0, listed.output
    rows = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    assert rows[0] == ["KIND", "NAME", "ENV", "BLUEPRINT", "STACK", "DEPLOYED", "STATE"]
    items = [row for row in rows[2:] if row[0] == "environment"]
    assert items[0][:5] == ["environment", "later", "later", "tiny-env@1.0", "NOT_DEPLOYED"]
    assert items[1][:5] == ["environment", "small", "small", "tiny-env@1.0", "CREATE_COMPLETE"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", items[1][5])

    listed_json = json.loads(cli("env", "list", "--json").stdout)["environments"]
    assert [(e["name"], e["stack_status"]) for e in listed_json] == [
        ("later", "NOT_DEPLOYED"),
        ("small", "CREATE_COMPLETE"),
    ]
    assert listed_json[1]["stack_name"] == STACK
    assert listed_json[1]["deployed_version"] == "1.0"
    assert listed_json[0]["last_deployed"] is None

    shown = cli("env", "show", "small")
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[:6] == [
        "Environment:   small",
        "Blueprint:     tiny-env@1.0",
        "Versions:      up-to-date (recommended 1.0)",
        "Region:        us-east-1",
        f"Spec:          {cli.workspace / 'environments' / 'small.yaml'}",
        f"Stack:         {STACK} (CREATE_COMPLETE)",
    ]
    assert f"TopicArn   {topic['TopicArn']}" in shown.stdout
    document = json.loads(cli("env", "show", "small", "--json").stdout)
    assert document["inputs"] == {"team": "core", "size": 2}
    assert document["outputs"] == topic
    assert document["stack_status"] == "CREATE_COMPLETE"

    assert json.loads(cli("env", "outputs", "small", "--json").stdout) == topic
    words = cli("env", "outputs", "small").stdout
    assert [line.split() for line in words.splitlines() if line.strip()][2:] == [
        ["Team", "core"],
        ["TopicArn", topic["TopicArn"]],
    ]
    later = cli("env", "show", "later")
    assert "No outputs (not deployed yet)." in later.stdout
    not_deployed = cli("env", "outputs", "later")
    assert not_deployed.exit_code == 2
    assert not_deployed.stderr == (
        "Error: environment 'later' is not deployed (no stack pcli-demo-env-later in "
        "us-east-1)\nHint: deploy it: pcli env deploy later\n"
    )


# --- delete -------------------------------------------------------------------------------------


def test_env_delete_is_refused_while_a_service_instance_lives_in_it(
    cli, tiny_env, tmp_path, write_files
):
    create_small(cli, "--yes")
    service = write_files(
        tmp_path / "tiny-svc",
        {
            "schema/schema.yaml": TINY_SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": TINY_SVC_TEMPLATE,
            ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
        },
    )
    assert cli("blueprint", "publish", str(service), "--name", "tiny-svc").exit_code == 0
    created = cli("svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=small", "--no-deploy")
    assert created.exit_code == 0, created.output

    for flags in (["--yes"], []):  # refused before anything is asked
        result = cli("env", "delete", "small", *flags)

        assert result.exit_code == 2
        assert result.stderr == (
            "Error: environment 'small' still hosts 1 resource(s); nothing was deleted\n"
            "  service instance api/api-a (declared, not deployed)\n"
            "Hint: delete those first (pcli svc delete / pcli component delete; orphans: "
            "pcli apply --prune)\n"
        )
    assert (cli.workspace / "environments" / "small.yaml").is_file()


def test_env_delete_removes_the_stack_and_the_spec(cli, tiny_env, cloudformation):
    create_small(cli, "--yes")

    refused = cli("env", "delete", "small")
    assert refused.exit_code == 2
    assert refused.stderr.endswith("Hint: rerun with --yes\n")

    result = cli("env", "delete", "small", "--yes")

    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"Deleted environment small ({STACK})."
    assert stack_of(cloudformation, STACK) is None
    assert not (cli.workspace / "environments" / "small.yaml").exists()


# --- deploy --cancel ----------------------------------------------------------------------------


class UpdateInProgress:
    """Shows chosen stacks as UPDATE_IN_PROGRESS until cancelled, then rolling back and rolled
    back, with CloudFormation's events (moto has neither in-progress stacks nor
    CancelUpdateStack); every other call goes to moto."""

    def __init__(self, monkeypatch, *stacks):
        self.stacks = set(stacks)
        self.cancelled: list[str] = []
        self.polls: dict[str, int] = {}
        describe = CloudFormationGateway.describe
        events = CloudFormationGateway.events

        def fake_describe(gateway, name):
            info = describe(gateway, name)
            if info is None or info.name not in self.stacks:
                return info
            if info.name not in self.cancelled:
                return replace(info, status="UPDATE_IN_PROGRESS")
            self.polls[info.name] = self.polls.get(info.name, 0) + 1
            rolled_back = self.polls[info.name] > 1
            status = "UPDATE_ROLLBACK_COMPLETE" if rolled_back else "UPDATE_ROLLBACK_IN_PROGRESS"
            return replace(info, status=status)

        def fake_events(gateway, stack_id, since):
            found = events(gateway, stack_id, since)
            name = stack_id.split(":stack/")[-1].split("/")[0]
            if name not in self.cancelled:
                return found
            now = datetime.now(UTC)
            return [*found, *(self._event(name, status, now) for status in self._rollback(name))]

        monkeypatch.setattr(CloudFormationGateway, "describe", fake_describe)
        monkeypatch.setattr(CloudFormationGateway, "events", fake_events)
        monkeypatch.setattr(
            CloudFormationGateway,
            "cancel_update",
            lambda _gateway, name: self.cancelled.append(name),
        )

    def _rollback(self, name):
        rolled_back = self.polls.get(name, 0) > 1
        return ["UPDATE_ROLLBACK_IN_PROGRESS"] + (
            ["UPDATE_ROLLBACK_COMPLETE"] if rolled_back else []
        )

    @staticmethod
    def _event(name, status, now):
        return StackEvent(
            event_id=f"{name}-{status}",
            timestamp=now,
            logical_id=name,
            resource_type="AWS::CloudFormation::Stack",
            status=status,
            reason=None,
        )


def test_env_deploy_cancel_with_nothing_in_progress_says_so(cli, tiny_env):
    create_small(cli, "--no-deploy")
    assert cli("env", "deploy", "small", "--cancel").stderr == (
        f"Nothing to cancel: environment small is not deployed ({STACK}).\n"
    )
    create = cli("env", "deploy", "small", "--yes")
    assert create.exit_code == 0, create.output

    result = cli("env", "deploy", "small", "--cancel")

    assert result.exit_code == 0, result.output
    assert result.stderr == (
        f"Nothing to cancel: no update is in progress on environment small ({STACK} is "
        "CREATE_COMPLETE).\n"
    )


def test_env_deploy_cancel_asks_for_yes_then_cancels_and_watches_the_rollback(
    cli, tiny_env, monkeypatch
):
    create_small(cli, "--yes")
    fake = UpdateInProgress(monkeypatch, STACK)

    refused = cli("env", "deploy", "small", "--cancel")

    assert refused.exit_code == 2
    assert fake.cancelled == []
    assert refused.stderr == (
        f"Error: cancelling the update of environment small ({STACK}) needs confirmation and "
        "pcli cannot ask here (stdin is not a terminal, CI is set, or --no-input was given)\n"
        "Hint: rerun with --yes: pcli env deploy small --cancel --yes\n"
    )

    result = cli("env", "deploy", "small", "--cancel", "--yes")

    assert result.exit_code == 0, result.output
    assert fake.cancelled == [STACK]
    lines = result.stderr.splitlines()
    assert f"{STACK}  UPDATE_ROLLBACK_IN_PROGRESS" in lines
    assert f"{STACK}  UPDATE_ROLLBACK_COMPLETE" in lines
    assert lines[-1] == (
        "Cancelled the update of environment small: it runs its previous version again "
        f"(UPDATE_ROLLBACK_COMPLETE, {STACK})."
    )


def test_env_deploy_cancel_json_ends_with_the_cancelled_stack(cli, tiny_env, monkeypatch):
    create_small(cli, "--yes")
    fake = UpdateInProgress(monkeypatch, STACK)

    result = cli("env", "deploy", "small", "--cancel", "--yes", "--json")

    assert result.exit_code == 0, result.output
    assert fake.cancelled == [STACK]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records[0]["type"] == "version"
    assert records[0]["command"] == "env deploy"
    waiting = next(r for r in records if r["type"] == "waiting")
    assert (waiting["stack"], waiting["status"]) == (STACK, "UPDATE_ROLLBACK_IN_PROGRESS")
    assert records[-1] == {
        "type": "result",
        "ok": True,
        "exit_code": 0,
        "resources": [
            {
                "stack": STACK,
                "description": "environment small",
                "status": "UPDATE_ROLLBACK_COMPLETE",
                "cancelled": True,
            }
        ],
    }


def test_delete_commands_name_an_unknown_resource_before_asking(cli):
    for command, kind in (("env", "environment"), ("svc", "service"), ("component", "component")):
        result = cli(command, "delete", "nope")

        assert result.exit_code == 2
        assert result.stderr == (
            f"Error: no {kind} named 'nope' in this workspace (known: none yet)\n"
            f"Hint: create it: pcli {command} create nope\n"
        )


def test_env_delete_json_reports_a_refusal_in_its_result_line(cli, tiny_env):
    create_small(cli, "--no-deploy")

    result = cli("env", "delete", "small", "--json")

    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["type"] for r in records] == ["version", "result"]
    assert records[0]["command"] == "env delete"
    assert (records[1]["ok"], records[1]["exit_code"]) == (False, 2)
    assert records[1]["error"].startswith("deleting environment small needs confirmation")


def test_env_deploy_sends_a_large_template_through_the_artifact_bucket_only(
    cli, tiny_env, cloudformation, moto_url, write_files
):
    padding = "".join(f"  # padding line {n:05d} keeps this template over the inline limit\n"
                      for n in range(800))  # fmt: skip
    template = TINY_ENV_TEMPLATE + padding
    bundle = write_files(
        "big-env",
        {
            "schema/schema.yaml": TINY_ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": template,
        },
    )
    assert len(template.encode()) > 51_200
    assert cli("blueprint", "publish", str(bundle), "--name", "big-env").exit_code == 0
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    create_small(cli, "--no-deploy")
    small = cli("env", "deploy", "small", "--yes")
    assert small.exit_code == 0, small.output
    buckets = [b["Name"] for b in s3.list_buckets()["Buckets"]]  # the deployment records'
    assert all(  # a small template is sent inline
        not s3.list_objects_v2(Bucket=name, Prefix="templates/").get("Contents") for name in buckets
    )

    planned = cli(
        "env", "create", "big", "-b", "big-env", "-p", "team=core", "-p", "size=1", "--no-deploy"
    )
    assert planned.exit_code == 0, planned.output
    previewed = cli("plan", "big", "--changes")  # the change set of a large template too
    assert previewed.exit_code == 0, previewed.output
    assert "Change set for environment big:" in previewed.stdout
    uploaded = s3.list_objects_v2(
        Bucket="pcli-artifacts-123456789012-us-east-1", Prefix="templates/"
    )
    assert [o["Key"].split("/")[1] for o in uploaded["Contents"]] == ["pcli-demo-env-big"]

    result = cli("env", "deploy", "big", "--yes")

    assert result.exit_code == 0, result.output
    assert stack_of(cloudformation, "pcli-demo-env-big")["StackStatus"] == "CREATE_COMPLETE"
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket == "pcli-artifacts-123456789012-us-east-1"
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="templates/")["Contents"]]
    assert len(keys) == 1
    assert keys[0].startswith("templates/pcli-demo-env-big/")
