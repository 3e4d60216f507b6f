"""Proton's service sync file, `proton-ops.yaml`: which service instances follow which branch.

The file maps, per service, each synced instance to a git branch and, optionally, a spec file:

    sync:
      services:
        frontend-svc:
          alpha:
            branch: dev
            spec: ./frontend-svc/test/frontend-spec.yaml

`pcli apply --branch B` applies the service instances the file maps to branch B; instances the
file does not list are left alone on that branch, as Proton's service sync did.

Decisions:
- Where: `proton-ops.yaml` at the workspace root, `configuration/proton-ops.yaml` (the location
  in Proton's documentation) or `.proton/proton-ops.yaml`. Two or more of them is an error: pcli
  will not guess which one a team meant.
- The workspace's spec (`services/NAME.yaml`) stays the source of truth for a service's inputs.
  An entry's `spec:` path is accepted, recorded (as written, and resolved against the folder of
  the ops file) and reported, but not read: with two specs for one instance a review could
  approve one file while another is deployed. Bring what a Proton spec says into the workspace
  spec once (`pcli svc create NAME --spec FILE` reads a ServiceSpec) and keep `spec:` as a note.
- Strict reading: the file holds `sync: {services: ...}` and nothing else, every entry holds
  `branch:` and optionally `spec:`, names follow Proton's naming rule, and a service listing no
  instance is an error (it syncs nothing, so it is most likely a mistake). Every problem names
  the file and line, and all problems of a file are reported together.
- A branch that no entry maps selects nothing: `instances_for` gives an empty tuple and the
  caller decides whether that is an error (`unknown_branch_error` builds it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protoncli.blueprints.limits import check_name
from protoncli.errors import UsageError, did_you_mean
from protoncli.yamlio import MarkedDict, line_of, parse_yaml, read_text

OPS_FILE_NAME = "proton-ops.yaml"
# Where the file may be, relative to the workspace root, in the order they are reported.
OPS_FILE_LOCATIONS = (
    OPS_FILE_NAME,
    f"configuration/{OPS_FILE_NAME}",
    f".proton/{OPS_FILE_NAME}",
)
_ENTRY_KEYS = ("branch", "spec")
_SHAPE_HINT = (
    "the file reads `sync: {services: {SERVICE: {INSTANCE: {branch: BRANCH, spec: PATH}}}}` "
    "(spec: is optional)"
)
_MAX_LISTED = 20


@dataclass(frozen=True)
class OpsEntry:
    """One synced service instance: the branch it follows and the spec path the file gives."""

    service: str
    instance: str
    branch: str
    spec: str | None  # as written in the file; not read (see the module's decisions)
    spec_path: Path | None  # `spec` resolved against the ops file's folder
    line: int  # the line of the instance's name


@dataclass(frozen=True)
class OpsService:
    name: str
    line: int  # the line of the service's name
    entries: tuple[OpsEntry, ...]


@dataclass(frozen=True)
class OpsFile:
    """A read and validated `proton-ops.yaml`."""

    path: Path
    services: tuple[OpsService, ...]

    @property
    def entries(self) -> tuple[OpsEntry, ...]:
        return tuple(entry for service in self.services for entry in service.entries)

    def instances_for(self, branch: str) -> tuple[tuple[str, str], ...]:
        """The (service, instance) pairs mapped to `branch`, in file order; () for none."""
        return tuple((e.service, e.instance) for e in self.entries if e.branch == branch)

    def branches(self) -> tuple[str, ...]:
        """Every branch the file maps, sorted."""
        return tuple(sorted({entry.branch for entry in self.entries}))

    def entry(self, service: str, instance: str) -> OpsEntry | None:
        for entry in self.entries:
            if (entry.service, entry.instance) == (service, instance):
                return entry
        return None


def find_ops_file(root: Path) -> Path | None:
    """The workspace's ops file, or None; a `UsageError` when there are two or more."""
    found = [root / location for location in OPS_FILE_LOCATIONS if (root / location).is_file()]
    if len(found) > 1:
        raise UsageError(
            f"{len(found)} service sync files in the workspace: "
            + ", ".join(str(path) for path in found),
            hint=f"keep one {OPS_FILE_NAME} (at the root, configuration/ or .proton/) "
            "and delete the others",
        )
    return found[0] if found else None


def read_ops_file(path: Path) -> OpsFile:
    """Read and validate an ops file; one `UsageError` lists every problem with its line."""
    source = str(path)
    document = parse_yaml(read_text(path, UsageError), source, UsageError, marked=True)
    problems = _Problems(source)
    services = _read_services(document, path, problems)
    if problems.items:
        raise problems.error(_SHAPE_HINT)
    return OpsFile(path, services)


