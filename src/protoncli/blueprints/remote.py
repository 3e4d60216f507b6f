"""Team registries: an S3 prefix or a git repository, read through a local folder registry.

The remote holds an *index* (one JSON document: every version of every blueprint with its
record, digest and status) and the versions' content (S3: one immutable archive per content
digest; git: a tag per version). A `Store` (aws/registry_bucket.py, gitstore.py) reads the
index with a *token* (S3: its ETag; git: the branch's commit) and commits a new index only if
the token still holds (S3: a conditional PutObject; git: a push that is not forced).

Reading: the first read of a `RemoteRegistry` object reads the index and writes each version's
record into the cache (`<cache>/<name>/<version>/version.json`, the folder registry's layout);
a record the cache holds with another digest is refused, naming the version (a published
version never changes). A version's files are fetched on first use into `<version>/bundle/`,
after their digest is checked against the index; every later read checks them again, so a
corrupted cached copy is refused, naming it and how to clear it.

Guardrails: the index also holds the registry's rules (`guardrails`: file name -> text; small
Guard files, so they travel in the index itself), set by `set_guardrails` with the same
conditional commit; every read of the index writes them into the cache's `.guardrails/`, where
`Registry.guardrails` reads them as a folder registry's.

Publishing and promoting: read the index, decide as the folder registry does (next version,
identical content, kind, schema compatibility), commit with the token; when another publisher
committed first (`IndexChanged`), read again and decide again, so racing publishers all land,
each with its own version number. Nothing is written to the index but by a complete commit.
"""

from __future__ import annotations

import io
import json
import random
import re
import shutil
import tarfile
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from protoncli.blueprints.bundle import bundle_digest, load_bundle
from protoncli.blueprints.limits import check_name, format_version, is_valid_name
from protoncli.blueprints.model import Bundle
from protoncli.blueprints.registry import (
    PublishResult,
    Registry,
    _marked,
    _promoted,
    _Request,
    default_blueprint_name,
)
from protoncli.blueprints.versions import (
    BUNDLE_FOLDER,
    VERSION_FILE,
    VersionInfo,
    registry_lock,
    staging_folder,
    version_from_record,
    version_record,
    write_bundle_files,
)
from protoncli.errors import PcliError, RegistryError
from protoncli.yamlio import atomic_write

if TYPE_CHECKING:
    from protoncli.blueprints.location import Access, RemoteLocation
    from protoncli.guardrails.rules import RuleSet

INDEX_FORMAT = 1
CACHE_LOCK = ".cache.lock"
MAX_ATTEMPTS = 10  # commits tried while other publishers keep changing the index
_VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_ARCHIVE_MODE = 0o644

Index = dict[str, dict[str, VersionInfo]]  # name -> version -> record


class IndexChanged(Exception):  # noqa: N818 - a condition the publish loop handles, not an error
    """The remote's index is no longer the one read: another publisher committed first."""


@dataclass(frozen=True)
class NewVersion:
    """A version being published: what a store commits beside the new index."""

    info: VersionInfo
    files: Mapping[str, bytes]

    @property
    def name(self) -> str:
        return self.info.name

    def archive(self) -> bytes:
        """The bundle as a .tar.gz: members sorted, no wrapper folder, fixed times, owners and
        modes, so one content always makes the same bytes."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
            for path in sorted(self.files):
                data = self.files[path]
                member = tarfile.TarInfo(path)
                member.size, member.mode, member.mtime = len(data), _ARCHIVE_MODE, 0
                tar.addfile(member, io.BytesIO(data))
        return raw.getvalue()


class Store(Protocol):
    """Where a team registry's index and versions live (S3 or git)."""

    url: str

    def read_index(self) -> tuple[bytes | None, str | None]:
        """The index (None: there is none yet) and the token a commit must hold."""

    def fetch(self, info: VersionInfo, scratch: Path) -> Path:
        """Put the version's files under `scratch`; the bundle folder or archive to load."""

    def commit(self, index: bytes, token: str | None, added: NewVersion | None, what: str) -> None:
        """Write `added` (if any) and `index`, only if the index's token is still `token`;
        `IndexChanged` otherwise. `what` says what the commit does ("publish NAME@1.2")."""


