"""What every deploying command shares: the project, confirmation, the progress view, results."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from protoncli.cli import output
from protoncli.cli.completion import complete_rule_names
from protoncli.cli.state import app_state, interactive
from protoncli.errors import DeployError, ExitCode, PcliError, UsageError

if TYPE_CHECKING:
    from protoncli.aws.session import SessionFactory
    from protoncli.cli.progress import ProgressView
    from protoncli.deploy.model import Change, DeployHooks, DeployResult, StackInfo
    from protoncli.deploy.project import AwsSettings, CancelOutcome, Project, StackTarget

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
PROVISIONING_OPTION = typer.Option(
    None,
    "--provisioning",
    metavar="local|pull-request",
    help="How Terraform items are provisioned: local (pcli runs Terraform) or pull-request "
    "(committed to pcli.yaml's provisioning_repository); default: pcli.yaml's provisioning.",
)
OVERRIDE_RULE_OPTION = typer.Option(
    [],
    "--override-rule",
    metavar="RULE",
    autocompletion=complete_rule_names,
    help="Deploy although the template breaks this guardrail (an error rule of the blueprint "
    "or registry); repeatable; recorded with the deployment. See docs/reference/guardrails.md.",
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


def aws_access(ctx: typer.Context) -> tuple[AwsSettings, SessionFactory]:
    """How the command reaches AWS (region override, profile, the sandbox's endpoint when
    --sandbox) and the sessions it makes, with the timeouts of the settings; for commands with
    a workspace (`open_project`) and without one (`pcli notify`)."""
    from protoncli.aws.session import SessionFactory
    from protoncli.deploy.project import AwsSettings

    state = app_state(ctx)
    endpoint = None
    if state.sandbox:
        from protoncli.sandbox.manager import require_running

        endpoint = require_running()
    aws = AwsSettings(region=state.region, profile=state.profile, endpoint_url=endpoint)
    connect, read = state.timeouts
    sessions = SessionFactory(connect_timeout=connect, read_timeout=read, on_slow=output.note)
    return aws, sessions


def open_project(
    ctx: typer.Context,
    *,
    provisioning: str | None = None,
    override_rules: Sequence[str] = (),
) -> Project:
    """Workspace, registry and AWS settings, from the settings every command resolves
    (flags > PCLI_* variables > pcli.yaml > user config > defaults); `override_rules`: the
    guardrails the command's `--override-rule` lets through (deploy/guardrails.py)."""
    from protoncli.deploy.project import Project
    from protoncli.workspace.model import find_workspace

    state = app_state(ctx)
    workspace = find_workspace(explicit=state.workspace)
    aws, sessions = aws_access(ctx)
    project = Project(workspace, state.open_registry(), sessions, aws)
    if provisioning is not None:
        from protoncli.provision.request import check_method

        project.provisioning = check_method(provisioning, "--provisioning")
    if override_rules:
        from protoncli.deploy.project import RuleOverrides

        project.overrides = RuleOverrides(frozenset(override_rules))
    return project


# Set by Ctrl-C (or SIGTERM) while a deploying command runs (`_signals_reach_questions`).
_INTERRUPTED = threading.Event()
# Set while `_signals_reach_questions` is in force: questions are asked in steps then.
_ASKING_IN_STEPS = threading.Event()
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def ask_yes_no(question: str) -> bool:
    """A yes/no question on stderr; Ctrl-C (or Ctrl-D) is an interruption (exit 130).

    While a deploying command runs (`_signals_reach_questions`), the answer is waited for in
    short steps on every thread (`_ask_in_steps`): a Ctrl-C that reached the main thread just
    before its read began, and whose KeyboardInterrupt did not end the question, still ends it
    through `_INTERRUPTED` instead of leaving the command waiting for Enter."""
    off_main = threading.current_thread() is not threading.main_thread()
    if (_ASKING_IN_STEPS.is_set() or off_main) and _waitable(sys.stdin):
        return _ask_in_steps(question)
    try:
        return bool(typer.confirm(question, default=False, err=True))
    except typer.Abort:  # click turns Ctrl-C and end of input into Abort, which would exit 1
        raise KeyboardInterrupt from None


