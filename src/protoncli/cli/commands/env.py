"""`pcli env ...`: create, deploy and track environments."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from protoncli.cli import logs_help, output
from protoncli.cli.commands.env_import import import_environment_command
from protoncli.cli.completion import (
    complete_account_names,
    complete_chosen_blueprint_versions,
    complete_environment_blueprint_refs,
    complete_environments,
    complete_inputs,
)
from protoncli.cli.deploying import (
    CANCEL_OPTION,
    HISTORY_JSON_OPTION,
    HISTORY_REGION_OPTION,
    JSON_OPTION,
    NAME_METAVAR,
    NO_INPUT_OPTION,
    OVERRIDE_RULE_OPTION,
    PROVISIONING_OPTION,
    REVERT_DRIFT_OPTION,
    TO_OPTION,
    YES_OPTION,
    Callbacks,
    deployment_mode,
    open_project,
    parse_params,
    read_spec_flag,
    run_cancel,
    run_deploy,
)

if TYPE_CHECKING:
    from protoncli.deploy.model import DeployResult
    from protoncli.deploy.project import Project
    from protoncli.prompting import Prompter
    from protoncli.state.declared import EnvironmentRecord

app = typer.Typer(
    help="Create, deploy and track environments.",
    no_args_is_help=True,
    epilog="Example:\n\n  pcli env create dev --blueprint vpc-ecs-env --yes",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)
app.command("import")(import_environment_command)


@app.command()
def create(
    ctx: typer.Context,
    name: str | None = typer.Argument(
        None, metavar="[NAME]", help="Environment name (asked in a terminal when not given)."
    ),
    blueprint: str | None = typer.Option(
        None,
        "--blueprint",
        "-b",
        help="Environment blueprint, NAME or NAME@VERSION (asked in a terminal when not given).",
        autocompletion=complete_environment_blueprint_refs,
    ),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Blueprint version, MAJOR.MINOR or MAJOR (default: the recommended version).",
        autocompletion=complete_chosen_blueprint_versions,
    ),
    spec: Path | None = typer.Option(None, "--spec", "-s", help="An EnvironmentSpec file."),
    param: list[str] = typer.Option(
        [],
        "--param",
        "-p",
        help="An input as KEY=VALUE (repeat).",
        autocompletion=complete_inputs,
    ),
    region: str | None = typer.Option(None, "--region", help="Region of the environment."),
    account: str | None = typer.Option(
        None,
        "--account",
        metavar="NAME",
        help="Account to deploy it into (pcli.yaml's accounts:; default: your credentials').",
        autocompletion=complete_account_names,
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    no_deploy: bool = typer.Option(False, "--no-deploy", help="Write the spec file only."),
    no_input: bool = NO_INPUT_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Validate the inputs, write environments/NAME.yaml, then deploy it.

    In a terminal, whatever is not given is asked: the name, the blueprint, the version, then
    each input (its default pre-filled), followed by a summary. Elsewhere (no terminal, CI set,
    or --no-input) nothing is asked: everything missing is one error that lists each with its
    flag. Without a version, the blueprint's recommended one.

    When environments/NAME.yaml exists (a create whose deploy failed or was not confirmed),
    the same create continues with it: it deploys that spec file, if it holds the values
    given and the environment is not deployed yet (or its last deployment failed).

    Examples:

      pcli env create dev --blueprint vpc-ecs-env --param log_retention_days=14 --yes

      pcli env create prod -b vpc-ecs-env --version 1.0 --spec prod.yaml --no-deploy

      pcli env create prod -b vpc-ecs-env --account prod --yes   (see pcli account add)

      pcli env create   (in a terminal: asks for everything)
    """
    create_and_deploy(
        ctx,
        open_project(ctx, provisioning=provisioning, override_rules=override_rules),
        name,
        blueprint,
        version=version,
        spec=spec,
        param=param,
        region=region,
        account=account,
        yes=yes,
        no_deploy=no_deploy,
        no_input=no_input,
        json_=json_,
    )


