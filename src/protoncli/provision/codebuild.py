"""Run a CodeBuild provisioning bundle's commands on this machine, as Proton's CodeBuild project
would: in order, in one bash shell that stops at the first failure, in the rendered folder.

The commands report outputs through `aws proton notify-resource-deployment-status-change`, which
the environment from `provisioning_environment` sends to a local `NotifyEndpoint`; a
`proton-outputs.json` in the folder is read too (`collect_outputs`).

Nothing here prints: output lines go to the caller's `on_line`.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from protoncli.errors import DeployError, ExitCode, PcliError, UsageError
from protoncli.provision.notify_endpoint import NotifyEndpoint, output_problem

DEFAULT_TIMEOUT = 3600.0
TIMEOUT_VARIABLE = "PCLI_CODEBUILD_TIMEOUT"
KILL_GRACE = 10.0  # seconds between SIGTERM and SIGKILL
LAST_LINES = 20
OUTPUTS_FILE = "proton-outputs.json"
_MAX_LINE = 64 * 1024
_TICK = 0.1
_LEFT_BEHIND_GRACE = 2.0  # seconds to read what background processes print after bash ends


@dataclass(frozen=True)
class CommandRun:
    exit_status: int
    duration: float  # seconds
    last_lines: tuple[str, ...]


class CommandFailedError(DeployError):
    def __init__(self, command: str, index: int, exit_status: int, lines: Sequence[str]) -> None:
        ended = f"failed with exit status {exit_status}"
        if exit_status < 0:
            ended = f"was killed by signal {signal.Signals(-exit_status).name}"
        super().__init__(
            f"provisioning command {index + 1} {ended}: {_short(command)}",
            hint="its last lines of output are below; fix what it needs, then deploy again",
            details=list(lines),
        )
        self.command = command
        self.index = index
        self.exit_status = exit_status


class CommandTimeoutError(DeployError):
    def __init__(self, command: str, timeout: float, last_lines: Sequence[str]) -> None:
        super().__init__(
            f"provisioning command did not finish within {timeout:g} s and was stopped:"
            f" {_short(command)}",
            hint=f"if it needs longer, raise the limit: {TIMEOUT_VARIABLE}=SECONDS"
            f" (default {DEFAULT_TIMEOUT:g})",
            details=list(last_lines),
        )
        self.command = command
        self.timeout = timeout


class CommandInterruptedError(PcliError):
    exit_code = ExitCode.INTERRUPTED

    def __init__(self, command: str, last_lines: Sequence[str]) -> None:
        super().__init__(
            f"provisioning interrupted while running: {_short(command)}",
            hint="the resources the commands had made so far are left as they are; deploy"
            " again to finish, or run the deprovision commands",
            details=list(last_lines),
        )
        self.command = command


def _short(command: str) -> str:
    lines = command.strip().splitlines() or [""]
    return lines[0] + (" ..." if len(lines) > 1 else "")


def command_timeout(env: Mapping[str, str]) -> float:
    """The commands' time limit in seconds: PCLI_CODEBUILD_TIMEOUT, else one hour."""
    raw = env.get(TIMEOUT_VARIABLE, "").strip()
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        value = -1.0
    if not 0 < value < float("inf"):
        raise UsageError(
            f"{TIMEOUT_VARIABLE}={raw} is not a number of seconds",
            hint=f"set it to a positive number, such as {TIMEOUT_VARIABLE}=7200",
        )
    return value


def _script(commands: Sequence[str], token: str) -> str:
    quoted = " ".join(shlex.quote(command) for command in commands)
    body = f'printf \'{token}%s\\n\' "$__pcli_i"; eval "${{__pcli_c[$__pcli_i]}}"'
    return f'__pcli_c=({quoted})\nfor __pcli_i in "${{!__pcli_c[@]}}"; do {body}; done\n'


