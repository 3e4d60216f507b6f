"""What every deploying command shares: the project, confirmation, the progress view, results."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from protoncli.cli import output
from protoncli.cli.state import app_state, interactive
from protoncli.errors import DeployError, ExitCode, PcliError, UsageError

if TYPE_CHECKING:
    from protoncli.cli.progress import ProgressView
    from protoncli.deploy.model import Change, DeployHooks, DeployResult, StackInfo
    from protoncli.deploy.project import CancelOutcome, Project, StackTarget

YES_OPTION = typer.Option(
    False, "--yes", "-y", help="Deploy without asking (required when not in a terminal)."
)
JSON_OPTION = typer.Option(
    False, "--json", help="NDJSON events on stdout: a version line, events, a result line."
)
CANCEL_OPTION = typer.Option(
    False,
    "--cancel",
    help="Cancel the update in progress (CloudFormation rolls it back), then watch it; "
    "asks first, or needs --yes when not in a terminal.",
)
NO_INPUT_OPTION = typer.Option(
    False,
    "--no-input",
    help="Never ask; fail listing whatever is missing (as the root --no-input, PCLI_NO_INPUT).",
)
REVERT_DRIFT_OPTION = typer.Option(
    False,
    "--revert-drift",
    help="Make a drift-aware change set: resources changed outside CloudFormation are put back "
    "to the template too (shown in the change set first).",
)
# History and rollback (cli/commands/history.py), shared by `env` and `svc`: the options live
# here so that loading one command group loads no other command module.
TO_OPTION = typer.Option(
    None,
    "--to",
    metavar="ID",
    help="The deployment to roll back to: its id or a prefix of it (default: the last "
    "successful one before the current one).",
)
HISTORY_REGION_OPTION = typer.Option(
    None, "--region", help="Region of the stack (default: from the spec, else the workspace's)."
)
HISTORY_JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")
NAME_METAVAR = "NAME"
CANNOT_ASK = "pcli cannot ask here (stdin is not a terminal, CI is set, or --no-input was given)"

T = TypeVar("T")


@dataclass(frozen=True)
class Callbacks:
    """What a deploying action is given: the deployment's hooks (where events go, how it asks),
    and how it tells."""

    hooks: DeployHooks
    note: Callable[[str], None]
    paused: Callable[[], AbstractContextManager[None]]  # hold the view while asking


Action = Callable[[Callbacks], Sequence["DeployResult"]]


def deployment_mode(revert_drift: bool, *, cancel: bool = False) -> str | None:
    """The change sets' DeploymentMode for `--revert-drift` (None without it)."""
    from protoncli.deploy.drift import REVERT_DRIFT

    if revert_drift and cancel:
        raise UsageError("--revert-drift and --cancel cannot be used together")
    return REVERT_DRIFT if revert_drift else None


def open_project(ctx: typer.Context) -> Project:
    """Workspace, registry and AWS settings, from the settings every command resolves
    (flags > PCLI_* variables > pcli.yaml > user config > defaults)."""
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.starters import open_registry
    from protoncli.deploy.project import AwsSettings, Project
    from protoncli.workspace.model import find_workspace

    state = app_state(ctx)
    workspace = find_workspace(explicit=state.workspace)
    endpoint = None
    if state.sandbox:
        from protoncli.sandbox.manager import require_running

        endpoint = require_running()
    aws = AwsSettings(region=state.region, profile=state.profile, endpoint_url=endpoint)
    connect, read = state.timeouts
    sessions = SessionFactory(connect_timeout=connect, read_timeout=read, on_slow=output.note)
    return Project(workspace, open_registry(state.registry), sessions, aws)


def ask_yes_no(question: str) -> bool:
    """A yes/no question on stderr; Ctrl-C (or Ctrl-D) is an interruption (exit 130)."""
    try:
        return bool(typer.confirm(question, default=False, err=True))
    except typer.Abort:  # click turns Ctrl-C and end of input into Abort, which would exit 1
        raise KeyboardInterrupt from None


