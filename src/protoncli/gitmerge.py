"""Three-way merge of one text file with `git merge-file`, the one place pcli runs git.

git is on every machine pcli targets; it is looked up only when a merge is needed, so work that
merges nothing runs without it. The three versions are written to a private temporary folder
(never next to the user's files) and the merged text is read from git's standard output.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from protoncli.errors import PcliError

MAX_CONFLICTS = 127  # git merge-file's exit code counts conflicts up to this; more is an error


@dataclass(frozen=True)
class MergeOutcome:
    """The merged bytes, with diff3-style conflict markers where `conflicts` > 0."""

    data: bytes
    conflicts: int

    @property
    def clean(self) -> bool:
        return self.conflicts == 0


@dataclass(frozen=True)
class MergeLabels:
    """The names the conflict markers give the three versions."""

    ours: str
    base: str
    theirs: str


def merge_file(ours: bytes, base: bytes, theirs: bytes, labels: MergeLabels) -> MergeOutcome:
    """Merge the change from `base` to `theirs` into `ours` (`git merge-file -p --diff3`)."""
    git = shutil.which("git")
    if git is None:
        raise PcliError(
            "git is needed to merge your changes with the blueprint's, and it is not on PATH",
            hint="install git (https://git-scm.com/downloads) and run the command again",
        )
    with tempfile.TemporaryDirectory(prefix="pcli-merge-") as folder:
        paths = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(folder) / name
            path.write_bytes(data)
            paths.append(str(path))
        command = [git, "merge-file", "-p", "--diff3"]
        for label in (labels.ours, labels.base, labels.theirs):
            command += ["-L", label]
        done = subprocess.run([*command, *paths], capture_output=True, check=False)
    if not 0 <= done.returncode <= MAX_CONFLICTS:
        message = done.stderr.decode("utf-8", "replace").strip() or f"exit {done.returncode}"
        raise PcliError(f"git merge-file failed: {message}")
    return MergeOutcome(done.stdout, done.returncode)
