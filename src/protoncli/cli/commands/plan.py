"""`pcli plan`: what `pcli apply` would do to bring AWS to the workspace, and why."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.completion import complete_environments
from protoncli.errors import ExitCode

if TYPE_CHECKING:
    from protoncli.deploy.apply import Preview
    from protoncli.deploy.project import Project
    from protoncli.state.fleet import Fleet
    from protoncli.state.plan import Plan, PlannedItem

app = typer.Typer(
    help="Show what apply would do: create, update, delete, with the reasons.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)

NAMES_ARGUMENT = typer.Argument(
    None,
    metavar="[NAME]...",
    help="Environments, services, SERVICE/INSTANCE or components (default: everything).",
)
ENV_OPTION = typer.Option(
    None,
    "--env",
    "-e",
    help="Only items in this environment.",
    autocompletion=complete_environments,
)
PRUNE_OPTION = typer.Option(
    False, "--prune", help="Delete stacks of the workspace that no spec declares (orphans)."
)
REVERT_OVERRIDES_OPTION = typer.Option(
    False,
    "--revert-overrides",
    help="Also update the instances held back for values deployed with svc deploy --param: "
    "back to the spec's values.",
)
BRANCH_OPTION = typer.Option(
    None,
    "--branch",
    help="Only the service instances proton-ops.yaml maps to this branch (Proton's service sync).",
)
SHARD_OPTION = typer.Option(
    None,
    "--shard",
    metavar="K/N",
    help="A deterministic share K of N (an environment and what it hosts stay together).",
)


def build_plan(
    project: Project,
    names: Sequence[str],
    *,
    env: str | None,
    prune: bool,
    branch: str | None,
    shard: str | None,
    revert_overrides: bool = False,
) -> Plan:
    """Read the fleet and plan; `--branch` and `--shard` narrow the selection."""
    from protoncli.state.fleet import read_fleet
    from protoncli.state.plan import make_plan

    fleet = read_fleet(project)
    only = _selection(project, fleet, branch=branch, shard=shard)
    return make_plan(
        fleet, names, env=env, prune=prune, only=only, revert_overrides=revert_overrides
    )


def _selection(
    project: Project, fleet: Fleet, *, branch: str | None, shard: str | None
) -> list[tuple[str, ...]] | None:
    keys: set[tuple[str, ...]] | None = None
    if shard is not None:
        from protoncli.state.shard import in_shard, parse_shard

        share = parse_shard(shard)
        keys = {item.identity.key for item in fleet.items if in_shard(item.identity, share)}
    if branch is not None:
        picked = _branch_keys(project, fleet, branch)
        keys = picked if keys is None else keys & picked
    return None if keys is None else sorted(keys)


def _branch_keys(project: Project, fleet: Fleet, branch: str) -> set[tuple[str, ...]]:
    from protoncli.errors import UsageError
    from protoncli.state.opsfile import (
        check_against,
        find_ops_file,
        read_ops_file,
        unknown_branch_error,
    )

    path = find_ops_file(project.workspace.root)
    if path is None:
        raise UsageError(
            "--branch needs a proton-ops.yaml in the workspace (Proton's service sync file)",
            hint="add proton-ops.yaml (sync: services: SERVICE: INSTANCE: branch: B) or leave "
            "out --branch",
        )
    ops = read_ops_file(path)
    declared = {
        name: {i.name for i in record.spec.instances}
        for name, record in fleet.declared.services.items()
    }
    check_against(ops, declared)
    pairs = ops.instances_for(branch)
    if not pairs:
        raise unknown_branch_error(ops, branch)
    keys: set[tuple[str, ...]] = {
        ("service-instance", service, instance) for service, instance in pairs
    }
    services = {service for service, _ in pairs}
    keys |= {("pipeline", service) for service in services}
    keys |= {  # a component goes with the instance it is attached to
        ("component", name)
        for name, record in fleet.declared.components.items()
        if (record.service, record.instance) in set(pairs)
    }
    return keys


PLAN_ITEM_KEYS = (
    "kind",
    "name",
    "environment",
    "blueprint",
    "version",
    "deployed_version",
    "stack_name",
    "region",
    "stack_status",
)


def planned_row(planned: PlannedItem) -> dict[str, Any]:
    """One planned item as `plan --json` prints it: the item's status row, its action, why."""
    from protoncli.cli.commands.status import item_row

    row = item_row(planned.item)
    return {
        "action": planned.action,
        "applies": planned.applies,
        **{key: row[key] for key in PLAN_ITEM_KEYS},
        "reasons": list(planned.reasons),
    }


def plan_document(
    project: Project, plan: Plan, previews: dict[tuple[str, ...], Preview] | None
) -> dict[str, Any]:
    rows = []
    for planned in plan.items:
        row = planned_row(planned)
        if previews is not None:
            row.update(_preview_fields(previews.get(planned.item.identity.key)))
        rows.append(row)
    groups: dict[tuple[str, str], list[str]] = {}
    for planned in plan.acting():
        account = planned.item.account
        key = (account or "", planned.item.region)
        groups.setdefault(key, []).append(planned.item.stack_name)
    return {
        "workspace": plan.workspace,
        "changes": plan.changes,
        "summary": plan.counts(),
        "items": rows,
        "groups": [
            {
                "account": project.account_id(region, account or None),
                "account_name": account or None,
                "region": region,
                "stacks": stacks,
            }
            for (account, region), stacks in sorted(groups.items())
        ],
    }


