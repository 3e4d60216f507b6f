"""Upgrading code scaffolded from a blueprint's skeleton: a 3-way merge, as copier does.

A folder scaffolded by `pcli svc create --scaffold DIR` holds `.pcli-scaffold.json` (see
`workspace.scaffold`): the blueprint version it came from and the digest of each file of that
version's render. To move it to another version, pcli renders the skeleton of both versions with
the service's inputs and, file by file, brings the blueprint's change (old render → new render)
into the user's file:

| user's file                    | blueprint's change            | action                         |
|--------------------------------|-------------------------------|--------------------------------|
| equals the new render          | any                           | unchanged                      |
| equals the old render          | changed                       | updated (new render written)   |
| changed                        | none (old == new)             | unchanged (the user's edits)   |
| changed                        | changed                       | merged, or conflict            |
| absent                         | added                         | added                          |
| exists, pcli did not write it  | added, with other content     | conflict (kept)                |
| equals the old render          | removed                       | removed (deleted)              |
| changed                        | removed                       | conflict (kept)                |
| deleted by the user            | none / changed                | unchanged / conflict (absent)  |

Decisions:
- "The old render" is what pcli wrote when the file still has the recorded digest: such a file
  holds nothing of the user's, so it takes the new render even when the service's inputs changed
  since it was scaffolded. Otherwise it is the recorded version's skeleton rendered with today's
  inputs (pcli keeps digests, not contents).
- When the recorded version is gone from the registry, a folder whose every recorded file still
  has its digest is upgraded anyway (each file is then its own old render, so nothing of the
  user's can be lost); any changed or deleted file makes it an error that names the version.
- Text merges run `git merge-file --diff3`: a conflict carries markers showing the user's lines,
  the old render's and the new render's. Binary files are never merged: a changed one is a
  conflict without markers.
- By default one conflict refuses the whole upgrade: nothing is written. With
  `ConflictMode.MARKERS`, text conflicts are written with their markers and conflicts without
  markers keep the user's version (or its absence); no `.rej` or backup file is ever written.
- The record is rewritten last, with the new version and the digests of the new render (not of
  the merged files): a merged or conflicted file therefore never looks untouched later, and a
  later upgrade merges it again instead of replacing it.
- A folder left empty by a removal is removed too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from protoncli.errors import PcliError, UsageError
from protoncli.workspace.scaffold import (
    RECORD_FILE,
    SKELETON_LABEL,
    CiSource,
    ScaffoldRecord,
    file_digest,
    read_record,
    render_for_service,
    write_record,
)
from protoncli.yamlio import atomic_write

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle

SKIPPED_FOLDERS = frozenset({"node_modules", "__pycache__", "venv"})  # with every .hidden one


class Action(StrEnum):
    UNCHANGED = "unchanged"
    ADDED = "added"
    UPDATED = "updated"
    MERGED = "merged"
    REMOVED = "removed"
    CONFLICT = "conflict"


class ConflictMode(StrEnum):
    REFUSE = "refuse"  # one conflict: nothing is written
    MARKERS = "markers"  # write conflicts with markers (or keep the user's version)


class Outcome(StrEnum):
    DRY_RUN = "dry-run"
    APPLIED = "applied"
    REFUSED = "refused"


@dataclass(frozen=True)
class FileChange:
    """What the upgrade does to one file (a path relative to the folder)."""

    path: str
    action: Action
    note: str = ""  # why, for conflicts and for files left as they are
    markers: bool = False  # a conflict whose merge has conflict markers


@dataclass(frozen=True)
class ScaffoldUpgrade:
    """What an upgrade of a scaffolded folder did, or (dry run, refused) would do."""

    target: Path
    service: str
    blueprint: str
    from_version: str
    to_version: str
    outcome: Outcome
    conflict_mode: ConflictMode
    files: tuple[FileChange, ...]
    warnings: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[FileChange, ...]:
        return tuple(change for change in self.files if change.action is Action.CONFLICT)

    def paths(self, action: Action) -> tuple[str, ...]:
        return tuple(change.path for change in self.files if change.action is action)

    def summary(self) -> str:
        """ "1 updated, 1 merged, 2 unchanged": the counts that are not zero."""
        counts = [(action, len(self.paths(action))) for action in Action]
        listed = [f"{count} {action}" for action, count in counts if count]
        return ", ".join(listed) or "no files"


@dataclass(frozen=True)
class _Step:
    change: FileChange
    write: bytes | None = None  # what to write on apply (None: nothing)
    delete: bool = False


@dataclass(frozen=True)
class _Versions:
    """One file's three versions; None where it does not exist."""

    base: bytes | None  # the old render (or pcli's untouched file)
    ours: bytes | None  # the user's file
    theirs: bytes | None  # the new render


