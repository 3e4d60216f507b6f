"""`pcli ci generate`: a CI workflow that plans pull requests and deploys merges."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project

app = typer.Typer(
    help="Generate CI workflows that plan pull requests and deploy the workspace.",
    no_args_is_help=True,
    epilog="Examples: pcli ci generate github-actions; pcli ci generate github-actions -s web "
    "-o -; pcli ci generate github-actions -s web --source",
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
        "pcli-SERVICE.yml with --service, under the workspace root; with --source, stdout).",
    ),
    source: bool = typer.Option(
        False,
        "--source",
        help="The workflow of the --service's source repository instead: build its image and "
        "deploy it from a checkout of the workspace repository.",
    ),
    image_param: str | None = typer.Option(
        None,
        "--image-param",
        metavar="INPUT",
        help="With --source: the service input the built image goes to (default: the one the "
        "blueprint's skeleton/.pcli-ci.yaml names; without either, no image is built).",
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing file."),
) -> None:
    """Write a GitHub Actions workflow: plan on pull requests, deploy environment by environment.

    On a pull request, `pcli plan --check` shows what merging changes (pending changes do not
    fail the check). On a push to main, one job per environment, in the order the service specs'
    instances name them (dev, then staging, then prod), each after the one before and each in
    the GitHub environment of its name: its reviewers approve it and its AWS_ROLE_ARN variable is
    the OIDC role it deploys with. An existing file is kept unless --force.

    With --source (and --service), the workflow of the service's source repository instead: it
    runs pcli from a checkout of the workspace repository; pull requests build the image and run
    `pcli plan --check SERVICE`; a push to main builds and pushes the image once, then deploys
    it (`pcli svc deploy --param`) to the service's instances, environment by environment, as
    above. The image input is --image-param, else the one the blueprint's skeleton/.pcli-ci.yaml
    names; without either, no image is built and the instances deploy their spec. It prints the
    workflow unless --output says where to write it (the source repository's
    .github/workflows/deploy.yml).

    Examples:

      pcli ci generate github-actions

      pcli ci generate github-actions --service web --output -

      pcli ci generate github-actions --service web --source --image-param image
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
    if image_param is not None and not source:
        raise UsageError("--image-param goes with --source", hint="add --source --service NAME")
    if source and service is None:
        raise UsageError(
            "--source needs --service: a source repository builds and deploys one service",
            hint="pcli ci generate github-actions --service NAME --source",
        )
    state = app_state(ctx)
    workspace = find_workspace(explicit=state.workspace)
    project = Project(
        workspace,
        state.open_registry(seeded=False),
        SessionFactory(),  # no AWS call: spec files and pcli.yaml only
        AwsSettings(region=state.region, profile=state.profile),
    )
    if service is not None and source:
        text = _source_text(project, service, image_param)
        output_ = output_ if output_ is not None else Path("-")
    else:
        text = workflow_text(ci_workflow(project, service))
    if output_ is not None and str(output_) == "-":
        output.line(text.rstrip("\n"))
        return
    path = output_ if output_ is not None else default_output(workspace.root, service)
    write_workflow(path, text, force=force)
    output.note(f"Wrote {path}.")


def _source_text(project: Project, service: str, image_param: str | None) -> str:
    """The source repository's workflow of `service`; the image goes to `image_param`, else to
    the input its blueprint's CI declaration names."""
    from protoncli.state.declared import read_service
    from protoncli.workspace.ci_workflow import source_workflow, source_workflow_text
    from protoncli.workspace.scaffold import ci_declaration, image_input

    record = read_service(project, service)
    _, bundle = project.blueprint(record.blueprint, record.version, "service")
    declared = ci_declaration(bundle)
    image = declared.image_parameter if declared is not None else None
    if image_param is not None:
        image = image_input(bundle, image_param, "--image-param")
    return source_workflow_text(source_workflow(project, service, image_parameter=image))
