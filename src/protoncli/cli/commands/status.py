"""`pcli status`: the fleet dashboard — every item declared or deployed, joined by identity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.completion import complete_blueprint_names, complete_environments

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.state.fleet import Fleet, FleetItem

app = typer.Typer(
    help="Show the fleet: every item declared or deployed, versions behind, pending, orphaned.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


def read_fleet(
    project: Project, places: Iterable[str | tuple[str, str | None]] | None = None
) -> Fleet:
    from protoncli.state.fleet import read_fleet as read

    return read(project, places)


def item_row(item: FleetItem) -> dict[str, Any]:
    """One item as `status --json` (and the lists) show it; see status-row.schema.json."""
    last = item.last_deployed
    return {
        "kind": item.kind,
        "name": item.name,
        "environment": item.environment,
        "blueprint": item.blueprint,
        "version": item.version,
        "deployed_version": item.deployed_version,
        "stack_name": item.stack_name,
        "region": item.region,
        "account": item.account,
        "stack_status": item.stack_status,
        "last_deployed": last.isoformat() if last else None,
        "declared": item.is_declared,
        "deployed": item.is_deployed,
        "pending": item.pending,
        "pending_reasons": list(item.reasons),
        "overrides": {override.key: override.deployed for override in item.overrides},
        "orphaned": item.orphaned,
        "unreadable": item.unreadable,
        "drift": item.drift,
        "provisioning": item.stack.provisioning if item.stack is not None else None,
        "status_reason": item.stack.status_reason if item.stack is not None else None,
        "version_status": item.versions.status,
        "recommended_version": item.versions.recommended,
    }


def summary_document(fleet: Fleet, items: Iterable[FleetItem]) -> dict[str, int]:
    summary = fleet.summary(items)
    return {
        "total": summary.total,
        "up_to_date": summary.up_to_date,
        "behind_minor": summary.behind_minor,
        "behind_major": summary.behind_major,
        "failed": summary.failed,
        "pending": summary.pending,
        "orphaned": summary.orphaned,
    }


def blueprint_cell(row: Mapping[str, Any]) -> str:
    if row["blueprint"] is None:
        return "-"
    return f"{row['blueprint']}@{row['version']}"


KIND_WORDS = {"service-instance": "instance"}  # the table's short word; JSON keeps the kind


def state_cell(row: dict[str, Any]) -> str:
    """Where the version stands and the item's marks: `up-to-date`, `behind-minor 1.2`,
    `runs 1.0, pending`, `orphaned`, ..."""
    parts = []
    deployed = row["deployed_version"]
    if deployed is not None and row["version"] not in (None, deployed):
        parts.append(f"runs {deployed}")
    status = row["version_status"]
    if status in ("behind-minor", "behind-major"):
        parts.append(f"{status} {row['recommended_version']}")
    elif status is not None:
        parts.append(status)
    parts += [mark for mark in ("pending", "orphaned") if row[mark]]
    if row.get("overrides"):  # deployed with svc deploy --param values the spec does not hold
        parts.append("overridden")
    if row["unreadable"]:
        parts.append("spec unreadable")
    if row["drift"] == "DRIFTED":
        parts.append("drifted")
    provisioning = row.get("provisioning")
    if (
        provisioning
        and row["stack_status"].endswith("_IN_PROGRESS")
        and "pull request" in (provisioning)
    ):
        parts.append("pull request open: waits for pcli notify")
    elif provisioning:
        parts.append(provisioning)
    return ", ".join(parts) or "-"


def print_rows(rows: Sequence[dict[str, Any]], *, json_: bool, key: str = "resources") -> None:
    if json_:
        output.print_json({key: list(rows)})
        return
    if not rows:
        output.note(
            "Nothing declared or deployed here. Start with: pcli env create NAME -b BLUEPRINT"
        )
        return
    accounts = any(r.get("account") for r in rows)  # a column only where accounts are named
    health = any("health" in r for r in rows)  # status --health
    output.table(
        [*row_columns(accounts=accounts, health=health), "STATE"],
        [(*row_cells(r, accounts=accounts, health=health), state_cell(r)) for r in rows],
        wrap=("NAME", "STATE"),
    )


def row_columns(*, accounts: bool, health: bool) -> list[str]:
    """The fleet table's columns before STATE (the table's and the fleet page's)."""
    return [
        "KIND",
        "NAME",
        "ENV",
        *(["ACCOUNT"] if accounts else []),
        "BLUEPRINT",
        "STACK",
        "DEPLOYED",
        *(["HEALTH"] if health else []),
    ]


