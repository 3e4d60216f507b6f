"""`pcli adopt`, second half: render each declared item as a deploy would, show its change set
against Proton's live stack, and adopt it in place.

`review` renders every declared, not yet adopted stack with the render path of deploys
(`environment_request`, `service_requests`, `component_request`), to the stack's own name
(adopted.yaml, `state.adopted`), with pcli's tags added to the tags the stack has, and makes
an UPDATE change set against the live stack (made, described, deleted: never executed). Its
verdict:

- `no-difference`: the change set is empty, or changes nothing but tags: adopting adds pcli's
  tags, nothing else changes;
- `changes`: resources change (none replaced nor removed);
- `replaces`: a resource is replaced or removed. Adopted only with `allow_replacement`.

`adopt` then deploys each chosen review through the deploy engine (environments, components,
instances, pipelines in that order), confirming each change set only when it is the one that
was reviewed: a stack that moved in between is not touched. Nothing is replaced: the stack
keeps its name, its id and its resources.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from protoncli.deploy.adoption import DECLARED, FoundStack
from protoncli.deploy.model import Change, DeployHooks, StackRequest
from protoncli.deploy.project import Project
from protoncli.errors import PcliError
from protoncli.state.identity import (
    COMPONENT,
    ENVIRONMENT,
    KIND_ORDER,
    PIPELINE,
    TAG_PREFIX,
    Identity,
)

if TYPE_CHECKING:
    from protoncli.specs.model import EnvironmentSpec, ServiceSpec

NO_DIFFERENCE = "no-difference"
CHANGES = "changes"
REPLACES = "replaces"
BLOCKED = "blocked"
# Outcomes of an adoption
ADOPTED = "adopted"  # pcli's tags added, nothing else changed
UPDATED = "updated"  # adopted, and its resources changed as the change set showed
FAILED = "failed"
HELD = "held"  # not adopted: it replaces resources and --allow-replacement was not given
SKIPPED = "skipped"  # not adopted: what it renders with failed to adopt


@dataclass(frozen=True)
class Review:
    found: FoundStack
    verdict: str  # no-difference | changes | replaces | blocked
    request: StackRequest | None = None
    changes: tuple[Change, ...] = ()
    message: str | None = None  # why it is blocked
    spec: EnvironmentSpec | ServiceSpec | None = None
    spec_text: str | None = None

    @property
    def identity(self) -> Identity:
        return self.found.proton.identity

    @property
    def acts(self) -> bool:
        return self.verdict in (NO_DIFFERENCE, CHANGES, REPLACES)


@dataclass(frozen=True)
class Outcome:
    review: Review
    status: str  # adopted | updated | failed | held | skipped
    stack_status: str | None = None
    message: str | None = None


def review(project: Project, stacks: Iterable[FoundStack]) -> list[Review]:
    """The change set of every declared stack against its live stack (see the module)."""
    chosen = [item for item in stacks if item.state == DECLARED]
    chosen.sort(key=lambda item: KIND_ORDER.index(item.identity.kind))
    rendered = _render(project, chosen)
    return [_review_one(project, item, rendered.get(item.identity.key)) for item in chosen]


_Rendered = tuple[StackRequest, "EnvironmentSpec | ServiceSpec | None", "str | None"]


def _render(
    project: Project, chosen: Sequence[FoundStack]
) -> dict[tuple[str, ...], _Rendered | str]:
    """The stack request of each item (or why it could not be rendered), by identity key."""
    from protoncli.deploy.components import component_request
    from protoncli.deploy.environments import environment_request
    from protoncli.deploy.services import service_requests
    from protoncli.state.declared import read_environment, read_service

    found: dict[tuple[str, ...], _Rendered | str] = {}
    services: dict[str, tuple[dict[str, tuple[str, StackRequest]], ServiceSpec, str] | str] = {}
    for item in chosen:
        identity = item.identity
        try:
            if identity.kind == ENVIRONMENT:
                record = read_environment(project, identity.environment or "")
                request = environment_request(project, record)[0]
                found[identity.key] = (request, record.spec, record.path.read_text("utf-8"))
            elif identity.kind == COMPONENT:
                request = component_request(project, identity.component or "")[1]
                found[identity.key] = (request, None, None)
            else:
                name = identity.service or ""
                if name not in services:
                    service = read_service(project, name)
                    pipeline = any(
                        i.identity.kind == PIPELINE and i.identity.service == name for i in chosen
                    )
                    built = service_requests(project, service, with_pipeline=pipeline)[0]
                    services[name] = (built, service.spec, service.path.read_text("utf-8"))
                known = services[name]
                if isinstance(known, str):
                    found[identity.key] = known
                    continue
                key = "pipeline" if identity.kind == PIPELINE else f"instance:{identity.instance}"
                if key not in known[0]:
                    found[identity.key] = f"the spec renders no {identity.description}"
                    continue
                found[identity.key] = (known[0][key][1], known[1], known[2])
        except PcliError as error:
            found[identity.key] = error.message
            if identity.kind not in (ENVIRONMENT, COMPONENT):
                services[identity.service or ""] = error.message
    return found


def _review_one(project: Project, item: FoundStack, rendered: _Rendered | str | None) -> Review:
    if rendered is None or isinstance(rendered, str):
        return Review(item, BLOCKED, message=rendered or "nothing to render")
    request, spec, spec_text = rendered
    stack = item.proton.stack
    kept = {
        key: value
        for key, value in stack.tags.items()
        if not key.startswith(("aws:", TAG_PREFIX))  # aws: is AWS's own; pcli's are new
    }
    request = replace(request, stack_name=stack.name, tags={**kept, **request.tags})
    try:
        status, changes = _change_set(project, item, request)
    except PcliError as error:
        return Review(item, BLOCKED, request, message=error.message)
    verdict = verdict_of(status, changes)
    return Review(item, verdict, request, changes, spec=spec, spec_text=spec_text)


def _change_set(
    project: Project, item: FoundStack, request: StackRequest
) -> tuple[str, tuple[Change, ...]]:
    """Make the UPDATE change set, read it, delete it: (status, changes)."""
    from protoncli.deploy.engine import NO_CHANGES

    region, account = item.proton.region, item.proton.account
    gateway = project.cloudformation(region, account)
    template_url = project.deployer(region, account).template_url(request)
    change_set_id = gateway.create_change_set(
        request, change_set_type="UPDATE", template_url=template_url
    )
    try:
        status, reason, changes = gateway.wait_change_set(change_set_id)
    finally:
        gateway.delete_change_set(change_set_id)
    if status not in ("CREATE_COMPLETE", NO_CHANGES):
        raise PcliError(f"the change set against {request.stack_name} failed: {reason or status}")
    return status, changes


def verdict_of(status: str, changes: Sequence[Change]) -> str:
    """`no-difference` (nothing, or only tags, change), `replaces` (a resource is replaced or
    removed) or `changes`."""
    from protoncli.deploy.engine import NO_CHANGES

    if status == NO_CHANGES or all(tags_only(change) for change in changes):
        return NO_DIFFERENCE
    if any(destroys(change) for change in changes):
        return REPLACES
    return CHANGES


def tags_only(change: Change) -> bool:
    """A Modify that changes the resource's tags and nothing else, without replacing it."""
    return (
        change.action == "Modify"
        and change.replacement in (None, "False")
        and bool(change.details)
        and all(detail.attribute == "Tags" and not detail.replaces for detail in change.details)
    )


