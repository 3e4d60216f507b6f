"""Tables without colours are laid out directly, character for character as rich's own table
lays them out; what the direct layout cannot promise (markup, emoji codes, control characters,
a table wider than the console, a title, colours) goes to rich."""

from __future__ import annotations

import io

import pytest
from rich import box
from rich.console import Console
from rich.table import Table

from protoncli.cli import output

COLUMNS = ["ITEM", "ACTION", "DETAIL"]
PLAIN = [
    ("service instance web/web-dev", "update", "version changed"),
    ("environment dev", "none", ""),
    ("pipeline of web", "create", "arn:aws:iam::123456789012:role/x"),
    ("界面 😀 é", "-", "skipped: environment dev failed"),
]


def by_rich(columns, rows):
    """What rich's own table prints, as wide as pcli's console is here."""
    stream = io.StringIO()
    width = output.make_console().width
    console = Console(file=stream, width=width, highlight=False, soft_wrap=False, color_system=None)
    grid = Table(box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    for index, column in enumerate(columns):
        grid.add_column(column, overflow="fold", no_wrap=index != len(columns) - 1)
    for row in rows:
        grid.add_row(*row)
    console.print(grid)
    return stream.getvalue()


@pytest.mark.parametrize(
    "rows",
    [
        PLAIN,
        [],
        [("x", "", "")],
        [("a [b] c", "up", "x")],  # markup: rich's way
        [("a :smile: c", "up", "x")],  # an emoji code: rich's way
        [("tab\there", "up", "x")],  # a control character: rich's way
        [("y" * 150, "up", "a long detail " * 4)],  # wider than the console: rich folds it
    ],
)
def test_a_table_prints_as_rich_prints_it(capsys, monkeypatch, rows):
    monkeypatch.setenv("NO_COLOR", "1")
    output.table(COLUMNS, rows)

    assert capsys.readouterr().out == by_rich(COLUMNS, rows)


def test_plain_tables_that_fit_are_laid_out_directly():
    assert output._simple_table(COLUMNS, [list(row) for row in PLAIN], 200) is not None
    assert output._simple_table(COLUMNS, [["a [b] c", "", ""]], 200) is None
    assert output._simple_table(COLUMNS, [["y" * 150, "", "z" * 60]], 200) is None


def test_a_thousand_rows_print_as_rich_prints_them(capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    rows = [(f"service instance s{k}/s{k}-dev", "update", f"{k} changed") for k in range(1000)]

    output.table(COLUMNS, rows)

    assert capsys.readouterr().out == by_rich(COLUMNS, rows)
