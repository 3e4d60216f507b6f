"""`pcli sandbox start|status|stop` with a real background server, as a user runs them."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protoncli.cli.commands.sandbox import app as sandbox_app
from protoncli.sandbox import manager

STATE_KEYS = {
    "running",
    "url",
    "pid",
    "port",
    "started_at",
    "problem",
    "state_file",
    "log_file",
    "environment",
}


def run(*args: str):
    return CliRunner().invoke(sandbox_app, list(args))


@pytest.fixture
def cleanup(isolated_env):
    yield
    manager.stop()


def test_start_status_stop_as_text_and_json(cleanup):
    started = run("start", "--json")
    assert started.exit_code == 0, started.output
    first = json.loads(started.stdout)
    assert set(first) == {*STATE_KEYS, "already_running"}
    url = first["url"]
    assert url == f"http://127.0.0.1:{first['port']}"
    assert (first["running"], first["already_running"], first["problem"]) == (True, False, None)
    assert first["environment"] == {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    assert first["state_file"] == str(manager.state_file())

    again = run("start")
    assert again.exit_code == 0
    pid = first["pid"]
    assert again.stdout.splitlines()[0] == f"Sandbox is already running at {url} (pid {pid})."

    shown = run("status")
    assert shown.exit_code == 0
    lines = shown.stdout.splitlines()
    assert lines[0] == f"Sandbox running at {url}"
    export = (
        f"  export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing"
    )
    assert export in lines
    assert "pcli commands use it with --sandbox (or PCLI_SANDBOX=1)." in lines

    shown_json = run("status", "--json")
    assert shown_json.exit_code == 0
    assert json.loads(shown_json.stdout) == {
        key: value for key, value in first.items() if key != "already_running"
    }

    stopped = run("stop", "--json")
    assert stopped.exit_code == 0
    report = json.loads(stopped.stdout)
    assert set(report) == {*STATE_KEYS, "stopped"}
    assert (report["stopped"], report["running"], report["pid"]) == (True, False, first["pid"])
    assert report["environment"] is None

    after = run("status")
    assert after.exit_code == 1
    assert after.stdout == "The sandbox is not running. Start it: pcli sandbox start\n"
    assert run("stop").stdout == "The sandbox is not running.\n"


def test_status_reports_a_dead_sandbox_and_exits_1():
    finished = subprocess.Popen(["true"])
    finished.wait()
    path = manager.state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": finished.pid,
        "port": 9,
        "url": "http://127.0.0.1:9",
        "started_at": "2026-11-28T10:00:00+00:00",
        "process_token": "linux:1",
    }
    path.write_text(json.dumps(record))

    shown = run("status")
    assert shown.exit_code == 1
    assert shown.stdout.splitlines() == [
        f"The sandbox died: process {finished.pid} is gone.",
        "Start it again: pcli sandbox start",
    ]
    as_json = run("status", "--json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert (data["running"], data["problem"]) == (False, f"process {finished.pid} is gone")
    assert data["environment"] is None

    cleaned = run("stop")
    assert cleaned.exit_code == 0
    assert cleaned.stdout == (
        f"The sandbox was not running: process {finished.pid} is gone; its state file is removed.\n"
    )
    assert not path.exists()


@pytest.mark.parametrize("command", ["start", "stop", "status"])
def test_every_command_has_help_with_an_example(command):
    shown = run(command, "--help")
    assert shown.exit_code == 0
    assert "Example:" in shown.stdout
    assert f" pcli sandbox {command}" in shown.stdout
    assert "--json" in shown.stdout


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_a_truncated_state_file_never_leaves_a_server_pcli_cannot_stop(cleanup):
    started = run("start", "--json")
    assert started.exit_code == 0, started.output
    pid = json.loads(started.stdout)["pid"]
    text = manager.state_file().read_text()
    manager.state_file().write_text(text[: len(text) // 2])  # a write cut short

    status = run("status")
    assert status.exit_code == 1
    assert f"its server (pid {pid}) still runs: pcli sandbox stop ends it" in status.output

    again = run("start", "--json")  # does not leave the old server running beside the new one
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["pid"] != pid
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid)

    new_pid = json.loads(again.stdout)["pid"]
    manager.state_file().write_text("{")
    stopped = run("stop")
    assert stopped.exit_code == 0, stopped.output
    assert not _alive(new_pid)