def _preview_fields(found: Preview | None) -> dict[str, Any]:
    """`changes` (each with its `details`), `inputs` (the changed inputs of an update, else
    null) and `changes_error` of a planned item, with --changes."""
    from protoncli.cli.progress import change_set_rows
    from protoncli.cli.progress_ndjson import detail_record, inputs_record

    if found is None or found.error is not None:
        error = found.error if found is not None else None
        return {"changes": None, "inputs": None, "changes_error": error}
    changes = [
        {
            **dict(zip(("action", "logical_id", "type", "replacement"), row, strict=True)),
            "details": [detail_record(detail) for detail in change.details],
        }
        for change, row in zip(found.changes, change_set_rows(found.changes), strict=True)
    ]
    return {"changes": changes, "inputs": inputs_record(found.inputs), "changes_error": None}


def print_plan(plan: Plan, previews: dict[tuple[str, ...], Preview] | None = None) -> None:
    """The plan as a table (to stderr when it precedes an apply's progress)."""
    from protoncli.cli.progress import change_set_table

    shown = [p for p in plan.items if p.action != "none"]
    if shown:
        output.table(
            ["ACTION", "KIND", "NAME", "ENV", "STACK", "WHY"],
            [
                (
                    p.action if p.applies else f"({p.action})",
                    p.item.kind,
                    p.item.name,
                    p.item.environment or "-",
                    p.item.stack_name,
                    "; ".join(p.reasons),
                )
                for p in shown
            ],
        )
    for planned in shown:
        found = (previews or {}).get(planned.item.identity.key)
        if found is None:
            continue
        if found.error is not None:
            output.warn(f"{planned.item.identity.description}: no change set: {found.error}")
        else:
            output.line(f"Change set for {planned.item.identity.description}:")
            change_set_table(found.changes, found.inputs, stream=sys.stdout)
    output.line(plan_summary(plan))


def plan_summary(plan: Plan) -> str:
    counts = plan.counts()
    kept = sum(1 for p in plan.items if p.action == "delete" and not p.applies)
    text = (
        f"Plan: {counts['create']} to create, {counts['update']} to update, "
        f"{counts['delete']} to delete, {counts['none']} unchanged."
    )
    if kept:
        text += f" {kept} orphaned stack(s) kept (add --prune to delete them)."
    if held := len(plan.held()):
        text += (
            f" {held} instance(s) held back: deployed with svc deploy --param values the spec "
            "does not hold (commit them, or add --revert-overrides)."
        )
    if not plan.changes:
        text += " Nothing to do."
    return text


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    names: list[str] | None = NAMES_ARGUMENT,
    env: str | None = ENV_OPTION,
    prune: bool = PRUNE_OPTION,
    changes: bool = typer.Option(
        False,
        "--changes",
        help="Also make each stack's change set, show it and delete it (never executed).",
    ),
    check: bool = typer.Option(
        False, "--check", help="Exit 4 when anything would change, 0 when nothing would."
    ),
    branch: str | None = BRANCH_OPTION,
    shard: str | None = SHARD_OPTION,
    revert_overrides: bool = REVERT_OVERRIDES_OPTION,
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Show what `pcli apply` would do, item by item, in the order it would do it.

    Per item: create (declared, not deployed), update (its stack differs from the workspace:
    spec, version, the version's content, or outputs it renders with changed), delete
    (orphans: stacks of the workspace no spec declares; applied only with --prune), and why.
    An instance deployed with svc deploy --param values its spec does not hold is held back:
    shown as (update) with the values and the spec's, applied only with --revert-overrides;
    once the spec holds the values, it is up to date.
    Nothing is changed in AWS; --changes makes each stack's change set, shows and deletes it.

    Exit codes: 0; with --check, 4 when anything would change (as Terraform's
    -detailed-exitcode); 1 when a spec file could not be read.

    Examples:

      pcli plan

      pcli plan web --changes

      pcli plan --check --json
    """
    from protoncli.cli.commands.status import fail_on_problems, print_problems
    from protoncli.cli.deploying import open_project

    project = open_project(ctx)
    plan = build_plan(
        project,
        names or [],
        env=env,
        prune=prune,
        branch=branch,
        shard=shard,
        revert_overrides=revert_overrides,
    )
    previews = None
    if changes:
        from protoncli.deploy.apply import preview_changes

        if not output.wants_json(ctx, json_):
            output.note("Making each stack's change set to show what would change...")
        previews = preview_changes(project, plan)
    if output.wants_json(ctx, json_):
        output.print_json(plan_document(project, plan, previews))
    else:
        print_plan(plan, previews)
        print_problems(plan.fleet)
    fail_on_problems(plan.fleet)
    if check and plan.changes:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))
