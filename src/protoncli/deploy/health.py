"""What serves traffic in a service's instances, and whether it is healthy.

Per instance stack, one ListStackResources; then, per account and region, the bulk reads:
DescribeServices (ten services per call, per cluster), DescribeTargetHealth per target group,
GetFunction per Lambda function (ListFunctions does not give a function's state), one
DescribeAlarms of the alarms in ALARM, one GetMetricData (up to 500 queries) for the functions'
Errors and Throttles of the last hour.

Verdicts: each check is healthy, unhealthy or unknown (a read the credentials may not make, with
the permission named); an instance is unhealthy when any check is, else unknown when any check
is or nothing could be checked, else healthy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from protoncli.aws.health import EcsService, HealthGateway
    from protoncli.aws.logs import StackResource
    from protoncli.deploy.project import Project

HEALTHY = "healthy"
UNHEALTHY = "unhealthy"
UNKNOWN = "unknown"
METRIC_WINDOW = timedelta(hours=1)
ECS_SERVICE = "AWS::ECS::Service"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"
FUNCTION = "AWS::Lambda::Function"
ALARM = "AWS::CloudWatch::Alarm"
T = TypeVar("T")


@dataclass(frozen=True)
class HealthStack:
    """An instance whose health is read: its stack, where it lives, its outputs (None: not
    deployed)."""

    instance: str
    region: str
    stack: str
    outputs: Mapping[str, str] | None
    account: str | None = None


@dataclass(frozen=True)
class Check:
    what: str  # "ECS service web", "target group web-tg", ...
    verdict: str  # healthy | unhealthy | unknown
    detail: str
    permission: str | None = None  # the IAM permission missing, for an unknown verdict


@dataclass(frozen=True)
class InstanceHealth:
    instance: str
    stack: str
    region: str
    account: str | None
    deployed: bool
    url: str | None
    checks: tuple[Check, ...]

    @property
    def verdict(self) -> str:
        verdicts = {check.verdict for check in self.checks}
        if UNHEALTHY in verdicts:
            return UNHEALTHY
        if UNKNOWN in verdicts or not self.checks:
            return UNKNOWN
        return HEALTHY

    @property
    def missing_permissions(self) -> tuple[str, ...]:
        found = [c.permission for c in self.checks if c.permission]
        return tuple(dict.fromkeys(found))


def service_url(outputs: Mapping[str, str] | None) -> str | None:
    """The first output (by key) whose value is an http(s) URL."""
    for _key, value in sorted((outputs or {}).items()):
        if value.startswith(("http://", "https://")):
            return value
    return None


def gateway(project: Project, region: str, account: str | None) -> HealthGateway:
    from protoncli.aws.health import HealthGateway

    target = project.target(region, account)
    return HealthGateway(lambda service: project.sessions.client(service, target))


READERS = 8  # stacks' resources and functions read at once


def read_health(
    project: Project, stacks: Sequence[HealthStack], now: datetime | None = None
) -> list[InstanceHealth]:
    """The health of each instance, in the order given."""
    from protoncli.deploy.logs import gateway as stack_reader

    moment = now or datetime.now(UTC)
    resources: dict[int, list[StackResource]] = {}
    places: dict[tuple[str, str | None], list[int]] = {}

    def resources_of(stack: HealthStack) -> list[StackResource] | None:
        if stack.outputs is None:
            return None
        return stack_reader(project, stack.region, stack.account).stack_resources(stack.stack)

    # one ListStackResources a stack (CloudFormation has no bulk read of them), side by side
    from protoncli.deploy.project import run_all  # Ctrl-C ends the reads in flight

    found_all = run_all(project, stacks, resources_of, workers=READERS, name="pcli-health")
    for index, (stack, found) in enumerate(zip(stacks, found_all, strict=True)):
        if found is None:
            continue
        resources[index] = found
        places.setdefault((stack.region, stack.account), []).append(index)
    checks: dict[int, list[Check]] = {index: [] for index in resources}
    for (region, account), indexes in places.items():
        place_checks = _checks_in_place(
            gateway(project, region, account), {i: resources[i] for i in indexes}, moment
        )
        for index, made in place_checks.items():
            checks[index].extend(made)
    return [
        InstanceHealth(
            instance=stack.instance,
            stack=stack.stack,
            region=stack.region,
            account=stack.account,
            deployed=index in resources,
            url=service_url(stack.outputs),
            checks=tuple(checks.get(index, ())),
        )
        for index, stack in enumerate(stacks)
    ]


def _of_type(resources: Sequence[StackResource], kind: str) -> list[str]:
    return [r.physical_id for r in resources if r.resource_type == kind]


def _guarded(read: Callable[[], T]) -> T | Check:
    """`read()`, or an unknown check when the credentials may not make it."""
    from protoncli.aws.errors import DeniedError

    try:
        return read()
    except DeniedError as denied:
        return Check("", UNKNOWN, f"access denied: needs {denied.permission}", denied.permission)


def _denied(what: str, check: Check) -> Check:
    return Check(what, check.verdict, check.detail, check.permission)


def _checks_in_place(
    reader: HealthGateway, stacks: Mapping[int, Sequence[StackResource]], now: datetime
) -> dict[int, list[Check]]:
    found: dict[int, list[Check]] = {index: [] for index in stacks}
    for index, check in _ecs_checks(reader, stacks):
        found[index].append(check)
    for index, resources in stacks.items():
        for group in _of_type(resources, TARGET_GROUP):
            found[index].append(_target_group_check(reader, group))
    for index, check in _lambda_checks(reader, stacks, now):
        found[index].append(check)
    for index, check in _alarm_checks(reader, stacks):
        found[index].append(check)
    return found


def _ecs_checks(
    reader: HealthGateway, stacks: Mapping[int, Sequence[StackResource]]
) -> list[tuple[int, Check]]:
    from protoncli.aws.health import cluster_of

    owner: dict[str, int] = {}
    by_cluster: dict[str, list[str]] = {}
    for index, resources in stacks.items():
        for arn in _of_type(resources, ECS_SERVICE):
            owner[arn] = index
            by_cluster.setdefault(cluster_of(arn) or "default", []).append(arn)
    checks: list[tuple[int, Check]] = []
    for cluster, arns in by_cluster.items():
        answer = _guarded(partial(reader.ecs_services, cluster, arns))
        if isinstance(answer, Check):
            checks.extend(
                (owner[arn], _denied(f"ECS service {arn.rsplit('/', 1)[-1]}", answer))
                for arn in arns
            )
            continue
        for service in answer:
            index = owner.get(service.arn, owner[arns[0]])
            checks.append((index, _ecs_check(service)))
    return checks


def _ecs_check(service: EcsService) -> Check:
    what = f"ECS service {service.name}"
    if service.status != "ACTIVE":
        return Check(what, UNHEALTHY, f"service {service.status.lower()}")
    detail = f"desired {service.desired}, running {service.running}, pending {service.pending}"
    healthy = service.running >= service.desired
    if service.rollout == "FAILED":
        detail += "; rollout failed"
        healthy = False
    elif service.rollout == "IN_PROGRESS":
        detail += "; rollout in progress"
    return Check(what, HEALTHY if healthy else UNHEALTHY, detail)


def _target_group_check(reader: HealthGateway, group: str) -> Check:
    what = f"target group {group.rsplit(':', 1)[-1].removeprefix('targetgroup/').split('/')[0]}"
    answer = _guarded(lambda: reader.target_health(group))
    if isinstance(answer, Check):
        return _denied(what, answer)
    if answer is None:
        return Check(what, UNHEALTHY, "not found")
    if not answer:
        return Check(what, UNHEALTHY, "no targets registered")
    counts: dict[str, int] = {}
    for target in answer:
        counts[target.state] = counts.get(target.state, 0) + 1
    detail = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    healthy = counts.get("healthy", 0) > 0 and not counts.get("unhealthy")
    return Check(what, HEALTHY if healthy else UNHEALTHY, detail)


def _lambda_checks(
    reader: HealthGateway, stacks: Mapping[int, Sequence[StackResource]], now: datetime
) -> list[tuple[int, Check]]:
    functions = [
        (index, physical.rsplit(":", 1)[-1])
        for index, resources in stacks.items()
        for physical in _of_type(resources, FUNCTION)
    ]
    if not functions:
        return []
    names = [name for _index, name in functions]
    # The window ends at the next whole minute: AWS compares datapoints with times in seconds.
    end = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    sums = _guarded(lambda: reader.lambda_sums(names, end - METRIC_WINDOW, end))
    # One GetFunction a function, side by side: ListFunctions, the bulk read, leaves out a
    # function's State and LastUpdateStatus.
    with ThreadPoolExecutor(min(READERS, len(names)), thread_name_prefix="pcli-health") as pool:
        states = list(pool.map(lambda name: _guarded(partial(reader.function, name)), names))
    checks: list[tuple[int, Check]] = []
    for (index, name), state in zip(functions, states, strict=True):
        what = f"Lambda function {name}"
        if isinstance(state, Check):
            checks.append((index, _denied(what, state)))
            continue
        if state.state is None:
            checks.append((index, Check(what, UNHEALTHY, "not found")))
            continue
        detail = f"{state.state}, last update {state.last_update}"
        healthy = state.state == "Active" and state.last_update != "Failed"
        if isinstance(sums, Check):
            verdict = UNKNOWN if healthy else UNHEALTHY
            checks.append(
                (index, Check(what, verdict, f"{detail}; {sums.detail}", sums.permission))
            )
            continue
        errors, throttles = sums.get(name, (0.0, 0.0))
        detail += f"; last hour: {errors:g} errors, {throttles:g} throttles"
        healthy = healthy and errors == 0 and throttles == 0
        checks.append((index, Check(what, HEALTHY if healthy else UNHEALTHY, detail)))
    return checks


def _alarm_checks(
    reader: HealthGateway, stacks: Mapping[int, Sequence[StackResource]]
) -> list[tuple[int, Check]]:
    """An unhealthy check per alarm in ALARM that is a stack's resource or watches one (a
    dimension's value is a resource's name or id)."""
    names: dict[str, int] = {}
    for index, resources in stacks.items():
        for resource in resources:
            for name in _names_of(resource.physical_id):
                names.setdefault(name, index)
    answer = _guarded(reader.alarms_in_alarm)
    if isinstance(answer, Check):
        return [(index, _denied("CloudWatch alarms", answer)) for index in stacks]
    checks: list[tuple[int, Check]] = []
    for alarm in answer:
        owner = next((names[key] for key in (alarm.name, *alarm.dimensions) if key in names), None)
        if owner is not None:
            checks.append((owner, Check(f"alarm {alarm.name}", UNHEALTHY, alarm.reason or "ALARM")))
    return checks


def _names_of(physical_id: str) -> list[str]:
    """The forms a resource goes by in alarm dimensions: its id, the last part of an ARN, and
    a load balancer's or target group's `app/NAME/ID` / `targetgroup/NAME/ID`."""
    found = [physical_id]
    if physical_id.startswith("arn:"):
        resource = physical_id.split(":", 5)[-1]
        found.append(resource.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
        if resource.startswith("loadbalancer/"):
            found.append(resource.removeprefix("loadbalancer/"))
        if resource.startswith("targetgroup/"):
            found.append(resource)
    return found
