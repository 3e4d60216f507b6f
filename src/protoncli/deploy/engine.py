"""The deploy engine: bring one stack to a template through a change set, safely.

Every deployment creates a change set, shows it (`on_event("changes")`, as `hooks.explain` says
it: values masked where they would show a secret, an update's inputs changed when it is reviewed)
and asks `confirm` before anything changes; an empty change set is success. While CloudFormation
works, the stack's events are followed from the moment of execution (paginated, de-duplicated by
event id) and reported one by one, until the stack reaches a terminal status, which the region's
shared poll of stacks in progress notices within about a second, however many stacks are in
flight (`polling`). The engine never races another operation on the same stack: it waits for it
first. A change set that another run keeps in review is not an operation (it may wait for a
person for good, or be left by a run that was killed): whichever run executes first deploys, and
the other's change set, which CloudFormation then drops, ends that run with a clear error saying
nothing was changed by it. Interrupting a wait (KeyboardInterrupt) leaves the operation running
in AWS; `watch()` picks it up again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from protoncli.deploy.model import (
    TERMINAL_FAILED,
    Change,
    DeployEvent,
    DeployHooks,
    DeployResult,
    InputChanges,
    OnEvent,
    StackEvent,
    StackInfo,
    StackRequest,
    is_in_progress,
)
from protoncli.deploy.polling import EventLog, Follower, StackPoll
from protoncli.errors import (
    AwsError,
    ChangeSetGoneError,
    DeployError,
    ExitCode,
    NotFoundError,
    PcliError,
)

if TYPE_CHECKING:
    from protoncli.aws.cloudformation import CloudFormationGateway
    from protoncli.aws.s3 import ArtifactStore, LazyArtifactStore

TEMPLATE_BODY_LIMIT = 51_200
NO_CHANGES = "NO_CHANGES"
# While a stack runs, its events are read this long after the first look, then ever less often.
FIRST_EVENTS_DELAY = 1.0
MAX_EVENTS_DELAY = 5.0
REVIEW = "REVIEW_IN_PROGRESS"
# States a stack cannot be deployed from: only deleting it (or continuing a rollback) helps.
STUCK_HINTS = {
    "ROLLBACK_FAILED": "delete the stack (resources it could not roll back are kept), then deploy",
    "DELETE_FAILED": "delete the stack again, after removing what blocked the deletion",
    "UPDATE_ROLLBACK_FAILED": "continue the rollback (`aws cloudformation "
    "continue-update-rollback`), then deploy again",
    "IMPORT_ROLLBACK_FAILED": "continue the rollback or delete the stack, then deploy again",
}
FAILED_HINTS = {
    "ROLLBACK_COMPLETE": "the stack could not be created and was rolled back; fix the cause, then "
    "deploy again (the failed stack is replaced after confirmation)",
    "UPDATE_ROLLBACK_COMPLETE": "the update was rolled back, the stack runs its previous version; "
    "fix the cause and deploy again",
    "DELETE_FAILED": "some resources could not be deleted; remove what blocks them, then delete "
    "again",
}

DELETING = "DELETING"  # the `status` of the start event of a deletion


def utc_now() -> datetime:
    return datetime.now(UTC)


class StackFailedError(DeployError):
    """A stack that ended in a failed state; `.result` holds what the deployment reported."""

    def __init__(
        self, message: str, result: DeployResult, *, hint: str | None, details: list[str]
    ) -> None:
        super().__init__(message, hint=hint, details=details)
        self.result = result


class Deployer:
    """Deploys, deletes and watches stacks of one account and region."""

    def __init__(
        self,
        cloudformation: CloudFormationGateway,
        artifacts: ArtifactStore | LazyArtifactStore | None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utc_now,
        max_wait_seconds: float = 3 * 3600,
        known: Callable[[str], StackInfo | Unknown | None] | None = None,
        poll: StackPoll | None = None,
    ) -> None:
        """`poll`: the region's shared poll of stacks in progress (the project's); without one,
        the deployer makes its own, which waits with `sleep` and tells time by `clock`."""
        self._cf = cloudformation
        self._artifacts = artifacts
        self._clock = clock
        self._max_wait = max_wait_seconds
        self._known = known
        self._poll = poll or StackPoll(
            cloudformation, sleep=sleep, clock=lambda: clock().timestamp()
        )

    def deploy(self, request: StackRequest, hooks: DeployHooks) -> DeployResult:
        """Create or update the stack through a change set; the result, or StackFailedError."""
        name, description = request.stack_name, request.description
        on_event = hooks.on_event
        on_event(DeployEvent("start", name, description))
        hint = self._known(name) if self._known is not None else UNKNOWN
        settled = not isinstance(hint, Unknown) and (hint is None or not _running(hint.status))
        try:
            info, change_set_type, change_set_id = self._change_set(
                request, hooks, hint if settled else UNKNOWN
            )
        except AwsError:
            if not settled:
                raise
            # What the bulk read said is no longer so (another run moved the stack meanwhile):
            # look at the stack as it is now, as every deploy without that read does.
            info, change_set_type, change_set_id = self._change_set(request, hooks, UNKNOWN)
        approved = False
        try:
            status, reason, changes = self._cf.wait_change_set(change_set_id)
            if status == "CREATE_COMPLETE":
                update = info if change_set_type == "UPDATE" else None
                changes, inputs = _explained(hooks, update, changes)
                on_event(DeployEvent("changes", name, description, changes=changes, inputs=inputs))
                approved = hooks.confirm(changes)
        except ChangeSetGoneError as gone:  # nothing of this run is left to clean up
            raise _overtaken(name, description, gone) from None
        except BaseException:  # nothing runs yet: leave no change set (or empty stack) behind
            with suppress(PcliError):
                self._abandon(change_set_id, name, change_set_type)
            raise
        if status == NO_CHANGES:
            self._cf.delete_change_set(change_set_id)
            if info is not None and _stale_tags(info, request):
                info = self._retag(info, request, on_event)
            on_event(DeployEvent("no-changes", name, description))  # the status says it all
            outputs = info.outputs if info is not None else {}
            return DeployResult(name, description, NO_CHANGES, changed=False, outputs=outputs)
        if status != "CREATE_COMPLETE":
            self._abandon(change_set_id, name, change_set_type)
            raise self._change_set_failed(name, description, status, reason)
        if not approved:
            self._abandon(change_set_id, name, change_set_type)
            raise PcliError(
                f"stack {name} ({description}) not deployed: declined",
                hint="nothing was changed in AWS",
            )
        stack_id = info.stack_id if info is not None and info.status != REVIEW else None
        stack_id = stack_id or self._cf.stack_id_for(change_set_id) or self._stack_id(name)
        since = self._clock()
        try:
            self._cf.execute_change_set(change_set_id)
        except ChangeSetGoneError as gone:
            with suppress(PcliError):  # an obsolete change set is still there: drop it
                self._cf.delete_change_set(change_set_id)
            raise _overtaken(name, description, gone) from None
        final, events = self._follow(stack_id, name, description, since, on_event)
        return self._finish(final, events, name, description, on_event, changed=True)

    def delete(self, stack_name: str, description: str, *, on_event: OnEvent) -> DeployResult:
        """Delete the stack and wait until it is gone; a missing stack is already deleted."""
        on_event(DeployEvent("start", stack_name, description, status=DELETING))
        info = self._wait_for_other_operation(stack_name, description, on_event)
        if info is None:
            on_event(
                DeployEvent("deleted", stack_name, description, message="the stack does not exist")
            )
            return DeployResult(stack_name, description, "DELETE_COMPLETE", changed=False)
        return self._delete_and_wait(info, description, on_event)

    def watch(self, stack_name: str, description: str, *, on_event: OnEvent) -> DeployResult:
        """Follow the stack's current (or last) operation to its end and report it."""
        info = self._cf.describe(stack_name)
        if info is None:
            raise NotFoundError(f"stack {stack_name} ({description}) does not exist")
        running = _running(info.status)
        if running:
            on_event(_waiting(info, description))
        final, events = self._follow(
            info.stack_id, stack_name, description, self._operation_start(info), on_event
        )
        return self._finish(final, events, stack_name, description, on_event, changed=running)

    def cancel(self, stack_name: str) -> None:
        """Ask CloudFormation to cancel the update in progress (it then rolls back)."""
        self._cf.cancel_update(stack_name)

    def _change_set(
        self, request: StackRequest, hooks: DeployHooks, known: StackInfo | Unknown | None
    ) -> tuple[StackInfo | None, str, str]:
        """The stack as it stands (read now, unless `known` from a bulk read moments ago), the
        change set's type, and the change set made for the request."""
        name, description, on_event = request.stack_name, request.description, hooks.on_event
        if isinstance(known, Unknown):
            info = self._wait_for_other_operation(name, description, on_event)
        else:
            info = known
        info = self._clear_failed_create(info, description, on_event, hooks.recreate)
        change_set_type = "CREATE" if info is None or info.status == REVIEW else "UPDATE"
        change_set_id = self._cf.create_change_set(
            request, change_set_type=change_set_type, template_url=self.template_url(request)
        )
        return info, change_set_type, change_set_id

    def _retag(self, info: StackInfo, request: StackRequest, on_event: OnEvent) -> StackInfo:
        """Bring the stack's pcli:* tags to the request's when its template does not change
        (a new version with the same template, outputs it renders with that changed without
        changing it): the state model reads what a stack was deployed from in those tags.
        The stack as it is afterwards (its outputs are what follows renders with)."""
        since = self._clock()
        self._cf.update_tags(request)
        final, events = self._follow(
            info.stack_id,
            request.stack_name,
            request.description,
            since,
            lambda _event: None,
            progress=False,
        )
        if final is None or final.status in TERMINAL_FAILED:
            self._finish(
                final, events, request.stack_name, request.description, on_event, changed=True
            )
        return final if final is not None else info

    def _wait_for_other_operation(
        self, name: str, description: str, on_event: OnEvent
    ) -> StackInfo | None:
        """The stack as it stands once no other operation runs on it (None: it does not exist)."""
        info = self._cf.describe(name)
        if info is None or not _running(info.status):
            return info
        on_event(_waiting(info, description))
        self._follow(info.stack_id, name, description, self._operation_start(info), on_event)
        return self._cf.describe(name)

    def _clear_failed_create(
        self,
        info: StackInfo | None,
        description: str,
        on_event: OnEvent,
        recreate: Callable[[StackInfo], bool],
    ) -> StackInfo | None:
        """Refuse stacks that cannot be deployed; replace a failed first creation if allowed."""
        if info is None:
            return None
        if info.status in STUCK_HINTS:
            raise PcliError(
                f"stack {info.name} ({description}) is in {info.status} and cannot be deployed",
                hint=STUCK_HINTS[info.status],
            )
        if info.status != "ROLLBACK_COMPLETE":
            return info
        if not recreate(info):
            raise PcliError(
                f"stack {info.name} ({description}) is in ROLLBACK_COMPLETE: its creation failed "
                "and it cannot be updated",
                hint="run the command again and confirm replacing the failed stack, or delete it",
            )
        self._delete_and_wait(info, description, on_event)
        return None

    def _delete_and_wait(
        self, info: StackInfo, description: str, on_event: OnEvent
    ) -> DeployResult:
        since = self._clock()
        self._cf.delete_stack(info.stack_id)
        final, events = self._follow(info.stack_id, info.name, description, since, on_event)
        return self._finish(final, events, info.name, description, on_event, changed=True)

    def _follow(
        self,
        stack_id: str,
        name: str,
        description: str,
        since: datetime,
        on_event: OnEvent,
        *,
        progress: bool = True,
    ) -> tuple[StackInfo | None, list[StackEvent]]:
        """Follow the stack until no operation runs on it, reporting each new event once.

        The first look comes at once. A stack that has already ended well by then (a template
        with nothing slow in it, or the sandbox) has no progress to show: its events are not
        read. Otherwise its events are read at once and then ever less often (with `progress`),
        while the region's poll watches for the end; when the poll says it ended, the stack is
        read again, and its events a last time, so a view that shows progress misses none. A
        failure's events are always read: they name the resources that failed."""
        started = self._clock()
        log = EventLog(
            self._cf, stack_id, since=since, report=_reporter(name, description, on_event)
        )
        info = self._cf.describe(stack_id)
        running = info is not None and _running(info.status)
        if info is not None and running:
            if progress:
                log.read()
            with self._poll.follow(stack_id) as follower:
                info = self._await_end(follower, info, log, started, description, progress=progress)
        if (running and progress) or (info is not None and info.status in TERMINAL_FAILED):
            log.read()  # the last events, the end's included; a failure's always
        return info, log.collected

    def _await_end(
        self,
        follower: Follower,
        info: StackInfo,
        log: EventLog,
        started: datetime,
        description: str,
        *,
        progress: bool,
    ) -> StackInfo | None:
        """The stack once no operation runs on it: read when the poll no longer lists it (or
        at each step while the poll is off); meanwhile its events are read at growing steps."""
        delay = FIRST_EVENTS_DELAY
        due = follower.now() + delay
        while True:
            if follower.wait_until(due):
                latest = self._cf.describe(follower.stack_id)
                if latest is None or not _running(latest.status):
                    return latest
                info = latest  # the poll lagged behind: wait on
                follower.still_running()
            if follower.now() >= due:
                if progress:
                    log.read()
                delay = min(delay * 2, MAX_EVENTS_DELAY)
                due = follower.now() + delay
            waited = (self._clock() - started).total_seconds()
            if waited > self._max_wait:
                raise PcliError(
                    f"stack {info.name} ({description}) is still {info.status} after "
                    f"{int(waited // 60)} minutes",
                    hint="the operation goes on in AWS: run the same command again to keep "
                    "watching it",
                )

    def _finish(
        self,
        info: StackInfo | None,
        events: list[StackEvent],
        name: str,
        description: str,
        on_event: OnEvent,
        *,
        changed: bool,
    ) -> DeployResult:
        """The result of an operation that ended; StackFailedError when it failed."""
        status = info.status if info is not None else "DELETE_COMPLETE"
        outputs = info.outputs if info is not None else {}
        if status not in TERMINAL_FAILED:
            if status == "DELETE_COMPLETE":
                on_event(DeployEvent("deleted", name, description, status=status))
            else:
                on_event(DeployEvent("done", name, description, status=status))
            return DeployResult(name, description, status, changed=changed, outputs=outputs)
        failures = tuple(event for event in events if _is_resource_failure(event, name))
        on_event(DeployEvent("failed", name, description, status=status, failures=failures))
        result = DeployResult(name, description, status, changed, outputs, failures)
        details = [f"{e.logical_id} ({e.resource_type}): {e.reason}" for e in failures]
        if not details and info is not None and info.status_reason:
            details = [info.status_reason]
        raise StackFailedError(
            f"stack {name} ({description}): {status}",
            result,
            hint=FAILED_HINTS.get(status),
            details=details,
        )

    def template_url(self, request: StackRequest) -> str | None:
        """None for a template CloudFormation takes inline; else where it was uploaded."""
        size = len(request.template_body.encode("utf-8"))
        if size <= TEMPLATE_BODY_LIMIT:
            return None
        if self._artifacts is None:
            raise PcliError(
                f"stack {request.stack_name} ({request.description}): the template is {size} "
                f"bytes, over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte limit for inline "
                "templates, and no artifact bucket is available",
                hint="deploy with an artifact bucket (S3) so the template can be uploaded",
            )
        return self._artifacts.upload_template(request.stack_name, request.template_body)

    def _stack_id(self, name: str) -> str:
        info = self._cf.describe(name)
        if info is None:
            raise PcliError(f"stack {name} disappeared while its change set was reviewed")
        return info.stack_id

    def _abandon(self, change_set_id: str, name: str, change_set_type: str) -> None:
        """Drop a change set that will not run (and the empty stack a first CREATE made, unless
        another run has since created the stack or put a change set of its own on it)."""
        self._cf.delete_change_set(change_set_id)
        if change_set_type != "CREATE":
            return
        info = self._cf.describe(name)
        if info is not None and info.status == REVIEW and not self._cf.open_change_sets(name):
            self._cf.delete_stack(info.stack_id)

    def _change_set_failed(
        self, name: str, description: str, status: str, reason: str | None
    ) -> StackFailedError:
        result = DeployResult(name, description, status, changed=False)
        return StackFailedError(
            f"stack {name} ({description}): the change set failed ({status})",
            result,
            hint="nothing was changed; fix the template or its inputs and deploy again",
            details=[reason] if reason else [],
        )

    def _operation_start(self, info: StackInfo) -> datetime:
        """When the stack's current (or last) operation began, as far as DescribeStacks says."""
        if info.status.startswith(("CREATE_", "ROLLBACK_")):
            return info.created or self._clock()
        if info.status.startswith(("UPDATE_", "IMPORT_")):
            return info.last_updated or info.created or self._clock()
        return self._clock()  # a deletion's start is not reported: follow it from now on


