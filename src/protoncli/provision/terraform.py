"""Run Terraform in one working folder: init, plan, apply, outputs, with no printing.

The contract:

- `find_terraform()` finds a `terraform` binary (`PCLI_TERRAFORM`, else `PATH`) in
  `TERRAFORM_VERSIONS` and says what to do when there is none.
- `TerraformRun(terraform, workdir, env=..., on_event=...)` runs commands in `workdir`, each in
  its own process group, with `os.environ` + `env` + `TF_IN_AUTOMATION=1`, `TF_INPUT=0`,
  `CHECKPOINT_DISABLE=1`. It reports through callbacks only: `on_event` gets a `StackEvent` for
  each resource an apply starts, completes or fails (CloudFormation's statuses), `on_line` every
  human line Terraform writes. `plan()` saves `pcli.tfplan` in the folder; `apply()` applies it.
- Failures raise `PcliError`s: `TerraformFailedError` (a plan or apply that failed, exit 3),
  `TerraformLockedError` (another run holds the state lock), `TerraformInterruptedError` (the
  run was stopped: `cancel` set or Ctrl-C; exit 130). Stopping sends SIGINT to Terraform's
  process group so it stops gracefully and releases its state lock, and SIGKILL after
  `STOP_GRACE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from protoncli.deploy.model import StackEvent
from protoncli.errors import DeployError, ExitCode, PcliError
from protoncli.provision.terraform_json import (
    LOCK_ACQUIRE,
    LOCK_RELEASE,
    LockInfo,
    Outcome,
    Plan,
    applied_outputs,
    failed_provider,
    failure_report,
    first_error_lines,
    hook_event,
    is_provider_failure,
    locked_report,
    output_values,
    parse_line,
    plan_from_show,
    stopped_report,
    string_outputs,
    unlock_hint,
)

__all__ = [
    "PLAN_FILE",
    "TERRAFORM_VERSIONS",
    "LockInfo",
    "Plan",
    "Terraform",
    "TerraformFailedError",
    "TerraformInterruptedError",
    "TerraformLockedError",
    "TerraformRun",
    "find_terraform",
    "string_outputs",
]

TERRAFORM_VERSIONS = ">= 1.10.0, < 2.0.0"  # 1.10: the S3 backend's native lock file
PLAN_FILE = "pcli.tfplan"
_INSTALL_HINT = (
    "install it from https://developer.hashicorp.com/terraform/install, "
    "or name one with PCLI_TERRAFORM"
)
_MIRROR_HINT = (
    "where the Terraform registry cannot be reached, use a provider mirror: on a connected "
    "machine run `terraform providers mirror DIR` in this folder, copy DIR here, and name a CLI "
    'config file containing provider_installation { filesystem_mirror { path = "DIR" } } '
    "with TF_CLI_CONFIG_FILE"
)


@dataclass(frozen=True)
class Terraform:
    path: str
    version: str


class TerraformFailedError(DeployError):
    """A plan or apply that failed. `failures` are the resources that failed, `details` one
    line per error ("ADDRESS (TYPE): summary: detail")."""

    def __init__(
        self,
        message: str,
        *,
        failures: tuple[StackEvent, ...] = (),
        details: list[str] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, details=details)
        self.failures = failures


class TerraformLockedError(PcliError):
    """Terraform's state is locked by another run; `lock` is that lock."""

    def __init__(self, message: str, *, lock: LockInfo | None, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.lock = lock


class TerraformInterruptedError(PcliError):
    """Terraform was stopped. `lock` is the state lock it could not release, if any."""

    exit_code = ExitCode.INTERRUPTED

    def __init__(
        self, message: str, *, lock: LockInfo | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.lock = lock


# --- finding terraform --------------------------------------------------------------------


def find_terraform(env: Mapping[str, str] | None = None) -> Terraform:
    """The `terraform` that pcli runs: `PCLI_TERRAFORM` (a path or a name), else the first on
    `PATH`; refused when missing or outside `TERRAFORM_VERSIONS`."""
    env = os.environ if env is None else env
    named = env.get("PCLI_TERRAFORM")
    path = shutil.which(named or "terraform", path=env.get("PATH"))
    if path is None and named:
        raise PcliError(
            f"PCLI_TERRAFORM names {named}, which is not an executable terraform (pcli needs "
            f"Terraform {TERRAFORM_VERSIONS} to provision Terraform blueprints)",
            hint="set PCLI_TERRAFORM to the path of a terraform binary, or unset it",
        )
    if path is None:
        raise PcliError(
            f"terraform is not installed (pcli needs Terraform {TERRAFORM_VERSIONS} "
            "to provision Terraform blueprints)",
            hint=_INSTALL_HINT,
        )
    version = _version_of(str(Path(path).resolve()))
    if not _in_range(version):
        raise PcliError(
            f"terraform at {path} is version {version}; pcli needs Terraform {TERRAFORM_VERSIONS}",
            hint=_INSTALL_HINT,
        )
    return Terraform(path=path, version=version)


def _in_range(version: str) -> bool:
    try:
        return SpecifierSet(TERRAFORM_VERSIONS).contains(Version(version), prereleases=True)
    except InvalidVersion:
        return False


@lru_cache(maxsize=32)
def _version_of(path: str) -> str:
    """`terraform_version` from `PATH version -json`, asked once per binary per process."""
    try:
        done = subprocess.run(
            [path, "version", "-json"], capture_output=True, text=True, timeout=60, check=False
        )
        return str(json.loads(done.stdout)["terraform_version"])
    except (OSError, subprocess.TimeoutExpired, ValueError, LookupError, TypeError) as error:
        raise PcliError(
            f"cannot tell the version of terraform at {path}: `terraform version -json` "
            f"gave no terraform_version ({type(error).__name__}: {error})",
            hint=_INSTALL_HINT,
        ) from error


# --- running it ---------------------------------------------------------------------------


class _Stopper:
    """Stops one process group once: SIGINT now, SIGKILL after `grace` seconds."""

    def __init__(self, process: subprocess.Popen[str], grace: float) -> None:
        self.process = process
        self.grace = grace
        self.requested = False  # a stop was asked for (cancel or Ctrl-C)
        self.sent = False  # SIGINT was sent
        self.killed = False  # SIGKILL was sent: Terraform did not stop in time
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def stop(self) -> None:
        with self._lock:
            self.requested = True
            if self.sent or self.process.poll() is not None:
                return
            self.sent = True
            self._signal(signal.SIGINT)
            self._timer = threading.Timer(self.grace, self._kill)
            self._timer.daemon = True
            self._timer.start()

    def _kill(self) -> None:
        self.killed = self.process.poll() is None
        self._signal(signal.SIGKILL)

    def _signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


class TerraformRun:
    """Terraform commands in one working folder, reported through callbacks."""

    STOP_GRACE_SECONDS = 60.0

    def __init__(
        self,
        terraform: Terraform,
        workdir: Path,
        *,
        env: Mapping[str, str],
        on_event: Callable[[StackEvent], None],
        on_line: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.terraform = terraform
        self.workdir = Path(workdir)
        self.env = dict(env)
        self.on_event = on_event
        self.on_line = on_line
        self.cancel = cancel if cancel is not None else threading.Event()
        self._event_count = 0
        # The outputs the last apply's `outputs` message gave; None when it gave none, or
        # held a sensitive one (whose value it leaves out).
        self.applied_outputs: dict[str, Any] | None = None

    def init(self, backend_config: Path | None = None) -> None:
        """`terraform init`, reconfiguring the backend (with `backend_config` when given)."""
        args = ["init", "-input=false", "-no-color"]
        if backend_config is not None:
            args.append(f"-backend-config={backend_config}")
        outcome = self._run([*args, "-reconfigure"])
        if outcome.returncode != 0:
            raise self._init_error(outcome)

    def plan(self, *, destroy: bool = False, lock_timeout: str | None = None) -> Plan:
        """`terraform plan` saved to `pcli.tfplan`, as the changes it makes."""
        args = ["plan", "-input=false", "-no-color", "-json", f"-out={PLAN_FILE}"]
        args += ["-destroy"] if destroy else []
        args += [f"-lock-timeout={lock_timeout}"] if lock_timeout else []
        outcome = self._run([*args, "-detailed-exitcode"])
        if outcome.returncode not in {0, 2}:  # 2: the plan has changes
            raise self._failure("plan", outcome)
        summary = next(
            (str(m.get("@message")) for m in outcome.messages if m.get("type") == "change_summary"),
            None,
        )
        shown = self._run(["show", "-json", PLAN_FILE], json_lines=False)
        if shown.returncode != 0:
            raise self._failure("show", shown)
        plan = plan_from_show(json.loads("\n".join(shown.lines)), summary)
        if outcome.returncode == 2 and not plan.has_changes:  # noqa: PLR2004 - changes present
            return Plan(plan.changes, has_changes=True, summary=summary or "")
        return plan

    def destroy_plan(self) -> Plan:
        """A plan that destroys everything in the state; `apply()` applies it."""
        return self.plan(destroy=True)

    def apply(self) -> None:
        """Apply `pcli.tfplan`, each resource's progress given to `on_event`."""
        args = ["apply", "-input=false", "-no-color", "-json", "-auto-approve", PLAN_FILE]
        started: dict[str, StackEvent] = {}
        errored: list[StackEvent] = []

        def on_message(message: dict[str, Any]) -> None:
            if message.get("type") == "outputs":
                self.applied_outputs = applied_outputs(message)
                return
            event = hook_event(message, str(self._event_count + 1))
            if event is None:
                return
            self._event_count += 1
            if event.status.endswith("_FAILED"):
                errored.append(event)
            started.setdefault(event.logical_id, event)
            self.on_event(event)

        outcome = self._run(args, on_message=on_message)
        if outcome.returncode != 0:
            raise self._failure("apply", outcome, errored, started)

    def outputs(self) -> dict[str, Any]:
        """The outputs as `{name: value}` (see `string_outputs`): those the last apply
        reported, else (a sensitive one, whose value the apply does not show)
        `terraform output -json`."""
        if self.applied_outputs is not None:
            return dict(self.applied_outputs)
        outcome = self._run(["output", "-json"], json_lines=False)
        if outcome.returncode != 0:
            raise self._failure("output", outcome)
        document = json.loads("\n".join(outcome.lines) or "{}")
        return output_values(document) if isinstance(document, dict) else {}

    # --- the process ------------------------------------------------------------------------

    def _environment(self) -> dict[str, str]:
        fixed = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
        return {**os.environ, **self.env, **fixed}

    def _run(
        self,
        args: list[str],
        *,
        json_lines: bool = True,
        on_message: Callable[[dict[str, Any]], None] | None = None,
    ) -> Outcome:
        """Run `terraform ARGS`; stop it when `cancel` is set or Ctrl-C reaches this loop."""
        if self.cancel.is_set():
            raise TerraformInterruptedError(
                f"terraform {args[0]} was not started in {self.workdir}: the run was stopped"
            )
        with self._start(args) as process:
            stopper = _Stopper(process, self.STOP_GRACE_SECONDS)
            outcome = Outcome(returncode=-1, on_message=on_message)
            done = threading.Event()
            helpers = [
                threading.Thread(target=self._collect_stderr, args=(process, outcome)),
                threading.Thread(target=self._watch_cancel, args=(stopper, done)),
            ]
            for helper in helpers:
                helper.start()
            try:
                self._read(process, outcome, stopper, json=json_lines)
            finally:
                done.set()
                stopper.close()
                for helper in helpers:
                    helper.join()
        outcome.returncode = process.returncode
        if stopper.requested:
            raise self._interrupted(args[0], outcome, stopper.killed)
        return outcome

    def _start(self, args: list[str]) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [self.terraform.path, *args],
            cwd=self.workdir,
            env=self._environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            start_new_session=True,
        )

    def _read(
        self, process: subprocess.Popen[str], outcome: Outcome, stopper: _Stopper, json: bool
    ) -> None:
        """Read stdout to its end. A Ctrl-C stops Terraform and goes on reading; an error in a
        callback stops it too, and is raised once Terraform has ended."""
        assert process.stdout is not None  # noqa: S101 - stdout=PIPE
        while True:
            try:
                for line in process.stdout:
                    self._take(line.rstrip("\n"), outcome, json=json)
                process.wait()
            except KeyboardInterrupt:
                stopper.stop()
            except Exception:
                stopper.stop()
                outcome.lines += process.stdout.readlines()
                process.wait()
                raise
            else:
                return

    def _take(self, line: str, outcome: Outcome, *, json: bool) -> None:
        """One line of stdout: kept, its human text given to `on_line`, a JSON message to
        `outcome.on_message`."""
        outcome.lines.append(line)
        message = parse_line(line) if json else None
        if message is not None:
            outcome.messages.append(message)
            line = str(message.get("@message", ""))
        if json and self.on_line is not None and line.strip():
            self.on_line(line)
        if message is not None and outcome.on_message is not None:
            outcome.on_message(message)

    @staticmethod
    def _collect_stderr(process: subprocess.Popen[str], outcome: Outcome) -> None:
        assert process.stderr is not None  # noqa: S101 - stderr=PIPE
        outcome.stderr = process.stderr.read()

    def _watch_cancel(self, stopper: _Stopper, done: threading.Event) -> None:
        while not done.is_set():
            if self.cancel.wait(0.1):
                stopper.stop()
                return

    # --- errors -----------------------------------------------------------------------------

    def _interrupted(self, command: str, outcome: Outcome, killed: bool) -> PcliError:
        message, lock = stopped_report(command, self.workdir, outcome.text(), killed=killed)
        held = killed or (lock is not None) or LOCK_RELEASE in outcome.text()
        hint = unlock_hint(self.workdir, lock) if held else None
        return TerraformInterruptedError(message, lock=lock, hint=hint)

    def _locked(self, command: str, text: str) -> TerraformLockedError:
        message, lock = locked_report(command, self.workdir, text)
        return TerraformLockedError(message, lock=lock, hint=unlock_hint(self.workdir, lock))

    def _init_error(self, outcome: Outcome) -> PcliError:
        text = outcome.text()
        if LOCK_ACQUIRE in text:
            return self._locked("init", text)
        quoted = "; ".join(first_error_lines(text))
        if is_provider_failure(text):
            provider = failed_provider(text) or "a provider"
            return PcliError(
                f"terraform init in {self.workdir} could not install {provider}: {quoted}",
                hint=_MIRROR_HINT,
            )
        return PcliError(
            f"terraform init failed in {self.workdir}: {quoted}",
            hint="fix the Terraform configuration or the backend settings named above",
        )

    def _failure(
        self,
        command: str,
        outcome: Outcome,
        errored: list[StackEvent] | None = None,
        started: Mapping[str, StackEvent] | None = None,
    ) -> PcliError:
        text = outcome.text()
        if LOCK_ACQUIRE in text:
            return self._locked(command, text)
        message, failures, details = failure_report(command, outcome, errored, started)
        return TerraformFailedError(
            message,
            failures=failures,
            details=details,
            hint=f"fix what Terraform reports above, then run again (work folder {self.workdir})",
        )
