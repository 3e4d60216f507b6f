"""The local sandbox as real background processes: start, use, stop, death and forged state.

Each test has its own PCLI_HOME (so its own state file); every sandbox a test starts is stopped
by the `cleanup` fixture, whatever the test's outcome.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from protoncli.errors import PcliError
from protoncli.sandbox import manager

TEMPLATE = """
Resources:
  Greeting:
    Type: AWS::SSM::Parameter
    Properties:
      Name: /sandbox-test/greeting
      Type: String
      Value: hello
Outputs:
  GreetingName:
    Value: !Ref Greeting
  Answer:
    Value: "42"
"""


@pytest.fixture
def cleanup(isolated_env):
    """Stop whatever sandbox the test left running in its PCLI_HOME."""
    yield
    manager.stop()


def cloudformation(url: str):
    return boto3.client(
        "cloudformation",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
    )


def wait_until(predicate, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def write_state(pid: int, token: str) -> Path:
    path = manager.state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "pid": pid,
        "port": 9,
        "url": "http://127.0.0.1:9",
        "started_at": "2026-11-28T10:00:00+00:00",
        "process_token": token,
    }
    path.write_text(json.dumps(record))
    return path


def test_start_use_restart_and_stop(cleanup):
    started = manager.start()
    assert started.running
    assert started.problem is None
    assert started.url == f"http://127.0.0.1:{started.port}"
    assert started.state_file.is_file()

    current = manager.status()
    assert current == started

    client = cloudformation(started.url)
    client.create_change_set(
        StackName="demo",
        ChangeSetName="first",
        ChangeSetType="CREATE",
        TemplateBody=TEMPLATE,
    )
    client.get_waiter("change_set_create_complete").wait(StackName="demo", ChangeSetName="first")
    client.execute_change_set(StackName="demo", ChangeSetName="first")
    stack = client.describe_stacks(StackName="demo")["Stacks"][0]
    outputs = {item["OutputKey"]: item["OutputValue"] for item in stack["Outputs"]}
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert outputs == {"GreetingName": "/sandbox-test/greeting", "Answer": "42"}

    assert manager.start() == started
    assert manager.require_running() == started.url
    assert manager.sandbox_target("eu-west-1").endpoint_url == started.url
    assert manager.sandbox_target("eu-west-1").region == "eu-west-1"

    stopped = manager.stop()
    assert not stopped.running
    assert (stopped.pid, stopped.url, stopped.problem) == (started.pid, started.url, None)
    assert not started.state_file.exists()
    assert manager._process_token(started.pid) is None
    after = manager.status()
    assert (after.running, after.pid, after.url, after.problem) == (False, None, None, None)
    again = manager.stop()
    assert (again.running, again.pid, again.problem) == (False, None, None)


def test_a_killed_sandbox_is_reported_dead_and_replaced_on_start(cleanup):
    first = manager.start()
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    wait_until(lambda: manager.status().problem is not None)

    dead = manager.status()
    assert not dead.running
    assert dead.problem == f"process {first.pid} is gone"
    assert dead.url == first.url
    with pytest.raises(PcliError) as raised:
        manager.require_running()
    assert raised.value.message == f"the sandbox died: process {first.pid} is gone"
    assert raised.value.hint == "start it again: pcli sandbox start"
    with pytest.raises(PcliError, match="the sandbox died"):
        manager.sandbox_target("us-east-1")

    second = manager.start()
    assert second.running
    assert second.pid != first.pid
    assert manager.require_running() == second.url


def test_nothing_running_is_a_clear_error_under_sandbox():
    state = manager.status()
    assert (state.running, state.problem, state.url) == (False, None, None)
    with pytest.raises(PcliError) as raised:
        manager.require_running()
    assert raised.value.message == "the sandbox is not running"
    assert raised.value.hint == "start it: pcli sandbox start"
    stopped = manager.stop()
    assert (stopped.running, stopped.pid, stopped.problem) == (False, None, None)


@pytest.mark.parametrize("knows_start_time", [True, False], ids=["real-start", "other-start"])
def test_stop_never_signals_a_foreign_process_in_a_forged_state_file(knows_start_time):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        # A process that is still between fork and exec has no settled command line yet.
        deadline = time.monotonic() + 5
        while manager._process_command(sleeper.pid) != "sleep 30" and time.monotonic() < deadline:
            time.sleep(0.01)
        real_token = manager._process_token(sleeper.pid)
        assert real_token is not None
        path = write_state(sleeper.pid, real_token if knows_start_time else "linux:1")

        seen = manager.status()
        expected = f"process {sleeper.pid} is gone (the pid now belongs to another program)"
        assert (seen.running, seen.problem) == (False, expected)

        stopped = manager.stop()
        assert stopped.problem == expected
        assert not path.exists()
        time.sleep(0.2)
        assert sleeper.poll() is None, "stop signalled a process that is not the sandbox"
    finally:
        sleeper.kill()
        sleeper.wait()


def test_an_unreadable_state_file_is_reported_and_removed_by_stop():
    path = manager.state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    state = manager.status()
    assert not state.running
    assert state.problem is not None
    assert state.problem.startswith(f"{path}: unreadable state file")
    with pytest.raises(PcliError, match=r"^the sandbox died: .*unreadable state file"):
        manager.require_running()
    manager.stop()
    assert not path.exists()


def test_a_suspended_sandbox_is_not_answering_and_stop_still_ends_it(cleanup):
    started = manager.start()
    assert started.pid is not None
    os.kill(started.pid, signal.SIGSTOP)
    try:
        state = manager.status()
        assert not state.running
        assert state.problem == f"process {started.pid} is not answering at {started.url}"
        stopped = manager.stop()
        assert stopped.pid == started.pid
        assert manager._process_token(started.pid) is None
    finally:
        if manager._process_token(started.pid) is not None:
            os.kill(started.pid, signal.SIGKILL)


def fake_moto(root: Path, body: str) -> Path:
    package = root / "moto"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(body)
    (package / "moto_server").mkdir()
    (package / "moto_server" / "__init__.py").write_text("")
    return root


def test_a_server_that_fails_reports_its_log(tmp_path, monkeypatch):
    broken = fake_moto(tmp_path / "broken", "raise ImportError('this moto is broken')\n")
    monkeypatch.setenv("PYTHONPATH", str(broken))
    with pytest.raises(PcliError) as raised:
        manager.start()
    error = raised.value
    assert error.message == "the sandbox did not start: the server process exited with code 1"
    assert "the sandbox needs moto: pip install 'protoncli[sandbox]'" in error.details
    assert error.hint == f"the server's log is {manager.log_file()}"
    assert not manager.state_file().exists()
    assert not manager.status().running


def server_processes_of(state_dir: Path) -> list[str]:
    """The sandbox server processes whose ready file lies in `state_dir` (Linux only)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if manager.SERVER_MODULE in command and str(state_dir) in command:
            found.append(command)
    return found


def test_a_server_that_never_answers_is_killed_after_the_timeout(tmp_path, monkeypatch):
    hanging = fake_moto(tmp_path / "hanging", "import time\ntime.sleep(60)\n")
    monkeypatch.setenv("PYTHONPATH", str(hanging))
    with pytest.raises(PcliError) as raised:
        manager.start(timeout=1)
    assert raised.value.message == "the sandbox did not start: the server did not answer within 1 s"
    assert not manager.state_file().exists()
    if sys.platform == "linux":
        assert server_processes_of(manager.state_file().parent) == []
