"""`pcli drift`: how deployed stacks differ from what the workspace declares, in two ways.

- **CloudFormation drift**: resources changed outside CloudFormation. Detection is started on
  every stack first (DetectStackDrift), then each is polled until it ends (bounded), then the
  modified and deleted resources of the drifted stacks are read with their property differences.
- **Template drift**: the template a stack was last deployed with (GetTemplate, Original) against
  a fresh render of the pinned blueprint version and the spec, as a unified diff. Only trailing
  whitespace is ignored (and JSON layout: botocore hands JSON templates back as objects).

Property values CloudFormation masks (NoEcho parameters, shown as `****`) stay masked: when
either side of a difference is masked, both are. Templates hold dynamic references to secrets,
never their values. Endpoints without drift detection (the sandbox) get template drift only.
"""

from __future__ import annotations

import difflib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from protoncli.deploy.project import NOT_DEPLOYED
from protoncli.errors import AwsError, NotFoundError, PcliError

if TYPE_CHECKING:
    from protoncli.aws.cloudformation import CloudFormationGateway
    from protoncli.deploy.project import Project

UNAVAILABLE = "UNAVAILABLE"  # drift_status where the endpoint cannot detect drift
NOT_RUN = "NOT_RUN"  # drift_status when detection could not be started or did not end
DRIFTED = "DRIFTED"
IN_PROGRESS = "DETECTION_IN_PROGRESS"
DETECTION_FAILED = "DETECTION_FAILED"
DRIFTED_RESOURCE_STATUSES = ("MODIFIED", "DELETED")
REVERT_DRIFT = "REVERT_DRIFT"  # the DeploymentMode of a drift-aware change set
MASK = "****"
MINUTE = 60.0
DETECTION_TIMEOUT = 15 * MINUTE
FIRST_POLL_DELAY = 2.0
MAX_POLL_DELAY = 10.0
_GONE = frozenset({"REVIEW_IN_PROGRESS", "DELETE_COMPLETE"})


class DriftUnavailableError(AwsError):
    """The endpoint does not implement CloudFormation drift detection (the sandbox)."""


@dataclass(frozen=True)
class PropertyDifference:
    path: str  # PropertyPath, e.g. /Tags/0/Value
    expected: str
    actual: str
    difference_type: str  # ADD | REMOVE | NOT_EQUAL


@dataclass(frozen=True)
class ResourceDrift:
    logical_id: str
    resource_type: str
    physical_id: str | None
    status: str  # MODIFIED | DELETED
    differences: tuple[PropertyDifference, ...]


@dataclass(frozen=True)
class DriftDetection:
    """Where one DetectStackDrift operation stands."""

    detection_id: str
    status: str  # DETECTION_IN_PROGRESS | DETECTION_COMPLETE | DETECTION_FAILED
    stack_drift_status: str | None  # DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED
    reason: str | None
    drifted_resources: int | None


def property_difference(
    *, path: str, expected: str, actual: str, difference_type: str
) -> PropertyDifference:
    """A property difference; when CloudFormation masked either value, both read `****`."""
    if _masked(expected) or _masked(actual):
        expected = actual = MASK
    return PropertyDifference(path, expected, actual, difference_type)


def _masked(value: str) -> bool:
    return bool(value) and set(value) == {"*"}


@dataclass(frozen=True)
class DriftTarget:
    """One stack to check: what it is, where it lives, and its status (or NOT_DEPLOYED)."""

    kind: str  # environment | service-instance | pipeline | component
    name: str  # environment, SERVICE/INSTANCE, service (pipeline) or component name
    stack_name: str
    region: str
    description: str
    stack_status: str
    account: str | None = None  # pcli.yaml's name of its account; None: the caller's own

    @property
    def deployed(self) -> bool:
        return self.stack_status not in _GONE and self.stack_status != NOT_DEPLOYED

    @property
    def place(self) -> str:
        """Its region, prefixed with its account's name when it has one: the gateways' key."""
        return self.region if self.account is None else f"{self.account}/{self.region}"