def _read_lines(stream: IO[bytes], lines: queue.Queue[str | None]) -> None:
    with contextlib.suppress(OSError, ValueError):
        for raw in iter(lambda: stream.readline(_MAX_LINE), b""):
            lines.put(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
    lines.put(None)


class _Run:
    """One bash process: its output as lines for the caller (markers become `+ COMMAND`)."""

    def __init__(self, commands: Sequence[str], on_line: Callable[[str], None]) -> None:
        self.commands = commands
        self.on_line = on_line
        self.token = f"@@pcli-{secrets.token_hex(8)}@@"
        self.current = 0
        self.last: deque[str] = deque(maxlen=LAST_LINES)
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.eof = False

    @property
    def command(self) -> str:
        return self.commands[self.current]

    def _emit(self, line: str) -> None:
        self.last.append(line)
        self.on_line(line)

    def take(self, timeout: float) -> bool:
        """Pass on the next line; False when there was none within `timeout` or output ended."""
        try:
            line = self.lines.get(timeout=timeout) if timeout > 0 else self.lines.get_nowait()
        except queue.Empty:
            return False
        if line is None:
            self.eof = True
            return False
        at = line.find(self.token)
        if at != 0:  # a line, or output that did not end with a newline before a marker
            self._emit(line[:at] if at > 0 else line)
        if at < 0:
            return True
        number = line[at + len(self.token) :]
        if number.isdigit() and int(number) < len(self.commands):
            self.current = int(number)
            first, *rest = self.command.strip().splitlines()
            for shown in (f"+ {first}", *(f"  {more}" for more in rest)):
                self._emit(shown)
        return True

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.eof and self.take(end - time.monotonic()):
            pass

    def start(self, bash: str, folder: Path, env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            [bash, "-e", "-o", "pipefail", "-c", _script(self.commands, self.token)],
            cwd=folder,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.stdout: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        self.reader = threading.Thread(
            target=_read_lines, args=(self.stdout, self.lines), name="pcli-codebuild", daemon=True
        )
        self.reader.start()

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def stop(self, grace: float) -> None:
        """SIGTERM the process group, SIGKILL it after `grace` (or at once when bash ended)."""
        self.signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace)
        self.signal(signal.SIGKILL)
        self.process.wait()
        self.drain(1.0)

    def finish(self, deadline: float, cancel: threading.Event | None, grace: float) -> str:
        """Follow the run to its end ("done", "timeout" or "cancel"); stop it unless done."""
        try:
            try:
                ended = self.follow(deadline, cancel)
            except KeyboardInterrupt:
                ended = "cancel"
            if ended != "done":
                self.stop(grace)
        except BaseException:
            self.stop(grace)
            raise
        finally:
            self.reader.join(timeout=1.0)
            if not self.reader.is_alive():  # else a process that left bash's group holds it
                self.stdout.close()
        return ended

    def follow(self, deadline: float, cancel: threading.Event | None) -> str:
        """ "done" once bash has ended and its output is read (or 2 s after bash ended: a
        background process may hold the output open), else "timeout" or "cancel"."""
        ended_at: float | None = None
        while True:
            if cancel is not None and cancel.is_set():
                return "cancel"
            now = time.monotonic()
            if now >= deadline:
                return "timeout"
            if self.process.poll() is not None:
                ended_at = ended_at or now
                if self.eof or now - ended_at > _LEFT_BEHIND_GRACE:
                    self.signal(signal.SIGKILL)  # what bash left behind
                    self.drain(0.5)
                    return "done"
            if self.eof:
                time.sleep(_TICK)  # output closed, bash still running
            else:
                self.take(_TICK)


def run_commands(
    folder: Path,
    commands: Sequence[str],
    *,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    timeout: float,
    cancel: threading.Event | None = None,
    kill_grace: float = KILL_GRACE,
) -> CommandRun:
    """Run `commands` in one `bash -e -o pipefail` shell in `folder`, with exactly `env` as the
    environment (pass `{**os.environ, **extra}` to extend this process's). Each output line
    (stdout and stderr merged) goes to `on_line` on the calling thread; each command is announced
    by a line `+ COMMAND`. Raises CommandFailedError, CommandTimeoutError or
    CommandInterruptedError."""
    for number, command in enumerate(commands, start=1):
        if not isinstance(command, str) or not command.strip():
            raise UsageError(
                f"provisioning command {number} must be a non-empty string, not {command!r}",
                hint="write each command as one string in the manifest's list",
            )
    bash = shutil.which("bash", path=env.get("PATH")) or shutil.which("bash")
    if not bash:
        raise UsageError(
            "bash is not installed: pcli runs CodeBuild provisioning commands with bash",
            hint="install bash, or deploy with Proton's CodeBuild provisioning instead",
        )
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder to run the provisioning commands in")
    started = time.monotonic()
    if not commands:
        return CommandRun(exit_status=0, duration=0.0, last_lines=())
    run = _Run(commands, on_line)
    run.start(bash, folder, env)
    ended = run.finish(started + timeout, cancel, kill_grace)
    if ended == "timeout":
        raise CommandTimeoutError(run.command, timeout, run.last)
    if ended == "cancel":
        raise CommandInterruptedError(run.command, run.last)
    status = run.process.returncode
    if status != 0:
        raise CommandFailedError(run.command, run.current, status, run.last)
    return CommandRun(status, time.monotonic() - started, tuple(run.last))


# runtime name -> (program, arguments, pattern of the version in what it prints)
_RUNTIMES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "nodejs": ("node", ("--version",), r"v?\d+(?:\.\d+)*"),
    "python": ("python3", ("--version",), r"\d+(?:\.\d+)*"),
    "java": ("java", ("-version",), r'version "([^"]+)"'),
    "corretto": ("java", ("-version",), r'version "([^"]+)"'),
    "golang": ("go", ("version",), r"go(\d+(?:\.\d+)*)"),
    "ruby": ("ruby", ("--version",), r"\d+(?:\.\d+)*"),
    "php": ("php", ("--version",), r"\d+(?:\.\d+)*"),
    "dotnet": ("dotnet", ("--version",), r"\d+(?:\.\d+)*"),
}


