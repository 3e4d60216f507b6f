"""Entry point of the `pcli` console script."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run pcli; return (and, as a script, exit with) the process exit code."""
    from protoncli.cli.app import run

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