def create_and_deploy(
    ctx: typer.Context,
    project: Project,
    name: str | None,
    blueprint: str | None,
    *,
    version: str | None = None,
    spec: Path | None = None,
    param: Sequence[str] = (),
    region: str | None = None,
    account: str | None = None,
    yes: bool = False,
    no_deploy: bool = False,
    no_input: bool = False,
    json_: bool = False,
) -> None:
    """`pcli env create` in `project`, from its flags (`pcli quickstart`'s environment too):
    the questions, the spec file, its deploy."""
    from protoncli.cli.prompts import create_again_hint, create_asking
    from protoncli.deploy.environments import (
        continue_environment,
        create_environment,
        deploy_environment,
    )
    from protoncli.deploy.resume import Continuation

    def create_with(
        prompter: Prompter | None,
    ) -> EnvironmentRecord | Continuation[EnvironmentRecord]:
        given = read_spec_flag(spec, "environment")
        values = parse_params(param)
        same = continue_environment(
            project,
            name,
            blueprint,
            version=version,
            spec=given,
            params=values,
            region=region,
            account=account,
            deploy=not no_deploy,
        )
        if same is not None:
            return same
        return create_environment(
            project,
            name,
            blueprint,
            version=version,
            spec=given,
            params=values,
            region=region,
            account=account,
            prompter=prompter,
            deploy=not no_deploy,
        )

    created = create_asking(ctx, create_with, yes=yes, no_input=no_input)
    kept: list[str] = []  # the environment whose spec file is written (or continued with)

    def action(callbacks: Callbacks) -> list[DeployResult]:
        result = created if created is not None else create_with(None)
        record = result.record if isinstance(result, Continuation) else result
        kept.append(record.name)
        output.warn_all(record.warnings)
        if isinstance(result, Continuation):
            callbacks.note(result.note())
        else:
            callbacks.note(
                f"Wrote {record.path} ({record.blueprint}@{record.version}, {record.region})."
            )
        if no_deploy:
            callbacks.note(f"Deploy it with: pcli env deploy {record.name}")
            return []
        return [deploy_environment(project, record.name, callbacks.hooks)]

    chosen = name
    if created is not None:
        chosen = created.record.name if isinstance(created, Continuation) else created.name
    with create_again_hint("environment", kept):
        run_deploy(
            ctx,
            command="env create",
            json_=json_,
            yes=yes,
            action=action,
            rerun=f"pcli env deploy {chosen or 'NAME'} --yes",
        )


@app.command()
def deploy(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    cancel: bool = CANCEL_OPTION,
    json_: bool = JSON_OPTION,
    revert_drift: bool = REVERT_DRIFT_OPTION,
) -> None:
    """Deploy an environment's spec: change set, confirmation, progress.

    An operation already running on the stack is waited for first. With --cancel, the update
    in progress is cancelled instead (it rolls back) and watched to its end. With
    --revert-drift, resources changed outside CloudFormation are put back to the template.

    Examples:

      pcli env deploy dev --yes

      pcli env deploy dev --cancel --yes

      pcli env deploy dev --revert-drift
    """
    from protoncli.deploy.environments import deploy_environment, environment_targets

    mode = deployment_mode(revert_drift, cancel=cancel)
    flag = " --revert-drift" if mode else ""

    if cancel:
        run_cancel(
            ctx,
            command="env deploy",
            json_=json_,
            yes=yes,
            targets=lambda project: environment_targets(project, name),
            rerun=f"pcli env deploy {name} --cancel --yes",
        )
        return
    project = open_project(ctx, provisioning=provisioning, override_rules=override_rules)
    run_deploy(
        ctx,
        command="env deploy",
        json_=json_,
        yes=yes,
        action=lambda callbacks: [
            deploy_environment(project, name, callbacks.hooks, deployment_mode=mode)
        ],
        rerun=f"pcli env deploy {name}{flag} --yes",
    )