class _Refusal:
    """Declines every change set where pcli cannot ask, and remembers that it did.

    Declining (rather than raising) lets the engine drop the change set it made, and the empty
    stack of a first creation, before the command ends with the exit-2 error of `error()`.
    """

    def __init__(self, rerun: str) -> None:
        self.rerun = rerun
        self.used = False

    def __call__(self, _changes: tuple[Change, ...]) -> bool:
        self.used = True
        return False

    def error(self) -> UsageError:
        where = "without --quiet" if output.quiet() else "above"
        return UsageError(
            f"the change set needs confirmation and {CANNOT_ASK}; nothing was deployed",
            hint=f"review the changes {where}, then run: {self.rerun}",
        )


def confirmer(ctx: typer.Context, yes: bool, rerun: str) -> Callable[[tuple[Change, ...]], bool]:
    """Confirmation of a change set: --yes, a question in a terminal, or a `_Refusal` (which
    `run_deploy` turns into an exit-2 error naming `rerun`, the command that deploys it)."""
    if yes:
        return lambda _changes: True
    if not interactive(ctx):
        return _Refusal(rerun)

    def ask(changes: tuple[Change, ...]) -> bool:
        if output.quiet():  # the progress view showed nothing: one cannot confirm unseen changes
            from protoncli.cli.progress import change_set_table

            change_set_table(changes)
        return ask_yes_no("Deploy these changes?")

    return ask


def recreate_confirmer(ctx: typer.Context, yes: bool) -> Callable[[StackInfo], bool]:
    """A stack left in ROLLBACK_COMPLETE by a failed create is deleted and recreated if allowed."""
    if yes:
        return lambda _info: True
    if not interactive(ctx):
        return lambda _info: False
    return lambda info: ask_yes_no(
        f"Stack {info.name} is {info.status} after a failed create. Delete and create it again?"
    )


def cancel_confirmer(ctx: typer.Context, yes: bool, rerun: str) -> Callable[[StackTarget], bool]:
    """Confirmation of cancelling an update: --yes, a question in a terminal, or exit 2."""
    if yes:
        return lambda _target: True
    if not interactive(ctx):

        def refuse(target: StackTarget) -> bool:
            raise UsageError(
                f"cancelling the update of {target.description} ({target.stack_name}) needs "
                f"confirmation and {CANNOT_ASK}",
                hint=f"rerun with --yes: {rerun}",
            )

        return refuse
    return lambda target: ask_yes_no(
        f"Cancel the update of {target.description} ({target.stack_name})? CloudFormation "
        "rolls it back to its previous state."
    )


def _summary(result: DeployResult) -> str:
    if result.status == "NO_CHANGES":
        return f"No changes: {result.description} is up to date."
    if result.status == "DELETE_COMPLETE" and not result.changed:
        return f"Nothing to delete: {result.description} has no stack ({result.stack_name})."
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


