"""`pcli apply`: carry out a plan (`state.plan`) in dependency order, independent items at once.

Phases: environments; components; service instances (each service rendered once, its pending
instances deployed side by side) then each service's pipeline; then deletions of orphans in the
reverse order. Within a phase, items run concurrently (bounded by `concurrency`). An item whose
upstream item failed (its environment, its component, for a pipeline one of its instances) is
skipped and says why; everything independent goes on. The engine's events go to the hooks as
for single deploys, so the same three views show an apply.

`preview_changes` makes each planned stack's change set, describes it and deletes it (never
executes it): `plan --changes`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from protoncli.deploy.model import (
    Change,
    DeployEvent,
    DeployHooks,
    DeployResult,
    InputChanges,
    StackRequest,
)
from protoncli.deploy.project import Project, run_all
from protoncli.errors import PcliError
from protoncli.state.identity import COMPONENT, ENVIRONMENT, KIND_ORDER, PIPELINE, SERVICE_INSTANCE
from protoncli.state.plan import CREATE, DELETE, UPDATE, Plan, PlannedItem

if TYPE_CHECKING:
    from pathlib import Path

    from protoncli.specs.model import EnvironmentSpec, ServiceSpec
    from protoncli.state.declared import ServiceRecord
    from protoncli.state.fleet import FleetItem

DONE, NO_CHANGES, FAILED, SKIPPED = "done", "no-changes", "failed", "skipped"
T = TypeVar("T")


@dataclass(frozen=True)
class ItemOutcome:
    """How one planned item ended."""

    planned: PlannedItem
    status: str  # done | no-changes | failed | skipped
    stack_status: str | None = None
    message: str | None = None  # why it failed or was skipped

    @property
    def item(self) -> FleetItem:
        return self.planned.item


@dataclass(frozen=True)
class ApplyResult:
    outcomes: tuple[ItemOutcome, ...]

    @property
    def failed(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.status == FAILED]

    @property
    def skipped(self) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.status == SKIPPED]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped


class _Ledger:
    """Outcomes so far, by identity key; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: dict[tuple[str, ...], ItemOutcome] = {}

    def put(self, outcome: ItemOutcome) -> None:
        with self._lock:
            self.outcomes[outcome.item.identity.key] = outcome

    def failed(self, key: tuple[str, ...]) -> bool:
        outcome = self.outcomes.get(key)
        return outcome is not None and outcome.status in (FAILED, SKIPPED)


def apply_plan(
    project: Project, plan: Plan, hooks: DeployHooks, *, concurrency: int | None = None
) -> ApplyResult:
    """Carry out every acting item of `plan`; the outcome of each, in plan order."""
    from protoncli.deploy.records import written_alongside

    workers = max(1, concurrency or project.concurrency)
    project.concurrency = workers
    for item in plan.fleet.items:  # what the bulk read says; each deployment updates it
        if item.is_declared or item.is_deployed:
            project.known_outputs[(item.region, item.stack_name)] = item.outputs
            project.known_stacks[(item.region, item.stack_name)] = item.stack
    ledger = _Ledger()
    acting = plan.acting()
    by_kind = {
        kind: [p for p in acting if p.item.kind == kind and p.action != DELETE]
        for kind in KIND_ORDER
    }
    with written_alongside(project):
        _run(project, by_kind[ENVIRONMENT], lambda p: _environment(project, p, hooks, ledger))
        _run(project, by_kind[COMPONENT], lambda p: _component(project, p, hooks, ledger))
        services = _services(by_kind[SERVICE_INSTANCE] + by_kind[PIPELINE])
        _service_phase(project, services, hooks.one_at_a_time(), ledger)
        for kind in reversed(KIND_ORDER):
            deletions = [p for p in acting if p.item.kind == kind and p.action == DELETE]
            _run(project, deletions, lambda p: _delete(project, p, hooks, ledger))
    return ApplyResult(tuple(ledger.outcomes[p.item.identity.key] for p in acting))


def _run(project: Project, items: Iterable[T], work: Callable[[T], None]) -> None:
    run_all(project, items, work, name="pcli-apply")


def _services(planned: Iterable[PlannedItem]) -> dict[str, list[PlannedItem]]:
    found: dict[str, list[PlannedItem]] = {}
    for item in planned:
        found.setdefault(item.item.identity.service or "", []).append(item)
    return found


