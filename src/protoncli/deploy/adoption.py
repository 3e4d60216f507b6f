"""`pcli adopt`, first half: the stacks Proton created, and the workspace entries they need.

`discover` reads Proton's stacks (`state.proton`) and refuses, before anything else, two of
them that would be the same item of one workspace (two environments named `dev` in two
regions: a workspace holds one environment per name). `propose` says, for each stack, where it
stands (adopted already, declared by the workspace, new, or blocked and why) and builds the
spec files the new ones need, in Proton's spec format with pcli's header. `write_entries`
writes them (never over an existing file) and records in adopted.yaml the stack of each item
the workspace now declares (`state.adopted`).

Decisions:
- The version a new spec pins: the export spec's `version:` when it has one, else the template
  ARN's version suffix, else the blueprint's recommended version in the registry (the tags of
  a Proton stack do not say which version rendered it; the change set then shows whether the
  recommended version renders the same template).
- Inputs come from the user's Proton export (`--from DIR`: `environments/NAME.yaml`,
  `services/NAME.yaml`, as `aws proton get-environment` / `get-service` print their specs);
  without one, a spec holds no inputs (the blueprint's defaults).
- A stack in an update rollback (UPDATE_ROLLBACK_COMPLETE) runs its previous template and can
  be adopted; any other failed status, or an operation in progress, blocks it.
- Components are listed, but their entries are not written: a component's IaC is the
  developer's own files (`pcli component create`); once declared, `pcli adopt` adopts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.deploy.model import TERMINAL_FAILED, is_in_progress
from protoncli.deploy.project import Project
from protoncli.errors import PcliError, UsageError
from protoncli.state.identity import (
    COMPONENT,
    ENVIRONMENT,
    PIPELINE,
    SERVICE_INSTANCE,
    Identity,
)
from protoncli.state.proton import (
    Place,
    ProtonStack,
    ProtonStacks,
    expected_template_kind,
    find_proton_stacks,
    place_words,
)

if TYPE_CHECKING:
    from protoncli.blueprints.versions import VersionInfo
    from protoncli.specs.model import EnvironmentSpec, ServiceSpec

ADOPTED = "adopted"  # carries this workspace's pcli tags: nothing to do
DECLARED = "declared"  # the workspace declares it: its change set is made and shown
NEW = "new"  # not declared yet: an entry is proposed (written with --write)
BLOCKED = "blocked"  # cannot be adopted; `reason` says why
ADOPTABLE_FAILURE = "UPDATE_ROLLBACK_COMPLETE"


class SameItemError(UsageError):
    """Two Proton stacks that would be one item of the workspace."""


@dataclass(frozen=True)
class FoundStack:
    """One of Proton's stacks and where it stands."""

    proton: ProtonStack
    state: str  # adopted | declared | new | blocked
    reason: str | None = None
    version: str | None = None  # the version its item pins (or would)

    @property
    def identity(self) -> Identity:
        return self.proton.identity


@dataclass(frozen=True)
class Entry:
    """A spec file the found stacks need: an environment's or a service's."""

    kind: str  # environment | service
    name: str
    path: Path
    blueprint: str
    version: str
    version_from: str  # export | template-arn | recommended
    document: Mapping[str, Any]
    inputs_from: Path | None = None
    exists: bool = False  # the workspace has the file already: it is kept as it is
    written: bool = False


@dataclass(frozen=True)
class Proposal:
    workspace: str
    found: ProtonStacks
    stacks: tuple[FoundStack, ...]
    entries: tuple[Entry, ...]
    notes: tuple[str, ...] = ()
    written: tuple[Path, ...] = field(default=())
    adopted_file: Path | None = None  # adopted.yaml, when this run wrote it


def discover(project: Project, places: Iterable[Place]) -> ProtonStacks:
    """Proton's stacks in every place; SameItemError when two would be one item."""
    found = find_proton_stacks(project, places)
    by_key: dict[tuple[str, ...], list[ProtonStack]] = {}
    for stack in found.stacks:
        by_key.setdefault(stack.identity.key, []).append(stack)
    clashes = [stacks for stacks in by_key.values() if len(stacks) > 1]
    if clashes:
        details = [
            f"{stacks[0].identity.description}: "
            + ", ".join(f"{s.name} in {place_words(s.region, s.account)}" for s in stacks)
            for stacks in clashes
        ]
        places_seen = sorted({place_words(s.region, s.account) for c in clashes for s in c})
        raise SameItemError(
            f"{len(clashes)} item(s) have a Proton stack in more than one place "
            f"({', '.join(places_seen)}): a workspace holds one item per name, so none was "
            "proposed, written or adopted",
            hint="adopt one place at a time with --region (and --account); the other place's "
            "stacks belong in a workspace of their own (pcli init)",
            details=details,
        )
    return found