def row_cells(row: Mapping[str, Any], *, accounts: bool, health: bool) -> list[str]:
    """A row's cells under `row_columns`."""
    return [
        KIND_WORDS.get(row["kind"], row["kind"]),
        row["name"],
        row["environment"] or "-",
        *([row.get("account") or "-"] if accounts else []),
        blueprint_cell(row),
        row["stack_status"],
        (row["last_deployed"] or "-")[:16].replace("T", " "),
        *([row.get("health") or "-"] if health else []),
    ]


def print_problems(fleet: Fleet) -> None:
    """Warn about every file and stack the fleet could not read (the command then exits 1),
    and about each region whose stacks had to be read one by one."""
    for region, failure in sorted(fleet.bulk_failures.items()):
        output.warn(
            f"DescribeStacks of every stack in {region} failed ({failure}); "
            "its stacks were read one by one"
        )
    for problem in fleet.declared.problems:
        output.warn(f"could not read {problem.path}: {problem.message}")
    from protoncli.state.deployed import place_name

    for stack in fleet.stack_problems:
        output.warn(
            f"could not read stack {stack.stack_name} in "
            f"{place_name(stack.region, stack.account)} ({stack.status}): "
            f"DescribeStacks answered {stack.message}"
        )


def problem_documents(fleet: Fleet) -> list[dict[str, str]]:
    """The `problems` of `status --json`: files, then stacks (see status.schema.json)."""
    files = [{"path": str(p.path), "message": p.message} for p in fleet.declared.problems]
    stacks = [
        {
            "stack_name": p.stack_name,
            "region": p.region,
            "stack_status": p.status,
            "message": f"DescribeStacks answered {p.message}",
        }
        for p in fleet.stack_problems
    ]
    return files + stacks


def fail_on_problems(fleet: Fleet) -> None:
    from protoncli.errors import PcliError

    files, stacks = len(fleet.declared.problems), len(fleet.stack_problems)
    what, todo = [], []
    if files:
        what.append(f"{files} file(s) of the workspace")
        todo.append("fix the files named above")
    if stacks:
        what.append(f"{stacks} stack(s)")
        todo.append(
            "wait for the endpoint's fault to pass (it failed to describe the stacks named above)"
        )
    if what:
        raise PcliError(
            f"{' and '.join(what)} could not be read; the report above leaves them out",
            hint=f"{' and '.join(todo)}, then run the command again",
        )


def choose(
    fleet: Fleet,
    *,
    env: str | None = None,
    blueprint: str | None = None,
    behind: bool = False,
    failed: bool = False,
    pending: bool = False,
    orphaned: bool = False,
) -> list[FleetItem]:
    """The items that pass every filter given (no filter: every item)."""
    return [
        item
        for item in fleet.items
        if (env is None or item.environment == env)
        and (blueprint is None or item.blueprint == blueprint)
        and (not behind or item.behind)
        and (not failed or item.failed)
        and (not pending or item.pending)
        and (not orphaned or item.orphaned)
    ]


