"""Where each node and edge of a fleet graph (`state.graph`) is drawn: a layered layout.

One column per kind, in the direction outputs flow: environments, components, service
instances, pipelines (a kind the graph does not hold takes no column). Within a column, nodes
are ordered by environment (in the order of the environments column) then name; a pipeline
sits by the first instance it reads. Edges are curves from the right side of the node whose
outputs are read to the left side of the node that reads them, labelled at their middle. The
layout depends on the graph only (same graph, same picture).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protoncli.state.graph import Edge, Graph, Node
from protoncli.state.identity import COMPONENT, ENVIRONMENT, PIPELINE, SERVICE_INSTANCE

COLUMN_ORDER = (ENVIRONMENT, COMPONENT, SERVICE_INSTANCE, PIPELINE)
NODE_WIDTH = 220
NODE_HEIGHT = 58
COLUMN_GAP = 150
ROW_GAP = 22
MARGIN = 24
HEADER = 28  # room above the first row for the column's title


@dataclass(frozen=True)
class Box:
    node: Node
    x: int
    y: int


@dataclass(frozen=True)
class Curve:
    edge: Edge
    start: tuple[int, int]
    end: tuple[int, int]

    @property
    def middle(self) -> tuple[int, int]:
        """The curve's midpoint (its label's anchor): a symmetric cubic's middle is the
        midpoint of its ends."""
        return ((self.start[0] + self.end[0]) // 2, (self.start[1] + self.end[1]) // 2)

    @property
    def path(self) -> str:
        """SVG path data: a cubic curve leaving and entering horizontally."""
        (x1, y1), (x2, y2) = self.start, self.end
        bend = max(40, (x2 - x1) // 2)
        return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


@dataclass(frozen=True)
class Column:
    kind: str
    x: int


@dataclass(frozen=True)
class Layout:
    width: int
    height: int
    columns: tuple[Column, ...]
    boxes: tuple[Box, ...]
    curves: tuple[Curve, ...]


def layout(graph: Graph) -> Layout:
    """Place the graph's nodes in columns and its edges between them."""
    kinds = [kind for kind in COLUMN_ORDER if any(n.kind == kind for n in graph.nodes)]
    environments = [n.name for n in graph.nodes if n.kind == ENVIRONMENT]
    environments += sorted({n.environment for n in graph.nodes if n.environment} - {*environments})
    rank = {name: index for index, name in enumerate(environments)}
    sources: dict[str, list[str]] = {}
    for edge in graph.edges:
        sources.setdefault(edge.target, []).append(edge.source)

    rows: dict[str, int] = {}
    columns, boxes = [], []
    most = 0  # boxes in the longest column
    for index, kind in enumerate(kinds):
        x = MARGIN + index * (NODE_WIDTH + COLUMN_GAP)
        columns.append(Column(kind, x))
        nodes = [n for n in graph.nodes if n.kind == kind]
        most = max(most, len(nodes))
        for row, node in enumerate(sorted(nodes, key=_order(kind, rows, sources, rank))):
            rows[node.id] = row
            y = MARGIN + HEADER + row * (NODE_HEIGHT + ROW_GAP)
            boxes.append(Box(node, x, y))
    where = {box.node.id: box for box in boxes}
    curves = [
        Curve(
            edge,
            (where[edge.source].x + NODE_WIDTH, where[edge.source].y + NODE_HEIGHT // 2),
            (where[edge.target].x, where[edge.target].y + NODE_HEIGHT // 2),
        )
        for edge in graph.edges
        if edge.source in where and edge.target in where
    ]
    width = 2 * MARGIN + max(1, len(kinds)) * NODE_WIDTH + max(0, len(kinds) - 1) * COLUMN_GAP
    height = 2 * MARGIN + HEADER + max(1, most) * (NODE_HEIGHT + ROW_GAP) - ROW_GAP
    return Layout(width, height, tuple(columns), tuple(boxes), tuple(curves))


def _order(
    kind: str, rows: dict[str, int], sources: dict[str, list[str]], rank: dict[str, int]
) -> Callable[[Node], tuple[int, int, str]]:
    """A column's sort key: a pipeline by the first row of the instances it reads; every node
    by its environment's row, then its name."""

    def key(node: Node) -> tuple[int, int, str]:
        before = [rows[s] for s in sources.get(node.id, []) if s in rows]
        near = min(before) if before and kind == PIPELINE else 0
        return (near, rank.get(node.environment or "", len(rank)), node.name)

    return key
