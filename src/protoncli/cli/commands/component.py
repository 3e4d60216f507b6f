"""`pcli component ...`: developer IaC attached to a service instance (Proton's components)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from protoncli.cli.completion import (
    complete_components,
    complete_instances,
    complete_services,
)
from protoncli.cli.deploying import (
    JSON_OPTION,
    NAME_METAVAR,
    OVERRIDE_RULE_OPTION,
    PROVISIONING_OPTION,
    YES_OPTION,
    Callbacks,
    open_project,
    run_deploy,
)

if TYPE_CHECKING:
    from protoncli.deploy.model import DeployResult

app = typer.Typer(
    help="Create, deploy and delete components attached to service instances.",
    no_args_is_help=True,
    epilog=(
        "Examples:\n\n  pcli component create queue --service web --instance web-dev"
        " --bundle ./queue --yes\n\n  pcli component delete queue --yes"
    ),
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


@app.command()
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar=NAME_METAVAR, help="Component name."),
    service: str = typer.Option(
        ..., "--service", autocompletion=complete_services, help="The service it attaches to."
    ),
    instance: str = typer.Option(
        ...,
        "--instance",
        autocompletion=complete_instances,
        help="The service instance it attaches to.",
    ),
    bundle: Path = typer.Option(..., "--bundle", help="Folder with manifest.yaml and the IaC."),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    no_deploy: bool = typer.Option(False, "--no-deploy", help="Record it only."),
    json_: bool = JSON_OPTION,
) -> None:
    """Copy a component bundle into components/NAME/, then deploy it and redeploy its instance.

    The component renders with the instance's inputs and the environment's outputs; its outputs
    reach the instance as service_instance.components.default.outputs.

    Example:

      pcli component create queue --service web --instance web-dev --bundle ./queue --yes
    """
    from protoncli.deploy.components import create_component, deploy_component

    project = open_project(ctx, provisioning=provisioning, override_rules=override_rules)

    def action(callbacks: Callbacks) -> list[DeployResult]:
        path = create_component(
            project, name, service=service, instance=instance, bundle_dir=bundle
        )
        callbacks.note(f"Wrote {path}.")
        if no_deploy:
            callbacks.note(f"Deploy it with: pcli component deploy {name}")
            return []
        return deploy_component(project, name, callbacks.hooks)

    run_deploy(
        ctx,
        command="component create",
        json_=json_,
        yes=yes,
        action=action,
        rerun=f"pcli component deploy {name} --yes",
    )


@app.command()
def deploy(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_components, help="Component name."
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Deploy a component, then redeploy the service instance it is attached to.

    Example:

      pcli component deploy queue --yes
    """
    from protoncli.deploy.components import deploy_component

    project = open_project(ctx, provisioning=provisioning, override_rules=override_rules)
    run_deploy(
        ctx,
        command="component deploy",
        json_=json_,
        yes=yes,
        action=lambda callbacks: deploy_component(project, name, callbacks.hooks),
        rerun=f"pcli component deploy {name} --yes",
    )


@app.command()
def delete(
    ctx: typer.Context,
    name: str = typer.Argument(
        ..., metavar=NAME_METAVAR, autocompletion=complete_components, help="Component name."
    ),
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Delete a component's stack and folder, then redeploy its instance without it.

    Example:

      pcli component delete queue --yes
    """
    from protoncli.cli.deploying import run_delete
    from protoncli.deploy.components import delete_component, require_component

    project = open_project(ctx, provisioning=provisioning)
    run_delete(
        ctx,
        command="component delete",
        json_=json_,
        yes=yes,
        what=f"component {name}",
        check=lambda: require_component(project, name),
        action=lambda callbacks: delete_component(
            project, name, on_event=callbacks.hooks.on_event, confirm=callbacks.hooks.confirm
        ),
    )
