"""What `env history` / `svc history` and `env rollback` / `svc rollback` share: reading the
deployment records, printing them, and rolling back under the progress view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.deploying import Callbacks, open_project, run_deploy

if TYPE_CHECKING:
    from protoncli.deploy.model import DeployResult
    from protoncli.deploy.project import Project
    from protoncli.deploy.records import DeploymentRecord, History, HistoryTarget
    from protoncli.deploy.rollback import RollbackOutcome


def record_row(history: History, record: DeploymentRecord) -> dict[str, Any]:
    """One record as `--json` prints it (docs/reference/schemas/history.schema.json)."""
    target = history.target
    current = history.current
    return {
        "item": target.identity.name,
        "kind": target.identity.kind,
        "stack": target.stack_name,
        "region": target.region,
        "deployment_id": record.deployment_id,
        "started": record.document()["started"],
        "ended": record.document()["ended"],
        "outcome": record.outcome,
        "status": record.status,
        "blueprint": record.blueprint,
        "version": record.version,
        "caller": record.caller,
        "current": current is not None and current.key == record.key,
        "failures": list(record.failures),
        "overridden_rules": list(record.overridden_rules),
    }


def _overridden(record: DeploymentRecord) -> str:
    rules = record.overridden_rules
    return f" (overrode {', '.join(rules)})" if rules else ""


def show_history(
    ctx: typer.Context,
    targets: Callable[[Project], Sequence[HistoryTarget]],
    *,
    json_: bool,
    with_item: bool,
) -> None:
    """Read the records of every target from AWS; print them newest first."""
    from protoncli.deploy.records import read_history

    project = open_project(ctx)
    histories = [read_history(project, target) for target in targets(project)]
    rows = [(history, record) for history in histories for record in history.records]
    rows.sort(key=lambda pair: pair[1].started, reverse=True)
    if output.wants_json(ctx, json_):
        output.print_json({"records": [record_row(h, r) for h, r in rows]})
        return
    if not rows:
        stacks = ", ".join(f"{h.target.stack_name} ({h.target.region})" for h in histories)
        output.line(f"No deployment records (stacks: {stacks}).")
        return
    columns = ["WHEN (UTC)", *(["ITEM"] if with_item else []), "OUTCOME", "STATUS", "VERSION"]
    output.table(
        [*columns, "WHO", "ID"],
        [
            [
                f"{record.started:%Y-%m-%d %H:%M:%S}",
                *([history.target.identity.name] if with_item else []),
                record.outcome + _overridden(record),
                record.status,
                record.version or "-",
                record.who,
                record.short_id + (" (current)" if record_row(history, record)["current"] else ""),
            ]
            for history, record in rows
        ],
    )


def run_rollback(
    ctx: typer.Context,
    *,
    command: str,
    target: Callable[[Project], HistoryTarget],
    to: str | None,
    yes: bool,
    json_: bool,
    rerun: str,
    override_rules: Sequence[str] = (),
) -> None:
    """Choose the record (errors before anything is shown), then roll back under the progress
    view, then print the difference made to the spec file."""
    from protoncli.deploy.records import read_history
    from protoncli.deploy.rollback import choose_record, roll_back

    project = open_project(ctx, override_rules=override_rules)
    choice = choose_record(project, read_history(project, target(project)), to)
    done: list[RollbackOutcome] = []

    def action(callbacks: Callbacks) -> list[DeployResult]:
        record = choice.record
        callbacks.note(
            f"Rolling back {choice.history.target.identity.description} to deployment "
            f"{record.short_id} ({record.blueprint or '-'}@{record.version or '-'}, "
            f"{record.started:%Y-%m-%d %H:%M:%S} UTC)."
        )
        outcome = roll_back(project, choice, callbacks.hooks)
        done.append(outcome)
        if outcome.spec_path is not None:
            callbacks.note(
                f"Wrote {outcome.spec_path}: review the change and commit it."
                if outcome.diff
                else f"{outcome.spec_path} already holds the deployment's spec."
            )
        if outcome.diff and output.wants_json(ctx, json_):
            callbacks.note(outcome.diff)
        return [outcome.result]

    run_deploy(ctx, command=command, json_=json_, yes=yes, action=action, rerun=rerun)
    if done and done[0].diff and not output.wants_json(ctx, json_):
        output.line(done[0].diff.rstrip("\n"))
