"""What the workspace declares: its spec files and component records, read once.

`read_environment` and `read_service` read one spec (for the commands that work on one item);
`read_declared` reads them all for the fleet, turning each file it cannot read into a `Problem`
instead of failing for everything, so reports show what they can and name what they could not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli.deploy.project import Project, missing, require_spec_header
from protoncli.errors import PcliError, UsageError
from protoncli.specs.model import EnvironmentSpec, ServiceSpec
from protoncli.specs.repository import REPOSITORY_KEYS
from protoncli.state.adopted import stack_of
from protoncli.state.digests import (
    component_inputs_digest,
    environment_inputs_digest,
    instance_inputs_digest,
    pipeline_inputs_digest,
)
from protoncli.state.identity import Identity

if TYPE_CHECKING:
    from protoncli.blueprints.versions import VersionInfo
    from protoncli.workspace.scaffold import ScaffoldResult
    from protoncli.workspace.specfiles import ComponentRecord


@dataclass(frozen=True)
class EnvironmentRecord:
    """An environment as the workspace declares it."""

    name: str
    path: Path
    spec: EnvironmentSpec
    blueprint: str
    version: str
    region: str
    warnings: tuple[str, ...] = ()
    account: str | None = None  # a name of pcli.yaml's `accounts:`; None: the caller's own


@dataclass(frozen=True)
class ServiceRecord:
    name: str
    path: Path
    spec: ServiceSpec
    blueprint: str
    version: str
    warnings: tuple[str, ...] = ()
    scaffold: ScaffoldResult | None = None  # what `create_service(scaffold_into=...)` wrote


def read_environment(project: Project, name: str) -> EnvironmentRecord:
    from protoncli.workspace.specfiles import read_spec

    path = project.workspace.environment_spec(name)
    if not path.is_file():
        raise missing(
            "environment", name, project.workspace.environments(), f"pcli env create {name}"
        )
    spec, warnings = project.read_once(path, read_spec)
    if not isinstance(spec, EnvironmentSpec):
        raise UsageError(f"{path}: expected `proton: EnvironmentSpec`")
    blueprint, version = require_spec_header(str(path), spec.header)
    region = project.region_for(spec.header.get("region"))
    account = spec.header.get("account")
    if account is not None:
        from protoncli.workspace.accounts import require_account

        account = require_account(project.accounts(), account, str(path)).name
    return EnvironmentRecord(name, path, spec, blueprint, version, region, tuple(warnings), account)


def component_record(project: Project, name: str) -> ComponentRecord:
    """The component's record (component.yaml), read once per run while it does not change."""
    from protoncli.workspace.model import COMPONENT_FILE
    from protoncli.workspace.specfiles import read_component

    path = project.workspace.component_dir(name) / COMPONENT_FILE
    return project.read_once(path, lambda _path: read_component(project.workspace, name))


def read_service(project: Project, name: str) -> ServiceRecord:
    from protoncli.workspace.specfiles import read_spec

    path = project.workspace.service_spec(name)
    if not path.is_file():
        raise missing("service", name, project.workspace.services(), f"pcli svc create {name}")
    spec, warnings = project.read_once(path, read_spec)
    if not isinstance(spec, ServiceSpec):
        raise UsageError(f"{path}: expected `proton: ServiceSpec`")
    blueprint, version = require_spec_header(str(path), spec.header)
    return ServiceRecord(name, path, spec, blueprint, version, tuple(warnings))


@dataclass(frozen=True)
class Problem:
    """A file of the workspace that could not be read, and why."""

    path: Path
    message: str


@dataclass(frozen=True)
class DeclaredItem:
    """One item the workspace declares, with what its stack should carry."""

    identity: Identity
    stack_name: str
    region: str
    blueprint: str | None  # None for components (developer IaC, no blueprint)
    version: str | None
    source: Path  # the spec file, or the component's folder
    inputs_digest: str
    account: str | None = None  # its environment's account (pcli.yaml's name); None: own


@dataclass(frozen=True)
class Declared:
    """Everything the workspace declares, read once."""

    environments: Mapping[str, EnvironmentRecord]
    services: Mapping[str, ServiceRecord]
    components: Mapping[str, ComponentRecord]
    items: tuple[DeclaredItem, ...]
    problems: tuple[Problem, ...] = ()
    # Services whose blueprint version could not be read: whether they have a pipeline is not
    # known, so a pipeline stack of theirs is not called an orphan.
    unknown_pipelines: frozenset[str] = field(default_factory=frozenset)
    # Environments, services and components whose files could not be read: their stacks are
    # neither declared nor orphans (what the file says is unknown), and nothing deletes them.
    unreadable: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def is_unreadable(self, identity: Identity) -> bool:
        """Whether the file that would declare the item could not be read."""
        if identity.kind == "environment":
            owner = ("environment", identity.environment or "")
        elif identity.kind in ("service-instance", "pipeline"):
            owner = ("service", identity.service or "")
        else:
            owner = ("component", identity.component or "")
        return owner in self.unreadable

    def regions(self) -> set[str]:
        return {item.region for item in self.items}

    def places(self) -> set[tuple[str, str | None]]:
        """The (region, account) pairs its items live in."""
        return {(item.region, item.account) for item in self.items}

    def environment_region(self, environment: str, default: str) -> str:
        record = self.environments.get(environment)
        return record.region if record is not None else default


