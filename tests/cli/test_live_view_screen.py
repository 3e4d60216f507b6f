"""A small terminal screen for checking what the live view leaves on a real terminal, and the
checks of the screen itself.

`Screen` replays what a program wrote to a terminal of a given size: printable characters,
carriage return, line feed (which starts the line again, as a tty's `onlcr` makes it),
backspace, tab, and the escape sequences rich and click write (cursor up/down/left/right/
column/position, erase in line and in display; styles and modes, which move nothing). It
keeps the lines scrolled off the top (the scrollback a person can scroll back to) and counts
automatic wraps: a line wider than the terminal wraps, which breaks every redraw in place that
counts lines.
"""

from __future__ import annotations

import re

import pytest

_SEQUENCE = re.compile(
    r"\x1b\[([0-9;?]*)([A-Za-z@])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]"
)


class Screen:
    """A terminal of `rows` x `columns` that `feed` writes to."""

    def __init__(self, rows: int = 24, columns: int = 80) -> None:
        self.rows, self.columns = rows, columns
        self.grid = [[" "] * columns for _ in range(rows)]
        self.scrollback: list[str] = []
        self.row = self.column = 0
        self.wrap_pending = False
        self.wraps = 0  # lines that were wider than the terminal

    # --- what a program writes ----------------------------------------------------------

    def feed(self, text: str) -> None:
        position = 0
        for match in _SEQUENCE.finditer(text):
            self._characters(text[position : match.start()])
            if match.group(2):
                self._control(match.group(1), match.group(2))
            position = match.end()
        self._characters(text[position:])

    def _characters(self, text: str) -> None:
        for char in text:
            if char == "\r":
                self.column, self.wrap_pending = 0, False
            elif char == "\n":  # the tty turns it into CR LF (onlcr), as a program expects
                self._line_feed()
                self.column = 0
            elif char == "\b":
                self.column, self.wrap_pending = max(self.column - 1, 0), False
            elif char == "\t":
                self.column = min((self.column // 8 + 1) * 8, self.columns - 1)
            elif char in "\x07\x0e\x0f" or char < " ":
                continue
            else:
                self._put(char)

    def _put(self, char: str) -> None:
        if self.wrap_pending:
            self.wraps += 1
            self.column, self.wrap_pending = 0, False
            self._line_feed()
        self.grid[self.row][self.column] = char
        if self.column == self.columns - 1:
            self.wrap_pending = True  # xterm's deferred wrap: the next character wraps
        else:
            self.column += 1

    def _line_feed(self) -> None:
        self.wrap_pending = False
        if self.row == self.rows - 1:
            self.scrollback.append("".join(self.grid.pop(0)).rstrip())
            self.grid.append([" "] * self.columns)
        else:
            self.row += 1

    def _control(self, params: str, final: str) -> None:
        if params.startswith("?"):
            return  # private modes: the cursor shown or hidden, the alternate screen, ...
        numbers = [int(p) if p else 0 for p in params.split(";")] if params else []
        first = numbers[0] if numbers else 0
        count = max(first, 1)
        self.wrap_pending = final == "m" and self.wrap_pending  # only styles keep it
        if final == "A":
            self.row = max(self.row - count, 0)
        elif final == "B":
            self.row = min(self.row + count, self.rows - 1)
        elif final == "C":
            self.column = min(self.column + count, self.columns - 1)
        elif final == "D":
            self.column = max(self.column - count, 0)
        elif final == "G":
            self.column = min(count, self.columns) - 1
        elif final in "Hf":
            row, column = [*numbers, 1, 1][:2]
            self.row = min(max(row, 1), self.rows) - 1
            self.column = min(max(column, 1), self.columns) - 1
        elif final == "K":
            self._erase_line(first)
        elif final == "J":
            self._erase_display(first)

    def _erase_line(self, mode: int) -> None:
        line = self.grid[self.row]
        start, end = {0: (self.column, self.columns), 1: (0, self.column + 1)}.get(
            mode, (0, self.columns)
        )
        line[start:end] = [" "] * (end - start)

    def _erase_display(self, mode: int) -> None:
        self._erase_line(mode if mode in (0, 1) else 2)
        rows = {0: range(self.row + 1, self.rows), 1: range(self.row)}.get(mode, range(self.rows))
        for row in rows:
            self.grid[row] = [" "] * self.columns

    # --- what a person sees -------------------------------------------------------------

    @property
    def lines(self) -> list[str]:
        """The screen's lines, trailing blanks cut, the blank lines at the bottom left out."""
        lines = ["".join(row).rstrip() for row in self.grid]
        while lines and not lines[-1]:
            lines.pop()
        return lines

    @property
    def history(self) -> list[str]:
        """Everything a person can read: the scrollback, then the screen."""
        return [*self.scrollback, *self.lines]

    @property
    def text(self) -> str:
        return "\n".join(self.history)


def screen_of(output: str, rows: int = 24, columns: int = 80) -> Screen:
    screen = Screen(rows, columns)
    screen.feed(output)
    return screen


# --- the screen itself ----------------------------------------------------------------------


def test_lines_are_written_and_scrolled_into_the_scrollback():
    screen = screen_of("one\r\ntwo\nthree\n", rows=2, columns=10)

    assert screen.scrollback == ["one", "two"]
    assert screen.lines == ["three"]
    assert screen.wraps == 0


def test_a_line_as_wide_as_the_screen_does_not_wrap_but_a_wider_one_does():
    exact = screen_of("x" * 10 + "\n", rows=3, columns=10)
    wider = screen_of("x" * 11 + "\n", rows=3, columns=10)

    assert exact.wraps == 0
    assert exact.lines == ["x" * 10]
    assert wider.wraps == 1
    assert wider.lines == ["x" * 10, "x"]


def test_a_redraw_in_place_moves_up_and_erases_what_it_replaces():
    first = "a table\nrow 1"
    redraw = "\r\x1b[2K\x1b[1A\x1b[2K"  # rich's LiveRender.position_cursor for two lines
    screen = screen_of(f"above\n{first}{redraw}\x1b[1mnew\x1b[0m table\nrow 2\n")

    assert screen.history == ["above", "new table", "row 2"]


@pytest.mark.parametrize(
    ("sequence", "expected"),
    [("\x1b[K", "ab"), ("\x1b[1K", "   de"), ("\x1b[2K", ""), ("\x1b[3G|", "ab|de")],
)
def test_erasing_and_moving_within_a_line(sequence, expected):
    screen = screen_of("abcde\x1b[3D" + sequence)

    assert screen.lines == ([expected] if expected else [])
