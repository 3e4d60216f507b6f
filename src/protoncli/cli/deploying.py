"""What every deploying command shares: the project, confirmation, the progress view, results."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.state import app_state, interactive
from protoncli.errors import DeployError, ExitCode, UsageError

if TYPE_CHECKING:
    from protoncli.cli.progress import ProgressView
    from protoncli.deploy.model import Change, DeployEvent, DeployResult, StackInfo
    from protoncli.deploy.project import Project

YES_OPTION = typer.Option(
    False, "--yes", "-y", help="Deploy without asking (required when not in a terminal)."
)
JSON_OPTION = typer.Option(
    False, "--json", help="NDJSON events on stdout: a version line, events, a result line."
)

Action = Callable[
    [
        Callable[["DeployEvent"], None],
        Callable[[tuple["Change", ...]], bool],
        Callable[["StackInfo"], bool],
    ],
    Sequence["DeployResult"],
]


def open_project(ctx: typer.Context) -> Project:
    """Workspace, registry and AWS settings from flags, environment, workspace and config."""
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.registry import Registry
    from protoncli.config import registry_path
    from protoncli.deploy.project import AwsSettings, Project
    from protoncli.workspace.model import find_workspace

    state = app_state(ctx)
    workspace = find_workspace(explicit=state.workspace)
    flag_or_env = state.registry is not None or bool(os.environ.get("PCLI_REGISTRY"))
    configured = None if flag_or_env else workspace.registry_path()
    registry = Registry(configured or registry_path(state.registry))
    endpoint = None
    if state.sandbox:
        from protoncli.sandbox.manager import require_running

        endpoint = require_running()
    settings = AwsSettings(region=state.region, profile=state.profile, endpoint_url=endpoint)
    return Project(workspace, registry, SessionFactory(), settings)


def _ask(question: str) -> bool:
    return bool(typer.confirm(question, default=False, err=True))


def confirmer(ctx: typer.Context, yes: bool) -> Callable[[tuple[Change, ...]], bool]:
    """Confirmation of a change set: --yes, a question in a terminal, or an exit-2 error."""
    if yes:
        return lambda _changes: True
    if not interactive(ctx):

        def refuse(_changes: tuple[Change, ...]) -> bool:
            raise UsageError(
                "the change set needs confirmation and pcli cannot ask here "
                "(stdin is not a terminal, CI is set, or --no-input was given)",
                hint="review the changes above and rerun with --yes",
            )

        return refuse
    return lambda _changes: _ask("Deploy these changes?")


def recreate_confirmer(ctx: typer.Context, yes: bool) -> Callable[[StackInfo], bool]:
    """A stack left in ROLLBACK_COMPLETE by a failed create is deleted and recreated if allowed."""
    if yes:
        return lambda _info: True
    if not interactive(ctx):
        return lambda _info: False
    return lambda info: _ask(
        f"Stack {info.name} is {info.status} after a failed create. Delete and create it again?"
    )


def _summary(result: DeployResult) -> str:
    if result.status == "NO_CHANGES":
        return f"No changes: {result.description} is up to date."
    if result.status == "DELETE_COMPLETE":
        return f"Deleted {result.description} ({result.stack_name})."
    return f"Deployed {result.description}: {result.status} ({result.stack_name})."


def _record(result: DeployResult) -> dict[str, Any]:
    return {
        "stack": result.stack_name,
        "description": result.description,
        "status": result.status,
        "changed": result.changed,
        "outputs": dict(result.outputs),
    }


def run_deploy(
    ctx: typer.Context, *, command: str, json_: bool, yes: bool, action: Action
) -> Sequence[DeployResult]:
    """Run a deploying action under a progress view; map failures and Ctrl-C to exit codes."""
    from protoncli.cli.progress import make_view

    view: ProgressView = make_view(json_mode=json_, command=command)
    ask_changes = confirmer(ctx, yes)
    ask_recreate = recreate_confirmer(ctx, yes)

    def confirm(changes: tuple[Change, ...]) -> bool:
        with view.paused():
            return ask_changes(changes)

    def recreate(info: StackInfo) -> bool:
        with view.paused():
            return ask_recreate(info)

    try:
        with view:
            try:
                results = action(view.on_event, confirm, recreate)
            except DeployError as error:
                result = getattr(error, "result", None)
                view.result(False, int(error.exit_code), [_record(result)] if result else [])
                raise
            except KeyboardInterrupt:
                view.result(False, int(ExitCode.INTERRUPTED), [])
                raise
            view.result(True, 0, [_record(r) for r in results])
    except KeyboardInterrupt:
        sys.stderr.write(
            "\nInterrupted. A deployment already started goes on in AWS; run the same command "
            "again to resume watching it.\n"
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    if not json_:
        for result in results:
            output.note(_summary(result))
    return results


def parse_params(values: Sequence[str], flag: str = "--param") -> dict[str, str]:
    """`KEY=VALUE` flags as a mapping; the value is converted later by the schema's type."""
    params: dict[str, str] = {}
    for item in values:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            raise UsageError(f"{flag} {item!r}: expected KEY=VALUE", hint=f"e.g. {flag} port=8080")
        params[key.strip()] = value
    return params


def read_spec_flag(path: Any, kind: str) -> Any:
    """The spec given with --spec, checked to be of the expected kind; warnings printed."""
    if path is None:
        return None
    from protoncli.specs.io import load_spec_with_warnings

    spec, warnings = load_spec_with_warnings(path)
    output.warn_all(warnings)
    expected = "EnvironmentSpec" if kind == "environment" else "ServiceSpec"
    if type(spec).__name__ != expected:
        raise UsageError(f"{path}: expected `proton: {expected}` for a {kind}")
    return spec


def confirm_delete(ctx: typer.Context, yes: bool, what: str) -> None:
    """Deleting asks first in a terminal and needs --yes elsewhere."""
    if yes:
        return
    if not interactive(ctx):
        raise UsageError(f"deleting {what} needs confirmation", hint="rerun with --yes")
    if not _ask(f"Delete {what} and its AWS resources?"):
        raise typer.Exit(int(ExitCode.ERROR))
