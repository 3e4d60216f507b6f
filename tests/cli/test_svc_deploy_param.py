"""`pcli svc deploy NAME --param KEY=VALUE` against a real moto server: CI ships a new build
without editing the spec, and status, plan and apply tell that apart from a spec change.

Service web (blueprint tag-svc: an SSM parameter and outputs rendered from the instance's
`image_tag` and `replicas`) has instances web-dev and web-prod in environments dev and prod.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from tests.cli.test_component_status_commands import MANIFEST, TINY_ENV

TAG_SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "TagServiceInput"
  pipeline_input_type: "TagPipelineInput"
  types:
    TagServiceInput:
      type: object
      properties:
        image_tag:
          type: string
          default: "latest"
          minLength: 1
          maxLength: 40
        replicas:
          type: integer
          default: 1
          minimum: 1
          maximum: 5
    TagPipelineInput:
      type: object
      properties:
        stage:
          type: string
          default: "test"
""",
    "instance_infrastructure/manifest.yaml": MANIFEST,
    "instance_infrastructure/cloudformation.yaml": """\
Resources:
  Image:
    Type: AWS::SSM::Parameter
    Properties:
      Name: "/{{ service.name }}/{{ service_instance.name }}/image"
      Type: String
      Value: "{{ service_instance.inputs.image_tag }}"
Outputs:
  ImageTag:
    Value: "{{ service_instance.inputs.image_tag }}"
  Replicas:
    Value: "{{ service_instance.inputs.replicas }}"
""",
    "pipeline_infrastructure/manifest.yaml": MANIFEST,
    "pipeline_infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ service.name }}-{{ pipeline.inputs.stage }}"
Outputs:
  Images:
    Value: "{% for i in service_instances %}{{ i.inputs.image_tag }} {% endfor %}"
