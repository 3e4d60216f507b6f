"""What `pcli env create` and `pcli svc create` were not given: asked, or listed as missing.

With a prompter, whatever is missing is asked in this order: the name, the blueprint (a list
with descriptions), the version (recommended first; not asked when there is only one), for a
service the environments (only those compatible with the blueprint) and an instance name in
each, then every input not given, in schema order (each instance's, then the pipeline's).
Answers are kept in a draft as they are given (secret answers never) and pre-filled the next
time; the draft is removed once the spec file is written.

Without a prompter nothing is asked: every missing thing is collected, and the command fails
with one error that lists them all with the flag that gives each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import check_name
from protoncli.deploy.project import MissingValue, Project, explain_missing
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
    from protoncli.blueprints.registry import VersionInfo
    from protoncli.schema.model import InputDef, InputType
    from protoncli.state.declared import EnvironmentRecord
    from protoncli.workspace.drafts import Draft

COMMANDS = {"environment": "pcli env create", "service": "pcli svc create"}


def spec_path_of(project: Project, kind: str, name: str) -> Path:
    workspace = project.workspace
    return (
        workspace.environment_spec(name) if kind == "environment" else workspace.service_spec(name)
    )


def check_new_name(project: Project, kind: str, name: str) -> None:
    """A valid name that no spec file of the workspace uses yet."""
    check_name(name, kind)
    path = spec_path_of(project, kind, name)
    if path.exists():
        deploy = "env" if kind == "environment" else "svc"
        raise UsageError(
            f"{kind} {name!r} already exists: {path}",
            hint=f"deploy it with `pcli {deploy} deploy {name}`, or edit the spec file",
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
    major = int(environment.version.split(".")[0])
    allowed = {(c.name, c.major) for c in bundle.compatible_environments}
    return (environment.blueprint, major) in allowed


def compatible_environments(project: Project, bundle: Bundle) -> list[EnvironmentRecord]:
    """The workspace's environments a service of `bundle` may have instances in."""
    from protoncli.state.declared import read_environment

    found = []
    for name in project.workspace.environments():
        try:
            record = read_environment(project, name)
        except PcliError:
            continue  # a broken spec is reported by the commands that use it
        if runs_compatible(bundle, record):
            found.append(record)
    return found


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

    def choose_name(self, given: str | None) -> str | None:
        """The name given, else asked; None (noted as missing) when pcli cannot ask."""
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
                "name", f"{self.kind.capitalize()} name", check=self._name_problem
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

    def choose_blueprint(
        self, given: str | None, version: str | None, header: Mapping[str, Any]
    ) -> VersionInfo | None:
        """The version --blueprint/--version (or the --spec header) name, else asked."""
        registry = self.project.registry
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
                f"no {self.kind} blueprint in registry {registry.root}",
                hint="publish one first: pcli blueprint publish DIR",
            )
        choices = tuple(Choice(b.name, b.name, b.description) for b in known)
        remembered = self.remembered("blueprint")
        default = remembered if remembered in [b.name for b in known] else known[0].name
        question = Question(
            key="blueprint",
            kind="select",
            message=f"{self.kind.capitalize()} blueprint",
            choices=choices,
            default=default,
        )
        name = str(self.ask(question))
        if version is not None:
            return registry.resolve(f"{name}@{version}")
        return self.choose_version(name)

    def choose_version(self, blueprint: str) -> VersionInfo:
        """Asked among the blueprint's versions, recommended first; drafts last."""
        offered = _offered_versions(self.project.registry.versions(blueprint))
        if len(offered) == 1:
            return offered[0]
        remembered = self.remembered("version")
        versions = [info.version for info in offered]
        question = Question(
            key="version",
            kind="select",
            message=f"Version of {blueprint}",
            choices=tuple(Choice(v.version, _version_title(v), v.description) for v in offered),
            default=remembered if remembered in versions else versions[0],
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
            instances.append(
                (self._ask_instance_name(service, environment, instances), environment)
            )
        return instances

    def _ask_instance_name(
        self, service: str, environment: str, chosen: Sequence[tuple[str, str]]
    ) -> str:
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
    ) -> dict[str, Any]:
        """Every input not `given`, asked in schema order (nothing without a prompter).

        The draft's answers are pre-filled, else `defaults` (another instance's answers), else
        the schema's defaults."""
        if self.prompter is None:
            return {}
        prefill = dict(defaults or {})
        for item in input_type.inputs:
            kept = self.remembered(f"{key}.{item.name}")
            if kept is not UNSET:
                prefill[item.name] = kept
        return ask_inputs(input_type, given, self, key=key, defaults=prefill)

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
