"""Exit code 130: Ctrl-C in a real terminal at a confirmation, and SIGINT while pcli reads input.

pcli runs as a subprocess (.venv/bin/pcli): in a pty driven by pexpect for the questions, or with
a named pipe as its spec file, so the signal lands exactly while pcli waits for it.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pexpect
import pytest

PCLI = str(Path(sys.executable).with_name("pcli"))
TIMEOUT = 30


def spawn(*args: str) -> pexpect.spawn:
    env = {**os.environ, "TERM": "xterm"}
    return pexpect.spawn(
        PCLI, list(args), env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 120)
    )


def ended(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


@pytest.fixture
def deployed(cli, tiny, registry):
    """Environment dev (tiny-env) deployed; the flags that point a subprocess at it."""
    created = cli("env", "create", "dev", "-b", "tiny-env", "--yes")
    assert created.exit_code == 0, created.output
    return ["--registry", str(registry), "--workspace", str(cli.workspace)]


def stack_names(moto_url):
    client = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")
    return {s["StackName"] for s in client.describe_stacks()["Stacks"]}


def test_ctrl_c_at_the_change_set_question_exits_130_and_deploys_nothing(
    cli, tiny, registry, moto_url
):
    created = cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy")
    assert created.exit_code == 0, created.output
    child = spawn("--registry", str(registry), "--workspace", str(cli.workspace),
                  "env", "deploy", "dev")  # fmt: skip

    child.expect(r"Deploy these changes\? \[y/N\]")
    child.sendintr()

    assert ended(child) == 130
    assert "Interrupted." in child.before
    assert "pcli-demo-env-dev" not in stack_names(moto_url)


def test_ctrl_c_at_the_delete_question_exits_130_and_deletes_nothing(deployed, moto_url):
    child = spawn(*deployed, "env", "delete", "dev")

    child.expect(r"Delete environment dev and its AWS resources\? \[y/N\]")
    child.sendintr()

    assert ended(child) == 130
    assert "pcli-demo-env-dev" in stack_names(moto_url)


def open_for_writing(fifo: Path, reader: subprocess.Popen[str]) -> int:
    """Open `fifo` for writing once `reader` has opened it for reading."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as error:
            if error.errno != errno.ENXIO or reader.poll() is not None:
                raise
            if time.monotonic() > deadline:
                raise TimeoutError(f"pcli never opened {fifo}") from error
            time.sleep(0.01)


def wait_until_reading(reader: subprocess.Popen[str]) -> None:
    """Wait until `reader` sleeps in the kernel reading a pipe (Linux's /proc/PID/wchan).

    A signal that lands after Python last checked for signals and before the read reaches the
    kernel is handled without interrupting the read (CPython re-checks only when the call
    returns): sent then, the test would hang on a lost Ctrl-C, not on pcli. Without /proc, a
    moment's wait has to do."""
    wchan = Path(f"/proc/{reader.pid}/wchan")
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            if "pipe" in wchan.read_text():
                return
        except OSError:
            break
        time.sleep(0.01)
    time.sleep(0.5)


def test_sigint_while_reading_the_spec_exits_130(registry, tmp_path):
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    args = ["--registry", str(registry), "blueprint", "render", "vpc-ecs-env",
            "--spec", str(fifo), "-o", str(tmp_path / "out")]  # fmt: skip
    reader = subprocess.Popen(
        [PCLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    writer = open_for_writing(fifo, reader)
    try:
        wait_until_reading(reader)
        reader.send_signal(signal.SIGINT)
        _stdout, stderr = reader.communicate(timeout=TIMEOUT)
    finally:
        os.close(writer)

    assert reader.returncode == 130
    assert stderr == "Interrupted.\n"
    assert not (tmp_path / "out").exists()