def _waitable(stream: Any) -> bool:
    """`select` can wait on it: a file descriptor, on a system whose select takes one."""
    try:
        return os.name == "posix" and stream.fileno() >= 0
    except (AttributeError, ValueError, OSError):  # io.UnsupportedOperation is an OSError
        return False


def _ask_in_steps(question: str) -> bool:
    """`typer.confirm`'s question, its answer waited for in short steps. Only the main thread
    receives Ctrl-C: an answer read with `input()` on a worker thread (several stacks deploy
    side by side) would keep waiting after it, and the command with it, until Enter; here
    Ctrl-C received meanwhile (`_INTERRUPTED`) ends the question as on the main thread."""
    import select

    while True:
        if _INTERRUPTED.is_set():
            raise KeyboardInterrupt
        sys.stderr.write(f"{question} [y/N]: ")
        sys.stderr.flush()
        while not select.select([sys.stdin], [], [], 0.1)[0]:
            if _INTERRUPTED.is_set():
                raise KeyboardInterrupt
        line = sys.stdin.readline()
        if not line:  # end of input (Ctrl-D), an interruption as with click
            raise KeyboardInterrupt
        answer = line.strip().lower()
        if answer in {"y", "yes", "n", "no", ""}:
            return answer.startswith("y")
        sys.stderr.write("Error: invalid input\n")


