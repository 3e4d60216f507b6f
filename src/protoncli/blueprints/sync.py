"""Proton's template sync, from a folder: `<name>/v<N>/` folders become versions of major N.

As in Proton: a `v<N>` folder whose major does not exist yet becomes `N.0`; a changed bundle
becomes the next minor of major N, checked for backward compatibility; an unchanged one creates
nothing; every synced version is a DRAFT. Service blueprints need `.template-registration.yaml`
(or the legacy `.compatible-envs`) in each major folder, as Proton requires.

Where the folders are (decision; Proton searches a repository for the template's name): the root
itself when it holds `v<N>` folders, else its sub-folders down to `MAX_SEARCH_DEPTH` levels, so
both `templates/` and a repository laid out as `environment-templates/<name>/v1/` work. A name
found twice is synced from the first folder (in sorted order) and the other is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from protoncli.blueprints.bundle import load_bundle
from protoncli.blueprints.limits import parse_major_folder
from protoncli.blueprints.model import Kind
from protoncli.blueprints.registry import IncompatibleSchemaError, Registry
from protoncli.errors import NotFoundError, PcliError

MAX_SEARCH_DEPTH = 3
REGISTRATION_FILES = (".template-registration.yaml", ".compatible-envs")


class SyncAction(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class TemplateFolder:
    """One `<name>/v<N>/` folder: a bundle root for major version N of blueprint `name`."""

    name: str
    major: int
    path: Path

    @property
    def major_folder(self) -> str:
        return f"v{self.major}"


@dataclass(frozen=True)
class SyncEntry:
    """What syncing one major folder did."""

    name: str
    major_folder: str  # "v1"
    path: Path
    action: SyncAction
    version: str | None = None  # the version created, or the existing one with that content
    reason: str | None = None  # why it failed
    details: tuple[str, ...] = ()  # every reason, e.g. each schema incompatibility


@dataclass(frozen=True)
class SyncReport:
    root: Path
    entries: tuple[SyncEntry, ...]

    @property
    def created(self) -> list[SyncEntry]:
        return [entry for entry in self.entries if entry.action is SyncAction.CREATED]

    @property
    def failed(self) -> list[SyncEntry]:
        return [entry for entry in self.entries if entry.action is SyncAction.FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed


def sync_directory(registry: Registry, root: Path) -> SyncReport:
    """Sync every template-sync folder under `root` into `registry`, one entry per folder."""
    folders, duplicates = _unique_by_name(find_template_folders(root))
    if not folders:
        raise NotFoundError(
            f"{root}: no template-sync folders (<name>/v<N>/) found",
            hint="lay blueprints out as <name>/v1/, <name>/v2/, ... (v<N> is the major version)",
        )
    entries = [_sync_one(registry, folder) for folder in folders]
    entries.extend(duplicates)
    entries.sort(key=lambda entry: (entry.name, int(entry.major_folder[1:]), str(entry.path)))
    return SyncReport(root=root, entries=tuple(entries))


def find_template_folders(root: Path) -> list[TemplateFolder]:
    """The `<name>/v<N>/` folders at or under `root`, sorted by name then major."""
    if not root.is_dir():
        raise NotFoundError(f"{root}: no such folder")
    own = _major_folders(root)
    if own:
        name = root.resolve().name
        return [TemplateFolder(name, major, path) for major, path in own]
    found: list[TemplateFolder] = []
    _search(root, 1, found)
    return found


def _search(folder: Path, depth: int, found: list[TemplateFolder]) -> None:
    for child in _subfolders(folder):
        majors = _major_folders(child)
        if majors:
            found.extend(TemplateFolder(child.name, major, path) for major, path in majors)
        elif depth < MAX_SEARCH_DEPTH:
            _search(child, depth + 1, found)


def _subfolders(folder: Path) -> list[Path]:
    try:
        children = list(folder.iterdir())
    except OSError:
        return []
    return sorted(c for c in children if c.is_dir() and not c.name.startswith("."))


def _major_folders(folder: Path) -> list[tuple[int, Path]]:
    majors = []
    for child in _subfolders(folder):
        major = parse_major_folder(child.name)
        if major is not None:
            majors.append((major, child))
    return sorted(majors)


def _unique_by_name(
    folders: list[TemplateFolder],
) -> tuple[list[TemplateFolder], list[SyncEntry]]:
    """Keep each name's folders from its first parent folder; report folders of a repeated name."""
    first_parent: dict[str, Path] = {}
    unique: list[TemplateFolder] = []
    duplicates: list[SyncEntry] = []
    for folder in folders:
        parent = first_parent.setdefault(folder.name, folder.path.parent)
        if parent == folder.path.parent:
            unique.append(folder)
            continue
        reason = f"another folder named {folder.name!r} was synced: {parent}"
        duplicates.append(_failed(folder, reason))
    return sorted(unique, key=lambda f: (f.name, f.major)), duplicates


def _sync_one(registry: Registry, folder: TemplateFolder) -> SyncEntry:
    try:
        bundle = load_bundle(folder.path)
    except PcliError as exc:
        return _failed(folder, exc.message, exc.details)
    if bundle.kind is Kind.SERVICE and not any(
        (folder.path / file).is_file() for file in REGISTRATION_FILES
    ):
        return _failed(
            folder,
            f"{folder.path}: a service blueprint needs {REGISTRATION_FILES[0]} "
            "(its compatible environments) for template sync",
        )
    try:
        result = registry.publish(
            bundle, name=folder.name, major=folder.major, draft=True, latest_minor_only=True
        )
    except IncompatibleSchemaError as exc:
        reason = f"{exc.message}; put it in a new v{_next_major(folder)} folder"
        return _failed(folder, reason, exc.details)
    except PcliError as exc:
        return _failed(folder, exc.message, exc.details)
    action = SyncAction.CREATED if result.created else SyncAction.UNCHANGED
    return SyncEntry(
        name=folder.name,
        major_folder=folder.major_folder,
        path=folder.path,
        action=action,
        version=result.version.version,
    )


def _next_major(folder: TemplateFolder) -> int:
    return max(major for major, _ in _major_folders(folder.path.parent)) + 1


def _failed(folder: TemplateFolder, reason: str, details: list[str] | None = None) -> SyncEntry:
    return SyncEntry(
        name=folder.name,
        major_folder=folder.major_folder,
        path=folder.path,
        action=SyncAction.FAILED,
        reason=reason,
        details=tuple(details or ()),
    )
