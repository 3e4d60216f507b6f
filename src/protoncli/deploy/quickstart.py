"""`pcli quickstart`: which environment and service the path goes through, and what is missing.

The command (cli/commands/quickstart.py) makes the workspace, then runs `pcli env create` and
`pcli svc create` as they are. This module decides, from the spec files and what AWS runs (the
state model, `survey`), what those creates are given:

- the environment: `--env` when given; else the one running in the workspace (one of several
  is asked for); else a new one, named as asked (default: the environment whose spec file is
  written but not deployed, else the one a draft keeps answers for, else `dev`; unattended,
  always `dev`);
- the service: `--service` when given; else one whose spec file has an instance in that
  environment (offered in a terminal beside a new one); else a new one, named as asked, with
  its instance (default SERVICE-ENVIRONMENT).

One that runs already is reused (nothing is created or deployed for it); one whose spec file is
written but not deployed is handed to the create, which continues with it (`deploy.resume`).
Questions go through the `Interview` of the creates (Ctrl-C keeps the answers in their drafts).
With no prompter nothing is asked: `plan_unattended` lists everything missing in one error,
with the quickstart flag that gives each, before anything is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import check_name
from protoncli.deploy.health import service_url
from protoncli.deploy.interview import Interview, check_new_name
from protoncli.deploy.project import MissingValue, Project, missing_required
from protoncli.errors import InputError, UsageError
from protoncli.prompting import Choice, Prompter, Question, text_question

if TYPE_CHECKING:
    from protoncli.blueprints.registry import Registry
    from protoncli.schema.model import InputDef

DEFAULT_ENVIRONMENT = "dev"
COMMAND = "pcli quickstart"
_NEW = "\x00new"  # the choice of a new service


@dataclass(frozen=True)
class Given:
    """The answers given as flags."""

    environment: str | None = None
    environment_blueprint: str | None = None
    environment_params: Mapping[str, str] = field(default_factory=dict)
    service: str | None = None
    blueprint: str | None = None
    instance: str | None = None
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentState:
    """An environment of the workspace (its spec file) and whether it runs."""

    name: str
    blueprint: str | None
    version: str | None
    region: str
    stack_name: str
    running: bool  # deployed, and its last deployment did not fail


@dataclass(frozen=True)
class ServiceState:
    """A service of the workspace, its instances (name → environment) and whether it runs."""

    name: str
    blueprint: str | None
    version: str | None
    instances: Mapping[str, str]
    stacks: Mapping[str, str]  # instance → stack name
    outputs: Mapping[str, Mapping[str, str]]  # instance → its stack's outputs (deployed ones)
    running: bool  # each of its stacks deployed, none failed

    def instances_in(self, environment: str) -> list[str]:
        return [name for name, placed in self.instances.items() if placed == environment]

    def url(self, instance: str) -> str | None:
        """The instance's URL: its first output that is an http(s) URL (as `svc status`)."""
        return service_url(self.outputs.get(instance))


@dataclass(frozen=True)
class Survey:
    """What the workspace holds and what of it runs; the names drafts keep answers for."""

    environments: tuple[EnvironmentState, ...] = ()
    services: tuple[ServiceState, ...] = ()
    drafted_environments: tuple[str, ...] = ()
    drafted_services: tuple[str, ...] = ()

    def environment(self, name: str) -> EnvironmentState | None:
        return next((env for env in self.environments if env.name == name), None)

    def service(self, name: str) -> ServiceState | None:
        return next((svc for svc in self.services if svc.name == name), None)

    def running_environments(self) -> list[str]:
        return [env.name for env in self.environments if env.running]

    def services_in(self, environment: str) -> list[ServiceState]:
        return [svc for svc in self.services if svc.instances_in(environment)]

    def default_environment(self) -> str:
        """A new environment's name: one written but not running, else a drafted one, else
        `dev`."""
        waiting = [env.name for env in self.environments if not env.running]
        return next(iter([*waiting, *self.drafted_environments]), DEFAULT_ENVIRONMENT)


@dataclass(frozen=True)
class Chosen:
    """An environment or service the path goes through; `reuse`: it runs already."""

    name: str
    reuse: bool
    instance: str | None = None  # a service's instance in the environment
    exists: bool = False  # its spec file is written


@dataclass(frozen=True)
class Plan:
    """The environment and service of a run with nothing to ask."""

    environment: Chosen
    service: Chosen


def survey(project: Project) -> Survey:
    """The workspace's environments and services, joined with their stacks (one fleet read)."""
    from protoncli.state.fleet import read_fleet

    fleet = read_fleet(project)
    environments = tuple(
        EnvironmentState(
            item.name,
            item.blueprint,
            item.version,
            item.region,
            item.stack_name,
            item.is_deployed and not item.failed and not item.in_progress,
        )
        for item in fleet.of_kind("environment")
        if item.is_declared
    )
    services = []
    for name in project.workspace.services():
        items = [item for item in fleet.of_service(name) if item.is_declared]
        instances = [item for item in items if item.kind == "service-instance"]
        if not instances:
            continue  # a spec file that cannot be read is reported by the commands that use it
        services.append(
            ServiceState(
                name,
                instances[0].blueprint,
                instances[0].version,
                {str(i.identity.instance): str(i.environment) for i in instances},
                {str(i.identity.instance): i.stack_name for i in instances},
                {str(i.identity.instance): dict(i.outputs or {}) for i in instances},
                all(i.is_deployed and not i.failed and not i.in_progress for i in items),
            )
        )
    root = project.workspace.root
    return Survey(
        environments,
        tuple(services),
        tuple(drafted(root, "environment")),
        tuple(drafted(root, "service")),
    )


