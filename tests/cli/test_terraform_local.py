"""`pcli` running Terraform itself (provisioning: local) against a real moto server, end to end.

The starter tf-vpc-env is created, deployed again, changed and deleted; a CloudFormation service
(lambda-api-svc) runs in it on its outputs; a Terraform apply that fails and a missing terraform
are reported. Terraform takes the AWS provider from the local filesystem mirror (no registry is
reachable): the module is skipped where terraform or the mirror is missing.

Creating the VPC takes Terraform most of a minute on moto (the AWS provider waits 10 s for a
VPC's and a subnet's attributes), so the tests of it share one deployment (`tf`: session-scoped,
in its own workspace, PCLI_HOME and moto server process, so the moto resets of other tests run
between them do not touch it); the one that deletes it runs last. Under pytest-xdist each worker
that is given some of these tests makes the deployment once. The tests that need no VPC come
first, on the moto server of this process, reset for each.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from tests.unit.starters.test_starter_terraform import AWS_PROVIDER, CLI_CONFIG, PROVIDER_MIRROR
from typer.testing import CliRunner, Result

from protoncli.cli.app import app
from protoncli.provision.terraform import TERRAFORM_VERSIONS

TERRAFORM = shutil.which("terraform")
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's
BUCKET = f"pcli-artifacts-{ACCOUNT}-{REGION}"
STACK = "pcli-demo-env-dev"

pytestmark = [
    pytest.mark.skipif(
        TERRAFORM is None or not AWS_PROVIDER.is_dir(),
        reason=f"terraform or the AWS provider mirror ({PROVIDER_MIRROR}) is missing",
    ),
    pytest.mark.slow,
    pytest.mark.terraform,
]

# A Terraform environment whose apply fails: its one resource's command exits 3.
BROKEN_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "BrokenEnvironmentInput"
  types:
    BrokenEnvironmentInput:
      type: object
      properties:
        label:
          type: string
          default: "broken"
"""
BROKEN_MANIFEST = """\
infrastructure:
  templates:
    - file: "*"
      rendering_engine: hcl
      template_language: terraform
"""
BROKEN_MAIN = """\
resource "terraform_data" "setup" {
  input = var.environment.inputs.label

  provisioner "local-exec" {
    command = "echo 'quota of widgets exceeded' >&2; exit 3"
  }
}
"""


def resource_lines(output: str) -> list[str]:
    """The per-resource progress lines of a stack's output, without the stack's name."""
    prefix = f"{STACK}  "
    return [line.removeprefix(prefix) for line in output.splitlines() if line.startswith(prefix)]


def change_rows(output: str) -> list[list[str]]:
    """The rows of the change table(s): [ACTION, LOGICAL ID, TYPE, REPLACEMENT]."""
    rows = []
    for line in output.splitlines():
        words = line.split()
        if len(words) == 4 and words[0] in {"Add", "Modify", "Remove"}:
            rows.append(words)
    return rows


def write_cli_config(folder: Path) -> Path:
    path = folder / "cli.tfrc"
    path.write_text(CLI_CONFIG)
    return path


def reset(moto_url: str) -> None:
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")  # noqa: S310 - local moto server
    with urllib.request.urlopen(request) as response:  # noqa: S310 - local moto server
        response.read()


def client(service: str, moto_url: str) -> Any:
    return boto3.client(service, endpoint_url=moto_url, region_name=REGION)


def bucket_keys(moto_url: str) -> list[str]:
    listed = client("s3", moto_url).list_objects_v2(Bucket=BUCKET)
    return [item["Key"] for item in listed.get("Contents", [])]


# --- without the VPC: on the moto server reset for each test -------------------------------------


