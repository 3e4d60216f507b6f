"""The AWS reads behind `pcli svc status`: ECS services, load balancer target health, Lambda
functions, CloudWatch alarms and Lambda metrics of one account and region.

Every call runs inside `aws_errors`. A denied call raises `aws.errors.DeniedError`, which names
the IAM permission: the caller shows that part of the health as unknown instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from protoncli.aws.errors import error_code, naming_permission

ECS_BATCH = 10  # DescribeServices takes up to 10 services per call
METRIC_BATCH = 500  # GetMetricData takes up to 500 queries per call
MISSING_FUNCTION = "ResourceNotFoundException"
MISSING_TARGET_GROUP = "TargetGroupNotFound"


@dataclass(frozen=True)
class EcsService:
    arn: str
    name: str
    cluster: str
    status: str  # ACTIVE | DRAINING | INACTIVE | MISSING (not found)
    desired: int
    running: int
    pending: int
    rollout: str | None  # the primary deployment's rolloutState: IN_PROGRESS, COMPLETED, FAILED


@dataclass(frozen=True)
class TargetState:
    target: str  # id:port
    state: str  # healthy | unhealthy | initial | draining | unused | unavailable
    reason: str | None


@dataclass(frozen=True)
class FunctionState:
    name: str
    state: str | None  # Pending | Active | Inactive | Failed; None when not found
    last_update: str | None  # Successful | Failed | InProgress


@dataclass(frozen=True)
class Alarm:
    name: str
    reason: str
    dimensions: tuple[str, ...]  # the values of the alarm's metric dimensions


def cluster_of(service_arn: str) -> str | None:
    """The cluster named in a service ARN of the long format
    (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`); None for the short one."""
    parts = service_arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "service" else None  # noqa: PLR2004 - service/CLUSTER/NAME


class HealthGateway:
    """ECS, ELBv2, Lambda and CloudWatch clients of one account and region (made when used)."""

    def __init__(self, client: Callable[[str], Any]) -> None:
        self._client = client

    def ecs_services(self, cluster: str, services: Sequence[str]) -> list[EcsService]:
        """The services of one cluster, ten per DescribeServices call."""
        ecs = self._client("ecs")
        found: list[EcsService] = []
        for start in range(0, len(services), ECS_BATCH):
            batch = list(services[start : start + ECS_BATCH])
            with naming_permission(
                "DescribeServices", f"ECS cluster {cluster}", "ecs:DescribeServices"
            ):
                answer = ecs.describe_services(cluster=cluster, services=batch)
            found.extend(_ecs_service(item, cluster) for item in answer.get("services", []))
            for failure in answer.get("failures", []):
                arn = str(failure.get("arn", ""))
                found.append(
                    EcsService(arn, arn.rsplit("/", 1)[-1], cluster, "MISSING", 0, 0, 0, None)
                )
        return found

    def target_health(self, target_group: str) -> list[TargetState] | None:
        """The targets of a target group and their health; None when it does not exist."""
        elbv2 = self._client("elbv2")
        with naming_permission(
            "DescribeTargetHealth",
            f"target group {target_group}",
            "elasticloadbalancing:DescribeTargetHealth",
        ):
            try:
                answer = elbv2.describe_target_health(TargetGroupArn=target_group)
            except ClientError as error:
                if error_code(error) == MISSING_TARGET_GROUP:
                    return None
                raise
        states = []
        for item in answer.get("TargetHealthDescriptions", []):
            target = item.get("Target", {})
            health = item.get("TargetHealth", {})
            port = target.get("Port")
            states.append(
                TargetState(
                    target=f"{target.get('Id', '?')}" + (f":{port}" if port else ""),
                    state=str(health.get("State", "unavailable")),
                    reason=health.get("Reason"),
                )
            )
        return states

    def function(self, name: str) -> FunctionState:
        """A Lambda function's state and last update's status (GetFunction: ListFunctions does
        not give them)."""
        client = self._client("lambda")
        with naming_permission("GetFunction", f"Lambda function {name}", "lambda:GetFunction"):
            try:
                answer = client.get_function(FunctionName=name)
            except ClientError as error:
                if error_code(error) == MISSING_FUNCTION:
                    return FunctionState(name, None, None)
                raise
        config = answer.get("Configuration", {})
        return FunctionState(
            name,
            str(config.get("State") or "Active"),
            str(config.get("LastUpdateStatus") or "Successful"),
        )

    def alarms_in_alarm(self) -> list[Alarm]:
        """Every metric alarm in the ALARM state (one paginated DescribeAlarms)."""
        cloudwatch = self._client("cloudwatch")
        found: list[Alarm] = []
        with naming_permission(
            "DescribeAlarms", "alarms in state ALARM", "cloudwatch:DescribeAlarms"
        ):
            token: str | None = None
            while True:
                page = cloudwatch.describe_alarms(
                    StateValue="ALARM", **({"NextToken": token} if token else {})
                )
                found.extend(
                    Alarm(
                        name=str(item["AlarmName"]),
                        reason=" ".join(str(item.get("StateReason", "")).split()),
                        dimensions=tuple(
                            str(d.get("Value", "")) for d in item.get("Dimensions", [])
                        ),
                    )
                    for item in page.get("MetricAlarms", [])
                )
                token = page.get("NextToken")
                if not token:
                    return found

    def lambda_sums(
        self, functions: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, tuple[float, float]]:
        """Each function's sum of Errors and Throttles from `start` to `end` (GetMetricData,
        up to 500 queries per call)."""
        cloudwatch = self._client("cloudwatch")
        queries = [
            {
                "Id": f"{metric[0].lower()}{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Lambda",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "FunctionName", "Value": name}],
                    },
                    "Period": max(60, int((end - start).total_seconds())),
                    "Stat": "Sum",
                },
            }
            for index, name in enumerate(functions)
            for metric in ("Errors", "Throttles")
        ]
        sums: dict[str, float] = {}
        for first in range(0, len(queries), METRIC_BATCH):
            batch = queries[first : first + METRIC_BATCH]
            with naming_permission(
                "GetMetricData", "Lambda metrics Errors and Throttles", "cloudwatch:GetMetricData"
            ):
                token: str | None = None
                while True:
                    page = cloudwatch.get_metric_data(
                        MetricDataQueries=batch,
                        StartTime=start,
                        EndTime=end,
                        **({"NextToken": token} if token else {}),
                    )
                    for result in page.get("MetricDataResults", []):
                        key = str(result["Id"])
                        sums[key] = sums.get(key, 0.0) + sum(result.get("Values", []))
                    token = page.get("NextToken")
                    if not token:
                        break
        return {
            name: (sums.get(f"e{index}", 0.0), sums.get(f"t{index}", 0.0))
            for index, name in enumerate(functions)
        }


def _ecs_service(item: dict[str, Any], cluster: str) -> EcsService:
    deployments = item.get("deployments", [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    rollout = primary.get("rolloutState") if primary else None
    return EcsService(
        arn=str(item.get("serviceArn", "")),
        name=str(item.get("serviceName", "")),
        cluster=cluster,
        status=str(item.get("status", "ACTIVE")),
        desired=int(item.get("desiredCount", 0)),
        running=int(item.get("runningCount", 0)),
        pending=int(item.get("pendingCount", 0)),
        rollout=str(rollout) if rollout else None,
    )