@contextmanager
def _signals_reach_questions() -> Iterator[None]:
    """Ctrl-C and SIGTERM do what they did (a KeyboardInterrupt on the main thread), and also
    set `_INTERRUPTED`, which ends a question asked on another thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _INTERRUPTED.clear()
    previous = {int(signum): signal.getsignal(signum) for signum in _STOP_SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        chained = previous[signum]
        if chained == signal.SIG_IGN:
            return
        _INTERRUPTED.set()
        if callable(chained):
            chained(signum, frame)
        else:  # the default action, or a handler not installed from Python
            raise KeyboardInterrupt

    for signum in _STOP_SIGNALS:
        signal.signal(signum, handler)
    _ASKING_IN_STEPS.set()
    try:
        yield
    finally:
        _ASKING_IN_STEPS.clear()
        for signum in _STOP_SIGNALS:
            chained = previous[int(signum)]
            signal.signal(signum, signal.SIG_DFL if chained is None else chained)


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

    # The view shows the change set above the question, with --quiet too (QuietView).
    return lambda _changes: ask_yes_no("Deploy these changes?")


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
    from protoncli.deploy.model import FORGOTTEN, PULL_REQUEST_PENDING

    if result.status == "NO_CHANGES":
        return f"No changes: {result.description} is up to date."
    if result.status == "DELETE_COMPLETE" and not result.changed:
        return f"Nothing to delete: {result.description} has no stack ({result.stack_name})."
    if result.status == "DELETE_COMPLETE":
        return f"Deleted {result.description} ({result.stack_name})."
    if result.status == FORGOTTEN:
        return f"Forgot {result.description}: it is managed elsewhere and left as it runs."
    if result.status == PULL_REQUEST_PENDING:
        return (
            f"Committed {result.description} for a pull request: it waits for its automation "
            "and pcli notify."
        )
    return f"Deployed {result.description}: {result.status} ({result.stack_name})."


def _record(result: DeployResult) -> dict[str, Any]:
    return {
        "stack": result.stack_name,
        "description": result.description,
        "status": result.status,
        "changed": result.changed,
        "outputs": dict(result.outputs),
    }


@dataclass
class Interruption:
    """What Ctrl-C leaves behind, told in the line that ends the command: `begun()` is called
    once something was set going in AWS (a change set confirmed, a deletion or a cancellation
    asked for); until then nothing was done, and the line says so instead of claiming that a
    deployment goes on."""

    nothing: str = "Nothing was deployed."
    going_on: str = (
        "A deployment already started goes on in AWS.\n"
        "Run the same command again to resume watching it."
    )
    started: bool = False

    def begun(self) -> None:
        self.started = True

    def message(self) -> str:
        return f"Interrupted. {self.going_on if self.started else self.nothing}"


def in_progress_view(
    *,
    command: str,
    json_: bool,
    body: Callable[[ProgressView], Sequence[T]],
    record: Callable[[T], dict[str, Any]],
    summary: Callable[[T], str],
    asks: bool = False,
    interruption: Interruption | None = None,
) -> Sequence[T]:
    """Run `body` under a progress view; the NDJSON result line (`record` of each item) says how
    it ended, or in words a `summary` line per item; a failed deployment and Ctrl-C become their
    exit codes (other errors are reported by the app). `asks`: `body` may ask a question before
    anything is deployed (the live view waits for the answer); `interruption` says what Ctrl-C
    leaves behind."""
    from protoncli.cli.progress import make_view

    interruption = interruption if interruption is not None else Interruption(started=True)
    view: ProgressView = make_view(
        json_mode=json_,
        command=command,
        quiet=output.quiet(),
        color=output.color_mode(),
        asks=asks,
    )
    try:
        with _signals_reach_questions(), view:
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
        # The line of ^C (or of an interrupted question) is ended first.
        sys.stderr.write(f"\n{interruption.message()}\n")
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
    return _run_deploy(
        ctx,
        command=command,
        json_=json_,
        yes=yes,
        action=action,
        rerun=rerun,
        asks=not yes and interactive(ctx),
        interruption=Interruption(),
    )


def _run_deploy(
    ctx: typer.Context,
    *,
    command: str,
    json_: bool,
    yes: bool,
    action: Action,
    rerun: str,
    asks: bool,
    interruption: Interruption,
) -> Sequence[DeployResult]:
    json_ = output.wants_json(ctx, json_)
    ask_changes = confirmer(ctx, yes, rerun)
    ask_recreate = recreate_confirmer(ctx, yes)

    def body(view: ProgressView) -> Sequence[DeployResult]:
        # The view is held only while a question is asked: a --yes deploy of many stacks
        # never takes its drawing off the screen.
        held = view.paused if asks else nullcontext

        def confirm(changes: tuple[Change, ...]) -> bool:
            with held():
                approved = ask_changes(changes)
            if approved:  # the engine executes the change set now
                interruption.begun()
            return approved

        def recreate(info: StackInfo) -> bool:
            with held():
                approved = ask_recreate(info)
            if approved:  # the failed stack is deleted now
                interruption.begun()
            return approved

        try:
            from protoncli.deploy.model import DeployHooks

            # Without --yes every change set is reviewed (asked about, or shown and refused
            # where pcli cannot ask): an update's then says which inputs changed.
            hooks = DeployHooks(view.on_event, confirm, recreate, review=not yes)
            return action(Callbacks(hooks, view.note, view.paused))
        except PcliError as error:
            refusal = ask_changes if isinstance(ask_changes, _Refusal) else None
            if refusal is not None and refusal.used and not isinstance(error, DeployError):
                raise refusal.error() from None
            raise

    return in_progress_view(
        command=command,
        json_=json_,
        body=body,
        record=_record,
        summary=_summary,
        asks=asks,
        interruption=interruption,
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
    interruption = Interruption(
        nothing="Nothing was cancelled.",
        going_on="A cancellation already asked for goes on in AWS: the update rolls back.\n"
        "See where it is with: pcli status",
    )
    asks = not yes and interactive(ctx)

    def body(view: ProgressView) -> list[CancelOutcome]:
        held = view.paused if asks else nullcontext

        def confirm(target: StackTarget) -> bool:
            with held():
                approved = ask(target)
            if approved:  # the cancellation is asked for now
                interruption.begun()
            return approved

        return cancel_updates(project, targets(project), confirm=confirm, on_event=view.on_event)

    return in_progress_view(
        command=command,
        json_=json_,
        body=body,
        record=_cancel_record,
        summary=_cancel_summary,
        asks=asks,
        interruption=interruption,
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

    interruption = Interruption(
        nothing="Nothing was deleted.",
        going_on="A deletion already started goes on in AWS.\n"
        "Run the same command again to resume watching it.",
    )

    def checked(callbacks: Callbacks) -> Sequence[DeployResult]:
        check()
        with callbacks.paused():
            confirm_delete(ctx, yes, what)
        interruption.begun()
        return action(callbacks)

    return _run_deploy(
        ctx,
        command=command,
        json_=json_,
        yes=True,
        action=checked,
        rerun=f"pcli {command} --yes",
        asks=not yes and interactive(ctx),
        interruption=interruption,
    )
