"""The blueprint registry: a directory of immutable, numbered blueprint versions. No server.

Layout::

    <root>/
      .starters.json            which starter blueprints were seeded (see starters.py)
      .seed.lock                held while seeding
      <name>/                   one folder per blueprint
        .lock                   exclusive flock held by every write to this blueprint
        .new-XXXX/              a version being written (renamed into place when complete)
        <major>.<minor>/        one folder per version, e.g. 1.0, 1.1, 2.0
          version.json          the version record (below); rewritten atomically on promote
          bundle/...            the bundle's files, written read-only and never changed

`version.json` is the version record (versions.py).

A version folder appears in one `os.rename` of a fully written temporary folder, so readers
need no lock: they see a version completely or not at all. Writers serialise per blueprint on
`<name>/.lock`, which makes "read the highest version, compare digests, write the next" atomic
across processes; the rename also refuses to replace an existing version.
"""

from __future__ import annotations

import difflib
import json
import re
import tarfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from protoncli.blueprints.bundle import bundle_digest, load_bundle
from protoncli.blueprints.compat import schema_incompatibilities
from protoncli.blueprints.limits import (
    check_name,
    format_version,
    parse_major_folder,
    parse_version,
)
from protoncli.blueprints.model import Bundle, Kind
from protoncli.blueprints.versions import (
    BUNDLE_FOLDER,
    MAJOR_ONLY,
    VERSION_FILE,
    BlueprintInfo,
    VersionInfo,
    VersionStatus,
    new_version_info,
    now_utc,
    read_version_record,
    registry_lock,
    version_record,
    write_version,
)
from protoncli.errors import NotFoundError, PcliError, RegistryError, UsageError
from protoncli.filecache import FileCache
from protoncli.yamlio import atomic_write

if TYPE_CHECKING:
    from protoncli.guardrails.rules import RuleSet

__all__ = [
    "BlueprintInfo",
    "IncompatibleSchemaError",
    "PublishResult",
    "Registry",
    "VersionInfo",
    "VersionStatus",
    "default_blueprint_name",
]

LOCK_FILE = ".lock"

_VERSION_FOLDER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_TARBALL_SUFFIXES = (".tar.gz", ".tgz", ".tar")
_MAX_LISTED = 20


class IncompatibleSchemaError(RegistryError):
    """A new minor version whose schema is not backward compatible; `details` lists why."""


@dataclass(frozen=True)
class _Request:
    """What a publish was asked to register."""

    name: str
    bundle: Bundle
    digest: str
    major: bool | int
    draft: bool
    description: str | None


@dataclass(frozen=True)
class PublishResult:
    """The version a publish registered, or the existing one with identical content."""

    version: VersionInfo
    created: bool
    reasons: tuple[str, ...] = ()  # why nothing was created, when `created` is false


