"""The starter blueprints shipped with pcli, and seeding them into a registry.

Starters live in template-sync layout (`<name>/v1/`). A registry shows them out of the box: the
commands that read a registry open it with `open_registry`, which first publishes every starter
the registry does not have by name (PUBLISHED, since starters are ready to use) and never touches
a blueprint of the same name that a user published. The registry itself knows nothing of
starters; publishing and template sync open it without seeding, so a user's own blueprint of a
starter's name published first stays the only one.

`<registry>/.starters.json` records what was seeded (name → action, version, digest), so later
reads cost one small file read and a listing of the starters folder. A starter is seeded once:
one a user removed from the registry is not brought back. Seeding is retried for a starter that
failed to load, after pcli is upgraded, and for starter names a new pcli version adds. A registry
that cannot be written to (read-only share) is read without seeding.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli import __version__
from protoncli.blueprints.registry import Registry
from protoncli.blueprints.sync import TemplateFolder, find_template_folders
from protoncli.blueprints.versions import registry_lock
from protoncli.errors import PcliError, RegistryError
from protoncli.locks import LockError
from protoncli.yamlio import atomic_write

if TYPE_CHECKING:
    from protoncli.blueprints.location import Access

PACKAGED_FOLDER = "_starters"
MARKER_FILE = ".starters.json"
SEED_LOCK = ".seed.lock"
MARKER_FORMAT = 1


@dataclass(frozen=True)
class SeedEntry:
    """What seeding did with one starter blueprint."""

    name: str
    action: str  # "seeded" | "skipped" (a blueprint of that name exists) | "failed"
    version: str | None = None
    digest: str | None = None
    reason: str | None = None


def starters_root() -> Path:
    """The starter blueprints: packaged in a wheel, else the repository's `blueprints/` folder."""
    packaged = importlib.resources.files("protoncli") / PACKAGED_FOLDER
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "blueprints"


def starter_names(source: Path | None = None) -> list[str]:
    """Names of the starter blueprints (empty when there are none)."""
    root = source if source is not None else starters_root()
    if not root.is_dir():
        return []
    return sorted({folder.name for folder in find_template_folders(root)})


def seed(
    registry: Registry, source: Path | None = None, *, only: Collection[str] | None = None
) -> list[SeedEntry]:
    """Publish every starter (all its major folders) whose name the registry does not have.

    `only` limits seeding to those starter names.
    """
    root = source if source is not None else starters_root()
    if not root.is_dir():
        return []
    present = set(registry.names())
    by_name: dict[str, list[TemplateFolder]] = {}
    for folder in find_template_folders(root):
        if only is None or folder.name in only:
            by_name.setdefault(folder.name, []).append(folder)
    entries = []
    for name, folders in sorted(by_name.items()):
        if name in present:
            entries.append(SeedEntry(name, "skipped", reason="a blueprint of that name exists"))
        else:
            entries.append(_seed_one(registry, name, folders))
    return entries


def _seed_one(registry: Registry, name: str, folders: list[TemplateFolder]) -> SeedEntry:
    version = digest = None
    try:
        for folder in folders:
            result = registry.publish(folder.path, name=name, major=folder.major)
            version, digest = result.version.version, result.version.digest
    except PcliError as exc:
        return SeedEntry(name, "failed", reason=exc.message)
    return SeedEntry(name, "seeded", version=version, digest=digest)


def open_registry(
    location: Path | str,
    source: Path | None = None,
    *,
    access: Access | None = None,
    seeded: bool = True,
) -> Registry:
    """The registry at `location` (a folder or a team registry's URL), with the starters (of
    `source`, default the shipped ones) seeded into a folder registry when `seeded`. A team
    registry is never seeded: what it holds is its team's choice (see docs/reference/registry.md).
    """
    from protoncli.blueprints.location import is_remote, open_location

    registry = open_location(location, access)
    if seeded and not is_remote(str(location)):
        ensure_seeded(registry, source)
    return registry


def ensure_seeded(registry: Registry, source: Path | None = None) -> list[SeedEntry]:
    """Seed the starters not yet recorded in the registry's marker file; cheap when all are."""
    names = starter_names(source)
    pending = _pending(_read_marker(registry.root), names)
    if not pending:
        return []
    try:
        with registry_lock(registry.root / SEED_LOCK, "seeding the starter blueprints"):
            marker = _read_marker(registry.root)
            pending = _pending(marker, names)
            if not pending:
                return []
            entries = seed(registry, source, only=pending)
            _write_marker(registry.root, marker, entries)
            return entries
    except (RegistryError, LockError, OSError):
        # A registry that cannot be written (read-only share) is still readable.
        return []


def _pending(marker: dict[str, Any], names: list[str]) -> set[str]:
    same_pcli = marker.get("pcli_version") == __version__
    done = {
        name
        for name, entry in _recorded(marker).items()
        if isinstance(entry, dict) and (entry.get("action") != "failed" or same_pcli)
    }
    return set(names) - done


def _recorded(marker: dict[str, Any]) -> dict[str, Any]:
    starters = marker.get("starters")
    return starters if isinstance(starters, dict) else {}


def _read_marker(root: Path) -> dict[str, Any]:
    """The marker's content; empty when missing or unreadable (seeding is idempotent)."""
    try:
        data = json.loads((root / MARKER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_marker(root: Path, marker: dict[str, Any], entries: list[SeedEntry]) -> None:
    starters = dict(_recorded(marker))
    for entry in entries:
        starters[entry.name] = {k: v for k, v in asdict(entry).items() if k != "name"}
    content = {"format": MARKER_FORMAT, "pcli_version": __version__, "starters": starters}
    atomic_write(
        root / MARKER_FILE, json.dumps(content, indent=2, sort_keys=True) + "\n", shared=True
    )