def in_progress_view(
    *,
    command: str,
    json_: bool,
    body: Callable[[ProgressView], Sequence[T]],
    record: Callable[[T], dict[str, Any]],
    summary: Callable[[T], str],
) -> Sequence[T]:
    """Run `body` under a progress view; the NDJSON result line (`record` of each item) says how
    it ended, or in words a `summary` line per item; a failed deployment and Ctrl-C become their
    exit codes (other errors are reported by the app)."""
    from protoncli.cli.progress import make_view

    view: ProgressView = make_view(
        json_mode=json_, command=command, quiet=output.quiet(), color=output.color_mode()
    )
    try:
        with view:
            try:
                outcome = body(view)
            except DeployError as error:
                result = getattr(error, "result", None)
                view.result(False, int(error.exit_code), [_record(result)] if result else [])
                raise
            except KeyboardInterrupt:
                view.result(False, int(ExitCode.INTERRUPTED), [])
                raise
            view.result(True, 0, [record(item) for item in outcome])
    except KeyboardInterrupt:
        sys.stderr.write(
            "\nInterrupted. A deployment already started goes on in AWS; run the same command "
            "again to resume watching it.\n"
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    if not json_:
        for item in outcome:
            output.outcome(summary(item))
    return outcome


def run_deploy(
    ctx: typer.Context, *, command: str, json_: bool, yes: bool, action: Action, rerun: str
) -> Sequence[DeployResult]:
    """Run a deploying action under a progress view; map failures and Ctrl-C to exit codes.

    `rerun` is the command that deploys without asking, named when confirmation is needed
    and pcli cannot ask.
    """
    json_ = output.wants_json(ctx, json_)
    ask_changes = confirmer(ctx, yes, rerun)
    ask_recreate = recreate_confirmer(ctx, yes)

    def body(view: ProgressView) -> Sequence[DeployResult]:
        def confirm(changes: tuple[Change, ...]) -> bool:
            with view.paused():
                return ask_changes(changes)

        def recreate(info: StackInfo) -> bool:
            with view.paused():
                return ask_recreate(info)

        try:
            from protoncli.deploy.model import DeployHooks

            hooks = DeployHooks(view.on_event, confirm, recreate)
            return action(Callbacks(hooks, view.note, view.paused))
        except PcliError as error:
            refusal = ask_changes if isinstance(ask_changes, _Refusal) else None
            if refusal is not None and refusal.used and not isinstance(error, DeployError):
                raise refusal.error() from None
            raise

    return in_progress_view(
        command=command, json_=json_, body=body, record=_record, summary=_summary
    )


def _cancel_summary(outcome: CancelOutcome) -> str:
    from protoncli.deploy.project import NOT_DEPLOYED

    target = outcome.target
    if outcome.result is None:
        if outcome.found == NOT_DEPLOYED:
            return f"Nothing to cancel: {target.description} is not deployed ({target.stack_name})."
        return (
            f"Nothing to cancel: no update is in progress on {target.description} "
            f"({target.stack_name} is {outcome.found})."
        )
    status = outcome.result.status
    if status == "UPDATE_ROLLBACK_COMPLETE":
        return (
            f"Cancelled the update of {target.description}: it runs its previous version again "
            f"({status}, {target.stack_name})."
        )
    return (
        f"The update of {target.description} ended before it could be cancelled: {status} "
        f"({target.stack_name})."
    )


def _cancel_record(outcome: CancelOutcome) -> dict[str, Any]:
    return {
        "stack": outcome.target.stack_name,
        "description": outcome.target.description,
        "status": outcome.result.status if outcome.result else outcome.found,
        "cancelled": outcome.cancelled,
    }


def run_cancel(
    ctx: typer.Context,
    *,
    command: str,
    json_: bool,
    yes: bool,
    targets: Callable[[Project], list[StackTarget]],
    rerun: str,
) -> Sequence[CancelOutcome]:
    """`--cancel`: cancel the update in progress on the command's stacks, then watch it end."""
    from protoncli.deploy.project import cancel_updates

    json_ = output.wants_json(ctx, json_)
    project = open_project(ctx)
    ask = cancel_confirmer(ctx, yes, rerun)

    def body(view: ProgressView) -> list[CancelOutcome]:
        def confirm(target: StackTarget) -> bool:
            with view.paused():
                return ask(target)

        return cancel_updates(project, targets(project), confirm=confirm, on_event=view.on_event)

    return in_progress_view(
        command=command, json_=json_, body=body, record=_cancel_record, summary=_cancel_summary
    )


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
        raise UsageError(
            f"deleting {what} needs confirmation and {CANNOT_ASK}", hint="rerun with --yes"
        )
    if not ask_yes_no(f"Delete {what} and its AWS resources?"):
        output.note("Nothing was deleted.")
        raise typer.Exit(int(ExitCode.ERROR))


def run_delete(
    ctx: typer.Context,
    *,
    command: str,
    json_: bool,
    yes: bool,
    what: str,
    check: Callable[[], object],
    action: Action,
) -> Sequence[DeployResult]:
    """A deletion under a progress view: `check` (it exists, nothing depends on it), then the
    confirmation, then `action`; refusals come before any question."""

    def checked(callbacks: Callbacks) -> Sequence[DeployResult]:
        check()
        with callbacks.paused():
            confirm_delete(ctx, yes, what)
        return action(callbacks)

    return run_deploy(
        ctx, command=command, json_=json_, yes=True, action=checked, rerun=f"pcli {command} --yes"
    )