def propose(project: Project, found: ProtonStacks, export: Path | None) -> Proposal:
    """Where each stack stands, and the entries the new ones need."""
    from dataclasses import replace

    workspace = project.workspace
    standing = {stack.identity.key: _standing(project, stack) for stack in found.stacks}
    entries: list[Entry] = []
    notes: list[str] = []

    def block(items: Iterable[FoundStack], error: PcliError) -> None:
        for item in items:
            standing[item.identity.key] = replace(item, state=BLOCKED, reason=error.message)

    for item in [s for s in standing.values() if s.state == NEW and s.identity.kind == ENVIRONMENT]:
        try:
            entries.append(_environment_entry(project, item, export))
        except PcliError as error:
            block([item], error)
    services: dict[str, list[FoundStack]] = {}
    for item in standing.values():
        if item.state == NEW and item.identity.kind in (SERVICE_INSTANCE, PIPELINE):
            services.setdefault(item.identity.service or "", []).append(item)
    for service, items in sorted(services.items()):
        if workspace.service_spec(service).is_file():
            notes.append(
                f"{workspace.service_spec(service)} exists and does not list "
                + ", ".join(i.identity.description for i in items)
                + ": add them to it (it is not overwritten)"
            )
            continue
        try:
            entries.append(_service_entry(project, service, items, export))
        except PcliError as error:
            block(items, error)
    ordered = [standing[stack.identity.key] for stack in found.stacks]
    notes += [
        f"component {item.identity.component} ({item.proton.name}): declare it with its IaC "
        f"files (pcli component create {item.identity.component} ...), then run pcli adopt again"
        for item in ordered
        if item.state == NEW and item.identity.kind == COMPONENT
    ]
    return Proposal(workspace.name, found, tuple(ordered), tuple(entries), tuple(notes))


def _standing(project: Project, stack: ProtonStack) -> FoundStack:
    identity = stack.identity
    if stack.adopted_by == project.workspace.name:
        return FoundStack(stack, ADOPTED, version=stack.stack.tags.get("pcli:version"))
    reason = _blocker(stack)
    if reason is not None:
        return FoundStack(stack, BLOCKED, reason)
    if identity.kind == COMPONENT:
        declared = identity.component in project.workspace.components()
        return FoundStack(stack, DECLARED if declared else NEW)
    declared_version = _declared_version(project, stack)
    if declared_version is not None:
        return FoundStack(stack, DECLARED, version=declared_version)
    try:
        info = _version_for(project, stack, None)
    except PcliError as error:
        return FoundStack(stack, BLOCKED, error.message)
    return FoundStack(stack, NEW, version=info.version)


def _blocker(stack: ProtonStack) -> str | None:
    """Why the stack cannot be adopted whatever the workspace says; None: it can."""
    if stack.adopted_by is not None:
        return f"adopted by another pcli workspace ({stack.adopted_by})"
    status = stack.stack.status
    if is_in_progress(status):
        return f"an operation runs on it ({status}): run pcli adopt again once it ends"
    if status in TERMINAL_FAILED and status != ADOPTABLE_FAILURE:
        return f"it is in {status}: repair or delete it in CloudFormation first"
    return None


def _declared_version(project: Project, stack: ProtonStack) -> str | None:
    """The version the workspace's spec pins for the stack's item; None: not declared."""
    from protoncli.state.declared import read_environment, read_service

    identity = stack.identity
    workspace = project.workspace
    if identity.kind == ENVIRONMENT:
        name = identity.environment or ""
        if not workspace.environment_spec(name).is_file():
            return None
        return read_environment(project, name).version
    service = identity.service or ""
    if not workspace.service_spec(service).is_file():
        return None
    record = read_service(project, service)
    if identity.kind == SERVICE_INSTANCE and record.spec.instance(identity.instance or "") is None:
        return None
    return record.version


def _version_for(project: Project, stack: ProtonStack, pinned: str | None) -> VersionInfo:
    """The registered version the item's spec pins (see the module's decisions)."""
    blueprint = stack.blueprint
    wanted = expected_template_kind(stack.identity)
    if blueprint is None:
        raise UsageError(
            f"stack {stack.name} has no aws:proton:template tag: the blueprint that rendered it "
            "is unknown"
        )
    if stack.template_kind is not None and stack.template_kind != wanted:
        raise UsageError(
            f"stack {stack.name}: its template {blueprint} is a {stack.template_kind} "
            f"template, but the stack is a {stack.identity.description}"
        )
    if blueprint not in project.registry.names():
        raise UsageError(
            f"blueprint {blueprint} (from the stack's aws:proton:template) is not in the "
            "registry: publish the Proton template bundle first (pcli blueprint publish DIR "
            f"--name {blueprint}, or pcli blueprint sync for a template repository)"
        )
    version = pinned or stack.version
    info = project.registry.get(blueprint, version)
    if str(info.kind) != wanted:
        raise UsageError(
            f"blueprint {info.ref} is a {info.kind} blueprint, but the stack {stack.name} is a "
            f"{stack.identity.description}"
        )
    return info