""",
}
DEV_STACK = "pcli-demo-svc-web-web-dev"
HELD = (
    "deployed with --param image_tag=abc123 (spec says image_tag: the blueprint's default): "
    "commit the value to the spec, or apply --revert-overrides to go back"
)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def web(cli, tmp_path, write_files):
    for name, files in (("tiny-env", TINY_ENV), ("tag-svc", TAG_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "prod", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "tag-svc", "-i", "web-dev=dev", "-i", "web-prod=prod",
           "--repository", "acme/web", "--branch", "main", "--yes"))  # fmt: skip
    return cli


def outputs(cli) -> dict[str, dict[str, str]]:
    return json.loads(ok(cli("svc", "outputs", "web", "--json")).stdout)


def tags(cloudformation, stack: str) -> dict[str, str]:
    found = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Tags", [])
    return {tag["Key"]: tag["Value"] for tag in found}


def row(cli, name: str) -> dict[str, Any]:
    rows = json.loads(ok(cli("status", "--json")).stdout)["resources"]
    return next(r for r in rows if r["name"] == name)


def planned(cli, *flags: str) -> dict[str, dict[str, Any]]:
    document = json.loads(ok(cli("plan", "--json", *flags)).stdout)
    return {item["name"]: item for item in document["items"]}


def newest_record(moto_url: str, stack: str) -> dict[str, Any]:
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    for bucket in s3.list_buckets()["Buckets"]:
        listed = s3.list_objects_v2(Bucket=bucket["Name"], Prefix=f"records/{stack}/")
        keys = sorted(item["Key"] for item in listed.get("Contents", []))
        if keys:
            body = s3.get_object(Bucket=bucket["Name"], Key=keys[-1])["Body"].read()
            return json.loads(body)
    raise AssertionError(f"no record of {stack}")


def deploy_tag(cli, value: str = "abc123", *flags: str):
    return ok(cli("svc", "deploy", "web", "-i", "web-dev", "--param", f"image_tag={value}",
                  *flags, "--yes"))  # fmt: skip


def test_deploy_with_param_renders_it_records_it_and_leaves_the_spec_alone(
    web, cloudformation, moto_url
):
    spec = web.workspace / "services" / "web.yaml"
    before = spec.read_text()
    declared_digest = tags(cloudformation, DEV_STACK)["pcli:inputs-digest"]

    result = deploy_tag(web)

    assert "Deploying web-dev with --param image_tag=abc123 (not written to" in result.stderr
    found = outputs(web)
    assert (found["web-dev"]["ImageTag"], found["web-prod"]["ImageTag"]) == ("abc123", "latest")
    assert found["pipeline"]["Images"] == "latest latest "  # the pipeline renders the spec
    assert spec.read_text() == before
    marked = tags(cloudformation, DEV_STACK)
    assert marked["pcli:overrides"] == "image_tag=abc123"
    assert marked["pcli:inputs-digest"] == declared_digest  # the file's, as before
    assert marked["pcli:overrides-digest"] != declared_digest
    assert "pcli:overrides" not in tags(cloudformation, "pcli-demo-svc-web-web-prod")
    assert "pcli:overrides" not in tags(cloudformation, "pcli-demo-pipeline-web")
    record = newest_record(moto_url, DEV_STACK)
    assert record["overrides"] == {"image_tag": "abc123"}
    assert record["spec"] == before
    assert record["tags"]["pcli:overrides"] == "image_tag=abc123"


def test_params_are_typed_by_the_schema_and_reach_every_chosen_instance(web):
    ok(web("svc", "deploy", "web", "--env", "dev", "--env", "prod", "-p", "replicas=3", "--yes"))

    found = outputs(web)
    assert (found["web-dev"]["Replicas"], found["web-prod"]["Replicas"]) == ("3", "3")
    assert row(web, "web/web-prod")["overrides"] == {"replicas": "3"}


def test_status_and_plan_show_the_param_and_apply_holds_it_back_until_told(web):
    deploy_tag(web)

    dev = row(web, "web/web-dev")
    assert (dev["pending"], dev["pending_reasons"], dev["overrides"]) == (
        False,
        [],
        {"image_tag": "abc123"},
    )
    assert row(web, "web/web-prod")["overrides"] == {}
    text = ok(web("status")).stdout
    dev_cells, prod_cells = text[text.index("web/web-d") :].split("web/web-p")
    assert dev_cells.split()[-4:-1] == ["up-to-date,", "v", "overridden"]  # NAME, STATE wrap
    assert "overridden" not in prod_cells
    item = planned(web)["web/web-dev"]
    assert (item["action"], item["applies"], item["reasons"]) == ("update", False, [HELD])
    assert ok(web("plan", "--check")).exit_code == 0  # nothing apply would do
    assert "1 instance(s) held back" in ok(web("plan")).stdout

    applied = ok(web("apply", "--yes"))
    assert "(update)" in applied.stderr
    assert "1 instance(s) held back" in applied.stderr
    assert outputs(web)["web-dev"]["ImageTag"] == "abc123"
    events = [json.loads(line) for line in ok(web("apply", "--yes", "--json")).stdout.splitlines()]
    assert f"Held back: service instance web/web-dev: {HELD}" in [
        e.get("message") for e in events if e["type"] == "note"
    ]

    assert web("plan", "--check", "--revert-overrides").exit_code == 4
    reverted = planned(web, "--revert-overrides")["web/web-dev"]
    assert (reverted["action"], reverted["applies"]) == ("update", True)
    ok(web("apply", "--revert-overrides", "--yes"))
    assert outputs(web)["web-dev"]["ImageTag"] == "latest"
    assert row(web, "web/web-dev")["overrides"] == {}
    assert planned(web)["web/web-dev"]["action"] == "none"


def test_committing_the_value_to_the_spec_makes_the_instance_up_to_date_with_no_deploy(web):
    deploy_tag(web)
    spec = web.workspace / "services" / "web.yaml"
    text = spec.read_text()
    dev = text.index("name: web-dev")
    assert "spec:" not in text[dev : text.index("name: web-prod")], text  # no inputs written yet
    entry = text.index("environment: dev", dev)
    end = text.index("\n", entry) + 1
    spec.write_text(text[:end] + "    spec:\n      image_tag: abc123\n" + text[end:])

    dev_row = row(web, "web/web-dev")
    assert (dev_row["pending"], dev_row["overrides"]) == (False, {})
    items = planned(web)
    assert (items["web/web-dev"]["action"], items["web/web-dev"]["reasons"]) == ("none", [])
    # The pipeline renders with every instance's inputs as the spec gives them: that changed.
    assert (items["web"]["action"], items["web"]["reasons"]) == ("update", ["spec changed"])
    ok(web("apply", "--yes"))
    assert outputs(web)["pipeline"]["Images"] == "abc123 latest "
    assert ok(web("plan", "--check")).exit_code == 0


def test_a_spec_changed_otherwise_is_updated_and_the_plan_says_what_it_reverts(web):
    deploy_tag(web)
    spec = web.workspace / "services" / "web.yaml"
    text = spec.read_text()
    entry = text.index("environment: dev")
    end = text.index("\n", entry) + 1
    spec.write_text(text[:end] + "    spec:\n      replicas: 2\n" + text[end:])

    item = planned(web)["web/web-dev"]
    assert (item["action"], item["applies"]) == ("update", True)
    assert item["reasons"] == [
        "spec changed",
        (
            "the update reverts --param image_tag=abc123 (spec says image_tag: the blueprint's "
            "default), which the spec does not hold"
        ),
    ]
    assert row(web, "web/web-dev")["pending"] is True
    ok(web("apply", "--yes"))
    found = outputs(web)["web-dev"]
    assert (found["ImageTag"], found["Replicas"]) == ("latest", "2")


def test_a_value_the_spec_already_gives_is_no_override(web, cloudformation):
    before = tags(cloudformation, DEV_STACK)

    result = ok(web("svc", "deploy", "web", "-i", "web-dev", "-p", "image_tag=latest", "--yes"))

    assert "the spec (" in result.stderr
    assert "holds these values already" in result.stderr
    assert tags(cloudformation, DEV_STACK) == before


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("imagetag=abc", "--param imagetag: the blueprint has no input 'imagetag'"),
        ("replicas=two", "--param replicas: input 'replicas' expects a whole number (integer)"),
        ("replicas=9", "--param replicas: "),
        ("image_tag", "--param 'image_tag': expected KEY=VALUE"),
    ],
)
def test_a_bad_key_or_value_is_exit_2_before_any_aws_call(web, monkeypatch, param, message):
    from botocore.client import BaseClient

    made: list[str] = []
    call = BaseClient._make_api_call

    def counted(self, operation, params):
        made.append(operation)
        return call(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)

    result = web("svc", "deploy", "web", "-i", "web-dev", "--param", param, "--yes")

    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"Error: {message}")
    assert made == []


# --- the starter's scaffolded workflow ----------------------------------------------------------


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning")
def test_the_starters_workflow_deploys_the_built_image_from_a_workspace_checkout(
    cli, pcli, tmp_path, monkeypatch, cloudformation
):
    """The scaffolded workflow's deploy step, run as the runner would: its working folder holds
    the source checkout (`source`) and the workspace checkout (`workspace`); the image is the
    one the `image` job hands on."""
    import shlex

    import yaml

    runner = tmp_path / "runner"
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev",
           "--repository", "acme/web", "--branch", "main", "--scaffold", str(runner / "source"),
           "--yes"))  # fmt: skip
    (runner / "workspace").symlink_to(cli.workspace)
    spec = (cli.workspace / "services" / "web.yaml").read_text()
    workflow = yaml.safe_load((runner / "source/.github/workflows/deploy.yml").read_text())
    assert workflow["jobs"]["image"]["env"]["IMAGE"] == (
        "${{ vars.PCLI_IMAGE_REPOSITORY }}:${{ github.sha }}"
    )
    job = workflow["jobs"]["deploy-dev"]
    assert job["environment"] == "dev"
    assert job["env"]["IMAGE"] == "${{ needs.image.outputs.image }}"
    image = "1234.dkr.ecr.aws/web:3f2a9c1"
    words = shlex.split(job["steps"][-2]["run"].replace("$IMAGE", image))
    assert words[0] == "pcli"

    monkeypatch.chdir(runner)
    ok(pcli(*words[1:]))

    stack = tags(cloudformation, "pcli-demo-svc-web-web-dev")
    assert stack["pcli:overrides"] == "image=1234.dkr.ecr.aws/web:3f2a9c1"
    assert (cli.workspace / "services" / "web.yaml").read_text() == spec
    assert row(cli, "web/web-dev")["overrides"] == {"image": "1234.dkr.ecr.aws/web:3f2a9c1"}
