"""File locks between processes: waiting, the error that names the holder, re-entry, marks."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from protoncli.errors import ExitCode
from protoncli.locks import (
    LockError,
    deleting_holder,
    deletion_mark,
    file_lock,
    require_not_deleting,
    workspace_lock,
)

HOLDER = """\
import sys
from pathlib import Path

from protoncli.locks import file_lock

with file_lock(Path(sys.argv[1]), sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes stdin
"""


@pytest.fixture
def held(tmp_path):
    """`held(path, purpose)`: another process holds the lock until the test ends."""
    processes = []

    def hold(path, purpose):
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), purpose],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
        assert process.stdout.readline() == "held\n"
        return process

    yield hold
    for process in processes:
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()


def test_a_lock_held_too_long_names_the_lock_file_and_its_holder(tmp_path, held):
    lock = tmp_path / ".config.yaml.lock"
    holder = held(lock, "pcli config set output")

    started = time.monotonic()
    with pytest.raises(LockError) as caught, file_lock(lock, "pcli config set color", timeout=0.3):
        pass

    assert time.monotonic() - started >= 0.3
    assert caught.value.message == (
        f"{lock}: still locked after 0.3 seconds, by process {holder.pid} (pcli config set output)"
    )
    assert caught.value.hint == "wait for that command to finish, then run this one again"
    assert caught.value.exit_code == ExitCode.ERROR


def test_a_lock_is_waited_for_until_its_holder_lets_go(tmp_path, held):
    lock = tmp_path / "lock"
    holder = held(lock, "first")
    threading.Timer(0.3, holder.stdin.close).start()

    with file_lock(lock, "second", timeout=10):
        assert lock.read_text() == f"{os.getpid()} second\n"
    assert lock.read_text() == ""  # released: no stale holder named later


def test_a_lock_is_reentrant_in_one_thread_and_exclusive_between_threads(tmp_path):
    lock = tmp_path / "lock"
    order = []

    def other():
        with file_lock(lock, "other thread", timeout=10):
            order.append("other")

    with file_lock(lock, "outer"), file_lock(lock, "inner", timeout=0):
        thread = threading.Thread(target=other)
        thread.start()
        time.sleep(0.2)
        order.append("main")
    thread.join()
    assert order == ["main", "other"]


def test_the_workspace_lock_lives_in_a_git_ignored_folder(tmp_path):
    with workspace_lock(tmp_path, "pcli env create dev"):
        pass
    assert (tmp_path / ".pcli" / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (tmp_path / ".pcli" / "lock").is_file()


def test_a_deletion_mark_refuses_what_would_go_into_it_and_a_second_deletion(tmp_path, held):
    assert deleting_holder(tmp_path, "environment", "dev") is None
    require_not_deleting(tmp_path, "environment", "dev")
    with deletion_mark(tmp_path, "environment", "dev", "pcli env delete dev"):
        assert deleting_holder(tmp_path, "environment", "dev") is None  # this process holds it
    mark = tmp_path / ".pcli" / "deleting" / "environment-dev.lock"
    holder = held(mark, "pcli env delete dev")

    with pytest.raises(LockError) as caught:
        require_not_deleting(tmp_path, "environment", "dev")
    assert caught.value.message == (
        f"environment 'dev' is being deleted by process {holder.pid} (pcli env delete dev); "
        "nothing was written"
    )
    with (
        pytest.raises(LockError, match=f"already being deleted by process {holder.pid}"),
        deletion_mark(tmp_path, "environment", "dev", "pcli env delete dev"),
    ):
        pass
    require_not_deleting(tmp_path, "environment", "prod")
