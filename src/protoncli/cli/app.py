"""The root `pcli` command: global options and lazy command groups."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from protoncli import __version__
from protoncli.cli.completion_shells import use_pcli_shells
from protoncli.cli.lazy import LazyGroup
from protoncli.cli.state import AppState


# The root options' completers load the completion module only when a shell asks.
def _complete_output_modes(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    from protoncli.cli.completion import complete_output_modes

    return complete_output_modes(ctx, incomplete)


def _complete_color_modes(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    from protoncli.cli.completion import complete_color_modes

    return complete_color_modes(ctx, incomplete)


def _complete_aws_profiles(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    from protoncli.cli.completion import complete_aws_profiles

    return complete_aws_profiles(ctx, incomplete)


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
        "Examples:\n\n"
        "  pcli blueprint render vpc-ecs-env --name dev --output-dir out\n\n"
        "  pcli --sandbox env create dev --blueprint vpc-ecs-env --yes\n\n"
        "  pcli --output json status\n\n"
        "Docs: docs/ in the pcli repository; docs/reference/cli.md lists every command.\n\n"
        "Exit codes: 0 ok, 1 error, 2 usage, 3 deploy failed, 130 interrupted."
    ),
)


def _env_help(text: str, key: str) -> str:
    """An option's help naming its variable (pcli reads the variable itself, to check it)."""
    return f"{text} \\[env var: PCLI_{key.upper()}]"


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
        False, "--debug", "-v", help=_env_help("Show tracebacks and debug details.", "debug")
    ),
    quiet: bool = typer.Option(
        False,
        "--quiet",
        "-q",
        help=_env_help(
            "Print only results, warnings and errors: no progress, notes or change-set tables.",
            "quiet",
        ),
    ),
    output_format: str | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="text|json",
        autocompletion=_complete_output_modes,
        help=_env_help("Output of every command: text (default) or json (as --json).", "output"),
    ),
    color: str | None = typer.Option(
        None,
        "--color",
        metavar="auto|always|never",
        autocompletion=_complete_color_modes,
        help=_env_help("Colour: auto (a terminal without NO_COLOR), always or never.", "color"),
    ),
    registry: str | None = typer.Option(
        None,
        "--registry",
        metavar="FOLDER|URL",
        help=_env_help(
            "Blueprint registry: a folder, s3://BUCKET/PREFIX or a git URL (default: pcli.yaml's,"
            " else pcli's user data folder).",
            "registry",
        ),
    ),
    no_input: bool = typer.Option(
        False,
        "--no-input",
        help=_env_help("Never prompt; fail when input is missing.", "no_input"),
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
        help=_env_help(
            "Send every AWS call to the local sandbox (start it: pcli sandbox start).", "sandbox"
        ),
    ),
    region: str | None = typer.Option(
        None,
        "--region",
        help=_env_help(
            "AWS region for every stack, over the specs' (default: the spec's, then pcli.yaml's).",
            "region",
        ),
    ),
    connect_timeout: float | None = typer.Option(
        None,
        "--connect-timeout",
        metavar="SECONDS",
        help=_env_help(
            "Seconds to wait for a connection to AWS, per attempt (default 5).", "connect_timeout"
        ),
    ),
    read_timeout: float | None = typer.Option(
        None,
        "--read-timeout",
        metavar="SECONDS",
        help=_env_help(
            "Seconds to wait for an answer from AWS, per attempt (default 10).", "read_timeout"
        ),
    ),
    profile: str | None = typer.Option(
        None,
        "--profile",
        autocompletion=_complete_aws_profiles,
        help=_env_help(
            "AWS profile (SSO and role_arn profiles work; default: AWS_PROFILE, AWS's rules).",
            "profile",
        ),
    ),
) -> None:
    values = {
        "debug": debug,
        "quiet": quiet,
        "output": output_format,
        "color": color,
        "registry": registry,
        "no_input": no_input,
        "sandbox": sandbox,
        "region": region,
        "profile": profile,
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
    }
    given = {key: value for key, value in values.items() if _typed(ctx, _PARAMETERS.get(key, key))}
    state = AppState(given, workspace=workspace if _typed(ctx, "workspace") else None)
    ctx.obj = state
    if ctx.invoked_subcommand != "config":  # `pcli config` must be able to mend a bad setting
        _ = state.settings  # resolve now, so a bad value fails before the command starts


_PARAMETERS = {"output": "output_format"}  # setting key -> parameter name, where they differ


def _typed(ctx: typer.Context, parameter: str) -> bool:
    """Whether the user gave the option on the command line (not a default)."""
    source = ctx.get_parameter_source(parameter)
    return source is not None and source.name == "COMMANDLINE"


def run(argv: list[str] | None = None) -> int:
    """Run the app as a script would; return the exit code instead of exiting."""
    command = typer.main.get_command(app)
    use_pcli_shells()  # after get_command: building the root command registers Typer's
    try:
        command.main(args=argv, prog_name="pcli", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
