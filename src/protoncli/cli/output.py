"""The one place that prints: tables, JSON documents, notes and warnings.

Data goes to stdout; notes, warnings and progress to stderr, so `pcli ... --json | jq` works.

Output modes follow the root options of the command running now (`AppState`):

- `--output json` (or `PCLI_OUTPUT=json`) acts as `--json` on every command (`wants_json`).
- `--quiet`: no notes and no progress; results (tables, documents, a deployment's outcome),
  warnings and errors still print.
- `--color auto|always|never`: `auto` colours a terminal unless NO_COLOR is set (rich's rules);
  `always` colours even a pipe; `never` writes no escape codes at all.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from protoncli.cli.state import AppState, app_state
from protoncli.errors import PcliError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

JSON_SCHEMA_VERSION = "1"
PIPE_WIDTH = 200  # columns of a table written to a pipe or a file
COLOR_MODES = ("auto", "always", "never")


def active_state() -> AppState | None:
    """The settings of the command running now; None outside a command."""
    # Typer 0.28 carries its own copy of click; its context stack is the one commands run in.
    from typer._click.globals import get_current_context

    ctx = get_current_context(silent=True)
    return app_state(ctx) if ctx is not None else None


def wants_json(ctx: Any, flag: bool) -> bool:
    """True when the command's `--json` flag is given, or `--output json` / PCLI_OUTPUT=json."""
    return flag or str(app_state(ctx).output or "").strip().lower() == "json"


def quiet() -> bool:
    """--quiet (or its setting) for the command running now; False outside a command."""
    state = active_state()
    try:
        return state is not None and bool(state.quiet)
    except PcliError:  # a bad setting is reported by the command itself
        return False


def color_mode() -> str:
    """`auto`, `always` or `never`, from --color and its setting (anything else reads as auto)."""
    state = active_state()
    try:
        mode = str((state.color if state is not None else None) or "auto").strip().lower()
    except PcliError:
        return "auto"
    return mode if mode in COLOR_MODES else "auto"


def console_options(mode: str | None = None) -> dict[str, Any]:
    """Keyword arguments for a rich Console that follow the colour mode."""
    match mode or color_mode():
        case "always":
            return {"force_terminal": True, "no_color": False}
        case "never":
            return {"color_system": None}
    return {}


def make_console(file: TextIO | None = None, *, stderr: bool = False) -> Console:
    """A rich console on `file` (default stdout, or stderr) that follows the colour mode;
    writing to a pipe or a log it is wide, so tables are not cut."""
    import os

    from rich.console import Console

    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    isatty = getattr(stream, "isatty", None)
    on_terminal = bool(isatty and isatty())
    width = None if on_terminal or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(file=stream, highlight=False, soft_wrap=False, width=width, **console_options())


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def note(message: str) -> None:
    """Human commentary on stderr (what was written, what to do next); none with --quiet."""
    if not quiet():
        sys.stderr.write(message + "\n")


def outcome(message: str) -> None:
    """How a deploying command ended, on stderr; printed even with --quiet."""
    sys.stderr.write(message + "\n")


def warn(message: str) -> None:
    """A warning on stderr; printed even with --quiet (it may need acting on)."""
    sys.stderr.write(f"Warning: {message}\n")


def warn_all(messages: Iterable[str]) -> None:
    for message in messages:
        warn(message)


def line(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    wrap: Sequence[str] = (),
) -> None:
    """Print a plain table (no box) that reads well in a terminal and in a log.

    Columns named in `wrap` (and the last column) fold long values; the others never wrap.
    Without colours (a pipe, a log, NO_COLOR), a table that fits the width as it is (the common
    case) is laid out directly, character for character as rich lays it out, at a fraction of
    the cost: measuring every cell of a fleet's rows took rich longer than reading the fleet.
    """
    cells = [["" if cell is None else str(cell) for cell in row] for row in rows]
    console = make_console()
    plain = title is None and console.color_system is None
    laid_out = _simple_table(list(columns), cells, console.width) if plain else None
    if laid_out is not None:
        console.print(laid_out, no_wrap=True, overflow="ignore", crop=False)
        return
    from rich import box
    from rich.table import Table

    grid = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        wraps = column in wrap or index == len(columns) - 1
        grid.add_column(column, overflow="fold", no_wrap=not wraps)
    for row in cells:
        grid.add_row(*row)
    console.print(grid)


_ONE_LINE = re.compile(r"[^\x00-\x1f\x7f\[]*")  # no control characters, no markup


def _prints_as_is(cell: str) -> bool:
    """Whether rich prints the text as it is on one line (no markup, no `:emoji:` code)."""
    from rich.text import Text

    if not _ONE_LINE.fullmatch(cell):
        return False
    return ":" not in cell or Text.from_markup(cell).plain == cell


def _simple_table(columns: list[str], rows: list[list[str]], width: int) -> Text | None:
    """The table as rich's SIMPLE_HEAD box without outer padding draws it (blank line, header,
    rule, rows, blank line), when every cell is plain text on one line and the whole fits
    `width`; None otherwise (rich then lays it out, folding what is too wide)."""
    from rich.cells import cell_len
    from rich.text import Text

    if any(len(row) != len(columns) for row in rows):
        return None
    widths = [cell_len(column) for column in columns]
    for row in rows:
        for index, cell in enumerate(row):
            if not _prints_as_is(cell):
                return None
            widths[index] = max(widths[index], cell_len(cell))
    total = 2 + sum(widths) + 3 * (len(columns) - 1)
    if total > width or not all(_prints_as_is(column) for column in columns):
        return None

    def line(values: Sequence[str]) -> str:
        pairs = zip(values, widths, strict=True)
        padded = (value + " " * (size - cell_len(value)) for value, size in pairs)
        return " " + "   ".join(padded) + " "

    rule = " " + "\u2500" * (total - 2) + " "
    body = [" " * total, line(columns), rule, *(line(row) for row in rows), " " * total]
    return Text("\n".join(body))


def key_values(pairs: Iterable[tuple[str, Any]]) -> None:
    items = list(pairs)
    width = max((len(key) for key, _ in items), default=0)
    for key, value in items:
        line(f"{key + ':':<{width + 1}} {'' if value is None else value}")