def drafted(workspace: Path, kind: str) -> list[str]:
    """Names of `kind` whose create left answers in a draft (Ctrl-C), newest first."""
    from protoncli.workspace.drafts import draft_path, open_draft

    folder = draft_path(workspace, kind, "-").parent
    prefix = f"{kind}-"
    found = sorted(folder.glob(f"{prefix}*.yaml"), key=lambda p: p.stat().st_mtime, reverse=True)
    names = [path.name.removeprefix(prefix).removesuffix(".yaml") for path in found]
    return [name for name in names if open_draft(workspace, kind, name).answers]


# --- choosing, with questions -----------------------------------------------------------------


def choose_environment(
    project: Project, found: Survey, given: Given, prompter: Prompter | None
) -> Chosen | None:
    """The environment to run the service in; None (noted in `missing`) when it cannot be
    chosen without asking. Asked through the environment create's `Interview`."""
    return _Chooser(project, found, given, prompter).environment()


def choose_service(
    project: Project, found: Survey, given: Given, environment: str, prompter: Prompter | None
) -> Chosen | None:
    """The service (and its instance in `environment`); None when it cannot be chosen without
    asking. A new service's name and instance name are asked through the service create's
    `Interview` (kept in its draft as `pcli svc create` keeps them)."""
    return _Chooser(project, found, given, prompter).service(environment)


def plan_unattended(registry: Registry, found: Survey, given: Given) -> Plan:
    """The environment and service of a run that asks nothing, or one error (exit 2) that
    lists everything missing with the flag that gives each."""
    chooser = _Chooser(None, found, given, None)
    environment = chooser.environment()
    inputs: dict[str, list[InputDef]] = {}
    if environment is not None and not environment.exists:
        inputs["--env-param"] = _required_inputs(
            chooser, registry, given.environment_blueprint, given.environment_params, "environment"
        )
    known = found.service(given.service) if given.service is not None else None
    service = None
    if environment is not None or known is None:  # an existing one is placed once it is known
        service = chooser.service(environment.name if environment else None)
    if known is None and (service is None or not service.exists):
        inputs["--param"] = _required_inputs(
            chooser, registry, given.blueprint, given.params, "service"
        )
    if chooser.missing or any(inputs.values()) or environment is None or service is None:
        raise missing_error(chooser.missing, inputs)
    return Plan(environment, service)


def _required_inputs(
    chooser: _Chooser,
    registry: Registry,
    reference: str | None,
    params: Mapping[str, str],
    kind: str,
) -> list[InputDef]:
    """The required inputs (with no default) of the blueprint `reference` names that `params`
    leave out; the blueprint is noted as missing when it is not named."""
    from protoncli.specs.resolve import apply_params

    if reference is None:
        listing = ", ".join(b.name for b in registry.blueprints() if str(b.kind) == kind)
        flag = "--env-blueprint" if kind == "environment" else "--blueprint"
        about = f"the {kind} blueprint, NAME or NAME@VERSION (in the registry: {listing or '-'})"
        chooser.missing.append(MissingValue(flag, f"{flag} BLUEPRINT", about))
        return []
    bundle = registry.load(registry.resolve(reference))
    if bundle.schema is None:
        return []
    schema = bundle.schema.main
    return missing_required(schema, apply_params({}, dict(params), schema))


def missing_error(
    values: Sequence[MissingValue], inputs: Mapping[str, Sequence[InputDef]]
) -> InputError:
    """What is missing, each with the flag that gives it (as the creates say it)."""
    labels = [value.label for value in values]
    usages = [value.usage for value in values]
    details = [f"{value.label}: {value.about}" for value in values]
    for flag, items in inputs.items():
        for item in items:
            labels.append(item.name)
            usages.append(f"{flag} {item.name}=VALUE")
            details.append(f"input '{item.name}' is required ({flag})")
    return InputError(
        f"{COMMAND}: {len(labels)} required value(s) missing: {', '.join(labels)}",
        hint=f"give them with {' '.join(usages)}",
        details=details,
    )