@app.command("list")
def list_environments(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """List the workspace's environments with blueprint, version, region and stack status.

    Example:

      pcli env list --json
    """
    from protoncli.cli.commands.status import (
        fail_on_problems,
        item_row,
        print_problems,
        print_rows,
        read_fleet,
    )

    fleet = read_fleet(open_project(ctx))
    rows = [item_row(item) for item in fleet.of_kind("environment")]
    print_rows(rows, json_=output.wants_json(ctx, json_), key="environments")
    if not output.wants_json(ctx, json_):
        print_problems(fleet)
    fail_on_problems(fleet)


@app.command()
def show(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show an environment: spec, blueprint, versions, stack, outputs, what it hosts.

    Example:

      pcli env show dev
    """
    from protoncli.cli.commands.status import item_row, read_fleet
    from protoncli.state.declared import read_environment
    from protoncli.state.identity import Identity

    project = open_project(ctx)
    record = read_environment(project, name)
    fleet = read_fleet(project, {(record.region, record.account)})  # where what it hosts lives
    item = fleet.find(Identity.of_environment(name))
    assert item is not None  # noqa: S101 - a declared environment is always in the fleet
    row = item_row(item)
    outputs = item.outputs or {}
    document = row | {
        "spec": str(record.path),
        "inputs": _shown_inputs(project, record),
        "outputs": outputs,
        "hosts": [item_row(hosted) for hosted in fleet.living_in(name)],
    }
    if output.wants_json(ctx, json_):
        output.print_json(document)
        return
    output.key_values(
        [
            ("Environment", name),
            ("Blueprint", f"{record.blueprint}@{record.version}"),
            ("Versions", _standing(row)),
            ("Region", record.region),
            ("Spec", record.path),
            ("Stack", f"{row['stack_name']} ({row['stack_status']})"),
            ("Pending", "; ".join(row["pending_reasons"]) or "no"),
            ("Last deployed", row["last_deployed"] or "-"),
            ("Hosts", ", ".join(h["name"] for h in document["hosts"]) or "-"),
        ]
    )
    _print_outputs(outputs)


def _shown_inputs(project: Project, record: EnvironmentRecord) -> dict[str, object]:
    """The spec's inputs with a plain value of a secret input (a spec carried over from
    Proton) shown as ****; references are shown as written (they hold no secret)."""
    from protoncli.errors import PcliError
    from protoncli.schema.secrets import MASK, holds_plain_secret

    inputs = dict(record.spec.inputs)
    try:
        _, bundle = project.blueprint(record.blueprint, record.version, "environment")
    except PcliError:  # the version is gone: no schema to tell secrets by, so none is shown
        return dict.fromkeys(inputs, MASK)
    schema = bundle.schema.main if bundle.schema is not None else None
    secret = {item.name for item in schema.inputs if item.secret} if schema else set()
    return {
        key: MASK if key in secret and holds_plain_secret(value) else value
        for key, value in inputs.items()
    }


def _standing(row: dict[str, object]) -> str:
    status = row["version_status"]
    if status is None:
        return "-"
    return f"{status} (recommended {row['recommended_version']})"


def _print_outputs(outputs: dict[str, str]) -> None:
    if outputs:
        output.table(["OUTPUT", "VALUE"], sorted(outputs.items()))
    else:
        output.line("No outputs (not deployed yet).")


@app.command()
def outputs(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON object of outputs."),
) -> None:
    """Print the outputs of an environment's stack (what services and components receive).

    Example:

      pcli env outputs dev --json
    """
    from protoncli.deploy.environments import environment_outputs

    values = environment_outputs(open_project(ctx), name)
    if output.wants_json(ctx, json_):
        output.print_json(values)
    else:
        _print_outputs(values)


@app.command()
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Delete an environment's stack and spec file.

    Refused while service instances or components still live in it.

    Example:

      pcli env delete dev --yes
    """
    from protoncli.cli.deploying import run_delete
    from protoncli.deploy.environments import check_deletable, delete_environment

    project = open_project(ctx, provisioning=provisioning)
    run_delete(
        ctx,
        command="env delete",
        json_=json_,
        yes=yes,
        what=f"environment {name}",
        check=lambda: check_deletable(project, name),
        action=lambda callbacks: [
            delete_environment(project, name, on_event=callbacks.hooks.on_event)
        ],
    )


@app.command()
def history(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    region: str | None = HISTORY_REGION_OPTION,
    json_: bool = HISTORY_JSON_OPTION,
) -> None:
    """List an environment's deployments, newest first, from the records kept in AWS.

    Each deployment: when it started, its outcome and final stack status, the blueprint
    version, who deployed it and its id (the one the stack runs is marked current).

    Examples:

      pcli env history dev

      pcli env history dev --json
    """
    from protoncli.cli.commands.history import show_history
    from protoncli.deploy.rollback import environment_target

    show_history(
        ctx,
        lambda project: [environment_target(project, name, region)],
        json_=json_,
        with_item=False,
    )


@app.command()
def rollback(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    to: str | None = TO_OPTION,
    region: str | None = HISTORY_REGION_OPTION,
    yes: bool = YES_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Redeploy an earlier deployment of an environment and write its spec back.

    The deployment's template and tags are deployed as its record keeps them (change set,
    confirmation, progress), even when its blueprint version left the registry; then its spec
    file is written back to environments/NAME.yaml and the difference shown, to commit.

    Examples:

      pcli env rollback dev --yes

      pcli env rollback dev --to 3f2a9c1e --yes
    """
    from protoncli.cli.commands.history import run_rollback
    from protoncli.deploy.rollback import environment_target

    run_rollback(
        ctx,
        command="env rollback",
        target=lambda project: environment_target(project, name, region),
        to=to,
        yes=yes,
        json_=json_,
        override_rules=override_rules,
        rerun=f"pcli env rollback {name}{f' --to {to}' if to else ''} --yes",
    )


@app.command()
def logs(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_environments, help="Environment name."
    ),
    since: str | None = logs_help.SINCE_OPTION,
    follow: bool = logs_help.FOLLOW_OPTION,
    pattern: str | None = logs_help.FILTER_OPTION,
    json_: bool = logs_help.JSON_OPTION,
) -> None:
    """Print the log events of an environment's stack, merged by time, from CloudWatch Logs.

    The log groups are found in the stack's resources: log groups, ECS task definitions'
    awslogs-group, Lambda functions' /aws/lambda/NAME. Each line reads
    TIMESTAMP ENVIRONMENT:GROUP/STREAM MESSAGE.

    Examples:

      pcli env logs dev --since 30m

      pcli env logs dev --follow --json
    """
    from protoncli.cli.commands.logs_view import show_logs
    from protoncli.deploy.logs import environment_log_stacks

    show_logs(
        ctx,
        lambda project: environment_log_stacks(project, name),
        since=since,
        follow=follow,
        pattern=pattern,
        json_=json_,
        deploy_hint=f"pcli env deploy {name} --yes",
    )
