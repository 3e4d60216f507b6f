"""The live view of deployment progress: the stacks of a deployment, redrawn in place (terminal
only).

Each stack has a title line (what it is, its status, the time its deployment has taken, its
message) and, once its change set is known, a table of its resources: each resource, its status
(coloured unless NO_COLOR or --color never), the time it has taken and, for failures,
CloudFormation's reason; planned changes are listed before their first event.

- **Its cost is linear.** Events only update the tracker; one thread draws at a fixed rate
  (`refresh_per_second`), never per event, and a drawing equal to the last one is not written
  again. A stack's rows are laid out again only when it has changed (its `version`), and only
  the lines that fit on the screen are made and drawn: a drawing costs what the screen holds,
  whatever the number of stacks and resources.
- **It fits the terminal**: never wider (columns are cut with an ellipsis), never taller (one
  line less, for the cursor: a drawing taller than the screen cannot be redrawn in place and
  leaves copies of itself in the scrollback). When the stacks do not fit, the failed and
  running ones are shown first, then a line "… and N more (M done)"; the rows of a stack that
  does not fit likewise.
- **It never draws over a question.** `paused()` takes the drawing off the screen while one is
  asked; what would be printed meanwhile (change sets, notes, warnings) waits for the answer.
  With `hold` (questions are asked), each change set is printed right above its own question,
  even when several stacks are planned side by side, and nothing is drawn until the first
  question has been answered and something has happened since (a declined change set draws
  nothing); after a question ends in an interruption, nothing more.
"""

from __future__ import annotations

import sys
import textwrap
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from protoncli.cli import change_sets
from protoncli.cli.change_sets import ELLIPSIS, Line, Segment, fit
from protoncli.cli.progress import (
    REFRESH_PER_SECOND,
    Clock,
    DeployTracker,
    ResourceState,
    StackState,
    format_elapsed,
    is_failure_status,
    one_line,
)
from protoncli.deploy.model import TERMINAL_FAILED, DeployEvent, is_in_progress

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live

GAP = "  "
INDENT = "  "
TIME_WIDTH = 5  # "12.3s", "1m05s", "1h02m"
REASON_ROOM = 30  # a REASON column narrower than this goes under the rows instead
REASON_LINES = 3  # a failure's reason goes on over at most this many lines
RESOURCE_HEADER = ("RESOURCE", "TYPE", "STATUS")
RESOURCE_MINIMUM = (10, 12, 15)  # a cut never goes below these
# What is shown first when not everything fits, best first.
FAILED, ACTIVE, PENDING, DONE = range(4)


# --- laying out -----------------------------------------------------------------------------


def fit_columns(natural: Sequence[int], minimum: Sequence[int], room: int) -> list[int]:
    """Column widths within `room`: the widest column gives up a column at a time, none goes
    below its minimum (a line may then still be too wide: the screen's edge cuts it)."""
    widths = list(natural)
    excess = sum(widths) - room
    while excess > 0:
        cuttable = [i for i, width in enumerate(widths) if width > minimum[i]]
        if not cuttable:
            break
        widths[max(cuttable, key=widths.__getitem__)] -= 1
        excess -= 1
    return widths


def status_style(status: str) -> str:
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


def _stack_rank(stack: StackState) -> int:
    if is_failure_status(stack.status) or stack.status in TERMINAL_FAILED:
        return FAILED
    return ACTIVE if stack.finished is None else DONE


def _row_rank(row: ResourceState, shown: str) -> int:
    if is_failure_status(row.status):
        return FAILED
    if is_in_progress(row.status):
        return ACTIVE
    if not row.status and not shown.startswith("done"):
        return PENDING  # pending, or not started after a failure
    return DONE


def _more(hidden: int, done: int, indent: str = "") -> Line:
    said = f"{indent}{ELLIPSIS} and {hidden} more" + (f" ({done} done)" if done else "")
    return ((said, "dim"),)


@dataclass(frozen=True)
class _Row:
    rank: int
    head: Line  # resource, type and status, in their columns
    state: ResourceState  # for its time, which changes while it runs
    reason: str = ""  # a failure's reason: its first line, then `more`
    more: tuple[Line, ...] = ()

    @property
    def height(self) -> int:
        return 1 + len(self.more)

    def lines(self, now: float) -> list[Line]:
        elapsed = self.state.elapsed(now)
        took = "" if elapsed is None else format_elapsed(elapsed)
        if self.reason:
            time_column = (GAP + took.ljust(TIME_WIDTH) + GAP, "")
            return [(*self.head, time_column, (self.reason, "red")), *self.more]
        if took:
            return [(*self.head, (GAP + took, "")), *self.more]
        *first, (status, style) = self.head
        return [(*first, (status.rstrip(), style)), *self.more]


