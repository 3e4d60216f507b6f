"""What AWS runs for a workspace: every stack tagged `pcli:workspace=<name>`, read in bulk.

One paginated DescribeStacks per account and region (the regions read side by side); stacks of
other workspaces and stacks without pcli's tags are skipped, never listed or touched.

When the endpoint fails a region's bulk read, that region's stacks are read one by one
(ListStacks, then DescribeStacks per stack): one stack the endpoint cannot describe no longer
hides all the others. A running stack that cannot be read on its own either is a problem of the
reading (`StackProblem`): which item it is stays unknown (only its tags would say).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from protoncli.deploy.model import StackInfo
from protoncli.deploy.project import Project
from protoncli.state.identity import Identity, workspace_of

# A first change set that was never executed leaves an empty stack in REVIEW_IN_PROGRESS; a
# deleted stack may still be listed for a while. Neither runs anything.
NOT_RUNNING = frozenset({"REVIEW_IN_PROGRESS", "DELETE_COMPLETE"})
# Statuses in which a stack's outputs are what its last deployment produced.
NO_OUTPUTS = frozenset({"REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE"})


def is_running(status: str) -> bool:
    """Whether a stack in `status` runs something (or did: a failed stack still exists)."""
    return status not in NOT_RUNNING


def usable_outputs(info: StackInfo | None) -> dict[str, str] | None:
    """The outputs other items render with; None when the stack has none to give."""
    if info is None or info.status in NO_OUTPUTS or info.status.startswith("DELETE"):
        return None
    return dict(info.outputs)


@dataclass(frozen=True)
class DeployedItem:
    identity: Identity
    region: str
    stack: StackInfo
    account: str | None = None  # the pcli.yaml account it was read in; None: the caller's own

    @property
    def tags(self) -> Mapping[str, str]:
        return self.stack.tags


@dataclass(frozen=True)
class StackProblem:
    """A running stack that could not be read, and why."""

    region: str
    stack_name: str
    status: str  # as ListStacks gives it
    message: str
    account: str | None = None


@dataclass(frozen=True)
class Deployed:
    items: tuple[DeployedItem, ...]
    # place -> calls made to read its stacks; a place is a region, or "ACCOUNT/region" for
    # the regions of a pcli.yaml account
    calls: Mapping[str, int]
    problems: tuple[StackProblem, ...] = ()
    # place -> why its bulk read failed, for the places whose stacks were read one by one
    bulk_failures: Mapping[str, str] = field(default_factory=dict)


Place = tuple[str, str | None]  # (region, account name; None: the caller's own account)


def place_name(region: str, account: str | None) -> str:
    """A place in words, as reports name it: the region, prefixed with a named account."""
    return region if account is None else f"{account}/{region}"


def _provisioned(
    project: Project, region: str, account: str | None
) -> tuple[list[DeployedItem], list[StackProblem]]:
    """The workspace's items that are no stack (Terraform, CodeBuild, managed elsewhere), read
    from their provisioned state (`provision/state.py`) as stacks would be."""
    from protoncli.errors import PcliError
    from protoncli.provision.store import read_states

    try:
        states = read_states(project.artifacts(region, account))
    except PcliError as error:
        problem = StackProblem(region, "provisioned/*", "UNKNOWN", error.message, account)
        return [], [problem]
    found = []
    for state in states:
        info = state.stack_info()
        if workspace_of(info.tags) != project.workspace.name:
            continue
        identity = Identity.from_tags(info.tags)
        if identity is not None:
            found.append(DeployedItem(identity, region, info, account))
    return found, []


def read_deployed(project: Project, places: Iterable[str | Place]) -> Deployed:
    """The workspace's running stacks in each region (of each account), by their tags; the
    places read side by side. A bare region is one of the caller's own account. A role that
    cannot be assumed fails the read, so a plan (and apply) stops before any stack is
    touched."""
    chosen = sorted(
        {(place, None) if isinstance(place, str) else place for place in places},
        key=lambda place: (place[1] or "", place[0]),
    )
    if not chosen:
        return Deployed((), {})
    workspace = project.workspace.name

    def read(place: Place) -> tuple[str, list[DeployedItem], list[StackProblem], str | None, int]:
        region, account = place
        # the provisioned state (one S3 listing) is read beside the stacks, not after them
        beside = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pcli-read-state")
        provisioned_read = beside.submit(_provisioned, project, region, account)
        beside.shutdown(wait=False)
        reading, calls = project.stacks_in(region, account)
        found = []
        for info in reading.stacks:
            if workspace_of(info.tags) != workspace or not is_running(info.status):
                continue
            identity = Identity.from_tags(info.tags)
            if identity is not None:
                found.append(DeployedItem(identity, region, info, account))
        problems = [
            StackProblem(region, stack.name, stack.status, stack.reason, account)
            for stack in reading.unreadable
            if is_running(stack.status)
        ]
        provisioned, problem = provisioned_read.result()
        found += provisioned
        problems += problem
        return place_name(region, account), found, problems, reading.bulk_failure, calls

    items: list[DeployedItem] = []
    problems: list[StackProblem] = []
    calls: dict[str, int] = {}
    failures: dict[str, str] = {}
    with ThreadPoolExecutor(
        max_workers=min(8, len(chosen)), thread_name_prefix="pcli-read"
    ) as pool:
        for name, found, unread, failure, pages in pool.map(read, chosen):
            items += found
            problems += unread
            calls[name] = pages
            if failure is not None:
                failures[name] = failure
    return Deployed(tuple(items), calls, tuple(problems), failures)
