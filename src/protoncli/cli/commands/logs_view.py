"""`pcli svc logs` and `pcli env logs`: find the log groups, print the events (text or NDJSON),
follow them until Ctrl-C."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.deploying import open_project
from protoncli.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from protoncli.deploy.logs import LogEvent, LogStack
    from protoncli.deploy.project import Project


def event_record(event: LogEvent) -> dict[str, Any]:
    return {
        "timestamp": event.time.isoformat(timespec="milliseconds"),
        "instance": event.instance,
        "log_group": event.log_group,
        "log_stream": event.log_stream,
        "message": event.message,
    }


def event_line(event: LogEvent) -> str:
    """`TIMESTAMP SOURCE MESSAGE`; SOURCE is the instance (or environment), the group's last
    path part and the stream's last part, shortened."""
    group = event.log_group.rstrip("/").rsplit("/", 1)[-1]
    stream = event.log_stream.rsplit("/", 1)[-1][:12]
    stamp = event.time.strftime("%Y-%m-%dT%H:%M:%S.") + f"{event.timestamp % 1000:03d}Z"
    return f"{stamp} {event.source}:{group}/{stream} {event.message}"


def show_logs(
    ctx: typer.Context,
    stacks: Callable[[Project], list[LogStack]],
    *,
    since: str | None,
    follow: bool,
    pattern: str | None,
    json_: bool,
    deploy_hint: str,
) -> None:
    from protoncli.deploy import logs

    as_json = output.wants_json(ctx, json_)
    start = logs.parse_since(since or logs.DEFAULT_SINCE, datetime.now(UTC))
    project = open_project(ctx)
    chosen = stacks(project)
    found = logs.find_sources(project, chosen)
    if len(found.not_deployed) == len(chosen):
        names = ", ".join(f"{s.description} (stack {s.stack})" for s in found.not_deployed)
        raise UsageError(f"not deployed: {names}", hint=f"deploy it first: {deploy_hint}")
    for stack in found.not_deployed:
        output.note(f"Note: {stack.description} is not deployed (no stack {stack.stack}).")
    if not found.sources:
        output.note("No log groups found in the stacks' resources: nothing to show.")
        return

    def emit(batch: list[LogEvent]) -> None:
        for event in batch:
            if as_json:
                sys.stdout.write(json.dumps(event_record(event)) + "\n")
            else:
                sys.stdout.write(event_line(event) + "\n")
        sys.stdout.flush()

    if not follow:
        emit(logs.read_events(project, found.sources, start=start, pattern=pattern))
        return
    try:
        for batch in logs.follow(project, found.sources, start=start, pattern=pattern):
            emit(batch)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
