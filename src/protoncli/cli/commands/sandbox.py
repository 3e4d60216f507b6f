"""`pcli sandbox ...`: start, stop and check the local AWS endpoint (a moto server)."""

from __future__ import annotations

from typing import Any

import typer

from protoncli.aws.target import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from protoncli.cli import output
from protoncli.sandbox import manager
from protoncli.sandbox.manager import SandboxState

app = typer.Typer(
    help=(
        "Run a local AWS endpoint (a moto server on 127.0.0.1) in the background. Commands given"
        " --sandbox (or PCLI_SANDBOX=1) deploy to it, with no AWS account."
    ),
    no_args_is_help=True,
    epilog="Examples:\n\n  pcli sandbox start\n\n  pcli sandbox status\n\n  pcli sandbox stop",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)

JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _environment(url: str) -> dict[str, str]:
    """The variables that point the AWS CLI, boto3 and the AWS SDKs at the sandbox."""
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": SANDBOX_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET_KEY,
    }


def _state_json(state: SandboxState) -> dict[str, Any]:
    return {
        "running": state.running,
        "url": state.url,
        "pid": state.pid,
        "port": state.port,
        "started_at": state.started_at,
        "problem": state.problem,
        "state_file": str(state.state_file),
        "log_file": None if state.log_file is None else str(state.log_file),
        "environment": _environment(state.url) if state.running and state.url else None,
    }


def _print_usage(url: str) -> None:
    output.line("Point the AWS CLI or boto3 at it:")
    exports = " ".join(f"{key}={value}" for key, value in _environment(url).items())
    output.line(f"  export {exports}")
    output.line("pcli commands use it with --sandbox (or PCLI_SANDBOX=1).")


@app.command()
def start(
    ctx: typer.Context,
    json_: bool = JSON_OPTION,
    timeout: float = typer.Option(
        30.0, "--timeout", min=1.0, help="Seconds to wait for the sandbox to answer."
    ),
) -> None:
    """Start the sandbox in the background, or show the one already running.

    Example:

      pcli sandbox start --timeout 60
    """
    before = manager.status()
    state = manager.start(timeout=timeout)
    already = before.running and before.pid == state.pid
    if output.wants_json(ctx, json_):
        output.print_json({**_state_json(state), "already_running": already})
        return
    verb = "is already running" if already else "started"
    output.line(f"Sandbox {verb} at {state.url} (pid {state.pid}).")
    _print_usage(state.url or "")
    output.line("Stop it: pcli sandbox stop")


@app.command()
def stop(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Stop the sandbox that `pcli sandbox start` started (only that process).

    Example:

      pcli sandbox stop --json
    """
    state = manager.stop()
    stopped = state.pid is not None and state.problem is None
    if output.wants_json(ctx, json_):
        output.print_json({**_state_json(state), "stopped": stopped})
        return
    if stopped:
        output.line(f"Sandbox stopped (pid {state.pid}, {state.url}).")
    elif state.problem is not None:
        output.line(f"The sandbox was not running: {state.problem}; its state file is removed.")
    else:
        output.line("The sandbox is not running.")


@app.command()
def status(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Show whether the sandbox runs, its endpoint URL and how to use it.

    Exits 0 when it runs and answers, 1 when it is not running or died.

    Example:

      pcli sandbox status --json
    """
    state = manager.status()
    if output.wants_json(ctx, json_):
        output.print_json(_state_json(state))
    elif state.running and state.url is not None:
        output.line(f"Sandbox running at {state.url}")
        output.key_values(
            [
                ("  pid", state.pid),
                ("  started", state.started_at),
                ("  log", state.log_file),
            ]
        )
        _print_usage(state.url)
    elif state.problem is not None:
        output.line(f"The sandbox died: {state.problem}.")
        output.line("Start it again: pcli sandbox start")
    else:
        output.line("The sandbox is not running. Start it: pcli sandbox start")
    if not state.running:
        raise typer.Exit(1)