def _major(version: str, runtime: str) -> int | None:
    numbers = [int(part) for part in re.findall(r"\d+", version)]
    if not numbers:
        return None
    if runtime in {"java", "corretto"} and numbers[0] == 1 and len(numbers) > 1:
        return numbers[1]  # 1.8.0_292 is Java 8
    return numbers[0]


def _installed_version(program: str, args: tuple[str, ...], pattern: str) -> str | None:
    try:
        found = subprocess.run([program, *args], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(pattern, (found.stdout + b"\n" + found.stderr).decode(errors="replace"))
    return match.group(match.lastindex or 0) if match else None


def check_runtimes(runtimes: Mapping[str, Any] | None) -> list[str]:
    """Problems with the manifest's `runtimes` on this machine (the major version is compared).
    A newer major version installed is worded as a warning: the caller decides what to show."""
    problems: list[str] = []
    for name, wanted in (runtimes or {}).items():
        known = _RUNTIMES.get(str(name).lower())
        if known is None:
            problems.append(f"runtime {name}: pcli cannot check it")
            continue
        program, args, pattern = known
        required = f"{name} {wanted}"
        if shutil.which(program) is None:
            problems.append(f"{required} is required, {program} is not installed")
            continue
        installed = _installed_version(program, args, pattern)
        if installed is None:
            problems.append(
                f"{required} is required, pcli cannot tell which version of {program} is"
                f" installed ({program} {' '.join(args)} did not say)"
            )
            continue
        want, have = _major(str(wanted), str(name).lower()), _major(installed, str(name).lower())
        if want is not None and have is not None and want != have:
            newer = " (a newer major version: the commands may still work)" if have > want else ""
            problems.append(f"{required} is required, {program} {installed} is installed{newer}")
    return problems


def provisioning_environment(
    *, resource_arn: str, region: str, deployment_id: str, notify: NotifyEndpoint
) -> dict[str, str]:
    """The variables Proton's CodeBuild project sets, plus those that send the commands'
    `aws proton notify-resource-deployment-status-change` calls to `notify`."""
    if notify.resource_arn != resource_arn:
        raise ValueError(f"the notify endpoint is for {notify.resource_arn}, not {resource_arn}")
    return {
        "RESOURCE_ARN": resource_arn,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "PCLI_DEPLOYMENT_ID": deployment_id,
        **notify.environment(),
    }


_FORMS = 'write [{"key": "...", "valueString": "..."}] or {"key": "value", ...}'


def _file_outputs(path: Path) -> dict[str, str]:
    where = path.name
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        message = f"{where}, line {error.lineno}: not valid JSON: {error.msg}"
        raise UsageError(message, hint=_FORMS) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{where}: cannot be read: {error}") from None
    if isinstance(document, dict):
        pairs = list(document.items())
    elif isinstance(document, list) and all(isinstance(i, dict) and "key" in i for i in document):
        pairs = [(item["key"], item.get("valueString")) for item in document]
    else:
        message = f"{where}: outputs must be a list of {{key, valueString}} or an object of strings"
        raise UsageError(message, hint=_FORMS)
    outputs: dict[str, str] = {}
    for key, value in pairs:
        problem = output_problem(key, value)
        if problem:
            raise UsageError(
                f"{where}: {problem}",
                hint="Proton keeps outputs as strings: write numbers, booleans and lists as"
                ' strings (json.dumps them), such as "valueString": "[\\"a\\", \\"b\\"]"',
            )
        outputs[key] = value
    return outputs


def collect_outputs(folder: Path, notify: NotifyEndpoint) -> dict[str, str]:
    """The outputs of the run: those in `proton-outputs.json` (when the commands wrote one),
    updated with those the commands notified (these win when a key is in both)."""
    path = folder / OUTPUTS_FILE
    outputs = _file_outputs(path) if path.is_file() else {}
    outputs.update(notify.outputs)
    return outputs
