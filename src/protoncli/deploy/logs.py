"""Log events of a service's instances or of an environment, read from CloudWatch Logs.

Which log groups: those of each stack's resources (ListStackResources): `AWS::Logs::LogGroup`
(its physical id is the group's name), `AWS::ECS::TaskDefinition` (each container's
`awslogs-group`) and `AWS::Lambda::Function` (`/aws/lambda/<name>`). Events of every group are
read from a start time on (FilterLogEvents, every page) and merged by timestamp; `follow` polls
for new ones (every second, backing off to 5 s while nothing comes), de-duplicated by event id,
waiting with `project.sleep` so that an interruption ends the wait at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.aws.logs import LogsGateway
    from protoncli.deploy.project import Project

DEFAULT_SINCE = "10m"
FIRST_POLL = 1.0
LONGEST_POLL = 5.0
LAMBDA_PREFIX = "/aws/lambda/"
_DURATION = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class LogStack:
    """A stack whose log groups are read: `source` names it in the output (an instance, an
    environment), `instance` is the service instance (None for an environment)."""

    source: str
    instance: str | None
    region: str
    stack: str
    description: str
    account: str | None = None  # pcli.yaml's name of its account; None: the caller's own


@dataclass(frozen=True)
class LogSource:
    stack: LogStack
    log_group: str


@dataclass(frozen=True)
class LogEvent:
    timestamp: int  # milliseconds since the epoch
    source: str
    instance: str | None
    log_group: str
    log_stream: str
    message: str
    event_id: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC)


@dataclass(frozen=True)
class LogSources:
    """The log groups found, and the stacks that are not deployed."""

    sources: tuple[LogSource, ...]
    not_deployed: tuple[LogStack, ...]


def parse_since(text: str, now: datetime) -> int:
    """`--since`: a duration back from `now` (`30s`, `10m`, `2h`, `1d`, `1w`, `1h30m`) or an
    ISO 8601 time (UTC when it names no zone); milliseconds since the epoch."""
    value = text.strip()
    if value and _DURATION.sub("", value).strip() == "" and _DURATION.search(value):
        delta = timedelta()
        for amount, unit in _DURATION.findall(value):
            delta += timedelta(**{_UNITS[unit]: int(amount)})
        return int((now - delta).timestamp() * 1000)
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {text!r}: expected a duration (10m, 2h, 1d) or an ISO 8601 time",
            hint="e.g. --since 30m, or --since 2026-12-01T08:00:00Z",
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def service_log_stacks(project: Project, name: str, instance: str | None) -> list[LogStack]:
    """The stacks of the service's instances (only `instance` when given); an unknown service
    or instance is a usage error that lists the known ones."""
    from protoncli.deploy.services import instance_stack
    from protoncli.errors import NotFoundError
    from protoncli.state.declared import read_environment, read_service

    record = read_service(project, name)
    declared = [i.name for i in record.spec.instances]
    if instance is not None and instance not in declared:
        raise NotFoundError(
            f"service {name!r} has no instance {instance!r}",
            hint=f"its instances: {', '.join(declared) or 'none'}",
        )
    stacks = []
    for i in record.spec.instances:
        if instance is not None and i.name != instance:
            continue
        environment = read_environment(project, i.environment)
        stacks.append(
            LogStack(
                source=i.name,
                instance=i.name,
                region=environment.region,
                stack=instance_stack(project, name, i.name),
                description=f"service instance {name}/{i.name}",
                account=environment.account,
            )
        )
    return stacks


def environment_log_stacks(project: Project, name: str) -> list[LogStack]:
    """The environment's stack (an unknown environment lists the known ones)."""
    from protoncli.deploy.environments import environment_stack
    from protoncli.state.declared import read_environment

    record = read_environment(project, name)
    return [
        LogStack(
            source=name,
            instance=None,
            region=record.region,
            stack=environment_stack(project, name),
            description=f"environment {name}",
            account=record.account,
        )
    ]


def gateway(project: Project, region: str, account: str | None = None) -> LogsGateway:
    from protoncli.aws.logs import LogsGateway

    target = project.target(region, account)
    return LogsGateway(lambda service: project.sessions.client(service, target))


def find_sources(project: Project, stacks: Sequence[LogStack]) -> LogSources:
    """The log groups of each stack's resources, in the stacks' order."""
    sources: list[LogSource] = []
    not_deployed: list[LogStack] = []
    for stack in stacks:
        reader = gateway(project, stack.region, stack.account)
        resources = reader.stack_resources(stack.stack)
        if resources is None:
            not_deployed.append(stack)
            continue
        groups: list[str] = []
        for resource in resources:
            if resource.resource_type == "AWS::Logs::LogGroup":
                found = [resource.physical_id]
            elif resource.resource_type == "AWS::ECS::TaskDefinition":
                found = reader.task_definition_groups(resource.physical_id)
            elif resource.resource_type == "AWS::Lambda::Function":
                found = [LAMBDA_PREFIX + resource.physical_id.rsplit(":", 1)[-1]]
            else:
                found = []
            groups.extend(group for group in found if group not in groups)
        sources.extend(LogSource(stack, group) for group in groups)
    return LogSources(tuple(sources), tuple(not_deployed))


def read_events(
    project: Project, sources: Sequence[LogSource], *, start: int, pattern: str | None = None
) -> list[LogEvent]:
    """Every event of the groups from `start` (ms) on, merged by timestamp."""
    events: list[LogEvent] = []
    for source in sources:
        reader = gateway(project, source.stack.region, source.stack.account)
        events.extend(
            LogEvent(
                timestamp=raw.timestamp,
                source=source.stack.source,
                instance=source.stack.instance,
                log_group=source.log_group,
                log_stream=raw.log_stream,
                message=raw.message,
                event_id=raw.event_id,
            )
            for raw in reader.events(source.log_group, start=start, pattern=pattern)
        )
    events.sort(key=lambda event: event.timestamp)  # stable: a group's own order is kept
    return events


def follow(
    project: Project,
    sources: Sequence[LogSource],
    *,
    start: int,
    pattern: str | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Iterator[list[LogEvent]]:
    """The events from `start` on, then each poll's new events, until the wait is interrupted
    (`Stopped`, a KeyboardInterrupt, from `project.sleep`). Polls every second while events
    come, waiting twice as long (up to 5 s) after each poll that brings none."""
    wait = sleep if sleep is not None else project.sleep
    seen: dict[tuple[str, str], int] = {}  # events read at the newest timestamp, by id
    interval = FIRST_POLL
    first = True
    while True:
        if not first:
            wait(interval)
        fresh = [
            event
            for event in read_events(project, sources, start=start, pattern=pattern)
            if (event.log_group, event.event_id) not in seen
        ]
        if fresh:
            # Read again from the newest timestamp: events of that millisecond may still come;
            # those already printed are known by id.
            start = max(event.timestamp for event in fresh)
            seen.update(((e.log_group, e.event_id), e.timestamp) for e in fresh)
            seen = {key: stamp for key, stamp in seen.items() if stamp >= start}
            interval = FIRST_POLL
        elif not first:
            interval = min(interval * 2, LONGEST_POLL)
        first = False
        yield fresh
