"""The AWS reads behind `pcli svc logs` and `pcli env logs`: a stack's resources, ECS task
definitions' log configuration, and CloudWatch Logs events.

Every call runs inside `aws_errors`; a denied call names the IAM permission to add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from protoncli.aws.cloudformation import is_missing_stack, stack_label
from protoncli.aws.errors import error_code, naming_permission

MISSING_GROUP = "ResourceNotFoundException"


@dataclass(frozen=True)
class StackResource:
    resource_type: str
    physical_id: str


@dataclass(frozen=True)
class RawLogEvent:
    """One CloudWatch Logs event as FilterLogEvents gives it."""

    event_id: str
    timestamp: int  # milliseconds since the epoch
    log_stream: str
    message: str


class LogsGateway:
    """CloudFormation, ECS and CloudWatch Logs clients of one account and region.

    `client(service)` makes (or reuses) a client; the ECS one is only made for a stack that has
    task definitions."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self._client = client

    def stack_resources(self, stack_name: str) -> list[StackResource] | None:
        """The stack's resources (paginated ListStackResources); None when there is no stack."""
        found: list[StackResource] = []
        cloudformation = self._client("cloudformation")
        with naming_permission(
            "ListStackResources", stack_label(stack_name), "cloudformation:ListStackResources"
        ):
            token: str | None = None
            while True:
                try:
                    page = cloudformation.list_stack_resources(
                        StackName=stack_name, **({"NextToken": token} if token else {})
                    )
                except ClientError as error:
                    if is_missing_stack(error):
                        return None
                    raise
                found.extend(
                    StackResource(str(item["ResourceType"]), str(item["PhysicalResourceId"]))
                    for item in page.get("StackResourceSummaries", [])
                    if item.get("PhysicalResourceId")
                )
                token = page.get("NextToken")
                if not token:
                    return found

    def task_definition_groups(self, task_definition: str) -> list[str]:
        """The `awslogs-group` of each container of the task definition that logs with the
        awslogs driver."""
        ecs = self._client("ecs")
        with naming_permission(
            "DescribeTaskDefinition",
            f"task definition {task_definition}",
            "ecs:DescribeTaskDefinition",
        ):
            answer = ecs.describe_task_definition(taskDefinition=task_definition)
        groups: list[str] = []
        for container in answer.get("taskDefinition", {}).get("containerDefinitions", []):
            config = container.get("logConfiguration") or {}
            group = (config.get("options") or {}).get("awslogs-group")
            if config.get("logDriver") == "awslogs" and group and group not in groups:
                groups.append(str(group))
        return groups

    def events(
        self, log_group: str, *, start: int, pattern: str | None = None
    ) -> list[RawLogEvent]:
        """The group's events from `start` (ms) on, every page of FilterLogEvents; none when
        the group does not exist (yet: a Lambda function's group appears at its first run)."""
        logs = self._client("logs")
        arguments: dict[str, Any] = {"logGroupName": log_group, "startTime": start}
        if pattern:
            arguments["filterPattern"] = pattern
        found: list[RawLogEvent] = []
        with naming_permission("FilterLogEvents", f"log group {log_group}", "logs:FilterLogEvents"):
            token: str | None = None
            while True:
                try:
                    page = logs.filter_log_events(
                        **arguments, **({"nextToken": token} if token else {})
                    )
                except ClientError as error:
                    if error_code(error) == MISSING_GROUP:
                        return []
                    raise
                found.extend(
                    RawLogEvent(
                        event_id=str(item.get("eventId", "")),
                        timestamp=int(item.get("timestamp", 0)),
                        log_stream=str(item.get("logStreamName", "")),
                        message=str(item.get("message", "")).rstrip("\n"),
                    )
                    for item in page.get("events", [])
                )
                token = page.get("nextToken")
                if not token:
                    return found
