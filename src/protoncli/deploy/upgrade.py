"""`pcli upgrade`: move spec files to newer blueprint versions, checked before anything changes.

An upgrade works on spec files: an environment's spec, or a service's (its `version` header
moves its instances and its pipeline together). For each selected spec it picks the target
version, checks the spec against that version's schema, asks (through the `Prompter`) for the
new required inputs that have no value, and only when every spec passes writes them all.
Deploying the upgraded specs and upgrading scaffolded code are the caller's next steps
(`upgrade_code_of`, then a deploy of exactly the upgraded items).

Target versions, as Proton's deployment update types pick them:
- `minor` (MINOR_VERSION): the recommended (highest published) minor of the spec's major;
- `major` (MAJOR_VERSION): the blueprint's recommended version (the newest major);
- `exact`: the version named, which must exist and be published (a lower one is a downgrade).
A spec already there, or ahead of the target (a draft pinned by hand), is up to date: untouched.

Decisions:
- Refusals come before any question and any write, and each lists everything: versions that
  do not exist, environments whose major a service running in them does not list as
  compatible (with the services' versions after this run, so `pcli upgrade dev web --major`
  moves both), service instances whose environment the new service version does not list.
- New required inputs with no default and no value are asked in a terminal, else given with
  `--param` / `--pipeline-param` (applied only where an input is missing), else one error lists
  every spec and input. Inputs the new schema does not know are warnings, as for any spec.
- Answers and `--param` values are written into the spec (plain values of secret inputs are
  stored in Secrets Manager first, as `create` does), so the next deploy renders the same.
- Each spec is written with `update_spec` (comments kept) only if it still pins the version the
  plan started from: an edit made meanwhile is refused, not overwritten.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import parse_version
from protoncli.deploy.project import Project
from protoncli.deploy.upgrade_inputs import PIPELINE, NewInput, NewInputs
from protoncli.errors import InputError, NotFoundError, PcliError, UsageError, did_you_mean
from protoncli.state.declared import Declared, EnvironmentRecord, ServiceRecord, read_declared

if TYPE_CHECKING:
    from protoncli.blueprints.versions import VersionInfo
    from protoncli.prompting import Prompter
    from protoncli.workspace.scaffold_upgrade import ScaffoldUpgrade

MINOR = "minor"
MAJOR = "major"
EXACT = "exact"
UP_TO_DATE = "up to date"
DOWNGRADE = "downgrade"
ENVIRONMENT = "environment"
SERVICE = "service"


@dataclass(frozen=True)
class Selection:
    """What to upgrade: names of environments or services, filters, or everything."""

    names: tuple[str, ...] = ()
    env: str | None = None
    blueprint: str | None = None
    everything: bool = False


@dataclass(frozen=True)
class Target:
    """How far to go: `minor`, `major`, or `exact` with `version`."""

    mode: str = MINOR
    version: str | None = None


@dataclass(frozen=True)
class SpecUpgrade:
    """One spec file and what the upgrade does to it."""

    kind: str  # environment | service
    name: str
    path: Path
    blueprint: str
    from_version: str
    to_version: str
    action: str  # minor | major | downgrade | up to date
    new_inputs: tuple[NewInput, ...] = ()
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # where -> inputs
    problems: tuple[str, ...] = ()  # what still stops the spec from validating
    warnings: tuple[str, ...] = ()
    code: tuple[ScaffoldUpgrade, ...] = ()
    code_error: str | None = None

    @property
    def moves(self) -> bool:
        return self.action != UP_TO_DATE

    @property
    def missing(self) -> tuple[NewInput, ...]:
        return tuple(item for item in self.new_inputs if item.needed and not item.given)


@dataclass(frozen=True)
class UpgradePlan:
    workspace: str
    target: Target
    specs: tuple[SpecUpgrade, ...]

    @property
    def moving(self) -> tuple[SpecUpgrade, ...]:
        return tuple(spec for spec in self.specs if spec.moves)


# --- selection --------------------------------------------------------------------------------


def select(declared: Declared, selection: Selection) -> list[EnvironmentRecord | ServiceRecord]:
    """The declared environments and services the selection names, environments first."""
    if not (selection.names or selection.everything or selection.env or selection.blueprint):
        raise UsageError(
            "nothing to upgrade was named",
            hint="name environments or services (pcli upgrade dev web), or use --env ENV, "
            "--blueprint BLUEPRINT or --all; see what is behind with: pcli status --behind",
        )
    if selection.names:
        chosen = [record for name in selection.names for record in _named(declared, name)]
    else:
        _refuse_problems(declared)
        chosen = [*declared.environments.values(), *declared.services.values()]
    if selection.env is not None:
        if selection.env not in declared.environments:
            raise _unknown(declared, selection.env, "environment")
        chosen = [record for record in chosen if _lives_in(record, selection.env)]
    if selection.blueprint is not None:
        chosen = [record for record in chosen if record.blueprint == selection.blueprint]
    if not chosen:
        raise UsageError(
            "no environment or service matches " + " and ".join(_filters(selection)),
            hint="see the workspace's items with: pcli status",
        )
    unique = {(_kind(record), record.name): record for record in chosen}
    return sorted(unique.values(), key=lambda r: (_kind(r) != ENVIRONMENT, r.name))


def _filters(selection: Selection) -> list[str]:
    words = [f"'{name}'" for name in selection.names]
    if selection.env is not None:
        words.append(f"--env {selection.env}")
    if selection.blueprint is not None:
        words.append(f"--blueprint {selection.blueprint}")
    return words


def _named(declared: Declared, name: str) -> list[EnvironmentRecord | ServiceRecord]:
    found: list[EnvironmentRecord | ServiceRecord] = []
    if name in declared.environments:
        found.append(declared.environments[name])
    if name in declared.services:
        found.append(declared.services[name])
    if found:
        return found
    for problem in declared.problems:
        if problem.path.stem == name and problem.path.suffix in (".yaml", ".yml"):
            raise UsageError(f"{problem.path}: {problem.message}", hint="fix the spec file first")
    if name in declared.components:
        raise UsageError(
            f"'{name}' is a component: components have no blueprint and are never upgraded",
            hint=f"upgrade the service it is attached to ({declared.components[name].service})",
        )
    raise _unknown(declared, name, "environment or service")


def _unknown(declared: Declared, name: str, what: str) -> NotFoundError:
    known = [*declared.environments, *declared.services]
    listing = ", ".join(dict.fromkeys(known)) or "none yet"
    return NotFoundError(
        f"no {what} named '{name}' in this workspace{did_you_mean(name, known)}",
        hint=f"environments and services here: {listing}",
    )


def _refuse_problems(declared: Declared) -> None:
    if declared.problems:
        raise PcliError(
            f"{len(declared.problems)} spec file(s) could not be read; nothing was upgraded",
            details=[f"{problem.path}: {problem.message}" for problem in declared.problems],
            hint="fix those files (or name the specs to upgrade), then run the command again",
        )


def _kind(record: EnvironmentRecord | ServiceRecord) -> str:
    return ENVIRONMENT if isinstance(record, EnvironmentRecord) else SERVICE


def _lives_in(record: EnvironmentRecord | ServiceRecord, environment: str) -> bool:
    if isinstance(record, EnvironmentRecord):
        return record.name == environment
    return any(instance.environment == environment for instance in record.spec.instances)


# --- target versions --------------------------------------------------------------------------


def target_version(
    versions: Sequence[VersionInfo], current: str, target: Target
) -> VersionInfo | None:
    """The version to move to; None when the spec is already there (or ahead)."""
    published = sorted((v for v in versions if v.is_published), key=lambda v: (v.major, v.minor))
    now = parse_version(current)
    if target.mode == EXACT:
        wanted = parse_version(target.version or "")
        chosen = next((v for v in published if (v.major, v.minor) == wanted), None)
        return None if chosen is None or wanted == now else chosen
    scope = published if target.mode == MAJOR else [v for v in published if v.major == now[0]]
    best = scope[-1] if scope else None
    return best if best is not None and (best.major, best.minor) > now else None


def _exact_problem(versions: Sequence[VersionInfo], blueprint: str, wanted: str) -> str | None:
    """Why `--to` cannot take a spec of `blueprint` to `wanted`, or None."""
    major, minor = parse_version(wanted)
    found = next((v for v in versions if (v.major, v.minor) == (major, minor)), None)
    listed = ", ".join(v.version for v in versions if v.is_published) or "none"
    if found is None:
        return f"{blueprint} has no version {wanted} (published: {listed})"
    if not found.is_published:
        return f"{blueprint} {wanted} is a draft (promote it first: pcli blueprint promote)"
    return None


def _action(current: str, new: VersionInfo | None) -> str:
    if new is None:
        return UP_TO_DATE
    major, minor = parse_version(current)
    if (new.major, new.minor) < (major, minor):
        return DOWNGRADE
    return MINOR if new.major == major else MAJOR


# --- the plan ---------------------------------------------------------------------------------


@dataclass
class _Moves:
    """The version each declared environment and service runs after this run."""

    project: Project
    versions: dict[str, list[VersionInfo]] = field(default_factory=dict)
    after: dict[tuple[str, str], VersionInfo] = field(default_factory=dict)

    def of(self, blueprint: str) -> list[VersionInfo]:
        if blueprint not in self.versions:
            self.versions[blueprint] = self.project.registry.versions(blueprint)
        return self.versions[blueprint]

    def info(self, kind: str, record: EnvironmentRecord | ServiceRecord) -> VersionInfo | None:
        """The version `record` pins after the run (None: not in the registry)."""
        if (kind, record.name) in self.after:
            return self.after[(kind, record.name)]
        try:
            versions = self.of(record.blueprint)
        except PcliError:
            return None
        return next((v for v in versions if v.version == record.version), None)


def plan_upgrade(
    project: Project,
    selection: Selection,
    target: Target,
    *,
    prompter: Prompter | None = None,
    params: Mapping[str, str] | None = None,
    pipeline_params: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> UpgradePlan:
    """What upgrading the selected specs does, checked; nothing is written.

    Raises `UsageError` (exit 2) for versions that do not exist and incompatible environments;
    unless `dry_run`, one `InputError` lists every spec and input still missing or invalid
    after `params` and the questions (with `dry_run`, they are in the plan and nothing is asked).
    """
    declared = read_declared(project)
    chosen = select(declared, selection)
    if target.mode == EXACT:
        parse_version(target.version or "")  # a malformed --to is a usage error first
    moves = _Moves(project)
    refusals: list[str] = []
    steps: list[tuple[EnvironmentRecord | ServiceRecord, VersionInfo | None]] = []
    for record in chosen:
        versions = moves.of(record.blueprint)
        if target.mode == EXACT:
            problem = _exact_problem(versions, record.blueprint, target.version or "")
            if problem is not None:
                refusals.append(f"{record.path}: {problem}")
                continue
        new = target_version(versions, record.version, target)
        if new is not None:
            moves.after[(_kind(record), record.name)] = new
        steps.append((record, new))
    if refusals:
        raise UsageError(
            f"--to {target.version}: not a published version of every selected blueprint; "
            "nothing was upgraded",
            details=refusals,
            hint="list the versions with: pcli blueprint versions BLUEPRINT",
        )
    _check_compatibility(declared, moves)
    inputs = NewInputs(project, prompter if not dry_run else None, params, pipeline_params)
    specs = tuple(_spec_upgrade(inputs, record, new) for record, new in steps)
    if not dry_run:
        _raise_missing(specs)
    return UpgradePlan(project.workspace.name, target, specs)


def _check_compatibility(declared: Declared, moves: _Moves) -> None:
    """Every service instance runs in an environment whose blueprint major the service's
    version (after the run) lists: for each moving environment and each moving service."""
    problems: list[str] = []
    for (kind, name), new in moves.after.items():
        if kind == ENVIRONMENT:
            env = declared.environments[name]
            if new.major == parse_version(env.version)[0]:
                continue
            blocking = [
                f"{service.name} ({service.blueprint}@{info.version} is compatible with "
                f"{_listed(info)})"
                for service in declared.services.values()
                if _lives_in(service, name)
                and (info := moves.info(SERVICE, service)) is not None
                and (env.blueprint, new.major) not in _compatible(info)
            ]
            if blocking:
                problems.append(
                    f"environment '{name}' cannot move to {env.blueprint} {new.version}: "
                    f"service(s) running in it do not list {env.blueprint}:{new.major}: "
                    + "; ".join(blocking)
                )
            continue
        service = declared.services[name]
        for instance in service.spec.instances:
            env_record = declared.environments.get(instance.environment)
            env_info = moves.info(ENVIRONMENT, env_record) if env_record else None
            if env_record is None or env_info is None:
                continue
            if (env_record.blueprint, env_info.major) not in _compatible(new):
                problems.append(
                    f"service '{name}' cannot move to {service.blueprint} {new.version}: its "
                    f"instance {instance.name} runs in environment '{env_record.name}' "
                    f"({env_record.blueprint}:{env_info.major}), which {new.version} does not "
                    f"list (compatible: {_listed(new)})"
                )
    if problems:
        raise UsageError(
            f"{len(problems)} upgrade(s) would break compatibility; nothing was upgraded",
            details=problems,
            hint="upgrade the services to versions that list the new environment major first "
            "(or in the same run: pcli upgrade ENV SERVICE --major), or move their instances",
        )


def _compatible(info: VersionInfo) -> set[tuple[str, int]]:
    return {(c.name, c.major) for c in info.compatible_environments}


def _listed(info: VersionInfo) -> str:
    return ", ".join(f"{c.name}:{c.major}" for c in info.compatible_environments) or "none"


def _spec_upgrade(
    inputs: NewInputs, record: EnvironmentRecord | ServiceRecord, new: VersionInfo | None
) -> SpecUpgrade:
    base = SpecUpgrade(
        _kind(record),
        record.name,
        record.path,
        record.blueprint,
        record.version,
        new.version if new is not None else record.version,
        _action(record.version, new),
    )
    if new is None:
        return base
    found = inputs.of(record, new)
    return replace(
        base,
        new_inputs=found.new_inputs,
        values=found.values,
        problems=found.problems,
        warnings=found.warnings,
    )


def _raise_missing(specs: Sequence[SpecUpgrade]) -> None:
    details = [
        f"{spec.path}: {_where(item.where)}input '{item.name}' is required by "
        f"{spec.blueprint} {spec.to_version} and has no value"
        for spec in specs
        for item in spec.missing
    ]
    details += [problem for spec in specs for problem in spec.problems]
    if not details:
        return
    names = sorted({item.name for spec in specs for item in spec.missing})
    flags = " ".join(
        f"{'--pipeline-param' if item.where == PIPELINE else '--param'} {item.name}=VALUE"
        for item in {(i.where == PIPELINE, i.name): i for s in specs for i in s.missing}.values()
    )
    given = f"give them with {flags}, " if flags else ""
    raise InputError(
        f"the upgraded spec(s) would not be valid: {len(details)} problem(s)"
        + (f"; missing: {', '.join(names)}" if names else "")
        + "; nothing was written",
        details=details,
        hint=f"{given}edit the spec file(s), or run in a terminal to be asked; "
        "see what would change with --plan",
    )


def _where(where: str) -> str:
    if not where:
        return ""
    return "pipeline, " if where == PIPELINE else f"instance '{where}', "


# --- writing ----------------------------------------------------------------------------------


def write_upgrade(project: Project, plan: UpgradePlan) -> None:
    """Write every moving spec: the new version, and the values found for new inputs."""
    for spec in plan.moving:
        values = _protected(project, spec)
        _write_spec(spec, values)


def _protected(project: Project, spec: SpecUpgrade) -> dict[str, dict[str, Any]]:
    """The new values, with plain values of secret inputs stored in AWS (as create does)."""
    if not spec.values:
        return {}
    from protoncli.deploy.secrets import protect_secret_inputs
    from protoncli.state.declared import read_environment, read_service

    info = project.registry.get(spec.blueprint, spec.to_version)
    schema = project.registry.load(info).schema
    assert schema is not None  # noqa: S101 - environment and service bundles have one
    protected: dict[str, dict[str, Any]] = {}
    for where, values in spec.values.items():
        if spec.kind == ENVIRONMENT:
            owner, input_type = f"env/{spec.name}", schema.main
            record = read_environment(project, spec.name)
            region, account = record.region, record.account
        elif where == PIPELINE and schema.pipeline is not None:
            owner, input_type = f"svc/{spec.name}/pipeline", schema.pipeline
            region, account = project.management_region(), None
        else:
            owner, input_type = f"svc/{spec.name}/{where}", schema.main
            instance = read_service(project, spec.name).spec.instance(where)
            record = read_environment(project, instance.environment if instance else "")
            region, account = record.region, record.account
        protected[where] = protect_secret_inputs(
            project, owner, input_type, values, region, account=account
        )
    return protected


def _write_spec(spec: SpecUpgrade, values: Mapping[str, Mapping[str, Any]]) -> None:
    from protoncli.workspace.roundtrip import double_quoted
    from protoncli.workspace.specfiles import find_instance, set_header, set_version, update_spec

    def moved_meanwhile(pinned: str | None) -> UsageError:
        return UsageError(
            f"{spec.path}: now pins version {pinned}, not {spec.from_version} as when the "
            "upgrade started; it was not changed",
            hint="run the upgrade again",
        )

    if not values:  # the version alone moves (most upgrades): the quick edit
        pinned = set_version(spec.path, spec.to_version, expected=spec.from_version)
        if pinned is not None:
            raise moved_meanwhile(pinned)
        return

    def change(document: Any) -> None:
        pinned = str(document.get("version"))
        if pinned != spec.from_version:
            raise moved_meanwhile(pinned)
        set_header(document, "version", double_quoted(spec.to_version))
        for where, inputs in values.items():
            if spec.kind == ENVIRONMENT:
                holder, key = document, "spec"
            elif where == PIPELINE:
                holder, key = document, PIPELINE
            else:
                holder, key = find_instance(document, where), "spec"
            if holder.get(key) is None:
                holder[key] = {}
            holder[key].update(inputs)

    update_spec(spec.path, change)


# --- scaffolded code --------------------------------------------------------------------------


def upgrade_code_of(project: Project, plan: UpgradePlan, *, dry_run: bool) -> UpgradePlan:
    """The plan with each moving service's scaffolded code upgraded (or, `dry_run`, planned).

    A folder whose upgrade a conflict refused has nothing written (see `upgrade_scaffold`); an
    error of one service (its recorded version gone, say) is kept as `code_error`.
    """
    from protoncli.deploy.code_upgrade import upgrade_scaffold
    from protoncli.workspace.scaffold_upgrade import find_scaffolds

    specs = []
    for spec in plan.specs:
        if spec.kind != SERVICE or not spec.moves:
            specs.append(spec)
            continue
        if not find_scaffolds(project.workspace.root, spec.name):
            specs.append(spec)
            continue
        try:
            code = upgrade_scaffold(project, spec.name, spec.to_version, dry_run=dry_run)
        except PcliError as error:
            specs.append(replace(spec, code_error=error.message))
            continue
        specs.append(replace(spec, code=code))
    return replace(plan, specs=tuple(specs))
