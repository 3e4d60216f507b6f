"""The fleet as a graph: its items, and which outputs flow from one to another.

Nodes are the fleet's items (`state.fleet`): environments, service instances, pipelines and
components, declared or orphaned. Edges go from the stack whose outputs are read to the one that
reads them, as rendering does:

- an environment's outputs to each service instance and component in it;
- a component's outputs to the service instance it is attached to;
- each service instance's outputs to its service's pipeline.

An edge is labelled with the outputs the reading item's templates name (`environment.outputs.X`,
`service_instance.components.default.outputs.X`, an instance's `outputs.X` in a pipeline), found
in the templates of the blueprint version it pins; "outputs" when none is named or the templates
cannot be read (an orphan's blueprint gone from the registry). Each node carries the state it is
drawn in: failed, orphaned, pending, behind-major, behind-minor, up-to-date, not-deployed, or
unknown (a component: no blueprint versions).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from protoncli.state.fleet import BEHIND_MAJOR, BEHIND_MINOR, UP_TO_DATE, Fleet, FleetItem
from protoncli.state.identity import COMPONENT, ENVIRONMENT, PIPELINE, SERVICE_INSTANCE

FAILED = "failed"
ORPHANED = "orphaned"
PENDING = "pending"
NOT_DEPLOYED = "not-deployed"
UNKNOWN = "unknown"

_ENV_OUTPUT = re.compile(r"\benvironment\.outputs\.([A-Za-z0-9_]+)")
_COMPONENT_OUTPUT = re.compile(r"\bcomponents\.default\.outputs\.([A-Za-z0-9_]+)")
_ANY_OUTPUT = re.compile(r"(?<![A-Za-z0-9_.])([A-Za-z0-9_]+)\.outputs\.([A-Za-z0-9_]+)")

# an item -> the texts of the templates it renders
Templates = Callable[[FleetItem], Iterable[str]]


@dataclass(frozen=True)
class Node:
    id: str  # unique, made of letters, digits and '_' (mermaid and dot take it as is)
    kind: str
    name: str
    label: str  # name, blueprint@version
    state: str
    environment: str | None
    health: str | None = None  # a service instance's verdict with `pcli graph --health`


@dataclass(frozen=True)
class Edge:
    source: str  # the node whose outputs are read
    target: str  # the node that reads them
    outputs: tuple[str, ...]  # the outputs named, empty when none is known

    @property
    def label(self) -> str:
        return ", ".join(self.outputs) if self.outputs else "outputs"


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def node_state(item: FleetItem) -> str:
    """The one state a node is drawn in, the most urgent first."""
    if item.failed:
        return FAILED
    if item.orphaned:
        return ORPHANED
    if item.pending:
        return PENDING if item.is_deployed else NOT_DEPLOYED
    status = item.versions.status
    if status in (BEHIND_MAJOR, BEHIND_MINOR, UP_TO_DATE):
        return str(status)
    return UNKNOWN


def build_graph(
    fleet: Fleet,
    templates: Templates,
    environment: str | None = None,
    health: Mapping[tuple[str, ...], str] | None = None,
) -> Graph:
    """The fleet's graph; with `environment`, that environment, what lives in it, and the
    pipelines of the services with an instance there. `health` (by item key) gives the service
    instances their verdicts (healthy, unhealthy, unknown)."""
    items = list(fleet.items)
    if environment is not None:
        services = {
            item.identity.service
            for item in items
            if item.kind == SERVICE_INSTANCE and _environment_of(item) == environment
        }
        items = [
            item
            for item in items
            if _environment_of(item) == environment
            or (item.kind == PIPELINE and item.identity.service in services)
        ]
    verdicts = health or {}
    nodes = {item.identity.key: _node(item, verdicts.get(item.identity.key)) for item in items}
    edges: list[Edge] = []
    by_key = {item.identity.key: item for item in items}
    environments = {item.identity.environment: item for item in items if item.kind == ENVIRONMENT}
    components = {
        (item.identity.service, item.identity.instance): item
        for item in items
        if item.kind == COMPONENT
    }
    for item in items:
        texts = _texts(templates, item)
        if item.kind in (SERVICE_INSTANCE, COMPONENT):
            env = environments.get(_environment_of(item))
            if env is not None:
                names = _names(_ENV_OUTPUT, texts)
                edges.append(Edge(nodes[env.identity.key].id, nodes[item.identity.key].id, names))
        if item.kind == SERVICE_INSTANCE:
            component = components.get((item.identity.service, item.identity.instance))
            if component is not None:
                names = _names(_COMPONENT_OUTPUT, texts)
                source = nodes[component.identity.key].id
                edges.append(Edge(source, nodes[item.identity.key].id, names))
        if item.kind == PIPELINE:
            names = _instance_outputs(texts)
            for other in by_key.values():
                if (
                    other.kind == SERVICE_INSTANCE
                    and other.identity.service == item.identity.service
                ):
                    source = nodes[other.identity.key].id
                    edges.append(Edge(source, nodes[item.identity.key].id, names))
    return Graph(tuple(nodes.values()), tuple(edges))


def _environment_of(item: FleetItem) -> str | None:
    if item.kind == PIPELINE:
        return None
    if item.environment is not None:
        return item.environment
    return item.deployed.identity.environment if item.deployed is not None else None


def _node(item: FleetItem, health: str | None = None) -> Node:
    kind = item.kind
    names = "_".join(re.sub(r"[^A-Za-z0-9]", "_", part) for part in item.identity.names)
    pinned = f"{item.blueprint}@{item.version}" if item.blueprint and item.version else None
    label = f"{item.name}\n{pinned}" if pinned else item.name
    if health is not None:
        label += f"\n{health}"
    return Node(
        id=f"{kind.replace('-', '_')}__{names}",
        kind=kind,
        name=item.name,
        label=label,
        state=node_state(item),
        environment=_environment_of(item),
        health=health,
    )


def _texts(templates: Templates, item: FleetItem) -> tuple[str, ...]:
    try:
        return tuple(templates(item))
    except Exception:  # noqa: BLE001 - a template that cannot be read only leaves labels out
        return ()


def _names(pattern: re.Pattern[str], texts: Iterable[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for text in texts:
        for match in pattern.finditer(text):
            found[match.group(1)] = None
    return tuple(found)


def _instance_outputs(texts: Iterable[str]) -> tuple[str, ...]:
    """Outputs a pipeline reads of its instances: `X.outputs.NAME` where X is not the
    environment (a loop variable over `service_instances`, or `service_instance`)."""
    found: dict[str, None] = {}
    for text in texts:
        for match in _ANY_OUTPUT.finditer(text):
            if match.group(1) not in ("environment", "default", "pipeline"):
                found[match.group(2)] = None
    return tuple(found)
