"""The git repository a workspace lives in: the desired state is the spec files, kept in git.

`pcli init` makes the new workspace's folder a repository unless it already lies inside one
that keeps its files (a monorepo; a folder that repository ignores gets a repository of its own)
or git is not installed; it never commits for the user.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

INITIALISED = "initialised"  # a new repository was made in the workspace's folder
INSIDE = "inside"  # the folder already lies in a repository's work tree
UNAVAILABLE = "unavailable"  # no git on PATH
SKIPPED = "skipped"  # --no-git


def ensure_repository(directory: Path) -> str:
    """Make `directory` a git repository unless it is already in one; what happened (one of
    the constants above). A git that fails is reported as unavailable, never as an error: the
    workspace itself was made."""
    git = shutil.which("git")
    if git is None:
        return UNAVAILABLE
    inside = subprocess.run(
        [git, "-C", str(directory), "rev-parse", "--is-inside-work-tree"],
        capture_output=True,
        text=True,
        check=False,
    )
    if inside.returncode == 0 and inside.stdout.strip() == "true" and not _ignored(git, directory):
        return INSIDE
    made = subprocess.run(
        [git, "init", "--quiet", str(directory)], capture_output=True, text=True, check=False
    )
    return INITIALISED if made.returncode == 0 else UNAVAILABLE


def _ignored(git: str, directory: Path) -> bool:
    """Whether the repository around `directory` ignores it (its files would never be kept
    there: the workspace gets a repository of its own)."""
    ignored = subprocess.run(
        [git, "-C", str(directory), "check-ignore", "--quiet", "."],
        capture_output=True,
        check=False,
    )
    return ignored.returncode == 0
