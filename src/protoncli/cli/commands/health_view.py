"""`pcli svc status` and the HEALTH column of `pcli status --health`: reads the health of
service instances (deploy/health.py) and prints it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from protoncli.cli import output

if TYPE_CHECKING:
    from protoncli.deploy.health import HealthStack, InstanceHealth
    from protoncli.deploy.project import Project
    from protoncli.state.fleet import FleetItem


def health_stack(item: FleetItem) -> HealthStack:
    from protoncli.deploy.health import HealthStack

    stack = item.stack
    return HealthStack(
        instance=item.identity.instance or item.name,
        region=item.region,
        stack=item.stack_name,
        outputs=dict(stack.outputs) if stack is not None else None,
        account=item.account,
    )


def service_health(project: Project, name: str, instance: str | None) -> list[InstanceHealth]:
    """The health of the service's instances (only `instance` when given), in the spec's order;
    an unknown service or instance is a usage error that names the known ones."""
    from protoncli.cli.commands.service import places_of
    from protoncli.cli.commands.status import read_fleet
    from protoncli.deploy.health import HealthStack, read_health
    from protoncli.deploy.logs import service_log_stacks
    from protoncli.state.declared import read_service

    stacks = service_log_stacks(project, name, instance)  # checks the names
    record = read_service(project, name)
    items = {
        item.identity.instance: item
        for item in read_fleet(project, places_of(project, record)).of_service(name)
        if item.kind == "service-instance"
    }
    chosen = []
    for stack in stacks:
        item = items.get(stack.instance)
        if item is not None and item.is_deployed:
            chosen.append(health_stack(item))
        else:
            chosen.append(HealthStack(stack.source, stack.region, stack.stack, None, stack.account))
    return read_health(project, chosen)


def health_document(health: InstanceHealth) -> dict[str, Any]:
    """One instance as `svc status --json` prints it (svc-status.schema.json)."""
    return {
        "instance": health.instance,
        "stack_name": health.stack,
        "region": health.region,
        "account": health.account,
        "deployed": health.deployed,
        "health": health.verdict,
        "url": health.url,
        "checks": [
            {
                "what": check.what,
                "health": check.verdict,
                "detail": check.detail,
                "missing_permission": check.permission,
            }
            for check in health.checks
        ],
    }


def print_health(name: str, found: Sequence[InstanceHealth], *, json_: bool) -> None:
    if json_:
        output.print_json({"service": name, "instances": [health_document(h) for h in found]})
        return
    for index, health in enumerate(found):
        if index:
            output.line()
        output.line(f"{health.instance}: {health.verdict}")
        if not health.deployed:
            output.line("  not deployed")
            continue
        output.line(f"  URL: {health.url or '- (no output is an http(s) URL)'}")
        for check in health.checks:
            output.line(f"  {check.verdict:<9}  {check.what}: {check.detail}")
        if not health.checks:
            output.line(
                "  nothing to check: no ECS service, target group, Lambda function or alarm"
            )


def fail_unless_healthy(name: str, found: Sequence[InstanceHealth]) -> None:
    """Exit 1 (one message) when an instance is not healthy."""
    from protoncli.deploy.health import HEALTHY
    from protoncli.errors import PcliError

    bad = [health for health in found if health.verdict != HEALTHY]
    if not bad:
        return
    words = ", ".join(f"{health.instance} {health.verdict}" for health in bad)
    permissions = list(dict.fromkeys(p for h in bad for p in h.missing_permissions))
    if permissions:
        hint = (
            f"the credentials in use lack {', '.join(permissions)}: add them to their policy "
            "(or use a profile or role that has them) to see the whole health"
        )
    elif any(not health.deployed for health in bad):
        hint = f"deploy it first: pcli svc deploy {name} --yes"
    else:
        hint = "see the checks above for what is not healthy"
    raise PcliError(f"service {name}: {words}", hint=hint)


def fleet_health(project: Project, items: Sequence[FleetItem]) -> dict[tuple[str, ...], str]:
    """`status --health`: each deployed service instance's verdict, by item key; other items
    are not in it (their cell is `-`)."""
    from protoncli.deploy.health import read_health

    instances = [item for item in items if item.kind == "service-instance" and item.is_deployed]
    found = read_health(project, [health_stack(item) for item in instances])
    return {
        item.identity.key: health.verdict for item, health in zip(instances, found, strict=True)
    }