class Unknown:
    """What a deployer was not told about a stack (it reads the stack itself)."""


UNKNOWN = Unknown()


def _explained(
    hooks: DeployHooks, update: StackInfo | None, changes: tuple[Change, ...]
) -> tuple[tuple[Change, ...], InputChanges | None]:
    """The change set as it is shown: its values masked where they show a secret and, for an
    update (`update`: the stack as it stands) that is reviewed, the inputs changed since its
    last deployment (`deploy/explain.py`)."""
    if hooks.explain is None:
        return changes, None
    return hooks.explain(update, changes)


def _stale_tags(info: StackInfo, request: StackRequest) -> bool:
    """Whether the stack's pcli:* tags differ from the request's."""
    mine = {key: value for key, value in info.tags.items() if key.startswith("pcli:")}
    wanted = {key: value for key, value in request.tags.items() if key.startswith("pcli:")}
    return mine != wanted


class StackBusyError(DeployError):
    """Another operation on the stack came first (it runs, or it took this run's change set
    away): nothing was deployed by this run."""

    exit_code = ExitCode.ERROR


def _overtaken(name: str, description: str, gone: ChangeSetGoneError) -> StackBusyError:
    """The error of a run whose change set another operation took away."""
    what = (
        "no longer exists"
        if "NotFound" in gone.code
        else f"can no longer be executed ({gone.reason})"
    )
    return StackBusyError(
        f"stack {name} ({description}): this run's {gone.label} "
        f"{what}: another operation (another pcli run, most likely) deployed or deleted the "
        "stack meanwhile; nothing was changed by this run",
        hint="look at the stack now (pcli status), then deploy again if it still needs it",
    )


def _running(status: str) -> bool:
    """True while an operation runs (a stack waiting for its first change set does not)."""
    return is_in_progress(status) and status != REVIEW


def _reporter(name: str, description: str, on_event: OnEvent) -> Callable[[StackEvent], None]:
    """What reports each event of the stack as a "resource" event."""

    def report(event: StackEvent) -> None:
        on_event(DeployEvent("resource", name, description, event=event))

    return report


def _waiting(info: StackInfo, description: str) -> DeployEvent:
    return DeployEvent(
        "waiting",
        info.name,
        description,
        status=info.status,
        message=f"another operation is in progress ({info.status}); waiting for it to end",
    )


def _is_resource_failure(event: StackEvent, stack_name: str) -> bool:
    stack_level = event.resource_type == "AWS::CloudFormation::Stack" and (
        event.logical_id == stack_name
    )
    return event.status.endswith("_FAILED") and bool(event.reason) and not stack_level
