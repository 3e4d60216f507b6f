"""Entry point of the `pcli` console script."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any, TextIO


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class ClosedPipeSafe:
    """Standard output that a reader going away (`pcli ... | head -1`) never breaks.

    When the pipe closes, what pcli still has to say is dropped (the stream is pointed at the
    null device) and the command goes on: a deployment must not stop because nobody reads its
    progress any more. Everything else is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_null()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_null()

    def _to_null(self) -> None:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, self._stream.fileno())
        finally:
            os.close(null)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    """Run pcli; return (and, as a script, exit with) the process exit code.

    SIGTERM (what CI runners send to cancel a job) is handled as Ctrl-C: waits end, change
    sets not yet executed are removed, and the command says what goes on in AWS (exit 130).
    A closed standard output (the reader of a pipe exited) never stops a command.
    """
    from protoncli.cli.app import run

    signal.signal(signal.SIGTERM, _interrupt)
    sys.stdout = ClosedPipeSafe(sys.stdout)
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