class _Chooser:
    """The choices of one run; with no prompter, what is missing (`missing`)."""

    def __init__(
        self, project: Project | None, found: Survey, given: Given, prompter: Prompter | None
    ) -> None:
        self.project = project
        self.found = found
        self.given = given
        self.prompter = prompter
        self.missing: list[MissingValue] = []

    def _interview(self, kind: str) -> Interview | None:
        if self.prompter is None or self.project is None:
            return None
        return Interview(self.project, kind, self.prompter)

    # -- the environment --------------------------------------------------------------------

    def environment(self) -> Chosen | None:
        given = self.given.environment
        if given is not None:
            check_name(given, "environment")
            return self._environment(given)
        running = self.found.running_environments()
        interview = self._interview("environment")
        if len(running) == 1:
            return self._environment(running[0])
        if running and interview is None:
            about = f"the environment to run the service in (running here: {', '.join(running)})"
            self.missing.append(MissingValue("--env", "--env NAME", about))
            return None
        if running and interview is not None:
            choices = tuple(self._environment_choice(name) for name in running)
            question = Question(
                "environment", "select", "Environment to run the service in", choices=choices
            )
            return self._environment(str(interview.ask(question)))
        if interview is None:  # unattended: never a name guessed from files left behind
            return self._environment(DEFAULT_ENVIRONMENT)
        question = text_question(
            "name",
            "Environment name",
            check=self._environment_problem,
            default=self.found.default_environment(),
        )
        return self._environment(str(interview.ask(question)))

    def _environment(self, name: str) -> Chosen:
        state = self.found.environment(name)
        return Chosen(name, reuse=state is not None and state.running, exists=state is not None)

    def _environment_choice(self, name: str) -> Choice:
        state = self.found.environment(name)
        shown = f"{state.blueprint}@{state.version}, {state.region}" if state else None
        return Choice(name, name, shown)

    def _environment_problem(self, name: str) -> str | None:
        """A name of a new environment, or of one written and not deployed (continued)."""
        if self.found.environment(name) is not None:
            return _problem(lambda: check_name(name, "environment"))
        assert self.project is not None  # noqa: S101 - asked only with a project
        project = self.project
        return _problem(lambda: check_new_name(project, "environment", name))

    # -- the service ------------------------------------------------------------------------

    def service(self, environment: str | None) -> Chosen | None:
        given = self.given.service
        if given is not None:
            check_name(given, "service")
            state = self.found.service(given)
            if state is not None:
                return self._existing(state, environment)
            return self._new(given, environment)
        existing = self.found.services_in(environment) if environment else []
        interview = self._interview("service")
        if interview is None:
            if len(existing) == 1:
                return self._existing(existing[0], environment)
            names = ", ".join(svc.name for svc in existing)
            about = "the service's name" + (f" (in {environment} here: {names})" if names else "")
            self.missing.append(MissingValue("--service", "--service NAME", about))
            return None
        if existing:
            choices = (
                *(self._service_choice(svc) for svc in existing),
                Choice(_NEW, "a new service"),
            )
            question = Question("service", "select", "Service", choices=choices)
            chosen = interview.ask(question)
            if chosen != _NEW:
                state = self.found.service(str(chosen))
                assert state is not None  # noqa: S101 - offered from the survey
                return self._existing(state, environment)
        return self._new(None, environment)

    def _service_choice(self, state: ServiceState) -> Choice:
        words = "running" if state.running else "written, not deployed"
        return Choice(state.name, state.name, f"{state.blueprint}@{state.version}, {words}")

    def _existing(self, state: ServiceState, environment: str | None) -> Chosen:
        """A service whose spec file is written: its instance in the environment."""
        placed = state.instances_in(environment) if environment else []
        if not placed:
            raise UsageError(
                f"service {state.name!r} has no instance in environment {environment!r}",
                hint="choose another service (--service NAME), or another environment (--env)",
            )
        instance = self.given.instance or placed[0]
        if instance not in placed:
            raise UsageError(
                f"service {state.name!r} has no instance {instance!r} in environment "
                f"{environment!r} (it has: {', '.join(placed)})",
                hint=f"leave --instance out, or give --instance {placed[0]}",
            )
        return Chosen(state.name, reuse=state.running, instance=instance, exists=True)

    def _new(self, name: str | None, environment: str | None) -> Chosen | None:
        """A new service: its name and instance name, asked (kept in the create's draft)."""
        interview = self._interview("service")
        if interview is None:
            if name is None or environment is None:
                return None
            placed = self.given.instance or f"{name}-{environment}"
            check_name(placed, "service instance")
            return Chosen(name, reuse=False, instance=placed)
        assert environment is not None  # noqa: S101 - chosen before the service is
        drafted = next(iter(self.found.drafted_services), None)
        name = str(interview.choose_name(name, default=drafted))  # its draft keeps the answers
        instance = self.given.instance
        if instance is None:
            instance = interview.ask_instance_name(name, environment)
        return Chosen(name, reuse=False, instance=instance)


def _problem(check: Callable[[], Any]) -> str | None:
    try:
        check()
    except UsageError as error:
        return error.message
    return None


# --- the end ----------------------------------------------------------------------------------


def next_commands(service: str, *, here: bool, root: Path) -> list[str]:
    """What to run next, from the workspace (`cd` into it first when it is not `here`)."""
    import shlex

    commands = [
        f"pcli svc status {service}",
        f"pcli svc logs {service} --follow",
        "pcli status",
        "pcli ci generate github-actions",
    ]
    return commands if here else [f"cd {shlex.quote(str(root))}", *commands]
