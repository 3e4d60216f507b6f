"""What the deploy engine takes and what it reports: requests, change sets, events, results.

The engine never prints: it calls an `on_event` callback with these events, and the CLI renders
them as a live view (terminal), plain lines (CI, pipes) or NDJSON (`--json`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from protoncli.provision.request import Provisioned

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


# A Terraform deployment by pull request: committed, waiting for the team's automation to apply
# it and say so (`pcli notify`).
PULL_REQUEST_PENDING = "PULL_REQUEST_PENDING"
# An environment managed elsewhere that a delete forgot, leaving what runs for it as it is.
FORGOTTEN = "FORGOTTEN"


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
    # The account the stack lives in, by its name in pcli.yaml's `accounts:` (its environment's
    # account); None: the account of the caller's own credentials.
    account: str | None = None
    # An item that is no stack (Terraform, CodeBuild): its rendered folder and how it is
    # provisioned (`provision/request.py`); `template_body` is then the folder's files as text.
    provisioned: Provisioned | None = None


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
    # How an item that is no stack is provisioned ("terraform", "terraform (pull request)",
    # "codebuild", "managed elsewhere": `provision/state.py`); None for a stack.
    provisioning: str | None = None


REPLACING = frozenset({"Always", "Conditionally"})  # RequiresRecreation values that replace


@dataclass(frozen=True)
class PropertyChange:
    """What changes in one attribute or property of a resource: one of CloudFormation's
    `ResourceChange.Details` (DescribeChangeSet with IncludePropertyValues). Values are text as
    CloudFormation gives them: `****` where it masks them (NoEcho), `****` too where they show
    a secret input's value (`deploy/explain.py`), None where it gives none (a change evaluated
    only when deployed, or an endpoint that gives no values)."""

    path: str | None  # /Properties/VisibilityTimeout
    attribute: str | None  # Properties | Metadata | Tags | DeletionPolicy | ...
    name: str | None  # the property's name (Properties only)
    change_type: str | None  # AttributeChangeType: Add | Remove | Modify | SyncWithActual
    before: str | None
    after: str | None
    requires_recreation: str | None  # Never | Conditionally | Always
    source: str | None = None  # ChangeSource: DirectModification, ParameterReference, ...
    causing_entity: str | None = None  # the parameter or resource (attribute) behind it
    evaluation: str | None = None  # Static (known now) | Dynamic (known only when deployed)

    @property
    def label(self) -> str:
        """What changes, for people: the property's path without `/Properties/`
        (`VisibilityTimeout`, `Tags/0/Value`), else its name or attribute."""
        path = (self.path or "").removeprefix("/Properties/").strip("/")
        return path or self.name or self.attribute or "?"

    @property
    def has_values(self) -> bool:
        return self.before is not None or self.after is not None

    @property
    def replaces(self) -> bool:
        return self.requires_recreation in REPLACING


@dataclass(frozen=True)
class Change:
    action: str  # Add | Modify | Remove | Import | Dynamic | SyncWithActual
    logical_id: str
    resource_type: str
    replacement: str | None  # True | False | Conditional | None (unknown)
    details: tuple[PropertyChange, ...] = ()  # what changes in it (updates), as described


@dataclass(frozen=True)
class InputChange:
    """One input of a stack, as last deployed (`before`) and now (`after`); None on the side
    where it is not set. A secret input's value is its reference, or `****`."""

    name: str
    before: Any = None
    after: Any = None


@dataclass(frozen=True)
class InputChanges:
    """The inputs of an update, as last deployed (the stack's deployment record) against the
    spec's now. `known` is False when the inputs as last deployed cannot be told (no record:
    a stack deployed before pcli kept records, or by Proton); `reason` then says why."""

    known: bool
    changed: tuple[InputChange, ...] = ()
    added: tuple[InputChange, ...] = ()
    removed: tuple[InputChange, ...] = ()
    reason: str | None = None

    @property
    def none_changed(self) -> bool:
        return not (self.changed or self.added or self.removed)


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
    "changes" (change set ready: `changes`, and `inputs` for an update whose change set is
    reviewed), "no-changes", "resource" (`event`), "waiting"
    (another operation is in progress on the stack), "done" (`status`), "failed" (`status`,
    `failures`), "deleted", "warning" (`message`: something in the spec or the blueprint worth
    fixing, found while preparing the deployment; nothing stops), "log" (`message`: a line a
    provisioning program printed: a CodeBuild bundle's commands).
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
        "log",
    ]
    stack_name: str
    description: str
    changes: tuple[Change, ...] = ()
    event: StackEvent | None = None
    status: str | None = None
    failures: tuple[StackEvent, ...] = ()
    message: str | None = None
    inputs: InputChanges | None = None  # "changes": the inputs changed (None: not told)


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
        return self.status in {"NO_CHANGES", PULL_REQUEST_PENDING, FORGOTTEN} or (
            self.status in TERMINAL_OK
        )


OnEvent = Callable[[DeployEvent], None]
# Says more about a change set before it is shown: (the stack as it stands for an update,
# None for a creation; the changes) -> (the changes with their values masked where they show
# a secret, the inputs changed since the last deployment or None).
Explain = Callable[
    [StackInfo | None, tuple[Change, ...]], tuple[tuple[Change, ...], InputChanges | None]
]


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
    # Whether each change set is reviewed before it runs: asked about in a terminal, or refused
    # for review where pcli cannot ask (no --yes). Only then does an update's change set say
    # which inputs changed since the stack's last deployment (its deployment record is read for
    # that): a deploy with --yes makes no call for it.
    review: bool = False
    # Set for each deployment by `records.recorded_deploy` (`deploy/explain.py`); None: the
    # change set is shown as CloudFormation describes it.
    explain: Explain | None = None

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