def _outcome(planned: PlannedItem, result: DeployResult) -> ItemOutcome:
    status = NO_CHANGES if result.status == "NO_CHANGES" else DONE
    return ItemOutcome(planned, status, result.status)


def _failure(planned: PlannedItem, error: PcliError) -> ItemOutcome:
    result = getattr(error, "result", None)
    stack_status = getattr(result, "status", None)
    return ItemOutcome(planned, FAILED, stack_status, error.message)


def _skip(planned: PlannedItem, because: str) -> ItemOutcome:
    return ItemOutcome(planned, SKIPPED, None, f"skipped: {because} failed")


def _deploy(
    project: Project,
    region: str,
    request: StackRequest,
    hooks: DeployHooks,
    *,
    source: Path | None,
    spec: EnvironmentSpec | ServiceSpec | None = None,
) -> DeployResult:
    """Deploy and leave a deployment record, as every deploying command does."""
    from protoncli.deploy.records import recorded_deploy

    text = source.read_text(encoding="utf-8") if source is not None and source.is_file() else None
    return recorded_deploy(project, region, request, hooks, spec_text=text, spec=spec)


def _environment(
    project: Project, planned: PlannedItem, hooks: DeployHooks, ledger: _Ledger
) -> None:
    from protoncli.deploy.environments import deploy_environment

    try:
        result = deploy_environment(project, planned.item.identity.environment or "", hooks)
        ledger.put(_outcome(planned, result))
    except PcliError as error:
        ledger.put(_failure(planned, error))


def _component(project: Project, planned: PlannedItem, hooks: DeployHooks, ledger: _Ledger) -> None:
    from protoncli.deploy.components import component_request
    from protoncli.workspace.model import COMPONENT_FILE

    environment = planned.item.environment
    if environment and ledger.failed((ENVIRONMENT, environment)):
        ledger.put(_skip(planned, f"environment {environment}"))
        return
    try:
        name = planned.item.identity.component or ""
        region, request, _, _ = component_request(project, name)
        source = project.workspace.component_dir(name) / COMPONENT_FILE
        ledger.put(_outcome(planned, _deploy(project, region, request, hooks, source=source)))
    except PcliError as error:
        ledger.put(_failure(planned, error))


@dataclass(frozen=True)
class _Rendered:
    """A service read and rendered once for all its instances."""

    record: ServiceRecord
    requests: Mapping[str, tuple[str, StackRequest]]


def _service_phase(
    project: Project,
    services: Mapping[str, list[PlannedItem]],
    hooks: DeployHooks,
    ledger: _Ledger,
) -> None:
    """Every service rendered once, and every pending instance of every service deployed
    through one pool (`--concurrency` stacks at once, whatever the services) as soon as its
    service is rendered; then the pipelines."""
    rendered: dict[str, _Rendered] = {}
    jobs: list[tuple[PlannedItem, str]] = []
    pipelines: dict[str, PlannedItem] = {}

    def prepared() -> Iterator[tuple[PlannedItem, str]]:
        for service, planned in services.items():
            runnable = _runnable([p for p in planned if p.item.kind == SERVICE_INSTANCE], ledger)
            pipeline = _pipeline_to_deploy(planned, ledger)
            if not runnable and pipeline is None:
                continue
            items = [*runnable, *([pipeline] if pipeline else [])]
            found = _render(project, service, hooks, items, ledger)
            if found is None:
                continue
            rendered[service] = found
            if pipeline is not None:
                pipelines[service] = pipeline
            for item in runnable:
                jobs.append((item, service))
                yield item, service

    def deploy_instance(job: tuple[PlannedItem, str]) -> None:
        item, service = job
        _deploy_rendered(project, item, _key(item), rendered[service], hooks=hooks, ledger=ledger)

    _run(project, prepared(), deploy_instance)

    def deploy_pipeline(service: str) -> None:
        pipeline = pipelines[service]
        failed = [
            item.item.identity.description
            for item, owner in jobs
            if owner == service and ledger.failed(item.item.identity.key)
        ]
        if failed:
            ledger.put(_skip(pipeline, ", ".join(failed)))
            return
        from protoncli.deploy.services import service_requests

        record = rendered[service].record
        try:
            with_pipeline = service_requests(project, record, with_pipeline=True)[0]
        except PcliError as error:
            ledger.put(_failure(pipeline, error))
            return
        rendered_pipeline = _Rendered(record, with_pipeline)
        _deploy_rendered(
            project, pipeline, "pipeline", rendered_pipeline, hooks=hooks, ledger=ledger
        )

    _run(project, sorted(pipelines), deploy_pipeline)