@pytest.fixture
def tf_cli(cli: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The `cli` fixture (a fresh workspace demo on moto), Terraform on the provider mirror."""
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(write_cli_config(tmp_path)))
    return cli


def test_a_failed_apply_names_the_resource_and_the_message_and_the_item_is_failed(
    tf_cli, tmp_path, write_files
):
    bundle = write_files(
        tmp_path / "broken-env",
        {
            "schema/schema.yaml": BROKEN_SCHEMA,
            "infrastructure/manifest.yaml": BROKEN_MANIFEST,
            "infrastructure/main.tf": BROKEN_MAIN,
        },
    )
    published = tf_cli("blueprint", "publish", str(bundle), "--name", "broken-env")
    assert published.exit_code == 0, published.output

    result = tf_cli("env", "create", "qa", "--blueprint", "broken-env", "--yes")

    assert result.exit_code == 3, result.output
    assert "Add     terraform_data.setup  terraform_data" in result.output
    failed = [line for line in result.output.splitlines() if "terraform_data.setup" in line]
    assert any("CREATE_FAILED" in line for line in failed), result.output
    assert "quota of widgets exceeded" in result.output
    assert "Deployed environment" not in result.output
    status = json.loads(tf_cli("status", "--json").stdout)
    (item,) = status["resources"]
    assert (item["name"], item["provisioning"]) == ("qa", "terraform")
    assert item["stack_status"].endswith("_FAILED"), item
    shown = tf_cli("status")
    assert "1 failed" in shown.output, shown.output


def test_a_missing_terraform_is_refused_with_the_versions_pcli_needs_and_nothing_deployed(
    tf_cli, monkeypatch, moto_url
):
    monkeypatch.setenv("PCLI_TERRAFORM", "/nonexistent/terraform")

    result = tf_cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes")

    assert result.exit_code == 1, result.output
    assert "Error: PCLI_TERRAFORM names /nonexistent/terraform" in result.output
    assert f"pcli needs Terraform {TERRAFORM_VERSIONS}" in result.output
    assert "Deployed environment" not in result.output
    assert (
        client("ec2", moto_url).describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["dev"]}])[
            "Vpcs"
        ]
        == []
    )
    status = json.loads(tf_cli("status", "--json").stdout)
    assert [(r["name"], r["deployed"]) for r in status["resources"]] == [("dev", False)]


# --- the starter tf-vpc-env, deployed once for the tests below -----------------------------------


@dataclass
class Deployed:
    """The shared deployment: its workspace, how to run pcli there, what the create printed."""

    workspace: Path
    moto_url: str
    env: dict[str, str]  # the environment every command of it runs with
    created: Result

    def __call__(self, *args: str) -> Result:
        registry = self.workspace.parent / "reg"
        return CliRunner().invoke(
            app, ["--registry", str(registry), "--workspace", str(self.workspace), *args]
        )

    def outputs(self) -> dict[str, str]:
        shown = self("env", "outputs", "dev", "--json")
        assert shown.exit_code == 0, shown.output
        document = json.loads(shown.stdout)
        return dict(document.get("outputs", document))


@pytest.fixture(scope="session")
def own_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server in a process of its own (pcli's sandbox server): the other tests of this
    worker reset the moto of this process between these tests, never this one's."""
    folder = tmp_path_factory.mktemp("tf-local-moto")
    ready = folder / "ready.json"
    command = [sys.executable, "-u", "-m", "protoncli.sandbox.server", "--port", "0"]
    with (folder / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--ready-file", str(ready)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        url = None
        while url is None and time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                url = json.loads(ready.read_text())["url"]
            time.sleep(0.05)
        assert url is not None, (folder / "server.log").read_text()
        reset(url)  # answers once it is up
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def deployment(own_moto: str, tmp_path_factory: pytest.TempPathFactory) -> Deployed:
    """`pcli env create dev --blueprint tf-vpc-env --yes` in a workspace of its own, on a moto
    server of its own: made once per worker, whatever runs between these tests."""
    moto_server_url = own_moto
    root = tmp_path_factory.mktemp("tf-local")
    home = root / "pcli-home"
    home.mkdir()
    env = {
        "PCLI_HOME": str(home),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_ENDPOINT_URL": moto_server_url,
        "TF_CLI_CONFIG_FILE": str(write_cli_config(root)),
        "NO_COLOR": "1",
        "COLUMNS": "100",
    }
    with pytest.MonkeyPatch.context() as patch:
        for key in list(os.environ):
            if key.startswith(("AWS_", "PCLI_")) or key in {"CI", "FORCE_COLOR", "TERM_PROGRAM"}:
                patch.delenv(key, raising=False)
        for key, value in env.items():
            patch.setenv(key, value)
        workspace = root / "ws"
        made = CliRunner().invoke(
            app, ["--registry", str(root / "reg"), "init", str(workspace), "--name", "demo"]
        )
        assert made.exit_code == 0, made.output
        deployed = Deployed(workspace, moto_server_url, env, created=None)  # type: ignore[arg-type]
        deployed.created = deployed("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes")
    return deployed  # each test puts its settings back (`tf`)


@pytest.fixture
def tf(deployment: Deployed, monkeypatch: pytest.MonkeyPatch) -> Deployed:
    """The shared deployment, with the settings it was made with (each test starts with fresh
    ones: PCLI_HOME and the rest are put back)."""
    for key, value in deployment.env.items():
        monkeypatch.setenv(key, value)
    return deployment


def test_the_terraform_starter_through_its_life_with_a_cloudformation_service(tf):
    """One environment, created once (about 30 s, most of it the AWS provider's own waits),
    then each step in order; one test, so that parallel workers never make it twice."""
    check_env_create_shows_changes_and_resources_and_deploys_the_vpc(tf)
    check_status_shows_the_environment_deployed_and_terraform_state_in_the_bucket(tf)
    check_env_deploy_again_changes_nothing(tf)
    check_env_history_lists_the_deployments(tf)
    check_a_changed_input_is_pending_in_plan_and_apply_modifies_the_log_group(tf)
    check_a_cloudformation_service_runs_on_its_outputs_and_holds_off_the_delete(tf)


def check_env_create_shows_changes_and_resources_and_deploys_the_vpc(tf: Deployed) -> None:
    created = tf.created

    assert created.exit_code == 0, created.output
    assert created.stdout == ""
    output = created.output
    rows = change_rows(output)
    assert ["Add", "aws_vpc.this", "aws_vpc", "-"] in rows
    assert ["Add", "aws_cloudwatch_log_group.this", "aws_cloudwatch_log_group", "-"] in rows
    assert len(rows) == 8  # VPC, gateway, routes, 2 subnets and links, logs
    assert f"{STACK}  Change set for environment dev: 8 change(s)" in output
    lines = resource_lines(output)
    assert "aws_vpc.this  aws_vpc  CREATE_IN_PROGRESS" in lines
    assert any(line.startswith("aws_vpc.this  aws_vpc  CREATE_COMPLETE") for line in lines)
    assert output.splitlines()[-1] == (f"Deployed environment dev: CREATE_COMPLETE ({STACK}).")

    outputs = tf.outputs()
    assert set(outputs) >= {"vpc_id", "public_subnet_ids", "LogGroupName"}
    assert outputs["LogGroupName"] == "/pcli/dev"
    assert len(outputs["public_subnet_ids"].split(",")) == 2  # the default count
    ec2 = client("ec2", tf.moto_url)
    (vpc,) = ec2.describe_vpcs(VpcIds=[outputs["vpc_id"]])["Vpcs"]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    tags = {tag["Key"]: tag["Value"] for tag in vpc["Tags"]}
    assert (tags["Name"], tags["pcli:environment"]) == ("dev", "dev")  # proton_tags, as defaults
    subnets = ec2.describe_subnets(SubnetIds=outputs["public_subnet_ids"].split(","))["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert {s["VpcId"] for s in subnets} == {outputs["vpc_id"]}
    groups = client("logs", tf.moto_url).describe_log_groups(logGroupNamePrefix="/pcli/dev")
    assert [g["retentionInDays"] for g in groups["logGroups"]] == [14]


def check_status_shows_the_environment_deployed_and_terraform_state_in_the_bucket(
    tf: Deployed,
) -> None:
    status = tf("status", "--json")

    assert status.exit_code == 0, status.output
    (item,) = json.loads(status.stdout)["resources"]
    assert item["name"] == "dev"
    assert (item["blueprint"], item["deployed_version"]) == ("tf-vpc-env", "1.0")
    assert (item["provisioning"], item["deployed"]) == ("terraform", True)
    assert item["stack_status"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
    assert item["version_status"] == "up-to-date"
    keys = bucket_keys(tf.moto_url)
    assert f"terraform/{STACK}/terraform.tfstate" in keys
    assert f"provisioned/{STACK}.json" in keys
    assert not [key for key in keys if key.endswith(".tflock")], keys


def check_env_deploy_again_changes_nothing(tf: Deployed) -> None:
    result = tf("env", "deploy", "dev", "--yes")

    assert result.exit_code == 0, result.output
    assert "No changes" in result.output
    assert change_rows(result.output) == []
    assert not [line for line in resource_lines(result.output) if "_IN_PROGRESS" in line]


def check_env_history_lists_the_deployments(tf: Deployed) -> None:
    result = tf("env", "history", "dev")

    assert result.exit_code == 0, result.output
    assert "CREATE_COMPLETE" in result.output
    assert "(current)" in result.output
    shown = tf("env", "history", "dev", "--json")
    assert shown.exit_code == 0, shown.output
    records = json.loads(shown.stdout)["records"]
    created = records[-1]  # newest first: the creation is the oldest
    assert (created["item"], created["kind"], created["stack"]) == ("dev", "environment", STACK)
    assert (created["outcome"], created["status"]) == ("ok", "CREATE_COMPLETE")
    assert (created["blueprint"], created["version"]) == ("tf-vpc-env", "1.0")
    assert [r["current"] for r in records].count(True) == 1
    assert all(r["outcome"] == "ok" for r in records)


def check_a_changed_input_is_pending_in_plan_and_apply_modifies_the_log_group(tf: Deployed) -> None:
    spec = tf.workspace / "environments" / "dev.yaml"
    document = yaml.safe_load(spec.read_text())
    document["spec"] = {**(document.get("spec") or {}), "log_retention_days": 30}
    spec.write_text(yaml.safe_dump(document, sort_keys=False))

    status = json.loads(tf("status", "--json").stdout)
    planned = tf("plan")
    plan = json.loads(tf("plan", "--json").stdout)
    previewed = tf("plan", "--changes")  # Terraform's plan, run here: nothing applied
    applied = tf("apply", "--yes")

    (item,) = status["resources"]
    assert (item["name"], item["pending"], item["pending_reasons"]) == (
        "dev", True, ["spec changed"]
    )  # fmt: skip
    assert planned.exit_code == 0, planned.output
    assert "Plan: 0 to create, 1 to update, 0 to delete, 0 unchanged." in planned.output
    assert [(i["action"], i["name"], i["reasons"]) for i in plan["items"]] == [
        ("update", "dev", ["spec changed"])
    ]
    assert applied.exit_code == 0, applied.output
    assert [row[:3] for row in change_rows(applied.output)] == [
        ["Modify", "aws_cloudwatch_log_group.this", "aws_cloudwatch_log_group"]
    ], applied.output
    assert "aws_cloudwatch_log_group.this  aws_cloudwatch_log_group  UPDATE_COMPLETE" in (
        applied.output
    )
    assert previewed.exit_code == 0, previewed.output
    assert "aws_cloudwatch_log_group.this" in previewed.output
    assert "Modify" in previewed.output
    groups = client("logs", tf.moto_url).describe_log_groups(logGroupNamePrefix="/pcli/dev")
    assert [g["retentionInDays"] for g in groups["logGroups"]] == [30]

    document["spec"]["log_retention_days"] = 14
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    streamed = tf("env", "deploy", "dev", "--yes", "--json")
    assert streamed.exit_code == 0, streamed.output
    events = [json.loads(line) for line in streamed.stdout.splitlines()]
    (changes,) = [event for event in events if event["type"] == "changes"]
    assert [(c["action"], c["logical_id"]) for c in changes["changes"]] == [
        ("Modify", "aws_cloudwatch_log_group.this")
    ]
    resources = [e["resource"] for e in events if e["type"] == "resource"]
    assert [(r["logical_id"], r["status"]) for r in resources] == [
        ("aws_cloudwatch_log_group.this", "UPDATE_IN_PROGRESS"),
        ("aws_cloudwatch_log_group.this", "UPDATE_COMPLETE"),
    ]
    assert (events[-1]["type"], events[-1]["ok"]) == ("result", True)


def check_a_cloudformation_service_runs_on_its_outputs_and_holds_off_the_delete(
    tf: Deployed,
) -> None:
    created = tf("svc", "create", "api", "--blueprint", "lambda-api-svc", "-i", "api-dev=dev",
                 "--yes")  # fmt: skip

    assert created.exit_code == 0, created.output
    cloudformation = client("cloudformation", tf.moto_url)
    template = cloudformation.get_template(StackName="pcli-demo-svc-api-api-dev")["TemplateBody"]
    assert 'LogGroup: "/pcli/dev"' in str(template)

    refused = tf("env", "delete", "dev", "--yes")
    assert refused.exit_code == 2, refused.output
    assert "api-dev" in refused.output
    assert tf.outputs()["vpc_id"]

    assert tf("svc", "delete", "api", "--yes").exit_code == 0
    deleted = tf("env", "delete", "dev", "--yes")

    assert deleted.exit_code == 0, deleted.output
    vpcs = client("ec2", tf.moto_url).describe_vpcs(
        Filters=[{"Name": "tag:Name", "Values": ["dev"]}]
    )["Vpcs"]
    assert vpcs == []
    status = tf("status")
    assert status.exit_code == 0, status.output
    assert "nothing" in status.output.lower(), status.output
