"""`pcli svc ...`: create, deploy and track services (their instances and pipeline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import logs_help, output
from protoncli.cli.completion import (
    complete_chosen_blueprint_versions,
    complete_environments,
    complete_inputs,
    complete_instances,
    complete_pipeline_inputs,
    complete_placements,
    complete_service_blueprint_refs,
    complete_services,
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
from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.deploy.model import DeployResult
    from protoncli.deploy.project import Project
    from protoncli.prompting import Prompter
    from protoncli.state.declared import ServiceRecord

app = typer.Typer(
    help="Create, deploy and track services: one instance per environment, and a pipeline.",
    no_args_is_help=True,
    epilog="Example:\n\n  pcli svc create web -b fargate-web-svc -i web-dev=dev "
    "--repository acme/web --branch main --yes",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


def _instances(values: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for item in values:
        name, separator, environment = item.partition("=")
        if not separator or not name or not environment:
            raise UsageError(
                f"--instance {item!r}: expected INSTANCE=ENVIRONMENT",
                hint="e.g. --instance api-dev=dev",
            )
        pairs.append((name, environment))
    return pairs


def instance_option(help_text: str) -> Any:
    """`--instance/-i NAME`: one instance of the service, completed from its spec file."""
    return typer.Option(None, "--instance", "-i", autocompletion=complete_instances, help=help_text)


@app.command()
def create(
    ctx: typer.Context,
    name: str | None = typer.Argument(
        None, metavar="[NAME]", help="Service name (asked in a terminal when not given)."
    ),
    blueprint: str | None = typer.Option(
        None,
        "--blueprint",
        "-b",
        help="Service blueprint, NAME or NAME@VERSION (asked in a terminal when not given).",
        autocompletion=complete_service_blueprint_refs,
    ),
    version: str | None = typer.Option(
        None,
        "--version",
        help="Blueprint version, MAJOR.MINOR or MAJOR (default: the recommended version).",
        autocompletion=complete_chosen_blueprint_versions,
    ),
    instance: list[str] = typer.Option(
        [],
        "--instance",
        "-i",
        help="An instance as INSTANCE=ENVIRONMENT (repeat; asked in a terminal when not given).",
        autocompletion=complete_placements,
    ),
    spec: Path | None = typer.Option(None, "--spec", "-s", help="A ServiceSpec file."),
    param: list[str] = typer.Option(
        [],
        "--param",
        "-p",
        help="An instance input as KEY=VALUE (repeat).",
        autocompletion=complete_inputs,
    ),
    pipeline_param: list[str] = typer.Option(
        [],
        "--pipeline-param",
        help="A pipeline input as KEY=VALUE (repeat).",
        autocompletion=complete_pipeline_inputs,
    ),
    scaffold: Path | None = typer.Option(
        None, "--scaffold", help="Write the blueprint's skeleton (source code) into this folder."
    ),
    repository: str | None = typer.Option(
        None,
        "--repository",
        help="Source repository of the pipeline, OWNER/NAME (default: the --scaffold folder's "
        "git origin).",
    ),
    branch: str | None = typer.Option(
        None,
        "--branch",
        help="Branch the pipeline builds (default: the --scaffold folder's git branch).",
    ),
    connection_arn: str | None = typer.Option(
        None,
        "--connection-arn",
        help="CodeConnections (CodeStar Connections) ARN the pipeline reads the repository with.",
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    no_deploy: bool = typer.Option(False, "--no-deploy", help="Write the spec file only."),
    no_input: bool = NO_INPUT_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Validate, write services/NAME.yaml, deploy the instances and then the pipeline.

    Instances must be in environments whose blueprint and major version the service blueprint
    lists as compatible. In a terminal, whatever is not given is asked: the name, the
    blueprint, the version, the environments (compatible ones only) and an instance name in
    each, then each instance's inputs and the pipeline's, followed by a summary. Elsewhere
    nothing is asked: everything missing is one error that lists each with its flag.

    A blueprint with a pipeline builds from a source repository: --repository, --branch and
    --connection-arn (kept in the spec's header as repository_id, branch_name and
    repository_connection_arn; the pipeline reads them as service.*). With --scaffold DIR in a
    git repository, the repository and branch default to DIR's origin remote and branch. A
    pipeline that reads one of them while it is not set is refused before anything deploys.

    When services/NAME.yaml exists (a create whose deploy failed or was not confirmed), the
    same create continues with it: it deploys that spec file, if it holds the values given
    and nothing of the service is deployed yet (or its last deployment failed).

    Examples:

      pcli svc create web -b fargate-web-svc -i web-dev=dev --repository acme/web --branch main -y

      pcli svc create web -b fargate-web-svc -i web-dev=dev -p port=8080 --scaffold web --no-deploy

      pcli svc create api -b lambda-api-svc --spec api.yaml --scaffold ./api --no-deploy

      pcli svc create   (in a terminal: asks for everything)
    """
    create_and_deploy(
        ctx,
        open_project(ctx, provisioning=provisioning, override_rules=override_rules),
        name,
        blueprint,
        version=version,
        instance=instance,
        spec=spec,
        param=param,
        pipeline_param=pipeline_param,
        scaffold=scaffold,
        source=(repository, branch, connection_arn),
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
    instance: Sequence[str] = (),
    spec: Path | None = None,
    param: Sequence[str] = (),
    pipeline_param: Sequence[str] = (),
    scaffold: Path | None = None,
    source: tuple[str | None, str | None, str | None] = (None, None, None),
    skeleton_optional: bool = False,
    yes: bool = False,
    no_deploy: bool = False,
    no_input: bool = False,
    json_: bool = False,
) -> ServiceRecord | None:
    """`pcli svc create` in `project`, from its flags (`pcli quickstart`'s service too): the
    questions, the spec file, the skeleton, the deploy; `source` is (--repository, --branch,
    --connection-arn); with `skeleton_optional`, a blueprint with no skeleton/ scaffolds
    nothing instead of failing. The service written (or continued with), None when nothing
    was."""
    from protoncli.cli.prompts import create_again_hint, create_asking
    from protoncli.deploy.resume import Continuation
    from protoncli.deploy.service_create import continue_service, create_service
    from protoncli.deploy.services import deploy_service

    repository, branch, connection_arn = source

    def create_with(prompter: Prompter | None) -> ServiceRecord | Continuation[ServiceRecord]:
        given = read_spec_flag(spec, "service")
        values = parse_params(param)
        pipeline_values = parse_params(pipeline_param, "--pipeline-param")
        fields = {
            "repository_id": repository or "",
            "branch_name": branch or "",
            "repository_connection_arn": connection_arn or "",
        }
        same = continue_service(
            project,
            name,
            blueprint,
            version=version,
            instances=_instances(instance),
            spec=given,
            params=values,
            pipeline_params=pipeline_values,
            require_deployed=not no_deploy,
            scaffold_into=scaffold,
            source={key: value for key, value in fields.items() if value},
            skeleton_optional=skeleton_optional,
        )
        if same is not None:
            return same
        return create_service(
            project,
            name,
            blueprint,
            version=version,
            instances=_instances(instance),
            spec=given,
            params=values,
            pipeline_params=pipeline_values,
            require_deployed=not no_deploy,
            scaffold_into=scaffold,
            source=fields,
            prompter=prompter,
            skeleton_optional=skeleton_optional,
        )

    created = create_asking(ctx, create_with, yes=yes, no_input=no_input)
    kept: list[str] = []  # the service whose spec file is written (or continued with)
    records: list[ServiceRecord] = []

    def action(callbacks: Callbacks) -> list[DeployResult]:
        result = created if created is not None else create_with(None)
        record = result.record if isinstance(result, Continuation) else result
        kept.append(record.name)
        records.append(record)
        output.warn_all(record.warnings)
        if isinstance(result, Continuation):
            callbacks.note(result.note())
        else:
            callbacks.note(f"Wrote {record.path} ({record.blueprint}@{record.version}).")
        if record.scaffold is not None:
            callbacks.note(f"Scaffolded {scaffold}: {record.scaffold.summary()}.")
        if no_deploy:
            callbacks.note(f"Deploy it with: pcli svc deploy {record.name}")
            return []
        return deploy_service(project, record.name, callbacks.hooks)

    chosen = name
    if created is not None:
        chosen = created.record.name if isinstance(created, Continuation) else created.name
    with create_again_hint("service", kept):
        run_deploy(
            ctx,
            command="svc create",
            json_=json_,
            yes=yes,
            action=action,
            rerun=f"pcli svc deploy {chosen or 'NAME'} --yes",
        )
    return records[0] if records else None


