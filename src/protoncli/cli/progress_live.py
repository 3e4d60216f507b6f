"""The live view of deployment progress: a table per stack, redrawn in place (terminal only).

Each resource, its status (coloured unless NO_COLOR or --color never), the time it has taken and,
for failures, the reason; planned changes are listed before their first event.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Self

from protoncli.cli.progress import (
    CHANGE_SET_COLUMNS,
    REFRESH_PER_SECOND,
    Clock,
    DeployTracker,
    ResourceState,
    StackState,
    change_set_rows,
    format_elapsed,
    is_failure_status,
    one_line,
)
from protoncli.deploy.model import TERMINAL_FAILED, DeployEvent, is_in_progress

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live
    from rich.text import Text


# --- live tables --------------------------------------------------------------------------


def _status_style(status: str) -> str:
    if is_failure_status(status) or status in TERMINAL_FAILED:
        return "bold red"
    if is_in_progress(status) or status in {"PLANNING", "WAITING", "DELETING"}:
        return "yellow"
    if status.endswith("_COMPLETE") or status in {"NO CHANGES", "CHANGES READY"}:
        return "green"
    return "dim"


def _planned(row: ResourceState, *, finished: bool, succeeded: bool) -> str:
    """The status shown for a change that has had no event yet: pending while the stack runs;
    after a failure, not started (CloudFormation stopped before it); after a success, done with
    no event of its own (an endpoint such as the sandbox reports stack events only)."""
    replace = " (replace)" if row.replacement == "True" else ""
    if not finished:
        state = "pending"
    elif succeeded:
        return "done (no event)"
    else:
        state = "not started"
    return f"{state}: {row.action or '?'}{replace}"


class LiveView:
    """A table per stack, redrawn about four times a second; the last drawing stays on screen."""

    def __init__(
        self,
        console: Console,
        *,
        clock: Clock = time.monotonic,
        refresh_per_second: float = REFRESH_PER_SECOND,
    ) -> None:
        self.console = console
        self._lock = threading.RLock()
        self._tracker = DeployTracker(clock)
        self._refresh_per_second = refresh_per_second
        self._live: Live | None = None

    def __enter__(self) -> Self:
        from rich.live import Live

        self._live = Live(
            console=self.console,
            get_renderable=self.renderable,
            refresh_per_second=self._refresh_per_second,
            transient=False,
            # Data on a redirected stdout must never land in the terminal; stderr writes from
            # elsewhere are shown above the table.
            redirect_stdout=False,
            redirect_stderr=self.console.file is sys.stderr,
        )
        self._live.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def on_event(self, event: DeployEvent) -> None:
        # Never print while holding the lock: Live's refresh thread takes its own lock, then
        # ours (in `renderable`). The table itself is redrawn by that thread.
        if event.kind == "warning":
            self.console.print(f"Warning: {event.message}", markup=False, highlight=False)
            return
        with self._lock:
            self._tracker.apply(event)
        if event.kind == "changes":
            self.console.print(self._change_set(event))

    def note(self, message: str) -> None:
        from rich.text import Text

        self.console.print(Text(message))

    def result(self, ok: bool, exit_code: int, resources: Sequence[Mapping[str, Any]]) -> None:
        """Nothing to add: the final table stays on screen."""

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Stop redrawing (a prompt would be overwritten) and take the live tables off the
        screen while a question is asked: the change set printed above stays, so the question
        follows what it is about; the tables are drawn again below the answer."""
        if self._live is None:
            yield
            return
        self._live.transient = True
        self.__exit__()
        try:
            yield
        finally:
            self.__enter__()

    def renderable(self) -> RenderableType:
        from rich.console import Group

        with self._lock:
            now = self._tracker.clock()
            return Group(*(self._stack_table(s, now) for s in self._tracker.stacks.values()))

    def _stack_title(self, stack: StackState, now: float) -> Text:
        from rich.text import Text

        title = Text.assemble(
            (stack.description, "bold"),
            f" ({stack.stack_name})  ",
            (stack.status, _status_style(stack.status)),
            f"  {format_elapsed(stack.elapsed(now))}",
        )
        if stack.message:
            title.append(f"  {one_line(stack.message)}", style="dim")
        return title

    def _stack_table(self, stack: StackState, now: float) -> RenderableType:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        title = self._stack_title(stack, now)
        if not stack.resources:
            return title
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
        for column in ("RESOURCE", "TYPE", "STATUS", "TIME", "REASON"):
            table.add_column(column, overflow="fold")
        finished = stack.finished is not None
        succeeded = finished and not is_failure_status(stack.status)  # covers TERMINAL_FAILED
        for row in stack.resources.values():
            status = row.status or _planned(row, finished=finished, succeeded=succeeded)
            elapsed = row.elapsed(now)
            reason = one_line(row.reason) if is_failure_status(row.status) else ""
            table.add_row(
                row.logical_id,
                row.resource_type,
                Text(status, style=_status_style(row.status)),
                "" if elapsed is None else format_elapsed(elapsed),
                Text(reason, style="red"),
            )
        return table

    @staticmethod
    def _change_set(event: DeployEvent) -> RenderableType:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        title = Text(f"Changes to {event.description} ({event.stack_name}):", style="bold")
        table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
        for column in CHANGE_SET_COLUMNS:
            table.add_column(column, overflow="fold")
        styles = {"Add": "green", "Modify": "yellow", "Remove": "red"}
        for action, logical_id, resource_type, replacement in change_set_rows(event.changes):
            table.add_row(
                Text(action, style=styles.get(action, "")),
                logical_id,
                resource_type,
                Text(replacement, style="bold red" if replacement == "True" else ""),
            )
        return table
