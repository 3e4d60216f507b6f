"""Start, stop and check the local sandbox: one moto server process per user, in the background.

The process is recorded in `state_dir()/sandbox.json` with a token that identifies it (its start
time), so a pid that now belongs to another program is never taken for the sandbox and never
signalled. A sandbox whose process died, or that stopped answering, is reported with a problem,
never silently used.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protoncli.aws.target import AwsTarget
from protoncli.errors import PcliError
from protoncli.paths import state_dir
from protoncli.yamlio import atomic_write

SERVER_MODULE = "protoncli.sandbox.server"
HEALTH_PATH = "/moto-api/config"
STOP_TIMEOUT = 10.0
_LOG_TAIL_LINES = 12

# Server processes this process started and has not reaped yet (so none lingers as a zombie).
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class SandboxState:
    """What `pcli sandbox status` reports.

    `running` means the recorded process is alive, is the sandbox, and answers. A state file left
    by a process that died or stopped answering gives `running=False` with `problem` set.
    """

    running: bool
    url: str | None
    pid: int | None
    port: int | None
    started_at: str | None
    state_file: Path
    problem: str | None = None
    log_file: Path | None = None


@dataclass(frozen=True)
class _Record:
    """The content of the state file."""

    pid: int
    port: int
    url: str
    started_at: str
    process_token: str

    def to_json(self) -> str:
        return json.dumps(self.__dict__, indent=2) + "\n"


def state_file() -> Path:
    return state_dir() / "sandbox.json"


def log_file() -> Path:
    return state_dir() / "sandbox.log"


def _ready_file() -> Path:
    return state_dir() / "sandbox.ready.json"


def _not_running(problem: str | None = None) -> SandboxState:
    return SandboxState(
        running=False,
        url=None,
        pid=None,
        port=None,
        started_at=None,
        state_file=state_file(),
        problem=problem,
        log_file=log_file(),
    )


def _state(record: _Record, *, running: bool, problem: str | None = None) -> SandboxState:
    return SandboxState(
        running=running,
        url=record.url,
        pid=record.pid,
        port=record.port,
        started_at=record.started_at,
        state_file=state_file(),
        problem=problem,
        log_file=log_file(),
    )


class _UnreadableStateError(Exception):
    pass


def _read_record() -> _Record | None:
    """The recorded sandbox; None when there is no state file."""
    path = state_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return _Record(
            pid=int(data["pid"]),
            port=int(data["port"]),
            url=str(data["url"]),
            started_at=str(data["started_at"]),
            process_token=str(data["process_token"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise _UnreadableStateError(f"{path}: unreadable state file ({error})") from error


def _answers(url: str, *, timeout: float = 2.0) -> bool:
    """True when a moto server answers at `url` (its config endpoint returns a JSON object)."""
    # No proxy: the sandbox is on the loopback address, whatever HTTP_PROXY says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url + HEALTH_PATH, timeout=timeout) as response:
            return isinstance(json.loads(response.read()), dict)
    except (OSError, ValueError):
        return False


def _process_token(pid: int) -> str | None:
    """A token that tells this process from a later one with the same pid: its start time.

    None when no such process runs (a zombie counts as ended).
    """
    if Path("/proc/self/stat").exists():
        try:
            text = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
        # Fields after the command name, which is in parentheses and may itself hold spaces.
        fields = text.rsplit(")", 1)[-1].split()
        return None if fields[0] in {"Z", "X"} else f"linux:{fields[19]}"
    out = _ps(pid, "stat=,lstart=")
    if out is None or out.startswith("Z"):
        return None
    return "ps:" + " ".join(out.split()[1:])


def _process_command(pid: int) -> str | None:
    """The command line of `pid`, arguments separated by spaces; None when there is no such."""
    if Path("/proc/self/cmdline").exists():
        try:
            raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return raw.replace(b"\0", b" ").decode("utf-8", errors="replace").strip()
    return _ps(pid, "command=")


def _ps(pid: int, fields: str) -> str | None:
    """`ps -o FIELDS -p PID` where there is no /proc (macOS, the BSDs)."""
    try:
        done = subprocess.run(
            ["ps", "-o", fields, "-p", str(pid)], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def _reap(pid: int) -> None:
    """Collect the exit status of a server this process started, once it has ended."""
    process = _children.get(pid)
    if process is not None and process.poll() is not None:
        del _children[pid]


def _process_problem(record: _Record) -> str | None:
    """None when the recorded pid is still the sandbox process that was started; else why not."""
    _reap(record.pid)
    token = _process_token(record.pid)
    if token is None:
        return f"process {record.pid} is gone"
    command = _process_command(record.pid)
    if token == record.process_token and not command:
        return f"process {record.pid} is gone"  # exiting: its command line is already released
    if token != record.process_token or SERVER_MODULE not in (command or ""):
        return f"process {record.pid} is gone (the pid now belongs to another program)"
    return None


def status() -> SandboxState:
    """The sandbox as it is now: running and answering, not running, or dead (problem set)."""
    try:
        record = _read_record()
    except _UnreadableStateError as error:
        lost = _servers_of_this_folder()
        if lost:
            pids = ", ".join(map(str, lost))
            return _not_running(
                f"{error}; its server (pid {pids}) still runs: pcli sandbox stop ends it"
            )
        return _not_running(str(error))
    if record is None:
        return _not_running()
    problem = _process_problem(record)
    if problem is None and not _answers(record.url):
        problem = f"process {record.pid} is not answering at {record.url}"
    return _state(record, running=problem is None, problem=problem)


def require_running() -> str:
    """The sandbox's URL; a PcliError when it is not running or died."""
    state = status()
    if state.running and state.url is not None:
        return state.url
    if state.problem is None:
        raise PcliError("the sandbox is not running", hint="start it: pcli sandbox start")
    raise PcliError(f"the sandbox died: {state.problem}", hint="start it again: pcli sandbox start")