def _render(
    project: Project,
    service: str,
    hooks: DeployHooks,
    items: list[PlannedItem],
    ledger: _Ledger,
) -> _Rendered | None:
    """The service's instance requests; None (each item failed) when it cannot be rendered."""
    from protoncli.deploy.services import service_requests
    from protoncli.state.declared import read_service

    try:
        record = read_service(project, service)
        requests, _, warnings = service_requests(project, record, with_pipeline=False)
    except PcliError as error:
        for item in items:
            ledger.put(_failure(item, error))
        return None
    for warning in warnings:
        hooks.on_event(DeployEvent("warning", "", f"service {service}", message=warning))
    return _Rendered(record, requests)


def _deploy_rendered(
    project: Project,
    item: PlannedItem,
    key: str,
    rendered: _Rendered,
    *,
    hooks: DeployHooks,
    ledger: _Ledger,
) -> None:
    record = rendered.record
    try:
        region, request = rendered.requests[key]
        result = _deploy(project, region, request, hooks, source=record.path, spec=record.spec)
        ledger.put(_outcome(item, result))
    except KeyError:
        ledger.put(ItemOutcome(item, FAILED, None, "the blueprint renders no such stack"))
    except PcliError as error:
        ledger.put(_failure(item, error))


def _key(planned: PlannedItem) -> str:
    return f"instance:{planned.item.identity.instance}"


def _runnable(instances: list[PlannedItem], ledger: _Ledger) -> list[PlannedItem]:
    """The instances whose environment and component did not fail (the others are skipped)."""
    runnable = []
    for item in instances:
        blocker = _blocker(item.item, ledger)
        if blocker:
            ledger.put(_skip(item, blocker))
        else:
            runnable.append(item)
    return runnable


def _pipeline_to_deploy(planned: list[PlannedItem], ledger: _Ledger) -> PlannedItem | None:
    """The service's planned pipeline, unless an environment of its instances failed (then it
    is skipped: it renders with every instance's environment)."""
    pipeline = next((p for p in planned if p.item.kind == PIPELINE), None)
    if pipeline is None:
        return None
    blockers = [
        f"environment {p.item.environment}"
        for p in planned
        if p.item.environment and ledger.failed((ENVIRONMENT, p.item.environment))
    ]
    if blockers:
        ledger.put(_skip(pipeline, ", ".join(dict.fromkeys(blockers))))
        return None
    return pipeline


def _blocker(item: FleetItem, ledger: _Ledger) -> str | None:
    environment = item.environment
    if environment and ledger.failed((ENVIRONMENT, environment)):
        return f"environment {environment}"
    for key, outcome in list(ledger.outcomes.items()):
        other = outcome.item.identity
        if (
            key[0] == COMPONENT
            and (other.service, other.instance) == (item.identity.service, item.identity.instance)
            and ledger.failed(key)
        ):
            return f"component {other.name}"
    return None


def _delete(project: Project, planned: PlannedItem, hooks: DeployHooks, ledger: _Ledger) -> None:
    item = planned.item
    try:
        from protoncli.provision.deployer import deleter

        result = deleter(project, item.region, item.account, item.stack_name).delete(
            item.stack_name, item.identity.description, on_event=hooks.on_event
        )
        ledger.put(_outcome(planned, result))
    except PcliError as error:
        ledger.put(_failure(planned, error))


# ---------------------------------------------------------------------------------------------
# plan --changes


@dataclass(frozen=True)
class Preview:
    """The change set a planned item's stack would get (made, described, deleted): its
    changes and, for an update, the inputs changed since the stack's last deployment."""

    planned: PlannedItem
    changes: tuple[Change, ...] = ()
    error: str | None = None
    inputs: InputChanges | None = None


