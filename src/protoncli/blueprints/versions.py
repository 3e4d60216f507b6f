"""Version records of the registry: what `version.json` holds, and writing a version folder.

`version.json` holds `{"format": 1, "name", "version", "kind", "status", "digest",
"created_at", "published_at", "description", "compatible_environments": ["env:1", ...],
"provisioning", "has_pipeline"}`; times are UTC ISO-8601 (`2026-01-31T12:00:00Z`).
A version folder appears in one `os.rename` of a fully written temporary folder.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import stat
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import Any

from protoncli.blueprints.limits import format_version
from protoncli.blueprints.model import Bundle, CompatibleEnvironment, Kind, Provisioning
from protoncli.errors import RegistryError
from protoncli.yamlio import parse_json, read_text

VERSION_FILE = "version.json"
BUNDLE_FOLDER = "bundle"
RECORD_FORMAT = 1

READ_ONLY_MASK = 0o222  # the write bits a registered bundle file loses

MAJOR_ONLY = re.compile(r"^(0|[1-9]\d*)$")


class VersionStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"


@dataclass(frozen=True)
class VersionInfo:
    """One registered version of a blueprint.

    `recommended` is true for the highest PUBLISHED version of the blueprint when this record
    was read.
    """

    name: str
    major: int
    minor: int
    kind: Kind
    status: VersionStatus
    digest: str
    created_at: str
    provisioning: Provisioning
    has_pipeline: bool
    published_at: str | None = None
    description: str | None = None
    compatible_environments: tuple[CompatibleEnvironment, ...] = ()
    recommended: bool = False

    @property
    def version(self) -> str:
        return format_version(self.major, self.minor)

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def is_published(self) -> bool:
        return self.status is VersionStatus.PUBLISHED

    def to_dict(self) -> dict[str, Any]:
        return {**version_record(self), "recommended": self.recommended}


@dataclass(frozen=True)
class BlueprintInfo:
    """A blueprint and a summary of its versions."""

    name: str
    kind: Kind
    recommended: str | None  # highest PUBLISHED version, None when every version is a draft
    latest: str  # highest version, whatever its status
    version_count: int
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}


def version_record(info: VersionInfo) -> dict[str, Any]:
    return {
        "format": RECORD_FORMAT,
        "name": info.name,
        "version": info.version,
        "kind": info.kind.value,
        "status": info.status.value,
        "digest": info.digest,
        "created_at": info.created_at,
        "published_at": info.published_at,
        "description": info.description,
        "compatible_environments": [str(env) for env in info.compatible_environments],
        "provisioning": info.provisioning.value,
        "has_pipeline": info.has_pipeline,
    }


def read_version_record(path: Path, name: str, match: re.Match[str]) -> VersionInfo:
    data = parse_json(read_text(path, RegistryError), str(path), RegistryError)
    return version_from_record(data, name, match, str(path))


def version_from_record(data: Any, name: str, match: re.Match[str], where: str) -> VersionInfo:
    """The version a record (`version.json`'s content) describes; `where` names it in errors.
    `match` is the version's `MAJOR.MINOR` matched by the registry's version pattern."""
    try:
        _check_record_names(data, name, match.group(0))
        return VersionInfo(
            name=name,
            major=int(match.group(1)),
            minor=int(match.group(2)),
            kind=Kind(data["kind"]),
            status=VersionStatus(data["status"]),
            digest=_text(data["digest"]),
            created_at=_text(data["created_at"]),
            published_at=_optional_text(data.get("published_at")),
            description=_optional_text(data.get("description")),
            compatible_environments=tuple(
                _compatible_environment(item) for item in data.get("compatible_environments", [])
            ),
            provisioning=Provisioning(data["provisioning"]),
            has_pipeline=bool(data["has_pipeline"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        why = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise RegistryError(
            f"{where}: corrupt version record ({why})",
            hint="restore the file from a backup, or remove the version folder",
        ) from exc


def _check_record_names(data: Any, name: str, version: str) -> None:
    if not isinstance(data, Mapping):
        raise TypeError("not a JSON object")
    if data["name"] != name or data["version"] != version:
        raise ValueError(f"it names {data['name']} {data['version']}, not {name} {version}")


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {value!r}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _compatible_environment(item: Any) -> CompatibleEnvironment:
    env_name, _, major = _text(item).rpartition(":")
    if not env_name or not MAJOR_ONLY.match(major):
        raise ValueError(f"compatible environment {item!r} is not NAME:MAJOR")
    return CompatibleEnvironment(env_name, int(major))


def new_version_info(
    name: str,
    target: tuple[int, int],
    bundle: Bundle,
    digest: str,
    *,
    draft: bool,
    description: str | None,
) -> VersionInfo:
    now = now_utc()
    return VersionInfo(
        name=name,
        major=target[0],
        minor=target[1],
        kind=bundle.kind,
        status=VersionStatus.DRAFT if draft else VersionStatus.PUBLISHED,
        digest=digest,
        created_at=now,
        published_at=None if draft else now,
        description=description,
        compatible_environments=tuple(bundle.compatible_environments),
        provisioning=bundle.provisioning,
        has_pipeline=bundle.has_pipeline,
    )


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


REGISTRY_WRITE_HINT = (
    "check the registry location (--registry or PCLI_REGISTRY) and its permissions"
)


def registry_lock(path: Path, purpose: str) -> AbstractContextManager[None]:
    """The lock file `path` of a registry folder, held while `purpose` runs (`locks.file_lock`);
    a folder that cannot be written is a `RegistryError`."""
    from protoncli.locks import file_lock

    return file_lock(path, purpose, error=RegistryError, hint=REGISTRY_WRITE_HINT)


def write_version(folder: Path, info: VersionInfo, bundle: Bundle) -> None:
    """Write the version into a temporary folder, then rename it into place (never replacing)."""
    target = folder / info.version
    staging = staging_folder(folder)
    try:
        write_bundle_files(staging / BUNDLE_FOLDER, bundle.files)
        record = json.dumps(version_record(info), indent=2, sort_keys=True) + "\n"
        (staging / VERSION_FILE).write_text(record, encoding="utf-8")
        staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if target.exists():
            raise RegistryError(
                f"{target}: version {info.version} of {info.name!r} already exists",
                hint="another process registered it at the same time; publish again",
            ) from exc
        raise RegistryError(f"{target}: cannot write the version: {exc.strerror}") from exc


def staging_folder(folder: Path) -> Path:
    """A new `.new-XXXX` folder in `folder`, with the permissions the umask gives any new
    folder (tempfile's are private to their owner, and the version folder it becomes is read
    by the team sharing the registry)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _attempt in range(100):
        staging = folder / f".new-{secrets.token_hex(4)}"
        try:
            staging.mkdir(0o777)
        except FileExistsError:
            continue
        return staging
    raise RegistryError(f"{folder}: cannot make a temporary folder for the version")


def write_bundle_files(destination: Path, files: Mapping[str, bytes]) -> None:
    destination.mkdir()
    for relative, data in sorted(files.items()):
        parts = PurePosixPath(relative).parts
        if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
            raise RegistryError(f"bundle file path {relative!r} leaves the bundle folder")
        path = destination.joinpath(*parts)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        # Read-only, readable by whom the umask lets read a new file (the team).
        path.chmod(stat.S_IMODE(path.stat().st_mode) & ~READ_ONLY_MASK)