class Registry:
    """A registry directory. Reads need no lock; every write locks the blueprint's folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser()
        # What messages call the registry: its folder here, its URL for a team registry.
        self.location = str(self.root)
        # Bundles already loaded and checked by this object (one command's run), by version
        # folder and registered digest: a registered version never changes, so a fleet of
        # instances of one version reads and checks its files once.
        self._loaded: dict[tuple[Path, str], Bundle] = {}
        self._loading = threading.Lock()
        # Version records read by this object, read again only when one changes (promote
        # rewrites it): a fleet's deploy asks for the same versions for every stack.
        self._records = FileCache()

    @staticmethod
    def default() -> Registry:
        """The registry named by `PCLI_REGISTRY`, else the user's default registry folder (a
        team registry when the setting is a URL)."""
        from protoncli.blueprints.location import open_location
        from protoncli.config import registry_path

        return open_location(registry_path())

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

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
        """Register a bundle as a new version and return it.

        The name defaults to the bundle's folder (see `default_blueprint_name`). The version is
        the next minor of the highest major (first ever: 1.0); `major=True` starts the next
        major, `major=N` adds the next minor to major N (or starts N.0). Content identical to
        any version of the blueprint returns that version with `created=False`. A new minor
        must be backward compatible with the previous minor of its major
        (`IncompatibleSchemaError` otherwise); a blueprint's kind never changes.

        `latest_minor_only=True` (template sync) compares the content only with the latest minor
        of the target major, as Proton's template sync does: a new `vN` folder always starts
        major N, and a folder reverted to older content makes a new minor.
        """
        bundle = source if isinstance(source, Bundle) else load_bundle(Path(source))
        if name is None:
            name = default_blueprint_name(Path(bundle.root))
        check_name(name, "blueprint")
        request = _Request(name, bundle, bundle_digest(bundle), major, draft, description)
        folder = self.root / name
        with registry_lock(folder / LOCK_FILE, f"publishing blueprint {name}"):
            existing = self._scan(name)
            planned = self._plan(request, existing, latest_minor_only=latest_minor_only)
            if isinstance(planned, PublishResult):
                return planned
            write_version(folder, planned, bundle)
            return PublishResult(_marked([*existing, planned], planned), created=True)

    def _plan(
        self, request: _Request, existing: list[VersionInfo], *, latest_minor_only: bool
    ) -> VersionInfo | PublishResult:
        """The version a publish of `request` adds to `existing` (the blueprint's versions now),
        or the result when it adds none (identical content); raises when it is refused."""
        name, bundle, digest = request.name, request.bundle, request.digest
        target = _next_version(existing, request.major)
        previous = _previous_minor(existing, target)
        compared = _compared(existing, previous, latest_minor_only=latest_minor_only)
        same = next((info for info in compared if info.digest == digest), None)
        if same is not None:
            reason = f"{name} {same.version} has identical content ({digest})"
            return PublishResult(_marked(existing, same), created=False, reasons=(reason,))
        _check_kind(name, existing, bundle.kind)
        if previous is not None:
            self._check_compatible(previous, bundle, target)
        _check_guardrails(bundle)
        return new_version_info(
            name,
            target,
            bundle,
            digest,
            draft=request.draft,
            description=request.description or readme_summary(bundle),
        )

    def promote(self, name: str, version: str) -> VersionInfo:
        """Make a DRAFT version PUBLISHED. A version already published is returned unchanged."""
        check_name(name, "blueprint")
        with registry_lock(self.root / name / LOCK_FILE, f"promoting {name} {version}"):
            existing = self._existing(name)
            info = self._find(name, existing, version)
            if info.is_published:
                return _marked(existing, info)
            promoted = _promoted(info)
            record = json.dumps(version_record(promoted), indent=2, sort_keys=True) + "\n"
            try:
                atomic_write(self._version_dir(promoted) / VERSION_FILE, record, shared=True)
            except OSError as exc:
                raise RegistryError(
                    f"{self._version_dir(promoted) / VERSION_FILE}: cannot write: {exc.strerror}"
                ) from exc
            return _marked([promoted if v == info else v for v in existing], promoted)

    # -- reading -----------------------------------------------------------------------------

    def blueprints(self, problems: list[str] | None = None) -> list[BlueprintInfo]:
        """Every blueprint, sorted by name. With `problems`, a blueprint whose version records
        cannot be read is left out and its error appended there (a report shows the rest);
        without it, the error is raised."""
        result: list[BlueprintInfo] = []
        for name in self.names():
            try:
                versions = self._scan(name)
            except PcliError as error:
                if problems is None:
                    raise
                problems.append(f"blueprint {name}: {error.message}")
                continue
            if versions:
                result.append(_summary(versions))
        return result

    def names(self) -> list[str]:
        """Names of the blueprints that have at least one version (no seeding)."""
        if not self.root.is_dir():
            return []
        return sorted(
            entry.name
            for entry in self.root.iterdir()
            if not entry.name.startswith(".") and entry.is_dir() and _has_versions(entry)
        )

    def versions(self, name: str) -> list[VersionInfo]:
        """Every version of a blueprint, oldest first (numerically: 1.9 before 1.10)."""
        return _with_recommended(self._existing(name))

    def get(self, name: str, version: str | None = None) -> VersionInfo:
        """One version; `None` means the recommended (highest published) version."""
        existing = self._existing(name)
        if version is None:
            return _recommended_of(name, existing)
        return _marked(existing, self._find(name, existing, version))

    def resolve(self, ref: str) -> VersionInfo:
        """`NAME` (recommended), `NAME@MAJOR.MINOR`, or `NAME@MAJOR` (latest published minor)."""
        name, separator, version = ref.partition("@")
        if not name or (separator and not version):
            raise UsageError(
                f"invalid blueprint reference {ref!r}",
                hint="write NAME, NAME@MAJOR or NAME@MAJOR.MINOR, e.g. my-env@1 or my-env@1.2",
            )
        if not separator:
            return self.get(name)
        if MAJOR_ONLY.match(version):
            existing = self._existing(name)
            return _recommended_of(name, existing, major=int(version))
        return self.get(name, version)

    def bundle_dir(self, info: VersionInfo) -> Path:
        return self._version_dir(info) / BUNDLE_FOLDER

    def guardrails(self) -> RuleSet:
        """The rules every template of the registry's blueprints keeps: `.guardrails/` at its
        root (guardrails/rules.py); empty without one."""
        from protoncli.guardrails.rules import REGISTRY_FOLDER, rule_set_in

        return rule_set_in(self.root / REGISTRY_FOLDER)

    def set_guardrails(self, files: Mapping[str, bytes]) -> RuleSet:
        """Make `files` (file name -> bytes: `.guard` files and `guardrails.yaml`; none: no
        rules) the registry's rules. They are checked first: rules Guard cannot use are a
        `GuardrailsError` and nothing is written."""
        from protoncli.guardrails.rules import REGISTRY_FOLDER, replace_rule_folder, rule_set_from

        directory = self.root / REGISTRY_FOLDER
        rules = rule_set_from(files, directory)
        replace_rule_folder(directory, files)
        return rules

    def load(self, info: VersionInfo) -> Bundle:
        """The version's bundle, checked against the digest recorded when it was registered:
        a registered version is immutable, so an edited file is an error, never deployed.
        Checked once per version and Registry object (each command makes its own)."""
        folder = self.bundle_dir(info)
        key = (folder, info.digest)
        with self._loading:
            if key not in self._loaded:
                self._loaded[key] = self._load_checked(info, folder)
            return self._loaded[key]

    def _load_checked(self, info: VersionInfo, folder: Path) -> Bundle:
        bundle = load_bundle(folder)
        actual = bundle_digest(bundle)
        if actual != info.digest:
            raise self._changed_files(info, folder, actual)
        return bundle

    def _changed_files(self, info: VersionInfo, folder: Path, actual: str) -> RegistryError:
        """The error for a version whose files no longer have its registered digest."""
        return RegistryError(
            f"blueprint {info.ref}: the files in {folder} changed after the version was "
            f"registered (digest {actual[:19]}..., registered {info.digest[:19]}...); a "
            "registered version never changes",
            hint="restore the version's files (git checkout), or publish the change as a "
            "new version: pcli blueprint publish DIR",
        )

    # -- internals ---------------------------------------------------------------------------

    def _version_dir(self, info: VersionInfo) -> Path:
        return self.root / info.name / info.version

    def _scan(self, name: str) -> list[VersionInfo]:
        """The versions of `name` in numeric order; empty when there are none."""
        folder = self.root / name
        if not folder.is_dir():
            return []
        found: list[VersionInfo] = []
        for entry in folder.iterdir():
            match = _VERSION_FOLDER.match(entry.name)
            if match and entry.is_dir():
                load = partial(read_version_record, name=name, match=match)
                found.append(self._records.read(entry / VERSION_FILE, load))
        return sorted(found, key=lambda info: (info.major, info.minor))

    def _existing(self, name: str) -> list[VersionInfo]:
        check_name(name, "blueprint")
        existing = self._scan(name)
        if not existing:
            raise self._unknown_name(name)
        return existing

    def _unknown_name(self, name: str) -> NotFoundError:
        known = self.names()
        message = f"blueprint {name!r} not found in registry {self.location}"
        if not known:
            return NotFoundError(message, hint="the registry is empty: publish a blueprint first")
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"did you mean {_quoted(close)}? " if close else ""
        return NotFoundError(message, hint=f"{hint}known blueprints: {_listing(known)}")

    def _find(self, name: str, existing: list[VersionInfo], version: str) -> VersionInfo:
        major, minor = parse_version(version)
        for info in existing:
            if (info.major, info.minor) == (major, minor):
                return info
        known = [_labelled(info) for info in existing]
        close = difflib.get_close_matches(version, [info.version for info in existing], n=3)
        hint = f"did you mean {_quoted(close)}? " if close else ""
        raise NotFoundError(
            f"blueprint {name!r} has no version {version}",
            hint=f"{hint}known versions: {_listing(known)}",
        )

    def _check_compatible(
        self, previous: VersionInfo, bundle: Bundle, target: tuple[int, int]
    ) -> None:
        old = self.load(previous)
        reasons = schema_incompatibilities(
            old.schema,
            bundle.schema,
            old_has_pipeline=old.has_pipeline,
            new_has_pipeline=bundle.has_pipeline,
        )
        if reasons:
            version = format_version(*target)
            raise IncompatibleSchemaError(
                f"{previous.name} {version}: schema is not backward compatible with "
                f"{previous.version}, so it cannot be a new minor version",
                hint="publish it as a new major version (--major)",
                details=reasons,
            )


def default_blueprint_name(source: Path) -> str:
    """The name a bundle is published under when none is given.

    `source` is the bundle root (`Bundle.root`): a folder's name, or for a template-sync major
    folder (`<name>/v1`) its parent's name; for a tarball, its one wrapper folder (unless that is
    a `vN` folder) or else the file's stem.
    """
    if source.name.endswith(_TARBALL_SUFFIXES) or source.is_file():
        return _tarball_name(source)
    folder = source.resolve()
    if parse_major_folder(folder.name) is not None:
        return folder.parent.name
    return folder.name


def _tarball_name(source: Path) -> str:
    stem = source.name
    for suffix in _TARBALL_SUFFIXES:
        stem = stem.removesuffix(suffix)
    try:
        with tarfile.open(source, "r:*") as archive:
            members = [PurePosixPath(name) for name in archive.getnames()]
    except (OSError, tarfile.TarError):
        return stem
    parts = [member.parts for member in members if member.parts and member.parts != (".",)]
    parts = [p[1:] if p[0] == "." else p for p in parts]
    tops = {p[0] for p in parts if p}
    nested = any(len(p) > 1 for p in parts)
    if len(tops) == 1 and nested:
        (top,) = tops
        if parse_major_folder(top) is None:
            return top
    return stem


# -- version arithmetic ------------------------------------------------------------------------


def _next_version(existing: list[VersionInfo], major: bool | int) -> tuple[int, int]:
    majors = [info.major for info in existing]
    if major is True:
        return (max(majors, default=0) + 1, 0)
    if major is False:
        if not existing:
            return (1, 0)
        target_major = max(majors)
    else:
        if major < 0:
            raise UsageError(f"invalid major version {major}: must be 0 or more")
        target_major = major
    minors = [info.minor for info in existing if info.major == target_major]
    return (target_major, max(minors) + 1) if minors else (target_major, 0)


def _previous_minor(existing: list[VersionInfo], target: tuple[int, int]) -> VersionInfo | None:
    same_major = [info for info in existing if info.major == target[0]]
    return same_major[-1] if same_major else None


def _compared(
    existing: list[VersionInfo], previous: VersionInfo | None, *, latest_minor_only: bool
) -> list[VersionInfo]:
    """The versions whose content a new bundle is compared with."""
    if not latest_minor_only:
        return existing
    return [previous] if previous is not None else []


def _check_guardrails(bundle: Bundle) -> None:
    """Refuse a bundle whose `guardrails/` Guard cannot use (a `GuardrailsError` naming the
    file): every deploy of it would be refused. Where Guard's engine is not installed (Python
    3.13 and newer without cfn-guard-rs) the rules are left to the deploys, which refuse them
    there with that message."""
    from protoncli.guardrails.rules import bundle_rules, engine_installed

    if engine_installed():
        bundle_rules(bundle)


def _check_kind(name: str, existing: list[VersionInfo], kind: Kind) -> None:
    if existing and existing[0].kind is not kind:
        first = existing[0]
        raise RegistryError(
            f"blueprint {name!r} is {_a(first.kind)} blueprint (since {first.version}); "
            f"cannot publish {_a(kind)} bundle under that name",
            hint="publish it under another name (--name)",
        )


def _a(kind: Kind) -> str:
    article = "an" if kind.value[0] in "aeiou" else "a"
    return f"{article} {kind.value}"


def _promoted(info: VersionInfo) -> VersionInfo:
    return replace(info, status=VersionStatus.PUBLISHED, published_at=now_utc())


def _with_recommended(existing: list[VersionInfo]) -> list[VersionInfo]:
    published = [info for info in existing if info.is_published]
    best = published[-1] if published else None
    return [replace(info, recommended=info == best) for info in existing]


def _marked(existing: list[VersionInfo], info: VersionInfo) -> VersionInfo:
    ordered = sorted(existing, key=lambda item: (item.major, item.minor))
    for item in _with_recommended(ordered):
        if (item.major, item.minor) == (info.major, info.minor):
            return item
    return info


def _recommended_of(
    name: str, existing: list[VersionInfo], *, major: int | None = None
) -> VersionInfo:
    marked = _with_recommended(existing)
    scope = [info for info in marked if major is None or info.major == major]
    published = [info for info in scope if info.is_published]
    if published:
        return published[-1]
    where = f"blueprint {name!r}" if major is None else f"major version {major} of {name!r}"
    if scope:
        drafts = ", ".join(info.version for info in scope)
        raise NotFoundError(
            f"{where} has no published version",
            hint=f"drafts: {drafts}; promote one, or name a version (NAME@MAJOR.MINOR)",
        )
    majors = sorted({info.major for info in marked})
    raise NotFoundError(
        f"{where} does not exist",
        hint=f"known major versions: {', '.join(str(m) for m in majors)}",
    )


def _summary(versions: list[VersionInfo]) -> BlueprintInfo:
    published = [info for info in versions if info.is_published]
    shown = published[-1] if published else versions[-1]
    return BlueprintInfo(
        name=versions[0].name,
        kind=versions[0].kind,
        recommended=published[-1].version if published else None,
        latest=versions[-1].version,
        version_count=len(versions),
        description=shown.description,
    )


def _has_versions(folder: Path) -> bool:
    return any(_VERSION_FOLDER.match(entry.name) for entry in folder.iterdir())


def _labelled(info: VersionInfo) -> str:
    return info.version if info.is_published else f"{info.version} (draft)"


def _quoted(names: list[str]) -> str:
    return " or ".join(repr(name) for name in names)


def _listing(items: list[str]) -> str:
    shown = ", ".join(items[:_MAX_LISTED])
    extra = len(items) - _MAX_LISTED
    return f"{shown} and {extra} more" if extra > 0 else shown


_DESCRIPTION_LIMIT = 500  # Proton's limit on a template's description


def readme_summary(bundle: Bundle) -> str | None:
    """The first paragraph of the bundle's README.md (after its title), on one line: the
    description a version gets when `publish` is given none."""
    text = bundle.files.get("README.md")
    if text is None:
        return None
    for paragraph in text.decode("utf-8", "replace").split("\n\n"):
        words = " ".join(paragraph.split())
        if words and not words.startswith(("#", "```", "|", "-", "*", "<")):
            return (
                words[: _DESCRIPTION_LIMIT - 1] + "…" if len(words) > _DESCRIPTION_LIMIT else words
            )
    return None
