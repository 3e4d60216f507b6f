"""Deployment records, `env/svc history` and `env/svc rollback` against a real moto server.

Records live in the artifact bucket of the stack's account and region, so history reads the same
from a fresh copy of the workspace; rollback redeploys a record's template even when its
blueprint version has left the registry.
"""

from __future__ import annotations

import json
import shutil

import boto3
import pytest

ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "HistEnvInput"
  types:
    HistEnvInput:
      type: object
      required: [team]
      properties:
        team:
          type: string
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
  format:
    openapi: "3.0.0"
  service_input_type: "HistSvcInput"
  types:
    HistSvcInput:
      type: object
      properties:
        size:
          type: integer
          default: 1
"""
SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}-{{ service_instance.inputs.size }}"
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
STACK = "pcli-demo-env-small"
BUCKET = "pcli-artifacts-123456789012-us-east-1"


@pytest.fixture
def hist_env(cli, tmp_path, write_files):
    """An environment blueprint whose topic name follows its `team` input, published as 1.0."""
    bundle = write_files(
        tmp_path / "hist-env",
        {
            "schema/schema.yaml": ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": ENV_TEMPLATE,
        },
    )
    published = cli("blueprint", "publish", str(bundle), "--name", "hist-env")
    assert published.exit_code == 0, published.output
    return "hist-env"


def deploy_twice(cli):
    """small deployed with team=core, then with team=ops; the first spec text."""
    created = cli("env", "create", "small", "-b", "hist-env", "-p", "team=core", "--yes")
    assert created.exit_code == 0, created.output
    spec = cli.workspace / "environments" / "small.yaml"
    first = spec.read_text()
    spec.write_text(first.replace("team: core", "team: ops"))
    deployed = cli("env", "deploy", "small", "--yes")
    assert deployed.exit_code == 0, deployed.output
    return first


def history(cli, *args):
    result = cli(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["records"]


def stack_template(name):
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    return cloudformation.get_template(StackName=name)["TemplateBody"]


def test_every_deployment_leaves_a_record_and_history_lists_them_newest_first(cli, hist_env):
    deploy_twice(cli)
    assert cli("env", "deploy", "small", "--yes").exit_code == 0  # no changes: no record

    records = history(cli, "env", "history", "small")

    assert [(r["outcome"], r["status"], r["version"]) for r in records] == [
        ("ok", "UPDATE_COMPLETE", "1.0"),
        ("ok", "CREATE_COMPLETE", "1.0"),
    ]
    assert [r["current"] for r in records] == [True, False]
    assert records[0]["deployment_id"] != records[1]["deployment_id"]
    assert {r["caller"] for r in records} == {"arn:aws:sts::123456789012:user/moto"}
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    tags = {t["Key"]: t["Value"] for t in stack["Tags"]}
    assert tags["pcli:deployment-id"] == records[0]["deployment_id"]
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="records/")["Contents"]]
    assert [k.rsplit("-", 5)[0].split("/")[1] for k in keys] == [STACK, STACK]
    assert all(k.endswith(f"-{records[1]['deployment_id']}.json") for k in keys[:1])
    stored = json.loads(s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read())
    assert "team: core" in stored["spec"]
    assert "small-core" in stored["template"]
    assert stored["identity"]["environment"] == "small"
    encryption = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    text = cli("env", "history", "small")
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert "OUTCOME" in lines[1]
    assert "WHO" in lines[1]
    assert f"{records[0]['deployment_id'][:8]} (current)" in lines[3]
    assert "user/moto" in lines[3]
    assert "UPDATE_COMPLETE" in lines[3]
    assert records[1]["deployment_id"][:8] in lines[4]
    assert "(current)" not in lines[4]


def test_rollback_redeploys_the_previous_template_and_writes_its_spec_back(cli, hist_env):
    first = deploy_twice(cli)
    before = history(cli, "env", "history", "small")
    spec = cli.workspace / "environments" / "small.yaml"

    rolled = cli("env", "rollback", "small", "--yes")

    assert rolled.exit_code == 0, rolled.output
    assert spec.read_text() == first
    assert "-  team: ops\n+  team: core" in rolled.stdout
    assert rolled.stdout.startswith("--- a/environments/small.yaml\n+++ b/environments/small.yaml")
    assert "small-core" in stack_template(STACK)
    after = history(cli, "env", "history", "small")
    assert len(after) == 3
    assert after[0]["deployment_id"] == before[1]["deployment_id"]
    assert after[0]["current"] is True
    # The stack now runs the first deployment: the state model sees the spec as deployed.
    status = cli("status", "--json")
    assert "spec changed" not in status.stdout


def test_rollback_works_after_the_version_left_the_registry(cli, hist_env, registry):
    deploy_twice(cli)
    shutil.rmtree(registry / "hist-env" / "1.0")

    rolled = cli("env", "rollback", "small", "--yes")

    assert rolled.exit_code == 0, rolled.output
    assert "blueprint hist-env@1.0 is no longer in the registry" in rolled.output
    assert "small-core" in stack_template(STACK)


def test_history_reads_the_same_from_a_fresh_copy_of_the_workspace(cli, hist_env, pcli, tmp_path):
    deploy_twice(cli)
    clone = tmp_path / "clone"
    shutil.copytree(cli.workspace, clone, ignore=shutil.ignore_patterns(".pcli"))

    result = pcli("--workspace", str(clone), "env", "history", "small", "--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["records"] == history(cli, "env", "history", "small")


def test_rollback_to_an_unknown_id_names_the_known_ones(cli, hist_env):
    deploy_twice(cli)
    ids = [r["deployment_id"][:8] for r in history(cli, "env", "history", "small")]

    result = cli("env", "rollback", "small", "--to", "zzzz", "--yes")

    assert result.exit_code == 2, result.output
    assert "no deployment of environment small" in result.output
    assert f"known deployment ids (newest first): {ids[0]}, {ids[1]}" in result.output


def test_rollback_to_a_named_deployment_by_prefix(cli, hist_env):
    deploy_twice(cli)
    first = history(cli, "env", "history", "small")[1]["deployment_id"]

    result = cli("env", "rollback", "small", "--to", first[:6], "--yes")

    assert result.exit_code == 0, result.output
    assert "small-core" in stack_template(STACK)


def test_rollback_with_no_earlier_deployment_says_so(cli, hist_env):
    created = cli("env", "create", "small", "-b", "hist-env", "-p", "team=core", "--yes")
    assert created.exit_code == 0, created.output

    result = cli("env", "rollback", "small", "--yes")

    assert result.exit_code == 1, result.output
    assert "has no successful deployment before the one it runs" in result.output


@pytest.fixture
def hist_svc(cli, hist_env, tmp_path, write_files):
    bundle = write_files(
        tmp_path / "hist-svc",
        {
            "schema/schema.yaml": SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": SVC_TEMPLATE,
            ".compatible-envs": "hist-env:1\n",
        },
    )
    published = cli("blueprint", "publish", str(bundle), "--name", "hist-svc")
    assert published.exit_code == 0, published.output
    return "hist-svc"


def test_service_instance_history_and_rollback_restore_the_instance_entry(cli, hist_svc):
    assert (
        cli("env", "create", "small", "-b", "hist-env", "-p", "team=core", "--yes").exit_code == 0
    )
    created = cli(
        "svc", "create", "web", "-b", "hist-svc", "-i", "web-a=small", "-p", "size=1", "--yes"
    )
    assert created.exit_code == 0, created.output
    spec = cli.workspace / "services" / "web.yaml"
    first = spec.read_text()
    spec.write_text(first.replace("size: 1", "size: 2"))
    assert cli("svc", "deploy", "web", "--yes").exit_code == 0

    records = history(cli, "svc", "history", "web", "--instance", "web-a")
    assert [(r["item"], r["kind"], r["outcome"]) for r in records] == [
        ("web/web-a", "service-instance", "ok"),
        ("web/web-a", "service-instance", "ok"),
    ]
    assert history(cli, "svc", "history", "web") == records  # no pipeline records

    rolled = cli("svc", "rollback", "web", "--yes")  # the only instance

    assert rolled.exit_code == 0, rolled.output
    assert spec.read_text() == first
    assert "-      size: 2\n+      size: 1" in rolled.stdout
    assert "web-web-a-1" in stack_template("pcli-demo-svc-web-web-a")


def test_a_record_that_cannot_be_written_is_a_warning_not_a_failed_deploy(
    cli, hist_env, monkeypatch
):
    """S3 refuses the record (botocore's before-call hook answers PutObject with AccessDenied,
    as Stubber would): the deployment still succeeds, and says the record is missing."""
    from botocore.awsrequest import AWSResponse

    from protoncli.aws.session import SessionFactory

    def refuse(**_):
        error = {"Error": {"Code": "AccessDenied", "Message": "no records here"}}
        return AWSResponse("https://s3", 403, {}, None), {
            **error,
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    client = SessionFactory.client

    def hooked(factory, service, target):
        made = client(factory, service, target)
        if service == "s3":
            made.meta.events.register("before-call.s3.PutObject", refuse)
        return made

    monkeypatch.setattr(SessionFactory, "client", hooked)

    created = cli("env", "create", "small", "-b", "hist-env", "-p", "team=core", "--yes")

    assert created.exit_code == 0, created.output
    assert "the deployment record could not be written: PutObject failed" in created.output
    assert "Deployed environment small: CREATE_COMPLETE" in created.output
