"""Deployment progress: one stream of DeployEvents, four views, picked by `make_view`.

- `LiveView` (progress_live.py): a table per stack redrawn in place (terminal only): each
  resource, its status (coloured unless NO_COLOR), the time it has taken and, for failures, the
  reason; never taller or wider than the terminal, never drawn over a question.
- `PlainView`: one line per status change, no redraws, no colour (CI, pipes, logs).
- `QuietView` (`--quiet`): nothing but a change set asked about in a terminal; failures reach
  the user as the command's error.
- `NdjsonView` (progress_ndjson.py, `--json`): one JSON object per line on stdout; the first says
  `{"type": "version", ...}`, the last `{"type": "result", ...}`.

A change set is laid out the same way in every human view (change_sets.py).

`on_event` is thread-safe in every view: several stacks deploy in parallel. Human views write to
stderr so stdout stays for data. Views show only what the events carry (names, types, statuses,
CloudFormation's reasons, a change set's property values and changed inputs), never template
bodies; the engine masks what a change set shows of secrets before it reports it
(deploy/explain.py), so secrets cannot reach them.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self, TextIO

from protoncli.cli import change_sets, output
from protoncli.cli.state import running_in_ci
from protoncli.deploy.model import (
    Change,
    DeployEvent,
    DeployResult,
    InputChanges,
    StackEvent,
    is_in_progress,
)

Clock = Callable[[], float]

CHANGE_SET_COLUMNS = change_sets.COLUMNS
STACK_TYPE = "AWS::CloudFormation::Stack"
HEARTBEAT_SECONDS = 30.0
REFRESH_PER_SECOND = 4.0
PLAIN_WIDTH = change_sets.PLAIN_WIDTH
# CloudFormation marks every sibling of a failed resource with one of these; they are noise
# next to the failure that caused them.
_CANCELLED_REASONS = ("Resource creation cancelled", "Resource update cancelled")

_STACK_LABELS = {
    "start": "PLANNING",
    "changes": "CHANGES READY",
    "no-changes": "NO CHANGES",
    "waiting": "WAITING",
    "deleted": "DELETE_COMPLETE",
}


class ProgressView(Protocol):
    """What a deploy command talks to; `make_view` picks the implementation."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def on_event(self, event: DeployEvent) -> None: ...

    def note(self, message: str) -> None: ...

    def result(self, ok: bool, exit_code: int, resources: Sequence[Mapping[str, Any]]) -> None: ...

    def paused(self) -> AbstractContextManager[None]:
        """Hold redraws while a question is asked (`with view.paused(): confirm(...)`)."""
        ...


def make_view(
    *,
    json_mode: bool,
    command: str,
    stream: TextIO | None = None,
    force_plain: bool = False,
    quiet: bool = False,
    color: str | None = None,
    asks: bool = False,
) -> ProgressView:
    """NDJSON with `--json` (also with --quiet: it is the command's result); nothing with
    --quiet; a live view on a terminal (not in CI, not TERM=dumb); plain lines otherwise.

    `color` is the --color mode: NO_COLOR (auto) or `never` keep the live view but drop its
    colours; plain lines never have any. `asks`: a question may come before anything is
    deployed, so the live view draws nothing until one has been answered."""
    if json_mode:
        from protoncli.cli.progress_ndjson import NdjsonView

        return NdjsonView(command=command, stream=stream)
    if quiet:
        return QuietView(hold=asks)
    target = stream if stream is not None else sys.stderr
    if not force_plain and _live_view_possible(target):
        from rich.console import Console

        from protoncli.cli.progress_live import LiveView

        options = output.console_options(color)
        console = Console(file=target, highlight=False, soft_wrap=False, **options)
        return LiveView(console, hold=asks)
    return PlainView(stream=target)


