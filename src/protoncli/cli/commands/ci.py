"""`pcli ci generate`: a CI workflow that plans pull requests and deploys merges."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

app = typer.Typer(
    help="Generate CI workflows that plan pull requests and deploy the workspace.",
    no_args_is_help=True,
    epilog="Examples: pcli ci generate github-actions; pcli ci generate github-actions -s web -o -",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


@app.callback()
def ci() -> None:
    """Generate CI workflows that plan pull requests and deploy the workspace."""


class Target(StrEnum):
    github_actions = "github-actions"


@app.command("generate")
def generate(
    ctx: typer.Context,
    target: Target = typer.Argument(..., help="The CI system: github-actions."),
    service: str | None = typer.Option(
        None, "--service", "-s", help="Only this service's instances (and its pipeline)."
    ),
    output_: Path | None = typer.Option(
        None,
        "--output",
        "-o",
        help="Where to write it ('-': stdout; default: .github/workflows/pcli.yml, or "
        "pcli-SERVICE.yml with --service, under the workspace root).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Write a GitHub Actions workflow: plan on pull requests, deploy environment by environment.

    On a pull request, `pcli plan --check` shows what merging changes (pending changes do not
    fail the check). On a push to main, one job per environment, in the order the service specs'
    instances name them (dev, then staging, then prod), each after the one before and each in
    the GitHub environment of its name: its reviewers approve it and its AWS_ROLE_ARN variable is
    the OIDC role it deploys with. An existing file is kept unless --force.

    Examples:

      pcli ci generate github-actions

      pcli ci generate github-actions --service web --output -
    """
    from protoncli.aws.session import SessionFactory
    from protoncli.cli import output
    from protoncli.cli.state import app_state
    from protoncli.deploy.project import AwsSettings, Project
    from protoncli.workspace.ci_workflow import (
        ci_workflow,
        default_output,
        workflow_text,
        write_workflow,
    )
    from protoncli.workspace.model import find_workspace

    del target  # github-actions is the only one yet
    state = app_state(ctx)
    workspace = find_workspace(explicit=state.workspace)
    project = Project(
        workspace,
        state.open_registry(seeded=False),
        SessionFactory(),  # no AWS call: spec files and pcli.yaml only
        AwsSettings(region=state.region, profile=state.profile),
    )
    text = workflow_text(ci_workflow(project, service))
    if output_ is not None and str(output_) == "-":
        output.line(text.rstrip("\n"))
        return
    path = output_ if output_ is not None else default_output(workspace.root, service)
    write_workflow(path, text, force=force)
    output.note(f"Wrote {path}.")
