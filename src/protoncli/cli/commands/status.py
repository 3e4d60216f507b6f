"""`pcli status`: every resource of the workspace and its stack, in one bulk read per region."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output

if TYPE_CHECKING:
    from protoncli.deploy.project import Project

app = typer.Typer(
    help="Show every environment, service instance, pipeline and component with its stack.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


def status_rows(project: Project) -> list[dict[str, Any]]:
    from protoncli.deploy.status import collect_status

    report = collect_status(project)
    rows = []
    for row in report.rows:
        record = asdict(row)
        record["last_deployed"] = row.last_deployed.isoformat() if row.last_deployed else None
        rows.append(record)
    return rows


def print_rows(rows: list[dict[str, Any]], *, json_: bool, key: str = "resources") -> None:
    if json_:
        output.print_json({key: rows})
        return
    if not rows:
        output.note(
            "Nothing declared in this workspace yet. Start with: pcli env create NAME -b BLUEPRINT"
        )
        return
    output.table(
        ["KIND", "NAME", "ENVIRONMENT", "BLUEPRINT", "STATUS", "LAST DEPLOYED"],
        [
            (
                r["kind"],
                r["name"],
                r["environment"] or "-",
                f"{r['blueprint']}@{r['version']}" if r["version"] != "-" else "-",
                r["stack_status"],
                (r["last_deployed"] or "-")[:19].replace("T", " "),
            )
            for r in rows
        ],
    )


@app.command("status")
def status(
    ctx: typer.Context,
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Show every environment, service instance, pipeline and component of the workspace.

    Reads stacks in bulk: one paginated DescribeStacks per region, never one call per stack.

    Examples:

      pcli status

      pcli --sandbox status --json
    """
    from protoncli.cli.deploying import open_project

    project = open_project(ctx)
    rows = status_rows(project)
    if output.wants_json(ctx, json_):
        output.print_json({"workspace": project.workspace.name, "resources": rows})
        return
    print_rows(rows, json_=False)
