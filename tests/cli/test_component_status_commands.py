"""`pcli component ...` and `pcli status` against a real moto server.

Components: their stack, their outputs reaching the instance they attach to, redeploys, delete.
Status: every resource with blueprint, version, stack status and time, read in bulk (one
DescribeStacks per region, counted on the wire).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from protoncli.aws.session import SessionFactory

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TINY_ENV = {
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TinyEnvironmentInput"
  types:
    TinyEnvironmentInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
""",
    "infrastructure/manifest.yaml": MANIFEST,
    "infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
""",
}
TINY_SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "TinyServiceInput"
  pipeline_input_type: "TinyPipelineInput"
  types:
    TinyServiceInput:
      type: object
      properties:
        retention:
          type: integer
          default: 60
    TinyPipelineInput:
      type: object
      properties:
        stage:
          type: string
          default: "test"
""",
    "instance_infrastructure/manifest.yaml": MANIFEST,
    "instance_infrastructure/cloudformation.yaml": """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
Outputs:
  QueueUrl:
    Value: !Ref Queue
""",
    "pipeline_infrastructure/manifest.yaml": MANIFEST,
    "pipeline_infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ service.name }}-{{ pipeline.inputs.stage }}"
""",
}
WEB_DEV = "pcli-demo-svc-web-web-dev"
QUEUE = "pcli-demo-comp-queue"


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def summary_lines(result):
    """What a command says at its end: the lines that are not progress (stack lines, tables)."""
    return [
        line
        for line in result.stderr.splitlines()
        if not line.startswith(("pcli-demo-", " ")) and line
    ]


def outputs_of(cloudformation, stack):
    (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


# --- components ---------------------------------------------------------------------------------


@pytest.fixture
def web(cli):
    """vpc-ecs-env dev and fargate-web-svc web (instance web-dev), deployed."""
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--yes"))
    args = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev")
    ok(cli(*args, "--repository", "acme/web", "--branch", "main", "--yes"))
    return "web"


# moto has no CloudFormation model for AWS::CodeBuild::Project (the starter's pipeline): it warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning"
)


def test_component_create_deploys_it_and_redeploys_the_instance_with_its_outputs(
    cli, web, cloudformation, starters_dir
):
    bundle = starters_dir / "sqs-queue-component" / "v1"

    result = cli(
        "component", "create", "queue", "--service", "web", "--instance", "web-dev",
        "--bundle", str(bundle), "--yes",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert summary_lines(result) == [
        f"Wrote {cli.workspace / 'components' / 'queue'}.",
        f"Deployed component queue: CREATE_COMPLETE ({QUEUE}).",
        f"Deployed service instance web/web-dev: UPDATE_COMPLETE ({WEB_DEV}).",
        "No changes: pipeline of web is up to date.",
    ]
    queue = outputs_of(cloudformation, QUEUE)
    assert queue["QueueName"] == "dev-web-web-dev-queue"
    template = cloudformation.get_template(StackName=WEB_DEV)["TemplateBody"]
    assert queue["QueueUrl"] in template
    assert queue["QueueAccessPolicyArn"] in template
    (stack,) = cloudformation.describe_stacks(StackName=QUEUE)["Stacks"]
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert {k: tags[k] for k in ("pcli:kind", "pcli:component", "pcli:service")} == {
        "pcli:kind": "component",
        "pcli:component": "queue",
        "pcli:service": "web",
    }
    assert (tags["pcli:instance"], tags["pcli:environment"]) == ("web-dev", "dev")

    again = ok(cli("component", "deploy", "queue", "--yes"))

    assert summary_lines(again) == [
        "No changes: component queue is up to date.",
        "No changes: service instance web/web-dev is up to date.",
        "No changes: pipeline of web is up to date.",
    ]


def test_component_delete_redeploys_the_instance_without_it(cli, web, cloudformation, starters_dir):
    bundle = starters_dir / "sqs-queue-component" / "v1"
    ok(cli("component", "create", "queue", "--service", "web", "--instance", "web-dev",
           "--bundle", str(bundle), "--yes"))  # fmt: skip
    queue_url = outputs_of(cloudformation, QUEUE)["QueueUrl"]

    refused = cli("component", "delete", "queue")
    assert refused.exit_code == 2
    assert refused.stderr.endswith("Hint: rerun with --yes\n")

    result = cli("component", "delete", "queue", "--yes")

    assert result.exit_code == 0, result.output
    assert summary_lines(result) == [
        f"Deleted component queue ({QUEUE}).",
        f"Deployed service instance web/web-dev: UPDATE_COMPLETE ({WEB_DEV}).",
        "No changes: pipeline of web is up to date.",
    ]
    assert QUEUE not in {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert queue_url not in cloudformation.get_template(StackName=WEB_DEV)["TemplateBody"]
    assert not (cli.workspace / "components" / "queue").exists()


def test_component_create_refuses_an_unknown_instance_and_a_second_component(cli, starters_dir):
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy"))
    ok(cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev", "--no-deploy"))
    bundle = str(starters_dir / "sqs-queue-component" / "v1")

    unknown = cli("component", "create", "queue", "--service", "web", "--instance", "web-prod",
                  "--bundle", bundle, "--no-deploy")  # fmt: skip

    assert unknown.exit_code == 2
    assert unknown.stderr == (
        "Error: service 'web' has no instance 'web-prod'\nHint: its instances: web-dev\n"
    )
    ok(cli("component", "create", "queue", "--service", "web", "--instance", "web-dev",
           "--bundle", bundle, "--no-deploy"))  # fmt: skip
    second = cli("component", "create", "jobs", "--service", "web", "--instance", "web-dev",
                 "--bundle", bundle, "--no-deploy")  # fmt: skip

    assert second.exit_code == 2
    assert second.stderr == (
        "Error: service instance web/web-dev already has component 'queue'\n"
        "Hint: Proton attaches one component per service instance\n"
    )


# --- status -------------------------------------------------------------------------------------


@pytest.fixture
def describe_stacks_calls(monkeypatch):
    """The region of every DescribeStacks call any pcli client makes, counted on the wire."""
    calls: list[str] = []
    client = SessionFactory.client

    def client_with_counter(factory, service, target):
        made = client(factory, service, target)
        if service == "cloudformation" and not getattr(made, "_test_counted", False):
            region = made.meta.region_name
            made.meta.events.register(
                "before-call.cloudformation.DescribeStacks",
                lambda **_kwargs: calls.append(region),
            )
            made._test_counted = True
        return made

    monkeypatch.setattr(SessionFactory, "client", client_with_counter)
    return calls


@pytest.fixture
def fleet(cli, tmp_path, starters_dir, write_files):
    """Environments one (us-east-1), two (eu-west-1) and three (not deployed); service api with
    an instance in one and two and a pipeline; component jobs on api/api-a."""
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        bundle = write_files(tmp_path / name, files)
        ok(cli("blueprint", "publish", str(bundle), "--name", name))
    ok(cli("env", "create", "one", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "two", "-b", "tiny-env", "--region", "eu-west-1", "--yes"))
    ok(cli("env", "create", "three", "-b", "tiny-env", "--no-deploy"))
    ok(cli("svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=one", "-i", "api-b=two",
           "--yes"))  # fmt: skip
    ok(cli("component", "create", "jobs", "--service", "api", "--instance", "api-a",
           "--bundle", str(starters_dir / "sqs-queue-component" / "v1"), "--yes"))  # fmt: skip


def test_status_lists_every_resource_with_blueprint_version_status_and_time(cli, fleet):
    result = ok(cli("status"))

    lines = result.stdout.splitlines()
    rows = [line.split() for line in lines if line.strip()]
    assert rows[0] == ["KIND", "NAME", "ENV", "BLUEPRINT", "STACK", "DEPLOYED", "STATE"]
    kinds = {"environment", "instance", "pipeline", "component"}
    items = [row for row in rows[2:] if row[0] in kinds]
    assert [row[:5] for row in items] == [
        ["environment", "one", "one", "tiny-env@1.0", "CREATE_COMPLETE"],
        ["environment", "three", "three", "tiny-env@1.0", "NOT_DEPLOYED"],
        ["environment", "two", "two", "tiny-env@1.0", "CREATE_COMPLETE"],
        ["instance", "api/api-a", "one", "tiny-svc@1.0", "UPDATE_COMPLETE"],
        ["instance", "api/api-b", "two", "tiny-svc@1.0", "CREATE_COMPLETE"],
        ["pipeline", "api", "-", "tiny-svc@1.0", "UPDATE_COMPLETE"],
        ["component", "jobs", "one", "-", "CREATE_COMPLETE"],
    ]
    assert [row[-1] for row in items] == ["up-to-date", "up-to-date,"] + ["up-to-date"] * 4 + ["-"]
    three = lines.index(next(line for line in lines if " three " in line))
    assert "pending" in lines[three] + lines[three + 1]
    assert items[1][5] == "-"
    deployed = [row for row in items if row[4] != "NOT_DEPLOYED"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", row[5]) for row in deployed)
    assert all(re.fullmatch(r"\d\d:\d\d", row[6]) for row in deployed)
    assert lines[-1] == (
        "7 item(s): 6 up to date, 0 behind minor, 0 behind major, 0 failed, 1 pending, 0 orphaned"
    )


def test_status_json_is_one_document_of_every_resource(cli, fleet):
    document = json.loads(ok(cli("status", "--json")).stdout)

    assert document["workspace"] == "demo"
    resources = {(r["kind"], r["name"]): r for r in document["resources"]}
    assert len(resources) == 7
    two = resources[("environment", "two")]
    assert (two["region"], two["stack_name"], two["stack_status"]) == (
        "eu-west-1",
        "pcli-demo-env-two",
        "CREATE_COMPLETE",
    )
    assert (two["blueprint"], two["version"], two["deployed_version"]) == ("tiny-env", "1.0", "1.0")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d.*", two["last_deployed"])
    api_b = resources[("service-instance", "api/api-b")]
    assert (api_b["environment"], api_b["region"]) == ("two", "eu-west-1")
    assert resources[("pipeline", "api")]["region"] == "us-east-1"
    jobs = resources[("component", "jobs")]
    assert (jobs["stack_name"], jobs["deployed_version"]) == ("pcli-demo-comp-jobs", None)
    three = resources[("environment", "three")]
    assert (three["stack_status"], three["last_deployed"]) == ("NOT_DEPLOYED", None)
    assert (three["declared"], three["deployed"], three["pending"], three["orphaned"]) == (
        True,
        False,
        True,
        False,
    )
    assert three["pending_reasons"] == ["not deployed"]
    assert all(not r["pending"] for r in document["resources"] if r["deployed"])
    assert (two["version_status"], two["recommended_version"]) == ("up-to-date", "1.0")
    assert (jobs["blueprint"], jobs["version"], jobs["version_status"]) == (None, None, None)
    assert document["summary"] == {
        "total": 7,
        "up_to_date": 6,
        "behind_minor": 0,
        "behind_major": 0,
        "failed": 0,
        "pending": 1,
        "orphaned": 0,
    }


def test_status_reads_stacks_with_one_describe_stacks_call_per_region(
    cli, fleet, describe_stacks_calls
):
    ok(cli("status"))

    assert Counter(describe_stacks_calls) == {"us-east-1": 1, "eu-west-1": 1}


def test_env_show_reads_only_the_region_its_stacks_live_in(cli, fleet, describe_stacks_calls):
    result = ok(cli("env", "show", "two", "--json"))

    assert [host["name"] for host in json.loads(result.stdout)["hosts"]] == ["api/api-b"]
    assert describe_stacks_calls == ["eu-west-1"]


def test_status_of_an_empty_workspace_looks_for_orphans_once_and_says_how_to_start(
    cli, describe_stacks_calls
):
    result = ok(cli("status"))

    assert result.stdout == ""
    assert result.stderr == (
        "Nothing declared or deployed here. Start with: pcli env create NAME -b BLUEPRINT\n"
    )
    assert describe_stacks_calls == ["us-east-1"]  # stacks may outlive every spec
    document = json.loads(ok(cli("status", "--json")).stdout)
    assert (document["resources"], document["summary"]["total"]) == ([], 0)