@dataclass(frozen=True)
class _Table:
    """A stack's resources laid out for one width; made again only when the stack changes."""

    key: tuple[int, int]  # the stack's version, the width
    header: Line
    rows: tuple[_Row, ...]
    height: int  # the lines of the whole table, its header included (none without rows)

    def lines(self, now: float, room: int) -> list[Line]:
        """The header and the rows, in `room` lines besides the header: all of them in order,
        or the failed and running first (shown in their order) and a line saying what is left
        out (the last of `room`)."""
        rows = self.rows
        if room >= self.height - 1:
            return [self.header, *(line for row in rows for line in row.lines(now))]
        chosen, used = [], 0
        for i in sorted(range(len(rows)), key=lambda i: (rows[i].rank, i)):
            if used + rows[i].height <= room - 1:
                chosen.append(i)
                used += rows[i].height
        hidden = [row for i, row in enumerate(rows) if i not in chosen]
        more = _more(len(hidden), sum(1 for row in hidden if row.rank == DONE), INDENT)
        shown = (line for i in sorted(chosen) for line in rows[i].lines(now))
        return [self.header, *shown, more]


def _table(stack: StackState, width: int) -> _Table:
    """The table of the stack's resources at `width`. A failure's reason (what to act on) goes
    on over a few lines: in a REASON column when the other columns leave it room enough, else
    on lines of its own under the row, so that no other column is cut for it."""
    finished = stack.finished is not None
    succeeded = finished and not is_failure_status(stack.status)  # covers TERMINAL_FAILED
    cells = []
    for row in stack.resources.values():
        status = row.status or _planned(row, finished=finished, succeeded=succeeded)
        reason = one_line(row.reason) if is_failure_status(row.status) else ""
        cells.append((row, (row.logical_id, row.resource_type, status), reason))
    natural = [
        max([len(RESOURCE_HEADER[i]), *(len(texts[i]) for _, texts, _ in cells)]) for i in range(3)
    ]
    fixed = len(INDENT) + 3 * len(GAP) + TIME_WIDTH
    widths = fit_columns(natural, RESOURCE_MINIMUM, width - fixed)
    column = any(reason for _, _, reason in cells)
    column = column and width - fixed - sum(widths) - len(GAP) >= REASON_ROOM
    reason_room = width - fixed - sum(widths) - len(GAP) if column else width - 2 * len(INDENT)

    def padded(texts: Sequence[str]) -> list[str]:
        return [fit(text, w).ljust(w) for text, w in zip(texts, widths, strict=True)]

    time_and_reason = "TIME".ljust(TIME_WIDTH) + GAP + "REASON" if column else "TIME"
    header = INDENT + GAP.join(padded(RESOURCE_HEADER)) + GAP + time_and_reason
    rows = []
    for row, texts, reason in cells:
        resource, resource_type, status = padded(texts)
        head = (
            (INDENT + resource + GAP + resource_type + GAP, ""),
            (status, status_style(row.status)),
        )
        rank = _row_rank(row, texts[2])
        if not reason:
            rows.append(_Row(rank, head, row))
            continue
        lines = REASON_LINES if column else REASON_LINES - 1
        pieces = textwrap.wrap(
            reason, max(reason_room, 1), max_lines=lines, placeholder=" " + ELLIPSIS
        )
        if column:
            left = " " * (width - reason_room)
            more = tuple(((left + piece, "red"),) for piece in pieces[1:])
            rows.append(_Row(rank, head, row, pieces[0], more))
        else:
            more = tuple(((INDENT * 2 + piece, "red"),) for piece in pieces)
            rows.append(_Row(rank, head, row, more=more))
    height = 1 + sum(row.height for row in rows) if rows else 0
    return _Table((stack.version, width), ((header, "bold"),), tuple(rows), height)


