"""`pcli graph`: the fleet as a picture (Mermaid or Graphviz DOT text), drawn by its state."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

from protoncli.cli.completion import complete_environments

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.state.fleet import FleetItem
    from protoncli.state.graph import Graph, Node, Templates

app = typer.Typer(
    help="Draw the fleet: environments, instances, pipelines, components and their outputs.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


class Format(StrEnum):
    mermaid = "mermaid"
    dot = "dot"


# state -> (fill, border); the legend of both formats
COLOURS = {
    "failed": ("#f8d7da", "#b71c1c"),
    "orphaned": ("#eeeeee", "#616161"),
    "pending": ("#fff3cd", "#b26a00"),
    "not-deployed": ("#fff3cd", "#b26a00"),
    "behind-major": ("#ffe0b2", "#e65100"),
    "behind-minor": ("#fff9c4", "#9e9d24"),
    "up-to-date": ("#d4edda", "#2e7d32"),
    "unknown": ("#ffffff", "#616161"),
}
# a service instance's health (--health) -> the colour of its border, drawn thick
HEALTH_BORDERS = {"healthy": "#2e7d32", "unhealthy": "#b71c1c", "unknown": "#757575"}
# kind -> a Mermaid node's brackets: environments boxes, instances rounded, pipelines framed,
# components hexagons
MERMAID_SHAPES = {
    "environment": ('["', '"]'),
    "pipeline": ('[["', '"]]'),
    "component": ('{{"', '"}}'),
}


@app.command("graph")
def graph(
    ctx: typer.Context,
    format_: Format = typer.Option(
        Format.mermaid, "--format", "-f", help="mermaid (Markdown, GitHub) or dot (Graphviz)."
    ),
    env: str | None = typer.Option(
        None,
        "--env",
        "-e",
        help="Only this environment, what lives in it, and the pipelines of its services.",
        autocompletion=complete_environments,
    ),
    health: bool = typer.Option(
        False,
        "--health",
        help="Also each service instance's health (healthy, unhealthy, unknown): in its label "
        "and as its border (reads ECS, ELB, Lambda and CloudWatch, as `pcli svc status`).",
    ),
) -> None:
    """Print the fleet as a graph (Mermaid or Graphviz DOT).

    Each environment with the service instances and components in it, each service's pipeline,
    and an arrow wherever one stack's outputs flow into another (labelled with the outputs the
    reading templates name). Nodes are coloured by state: failed, orphaned (dashed), pending or
    not deployed, behind a major or minor version, up to date. With --health, a service
    instance's border is green, red or grey: healthy, unhealthy, or unknown.

    Examples:

      pcli graph > fleet.mmd              (paste into a Markdown ```mermaid block)

      pcli graph --format dot | dot -Tsvg > fleet.svg

      pcli graph --env prod

      pcli graph --health --format dot | dot -Tpng > fleet.png
    """
    from protoncli.cli import output
    from protoncli.cli.commands.status import print_problems
    from protoncli.cli.deploying import open_project
    from protoncli.errors import NotFoundError
    from protoncli.state.fleet import read_fleet
    from protoncli.state.graph import build_graph

    project = open_project(ctx)
    fleet = read_fleet(project)
    if env is not None:
        known = sorted({item.environment for item in fleet.items if item.environment})
        if env not in known:
            raise NotFoundError(
                f"no environment {env!r} in this workspace or its stacks",
                hint=f"its environments: {', '.join(known) or 'none yet'}",
            )
    verdicts = None
    if health:
        from protoncli.cli.commands.health_view import fleet_health

        verdicts = fleet_health(project, fleet.items)
    drawn = build_graph(fleet, fleet_templates(project), env, verdicts)
    text = mermaid(drawn) if format_ is Format.mermaid else dot(drawn)
    output.line(text.rstrip("\n"))
    print_problems(fleet)
    if fleet.declared.problems or fleet.stack_problems:
        raise typer.Exit(1)


def fleet_templates(project: Project) -> Templates:
    """The texts of the templates each item renders: its blueprint version's, or for a
    component its folder's."""
    from protoncli.blueprints.bundle import load_bundle
    from protoncli.state.identity import COMPONENT, PIPELINE

    def texts(item: FleetItem) -> Iterable[str]:
        if item.kind == COMPONENT:
            if item.declared is None:
                return ()
            bundle = load_bundle(item.declared.source)
        else:
            if item.blueprint is None or item.version is None:
                return ()
            bundle = project.registry.load(project.registered(item.blueprint, item.version))
        manifest = bundle.pipeline if item.kind == PIPELINE else bundle.infrastructure
        return tuple(manifest.files.values()) if manifest is not None else ()

    return texts


def _groups(graph: Graph) -> tuple[dict[str, list[Node]], list[Node]]:
    """The nodes of each environment (in order), and those of none (pipelines)."""
    grouped: dict[str, list[Node]] = {}
    loose: list[Node] = []
    for node in graph.nodes:
        if node.environment is None:
            loose.append(node)
        else:
            grouped.setdefault(node.environment, []).append(node)
    return grouped, loose


def _class(state: str) -> str:
    return state.replace("-", "_")


def mermaid(graph: Graph) -> str:
    """Mermaid flowchart text."""

    def node(item: Node, indent: str) -> str:
        label = item.label.replace('"', "#quot;").replace("\n", "<br/>")
        opening, closing = MERMAID_SHAPES.get(item.kind, ('("', '")'))
        return f"{indent}{item.id}{opening}{label}{closing}:::{_class(item.state)}"

    lines = ["flowchart LR"]
    grouped, loose = _groups(graph)
    for environment, nodes in grouped.items():
        lines.append(f'  subgraph env_{_safe(environment)}["environment {environment}"]')
        lines += [node(item, "    ") for item in nodes]
        lines.append("  end")
    lines += [node(item, "  ") for item in loose]
    for edge in graph.edges:
        label = edge.label.replace('"', "#quot;")
        lines.append(f'  {edge.source} -->|"{label}"| {edge.target}')
    for state, (fill, border) in COLOURS.items():
        dashed = ",stroke-dasharray:5 3" if state == "orphaned" else ""
        lines.append(f"  classDef {_class(state)} fill:{fill},stroke:{border}{dashed}")
    for item in graph.nodes:
        border, thick = node_border(item)
        if thick:
            lines.append(f"  style {item.id} stroke:{border},stroke-width:3px")
    return "\n".join(lines) + "\n"


def node_border(node: Node) -> tuple[str, bool]:
    """A node's border: its health's colour, drawn thick (`--health`), else its state's."""
    if node.health is not None:
        return HEALTH_BORDERS[node.health], True
    return COLOURS.get(node.state, COLOURS["unknown"])[1], False


def dot(graph: Graph) -> str:
    """Graphviz DOT text."""

    def node(item: Node, indent: str) -> str:
        fill = COLOURS[item.state][0]
        border, thick = node_border(item)
        width = ", penwidth=3" if thick else ""
        style = "rounded,filled,dashed" if item.state == "orphaned" else "rounded,filled"
        shape = {"environment": "folder", "pipeline": "component"}.get(item.kind, "box")
        label = item.label.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return (
            f'{indent}{item.id} [label="{label}", shape={shape}, style="{style}", '
            f'fillcolor="{fill}", color="{border}"{width}];'
        )

    lines = [
        "digraph fleet {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    grouped, loose = _groups(graph)
    for environment, nodes in grouped.items():
        lines.append(f"  subgraph cluster_{_safe(environment)} {{")
        lines.append(f'    label="environment {environment}";')
        lines += [node(item, "    ") for item in nodes]
        lines.append("  }")
    lines += [node(item, "  ") for item in loose]
    for edge in graph.edges:
        label = edge.label.replace('"', '\\"')
        lines.append(f'  {edge.source} -> {edge.target} [label="{label}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name)
