"""`pcli status --html FILE`: the fleet as one self-contained HTML page. Builds text, prints
nothing (status.py prints and writes).

The page holds the status table (the rows of `status --json`), its counts, filters that run in
the page (search, environment, kind, blueprint, behind / failed / pending / orphaned), the
fleet's graph (`state.graph`, laid out by `state.graph_layout`, drawn as inline SVG in
`pcli graph`'s colours) and each item's last deployments (`deploy.recent`). Everything is
inline: no script, style, font or image is fetched, and a Content-Security-Policy says so to
the browser. Every value is escaped (`html.escape`); the data the filters read is one JSON
document in a `<script type="application/json">` block with `<`, `>` and `&` escaped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.cli.commands.status_html_assets import PAGE_CSS, PAGE_SCRIPT
from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.deploy.recent import Recent
    from protoncli.state.fleet import Fleet, FleetItem
    from protoncli.state.graph import Graph
    from protoncli.state.graph_layout import Layout

STDOUT = "-"
COUNTS = (  # summary key, words
    ("up_to_date", "up to date"),
    ("behind_minor", "behind minor"),
    ("behind_major", "behind major"),
    ("failed", "failed"),
    ("pending", "pending"),
    ("orphaned", "orphaned"),
)
MARKS = ("behind", "failed", "pending", "orphaned")
LABEL_CHARACTERS = 30  # a node's line longer than this is cut (its title holds it whole)
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True)
class PageItem:
    """One row of the page: its status row (as `status --json`), what the filters read, the
    graph node it is drawn as, and its last deployments."""

    row: Mapping[str, Any]
    state: str  # the graph's state (colour)
    failed: bool
    behind: bool
    node: str | None
    recent: Recent


# ---------------------------------------------------------------------------------------------
# The file


def html_target(text: str) -> Path | None:
    """Where `--html TEXT` writes (None: stdout); a usage error when it cannot be written,
    checked before anything is read."""
    if text == STDOUT:
        return None
    if not text.strip():
        raise UsageError("--html needs a file name", hint="for example --html fleet.html")
    path = Path(text).expanduser().absolute()
    if path.is_dir():
        raise UsageError(
            f"--html {text}: {path} is a folder", hint=f"name a file, e.g. {path / 'fleet.html'}"
        )
    folder = path.parent
    if not folder.exists():
        raise UsageError(
            f"--html {text}: the folder {folder} does not exist",
            hint=f"create it first (mkdir -p {folder}) or name a file in a folder that exists",
        )
    if not folder.is_dir():
        raise UsageError(f"--html {text}: {folder} is not a folder", hint="name a file in a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(
            f"--html {text}: the folder {folder} is not writable",
            hint="name a file in a folder you can write to",
        )
    return path


def write_page(path: Path, page: str) -> None:
    """Write the page atomically (readers see the old page or the new one)."""
    from protoncli.yamlio import atomic_write

    try:
        atomic_write(path, page, shared=True)
    except OSError as error:
        raise UsageError(
            f"--html {path}: cannot write the page: {error.strerror or error}",
            hint="name a file in a folder you can write to",
        ) from None


# ---------------------------------------------------------------------------------------------
# Reading what the page shows


def fleet_page(
    project: Project,
    fleet: Fleet,
    items: Sequence[FleetItem],
    rows: Sequence[Mapping[str, Any]],
    *,
    made: datetime,
    verdicts: Mapping[tuple[str, ...], str] | None = None,
    filters: Sequence[str] = (),
) -> str:
    """Read the graph's templates and the items' last deployments (in bulk), then draw. With
    `verdicts` (`status --health`: each service instance's, by identity key; the rows hold them
    too), a HEALTH column, and borders in the graph."""
    from protoncli.cli.commands.graph import fleet_templates
    from protoncli.cli.commands.status import problem_documents, summary_document
    from protoncli.deploy.recent import read_recent
    from protoncli.deploy.records import HistoryTarget
    from protoncli.state.graph import build_graph, node_state
    from protoncli.state.identity import DEPLOYMENT_TAG

    graph = build_graph(fleet, fleet_templates(project), None, verdicts or None)
    nodes = {(node.kind, node.name): node.id for node in graph.nodes}
    targets = [HistoryTarget(i.identity, i.stack_name, i.region, i.account) for i in items]
    recent = read_recent(project, targets)
    page_items = [
        PageItem(
            row,
            node_state(item),
            item.failed,
            item.behind,
            nodes.get((item.kind, item.name)),
            found,
        )
        for item, row, found in zip(items, rows, recent, strict=True)
    ]
    currents = {
        i.stack_name: i.deployed.tags.get(DEPLOYMENT_TAG) for i in items if i.deployed is not None
    }
    return render_page(
        workspace=fleet.workspace,
        made=made,
        items=page_items,
        summary=summary_document(fleet, items),
        problems=problem_documents(fleet),
        graph=graph,
        health=verdicts is not None,
        filters=filters,
        currents=currents,
    )


# ---------------------------------------------------------------------------------------------
# Drawing


def render_page(
    *,
    workspace: str,
    made: datetime,
    items: Sequence[PageItem],
    summary: Mapping[str, int],
    problems: Sequence[Mapping[str, str]],
    graph: Graph,
    health: bool,
    filters: Sequence[str] = (),
    currents: Mapping[str, str | None] | None = None,
) -> str:
    """The whole page, as text."""
    from protoncli import __version__
    from protoncli.state.graph_layout import layout

    when = made.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    title = f"pcli status: {workspace}"
    chosen = f" (filtered: <code>{escape(' '.join(filters))}</code>)" if filters else ""
    parts = [
        "<!DOCTYPE html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n",
        f"<meta http-equiv='Content-Security-Policy' content=\"{CSP}\">\n",
        f"<meta name='generator' content='pcli {escape(__version__)}'>\n",
        f"<title>{escape(title)}</title>\n<style>\n{PAGE_CSS}{_state_css()}</style>\n",
        "</head>\n<body>\n<header>\n",
        f"<h1>Fleet of workspace <span class='ws'>{escape(workspace)}</span></h1>\n",
        (
            f"<p class='made'>Made <time datetime='{escape(made.isoformat())}'>{escape(when)}"
            f"</time> by <code>pcli status --html</code>{chosen}.</p>\n</header>\n<main>\n"
        ),
        _problems(problems),
        _summary(summary, len(items)),
        _filters(items),
        _table(items, health=health, currents=currents or {}),
        _graph_section(layout(graph), health=health),
        "</main>\n",
        "<script type='application/json' id='fleet-data'>",
        _data(workspace, made, items, summary, problems),
        "</script>\n<script>\n",
        PAGE_SCRIPT,
        "</script>\n</body>\n</html>\n",
    ]
    return "".join(parts)


def _state_css() -> str:
    """`pcli graph`'s colours, as the classes of the table's dots and the legend."""
    from protoncli.cli.commands.graph import COLOURS, HEALTH_BORDERS

    states = "".join(
        f".st-{state}{{--fill:{fill};--border:{border}}}\n"
        for state, (fill, border) in COLOURS.items()
    )
    return states + "".join(
        f".ring[data-health='{verdict}']{{border-color:{colour}}}\n"
        for verdict, colour in HEALTH_BORDERS.items()
    )


def _problems(problems: Sequence[Mapping[str, str]]) -> str:
    if not problems:
        return ""
    lines = "".join(
        f"<li>{escape(p.get('path') or p.get('stack_name') or '')}: {escape(p['message'])}</li>"
        for p in problems
    )
    return (
        "<section id='problems' class='problems'><h2>Could not be read</h2>"
        f"<p>The report leaves these out:</p><ul>{lines}</ul></section>\n"
    )


def _summary(summary: Mapping[str, int], total: int) -> str:
    counts = "".join(
        f"<div class='count c-{key}'><dt>{words}</dt>"
        f"<dd data-count='{key}'>{int(summary[key])}</dd></div>"
        for key, words in COUNTS
    )
    return (
        "<section id='summary'>\n<p id='shown'><strong data-count='total'>"
        f"{int(summary['total'])}</strong> of {total} item(s) shown</p>\n"
        f"<dl class='counts'>{counts}</dl>\n</section>\n"
    )


def _options(values: Sequence[str], words: Mapping[str, str] | None = None) -> str:
    words = words or {}
    return "".join(
        f"<option value='{escape(value)}'>{escape(words.get(value, value))}</option>"
        for value in values
    )


def _filters(items: Sequence[PageItem]) -> str:
    rows = [item.row for item in items]
    environments = sorted({r["environment"] for r in rows if r["environment"]})
    if any(not r["environment"] for r in rows):
        environments.append(STDOUT)  # no environment: pipelines
    order = ("environment", "service-instance", "pipeline", "component")
    kinds = [k for k in order if any(r["kind"] == k for r in rows)]
    blueprints = sorted({r["blueprint"] for r in rows if r["blueprint"]})
    marks = "".join(
        f"<label class='mark'><input type='checkbox' id='f-{mark}'> {mark}</label>"
        for mark in MARKS
    )
    return (
        "<form id='filters' role='search' autocomplete='off'>\n"
        "<label>Search <input type='search' id='f-text' "
        "placeholder='name, blueprint, stack, state'></label>\n"
        "<label>Environment <select id='f-env'><option value=''>all</option>"
        f"{_options(environments, {STDOUT: '(none: pipelines)'})}</select></label>\n"
        "<label>Kind <select id='f-kind'><option value=''>all</option>"
        f"{_options(kinds)}</select></label>\n"
        "<label>Blueprint <select id='f-blueprint'><option value=''>all</option>"
        f"{_options(blueprints)}</select></label>\n"
        f"{marks}\n<button type='reset'>Clear</button>\n</form>\n"
    )


def _table(items: Sequence[PageItem], *, health: bool, currents: Mapping[str, str | None]) -> str:
    from protoncli.cli.commands.status import row_cells, row_columns, state_cell

    if not items:
        return (
            "<p class='empty'>Nothing declared or deployed here. "
            "Start with: <code>pcli env create NAME -b BLUEPRINT</code></p>\n"
        )
    accounts = any(item.row.get("account") for item in items)
    heads = [
        "DEPLOYED (UTC)" if column == "DEPLOYED" else column
        for column in row_columns(accounts=accounts, health=health)
    ]
    heads += ["STATE", "LAST DEPLOYMENTS"]
    body = []
    for index, item in enumerate(items):
        row = item.row
        cells = row_cells(row, accounts=accounts, health=health)
        state = (
            f"<td class='state'><span class='dot st-{escape(item.state)}' "
            f"title='{escape(item.state)}'></span>{escape(state_cell(dict(row)))}</td>"
        )
        records = _deployments(item.recent, currents.get(row["stack_name"]))
        body.append(
            f"<tr class='item' id='item-{index}' data-i='{index}'>"
            + "".join(f"<td>{escape(str(cell))}</td>" for cell in cells)
            + f"{state}<td class='records'>{records}</td></tr>\n"
        )
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in heads)
    return (
        "<section id='table'>\n<table id='fleet'>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{''.join(body)}</tbody>\n</table>\n"
        "<p id='none-shown' hidden>No item matches the filters.</p>\n</section>\n"
    )


def _deployments(recent: Recent, current: str | None) -> str:
    """An item's last deployments: the newest as a summary line, all of them when opened."""
    error = (
        f"<span class='error'>records could not be read: {escape(recent.error)}</span>"
        if recent.error
        else ""
    )
    if not recent.records:
        return error or "<span class='none'>none recorded</span>"
    from protoncli.deploy.records import current_record

    running = current_record(recent.records, current) if current else None
    lines = []
    for record in recent.records:
        mark = " (current)" if record is running else ""
        who = record.who
        failures = "".join(f"<div class='failure'>{escape(f)}</div>" for f in record.failures)
        lines.append(
            f"<li class='{'ok' if record.ok else 'failed'}'>"
            f"<time>{record.started:%Y-%m-%d %H:%M}</time> {escape(record.outcome)} "
            f"{escape(record.status)} {escape(record.version or '-')} {escape(who)} "
            f"<code>{escape(record.short_id)}</code>{mark}{failures}</li>"
        )
    newest = recent.records[0]
    summary = (
        f"<span class='{'ok' if newest.ok else 'failed'}'>{escape(newest.outcome)}</span> "
        f"{newest.started:%Y-%m-%d %H:%M} ({len(recent.records)})"
    )
    return f"{error}<details><summary>{summary}</summary><ol>{''.join(lines)}</ol></details>"