@app.command("status")
def status(
    ctx: typer.Context,
    env: str | None = typer.Option(
        None,
        "--env",
        "-e",
        help="Only items in this environment.",
        autocompletion=complete_environments,
    ),
    blueprint: str | None = typer.Option(
        None,
        "--blueprint",
        "-b",
        help="Only items of this blueprint.",
        autocompletion=complete_blueprint_names,
    ),
    behind: bool = typer.Option(
        False, "--behind", help="Only items behind the recommended version."
    ),
    failed: bool = typer.Option(False, "--failed", help="Only items whose stack failed."),
    pending: bool = typer.Option(
        False,
        "--pending",
        help="Only items whose stack differs from the workspace (apply would act).",
    ),
    orphaned: bool = typer.Option(
        False, "--orphaned", help="Only stacks of the workspace that no spec declares any more."
    ),
    health: bool = typer.Option(
        False,
        "--health",
        help="Add each service instance's health (healthy, unhealthy, unknown): a HEALTH "
        "column, a `health` field in JSON (reads ECS, ELB, Lambda and CloudWatch).",
    ),
    html: str | None = typer.Option(
        None,
        "--html",
        metavar="FILE",
        help="Also write the fleet as one self-contained HTML page to FILE (table, counts, "
        "filters, graph, each item's last deployments); `-` writes the page to stdout instead "
        "of the table.",
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Show every item of the workspace, declared or deployed, with its versions and stack.

    An item is an environment, a service instance, a pipeline or a component. Each shows its
    blueprint version (and whether it is behind the registry's recommended minor or major
    version), its stack status, and marks: `pending` when its stack is not what the workspace
    declares (`pcli plan` says why), `orphaned` when a stack of the workspace is no longer
    declared. Counts follow the table. Stacks are read in bulk: one paginated DescribeStacks
    per region the workspace uses; when the endpoint fails that read, the region's stacks are
    read one by one. Filters combine (all must hold).

    With --html FILE, the same report is also written (atomically) as one HTML page that
    needs no server and loads nothing from the network: the table and its counts, filters that
    run in the page, the fleet's graph (as `pcli graph` draws it) and each item's last five
    deployments (their records are read in bulk). `--html -` prints the page instead of the
    table. With --json, the document gives the page's path as `html`.

    Exit codes: 0, or 1 when a spec file or a stack could not be read (the rest is still
    shown), or 2 when FILE's folder does not exist or cannot be written.

    Examples:

      pcli status

      pcli status --env prod --behind

      pcli status --orphaned --json

      pcli status --health

      pcli status --html fleet.html
    """
    from protoncli.cli.deploying import open_project

    page_path = _html_target(html, json_=output.wants_json(ctx, json_))
    project = open_project(ctx)
    fleet = read_fleet(project)
    items = choose(
        fleet,
        env=env,
        blueprint=blueprint,
        behind=behind,
        failed=failed,
        pending=pending,
        orphaned=orphaned,
    )
    rows = [item_row(item) for item in items]
    verdicts = None
    if health:
        from protoncli.cli.commands.health_view import fleet_health

        verdicts = fleet_health(project, items)
        for row, item in zip(rows, items, strict=True):
            row["health"] = verdicts.get(item.identity.key)
    if html is not None:
        from protoncli.cli.commands.status_html import fleet_page, write_page
        from protoncli.deploy.engine import utc_now

        flags = {"--env": env, "--blueprint": blueprint, "--behind": behind, "--failed": failed}
        flags |= {"--pending": pending, "--orphaned": orphaned}
        page = fleet_page(
            project, fleet, items, rows, made=utc_now(), verdicts=verdicts, filters=_given(flags)
        )
        if page_path is not None:
            write_page(page_path, page)
    if html is not None and page_path is None:  # --html -: the page is the output
        output.line(page.rstrip("\n"))
        print_problems(fleet)
    elif output.wants_json(ctx, json_):
        document = {
            "workspace": fleet.workspace,
            "resources": rows,
            "summary": summary_document(fleet, items),
            "problems": problem_documents(fleet),
        }
        if page_path is not None:
            document["html"] = str(page_path)
        output.print_json(document)
    else:
        print_rows(rows, json_=False)
        if rows:
            counts = summary_document(fleet, items)
            output.line(
                f"{counts['total']} item(s): {counts['up_to_date']} up to date, "
                f"{counts['behind_minor']} behind minor, {counts['behind_major']} behind major, "
                f"{counts['failed']} failed, {counts['pending']} pending, "
                f"{counts['orphaned']} orphaned"
            )
        if page_path is not None:
            output.note(f"Wrote the fleet page to {page_path}")
        print_problems(fleet)
    fail_on_problems(fleet)


def _given(flags: dict[str, str | bool | None]) -> list[str]:
    """The filter flags given, as typed: `--env qa`, `--behind`."""
    return [
        flag if value is True else f"{flag} {value}"
        for flag, value in flags.items()
        if value not in (None, False)
    ]


def _html_target(html: str | None, *, json_: bool) -> Path | None:
    """Where --html writes (None: nowhere, or stdout for `-`), checked before AWS is read."""
    if html is None:
        return None
    from protoncli.cli.commands.status_html import STDOUT, html_target
    from protoncli.errors import UsageError

    if html == STDOUT and json_:
        raise UsageError(
            "--html - and --json both print to stdout",
            hint="write the page to a file (--html fleet.html) or drop --json",
        )
    return html_target(html)
