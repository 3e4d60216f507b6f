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
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from protoncli.cli.state import AppState, app_state
from protoncli.errors import PcliError

if TYPE_CHECKING:
    from rich.console import Console

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
    """
    from rich import box
    from rich.table import Table

    grid = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        wraps = column in wrap or index == len(columns) - 1
        grid.add_column(column, overflow="fold", no_wrap=not wraps)
    for row in rows:
        grid.add_row(*("" if cell is None else str(cell) for cell in row))
    make_console().print(grid)


def key_values(pairs: Iterable[tuple[str, Any]]) -> None:
    items = list(pairs)
    width = max((len(key) for key, _ in items), default=0)
    for key, value in items:
        line(f"{key + ':':<{width + 1}} {'' if value is None else value}")