class RemoteRegistry(Registry):
    """A team registry, through its local cache (a folder registry of its own)."""

    def __init__(self, store: Store, cache: Path) -> None:
        super().__init__(cache)
        self.store = store
        self.location = store.url
        self._synced = False
        self._sync_lock = threading.Lock()
        self._rules: dict[str, bytes] = {}  # the guardrails of the index last read

    def __repr__(self) -> str:
        return f"RemoteRegistry({self.location!r})"

    # -- reading -----------------------------------------------------------------------------

    def names(self) -> list[str]:
        self._sync()
        return super().names()

    def _scan(self, name: str) -> list[VersionInfo]:
        self._sync()
        return super()._scan(name)

    def bundle_dir(self, info: VersionInfo) -> Path:
        self._fetch(info)
        return super().bundle_dir(info)

    def load(self, info: VersionInfo) -> Bundle:
        self._fetch(info)
        return super().load(info)

    def guardrails(self) -> RuleSet:
        self._sync()
        return super().guardrails()

    def _sync(self) -> None:
        """Read the index once per object, and record it in the cache."""
        with self._sync_lock:
            if not self._synced:
                data, _token = self.store.read_index()
                self._record(parse_index(data, self.location), index_guardrails(data))

    def set_guardrails(self, files: Mapping[str, bytes]) -> RuleSet:
        """As `Registry.set_guardrails`, committed to the remote's index; retried while others
        publish."""
        from protoncli.guardrails.rules import REGISTRY_FOLDER, rule_set_from

        rules = rule_set_from(files, self.root / REGISTRY_FOLDER)
        wanted = dict(sorted(files.items()))
        for attempt in range(MAX_ATTEMPTS):
            index, token = self._fresh_index()
            if self._rules == wanted:
                return rules
            try:
                what = "set guardrails" if wanted else "clear guardrails"
                self.store.commit(encode_index(index, wanted), token, None, what)
            except IndexChanged:
                _pause(attempt)
                continue
            self._record(index, wanted)
            return rules
        raise self._busy("set the guardrails")

    def _record(self, index: Index, rules: Mapping[str, bytes]) -> None:
        """Write the index's records and guardrails into the cache; refuse a version whose
        digest changed."""
        from protoncli.guardrails.rules import REGISTRY_FOLDER, replace_rule_folder, rule_files_in

        with registry_lock(self.root / CACHE_LOCK, f"updating the cache of {self.location}"):
            self._rules = dict(rules)
            if rule_files_in(self.root / REGISTRY_FOLDER) != self._rules:
                replace_rule_folder(self.root / REGISTRY_FOLDER, self._rules)
            for name, version, cached in self._cached_records():
                known = index.get(name, {}).get(version)
                if known is None:
                    shutil.rmtree(self.root / name / version, ignore_errors=True)
                elif known.digest != cached.get("digest"):
                    raise self._changed_record(known, str(cached.get("digest")))
            for versions in index.values():
                for info in versions.values():
                    self._write_record(info)
            self._synced = True

    def _cached_records(self) -> list[tuple[str, str, dict[str, Any]]]:
        found: list[tuple[str, str, dict[str, Any]]] = []
        if not self.root.is_dir():
            return found
        for folder in self.root.iterdir():
            if folder.name.startswith(".") or not folder.is_dir():
                continue
            for entry in folder.iterdir():
                if _VERSION.match(entry.name):
                    try:
                        record = json.loads((entry / VERSION_FILE).read_text(encoding="utf-8"))
                    except (OSError, ValueError):
                        record = {}
                    found.append(
                        (folder.name, entry.name, record if isinstance(record, dict) else {})
                    )
        return found

    def _write_record(self, info: VersionInfo) -> None:
        path = self._version_dir(info) / VERSION_FILE
        text = json.dumps(version_record(info), indent=2, sort_keys=True) + "\n"
        try:
            if path.is_file() and path.read_text(encoding="utf-8") == text:
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, text, shared=True)
        except OSError as exc:
            raise RegistryError(
                f"{path}: cannot write the cache of {self.location}: {exc.strerror}",
                hint=f"check that {self.root} can be written (pcli's cache folder)",
            ) from exc

    def _fetch(self, info: VersionInfo) -> None:
        """The version's files in the cache, fetched and checked against the index if absent."""
        target = self._version_dir(info) / BUNDLE_FOLDER
        if target.is_dir():
            return
        with registry_lock(self.root / CACHE_LOCK, f"fetching {info.ref} from {self.location}"):
            if target.is_dir():
                return
            with tempfile.TemporaryDirectory(prefix="pcli-fetch-") as scratch:
                source = self.store.fetch(info, Path(scratch))
                try:
                    bundle = load_bundle(source)
                except PcliError as error:
                    raise RegistryError(
                        f"blueprint {info.ref} in {self.location} cannot be read: {error.message}",
                        hint="ask the registry's owners to restore the version",
                        details=error.details,
                    ) from error
            actual = bundle_digest(bundle)
            if actual != info.digest:
                raise self._changed_content(info, actual)
            staging = staging_folder(target.parent)
            try:
                write_bundle_files(staging / BUNDLE_FOLDER, bundle.files)
                (staging / BUNDLE_FOLDER).rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)

    def _changed_files(self, info: VersionInfo, folder: Path, actual: str) -> RegistryError:
        return RegistryError(
            f"blueprint {info.ref}: the cached copy in {folder} is corrupted (digest "
            f"{actual[:19]}..., published {info.digest[:19]}...); pcli refuses it",
            hint=f"delete the cached copy (pcli fetches it again from {self.location}): "
            f"rm -rf '{folder}'",
        )

    def _changed_content(self, info: VersionInfo, actual: str) -> RegistryError:
        return RegistryError(
            f"blueprint {info.ref} in {self.location} changed after it was published (its "
            f"content has digest {actual[:19]}..., the index says {info.digest[:19]}...); a "
            "published version never changes, so pcli refuses it",
            hint="ask the registry's owners to restore the version's content; publish changes "
            "as a new version",
        )

    def _changed_record(self, info: VersionInfo, cached: str) -> RegistryError:
        return RegistryError(
            f"blueprint {info.ref} in {self.location} changed after it was published (the "
            f"index now says digest {info.digest[:19]}..., it said {cached[:19]}... when this "
            "machine read it); a published version never changes, so pcli refuses it",
            hint="ask the registry's owners to restore the version; if the registry was "
            f"rebuilt on purpose, delete this machine's cache of it: rm -rf '{self.root}'",
        )

    # -- writing -----------------------------------------------------------------------------

    def publish(
        self,
        source: Path | str | Bundle,
        *,
        name: str | None = None,
        major: bool | int = False,
        draft: bool = False,
        description: str | None = None,
        latest_minor_only: bool = False,
    ) -> PublishResult:
        """As `Registry.publish`, committed to the remote; retried while others publish."""
        bundle = source if isinstance(source, Bundle) else load_bundle(Path(source))
        if name is None:
            name = default_blueprint_name(Path(bundle.root))
        check_name(name, "blueprint")
        request = _Request(name, bundle, bundle_digest(bundle), major, draft, description)
        for attempt in range(MAX_ATTEMPTS):
            index, token = self._fresh_index()
            existing = _versions_of(index, name)
            planned = self._plan(request, existing, latest_minor_only=latest_minor_only)
            if isinstance(planned, PublishResult):
                return planned
            changed = _with(index, planned)
            try:
                self.store.commit(
                    encode_index(changed, self._rules),
                    token,
                    NewVersion(planned, bundle.files),
                    f"publish {planned.ref}",
                )
            except IndexChanged:
                _pause(attempt)
                continue
            self._record(changed, self._rules)
            return PublishResult(_marked([*existing, planned], planned), created=True)
        raise self._busy(f"publish {name}")

    def promote(self, name: str, version: str) -> VersionInfo:
        """As `Registry.promote`, committed to the remote; retried while others publish."""
        check_name(name, "blueprint")
        for attempt in range(MAX_ATTEMPTS):
            index, token = self._fresh_index()
            existing = _versions_of(index, name)
            if not existing:
                raise self._unknown_name(name)
            info = self._find(name, existing, version)
            if info.is_published:
                return _marked(existing, info)
            promoted = _promoted(info)
            changed = _with(index, promoted)
            try:
                self.store.commit(
                    encode_index(changed, self._rules), token, None, f"promote {info.ref}"
                )
            except IndexChanged:
                _pause(attempt)
                continue
            self._record(changed, self._rules)
            return _marked([promoted if v == info else v for v in existing], promoted)
        raise self._busy(f"promote {name} {version}")

    def _fresh_index(self) -> tuple[Index, str | None]:
        data, token = self.store.read_index()
        index = parse_index(data, self.location)
        self._record(index, index_guardrails(data))
        return index, token

    def _busy(self, what: str) -> RegistryError:
        return RegistryError(
            f"{self.location}: the registry's index changed before each of {MAX_ATTEMPTS} "
            f"attempts to {what} could be written (others are publishing); nothing was written",
            hint="run the command again; every version already in the registry is kept",
        )