def check_against(ops: OpsFile, declared: Mapping[str, set[str]]) -> None:
    """Raise one `UsageError` naming every service or instance of `ops` that the workspace does
    not declare; `declared` maps each declared service to its instance names."""
    problems = _Problems(str(ops.path))
    for service in ops.services:
        instances = declared.get(service.name)
        if instances is None:
            problems.add(
                service.line,
                f"service '{service.name}' is not in the workspace"
                + did_you_mean(service.name, declared),
            )
            continue
        for entry in service.entries:
            if entry.instance not in instances:
                problems.add(
                    entry.line,
                    f"service '{service.name}' has no instance '{entry.instance}' "
                    f"(its instances: {_listed(instances)})",
                )
    if problems.items:
        raise problems.error(
            f"the workspace declares services: {_listed(declared)}; "
            "fix the names in the file, or declare the missing ones (pcli svc create)"
        )


def unknown_branch_error(ops: OpsFile, branch: str) -> UsageError:
    """The error for a `--branch` that no entry of `ops` maps to an instance."""
    known = ops.branches()
    return UsageError(
        f"{ops.path}: no service instance is mapped to branch '{branch}'"
        + did_you_mean(branch, known),
        hint=f"branches in the file: {_listed(known)}"
        if known
        else "the file maps no branch to any instance",
    )


def _read_services(document: Any, path: Path, problems: _Problems) -> tuple[OpsService, ...]:
    if not isinstance(document, MarkedDict) or not isinstance(document.get("sync"), MarkedDict):
        problems.add(line_of(document, "sync"), "expected a top-level 'sync:' mapping")
        return ()
    _unknown_keys(document, ("sync",), problems)
    sync = document["sync"]
    _unknown_keys(sync, ("services",), problems)
    services = sync.get("services")
    if not isinstance(services, MarkedDict) or not services:
        problems.add(
            line_of(sync, "services"), "'services:' must map service names to their instances"
        )
        return ()
    found = []
    for name, instances in services.items():
        line = line_of(services, name)
        _check_name(name, "service", line, problems)
        if not isinstance(instances, MarkedDict) or not instances:
            problems.add(
                line,
                f"service '{name}': expected a mapping of instance names to "
                "{branch: BRANCH}; a service with no instance syncs nothing",
            )
            continue
        entries = tuple(
            entry
            for instance in instances
            if (entry := _read_entry(path, name, instance, instances, problems)) is not None
        )
        found.append(OpsService(name, line, entries))
    return tuple(found)


def _read_entry(
    path: Path,
    service: str,
    instance: str,
    instances: MarkedDict,
    problems: _Problems,
) -> OpsEntry | None:
    value = instances[instance]
    line = line_of(instances, instance)
    _check_name(instance, "instance", line, problems)
    if not isinstance(value, MarkedDict):
        problems.add(line, f"instance '{service}/{instance}': expected {{branch: BRANCH}}")
        return None
    _unknown_keys(value, _ENTRY_KEYS, problems)
    what = f"instance '{service}/{instance}'"
    branch = _text(value, "branch", what, line, problems, required=True)
    spec = _text(value, "spec", what, line, problems, required=False)
    if branch is None:
        return None
    spec_path = path.parent / spec if spec is not None else None
    return OpsEntry(service, instance, branch, spec, spec_path, line)


def _text(
    mapping: MarkedDict, key: str, what: str, line: int, problems: _Problems, *, required: bool
) -> str | None:
    """The text under `key`; `line` (the entry's) is where a missing key is reported."""
    value = mapping.get(key)
    if value is None:
        if required or key in mapping:
            where = line_of(mapping, key) if key in mapping else line
            problems.add(where, f"{what}: '{key}:' is missing or empty")
        return None
    if not isinstance(value, str) or not value.strip():
        problems.add(
            line_of(mapping, key),
            f"{what}: {key} must be non-empty text, not {value!r} (put it in quotes)",
        )
        return None
    return value


def _check_name(name: str, what: str, line: int, problems: _Problems) -> None:
    try:
        check_name(name, what)
    except UsageError as error:
        problems.add(line, error.message)


def _unknown_keys(mapping: MarkedDict, allowed: tuple[str, ...], problems: _Problems) -> None:
    for key in mapping:
        if key not in allowed:
            problems.add(
                line_of(mapping, key),
                f"unknown key '{key}'{did_you_mean(key, allowed)}; expected {', '.join(allowed)}",
            )


def _listed(names: Mapping[str, Any] | set[str] | tuple[str, ...]) -> str:
    ordered = sorted(names)
    if not ordered:
        return "none"
    shown = ", ".join(ordered[:_MAX_LISTED])
    more = len(ordered) - _MAX_LISTED
    return f"{shown} and {more} more" if more > 0 else shown


class _Problems:
    """Problems of one file, each `source:line: text`, raised together in line order."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, text: str) -> None:
        where = f"{self.source}:{line}" if line else self.source
        self.items.append((line, f"{where}: {text}"))

    def error(self, hint: str) -> UsageError:
        texts = [text for _, text in sorted(self.items, key=lambda item: item[0])]
        if len(texts) == 1:
            return UsageError(texts[0], hint=hint)
        return UsageError(f"{self.source}: {len(texts)} problems", hint=hint, details=texts)