@dataclass(frozen=True)
class CloudFormationDrift:
    """What drift detection found on one stack."""

    drift_status: str  # DRIFTED | IN_SYNC | UNKNOWN | NOT_CHECKED | UNAVAILABLE | NOT_RUN
    detection_status: str | None  # DETECTION_COMPLETE | DETECTION_FAILED | ..._IN_PROGRESS
    reason: str | None = None
    resources: tuple[ResourceDrift, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackDrift:
    kind: str
    name: str
    stack_name: str
    description: str
    region: str
    stack_status: str
    drift_status: str
    detection_status: str | None
    detection_reason: str | None
    resources: tuple[ResourceDrift, ...]
    template_diff: str | None  # unified diff, deployed -> rendered; None when they match
    errors: tuple[str, ...]

    @property
    def drifted(self) -> bool:
        return self.drift_status == DRIFTED or bool(self.resources) or bool(self.template_diff)


@dataclass(frozen=True)
class DriftReport:
    workspace: str
    stacks: tuple[StackDrift, ...]

    @property
    def drifted(self) -> bool:
        return any(stack.drifted for stack in self.stacks)

    @property
    def cloudformation_unavailable(self) -> bool:
        """True when the endpoint could not detect CloudFormation drift (the sandbox)."""
        return any(stack.drift_status == UNAVAILABLE for stack in self.stacks)


@dataclass(frozen=True)
class DriftProgress:
    """How far drift detection is: `done` of `total` stacks checked in `phase`."""

    phase: Literal["detecting", "templates"]
    done: int
    total: int


OnProgress = Callable[[DriftProgress], None]


def _ignore(_progress: DriftProgress) -> None:
    return None


def collect_drift(
    project: Project,
    names: Sequence[str] = (),
    *,
    on_progress: OnProgress = _ignore,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = DETECTION_TIMEOUT,
) -> DriftReport:
    """Both kinds of drift of the named environments, services and components (all that are
    deployed when no name is given)."""
    targets = select_targets(project, names)
    deployed = [target for target in targets if target.deployed]
    gateways = {
        t.place: project.cloudformation(t.region, t.account)
        for t in {(t.place, t.region, t.account): t for t in deployed}.values()
    }
    found = detect_cloudformation_drift(
        gateways, deployed, on_progress=on_progress, sleep=sleep, clock=clock, timeout=timeout
    )
    diffs = template_drift(project, gateways, deployed, on_progress=on_progress)
    stacks = []
    for target in targets:
        key = (target.region, target.stack_name)
        cfn = found.get(key, CloudFormationDrift(NOT_DEPLOYED, None))
        diff, template_errors = diffs.get(key, (None, ()))
        stacks.append(
            StackDrift(
                kind=target.kind,
                name=target.name,
                stack_name=target.stack_name,
                description=target.description,
                region=target.region,
                stack_status=target.stack_status,
                drift_status=cfn.drift_status,
                detection_status=cfn.detection_status,
                detection_reason=cfn.reason,
                resources=cfn.resources,
                template_diff=diff,
                errors=cfn.errors + template_errors,
            )
        )
    return DriftReport(project.workspace.name, tuple(stacks))


def select_targets(project: Project, names: Sequence[str]) -> list[DriftTarget]:
    """The stacks `pcli drift NAME...` checks, from the state model (`state.fleet`).

    A name is an environment, a service (its instances and its pipeline), SERVICE/INSTANCE or
    a component. With no names: every declared item that is deployed. A named item that is not
    deployed is kept (reported as NOT_DEPLOYED); a pipeline is only there when deployed.
    Orphans are not checked: nothing declares a template to compare them with.
    """
    from protoncli.state.fleet import read_fleet
    from protoncli.state.plan import names_of

    fleet = read_fleet(project)
    declared = [(names_of(item), item) for item in fleet.items if item.is_declared]
    known = {name for matches, _ in declared for name in matches}
    unknown = [name for name in names if name not in known]
    if unknown:
        listing = ", ".join(sorted(known)) or "none yet"
        raise NotFoundError(
            f"no environment, service or component named {', '.join(map(repr, unknown))} in "
            f"this workspace (known: {listing})",
            hint="pcli status lists what the workspace declares",
        )
    targets = []
    for matches, item in declared:
        if names and not matches & set(names):
            continue
        target = DriftTarget(
            item.kind,
            item.name,
            item.stack_name,
            item.region,
            item.identity.description,
            item.stack_status,
            item.account,
        )
        if target.deployed or (names and target.kind != "pipeline"):
            targets.append(target)
    return targets


def detect_cloudformation_drift(
    gateways: Mapping[str, CloudFormationGateway],
    targets: Sequence[DriftTarget],
    *,
    on_progress: OnProgress = _ignore,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    timeout: float = DETECTION_TIMEOUT,
) -> dict[tuple[str, str], CloudFormationDrift]:
    """CloudFormation drift of each target, by (region, stack name).

    Every detection is started before any is waited for, so they run side by side in AWS; then
    the unfinished ones are polled (backing off to MAX_POLL_DELAY) until all end or `timeout`
    seconds pass. A failure on one stack is reported on that stack and the others go on.
    """
    found: dict[tuple[str, str], CloudFormationDrift] = {}
    running: dict[tuple[str, str], tuple[DriftTarget, str]] = {}
    unavailable: set[str] = set()
    for target in targets:
        key = (target.region, target.stack_name)
        if target.place in unavailable:
            found[key] = CloudFormationDrift(UNAVAILABLE, None)
            continue
        try:
            running[key] = (target, gateways[target.place].detect_drift(target.stack_name))
        except DriftUnavailableError:
            unavailable.add(target.place)
            found[key] = CloudFormationDrift(UNAVAILABLE, None)
        except PcliError as error:
            found[key] = CloudFormationDrift(NOT_RUN, None, errors=(error.message,))
    started, delay = clock(), FIRST_POLL_DELAY
    while True:
        for key, (target, detection_id) in list(running.items()):
            outcome = _poll(gateways[target.place], target, detection_id)
            if outcome is not None:
                found[key] = outcome
                del running[key]
        on_progress(DriftProgress("detecting", len(targets) - len(running), len(targets)))
        if not running:
            return found
        if clock() - started >= timeout:
            waited = (
                f"{int(timeout)} seconds" if timeout < MINUTE else f"{int(timeout // 60)} minutes"
            )
            for key in running:
                found[key] = CloudFormationDrift(
                    NOT_RUN,
                    IN_PROGRESS,
                    errors=(f"drift detection did not end within {waited}",),
                )
            return found
        sleep(delay)
        delay = min(delay * 2, MAX_POLL_DELAY)


def _poll(
    gateway: CloudFormationGateway, target: DriftTarget, detection_id: str
) -> CloudFormationDrift | None:
    """The stack's drift once its detection ended; None while it runs."""
    try:
        detection = gateway.drift_detection(detection_id)
    except PcliError as error:
        return CloudFormationDrift(NOT_RUN, None, errors=(error.message,))
    if detection.status == IN_PROGRESS:
        return None
    status = detection.stack_drift_status or "UNKNOWN"
    errors: list[str] = []
    if detection.status == DETECTION_FAILED:
        reason = f": {detection.reason}" if detection.reason else ""
        errors.append(f"drift detection failed{reason}")
    resources: list[ResourceDrift] = []
    if status == DRIFTED:
        try:
            resources = gateway.resource_drifts(target.stack_name)
        except PcliError as error:
            errors.append(error.message)
    return CloudFormationDrift(
        status, detection.status, detection.reason, tuple(resources), tuple(errors)
    )


def template_drift(
    project: Project,
    gateways: Mapping[str, CloudFormationGateway],
    targets: Sequence[DriftTarget],
    *,
    on_progress: OnProgress = _ignore,
) -> dict[tuple[str, str], tuple[str | None, tuple[str, ...]]]:
    """(diff or None, errors) of each target, by (region, stack name): its deployed template
    against a fresh render of its pinned blueprint version and spec."""
    renders = _Renders(project)
    found: dict[tuple[str, str], tuple[str | None, tuple[str, ...]]] = {}
    for done, target in enumerate(targets, start=1):
        key = (target.region, target.stack_name)
        try:
            rendered = renders.template(target)
            deployed = gateways[target.place].template_body(target.stack_name)
        except PcliError as error:
            found[key] = (None, (f"template: {error.message}",))
        else:
            found[key] = (template_diff(deployed, rendered, target.stack_name), ())
        on_progress(DriftProgress("templates", done, len(targets)))
    return found


class _Renders:
    """Fresh templates of the workspace's stacks, each service rendered once for all its stacks."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self._services: dict[str, dict[str, str]] = {}

    def template(self, target: DriftTarget) -> str:
        from protoncli.deploy import components, environments
        from protoncli.state.declared import read_environment

        project = self._project
        if target.kind == "environment":
            record = read_environment(project, target.name)
            return environments.environment_request(project, record)[0].template_body
        if target.kind == "component":
            return components.component_request(project, target.name)[1].template_body
        service, _, instance = target.name.partition("/")
        key = f"instance:{instance}" if target.kind == "service-instance" else "pipeline"
        rendered = self._service(service).get(key)
        if rendered is None:
            raise PcliError(f"the blueprint of service {service} renders no {target.description}")
        return rendered

    def _service(self, name: str) -> dict[str, str]:
        from protoncli.deploy import services
        from protoncli.state.declared import read_service

        if name not in self._services:
            record = read_service(self._project, name)
            requests, _, _ = services.service_requests(self._project, record, with_pipeline=True)
            self._services[name] = {key: req.template_body for key, (_, req) in requests.items()}
        return self._services[name]


def template_diff(deployed: str, rendered: str, stack_name: str) -> str | None:
    """A unified diff from the deployed template to the rendered one; None when they match."""
    before, after = _normalised(deployed), _normalised(rendered)
    if before == after:
        return None
    lines = difflib.unified_diff(
        before,
        after,
        fromfile=f"{stack_name} (deployed)",
        tofile=f"{stack_name} (rendered)",
        lineterm="",
    )
    return "\n".join(lines)


def _normalised(template: str) -> list[str]:
    """The template's lines without trailing whitespace or trailing blank lines; a JSON
    template laid out as botocore hands deployed ones back (indent 2, same key order)."""
    text = template
    if text.lstrip().startswith("{"):
        with suppress(ValueError):
            text = json.dumps(json.loads(text), indent=2)
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines
