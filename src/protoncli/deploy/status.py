"""`pcli status`: every resource of the workspace and its stack, read in bulk from AWS.

One paginated DescribeStacks per region the workspace uses (never one call per stack); stacks are
matched to the workspace by their `pcli:*` tags and by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from protoncli.deploy.model import StackInfo
from protoncli.deploy.project import Project


@dataclass(frozen=True)
class StatusRow:
    kind: str  # environment | service-instance | pipeline | component
    name: str  # environment, "service/instance", service, component
    environment: str | None
    blueprint: str
    version: str
    stack_name: str
    region: str
    stack_status: str  # the stack's status, or NOT_DEPLOYED
    last_deployed: datetime | None
    deployed_version: str | None  # the pcli:version tag of the stack


@dataclass(frozen=True)
class StatusReport:
    workspace: str
    rows: tuple[StatusRow, ...]
    aws_calls: int  # DescribeStacks pages read


def _planned(project: Project) -> list[tuple[str, str, str | None, str, str, str, str]]:
    """(kind, name, environment, blueprint, version, stack, region) for every declared resource."""
    from protoncli.deploy.components import component_stack
    from protoncli.deploy.environments import environment_stack, read_environment
    from protoncli.deploy.services import instance_stack, pipeline_stack, read_service
    from protoncli.workspace.specfiles import read_component

    planned: list[tuple[str, str, str | None, str, str, str, str]] = []
    regions: dict[str, str] = {}
    home = project.management_region()
    for env in project.workspace.environments():
        record = read_environment(project, env)
        regions[env] = record.region
        planned.append(
            (
                "environment",
                env,
                env,
                record.blueprint,
                record.version,
                environment_stack(project, env),
                record.region,
            )
        )
    for service in project.workspace.services():
        svc = read_service(project, service)
        for instance in svc.spec.instances:
            region = regions.get(instance.environment, home)
            planned.append(
                (
                    "service-instance",
                    f"{service}/{instance.name}",
                    instance.environment,
                    svc.blueprint,
                    svc.version,
                    instance_stack(project, service, instance.name),
                    region,
                )
            )
        planned.append(
            (
                "pipeline",
                service,
                None,
                svc.blueprint,
                svc.version,
                pipeline_stack(project, service),
                home,
            )
        )
    for component in project.workspace.components():
        comp = read_component(project.workspace, component)
        planned.append(
            (
                "component",
                component,
                comp.environment,
                "-",
                "-",
                component_stack(project, component),
                regions.get(comp.environment, home),
            )
        )
    return planned


def collect_status(project: Project) -> StatusReport:
    planned = _planned(project)
    stacks: dict[tuple[str, str], StackInfo] = {}
    calls = 0
    for region in sorted({row[6] for row in planned}):
        gateway = project.cloudformation(region)
        for found in gateway.describe_all():
            stacks[(region, found.name)] = found
        calls += gateway.pages_read
    rows = []
    for kind, name, environment, blueprint, version, stack, region in planned:
        info = stacks.get((region, stack))
        if kind == "pipeline" and info is None:
            continue  # a service without a pipeline (or not yet deployed) has no pipeline row
        rows.append(
            StatusRow(
                kind=kind,
                name=name,
                environment=environment,
                blueprint=blueprint,
                version=version,
                stack_name=stack,
                region=region,
                stack_status=info.status if info else "NOT_DEPLOYED",
                last_deployed=(info.last_updated or info.created) if info else None,
                deployed_version=_deployed_version(kind, info),
            )
        )
    return StatusReport(project.workspace.name, tuple(rows), calls)


def _deployed_version(kind: str, info: StackInfo | None) -> str | None:
    """The blueprint version the stack runs (components have no blueprint, so no version)."""
    if info is None or kind == "component":
        return None
    return info.tags.get("pcli:version")
