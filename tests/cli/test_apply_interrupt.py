"""Ctrl-C and SIGTERM during `pcli apply`: every wait in flight ends at once, the command says
what goes on in AWS and exits 130; running it again goes on from what AWS says.

Two environments whose stacks moto leaves in CREATE_IN_PROGRESS for good (a bucket whose name
is taken) keep apply waiting in two threads; the signal goes to a real pcli process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

import boto3
import pexpect
import pytest
from botocore.exceptions import ClientError
from tests.cli.test_component_status_commands import TINY_ENV

PCLI = str(Path(sys.executable).with_name("pcli"))
STUCK = json.dumps(
    {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "taken"}}}}
)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def stuck(cli, registry, tmp_path, write_files, moto_url):
    """Environments one and two declared; their stacks stuck in CREATE_IN_PROGRESS."""
    ok(
        cli(
            "blueprint",
            "publish",
            str(write_files(tmp_path / "env", TINY_ENV)),
            "--name",
            "tiny-env",
        )
    )
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket="taken")
    cloudformation = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")
    for name in ("one", "two"):
        ok(cli("env", "create", name, "-b", "tiny-env", "--no-deploy"))
        tags = {"pcli:workspace": "demo", "pcli:kind": "environment", "pcli:environment": name}
        with suppress(ClientError):  # moto answers with an error and keeps the stack
            cloudformation.create_stack(
                StackName=f"pcli-demo-env-{name}",
                TemplateBody=STUCK,
                Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )
    statuses = {
        s["StackName"]: s["StackStatus"] for s in cloudformation.describe_stacks()["Stacks"]
    }
    assert statuses["pcli-demo-env-one"] == "CREATE_IN_PROGRESS"
    return ["--registry", str(registry), "--workspace", str(cli.workspace)]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_every_wait_of_apply_at_once(stuck, signum):
    process = subprocess.Popen(
        [PCLI, *stuck, "apply", "--yes"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CI": "1"},
    )
    try:
        deadline = time.monotonic() + 30
        seen = ""
        assert process.stderr is not None
        while "CREATE_IN_PROGRESS" not in seen or seen.count("waiting") < 2:
            assert time.monotonic() < deadline, seen
            seen += process.stderr.readline()
        started = time.monotonic()
        process.send_signal(signum)
        _, rest = process.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        process.kill()
        process.communicate()

    assert process.returncode == 130, seen + rest
    assert "Interrupted. Deployments already started go on in AWS" in rest
    assert took < 5, f"the waits went on for {took:.1f} s after the signal"


def spawn(*args: str) -> pexpect.spawn:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    return pexpect.spawn(
        PCLI, list(args), env={**env, "TERM": "xterm"}, encoding="utf-8", timeout=30,
        dimensions=(40, 160),
    )  # fmt: skip


def test_apply_in_a_terminal_shows_the_plan_and_asks_once(cli, registry, tmp_path, write_files):
    ok(
        cli(
            "blueprint",
            "publish",
            str(write_files(tmp_path / "env", TINY_ENV)),
            "--name",
            "tiny-env",
        )
    )
    for name in ("one", "two"):
        ok(cli("env", "create", name, "-b", "tiny-env", "--no-deploy"))
    flags = ["--registry", str(registry), "--workspace", str(cli.workspace)]

    declined = spawn(*flags, "apply")
    declined.expect("Plan: 2 to create")
    declined.expect(r"Apply this plan\? \[y/N\]")
    declined.sendline("n")
    declined.expect("Nothing was changed.")
    declined.expect(pexpect.EOF)
    declined.close()
    assert declined.exitstatus == 1

    accepted = spawn(*flags, "apply")
    accepted.expect(r"Apply this plan\? \[y/N\]")
    accepted.sendline("y")
    accepted.expect("Applied: 2 item")
    accepted.expect(pexpect.EOF)
    accepted.close()
    assert accepted.exitstatus == 0
    assert "Deploy these changes?" not in accepted.before  # one question for the whole plan
    assert ok(cli("plan", "--check")).exit_code == 0
