"""`pcli quickstart [DIR]`: from a folder to a running service, in one command.

The workspace (`pcli init`'s work), then `pcli env create` and `pcli svc create` as they run,
with their questions, drafts, change sets and progress: deploy/quickstart.py only decides which
environment and service they are given (a running one is reused), and what is missing when
nothing can be asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.deploying import NO_INPUT_OPTION, YES_OPTION, open_project
from protoncli.cli.state import AppState, app_state, interactive
from protoncli.errors import ExitCode, PcliError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.deploy.quickstart import Chosen, Given, Survey
    from protoncli.prompting import Prompter
    from protoncli.state.declared import ServiceRecord
    from protoncli.workspace.model import Workspace

app = typer.Typer(
    help="From a folder to a running service: workspace, environment, service, in one go.",
    add_completion=False,
)

EPILOG_ATTENDED = "pcli quickstart shop   (in a terminal: asks what it needs)"


@app.command("quickstart")
def quickstart(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        Path(),
        metavar="[DIR]",
        help="Folder to start in (created if missing; default: this folder): its workspace, "
        "else a new one.",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Name of a new workspace (default: the folder's name, made valid)."
    ),
    region: str | None = typer.Option(
        None,
        "--region",
        help="Region of a new environment, and a new workspace's default region (default: "
        "the workspace's; us-east-1 for a new one).",
    ),
    git: bool = typer.Option(
        True, "--git/--no-git", help="Make a new workspace a git repository (default: yes)."
    ),
    env: str | None = typer.Option(
        None,
        "--env",
        "-e",
        metavar="NAME",
        help="Environment to run the service in: used if it runs, else created (default: the "
        "one running in the workspace, else a new one named as asked, dev unattended).",
    ),
    env_blueprint: str | None = typer.Option(
        None,
        "--env-blueprint",
        metavar="BLUEPRINT",
        help="Blueprint of a new environment, NAME or NAME@VERSION (asked in a terminal).",
    ),
    env_param: list[str] = typer.Option(
        [], "--env-param", metavar="KEY=VALUE", help="An input of a new environment (repeat)."
    ),
    service: str | None = typer.Option(
        None,
        "--service",
        "-s",
        metavar="NAME",
        help="Service name: used if its spec file is written, else created (asked in a terminal).",
    ),
    blueprint: str | None = typer.Option(
        None,
        "--blueprint",
        "-b",
        metavar="BLUEPRINT",
        help="Blueprint of a new service, NAME or NAME@VERSION, compatible with the "
        "environment (asked in a terminal).",
    ),
    instance: str | None = typer.Option(
        None,
        "--instance",
        "-i",
        metavar="NAME",
        help="The service's instance in the environment (default: SERVICE-ENVIRONMENT).",
    ),
    param: list[str] = typer.Option(
        [], "--param", "-p", metavar="KEY=VALUE", help="An instance input (repeat)."
    ),
    scaffold: Path | None = typer.Option(
        None,
        "--scaffold",
        metavar="DIR",
        help="Write the service blueprint's skeleton (source code) here (default: the "
        "workspace's folder, when the blueprint has a skeleton).",
    ),
    repository: str | None = typer.Option(
        None, "--repository", help="Source repository of a pipeline, OWNER/NAME."
    ),
    branch: str | None = typer.Option(None, "--branch", help="Branch a pipeline builds."),
    connection_arn: str | None = typer.Option(
        None, "--connection-arn", help="CodeConnections ARN a pipeline reads the repository with."
    ),
    yes: bool = YES_OPTION,
    no_input: bool = NO_INPUT_OPTION,
    json_: bool = typer.Option(
        False,
        "--json",
        help="Print one JSON document at the end (progress goes to stderr in words).",
    ),
) -> None:
    """Make DIR a workspace, deploy an environment, create and deploy a service in it.

    Each step is skipped when done: the workspace DIR lies in is used; an environment running
    in it is used; a service whose spec file is written is offered (and left alone when it
    runs). Otherwise the steps are `pcli env create` and `pcli svc create`, with their
    questions, change sets and progress: which environment blueprint, its name (dev) and
    inputs; the service's name, blueprint (compatible ones only), instance name and inputs.
    The service blueprint's skeleton is scaffolded into the workspace (--scaffold DIR
    elsewhere). At the end: the service's URL (its first output that is an http(s) URL) and
    the commands to go on with.

    Every answer is a flag: elsewhere than a terminal (or with --no-input) nothing is asked,
    and everything missing is one error (exit 2) naming the flags. Ctrl-C during the
    questions keeps the answers; the same command, run again, offers them and goes on where
    it stopped. A failed deploy exits as the creates do (3).

    Examples:

      pcli quickstart shop --env-blueprint vpc-ecs-env --service api -b lambda-api-svc --yes

      pcli quickstart --env dev --service api -b lambda-api-svc -p memory_size=512 --yes --json

      pcli quickstart shop   (in a terminal: asks what it needs)
    """
    from protoncli.cli.deploying import parse_params
    from protoncli.deploy.quickstart import Given

    json_ = output.wants_json(ctx, json_)
    state = app_state(ctx)
    if no_input:
        state.give_flag("no_input", value=True)
    if json_:  # the creates show their progress in words; the document is the result
        state.give_flag("output", "text")
    given = Given(
        environment=env,
        environment_blueprint=env_blueprint,
        environment_params=parse_params(env_param, "--env-param"),
        service=service,
        blueprint=blueprint,
        instance=instance,
        params=parse_params(param),
    )
    steps = _Steps(ctx, given, yes=yes, no_input=no_input)
    try:
        document = steps.run(
            directory,
            name=name,
            region=region,
            git=git,
            scaffold=scaffold,
            source=(repository, branch, connection_arn),
        )
    except typer.Exit as stop:
        if stop.exit_code == ExitCode.INTERRUPTED:
            output.note("`pcli quickstart`, run again, goes on where it stopped.")
        raise
    if json_:
        output.print_json(document)
    else:
        _print_summary(document)


class _Steps:
    """One run: the workspace, the environment, the service, the document that reports them."""

    def __init__(self, ctx: typer.Context, given: Given, *, yes: bool, no_input: bool) -> None:
        self.ctx = ctx
        self.given = given
        self.yes = yes
        self.no_input = no_input

    def run(
        self,
        directory: Path,
        *,
        name: str | None,
        region: str | None,
        git: bool,
        scaffold: Path | None,
        source: tuple[str | None, str | None, str | None],
    ) -> dict[str, Any]:
        from protoncli.deploy.quickstart import (
            Survey,
            choose_environment,
            choose_service,
            plan_unattended,
            survey,
        )

        state = app_state(self.ctx)
        workspace = _existing_workspace(directory, state.workspace)
        created = workspace is None
        before = Survey()  # a new workspace holds nothing yet
        project = None
        if workspace is not None:
            _use_workspace(self.ctx, workspace.root)
            project = open_project(self.ctx)
            before = survey(project)
        plan = None
        if not interactive(self.ctx):  # everything missing fails before anything is made
            registry = state.open_registry() if project is None else project.registry
            plan = plan_unattended(registry, before, self.given)
        if project is None:
            workspace = self._new_workspace(directory, name=name, region=region, git=git)
            _use_workspace(self.ctx, workspace.root)
            project = open_project(self.ctx)
        if plan is not None:
            environment = plan.environment
        else:
            environment = self._ask(partial(choose_environment, project, before, self.given))
        self._environment(project, environment, region)
        if plan is not None:
            chosen = plan.service
        else:
            ask = partial(choose_service, project, before, self.given, environment.name)
            chosen = self._ask(ask)
        record = self._service(project, chosen, environment.name, scaffold, source)
        after = before if environment.reuse and chosen.reuse else survey(project)  # none made
        return _document(project, after, environment, chosen, record, workspace_created=created)

    def _ask(self, choose: Callable[[Prompter], Chosen | None]) -> Chosen:
        """A choice made with questions (as the creates ask theirs: Ctrl-C keeps answers)."""
        from protoncli.cli.prompts import create_asking

        chosen = create_asking(self.ctx, choose, yes=self.yes, no_input=self.no_input)
        if chosen is None:  # pragma: no cover - asked only where pcli may ask
            raise PcliError("pcli cannot ask here")
        return chosen

    def _new_workspace(
        self, directory: Path, *, name: str | None, region: str | None, git: bool
    ) -> Workspace:
        from protoncli.cli.commands.init import DEFAULT_REGION, GIT_LINES, create_workspace

        registry = app_state(self.ctx).flags.get("registry")  # kept for the next commands
        workspace, _created, repository = create_workspace(
            directory,
            name=name,
            region=region or DEFAULT_REGION,
            registry=str(registry) if registry is not None else None,
            git=git,
        )
        output.note(f"Created workspace '{workspace.name}' in {workspace.root}.")
        output.note(f"Git: {GIT_LINES[repository]}.")
        return workspace

    def _environment(self, project: Project, chosen: Chosen, region: str | None) -> None:
        from protoncli.cli.commands.env import create_and_deploy

        if chosen.reuse:
            output.note(f"Environment {chosen.name} runs already: the service goes there.")
            return
        create_and_deploy(
            self.ctx,
            project,
            chosen.name,
            self.given.environment_blueprint,
            param=_flags(self.given.environment_params),
            region=region,
            yes=self.yes,
            no_input=self.no_input,
        )

    def _service(
        self,
        project: Project,
        chosen: Chosen,
        environment: str,
        scaffold: Path | None,
        source: tuple[str | None, str | None, str | None],
    ) -> ServiceRecord | None:
        from protoncli.cli.commands.service import create_and_deploy

        if chosen.reuse:
            output.note(f"Service {chosen.name} runs already: nothing to deploy.")
            return None
        placed = not chosen.exists or self.given.instance is not None
        return create_and_deploy(
            self.ctx,
            project,
            chosen.name,
            self.given.blueprint,
            instance=[f"{chosen.instance}={environment}"] if placed else [],
            param=_flags(self.given.params),
            scaffold=scaffold if scaffold is not None else project.workspace.root,
            skeleton_optional=scaffold is None,
            source=source,
            yes=self.yes,
            no_input=self.no_input,
        )


def _flags(values: Mapping[str, str]) -> list[str]:
    """KEY=VALUE flags again, for the creates to read as they read theirs."""
    return [f"{key}={value}" for key, value in values.items()]


def _existing_workspace(directory: Path, explicit: Path | None) -> Workspace | None:
    """The workspace --workspace (or PCLI_WORKSPACE) names, else the one DIR lies in; None
    when there is none (a broken pcli.yaml is an error, as for any command)."""
    from protoncli.workspace.model import WORKSPACE_ENV, find_workspace, load_workspace

    if explicit is not None or os.environ.get(WORKSPACE_ENV, "").strip():
        return find_workspace(explicit=explicit)
    from protoncli.config import find_workspace_file

    found = find_workspace_file(start=directory.expanduser().absolute())
    return None if found is None else load_workspace(found.parent)


def _use_workspace(ctx: typer.Context, root: Path) -> None:
    """Every later step works in `root`, its pcli.yaml's settings included: the settings are
    resolved again with it as --workspace."""
    state = app_state(ctx)
    ctx.find_root().obj = AppState(state.flags, workspace=root)


def _document(
    project: Project,
    after: Survey,
    environment: Chosen,
    service: Chosen,
    record: ServiceRecord | None,
    *,
    workspace_created: bool,
) -> dict[str, Any]:
    """What the run ended with, as `pcli quickstart --json` prints it (quickstart.schema.json)."""
    from protoncli.deploy.quickstart import next_commands

    workspace = project.workspace
    env_state = after.environment(environment.name)
    svc_state = after.service(service.name)
    instance = str(service.instance)
    scaffolded = record.scaffold if record is not None else None
    here = workspace.root.resolve() == Path.cwd().resolve()
    return {
        "workspace": {
            "root": str(workspace.root),
            "name": workspace.name,
            "created": workspace_created,
        },
        "environment": {
            "name": environment.name,
            "blueprint": env_state.blueprint if env_state else None,
            "version": env_state.version if env_state else None,
            "region": env_state.region if env_state else None,
            "stack_name": env_state.stack_name if env_state else None,
            "action": "reused" if environment.reuse else "deployed",
        },
        "service": {
            "name": service.name,
            "blueprint": svc_state.blueprint if svc_state else None,
            "version": svc_state.version if svc_state else None,
            "spec": str(workspace.service_spec(service.name)),
            "action": "reused" if service.reuse else "deployed",
            "scaffold": None
            if scaffolded is None
            else {
                "folder": str(scaffolded.target),
                "files": sorted([*scaffolded.created, *scaffolded.updated, *scaffolded.unchanged]),
            },
        },
        "instance": {
            "name": instance,
            "stack_name": svc_state.stacks.get(instance) if svc_state else None,
        },
        "url": svc_state.url(instance) if svc_state else None,
        "next": next_commands(service.name, here=here, root=workspace.root),
    }


def _print_summary(document: dict[str, Any]) -> None:
    workspace, env, svc = document["workspace"], document["environment"], document["service"]
    done = {"deployed": "deployed", "reused": "running already"}
    environment = f"{env['name']} ({env['blueprint']}@{env['version']}, {env['region']})"
    instance = document["instance"]["name"]
    service = f"{svc['name']} ({svc['blueprint']}@{svc['version']}), instance {instance}"
    scaffold = svc["scaffold"]
    code = "- (nothing scaffolded: no skeleton/, or the service ran already)"
    if scaffold is not None:
        code = f"{len(scaffold['files'])} file(s) in {scaffold['folder']}"
    output.key_values(
        [
            ("Workspace", f"{workspace['name']} ({workspace['root']})"),
            ("Environment", f"{environment}, {done[env['action']]}"),
            ("Service", f"{service} in {env['name']}, {done[svc['action']]}"),
            ("Code", code),
            ("URL", document["url"] or "- (no output of the instance is an http(s) URL)"),
        ]
    )
    output.line()
    output.line("Next:")
    for command in document["next"]:
        output.line(f"  {command}")
