"""What `pcli env create` and `pcli svc create` were not given: asked, or listed as missing.

With a prompter, whatever is missing is asked in this order: the name, the blueprint (a list
with descriptions), the version (recommended first; not asked when there is only one), for a
service the environments (only those compatible with the blueprint) and an instance name in
each, then every input not given, in schema order (each instance's, then the pipeline's, each
under a heading). Answers are kept in a draft as they are given (secret answers never) and
pre-filled the next time; the draft is removed once the spec file is written.

What pcli can use comes first. A blueprint (or version) it cannot use here is listed after the
others, with the reason beside it, and cannot be chosen: one with no infrastructure of its own
(an environment provisioned elsewhere) when a deploy follows, a service
blueprint none of whose compatible environments runs in the workspace (or in the environments
given). A blueprint with drafts only is listed after the published ones ("drafts only"). A
blueprint or version named by a flag is refused at once, with the same reason, before any
input is asked.

Without a prompter nothing is asked: every missing thing is collected, and the command fails
with one error that lists them all with the flag that gives each.

A create of a name whose spec file exists may continue with it instead: see `deploy.resume`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import check_name
from protoncli.blueprints.model import Kind
from protoncli.deploy.project import MissingValue, Project, explain_missing
from protoncli.deploy.usability import Usability
from protoncli.errors import InputError, NotFoundError, PcliError, UsageError
from protoncli.prompting import (
    UNSET,
    Choice,
    InterviewInterrupted,
    Prompter,
    Question,
    ask_inputs,
    text_question,
)

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle
    from protoncli.blueprints.registry import BlueprintInfo, VersionInfo
    from protoncli.schema.model import InputDef, InputType
    from protoncli.state.declared import EnvironmentRecord
    from protoncli.workspace.drafts import Draft

COMMANDS = {"environment": "pcli env create", "service": "pcli svc create"}
DEPLOY_COMMANDS = {"environment": "pcli env deploy", "service": "pcli svc deploy"}


def spec_path_of(project: Project, kind: str, name: str) -> Path:
    workspace = project.workspace
    return (
        workspace.environment_spec(name) if kind == "environment" else workspace.service_spec(name)
    )


def check_new_name(project: Project, kind: str, name: str) -> None:
    """A valid name that no spec file of the workspace uses yet."""
    check_name(name, kind)
    if spec_path_of(project, kind, name).exists():
        raise already_exists(project, kind, name)


def already_exists(
    project: Project, kind: str, name: str, details: list[str] | None = None
) -> UsageError:
    """The refusal of a create whose spec file exists and that cannot continue with it."""
    path = spec_path_of(project, kind, name)
    return UsageError(
        f"{kind} {name!r} already exists: {path}",
        hint=f"deploy it with `{DEPLOY_COMMANDS[kind]} {name}`, or edit the spec file",
        details=details,
    )


def blueprint_reference(
    given: str | None, version: str | None, header: Mapping[str, Any]
) -> str | None:
    """`NAME[@VERSION]` from --blueprint and --version, else from the --spec file's header."""
    if given is not None:
        name, separator, pinned = given.partition("@")
        if separator and version is not None and pinned != version:
            raise UsageError(
                f"--blueprint {given} and --version {version} name different versions",
                hint="give the version once: --blueprint NAME --version VERSION",
            )
        chosen = version or pinned
    elif header.get("blueprint"):
        name = str(header["blueprint"])
        chosen = version or str(header.get("version") or "")
    else:
        return None
    return f"{name}@{chosen}" if chosen else name


def runs_compatible(bundle: Bundle, environment: EnvironmentRecord) -> bool:
    """The environment runs a blueprint and major version the service blueprint lists."""
    from protoncli.deploy.imported import IMPORTED_BLUEPRINT

    if environment.blueprint == IMPORTED_BLUEPRINT:
        return True  # imported with no blueprint of its own: its outputs are checked on render
    major = int(environment.version.split(".")[0])
    allowed = {(c.name, c.major) for c in bundle.compatible_environments}
    return (environment.blueprint, major) in allowed


def compatible_environments(project: Project, bundle: Bundle) -> list[EnvironmentRecord]:
    """The workspace's environments a service of `bundle` may have instances in."""
    return [record for record in _environments(project) if runs_compatible(bundle, record)]


