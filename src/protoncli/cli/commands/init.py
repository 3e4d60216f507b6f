"""`pcli init [DIR]`: make a folder a pcli workspace (pcli.yaml and the spec folders)."""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from protoncli.cli import output

if TYPE_CHECKING:
    from protoncli.workspace.model import Workspace

DEFAULT_REGION = "us-east-1"
NEXT_STEP = "pcli env create NAME --blueprint BLUEPRINT"

app = typer.Typer(
    help="Make a folder a pcli workspace: pcli.yaml and the folders for spec files.",
    add_completion=False,
)


@app.command("init")
def init(
    ctx: typer.Context,
    directory: Path = typer.Argument(
        Path(),
        metavar="DIR",
        help="Folder to make a workspace (created if missing; default: this folder).",
    ),
    name: str | None = typer.Option(
        None, "--name", help="Workspace name (default: the folder's name, made valid)."
    ),
    region: str = typer.Option(
        DEFAULT_REGION,
        "--region",
        envvar=["AWS_REGION", "AWS_DEFAULT_REGION"],
        help="Default AWS region of new environments.",
    ),
    registry: str | None = typer.Option(
        None,
        "--registry",
        help="Blueprint registry folder to record in pcli.yaml (kept relative when relative).",
    ),
    git: bool = typer.Option(
        True,
        "--git/--no-git",
        help="Make DIR a git repository unless it already lies in one (default: yes).",
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Create pcli.yaml, environments/, services/ and components/ in DIR, in a git repository.

    DIR becomes a git repository (the spec files are the desired state) unless it already lies
    in one; nothing is committed. Refuses a folder that already has a pcli.yaml.

    Commands run in the workspace (or below it) find it; elsewhere, use --workspace DIR.
    To go on at once to a deployed environment and a running service, see pcli quickstart.

    Example:

      pcli init platform-infra --region eu-west-1 --registry ../blueprints
    """
    workspace, created, repository = create_workspace(
        directory, name=name, region=region, registry=registry, git=git
    )
    next_step = _next_step(directory)
    if output.wants_json(ctx, json_):
        output.print_json(
            {
                "workspace": {
                    "root": str(workspace.root),
                    "name": workspace.name,
                    "region": workspace.region,
                    "registry": workspace.registry,
                },
                "created": created,
                "git": repository,
                "next": next_step,
            }
        )
        return
    _print_summary(workspace, created, repository, next_step)


def create_workspace(
    directory: Path, *, name: str | None, region: str, registry: str | None, git: bool
) -> tuple[Workspace, list[str], str]:
    """`pcli init`'s work (`pcli quickstart`'s too): the workspace, what was created in it and
    what became of git (a `GIT_LINES` key)."""
    from protoncli.workspace.model import FOLDERS, WORKSPACE_FILE, init_workspace
    from protoncli.workspace.vcs import SKIPPED, ensure_repository

    existing = {folder for folder in FOLDERS if (directory / folder).is_dir()}
    workspace = init_workspace(
        directory,
        name=name,
        region=region,
        registry=_registry_as_written(registry, directory),
    )
    created = [WORKSPACE_FILE, *(f"{folder}/" for folder in FOLDERS if folder not in existing)]
    repository = ensure_repository(workspace.root) if git else SKIPPED
    return workspace, created, repository


def _registry_as_written(value: str | None, directory: Path) -> str | None:
    """A relative --registry path (from here) made relative to the new workspace's root."""
    from protoncli.blueprints.location import is_remote

    if value is None or "://" in value or is_remote(value) or not value.strip():
        return value
    path = Path(value).expanduser()
    if path.is_absolute():
        return str(path)
    root = directory.expanduser().resolve()
    return Path(os.path.relpath(Path.cwd() / path, root)).as_posix()


def _next_step(directory: Path) -> str:
    if directory.expanduser().resolve() == Path.cwd().resolve():
        return NEXT_STEP
    return f"cd {shlex.quote(str(directory))} && {NEXT_STEP}"


GIT_LINES = {
    "initialised": "a new repository in the workspace's folder (nothing committed)",
    "inside": "the folder lies in an existing repository",
    "unavailable": "git not found: keep the spec files in a repository (git init)",
    "skipped": "not set up (--no-git): keep the spec files in a repository",
}


def _print_summary(
    workspace: Workspace, created: list[str], repository: str, next_step: str
) -> None:
    output.line(f"Created workspace '{workspace.name}' in {workspace.root}")
    for path in created:
        output.line(f"  {path}")
    output.line(f"Default region: {workspace.region}")
    output.line(f"Registry: {workspace.registry or 'not set (pcli uses its default registry)'}")
    output.line(f"Git: {GIT_LINES[repository]}")
    output.line(f"Next: {next_step}")
