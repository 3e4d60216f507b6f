"""The git repository a workspace lives in: the desired state is the spec files, kept in git.

`pcli init` makes the new workspace's folder a repository unless it already lies inside one
that keeps its files (a monorepo; a folder that repository ignores gets a repository of its own)
or git is not installed; it never commits for the user.
"""

from __future__ import annotations

import re
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


def source_of(directory: Path) -> tuple[str | None, str | None]:
    """The repository id (OWNER/NAME) of the `origin` remote of the git repository around
    `directory`, and its checked-out branch; None for either that git cannot tell (no git, no
    repository, no origin, an origin URL of another shape, a detached HEAD)."""
    git = shutil.which("git")
    if git is None:
        return None, None
    url = _git_output(git, directory, "remote", "get-url", "origin")
    # `symbolic-ref` (not `rev-parse --abbrev-ref HEAD`) also names the branch of a repository
    # with no commit yet; it fails on a detached HEAD, which has no branch to build.
    branch = _git_output(git, directory, "symbolic-ref", "--quiet", "--short", "HEAD")
    return (repository_id_of_url(url) if url else None), branch


def _git_output(git: str, directory: Path, *args: str) -> str | None:
    done = subprocess.run(
        [git, "-C", str(directory), *args], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or None if done.returncode == 0 else None


_REMOTE_URL = re.compile(
    r"^(?:[a-z+]+://(?:[^@/]+@)?[^/:]+(?::\d+)?/|(?:[^@/:]+@)?[^/:]+:)(?P<path>.+?)(?:\.git)?/?$"
)


def repository_id_of_url(url: str) -> str | None:
    """OWNER/NAME of a remote URL: https://host/OWNER/NAME(.git), ssh://git@host/OWNER/NAME,
    git@host:OWNER/NAME(.git); None for another shape (a local path, a file:// URL)."""
    if url.startswith(("file:", "/", ".")):
        return None
    found = _REMOTE_URL.match(url)
    if found is None:
        return None
    path = found["path"].lstrip("/")
    return path if "/" in path else None