def _title(stack: StackState, now: float, width: int) -> Line:
    """What the stack is, its status and time, then its message, cut to `width`: the message
    goes first, then the stack's name, so the status and the time stay."""
    status = stack.status
    tail = f"{GAP}{status}{GAP}{format_elapsed(stack.elapsed(now))}"
    name, place = stack.description, f" ({stack.stack_name})"
    room = width - len(tail)
    if len(name) + len(place) > room:
        if len(name) + 5 <= room:
            place = fit(place, room - len(name))
        else:
            name, place = fit(name, max(room, 1)), ""
    line: list[Segment] = [(name, "bold"), (place, ""), (GAP, ""), (status, status_style(status))]
    line.append((tail[len(GAP) + len(status) :], ""))
    message = one_line(stack.message)
    left = width - len(name) - len(place) - len(tail) - len(GAP)
    if message and left >= 8:  # noqa: PLR2004 - a shorter piece says nothing
        line.append((GAP + fit(message, left), "dim"))
    return tuple(line)


def _text(line: Line) -> Any:
    from rich.text import Text

    # Cut at the screen's edge, never wrapped: a wrapped line would break the redraw in place.
    return Text.assemble(*line, no_wrap=True, overflow="ellipsis")


# --- the view -------------------------------------------------------------------------------