def _live_view_possible(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return False
    if running_in_ci():
        return False
    return os.environ.get("TERM", "") != "dumb"


# --- shared helpers -----------------------------------------------------------------------


def format_elapsed(seconds: float) -> str:
    """`2.1s`, `1m05s`, `1h02m`."""
    seconds = max(seconds, 0.0)
    if seconds < 60:  # noqa: PLR2004 - one minute
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 3600:  # noqa: PLR2004 - one hour
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def is_failure_status(status: str) -> bool:
    return "FAILED" in status or "ROLLBACK" in status


def change_set_rows(changes: Sequence[Change]) -> list[tuple[str, str, str, str]]:
    return change_sets.rows(changes)


def change_set_table(
    changes: Sequence[Change],
    inputs: InputChanges | None = None,
    *,
    title: str | None = None,
    stream: TextIO | None = None,
) -> None:
    """Print a change set (the inputs changed, then ACTION, LOGICAL ID, TYPE, REPLACEMENT and
    what changes in each resource) to stderr, or to `stream` (stdout for `plan --changes`).

    It is human output (progress), so by default it never mixes into data or NDJSON on stdout.
    """
    console = output.make_console(stream, stderr=stream is None)
    console.print(
        change_sets.renderable(title, changes, inputs, width=console.width, indent=""),
        no_wrap=True,
        overflow="ellipsis",
        crop=False,
    )


def change_set_lines(
    changes: Sequence[Change],
    inputs: InputChanges | None = None,
    *,
    width: int = change_sets.PLAIN_WIDTH,
) -> list[str]:
    """The change set as aligned plain-text lines: the inputs changed, a header, then one
    line per change, each followed by what changes in it (values cut to `width`)."""
    return change_sets.plain_lines(changes, inputs, width=width)


def _failure_line(failure: StackEvent) -> str:
    reason = one_line(failure.reason) or "no reason given"
    return f"{failure.logical_id} ({failure.resource_type}) {failure.status}: {reason}"


def _root_causes(failures: Sequence[StackEvent]) -> list[StackEvent]:
    causes = [f for f in failures if not one_line(f.reason).startswith(_CANCELLED_REASONS)]
    return causes or list(failures)


def summarize_failures(result: DeployResult) -> list[str]:
    """One plain line per failed resource of a deployment (`stack: Id (Type) STATUS: reason`),
    root causes only (CloudFormation's "Resource creation cancelled" echoes are dropped);
    a single line naming the stack's status when it failed without resource failures."""
    if result.ok and not result.failures:
        return []
    lines = [f"{result.stack_name}: {_failure_line(f)}" for f in _root_causes(result.failures)]
    return lines or [f"{result.stack_name}: {result.description} ended in {result.status}"]


# --- what the human views remember --------------------------------------------------------


@dataclass
class ResourceState:
    logical_id: str
    resource_type: str
    status: str = ""
    action: str | None = None
    replacement: str | None = None
    reason: str | None = None
    first_seen: float | None = None
    first_timestamp: datetime | None = None
    frozen_elapsed: float | None = None

    def elapsed(self, now: float) -> float | None:
        if self.frozen_elapsed is not None:
            return self.frozen_elapsed
        return None if self.first_seen is None else now - self.first_seen


@dataclass
class StackState:
    stack_name: str
    description: str
    started: float
    status: str = "PLANNING"
    message: str | None = None
    finished: float | None = None
    last_output: float = 0.0
    resources: dict[str, ResourceState] = field(default_factory=dict)
    version: int = 0  # counts the changes, so a view can tell what it has drawn already

    def elapsed(self, now: float) -> float:
        return (self.finished if self.finished is not None else now) - self.started


class DeployTracker:
    """Each stack and resource, its status and its timers; callers hold their own lock."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.stacks: dict[str, StackState] = {}

    def apply(self, event: DeployEvent) -> bool:
        """Record `event`; True when it changed a status a plain view should print."""
        stack = self._stack(event)
        stack.version += 1
        if event.kind == "resource":
            return event.event is not None and self._apply_resource(stack, event.event)
        stack.message = event.message
        if event.kind == "changes":
            for change in event.changes:
                row = self._resource(stack, change.logical_id, change.resource_type)
                row.action, row.replacement = change.action, change.replacement
        if event.kind in {"done", "failed"}:
            for failure in event.failures:
                self._apply_resource(stack, failure)
        stack.status = event.status or _STACK_LABELS.get(event.kind, stack.status)
        if event.kind in {"no-changes", "done", "failed", "deleted"}:
            stack.finished = self.clock()
        return True

    def answered(self) -> None:
        """A question was answered: the stacks whose change set waited for it start their
        clocks now, so the time a person took to read and answer is not counted as the
        deployment's."""
        now = self.clock()
        for stack in self.stacks.values():
            if stack.status == _STACK_LABELS["changes"] and stack.finished is None:
                stack.started = stack.last_output = now
                stack.version += 1

    def _stack(self, event: DeployEvent) -> StackState:
        stack = self.stacks.get(event.stack_name)
        if stack is None:
            now = self.clock()
            stack = StackState(event.stack_name, event.description, started=now, last_output=now)
            self.stacks[event.stack_name] = stack
        return stack

    @staticmethod
    def _resource(stack: StackState, logical_id: str, resource_type: str) -> ResourceState:
        row = stack.resources.get(logical_id)
        if row is None:
            row = stack.resources[logical_id] = ResourceState(logical_id, resource_type)
        return row

    def _apply_resource(self, stack: StackState, event: StackEvent) -> bool:
        if event.logical_id == stack.stack_name and event.resource_type == STACK_TYPE:
            changed = stack.status != event.status
            stack.status = event.status
            stack.message = event.reason if is_failure_status(event.status) else stack.message
            return changed
        row = self._resource(stack, event.logical_id, event.resource_type)
        if row.status == event.status:
            return False
        now = self.clock()
        if row.first_seen is None:
            row.first_seen, row.first_timestamp = now, event.timestamp
        row.status, row.reason = event.status, event.reason
        if is_in_progress(event.status):
            row.frozen_elapsed = None
        else:
            row.frozen_elapsed = _span(row.first_timestamp, event.timestamp, now - row.first_seen)
        return True


def _span(first: datetime | None, last: datetime, fallback: float) -> float:
    """Seconds between two CloudFormation timestamps (clock time when they do not compare)."""
    if first is None:
        return fallback
    try:
        return max((last - first).total_seconds(), 0.0)
    except TypeError:  # one naive, one aware
        return fallback


# --- plain lines --------------------------------------------------------------------------


class PlainView:
    """One line per change of status, written as it happens; a heartbeat line for a stack that
    has printed nothing for `heartbeat_seconds`, so CI logs show the job is alive."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        clock: Clock = time.monotonic,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self._stream = stream
        self._lock = threading.RLock()
        self._tracker = DeployTracker(clock)
        self._heartbeat_seconds = heartbeat_seconds
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._stop.clear()
        self._heartbeat = threading.Thread(target=self._beat, name="pcli-heartbeat", daemon=True)
        self._heartbeat.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
            self._heartbeat = None

    def on_event(self, event: DeployEvent) -> None:
        with self._lock:
            if event.kind == "warning":
                self._emit([f"Warning: {event.message}"])
                return
            if not self._tracker.apply(event):
                return
            stack = self._tracker.stacks[event.stack_name]
            self._write(stack, self._lines(event, stack))

    def note(self, message: str) -> None:
        with self._lock:
            self._emit([message])

    def result(self, ok: bool, exit_code: int, resources: Sequence[Mapping[str, Any]]) -> None:
        """Nothing to add: each stack's last line already says how it ended."""

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Lines never redraw, so there is nothing to hold; the stacks whose change set waited
        for the answer start their clocks once it is given."""
        yield
        with self._lock:
            self._tracker.answered()

    def heartbeat(self) -> None:
        """Print a line for each unfinished stack that has been quiet for a heartbeat."""
        with self._lock:
            now = self._tracker.clock()
            for stack in self._tracker.stacks.values():
                quiet = now - stack.last_output >= self._heartbeat_seconds
                if stack.finished is None and quiet:
                    elapsed = format_elapsed(stack.elapsed(now))
                    self._write(stack, [f"{stack.stack_name}  still {stack.status} ({elapsed})"])

    def _beat(self) -> None:
        while not self._stop.wait(self._heartbeat_seconds):
            self.heartbeat()

    def _write(self, stack: StackState, lines: list[str]) -> None:
        stack.last_output = self._tracker.clock()
        self._emit(lines)

    def _emit(self, lines: list[str]) -> None:
        stream = self._stream if self._stream is not None else sys.stderr
        stream.write("".join(line + "\n" for line in lines))
        stream.flush()

    def _lines(self, event: DeployEvent, stack: StackState) -> list[str]:
        if event.event is not None:
            return [self._resource_line(stack, event.event)]
        if event.kind == "log":  # a line a provisioning program printed, as it printed it
            return [f"{stack.stack_name}  | {event.message or ''}"]
        headline = f"{stack.stack_name}  {self._headline(event, stack)}"
        if event.kind == "changes":
            lines = change_set_lines(event.changes, event.inputs, width=PLAIN_WIDTH - 4)
            return [headline, *(f"    {line}" for line in lines)]
        if event.kind == "failed":
            failures = _root_causes(event.failures)
            return [headline, *(f"    {_failure_line(f)}" for f in failures)]
        return [headline]

    def _headline(self, event: DeployEvent, stack: StackState) -> str:
        extra = f" ({one_line(event.message)})" if event.message else ""
        match event.kind:
            case "start" if event.status == "DELETING":
                return f"Deleting {stack.description}{extra}"
            case "start":
                return f"Planning {stack.description}{extra}"
            case "changes":
                return f"Change set for {stack.description}: {len(event.changes)} change(s){extra}"
            case "no-changes":
                return f"No changes to {stack.description}{extra}"
            case "waiting":
                return f"Waiting: {one_line(event.message) or 'another operation is in progress'}"
        elapsed = format_elapsed(stack.elapsed(self._tracker.clock()))
        return f"{stack.description}: {stack.status} in {elapsed}{extra}"

    @staticmethod
    def _resource_line(stack: StackState, stack_event: StackEvent) -> str:
        reason = one_line(stack_event.reason)
        if stack_event.logical_id == stack.stack_name and stack_event.resource_type == STACK_TYPE:
            line = f"{stack.stack_name}  {stack_event.status}"
        else:
            row = stack.resources[stack_event.logical_id]
            line = f"{stack.stack_name}  {row.logical_id}  {row.resource_type}  {row.status}"
            if row.frozen_elapsed is not None:
                line += f" ({format_elapsed(row.frozen_elapsed)})"
        if reason and is_failure_status(stack_event.status):
            line += f"  {reason}"
        return line


# --- nothing (--quiet) ----------------------------------------------------------------------


class QuietView:
    """--quiet: no progress at all; a failure still reaches the user as the command's error.

    With `hold` (questions are asked in a terminal), a change set is still printed, right above
    its question: nobody should confirm changes they cannot see."""

    def __init__(self, *, hold: bool = False) -> None:
        self._hold = hold
        self._lock = threading.Lock()
        self._to_ask: dict[int, DeployEvent] = {}  # thread -> the change set it asks about

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing was drawn, so nothing to close."""

    def on_event(self, event: DeployEvent) -> None:
        """Progress is what --quiet leaves out; warnings still reach stderr."""
        if event.kind == "warning":
            sys.stderr.write(f"Warning: {event.message}\n")
        elif event.kind == "changes" and self._hold:
            with self._lock:  # the engine asks on the thread that reported it, right after
                self._to_ask[threading.get_ident()] = event

    def note(self, message: str) -> None:
        """Notes are what --quiet leaves out."""

    def result(self, ok: bool, exit_code: int, resources: Sequence[Mapping[str, Any]]) -> None:
        """The command prints its outcome itself."""

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Print the change set the question that follows is about, if any."""
        with self._lock:
            event = self._to_ask.pop(threading.get_ident(), None)
        if event is not None:
            change_set_table(
                event.changes,
                event.inputs,
                title=f"Changes to {event.description} ({event.stack_name}):",
            )
        yield
