"""`pcli env import`: register an environment provisioned outside pcli, with its outputs."""

from __future__ import annotations

import typer

from protoncli.cli import output
from protoncli.cli.completion import complete_account_names, complete_environment_blueprint_refs
from protoncli.cli.deploying import NAME_METAVAR, open_project


def import_environment_command(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar=NAME_METAVAR, help="Environment name."),
    stack: str | None = typer.Option(
        None,
        "--stack",
        metavar="STACK_NAME",
        help="The environment's CloudFormation stack: services render with its outputs, as "
        "they are when they deploy.",
    ),
    outputs: str | None = typer.Option(
        None,
        "--outputs",
        metavar="FILE|-",
        help="The environment's outputs: {name: value}, `terraform output -json`, or Proton's "
        "[{key, valueString}] list; - reads standard input.",
    ),
    blueprint: str | None = typer.Option(
        None,
        "--blueprint",
        "-b",
        help="A customer-managed environment blueprint (schema only) that services list as "
        "compatible; default external-env, which every service may run in.",
        autocompletion=complete_environment_blueprint_refs,
    ),
    region: str | None = typer.Option(None, "--region", help="Region of the environment."),
    account: str | None = typer.Option(
        None,
        "--account",
        metavar="NAME",
        help="Account it lives in (pcli.yaml's accounts:; default: your credentials').",
        autocompletion=complete_account_names,
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Import again an environment imported before (new outputs)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Register an environment provisioned outside pcli, with its outputs.

    Proton's customer-managed environments: pcli writes environments/NAME.yaml (marked
    managed_elsewhere) and records the environment with its outputs in AWS. Services deploy
    into it and render with its outputs; `status` shows it as managed elsewhere; pcli never
    deploys, updates or deletes it (`pcli env delete` forgets it and leaves it running).

    Examples:

      pcli env import shared --stack network-shared --region eu-west-1

      pcli env import legacy --outputs legacy-outputs.json

      pcli env import shared --stack network-shared --replace   (its outputs anew)
    """
    from protoncli.deploy.imported import import_environment
    from protoncli.errors import UsageError
    from protoncli.provision.notify import read_outputs

    if (stack is None) == (outputs is None):
        raise UsageError("give --stack STACK_NAME or --outputs FILE (one of them)")
    values = read_outputs(outputs) if outputs is not None else None
    project = open_project(ctx)
    done = import_environment(
        project,
        name,
        stack=stack,
        outputs=values,
        blueprint=blueprint,
        region=region,
        account=account,
        replace=replace,
    )
    record = done.record
    if output.wants_json(ctx, json_):
        output.print_json(
            {
                "environment": record.name,
                "spec": str(record.path),
                "blueprint": record.blueprint,
                "version": record.version,
                "region": record.region,
                "account": record.account,
                "managed_elsewhere": done.source,
                "outputs": dict(done.outputs),
                "replaced": done.replaced,
            }
        )
        return
    verb = "Imported again" if done.replaced else "Imported"
    output.line(
        f"{verb} environment {record.name} ({record.region}), managed elsewhere: {done.source}; "
        f"wrote {record.path}."
    )
    if done.outputs:
        output.table(["OUTPUT", "VALUE"], sorted(done.outputs.items()))
    else:
        output.warn("it has no outputs: services that read environment outputs cannot render")
