"""Terraform run by pcli in a real terminal and under signals: the live view shows the plan
above its question and each resource as it goes; SIGTERM and Ctrl-C while `terraform apply`
runs stop Terraform the way it asks to be (it finishes what is in flight and releases its state
lock), pcli exits 130 saying so, the item shows the interrupted deployment, and the next deploy
goes on from Terraform's state; a lock another run left is named with its holder.

The blueprint uses Terraform's built-in `terraform_data` only (no provider to install), with a
`local-exec` pause as long as its input says; its state lives in the sandbox's S3 (moto).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from tests.cli import test_live_view_pty as live
from tests.cli.test_live_view_pty import QUESTION, ended, seen

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="no terraform")

PCLI = str(Path(sys.executable).with_name("pcli"))
terminal = live.terminal  # the live view tests' 80 x 24 pseudo-terminal (a fixture)
STACK = "pcli-demo-env-slow"
SLOW_ENV = {
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "SlowInput"
  types:
    SlowInput:
      type: object
      properties:
        pause:
          type: integer
          description: "Seconds the apply waits"
          default: 0
""",
    "infrastructure/manifest.yaml": """\
infrastructure:
  templates:
    - file: "*"
      rendering_engine: hcl
      template_language: terraform
""",
    "infrastructure/main.tf": """\
resource "terraform_data" "slow" {
  input = var.environment.inputs.pause

  provisioner "local-exec" {
    command = "sleep ${var.environment.inputs.pause}"
  }
}

output "paused" {
  value = terraform_data.slow.output
}
""",
}


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def slow(cli, registry, tmp_path, write_files):
    bundle = write_files(tmp_path / "slow-env", SLOW_ENV)
    ok(cli("blueprint", "publish", str(bundle), "--name", "slow-env"))
    ok(cli("env", "create", "slow", "-b", "slow-env", "--param", "pause=40", "--no-deploy"))
    return ["--registry", str(registry), "--workspace", str(cli.workspace)]


def bucket_keys(moto_url: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("pcli-")]
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_terraform_releases_its_lock_and_the_next_deploy_goes_on(
    cli, slow, moto_url, signum
):
    process = subprocess.Popen(
        [PCLI, *slow, "env", "deploy", "slow", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    )
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + 90
    while "terraform_data.slow  terraform_data  CREATE_IN_PROGRESS" not in seen:
        assert time.monotonic() < deadline, seen
        line = process.stderr.readline()
        assert line, seen
        seen += line
    started = time.monotonic()
    process.send_signal(signum)
    _, rest = process.communicate(timeout=60)
    stopped = time.monotonic() - started

    assert process.returncode == 130, seen + rest
    assert stopped < 20, stopped  # not the 40 s pause
    assert "terraform apply was stopped" in rest
    assert "Terraform released its state lock" in rest
    keys = bucket_keys(moto_url)
    assert f"terraform/{STACK}/terraform.tfstate" in keys
    assert not [key for key in keys if key.endswith(".tflock")], keys
    (row,) = json.loads(ok(cli("status", "--json")).stdout)["resources"]
    assert row["stack_status"] == "CREATE_FAILED"
    assert "was stopped" in row["status_reason"]

    spec = cli.workspace / "environments" / "slow.yaml"
    spec.write_text(spec.read_text().replace("pause: 40", "pause: 0"))
    again = ok(cli("env", "deploy", "slow", "--yes"))
    assert "Deployed environment slow" in again.output
    (row,) = json.loads(ok(cli("status", "--json")).stdout)["resources"]
    assert row["stack_status"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    assert json.loads(ok(cli("env", "outputs", "slow", "--json")).stdout) == {"paused": "0"}


def test_a_lock_left_by_another_run_names_its_holder_and_changes_nothing(cli, slow, moto_url):
    spec = cli.workspace / "environments" / "slow.yaml"
    spec.write_text(spec.read_text().replace("pause: 40", "pause: 0"))
    ok(cli("env", "deploy", "slow", "--yes"))
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    (bucket,) = [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("pcli-")]
    lock = {
        "ID": "5d3e1c0a-1111-2222-3333-444455556666",
        "Operation": "OperationTypeApply",
        "Info": "",
        "Who": "ci@runner-7",
        "Version": "1.11.4",
        "Created": "2026-12-07T06:00:00Z",
        "Path": f"{bucket}/terraform/{STACK}/terraform.tfstate",
    }
    s3.put_object(
        Bucket=bucket, Key=f"terraform/{STACK}/terraform.tfstate.tflock", Body=json.dumps(lock)
    )
    spec.write_text(spec.read_text().replace("pause: 0", "pause: 1"))

    refused = cli("env", "deploy", "slow", "--yes")

    assert refused.exit_code == 1, refused.output
    assert "ci@runner-7" in refused.output
    assert "terraform force-unlock 5d3e1c0a-1111-2222-3333-444455556666" in refused.output
    (row,) = json.loads(ok(cli("status", "--json")).stdout)["resources"]
    assert row["stack_status"] == "CREATE_COMPLETE"  # what ran before is still what runs
    assert json.loads(ok(cli("env", "outputs", "slow", "--json")).stdout) == {"paused": "0"}


def test_the_live_view_shows_the_plan_above_its_question_then_each_resource(cli, slow, terminal):
    spec = cli.workspace / "environments" / "slow.yaml"
    spec.write_text(spec.read_text().replace("pause: 40", "pause: 1"))
    child = terminal(*slow, "env", "deploy", "slow")

    child.expect(re.escape(QUESTION))
    asked = seen(child)
    child.send("y\r")

    assert ended(child) == 0
    assert asked[-4:] == [
        f"Changes to environment slow ({STACK}):",
        "  ACTION  LOGICAL ID           TYPE            REPLACEMENT",
        "  Add     terraform_data.slow  terraform_data  -",
        QUESTION.rstrip(),
    ]
    lines = seen(child)
    assert any(
        line.strip().startswith("terraform_data.slow") and "CREATE_COMPLETE" in line
        for line in lines
    ), lines
    assert lines[-1] == f"Deployed environment slow: CREATE_COMPLETE ({STACK})."


def test_terraform_runs_as_the_environments_account_and_keeps_its_state_there(
    cli, registry, tmp_path, write_files, moto_url
):
    prod = "111111111111"
    bundle = write_files(tmp_path / "slow-env", SLOW_ENV)
    ok(cli("blueprint", "publish", str(bundle), "--name", "slow-env"))
    role = f"arn:aws:iam::{prod}:role/pcli-deploy"
    ok(cli("account", "add", "prod", "--id", prod, "--role-arn", role))

    ok(cli("env", "create", "acct", "-b", "slow-env", "--account", "prod", "--yes"))

    sts = boto3.client("sts", endpoint_url=moto_url, region_name="us-east-1")
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{prod}:role/reader", RoleSessionName="test")
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id=creds["Credentials"]["AccessKeyId"],
        aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
        aws_session_token=creds["Credentials"]["SessionToken"],
    )
    listed = s3.list_objects_v2(Bucket=f"pcli-artifacts-{prod}-us-east-1")
    keys = {item["Key"] for item in listed.get("Contents", [])}
    assert "terraform/pcli-demo-env-acct/terraform.tfstate" in keys
    assert "provisioned/pcli-demo-env-acct.json" in keys
    own = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    assert not [b for b in own.list_buckets()["Buckets"] if b["Name"].startswith("pcli-")]
    (row,) = json.loads(ok(cli("status", "--json")).stdout)["resources"]
    assert (row["account"], row["stack_status"]) == ("prod", "CREATE_COMPLETE")