def sandbox_target(region: str) -> AwsTarget:
    """Where AWS calls go under `--sandbox`: the running sandbox, with its dummy credentials."""
    return AwsTarget(region=region, endpoint_url=require_running())


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """Serialise start and stop between pcli processes (an advisory lock where the OS has one)."""
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - platforms without flock
        yield
        return
    with (directory / "sandbox.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(*, timeout: float = 30) -> SandboxState:
    """Start the sandbox in the background, or return the one already running and answering."""
    if importlib.util.find_spec("moto") is None:
        raise PcliError("the sandbox needs moto", hint="pip install 'protoncli[sandbox]'")
    with _exclusive():
        current = status()
        if current.running:
            return current
        _end_recorded_process()
        record = _spawn(timeout)
        atomic_write(state_file(), record.to_json())
    return _state(record, running=True)


def stop(*, timeout: float = STOP_TIMEOUT) -> SandboxState:
    """Stop the sandbox this user started, and only that process; remove its state file.

    Returns the stopped sandbox (`running=False`, its url and pid), the dead one that was cleaned
    up (`problem` set), or a plain not-running state when nothing was recorded.
    """
    with _exclusive():
        try:
            record = _read_record()
        except _UnreadableStateError as error:
            stopped = _end_unrecorded_servers(timeout)
            state_file().unlink(missing_ok=True)
            found = f"; stopped the sandbox server it recorded (pid {', '.join(stopped)})"
            return _not_running(str(error) + (found if stopped else ""))
        if record is None:
            return _not_running()
        problem = _process_problem(record)
        if problem is None:
            _terminate(record, timeout)
        state_file().unlink(missing_ok=True)
        return _state(record, running=False, problem=problem)


def _end_recorded_process() -> None:
    """Before a new start: end a recorded sandbox that no longer answers, drop a stale record;
    with an unreadable record, end this state folder's server that it no longer names."""
    try:
        record = _read_record()
    except _UnreadableStateError:
        _end_unrecorded_servers(STOP_TIMEOUT)
    else:
        if record is not None and _process_problem(record) is None:
            _terminate(record, STOP_TIMEOUT)
    state_file().unlink(missing_ok=True)


def _end_unrecorded_servers(timeout: float) -> list[str]:
    """Stop the sandbox servers this state folder started whose record was lost (a truncated
    or corrupt state file): found by their command line, which names this folder's ready
    file. Linux only (/proc); elsewhere nothing is found. The pids stopped."""
    stopped = []
    for pid in _servers_of_this_folder():
        token = _process_token(pid)
        if token is None:
            continue
        record = _Record(pid, 0, "", "", token)
        _terminate(record, timeout)
        stopped.append(str(pid))
    return stopped


def _servers_of_this_folder() -> list[int]:
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    wanted = (SERVER_MODULE.encode(), str(_ready_file()).encode())
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if all(part in arguments for part in wanted):
            found.append(int(entry.name))
    return found


def _has_ended(record: _Record) -> bool:
    """True once the recorded process has ended (a zombie counts as ended).

    Only the start-time token counts here: an exiting process loses its command line before it
    ends, so the command line would say "ended" too early.
    """
    _reap(record.pid)
    return _process_token(record.pid) != record.process_token


def _terminate(record: _Record, timeout: float) -> None:
    """SIGTERM the recorded sandbox process, then SIGKILL it if it outlives `timeout`.

    The caller has checked that the pid is the sandbox's; the token check before each signal
    keeps a pid that was reused meanwhile from being signalled.
    """
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        if _has_ended(record):
            return
        try:
            os.kill(record.pid, sig)
            # A stopped (suspended) process acts on SIGTERM only once it runs again.
            os.kill(record.pid, signal.SIGCONT)
        except ProcessLookupError:
            return
        except PermissionError as error:
            raise PcliError(
                f"cannot stop the sandbox: process {record.pid}: permission denied",
                hint=f"it was started by another user; remove {state_file()} if it is stale",
            ) from error
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if _has_ended(record):
                return
            time.sleep(0.05)
    raise PcliError(f"cannot stop the sandbox: process {record.pid} does not end")


def _spawn(timeout: float) -> _Record:
    """Run the server detached, wait until it listens and answers; return its record."""
    ready = _ready_file()
    ready.unlink(missing_ok=True)
    command = [sys.executable, "-u", "-m", SERVER_MODULE, "--port", "0", "--ready-file", str(ready)]
    with log_file().open("wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=state_dir(),
            start_new_session=True,
        )
    _children[process.pid] = process
    url = _wait_until_answering(process, ready, timeout)
    ready.unlink(missing_ok=True)
    token = _process_token(process.pid)
    if token is None:
        raise _start_failure("the server process ended right after it started")
    port = int(url.rsplit(":", 1)[1])
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    return _Record(process.pid, port, url, started_at, token)


def _wait_until_answering(process: subprocess.Popen[bytes], ready: Path, timeout: float) -> str:
    """The server's URL once it answers; a PcliError (the server killed) otherwise."""
    deadline = time.monotonic() + timeout
    url: str | None = None
    while time.monotonic() < deadline:
        if url is None:
            url = _ready_url(ready)
        if url is not None and _answers(url, timeout=1.0):
            return url
        code = process.poll()
        if code is not None:
            _children.pop(process.pid, None)
            raise _start_failure(f"the server process exited with code {code}")
        time.sleep(0.05)
    process.kill()
    process.wait()
    _children.pop(process.pid, None)
    raise _start_failure(f"the server did not answer within {timeout:g} s")


def _ready_url(ready: Path) -> str | None:
    try:
        data: Any = json.loads(ready.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    url = data.get("url") if isinstance(data, dict) else None
    return url if isinstance(url, str) else None


def _start_failure(reason: str) -> PcliError:
    path = log_file()
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    return PcliError(
        f"the sandbox did not start: {reason}",
        hint=f"the server's log is {path}",
        details=[line for line in lines[-_LOG_TAIL_LINES:] if line.strip()],
    )
