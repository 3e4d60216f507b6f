"""The root `pcli` command: global options and lazy command groups."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from protoncli import __version__
from protoncli.cli.lazy import LazyGroup
from protoncli.cli.state import AppState, env_flag

app = typer.Typer(
    cls=LazyGroup,
    name="pcli",
    help=(
        "Publish versioned infrastructure blueprints (AWS Proton template bundles) and create,"
        " deploy and track environments and services from them."
    ),
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=(
        "Example: pcli blueprint render vpc-ecs-env --name dev --output-dir out."
        " Docs: docs/ in the pcli repository."
        " Exit codes: 0 ok, 1 error, 2 usage, 3 deploy failed."
    ),
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"pcli {__version__}\n")
        raise typer.Exit


@app.callback()
def root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show pcli's version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", "-v", envvar="PCLI_DEBUG", help="Show tracebacks and debug details."
    ),
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        envvar="PCLI_QUIET",
        help="Print only results and errors: no progress, notes or change-set tables.",
    ),
    output_format: str | None = typer.Option(
        None,
        "--output",
        "-o",
        envvar="PCLI_OUTPUT",
        metavar="text|json",
        help="Output of every command: text (default) or json (as --json).",
    ),
    color: str | None = typer.Option(
        None,
        "--color",
        envvar="PCLI_COLOR",
        metavar="auto|always|never",
        help="Colour: auto (a terminal without NO_COLOR), always or never.",
    ),
    registry: Path | None = typer.Option(
        None,
        "--registry",
        envvar="PCLI_REGISTRY",
        help="Blueprint registry directory (default: pcli's user data directory).",
    ),
    no_input: bool = typer.Option(
        False,
        "--no-input",
        envvar="PCLI_NO_INPUT",
        help="Never prompt; fail when input is missing.",
    ),
    workspace: Path | None = typer.Option(
        None,
        "--workspace",
        "-w",
        envvar="PCLI_WORKSPACE",
        help="Workspace folder (default: the nearest pcli.yaml from the current directory up).",
    ),
    sandbox: bool = typer.Option(
        False,
        "--sandbox",
        envvar="PCLI_SANDBOX",
        help="Send every AWS call to the local sandbox (start it: pcli sandbox start).",
    ),
    region: str | None = typer.Option(
        None,
        "--region",
        envvar="PCLI_REGION",
        help="AWS region (default: the spec's, then the workspace's).",
    ),
    profile: str | None = typer.Option(
        None,
        "--profile",
        envvar="AWS_PROFILE",
        help="AWS profile (SSO and role_arn profiles work).",
    ),
) -> None:
    ctx.obj = AppState(
        debug=debug or env_flag("PCLI_DEBUG"),
        quiet=quiet,
        output=output_format,
        color=color,
        registry=registry,
        no_input=no_input or env_flag("PCLI_NO_INPUT"),
        workspace=workspace,
        sandbox=sandbox,
        region=region,
        profile=profile,
    )


def run(argv: list[str] | None = None) -> int:
    """Run the app as a script would; return the exit code instead of exiting."""
    command = typer.main.get_command(app)
    try:
        command.main(args=argv, prog_name="pcli", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