def _export_spec(export: Path | None, folder: str, name: str) -> tuple[Any, Path | None]:
    """The spec of `name` in the export (`folder/NAME.yaml` or `.yml`), if there is one."""
    from protoncli.specs.io import load_spec_with_warnings

    if export is None:
        return None, None
    for suffix in (".yaml", ".yml"):
        path = export / folder / f"{name}{suffix}"
        if path.is_file():
            spec, _warnings = load_spec_with_warnings(path)
            return spec, path
    return None, None


def _environment_entry(project: Project, item: FoundStack, export: Path | None) -> Entry:
    from protoncli.specs.model import EnvironmentSpec
    from protoncli.workspace.specfiles import environment_document

    name = item.identity.environment or ""
    spec, source = _export_spec(export, "environments", name)
    if spec is not None and not isinstance(spec, EnvironmentSpec):
        raise UsageError(f"{source}: expected `proton: EnvironmentSpec` for environment {name}")
    pinned = _pinned(spec)
    info = _version_for(project, item.proton, pinned)
    document = environment_document(
        blueprint=info.name,
        version=info.version,
        region=item.proton.region,
        inputs=dict(spec.inputs) if spec is not None else {},
        account=item.proton.account,
    )
    path = project.workspace.environment_spec(name)
    origin = _origin(pinned, item.proton.version)
    return Entry(ENVIRONMENT, name, path, info.name, info.version, origin, document, source)


def _service_entry(
    project: Project, service: str, items: Sequence[FoundStack], export: Path | None
) -> Entry:
    from protoncli.specs.model import ServiceSpec
    from protoncli.workspace.specfiles import service_document

    spec, source = _export_spec(export, "services", service)
    if spec is not None and not isinstance(spec, ServiceSpec):
        raise UsageError(f"{source}: expected `proton: ServiceSpec` for service {service}")
    pinned = _pinned(spec)
    first = items[0].proton
    info = _version_for(project, first, pinned)
    blueprints = sorted({i.proton.blueprint or "?" for i in items})
    if len(blueprints) > 1:
        raise UsageError(
            f"the stacks of service {service} were rendered from different templates "
            f"({', '.join(blueprints)}): a service has one blueprint"
        )
    instances = []
    for item in sorted(items, key=lambda i: i.identity.name):
        if item.identity.kind != SERVICE_INSTANCE:
            continue
        instance = item.identity.instance or ""
        given = spec.instance(instance) if spec is not None else None
        inputs = dict(given.inputs) if given is not None else {}
        instances.append((instance, item.identity.environment or "", inputs))
    pipeline = None
    if info.has_pipeline:
        pipeline = dict(spec.pipeline or {}) if spec is not None else {}
    document = service_document(
        blueprint=info.name, version=info.version, instances=instances, pipeline=pipeline
    )
    path = project.workspace.service_spec(service)
    origin = _origin(pinned, first.version)
    return Entry("service", service, path, info.name, info.version, origin, document, source)


def _pinned(spec: EnvironmentSpec | ServiceSpec | None) -> str | None:
    version = spec.header.get("version") if spec is not None else None
    return str(version) if version else None


def _origin(pinned: str | None, from_arn: str | None) -> str:
    if pinned:
        return "export"
    return "template-arn" if from_arn else "recommended"


def write_entries(project: Project, proposal: Proposal) -> Proposal:
    """Write the proposed spec files that do not exist (never over one that does), then record
    the stack of every item the workspace now declares in adopted.yaml."""
    from dataclasses import replace

    from protoncli.locks import workspace_lock
    from protoncli.workspace.specfiles import write_new_spec

    entries: list[Entry] = []
    written: list[Path] = []
    with workspace_lock(project.workspace, "pcli adopt --write"):
        for entry in proposal.entries:
            if entry.path.exists():
                entries.append(replace(entry, exists=True))
                continue
            entry.path.parent.mkdir(parents=True, exist_ok=True)
            write_new_spec(entry.path, entry.document)
            entries.append(replace(entry, written=True))
            written.append(entry.path)
    stacks = tuple(_after_writing(project, item) for item in proposal.stacks)
    adopted_file = record_stacks(project, stacks)
    return replace(
        proposal,
        stacks=stacks,
        entries=tuple(entries),
        written=tuple(written),
        adopted_file=adopted_file,
    )


def _after_writing(project: Project, item: FoundStack) -> FoundStack:
    """The item as it stands once the entries are written."""
    from dataclasses import replace

    if item.state != NEW or item.identity.kind == COMPONENT:
        return item
    try:
        version = _declared_version(project, item.proton)
    except PcliError as error:
        return replace(item, state=BLOCKED, reason=error.message)
    return item if version is None else replace(item, state=DECLARED, version=version)


def record_stacks(project: Project, stacks: Iterable[FoundStack]) -> Path | None:
    """Record in adopted.yaml the Proton stack of every declared (or adopted) item; the file's
    path when this changed it."""
    from protoncli.state.adopted import adopted_path, record_adopted

    wanted = {
        item.identity.key: item.proton.name for item in stacks if item.state in (DECLARED, ADOPTED)
    }
    if wanted and record_adopted(project.workspace, wanted):
        return adopted_path(project.workspace)
    return None