@dataclass
class _Planner:
    target: Path
    labels: tuple[str, str]  # the old and the new version, as blueprint@version
    conflict_mode: ConflictMode
    steps: list[_Step] = field(default_factory=list)

    def add(self, path: str, action: Action, note: str = "", **step: Any) -> None:
        markers = bool(step.pop("markers", False))
        self.steps.append(_Step(FileChange(path, action, note, markers), **step))


def upgrade_scaffold_files(
    record: ScaffoldRecord,
    *,
    old: Bundle | None,
    new: Bundle,
    instances: Mapping[str, Mapping[str, Any]],
    blueprint: str,
    version: str,
    conflicts: ConflictMode = ConflictMode.REFUSE,
    dry_run: bool = False,
    ci: CiSource | None = None,
) -> ScaffoldUpgrade:
    """Upgrade the folder of `record` from the recorded version (bundle `old`, None when the
    registry no longer has it) to `blueprint`@`version` (bundle `new`).

    `instances` are the service's instance inputs and `ci` its CI workflow, as for `scaffold`.
    Nothing is written with `dry_run`, nor when a conflict refuses the upgrade (the result says
    `refused`). Raises
    `UsageError` when `new` has no skeleton, and `PcliError` when the old render is needed but
    `old` is None, or when git is needed for a merge but missing.
    """
    target = record.target
    if not new.skeleton_files():
        raise UsageError(
            f"blueprint {blueprint}@{version} has no {SKELETON_LABEL}/ folder to upgrade to",
            hint="pick a version that has one with --to",
        )
    theirs = render_for_service(new, record.service, instances, ci=ci)
    base, warnings = _old_render(record, old, instances, ci)
    planner = _Planner(
        target,
        (f"{record.blueprint}@{record.version}", f"{blueprint}@{version}"),
        conflicts,
    )
    for path in sorted(base.keys() | theirs.keys()):
        _plan_file(planner, path, base.get(path), theirs.get(path))
    changes = tuple(step.change for step in planner.steps)
    has_conflicts = any(change.action is Action.CONFLICT for change in changes)
    if dry_run:
        outcome = Outcome.DRY_RUN
    elif has_conflicts and conflicts is ConflictMode.REFUSE:
        outcome = Outcome.REFUSED
    else:
        outcome = Outcome.APPLIED
        _apply(target, planner.steps)
        write_record(target, record.service, blueprint, version, theirs)
    return ScaffoldUpgrade(
        target=target,
        service=record.service,
        blueprint=blueprint,
        from_version=record.version,
        to_version=version,
        outcome=outcome,
        conflict_mode=conflicts,
        files=changes,
        warnings=tuple(warnings),
    )


def _old_render(
    record: ScaffoldRecord,
    old: Bundle | None,
    instances: Mapping[str, Mapping[str, Any]],
    ci: CiSource | None = None,
) -> tuple[dict[str, bytes], list[str]]:
    """{path: the old version of each file pcli wrote}, and warnings about it."""
    untouched: dict[str, bytes] = {}
    touched: list[str] = []
    for path, digest in sorted(record.files.items()):
        current = _read_file(record.target, path)
        if current is not None and file_digest(current) == digest:
            untouched[path] = current
        else:
            touched.append(path)
    if old is None:
        if touched:
            raise PcliError(
                f"blueprint {record.blueprint}@{record.version}, which {record.target} was "
                "scaffolded from, is not in the registry any more; merging your changes needs "
                "its render",
                details=[f"{path}: changed since pcli wrote it" for path in touched],
                hint=(
                    f"publish {record.blueprint}@{record.version} to the registry again, or "
                    "undo your changes to the files listed"
                ),
            )
        return untouched, []
    rendered = render_for_service(old, record.service, instances, ci=ci)
    warnings = [
        f"{path}: the render of {record.blueprint}@{record.version} with today's inputs differs "
        "from what pcli wrote (the inputs changed since?); your changes were merged against it"
        for path in touched
        if path in rendered
        and file_digest(rendered[path]) != record.files[path]
        and _read_file(record.target, path) is not None
    ]
    return {**rendered, **untouched}, warnings