def _pause(attempt: int) -> None:
    """A short random wait before trying again, longer each time (at most about a second)."""
    time.sleep(random.uniform(0.0, 0.03 * 2 ** min(attempt, 5)))  # noqa: S311 - not crypto


def _versions_of(index: Index, name: str) -> list[VersionInfo]:
    return sorted(index.get(name, {}).values(), key=lambda info: (info.major, info.minor))


def _with(index: Index, info: VersionInfo) -> Index:
    """The index with `info` added or replacing the record of its version."""
    changed = {name: dict(versions) for name, versions in index.items()}
    changed.setdefault(info.name, {})[info.version] = replace(info, recommended=False)
    return changed


def encode_index(index: Index, rules: Mapping[str, bytes] | None = None) -> bytes:
    """The index document; `rules`: the registry's guardrails (file name -> bytes, UTF-8)."""
    document: dict[str, Any] = {
        "format": INDEX_FORMAT,
        "blueprints": {
            name: {version: version_record(info) for version, info in sorted(versions.items())}
            for name, versions in sorted(index.items())
        },
    }
    if rules:
        document["guardrails"] = {name: data.decode("utf-8") for name, data in rules.items()}
    return (json.dumps(document, indent=1, sort_keys=True) + "\n").encode("utf-8")


def parse_index(data: bytes | None, url: str) -> Index:
    """The index's records; empty when there is none. A corrupt index is a `RegistryError`."""
    if data is None:
        return {}
    where = f"{url}: the registry's index"
    blueprints = _index_document(data, where)
    index: Index = {}
    for name, versions in blueprints.items():
        if not is_valid_name(str(name)) or not isinstance(versions, dict):
            raise RegistryError(f"{where} is corrupt (bad blueprint entry {name!r})")
        for version, record in versions.items():
            match = _VERSION.match(str(version))
            if match is None:
                raise RegistryError(f"{where} is corrupt ({name} has a bad version {version!r})")
            info = version_from_record(record, name, match, f"{where}, {name} {version}")
            index.setdefault(name, {})[format_version(info.major, info.minor)] = info
    return index