def destroys(change: Change) -> bool:
    """A change that replaces the resource (or may), or removes it."""
    return (
        change.action == "Remove"
        or change.replacement in ("True", "Conditional")
        or any(detail.replaces for detail in change.details)
    )


def replaced(review_: Review) -> list[str]:
    """The logical ids the review's change set replaces or removes."""
    return [c.logical_id for c in review_.changes if destroys(c)]


def adopt(
    project: Project,
    reviews: Sequence[Review],
    hooks: DeployHooks,
    *,
    allow_replacement: bool,
) -> list[Outcome]:
    """Adopt every review that acts, in dependency order; one outcome per review that acts."""
    from protoncli.deploy.adoption import ADOPTED as ADOPTED_STATE
    from protoncli.deploy.adoption import record_stacks

    outcomes: list[Outcome] = []
    failed_envs: set[str] = set()
    for item in sorted((r for r in reviews if r.acts), key=_order):
        environment = item.identity.environment
        if item.verdict == REPLACES and not allow_replacement:
            outcomes.append(Outcome(item, HELD, message=_held(item)))
            continue
        if item.identity.kind != ENVIRONMENT and environment in failed_envs:
            outcomes.append(
                Outcome(item, SKIPPED, message=f"environment {environment} was not adopted")
            )
            continue
        outcome = _adopt_one(project, item, hooks)
        outcomes.append(outcome)
        if outcome.status == FAILED and item.identity.kind == ENVIRONMENT:
            failed_envs.add(item.identity.environment or "")
        if outcome.status in (ADOPTED, UPDATED):
            record_stacks(project, [replace(item.found, state=ADOPTED_STATE)])
    return outcomes


def _order(item: Review) -> tuple[int, str]:
    return KIND_ORDER.index(item.identity.kind), item.identity.name


def _held(item: Review) -> str:
    ids = ", ".join(replaced(item))
    return f"its change set replaces or removes {ids}: not adopted without --allow-replacement"


def _adopt_one(project: Project, item: Review, hooks: DeployHooks) -> Outcome:
    from protoncli.deploy.records import recorded_deploy

    assert item.request is not None  # noqa: S101 - a review that acts has its request
    moved: list[bool] = []

    def confirm(changes: tuple[Change, ...]) -> bool:
        same = signature(changes) == signature(item.changes)
        moved.append(not same)
        return same

    proton = item.found.proton
    adopting = replace(hooks, confirm=confirm)
    try:
        result = recorded_deploy(
            project,
            proton.region,
            replace(item.request, account=proton.account),
            adopting,
            spec_text=item.spec_text,
            spec=item.spec,
        )
    except PcliError as error:
        message = error.message
        if moved and moved[-1]:
            message = (
                f"the change set of {proton.name} is no longer the one reviewed (the stack or "
                "the workspace moved meanwhile); nothing was changed: run pcli adopt again"
            )
        return Outcome(item, FAILED, message=message)
    status = UPDATED if item.verdict != NO_DIFFERENCE and result.changed else ADOPTED
    return Outcome(item, status, result.status)


def signature(changes: Iterable[Change]) -> list[tuple[str, str, str, str | None]]:
    return sorted((c.action, c.logical_id, c.resource_type, c.replacement) for c in changes)
