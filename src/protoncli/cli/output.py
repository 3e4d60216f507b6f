"""The one place that prints: tables, JSON documents, notes and warnings.

Data goes to stdout; notes, warnings and progress to stderr, so `pcli ... --json | jq` works.
Colour follows rich's rules (NO_COLOR, a non-terminal stdout turns it off).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

JSON_SCHEMA_VERSION = "1"
PIPE_WIDTH = 200  # columns of a table written to a pipe or a file


def _console(*, stderr: bool = False) -> Any:
    """A rich console; when writing to a pipe or a log it is wide, so tables are not cut."""
    import os

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, soft_wrap=False, width=width)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def note(message: str) -> None:
    sys.stderr.write(message + "\n")


def warn(message: str) -> None:
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
    _console().print(grid)


def key_values(pairs: Iterable[tuple[str, Any]]) -> None:
    items = list(pairs)
    width = max((len(key) for key, _ in items), default=0)
    for key, value in items:
        line(f"{key + ':':<{width + 1}} {'' if value is None else value}")