class Interview:
    """The questions of one `create`, through a prompter; with none, what is missing.

    It is itself a `Prompter` for `ask_inputs`: every answer goes through `ask`, which keeps it
    in the draft and turns Ctrl-C into `InterviewInterrupted`.
    """

    def __init__(self, project: Project, kind: str, prompter: Prompter | None) -> None:
        self.project = project
        self.kind = kind  # "environment" | "service"
        self.prompter = prompter
        self.missing: list[MissingValue] = []
        self.asked = False
        self.name: str | None = None
        self.draft: Draft | None = None

    # -- the Prompter protocol -------------------------------------------------------------

    def ask(self, question: Question) -> Any:
        if self.prompter is None:
            raise UsageError(f"{question.message}: pcli cannot ask here")
        self.asked = True
        try:
            value = self.prompter.ask(question)
        except KeyboardInterrupt as interrupt:
            raise self._interrupted() from interrupt
        if self.draft is not None and question.kind != "password":
            if value is UNSET:
                self.draft.forget(question.key)
            else:
                self.draft.keep(question.key, value)
        return value

    def show_summary(self, title: str, rows: Sequence[tuple[str, str]]) -> bool:
        if self.prompter is None:
            return True
        try:
            return self.prompter.show_summary(title, rows)
        except KeyboardInterrupt as interrupt:
            raise self._interrupted() from interrupt

    # -- what is asked ---------------------------------------------------------------------

    def remembered(self, key: str) -> Any:
        """The answer the draft kept for `key`, or UNSET."""
        return self.draft.get(key, UNSET) if self.draft is not None else UNSET

    def choose_name(self, given: str | None, *, default: str | None = None) -> str | None:
        """The name given, else asked (offering `default`); None (noted as missing) when pcli
        cannot ask."""
        name = given
        if name is not None:
            check_new_name(self.project, self.kind, name)
        elif self.prompter is None:
            self.missing.append(
                MissingValue("NAME", "NAME", f"the new {self.kind}'s name (the first argument)")
            )
            return None
        else:
            question = text_question(
                "name", f"{self.kind.capitalize()} name", check=self._name_problem, default=default
            )
            name = str(self.ask(question))
        self.name = name
        from protoncli.workspace.drafts import open_draft

        self.draft = open_draft(self.project.workspace.root, self.kind, name)
        return name

    def _name_problem(self, name: str) -> str | None:
        try:
            check_new_name(self.project, self.kind, name)
        except UsageError as error:
            return error.message
        return None

    def usability(self, *, deploying: bool, placed: Sequence[str] = ()) -> Usability:
        """What a blueprint version must meet for this create: deployable when a deploy
        follows; for a service, compatible with the environments `placed` in (given by
        --instance or --spec), else with one of the workspace's."""
        if self.kind != Kind.SERVICE:
            return Usability(self.kind, deploying)
        if placed:
            from protoncli.state.declared import read_environment

            records = []
            for name in dict.fromkeys(placed):
                try:
                    records.append(read_environment(self.project, name))
                except PcliError:
                    continue  # an unknown environment is refused where the instances are placed
            return Usability(self.kind, deploying, tuple(records), placed=True)
        return Usability(self.kind, deploying, tuple(_environments(self.project)))

    def choose_blueprint(
        self,
        given: str | None,
        version: str | None,
        header: Mapping[str, Any],
        usability: Usability | None = None,
    ) -> VersionInfo | None:
        """The version --blueprint/--version (or the --spec header) name, else asked: what can
        be used first, the others after with the reason, not selectable."""
        registry = self.project.registry
        usability = usability or Usability(self.kind, deploying=False)
        reference = blueprint_reference(given, version, header)
        if reference is not None:
            return registry.resolve(reference)
        known = [b for b in registry.blueprints() if str(b.kind) == self.kind]
        if self.prompter is None:
            listing = ", ".join(b.name for b in known) or "none yet"
            about = f"the {self.kind} blueprint, NAME or NAME@VERSION (in the registry: {listing})"
            usage = "--blueprint BLUEPRINT"
            self.missing.append(MissingValue("--blueprint", usage, about, in_spec=True))
            return None
        if not known:
            raise NotFoundError(
                f"no {self.kind} blueprint in registry {registry.location}",
                hint="publish one first: pcli blueprint publish DIR",
            )
        choices, refused = self._blueprint_choices(known, version, usability)
        usable = [c.value for c in choices if c.disabled is None]
        if not usable:
            raise UsageError(
                f"no {self.kind} blueprint of registry {registry.location} can be used here",
                details=[f"{c.value}: {c.disabled}" for c in choices],
                hint=usability.hint(refused),
            )
        remembered = self.remembered("blueprint")
        question = Question(
            key="blueprint",
            kind="select",
            message=f"{self.kind.capitalize()} blueprint",
            choices=choices,
            default=remembered if remembered in usable else usable[0],
            check_answer=_refuse_disabled(choices),
        )
        name = str(self.ask(question))
        if version is not None:
            return registry.resolve(f"{name}@{version}")
        return self.choose_version(name, usability)

    def _blueprint_choices(
        self, known: Sequence[BlueprintInfo], version: str | None, usability: Usability
    ) -> tuple[tuple[Choice, ...], list[VersionInfo]]:
        """Usable blueprints first, then those with drafts only, then the others (disabled,
        with the reason); and the versions that gave those reasons."""
        ranked: list[tuple[int, Choice]] = []
        refused: list[VersionInfo] = []
        for blueprint in known:
            rank, title, reason = 0, blueprint.name, None
            try:
                versions = (
                    [self.project.registry.resolve(f"{blueprint.name}@{version}")]
                    if version is not None
                    else _offered_versions(self.project.registry.versions(blueprint.name))
                )
            except PcliError as error:  # no such version, or unreadable records
                rank, reason = 2, error.message
                versions = []
            usable = [v for v in versions if usability.problem(v) is None]
            if versions and not usable:
                rank, reason = 2, usability.problem(versions[0])
                refused.append(versions[0])
            elif usable and not any(v.is_published for v in usable):
                rank, title = 1, f"{blueprint.name} (drafts only)"
            ranked.append((rank, Choice(blueprint.name, title, blueprint.description, reason)))
        ordered = tuple(choice for _, choice in sorted(ranked, key=lambda pair: pair[0]))
        return ordered, refused

    def choose_version(self, blueprint: str, usability: Usability | None = None) -> VersionInfo:
        """Asked among the blueprint's versions: the usable ones first (recommended, then the
        other published ones, then drafts), the others after, with the reason."""
        usability = usability or Usability(self.kind, deploying=False)
        offered = _offered_versions(self.project.registry.versions(blueprint))
        if len(offered) == 1:
            return offered[0]
        problems = {info.version: usability.problem(info) for info in offered}
        offered.sort(key=lambda info: problems[info.version] is not None)
        usable = [info.version for info in offered if problems[info.version] is None]
        remembered = self.remembered("version")
        choices = tuple(
            Choice(v.version, _version_title(v), v.description, problems[v.version])
            for v in offered
        )
        question = Question(
            key="version",
            kind="select",
            message=f"Version of {blueprint}",
            choices=choices,
            default=remembered if remembered in usable else (usable or [offered[0].version])[0],
            check_answer=_refuse_disabled(choices),
        )
        chosen = str(self.ask(question))
        return next(info for info in offered if info.version == chosen)

    def choose_instances(
        self, service: str | None, bundle: Bundle | None, blueprint: str
    ) -> list[tuple[str, str]]:
        """(instance, environment) pairs: environments chosen among the compatible ones, then
        an instance name in each (default SERVICE-ENVIRONMENT)."""
        if self.prompter is None or service is None or bundle is None:
            self._missing_instances(bundle)
            return []
        compatible = compatible_environments(self.project, bundle)
        if not compatible:
            listed = ", ".join(str(c) for c in bundle.compatible_environments) or "none"
            raise UsageError(
                f"no environment of this workspace runs a blueprint {blueprint} is compatible "
                f"with (compatible: {listed})",
                hint="create one first: pcli env create NAME --blueprint BLUEPRINT",
            )
        environments = self._ask_environments(compatible)
        instances: list[tuple[str, str]] = []
        for environment in environments:
            instances.append((self.ask_instance_name(service, environment, instances), environment))
        return instances

    def ask_instance_name(
        self, service: str, environment: str, chosen: Sequence[tuple[str, str]] = ()
    ) -> str:
        """The name of `service`'s instance in `environment` (kept in the draft; default
        SERVICE-ENVIRONMENT), none of those `chosen` already."""
        taken = [name for name, _ in chosen]

        def problem(name: str) -> str | None:
            return _instance_name_problem(name, taken)

        remembered = self.remembered(f"instance_names.{environment}")
        question = text_question(
            f"instance_names.{environment}",
            f"Instance name in {environment}",
            check=problem,
            default=str(remembered) if remembered else f"{service}-{environment}",
        )
        return str(self.ask(question))

    def _ask_environments(self, compatible: Sequence[EnvironmentRecord]) -> list[str]:
        names = [record.name for record in compatible]
        remembered = self.remembered("environments")
        default = (
            [name for name in remembered if name in names]
            if isinstance(remembered, list)
            else UNSET
        )
        question = Question(
            key="environments",
            kind="checkbox",
            message="Environments to run the service in",
            choices=tuple(
                Choice(r.name, r.name, f"{r.blueprint}@{r.version}, {r.region}") for r in compatible
            ),
            default=default,
            check_answer=lambda chosen: None if chosen else "choose at least one environment",
        )
        return [str(name) for name in self.ask(question)]

    def _missing_instances(self, bundle: Bundle | None) -> None:
        about = "the service's instances, one per environment"
        if bundle is not None:
            names = [r.name for r in compatible_environments(self.project, bundle)]
            about += f" (compatible environments here: {', '.join(names) or 'none yet'})"
        usage = "--instance INSTANCE=ENVIRONMENT"
        self.missing.append(MissingValue("--instance", usage, about, in_spec=True))

    def inputs(
        self,
        input_type: InputType,
        given: Iterable[str],
        *,
        key: str,
        defaults: Mapping[str, Any] | None = None,
        known: Mapping[str, Any] | None = None,
        heading: str | None = None,
    ) -> dict[str, Any]:
        """Every input not `given`, asked in schema order (nothing without a prompter).

        The draft's answers are pre-filled, else `defaults` (another instance's answers), else
        the schema's defaults. `known` are the values given (each answer is checked with them);
        `heading` is shown before the first question."""
        if self.prompter is None:
            return {}
        prefill = dict(defaults or {})
        for item in input_type.inputs:
            kept = self.remembered(f"{key}.{item.name}")
            if kept is not UNSET:
                prefill[item.name] = kept
        return ask_inputs(
            input_type, given, self, key=key, defaults=prefill, known=known, heading=heading
        )

    # -- the end ---------------------------------------------------------------------------

    def missing_error(
        self,
        error: InputError | None,
        subject: str,
        missing: Mapping[str, Sequence[InputDef]] | None = None,
    ) -> InputError:
        return explain_missing(error, subject, missing or {}, values=self.missing)

    def review(self, title: str, rows: Sequence[tuple[str, str]]) -> None:
        """Show the answers when anything was asked; declining writes nothing."""
        if self.prompter is None or not self.asked:
            return
        if not self.show_summary(title, rows):
            raise PcliError(
                f"nothing was written: the {self.kind} was not created",
                hint=f"your answers are kept; `{self._command()}` offers them again",
            )

    def done(self) -> None:
        """The spec file is written: the draft is no longer needed."""
        if self.draft is not None:
            self.draft.discard()

    def _command(self) -> str:
        command = COMMANDS.get(self.kind, "pcli create")
        return f"{command} {self.name}" if self.name else command

    def _interrupted(self) -> InterviewInterrupted:
        kept = self.draft is not None and bool(self.draft.answers)
        path = str(self.draft.path) if kept and self.draft is not None else None
        return InterviewInterrupted(path, self._command())