def _plan_file(planner: _Planner, path: str, base: bytes | None, theirs: bytes | None) -> None:
    obstacle = _obstacle(planner.target, path)
    if obstacle:
        planner.add(path, Action.CONFLICT, obstacle)
        return
    ours = _read_file(planner.target, path)
    versions = _Versions(base, ours, theirs)
    if theirs is None:
        _plan_removal(planner, path, versions)
    elif ours is None:
        _plan_absent(planner, path, versions)
    elif ours == theirs:
        planner.add(path, Action.UNCHANGED)
    elif base is None:
        planner.add(path, Action.CONFLICT, "exists, and the new version adds a different file")
    elif ours == base:
        planner.add(path, Action.UPDATED, write=theirs)
    elif base == theirs:
        planner.add(path, Action.UNCHANGED, "your changes kept; the blueprint did not change it")
    else:
        _plan_merge(planner, path, base, ours, theirs)


def _plan_removal(planner: _Planner, path: str, versions: _Versions) -> None:
    if versions.ours is None:
        return  # gone already: nothing to say
    if versions.base is None:
        return  # not pcli's file
    if versions.ours == versions.base:
        planner.add(path, Action.REMOVED, delete=True)
    else:
        planner.add(path, Action.CONFLICT, "the new version removes it, and you changed it")


def _plan_absent(planner: _Planner, path: str, versions: _Versions) -> None:
    if versions.base is None:
        planner.add(path, Action.ADDED, write=versions.theirs)
    elif versions.base == versions.theirs:
        planner.add(path, Action.UNCHANGED, "you deleted it; the blueprint did not change it")
    else:
        planner.add(path, Action.CONFLICT, "you deleted it, and the new version changes it")


def _plan_merge(planner: _Planner, path: str, base: bytes, ours: bytes, theirs: bytes) -> None:
    from protoncli.gitmerge import MergeLabels, merge_file

    if not all(_is_text(data) for data in (base, ours, theirs)):
        planner.add(path, Action.CONFLICT, "a binary file you and the new version both changed")
        return
    old, new = planner.labels
    merged = merge_file(ours, base, theirs, MergeLabels(f"yours: {path}", old, new))
    if merged.clean:
        if merged.data == ours:
            planner.add(path, Action.UNCHANGED, "already has the new version's changes")
        else:
            planner.add(path, Action.MERGED, write=merged.data)
        return
    count = merged.conflicts
    note = f"{count} conflicting change{'s' if count > 1 else ''}"
    write = merged.data if planner.conflict_mode is ConflictMode.MARKERS else None
    planner.add(path, Action.CONFLICT, note, write=write, markers=True)


def _apply(target: Path, steps: list[_Step]) -> None:
    for step in steps:
        if step.write is not None:
            atomic_write(target / step.change.path, step.write)
    for step in steps:
        if step.delete:
            (target / step.change.path).unlink()
            _prune_empty_folders(target, step.change.path)


def _prune_empty_folders(target: Path, path: str) -> None:
    for folder in PurePosixPath(path).parents:
        if folder == PurePosixPath("."):
            return
        candidate = target / folder
        if any(candidate.iterdir()):
            return
        candidate.rmdir()


def _read_file(target: Path, path: str) -> bytes | None:
    candidate = target / path
    return candidate.read_bytes() if candidate.is_file() else None


def _obstacle(target: Path, path: str) -> str:
    """Why pcli may not touch `path` ("" when it may)."""
    destination = target / path
    if not destination.resolve().is_relative_to(target.resolve()):
        return "leads outside the folder (through a symbolic link)"
    parent = PurePosixPath(path).parent
    if any((target / folder).is_file() for folder in (parent, *parent.parents)):
        return "a file stands where its folder should be"
    if destination.exists() and not destination.is_file():
        return "a folder stands in the way"
    return ""


def _is_text(data: bytes) -> bool:
    if b"\0" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def find_scaffolds(root: Path, service: str) -> list[Path]:
    """The folders under `root` that hold a scaffold of `service`, sorted; hidden folders,
    node_modules, __pycache__ and venv are not searched."""
    return sorted(
        folder for folder in _record_folders(root) if read_record(folder).service == service
    )


def _record_folders(root: Path) -> Iterator[Path]:
    for current, folders, files in os.walk(root):
        folders[:] = [f for f in folders if not f.startswith(".") and f not in SKIPPED_FOLDERS]
        if RECORD_FILE in files:
            yield Path(current)