def read_declared(project: Project) -> Declared:
    """Every environment, service (instances and pipeline) and component of the workspace."""
    workspace = project.workspace
    problems: list[Problem] = []
    unreadable: set[tuple[str, str]] = set()
    environments: dict[str, EnvironmentRecord] = {}
    for name in workspace.environments():
        try:
            environments[name] = read_environment(project, name)
        except PcliError as error:
            problems.append(Problem(workspace.environment_spec(name), error.message))
            unreadable.add(("environment", name))
            continue
        _check_version(project, environments[name], problems)
    services: dict[str, ServiceRecord] = {}
    for name in workspace.services():
        try:
            services[name] = read_service(project, name)
        except PcliError as error:
            problems.append(Problem(workspace.service_spec(name), error.message))
            unreadable.add(("service", name))
    components = _read_components(project, problems)
    unreadable |= {("component", name) for name in workspace.components() if name not in components}
    items: list[DeclaredItem] = [environment_item(project, r) for r in environments.values()]
    unknown: set[str] = set()
    home = project.management_region()
    for record in services.values():
        has_pipeline = _has_pipeline(project, record, problems)
        if has_pipeline is None:
            unknown.add(record.name)
        items += service_items(project, record, environments, home, bool(has_pipeline))
    for component in components.values():
        try:
            items.append(component_item(project, component, services, environments, home))
        except OSError as error:
            problems.append(
                Problem(component.bundle_dir, f"cannot read the component's files: {error}")
            )
    return Declared(
        environments,
        services,
        components,
        tuple(items),
        tuple(problems),
        frozenset(unknown),
        frozenset(unreadable),
    )


def _check_version(project: Project, record: EnvironmentRecord, problems: list[Problem]) -> None:
    if version_info(project, record.blueprint, record.version) is None:
        problems.append(Problem(record.path, _not_registered(record.blueprint, record.version)))


def _not_registered(blueprint: str, version: str) -> str:
    return (
        f"blueprint {blueprint}@{version} is not in the registry (never published here, or "
        "removed); pin a registered version (pcli blueprint versions NAME)"
    )


def _read_components(project: Project, problems: list[Problem]) -> dict[str, ComponentRecord]:
    found: dict[str, ComponentRecord] = {}
    for name in project.workspace.components():
        try:
            found[name] = component_record(project, name)
        except PcliError as error:
            problems.append(Problem(project.workspace.component_dir(name), error.message))
    return found


def environment_item(project: Project, record: EnvironmentRecord) -> DeclaredItem:
    identity = Identity.of_environment(record.name)
    return DeclaredItem(
        identity,
        stack_of(project, identity),
        record.region,
        record.blueprint,
        record.version,
        record.path,
        environment_inputs_digest(record.spec.inputs),
        record.account,
    )


def _has_pipeline(project: Project, record: ServiceRecord, problems: list[Problem]) -> bool | None:
    info = version_info(project, record.blueprint, record.version)
    if info is None:
        problems.append(Problem(record.path, _not_registered(record.blueprint, record.version)))
        return None
    return info.has_pipeline


def version_info(project: Project, blueprint: str, version: str) -> VersionInfo | None:
    """The registered version, or None when the registry does not have it."""
    try:
        return project.registered(blueprint, version)
    except PcliError:
        return None


def service_items(
    project: Project,
    record: ServiceRecord,
    environments: Mapping[str, EnvironmentRecord],
    home: str,
    has_pipeline: bool,
) -> list[DeclaredItem]:
    pipeline = dict(record.spec.pipeline) if record.spec.pipeline is not None else None
    items = []
    for instance in record.spec.instances:
        identity = Identity.of_instance(record.name, instance.name, instance.environment)
        env = environments.get(instance.environment)
        items.append(
            DeclaredItem(
                identity,
                stack_of(project, identity),
                env.region if env is not None else home,
                record.blueprint,
                record.version,
                record.path,
                instance_inputs_digest(instance.inputs, instance.environment),
                env.account if env is not None else None,
            )
        )
    if has_pipeline:
        identity = Identity.of_pipeline(record.name)
        instances = {i.name: (i.environment, i.inputs) for i in record.spec.instances}
        source = {
            key: str(record.spec.header[key])
            for key in REPOSITORY_KEYS
            if record.spec.header.get(key) not in (None, "")
        }
        items.append(
            DeclaredItem(
                identity,
                stack_of(project, identity),
                home,
                record.blueprint,
                record.version,
                record.path,
                pipeline_inputs_digest(pipeline, instances, source),
            )
        )
    return items


def component_item(
    project: Project,
    record: ComponentRecord,
    services: Mapping[str, ServiceRecord],
    environments: Mapping[str, EnvironmentRecord],
    home: str,
) -> DeclaredItem:
    """The component as declared; OSError when its files cannot be read."""
    identity = Identity.of_component(
        record.name,
        service=record.service,
        instance=record.instance,
        environment=record.environment,
    )
    files = component_files(record.bundle_dir)
    service = services.get(record.service)
    instance = service.spec.instance(record.instance) if service is not None else None
    env = environments.get(record.environment)
    return DeclaredItem(
        identity,
        stack_of(project, identity),
        env.region if env is not None else home,
        None,
        None,
        record.bundle_dir,
        component_inputs_digest(files, instance.inputs if instance is not None else None),
        env.account if env is not None else None,
    )


def component_files(folder: Path) -> dict[str, bytes]:
    """The files of a component's folder by relative path (its record included)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