def _instance_name_problem(name: str, taken: Sequence[str]) -> str | None:
    try:
        check_name(name, "service instance")
    except UsageError as error:
        return error.message
    return f"instance {name!r} is already chosen" if name in taken else None


def _environments(project: Project) -> list[EnvironmentRecord]:
    """The workspace's environments whose spec files can be read."""
    from protoncli.state.declared import read_environment

    found = []
    for name in project.workspace.environments():
        try:
            found.append(read_environment(project, name))
        except PcliError:
            continue  # a broken spec is reported by the commands that use it
    return found


def _refuse_disabled(choices: Sequence[Choice]) -> Callable[[Any], str | None]:
    """The reason a chosen value is refused: its choice is disabled."""
    reasons = {choice.value: choice.disabled for choice in choices}

    def check(value: Any) -> str | None:
        return reasons.get(value)

    return check


def _offered_versions(versions: Sequence[VersionInfo]) -> list[VersionInfo]:
    """Recommended first, then the other published versions newest first, then drafts."""
    newest_first = sorted(versions, key=lambda v: (v.major, v.minor), reverse=True)
    recommended = [v for v in newest_first if v.recommended]
    published = [v for v in newest_first if v.is_published and not v.recommended]
    drafts = [v for v in newest_first if not v.is_published]
    return recommended + published + drafts


def _version_title(info: VersionInfo) -> str:
    if info.recommended:
        return f"{info.version} (recommended)"
    return info.version if info.is_published else f"{info.version} (draft)"