class LiveView:
    """The stacks of a deployment, redrawn about four times a second within the screen; the
    last drawing stays on screen."""

    def __init__(
        self,
        console: Console,
        *,
        clock: Clock = time.monotonic,
        refresh_per_second: float = REFRESH_PER_SECOND,
        hold: bool = False,
    ) -> None:
        self.console = console
        self._lock = threading.RLock()  # the tracker, what waits to be printed, the states
        self._drawing = threading.Lock()  # one drawing (or print) at a time; taken first
        self._tracker = DeployTracker(clock)
        self._interval = 1.0 / refresh_per_second
        self._waiting: list[RenderableType] = []  # printed above the drawing at the next one
        self._tables: dict[str, _Table] = {}
        self._live: Live | None = None
        self._shown: list[Line] | None = None  # the drawing on screen
        self._changed = False  # an event came since the last drawing
        self._asks = self._held = hold  # nothing drawn until a question has been answered
        self._to_ask: dict[int, RenderableType] = {}  # thread -> the change set it asks about
        self._asking = False
        self._closed = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Self:
        self._stop.clear()
        self._ticker = threading.Thread(target=self._tick, name="pcli-live-view", daemon=True)
        self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        self._draw()  # the last drawing, which stays
        with self._drawing, self._lock:
            self._closed = True
            live, self._live = self._live, None
        if live is not None:
            live.stop()

    def on_event(self, event: DeployEvent) -> None:
        if event.kind == "warning":
            self._print(self._plain(f"Warning: {event.message}"))
            return
        change_set = self._change_set(event) if event.kind == "changes" else None
        with self._lock:
            self._tracker.apply(event)
            self._changed = True
            if change_set is None or self._closed:
                return
            if self._asks:  # printed right above its question, which this thread asks next
                self._to_ask[threading.get_ident()] = change_set
                return
        self._print(change_set)

    def note(self, message: str) -> None:
        self._print(self._plain(message))

    def result(self, ok: bool, exit_code: int, resources: Sequence[Mapping[str, Any]]) -> None:
        """Nothing to add: the last drawing stays on screen."""

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Take the drawing off the screen while a question is asked, after what waited to be
        printed and, with `hold`, the change set the question is about (the last one this
        thread reported: the engine asks right after reporting it); draw again after the
        answer, which starts the clocks of the stacks that waited for it. After an
        interruption (Ctrl-C at the question) nothing more is drawn: the command ends there."""
        with self._drawing:
            with self._lock:
                self._asking, self._changed = True, False
                prints, self._waiting = [] if self._closed else self._waiting, []
                change_set = self._to_ask.pop(threading.get_ident(), None)
                if change_set is not None and not self._closed:
                    prints.append(change_set)
            live, self._live, self._shown = self._live, None, None
            if live is not None:
                live.transient = True
                live.stop()
            self._write(prints)
        try:
            yield
        except BaseException:
            with self._lock:
                self._closed = True
            raise
        with self._lock:
            self._tracker.answered()
            self._asking = self._held = False
            # Draw again if something was drawn or has happened since the question came;
            # else once something happens (after a declined change set, nothing does).
            self._changed = self._changed or live is not None
        self._draw()

    def renderable(self) -> RenderableType:
        """The drawing as it would be made now, at the console's size."""
        from rich.console import Group

        with self._lock:
            return Group(*map(_text, self._frame(*self._size())))

    # --- drawing --------------------------------------------------------------------------

    def _tick(self) -> None:
        while not self._stop.wait(self._interval):
            self._draw()

    def _draw(self) -> None:
        """Print what waits, then draw the stacks if they changed; nothing while a question
        is asked, before the first answer (`hold`) or once closed."""
        with self._drawing:
            with self._lock:
                if self._closed or self._asking:
                    return
                prints, self._waiting = self._waiting, []
                drawing = self._live is not None or (self._changed and not self._held)
                frame = self._frame(*self._size()) if drawing else None
                self._changed = self._changed and frame is None
            self._write(prints)
            if not frame or frame == self._shown:
                return
            if self._live is None:
                self._live = self._start()
            from rich.console import Group

            self._live.update(Group(*map(_text, frame)), refresh=True)
            self._shown = frame

    def _start(self) -> Live:
        from rich.live import Live

        live = Live(
            console=self.console,
            auto_refresh=False,  # drawn by `_tick`, at its rate
            transient=False,
            # Data on a redirected stdout must never land in the terminal; stderr writes from
            # elsewhere are shown above the drawing.
            redirect_stdout=False,
            redirect_stderr=self.console.file is sys.stderr,
        )
        live.start()
        return live

    def _write(self, prints: list[RenderableType]) -> None:
        """Print above the drawing (rich draws it again below them)."""
        if prints:
            from rich.console import Group

            self.console.print(Group(*prints))

    def _print(self, renderable: RenderableType) -> None:
        """Print now when nothing is drawn; else with the next drawing, above it (one redraw
        for all that came meanwhile); after the answer while a question is asked; never once
        closed."""
        with self._drawing:
            with self._lock:
                if self._closed:
                    return
                if self._asking or self._live is not None or self._waiting:
                    self._waiting.append(renderable)
                    return
            self._write([renderable])

    def _size(self) -> tuple[int, int]:
        size = self.console.size
        return size.width, size.height

    def _frame(self, width: int, height: int) -> list[Line]:
        """The lines of the drawing: every stack and row when they fit in `height` - 1 lines;
        else the failed and running stacks first, their rows, the others, and what is left out
        said on the last line. Callers hold the lock."""
        now = self._tracker.clock()
        stacks = list(self._tracker.stacks.values())
        tables = [self._table_of(stack, width) for stack in stacks]
        room = max(height - 1, 1)
        if sum(1 + table.height for table in tables) <= room:
            return [
                line
                for stack, table in zip(stacks, tables, strict=True)
                for line in self._section(stack, table, now, width, table.height - 1)
            ]
        ranks = [_stack_rank(stack) for stack in stacks]
        order = sorted(range(len(stacks)), key=lambda i: (ranks[i], i))
        left = room - 1 if len(stacks) > room else room  # the last line says what is left out
        shown: dict[int, int] = {}  # stack -> rows shown
        for urgent in (True, False):
            group = [i for i in order if (ranks[i] < DONE) == urgent]
            for i in group[:left]:
                shown[i] = 0
            left -= min(len(group), left)
            for i in group:
                height = tables[i].height
                if i not in shown or not height:
                    continue
                if height <= left:
                    shown[i], left = height - 1, left - height
                elif left >= 3:  # noqa: PLR2004 - the header, a row and the line of the others
                    shown[i], left = left - 1, 0
        lines = [
            line
            for i in shown
            for line in self._section(stacks[i], tables[i], now, width, shown[i])
        ]
        hidden = [i for i in order if i not in shown]
        if hidden:
            lines.append(_more(len(hidden), sum(1 for i in hidden if ranks[i] == DONE)))
        return lines

    def _section(
        self, stack: StackState, table: _Table, now: float, width: int, room: int
    ) -> list[Line]:
        """The stack's title, then its table in `room` lines besides its header."""
        title = _title(stack, now, width)
        return [title, *table.lines(now, room)] if room else [title]

    def _table_of(self, stack: StackState, width: int) -> _Table:
        table = self._tables.get(stack.stack_name)
        if table is None or table.key != (stack.version, width):
            table = self._tables[stack.stack_name] = _table(stack, width)
        return table

    # --- what is printed above the drawing --------------------------------------------------

    @staticmethod
    def _plain(message: str) -> RenderableType:
        from rich.text import Text

        return Text(message)

    def _change_set(self, event: DeployEvent) -> RenderableType:
        """The change set, its inputs and what changes in each resource, within the screen's
        width (change_sets.py)."""
        return change_sets.renderable(
            f"Changes to {event.description} ({event.stack_name}):",
            event.changes,
            event.inputs,
            width=self.console.width,
            indent=INDENT,
        )