def preview_changes(project: Project, plan: Plan) -> dict[tuple[str, ...], Preview]:
    """Change sets of every create or update of the plan, by identity key; never executed.

    A pipeline is previewed with its instances' current outputs. A first creation's change
    set leaves an empty stack in REVIEW_IN_PROGRESS, which is deleted with it. An update's
    preview also reads the stack's deployment record, for the inputs changed since
    (`deploy/explain.py`).
    """
    wanted = [p for p in plan.acting() if p.action in (CREATE, UPDATE)]
    requests = _requests_of(project, wanted)
    previews: dict[tuple[str, ...], Preview] = {}

    def preview(planned: PlannedItem) -> None:
        key = planned.item.identity.key
        found = requests.get(key)
        if isinstance(found, str) or found is None:
            previews[key] = Preview(planned, error=found or "nothing to render")
            return
        region, request, spec = found
        try:
            changes, inputs = _change_set(project, region, request, spec)
            previews[key] = Preview(planned, changes, inputs=inputs)
        except PcliError as error:
            previews[key] = Preview(planned, error=error.message)

    _run(project, wanted, preview)
    return previews


_Request = tuple[str, StackRequest, "EnvironmentSpec | ServiceSpec | None"]  # with its spec


def _requests_of(
    project: Project, planned: Sequence[PlannedItem]
) -> Mapping[tuple[str, ...], _Request | str]:
    from protoncli.deploy.components import component_request
    from protoncli.deploy.environments import environment_request
    from protoncli.deploy.services import service_requests
    from protoncli.state.declared import read_environment, read_service

    found: dict[tuple[str, ...], _Request | str] = {}
    services: dict[str, tuple[dict[str, tuple[str, StackRequest]], ServiceSpec] | str] = {}
    for item in planned:
        identity = item.item.identity
        try:
            if identity.kind == ENVIRONMENT:
                environment = read_environment(project, identity.environment or "")
                request = environment_request(project, environment)[0]
                found[identity.key] = (environment.region, request, environment.spec)
            elif identity.kind == COMPONENT:
                region, request, _, _ = component_request(project, identity.component or "")
                found[identity.key] = (region, request, None)
            else:
                service = identity.service or ""
                if service not in services:
                    record = read_service(project, service)
                    built = service_requests(project, record, with_pipeline=True)[0]
                    services[service] = (built, record.spec)
                known = services[service]
                if isinstance(known, str):
                    found[identity.key] = known
                    continue
                key = "pipeline" if identity.kind == PIPELINE else f"instance:{identity.instance}"
                found[identity.key] = (*known[0][key], known[1])
        except PcliError as error:
            found[identity.key] = error.message
            if identity.kind in (SERVICE_INSTANCE, PIPELINE):
                services[identity.service or ""] = error.message
    return found


def _change_set(
    project: Project,
    region: str,
    request: StackRequest,
    spec: EnvironmentSpec | ServiceSpec | None,
) -> tuple[tuple[Change, ...], InputChanges | None]:
    """The changes of the request's change set (made, described, deleted) as they are shown,
    and for an update the inputs changed since the stack's last deployment."""
    from protoncli.deploy.explain import ChangeExplainer

    if request.provisioned is not None:  # Terraform: its plan, run here
        from protoncli.provision.deployer import ProvisionedDeployer

        return ProvisionedDeployer(project, region, request.account).preview(request), None
    gateway = project.cloudformation(region, request.account)
    info = gateway.describe(request.stack_name)
    change_set_type = (
        "UPDATE" if info is not None and info.status != "REVIEW_IN_PROGRESS" else "CREATE"
    )
    # over 51,200 bytes: through S3
    template_url = project.deployer(region, request.account).template_url(request)
    change_set_id = gateway.create_change_set(
        request, change_set_type=change_set_type, template_url=template_url
    )
    try:
        status, reason, changes = gateway.wait_change_set(change_set_id)
    finally:
        gateway.delete_change_set(change_set_id)
        if change_set_type == "CREATE":
            after = gateway.describe(request.stack_name)
            if after is not None and after.status == "REVIEW_IN_PROGRESS":
                gateway.delete_stack(after.stack_id)
    if status not in ("CREATE_COMPLETE", "NO_CHANGES"):
        raise PcliError(f"change set of {request.description} failed: {reason or status}")
    explain = ChangeExplainer(
        project,
        region,
        request,
        spec=spec,
        spec_text=None,
        read_inputs=True,
    )
    return explain(info if change_set_type == "UPDATE" else None, changes)
