"""What the deploy engine takes and what it reports: requests, change sets, events, results.

The engine never prints: it calls an `on_event` callback with these events, and the CLI renders
them as a live view (terminal), plain lines (CI, pipes) or NDJSON (`--json`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

TERMINAL_OK = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}
)
TERMINAL_FAILED = frozenset(
    {
        "CREATE_FAILED",
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "DELETE_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
        "UPDATE_ROLLBACK_FAILED",
        "UPDATE_FAILED",
        "IMPORT_ROLLBACK_COMPLETE",
        "IMPORT_ROLLBACK_FAILED",
    }
)


def is_in_progress(status: str) -> bool:
    return status.endswith("_IN_PROGRESS")


@dataclass(frozen=True)
class StackRequest:
    """One stack to bring to a template: what the engine needs, nothing more."""

    stack_name: str
    template_body: str
    tags: Mapping[str, str]
    description: str  # e.g. "environment dev", used in messages and events
    capabilities: tuple[str, ...] = (
        "CAPABILITY_IAM",
        "CAPABILITY_NAMED_IAM",
        "CAPABILITY_AUTO_EXPAND",
    )
    # CreateChangeSet's DeploymentMode for updates: "REVERT_DRIFT" makes a drift-aware change
    # set that also puts drifted resources back to the template. None: an ordinary change set.
    deployment_mode: str | None = None


@dataclass(frozen=True)
class StackInfo:
    name: str
    stack_id: str
    status: str
    status_reason: str | None
    tags: Mapping[str, str]
    outputs: Mapping[str, str]
    last_updated: datetime | None
    created: datetime | None
    # The last drift detection's verdict (DRIFTED, IN_SYNC, UNKNOWN), None when never checked.
    drift_status: str | None = None


@dataclass(frozen=True)
class Change:
    action: str  # Add | Modify | Remove | Import | Dynamic
    logical_id: str
    resource_type: str
    replacement: str | None  # True | False | Conditional | None (unknown)


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str | None
    physical_id: str | None = None


@dataclass(frozen=True)
class DeployEvent:
    """One thing worth telling the user while a stack deploys.

    kind: "start" (planning; `status` "DELETING" when the operation deletes the stack),
    "changes" (change set ready: `changes`), "no-changes", "resource" (`event`), "waiting"
    (another operation is in progress on the stack), "done" (`status`), "failed" (`status`,
    `failures`), "deleted", "warning" (`message`: something in the spec or the blueprint worth
    fixing, found while preparing the deployment; nothing stops).
    """

    kind: Literal[
        "start",
        "changes",
        "no-changes",
        "resource",
        "waiting",
        "done",
        "failed",
        "deleted",
        "warning",
    ]
    stack_name: str
    description: str
    changes: tuple[Change, ...] = ()
    event: StackEvent | None = None
    status: str | None = None
    failures: tuple[StackEvent, ...] = ()
    message: str | None = None


@dataclass(frozen=True)
class DeployResult:
    stack_name: str
    description: str
    status: str  # final stack status, or "NO_CHANGES"
    changed: bool
    outputs: Mapping[str, str] = field(default_factory=dict)
    failures: tuple[StackEvent, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "NO_CHANGES" or self.status in TERMINAL_OK


OnEvent = Callable[[DeployEvent], None]


def never_recreate(_info: StackInfo) -> bool:
    """The default answer to replacing a stack a failed creation left in ROLLBACK_COMPLETE."""
    return False


@dataclass(frozen=True)
class DeployHooks:
    """How a deployment talks to whoever runs it: where its events go, how a change set is
    confirmed, and whether a stack that a failed creation left in ROLLBACK_COMPLETE may be
    deleted and created again."""

    on_event: OnEvent
    confirm: Callable[[tuple[Change, ...]], bool]
    recreate: Callable[[StackInfo], bool] = never_recreate

    def one_at_a_time(self) -> DeployHooks:
        """The same hooks for deployments running side by side: one question at a time
        (a change set's confirmation or a recreation), never two interleaved."""
        lock = threading.Lock()

        def confirm(changes: tuple[Change, ...]) -> bool:
            with lock:
                return self.confirm(changes)

        def recreate(info: StackInfo) -> bool:
            with lock:
                return self.recreate(info)

        return replace(self, confirm=confirm, recreate=recreate)