def index_guardrails(data: bytes | None) -> dict[str, bytes]:
    """The guardrails an index holds (file name -> bytes); none when it holds none. A
    `guardrails` entry that is not names to texts is left out: the rules then say what is
    wrong when they are read (`Registry.guardrails`), not every read of the registry."""
    if data is None:
        return {}
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}  # parse_index says so
    rules = document.get("guardrails") if isinstance(document, dict) else None
    if not isinstance(rules, dict):
        return {}
    return {
        str(name): str(text).encode("utf-8")
        for name, text in sorted(rules.items())
        if isinstance(text, str) and "/" not in str(name) and not str(name).startswith(".")
    }


def _index_document(data: bytes, where: str) -> dict[str, Any]:
    """The index's `blueprints` mapping; a corrupt index is a `RegistryError`."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        document, problem = None, str(exc)
    else:
        problem = f"not an index of format {INDEX_FORMAT}"
    blueprints = document.get("blueprints") if isinstance(document, dict) else None
    if not isinstance(blueprints, dict) or document.get("format") != INDEX_FORMAT:
        raise RegistryError(
            f"{where} is corrupt ({problem})",
            hint="restore it from a backup (S3 object versioning, or the git history)",
        )
    return blueprints


def open_remote(location: RemoteLocation, access: Access) -> RemoteRegistry:
    """The team registry at `location`, through its cache."""
    from protoncli.blueprints.location import S3

    if location.kind == S3:
        from protoncli.aws.registry_bucket import RegistryBucket

        return RemoteRegistry(RegistryBucket.open(location, access), location.cache)
    from protoncli.blueprints.gitstore import GitStore

    return RemoteRegistry(GitStore(location, location.cache / ".repository.git"), location.cache)