def _graph_section(drawn: Layout, *, health: bool) -> str:
    from protoncli.cli.commands.graph import COLOURS, HEALTH_BORDERS

    legend = "".join(
        f"<li><span class='dot st-{state}'></span>{escape(state)}</li>" for state in COLOURS
    )
    if health:
        legend += "".join(
            f"<li><span class='ring' data-health='{verdict}'></span>{verdict}</li>"
            for verdict in HEALTH_BORDERS
        )
    return (
        "<section id='graph-section'>\n<h2>Graph</h2>\n"
        "<p class='hint'>Arrows go from the stack whose outputs are read to the one that reads "
        "them, labelled with the outputs named. Items the filters hide are dimmed.</p>\n"
        f"<ul class='legend'>{legend}</ul>\n<div class='graph'>{svg(drawn)}</div>\n</section>\n"
    )


def svg(drawn: Layout) -> str:
    """The laid-out graph as inline SVG (no namespace needed inside HTML)."""
    from protoncli.cli.commands.graph import COLOURS, node_border
    from protoncli.state.graph_layout import NODE_HEIGHT, NODE_WIDTH

    titles = {
        "environment": "environments",
        "component": "components",
        "service-instance": "service instances",
        "pipeline": "pipelines",
    }
    parts = [
        (
            f"<svg id='graph' viewBox='0 0 {drawn.width} {drawn.height}' width='{drawn.width}' "
            f"height='{drawn.height}' role='img' aria-label='the fleet graph'>"
        ),
        (
            "<defs><marker id='arrow' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
            "markerHeight='7' orient='auto'><path d='M0,0 L10,5 L0,10 z' fill='#555'/></marker>"
            "</defs>"
        ),
    ]
    parts += [
        f"<text class='column' x='{column.x}' y='18'>"
        f"{escape(titles.get(column.kind, column.kind))}</text>"
        for column in drawn.columns
    ]
    for curve in drawn.curves:
        x, y = curve.middle
        parts.append(
            f"<g class='edge' data-source='{escape(curve.edge.source)}' "
            f"data-target='{escape(curve.edge.target)}'><path d='{curve.path}' "
            "marker-end='url(#arrow)'/>"
            f"<text x='{x}' y='{y - 4}'>{escape(_cut(curve.edge.label))}</text></g>"
        )
    for box in drawn.boxes:
        node = box.node
        fill = COLOURS.get(node.state, COLOURS["unknown"])[0]
        border, thick = node_border(node)
        width = "4" if thick else "1.5"
        dashed = " stroke-dasharray='5 3'" if node.state == "orphaned" else ""
        lines = node.label.split("\n")
        text = "".join(
            f"<tspan x='{box.x + 10}' dy='{17 if n else 0}' class='{'more' if n else 'first'}'>"
            f"{escape(_cut(line))}</tspan>"
            for n, line in enumerate(lines)
        )
        parts.append(
            f"<g class='node' data-node='{escape(node.id)}'>"
            f"<title>{escape(node.kind)} {escape(node.label.replace(chr(10), ' '))} "
            f"({escape(node.state)})</title>"
            f"<rect x='{box.x}' y='{box.y}' width='{NODE_WIDTH}' height='{NODE_HEIGHT}' rx='8' "
            f"fill='{fill}' stroke='{border}' stroke-width='{width}'{dashed}/>"
            f"<text x='{box.x + 10}' y='{box.y + 19}'>{text}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _cut(text: str) -> str:
    return text if len(text) <= LABEL_CHARACTERS else text[: LABEL_CHARACTERS - 1] + "…"


def _data(
    workspace: str,
    made: datetime,
    items: Sequence[PageItem],
    summary: Mapping[str, int],
    problems: Sequence[Mapping[str, str]],
) -> str:
    """The JSON the page's script reads: `status --json`'s document, and per row what the
    filters need. `<`, `>` and `&` are escaped, so no value can end the script block."""
    from protoncli.cli.commands.status import state_cell

    document = {
        "workspace": workspace,
        "made": made.isoformat(),
        "resources": [dict(item.row) for item in items],
        "summary": dict(summary),
        "problems": [dict(p) for p in problems],
        "page": [
            {
                "node": item.node,
                "failed": item.failed,
                "behind": item.behind,
                "search": " ".join(
                    str(value)
                    for value in (
                        item.row["kind"],
                        item.row["name"],
                        item.row["environment"],
                        item.row["blueprint"],
                        item.row["version"],
                        item.row["stack_name"],
                        item.row["stack_status"],
                        item.row.get("health"),
                        item.state,
                        state_cell(dict(item.row)),
                    )
                    if value
                ).lower(),
            }
            for item in items
        ],
    }
    text = json.dumps(document, default=str, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
