"""An endpoint that accepts connections and never answers: each attempt gives up after the read
timeout (a setting), the user's AWS_MAX_ATTEMPTS says how many attempts, and the error says what
went unanswered and how to allow more time. By default it comes within a minute."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from botocore.hooks import HierarchicalEmitter

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.session import SessionFactory
from protoncli.aws.slowcalls import SlowCalls
from protoncli.aws.target import AwsTarget
from protoncli.config import SETTINGS_BY_KEY
from protoncli.errors import AwsError, ExitCode

PCLI = str(Path(sys.executable).with_name("pcli"))


@pytest.fixture
def silent() -> Iterator[tuple[str, list[socket.socket]]]:
    """A TCP endpoint that accepts every connection and never answers; its URL and the
    connections it accepted."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not done.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}", accepted
    finally:
        done.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()


def test_each_attempt_gives_up_after_the_read_timeout(silent, monkeypatch):
    url, accepted = silent
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    sessions = SessionFactory(read_timeout=0.5)
    gateway = CloudFormationGateway(
        sessions.client("cloudformation", AwsTarget(region="us-east-1", endpoint_url=url))
    )
    started = time.monotonic()

    with pytest.raises(AwsError) as caught:
        gateway.describe_all()

    took = time.monotonic() - started
    assert took < 5, f"{took:.1f} s for two attempts of 0.5 s"
    assert len(accepted) == 2  # the user's AWS_MAX_ATTEMPTS: two attempts, each a connection
    assert caught.value.message.startswith(
        f"DescribeStacks failed for all stacks: no answer from {url}/ to DescribeStacks: it "
        "accepts connections but did not answer in time"
    )
    assert "--read-timeout" in (caught.value.hint or "")


def test_a_call_still_going_after_half_the_read_timeout_is_said_once(silent, monkeypatch):
    url, _ = silent
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    said: list[str] = []
    sessions = SessionFactory(read_timeout=2, on_slow=said.append)
    gateway = CloudFormationGateway(
        sessions.client("cloudformation", AwsTarget(region="us-east-1", endpoint_url=url))
    )

    with pytest.raises(AwsError):
        gateway.describe_all()

    assert len(said) == 1, said
    assert said[0].startswith(
        "Still waiting for CloudFormation DescribeStacks (us-east-1) after 1 s: AWS or the "
        "network is slow. Each attempt gives up after 2 s (--read-timeout)"
    )


def test_calls_that_end_in_time_are_not_said_and_a_slow_one_once():
    now = [0.0]
    said: list[str] = []
    calls = SlowCalls(said.append, after=5, read_timeout=10, clock=lambda: now[0])
    real = SessionFactory().client("sts", AwsTarget(region="us-east-1"))
    events = HierarchicalEmitter()  # the client's events alone, without botocore's handlers
    calls.watch(SimpleNamespace(meta=SimpleNamespace(events=events, region_name="us-east-1")))
    model = real.meta.service_model.operation_model("GetCallerIdentity")

    events.emit("before-call.sts.GetCallerIdentity", model=model)
    now[0] = 4.9
    calls.look()
    events.emit("after-call.sts.GetCallerIdentity", model=model)
    now[0] = 60
    calls.look()
    assert said == []

    events.emit("before-call.sts.GetCallerIdentity", model=model)
    now[0] = 65
    calls.look()
    calls.look()
    assert said == [
        (
            "Still waiting for STS GetCallerIdentity (us-east-1) after 5 s: AWS or the network "
            "is slow. Each attempt gives up after 10 s (--read-timeout), and AWS_MAX_ATTEMPTS "
            "says how many are made."
        )
    ]


def test_the_defaults_give_up_within_a_minute():
    client = SessionFactory().client("cloudformation", AwsTarget(region="us-east-1"))
    config = client.meta.config
    assert config.read_timeout == SETTINGS_BY_KEY["read_timeout"].default == 10
    assert config.connect_timeout == SETTINGS_BY_KEY["connect_timeout"].default == 5
    attempts = 5  # pcli's default, AWS_MAX_ATTEMPTS unset
    most_backoff = 1 + 2 + 4 + 8  # standard retries: up to 2**n s before attempt n + 1
    assert attempts * config.read_timeout + most_backoff < 70
    assert attempts * config.read_timeout <= 50


def test_the_timeouts_reach_every_command_from_flags_and_variables(silent, tmp_path):
    url, _ = silent
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": url,
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "PCLI_READ_TIMEOUT": "0.5",
    }
    subprocess.run(
        [PCLI, "init", str(tmp_path / "ws"), "--name", "demo", "--region", "us-east-1"],
        env=env, capture_output=True, check=True,
    )  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(
        [PCLI, "--workspace", str(tmp_path / "ws"), "status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert time.monotonic() - started < 15, done.stderr
    assert done.returncode == ExitCode.ERROR, done.stderr
    assert f"no answer from {url}/ to DescribeStacks" in done.stderr
    assert "Still waiting for CloudFormation DescribeStacks (us-east-1)" in done.stderr
    assert "Hint: " in done.stderr
    assert "--read-timeout" in done.stderr

    bad = subprocess.run(
        [PCLI, "--read-timeout", "0", "--workspace", str(tmp_path / "ws"), "status"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert bad.returncode == ExitCode.USAGE, bad.stderr
    assert "expected a number of seconds" in bad.stderr