@app.command()
def deploy(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    instance: list[str] = typer.Option(
        [],
        "--instance",
        "-i",
        autocompletion=complete_instances,
        help="Deploy only this instance (repeat); default: all.",
    ),
    env: list[str] = typer.Option(
        [],
        "--env",
        "-e",
        autocompletion=complete_environments,
        help="Deploy only the instances in this environment (repeat); default: every one.",
    ),
    param: list[str] = typer.Option(
        [],
        "--param",
        "-p",
        help="An instance input as KEY=VALUE for this deploy (repeat): given to every chosen "
        "instance, recorded in the deployment, not written to the spec file.",
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    cancel: bool = CANCEL_OPTION,
    json_: bool = JSON_OPTION,
    revert_drift: bool = REVERT_DRIFT_OPTION,
) -> None:
    """Deploy a service: its instances in parallel, then its pipeline.

    Every instance by default, production's included: --env and --instance choose.

    With --param KEY=VALUE (CI shipping a new image, say), the chosen instances deploy with
    that value instead of their spec's, typed and checked by the blueprint's schema as for
    svc create (a wrong key or value: exit 2, before anything is read from AWS). The spec
    file is not edited: the deployment record keeps the values and the stack's tags mark
    them, so status and plan show them (held back from apply) until the spec holds them;
    pcli apply --revert-overrides goes back to the spec's. The pipeline renders from the
    spec as always.

    With --cancel, the updates in progress on those stacks are cancelled instead (they roll
    back) and watched to their end. With --revert-drift, resources changed outside
    CloudFormation are put back to their templates.

    Examples:

      pcli svc deploy web --yes

      pcli svc deploy web -i web-dev --yes --json

      pcli svc deploy web --env staging --yes

      pcli svc deploy web -i web-dev --param image=registry/web:3f2a9c1 --yes --json
    """
    import shlex

    from protoncli.deploy.services import deploy_service, instances_in, service_targets

    mode = deployment_mode(revert_drift, cancel=cancel)
    if param and cancel:
        raise UsageError("--param and --cancel cannot be used together")
    params = parse_params(param)
    chosen = "".join(f" -i {i}" for i in instance) + "".join(f" --env {e}" for e in env)
    chosen += "".join(f" -p {shlex.quote(f'{k}={v}')}" for k, v in params.items())
    chosen += " --revert-drift" if mode else ""

    def instances(project: Project) -> list[str]:
        return instances_in(project, name, env, instance) if env else instance

    if cancel:
        run_cancel(
            ctx,
            command="svc deploy",
            json_=json_,
            yes=yes,
            targets=lambda project: service_targets(project, name, instances(project)),
            rerun=f"pcli svc deploy {name}{chosen} --cancel --yes",
        )
        return
    from protoncli.deploy.overrides import instance_overrides

    project = open_project(ctx, provisioning=provisioning, override_rules=override_rules)
    chosen_instances = instances(project)
    overrides = instance_overrides(project, name, params, chosen_instances)

    def action(callbacks: Callbacks) -> list[DeployResult]:
        if params:
            callbacks.note(_overrides_note(project, name, params, overrides))
        return deploy_service(
            project,
            name,
            callbacks.hooks,
            instances=chosen_instances,
            deployment_mode=mode,
            overrides=overrides,
        )

    run_deploy(
        ctx,
        command="svc deploy",
        json_=json_,
        yes=yes,
        action=action,
        rerun=f"pcli svc deploy {name}{chosen} --yes",
    )


def _overrides_note(
    project: Project, name: str, params: dict[str, str], overrides: dict[str, dict[str, object]]
) -> str:
    """What `svc deploy --param` does, said before it deploys."""
    spec = project.workspace.service_spec(name)
    given = " ".join(f"{key}={value}" for key, value in params.items())
    if not overrides:
        return f"--param {given}: the spec ({spec}) holds these values already."
    return (
        f"Deploying {', '.join(sorted(overrides))} with --param {given} "
        f"(not written to {spec}: commit the values there to keep them)."
    )


@app.command("list")
def list_services(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """List the workspace's service instances and pipelines with their stack status.

    Example:

      pcli svc list
    """
    from protoncli.cli.commands.status import (
        fail_on_problems,
        item_row,
        print_problems,
        print_rows,
        read_fleet,
    )

    fleet = read_fleet(open_project(ctx))
    items = fleet.of_kind("service-instance") + fleet.of_kind("pipeline")
    items.sort(key=lambda item: (item.identity.service or "", item.kind == "pipeline", item.name))
    rows = [item_row(item) for item in items]
    print_rows(rows, json_=output.wants_json(ctx, json_), key="services")
    if not output.wants_json(ctx, json_):
        print_problems(fleet)
    fail_on_problems(fleet)


@app.command()
def show(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show a service: blueprint, instances with their environments and stack status, outputs.

    Example:

      pcli svc show web
    """
    from protoncli.cli.commands.status import item_row, print_rows, read_fleet
    from protoncli.state.declared import read_service

    project = open_project(ctx)
    record = read_service(project, name)
    items = read_fleet(project, places_of(project, record)).of_service(name)
    rows = [item_row(item) for item in items]
    outputs = {
        ("pipeline" if item.kind == "pipeline" else item.identity.instance or ""): found
        for item in items
        if (found := item.outputs) is not None
    }
    if output.wants_json(ctx, json_):
        output.print_json(
            {
                "name": name,
                "blueprint": record.blueprint,
                "version": record.version,
                "spec": str(record.path),
                "resources": rows,
                "outputs": outputs,
            }
        )
        return
    output.key_values(
        [
            ("Service", name),
            ("Blueprint", f"{record.blueprint}@{record.version}"),
            ("Spec", record.path),
        ]
    )
    print_rows(rows, json_=False)
    _print_outputs(outputs)


def places_of(project: Project, record: ServiceRecord) -> set[tuple[str, str | None]] | None:
    """Where the service's stacks live: its instances' environments' regions (in their
    accounts) and the workspace's own (the pipeline); None (every place) when an environment
    cannot be read."""
    from protoncli.errors import PcliError
    from protoncli.state.declared import read_environment

    regions: set[tuple[str, str | None]] = {(project.management_region(), None)}
    try:
        for instance in record.spec.instances:
            environment = read_environment(project, instance.environment)
            regions.add((environment.region, environment.account))
    except PcliError:
        return None
    return regions


def _print_outputs(outputs: dict[str, dict[str, str]]) -> None:
    rows = [
        (owner, key, value)
        for owner, values in outputs.items()
        for key, value in sorted(values.items())
    ]
    if rows:
        output.table(["RESOURCE", "OUTPUT", "VALUE"], rows)


@app.command()
def outputs(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Print the outputs of the service's instances and pipeline.

    Example:

      pcli svc outputs web --json
    """
    from protoncli.deploy.services import service_outputs

    values = service_outputs(open_project(ctx), name)
    if output.wants_json(ctx, json_):
        output.print_json(values)
    elif values:
        _print_outputs(values)
    else:
        output.line("No outputs (not deployed yet).")


@app.command()
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Delete a service: its pipeline, then its components and instances, then its spec file.

    Example:

      pcli svc delete web --yes
    """
    from protoncli.cli.deploying import run_delete
    from protoncli.deploy.services import delete_service
    from protoncli.state.declared import read_service

    project = open_project(ctx, provisioning=provisioning)
    run_delete(
        ctx,
        command="svc delete",
        json_=json_,
        yes=yes,
        what=f"service {name}",
        check=lambda: read_service(project, name),
        action=lambda callbacks: delete_service(project, name, on_event=callbacks.hooks.on_event),
    )


@app.command("upgrade-code")
def upgrade_code(
    ctx: typer.Context,
    folder: Path = typer.Argument(
        ..., metavar="DIR", help="A folder written by pcli svc create --scaffold DIR."
    ),
    to: str | None = typer.Option(
        None,
        "--to",
        metavar="VERSION",
        help="Blueprint version to upgrade to (default: the version the service's spec pins).",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; write nothing."),
    conflicts: str = typer.Option(
        "refuse",
        "--conflicts",
        metavar="refuse|markers",
        help="On a conflict: write nothing (refuse), or write conflict markers (markers).",
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Upgrade scaffolded code to a blueprint version: a 3-way merge with your changes.

    The folder's .pcli-scaffold.json names the service and the version the code came from.
    pcli renders that version's skeleton and the new one with the service's inputs and brings
    each change of the blueprint into your files: files you left alone are replaced, files you
    changed are merged (git merge-file). A conflict refuses the whole upgrade (nothing is
    written, exit 1) unless --conflicts markers writes the markers into the files.

    Examples:

      pcli svc upgrade-code web-src --dry-run

      pcli svc upgrade-code web-src --to 1.1 --conflicts markers --json
    """
    from protoncli.cli.commands.service_code import upgrade_code_command

    upgrade_code_command(
        open_project(ctx),
        folder,
        version=to,
        conflicts=conflicts,
        dry_run=dry_run,
        as_json=output.wants_json(ctx, json_),
    )


@app.command()
def history(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    instance: str | None = instance_option(
        "Only this instance (default: every instance and the pipeline)."
    ),
    region: str | None = HISTORY_REGION_OPTION,
    json_: bool = HISTORY_JSON_OPTION,
) -> None:
    """List a service's deployments, newest first, from the records kept in AWS.

    Each deployment: when it started, the instance or pipeline, its outcome and final stack
    status, the blueprint version, who deployed it and its id (current: the one its stack
    runs).

    Examples:

      pcli svc history web

      pcli svc history web --instance web-dev --json
    """
    from protoncli.cli.commands.history import show_history
    from protoncli.deploy.rollback import service_targets

    show_history(
        ctx,
        lambda project: service_targets(project, name, instance, region),
        json_=json_,
        with_item=True,
    )


@app.command()
def rollback(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    instance: str | None = instance_option(
        "The instance to roll back (required when the service has several)."
    ),
    to: str | None = TO_OPTION,
    region: str | None = HISTORY_REGION_OPTION,
    yes: bool = YES_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Redeploy an earlier deployment of a service instance and write its spec entry back.

    The deployment's template and tags are deployed as its record keeps them (change set,
    confirmation, progress), even when its blueprint version left the registry; then the
    instance's entry of services/NAME.yaml is written back (and the version, when it is the
    service's only instance) and the difference shown, to commit.

    Examples:

      pcli svc rollback web --instance web-dev --yes

      pcli svc rollback web -i web-dev --to 3f2a9c1e --yes
    """
    from protoncli.cli.commands.history import run_rollback
    from protoncli.deploy.rollback import rollback_instance_target

    chosen = f" -i {instance}" if instance else ""
    run_rollback(
        ctx,
        command="svc rollback",
        target=lambda project: rollback_instance_target(project, name, instance, region),
        to=to,
        yes=yes,
        json_=json_,
        override_rules=override_rules,
        rerun=f"pcli svc rollback {name}{chosen}{f' --to {to}' if to else ''} --yes",
    )


@app.command("status")
def status_(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    instance: str | None = instance_option("Only this instance (default: every instance)."),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show what serves traffic in each instance of a service, and whether it is healthy.

    Read from each instance stack's resources: ECS services (desired, running and pending
    tasks, a rollout in progress or failed), load balancer target groups (their targets'
    health), Lambda functions (state, last update, errors and throttles in the last hour),
    CloudWatch alarms in ALARM on the stack's resources; and the URL among the outputs. A read
    the credentials may not make is shown as unknown, with the permission it needs.

    Exit codes: 0 when every instance is healthy; 1 when one is unhealthy, unknown or not
    deployed (after the report), or on an AWS error; 2 for an unknown service or instance.

    Examples:

      pcli svc status web

      pcli svc status web -i web-dev --json
    """
    from protoncli.cli.commands.health_view import (
        fail_unless_healthy,
        print_health,
        service_health,
    )

    found = service_health(open_project(ctx), name, instance)
    print_health(name, found, json_=output.wants_json(ctx, json_))
    fail_unless_healthy(name, found)


@app.command()
def logs(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_services, help="Service name."
    ),
    instance: str | None = instance_option("Only this instance (default: every instance)."),
    since: str | None = logs_help.SINCE_OPTION,
    follow: bool = logs_help.FOLLOW_OPTION,
    pattern: str | None = logs_help.FILTER_OPTION,
    json_: bool = logs_help.JSON_OPTION,
) -> None:
    """Print the log events of a service's instances, merged by time, from CloudWatch Logs.

    The log groups are found in each instance stack's resources: log groups, ECS task
    definitions' awslogs-group, Lambda functions' /aws/lambda/NAME. Each line reads
    TIMESTAMP INSTANCE:GROUP/STREAM MESSAGE.

    Examples:

      pcli svc logs web --since 1h --filter ERROR

      pcli svc logs web -i web-dev --follow --json
    """
    from protoncli.cli.commands.logs_view import show_logs
    from protoncli.deploy.logs import service_log_stacks

    chosen = f" -i {instance}" if instance else ""
    show_logs(
        ctx,
        lambda project: service_log_stacks(project, name, instance),
        since=since,
        follow=follow,
        pattern=pattern,
        json_=json_,
        deploy_hint=f"pcli svc deploy {name}{chosen} --yes",
    )
