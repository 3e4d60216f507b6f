"""Entry point of the `pcli` console script."""

from __future__ import annotations

import signal
import sys
from types import FrameType


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Run pcli; return (and, as a script, exit with) the process exit code.

    SIGTERM (what CI runners send to cancel a job) is handled as Ctrl-C: waits end, change
    sets not yet executed are removed, and the command says what goes on in AWS (exit 130).
    """
    from protoncli.cli.app import run

    signal.signal(signal.SIGTERM, _interrupt)
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
