"""`pcli env ...`: create, deploy and track environments."""

from __future__ import annotations

from pathlib import Path

import typer

from protoncli.cli import output
from protoncli.cli.deploying import (
    JSON_OPTION,
    YES_OPTION,
    open_project,
    parse_params,
    read_spec_flag,
    run_deploy,
)

app = typer.Typer(
    help="Create, deploy and track environments.",
    no_args_is_help=True,
    epilog="Example: pcli env create dev --blueprint vpc-ecs-env --yes",
)


@app.command()
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Environment name."),
    blueprint: str = typer.Option(
        ..., "--blueprint", "-b", help="Environment blueprint, NAME or NAME@VERSION."
    ),
    spec: Path | None = typer.Option(None, "--spec", "-s", help="An EnvironmentSpec file."),
    param: list[str] = typer.Option([], "--param", "-p", help="An input as KEY=VALUE (repeat)."),
    region: str | None = typer.Option(None, "--region", help="Region of the environment."),
    yes: bool = YES_OPTION,
    no_deploy: bool = typer.Option(False, "--no-deploy", help="Write the spec file only."),
    json_: bool = JSON_OPTION,
) -> None:
    """Validate the inputs, write environments/NAME.yaml, then deploy it.

    Without @VERSION, the blueprint's recommended version. A missing required input is an error
    that lists every one of them.

    Examples:

      pcli env create dev --blueprint vpc-ecs-env --param log_retention_days=14 --yes

      pcli env create prod -b vpc-ecs-env@1.0 --spec prod.yaml --region eu-west-1 --no-deploy
    """
    from protoncli.deploy.environments import create_environment, deploy_environment

    project = open_project(ctx)
    record = create_environment(
        project,
        name,
        blueprint,
        spec=read_spec_flag(spec, "environment"),
        params=parse_params(param),
        region=region,
    )
    output.warn_all(record.warnings)
    output.note(f"Wrote {record.path} ({record.blueprint}@{record.version}, {record.region}).")
    if no_deploy:
        output.note(f"Deploy it with: pcli env deploy {name}")
        return
    run_deploy(
        ctx,
        command="env create",
        json_=json_,
        yes=yes,
        action=lambda on_event, confirm, recreate: [
            deploy_environment(project, name, confirm=confirm, on_event=on_event, recreate=recreate)
        ],
    )


@app.command()
def deploy(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Environment name."),
    yes: bool = YES_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Deploy an environment's spec: change set, confirmation, progress.

    Example: pcli env deploy dev --yes
    """
    from protoncli.deploy.environments import deploy_environment

    project = open_project(ctx)
    run_deploy(
        ctx,
        command="env deploy",
        json_=json_,
        yes=yes,
        action=lambda on_event, confirm, recreate: [
            deploy_environment(project, name, confirm=confirm, on_event=on_event, recreate=recreate)
        ],
    )


@app.command("list")
def list_environments(ctx: typer.Context, json_: bool = typer.Option(False, "--json")) -> None:
    """List the workspace's environments with blueprint, version, region and stack status.

    Example: pcli env list --json
    """
    from protoncli.cli.commands.status import print_rows, status_rows

    rows = [r for r in status_rows(open_project(ctx)) if r["kind"] == "environment"]
    print_rows(rows, json_=json_, key="environments")


@app.command()
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Environment name."),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Show an environment: its spec, blueprint, stack status and outputs.

    Example: pcli env show dev
    """
    from protoncli.cli.commands.status import status_rows
    from protoncli.deploy.environments import read_environment

    project = open_project(ctx)
    record = read_environment(project, name)
    row = next(r for r in status_rows(project) if r["kind"] == "environment" and r["name"] == name)
    outputs = _outputs_or_empty(project, name, row["stack_status"])
    document = row | {
        "spec": str(record.path),
        "inputs": dict(record.spec.inputs),
        "outputs": outputs,
    }
    if json_:
        output.print_json(document)
        return
    output.key_values(
        [
            ("Environment", name),
            ("Blueprint", f"{record.blueprint}@{record.version}"),
            ("Region", record.region),
            ("Spec", record.path),
            ("Stack", f"{row['stack_name']} ({row['stack_status']})"),
            ("Last deployed", row["last_deployed"] or "-"),
        ]
    )
    _print_outputs(outputs)


def _outputs_or_empty(project: object, name: str, stack_status: str) -> dict[str, str]:
    from protoncli.deploy.environments import environment_outputs

    if stack_status == "NOT_DEPLOYED":
        return {}
    return environment_outputs(project, name)  # type: ignore[arg-type]


def _print_outputs(outputs: dict[str, str]) -> None:
    if outputs:
        output.table(["OUTPUT", "VALUE"], sorted(outputs.items()))
    else:
        output.line("No outputs (not deployed yet).")


@app.command()
def outputs(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Environment name."),
    json_: bool = typer.Option(False, "--json", help="Print one JSON object of outputs."),
) -> None:
    """Print the outputs of an environment's stack (what services and components receive).

    Example: pcli env outputs dev --json
    """
    from protoncli.deploy.environments import environment_outputs

    values = environment_outputs(open_project(ctx), name)
    if json_:
        output.print_json(values)
    else:
        _print_outputs(values)


@app.command()
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Environment name."),
    yes: bool = YES_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Delete an environment's stack and spec file.

    Refused while service instances or components still live in it.

    Example: pcli env delete dev --yes
    """
    from protoncli.cli.deploying import confirm_delete
    from protoncli.deploy.environments import delete_environment

    project = open_project(ctx)
    confirm_delete(ctx, yes, f"environment {name}")
    run_deploy(
        ctx,
        command="env delete",
        json_=json_,
        yes=True,
        action=lambda on_event, _confirm, _recreate: [
            delete_environment(project, name, on_event=on_event)
        ],
    )
