"""`pcli upgrade`: move specs to newer blueprint versions, then deploy exactly those items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.commands.drift import complete_drift_names
from protoncli.cli.completion import (
    complete_blueprint_names,
    complete_environments,
    complete_inputs,
    complete_pipeline_inputs,
)
from protoncli.cli.deploying import NO_INPUT_OPTION, OVERRIDE_RULE_OPTION, YES_OPTION
from protoncli.errors import PcliError, UsageError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.deploy.upgrade import SpecUpgrade, Target, UpgradePlan

app = typer.Typer(
    help="Move environments and services to newer blueprint versions, then deploy them.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


@app.command("upgrade")
def upgrade(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        None,
        metavar="[NAME]...",
        autocompletion=complete_drift_names,
        help="Environments or services to upgrade (a service moves with all its instances).",
    ),
    env: str | None = typer.Option(
        None,
        "--env",
        "-e",
        help="Only this environment and the services with an instance in it.",
        autocompletion=complete_environments,
    ),
    blueprint: str | None = typer.Option(
        None,
        "--blueprint",
        "-b",
        help="Only environments and services of this blueprint.",
        autocompletion=complete_blueprint_names,
    ),
    everything: bool = typer.Option(
        False, "--all", help="Every environment and service of the workspace."
    ),
    minor: bool = typer.Option(
        False,
        "--minor",
        help="To the recommended minor of the current major (the default).",
    ),
    major: bool = typer.Option(
        False, "--major", help="To the blueprint's recommended version (the newest major)."
    ),
    to: str | None = typer.Option(
        None, "--to", metavar="X.Y", help="To exactly this published version."
    ),
    plan: bool = typer.Option(
        False, "--plan", help="Show what would change; write nothing, deploy nothing."
    ),
    param: list[str] = typer.Option(
        [],
        "--param",
        "-p",
        help="A value for a new required input, KEY=VALUE, wherever it is missing (repeat).",
        autocompletion=complete_inputs,
    ),
    pipeline_param: list[str] = typer.Option(
        [],
        "--pipeline-param",
        help="A value for a new required pipeline input, KEY=VALUE (repeat).",
        autocompletion=complete_pipeline_inputs,
    ),
    yes: bool = YES_OPTION,
    no_input: bool = NO_INPUT_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, max=64, help="Stacks deployed at once (default: 4)."
    ),
    json_: bool = typer.Option(
        False,
        "--json",
        help="With --plan one JSON document; otherwise NDJSON events of the deploy.",
    ),
) -> None:
    """Move specs to newer blueprint versions, check them, write them, and deploy them.

    Each selected spec moves to its target version: --minor (default) the recommended minor
    of its current major, --major the blueprint's recommended version, --to X.Y exactly that
    version. A service's spec moves its instances and pipeline together; components have no
    blueprint and are never upgraded. Every spec is checked against its new version's schema
    first: new required inputs without a value are asked in a terminal (elsewhere given with
    --param or listed in one error), and an environment's major upgrade is refused while a
    service running in it does not list the new major. Only then are the spec files written
    (comments kept), scaffolded code upgraded, and the upgraded items deployed as
    `pcli apply` does.

    Exit codes: 0 done (or everything up to date); 2 refused or inputs missing (nothing
    written); 3 a deployment failed; 1 scaffolded code that could not be upgraded.

    Examples:

      pcli upgrade --all --plan

      pcli upgrade dev --yes

      pcli upgrade --blueprint fargate-web-svc --param owner=team-a --yes --json
    """
    from protoncli.cli.deploying import open_project, parse_params
    from protoncli.cli.state import app_state, interactive
    from protoncli.deploy.upgrade import Selection, plan_upgrade

    if no_input:
        app_state(ctx).give_flag("no_input", value=True)
    target = _target(minor=minor, major=major, to=to)
    as_json = output.wants_json(ctx, json_)
    project = open_project(ctx, override_rules=override_rules)
    if concurrency is not None:
        project.concurrency = concurrency
    selection = Selection(tuple(names or ()), env, blueprint, everything)
    asking = interactive(ctx) and not plan
    prompter = _prompter(yes) if asking else None
    upgrade_plan = plan_upgrade(
        project,
        selection,
        target,
        prompter=prompter,
        params=parse_params(param),
        pipeline_params=parse_params(pipeline_param, "--pipeline-param"),
        dry_run=plan,
    )
    if plan:
        _show_plan(project, upgrade_plan, as_json=as_json)
        return
    _upgrade(ctx, project, upgrade_plan, yes=yes, as_json=as_json, asking=asking)


def _target(*, minor: bool, major: bool, to: str | None) -> Target:
    from protoncli.deploy.upgrade import EXACT, MAJOR, MINOR, Target

    given = [flag for flag, on in (("--minor", minor), ("--major", major), ("--to", to)) if on]
    if len(given) > 1:
        raise UsageError(
            f"{' and '.join(given)} cannot be used together",
            hint="choose one: --minor (default), --major or --to X.Y",
        )
    if to is not None:
        return Target(EXACT, to)
    return Target(MAJOR if major else MINOR)


def _prompter(yes: bool) -> Any:
    from protoncli.cli.prompts import QuestionaryPrompter

    return QuestionaryPrompter(assume_yes=yes)


def _upgrade(
    ctx: typer.Context,
    project: Project,
    upgrade_plan: UpgradePlan,
    *,
    yes: bool,
    as_json: bool,
    asking: bool,
) -> None:
    """Write the moving specs, upgrade their code, deploy them; report what could not be."""
    from protoncli.cli.commands.apply import apply_items
    from protoncli.cli.deploying import CANNOT_ASK
    from protoncli.deploy.upgrade import upgrade_code_of, write_upgrade

    moving = upgrade_plan.moving
    if not as_json:
        _print_table(project, upgrade_plan)
    if not moving:
        _nothing_to_do(as_json)
        return
    if not yes and not asking:
        raise UsageError(
            f"upgrading writes spec files and deploys them; it needs --yes when {CANNOT_ASK}; "
            "nothing was written",
            hint="see what would change with --plan, then run the same command with --yes",
        )
    for spec in moving:
        output.warn_all(spec.warnings)
    from protoncli.deploy.guardrails import check_overrides, rules_of

    check_overrides(project, [rules_of(project, s.blueprint, s.to_version) for s in moving])
    write_upgrade(project, upgrade_plan)
    for spec in moving:
        output.note(
            f"Wrote {_relative(project, spec)}: {spec.blueprint} {spec.from_version} -> "
            f"{spec.to_version}."
        )
    upgraded = upgrade_code_of(project, upgrade_plan, dry_run=False)
    failed = _report_code(project, upgraded)
    names = list(dict.fromkeys(spec.name for spec in moving))
    apply_items(
        ctx,
        project,
        names,
        yes=yes,
        json_=as_json,
        concurrency=project.concurrency,
        command="upgrade",
        rerun=f"pcli apply {' '.join(names)} --yes",
    )
    if failed:
        raise PcliError(
            f"the specs are upgraded and deployed, but the scaffolded code of {len(failed)} "
            "folder(s) was not upgraded",
            details=failed,
            hint="upgrade it with: pcli svc upgrade-code DIR (--conflicts markers to write the "
            "conflicts into the files)",
        )


def _nothing_to_do(as_json: bool) -> None:
    message = "Nothing to upgrade: every selected spec is at its target version."
    if not as_json:
        output.outcome(message)
        return
    from protoncli.cli.progress import make_view

    view = make_view(json_mode=True, command="upgrade", quiet=True, color="never")
    with view:
        view.note(message)
        view.result(True, 0, [])


def _report_code(project: Project, upgraded: UpgradePlan) -> list[str]:
    """Notes for the code upgraded; the folders that were not upgraded, in words."""
    from protoncli.workspace.scaffold_upgrade import Outcome

    failed: list[str] = []
    for spec in upgraded.moving:
        if spec.code_error is not None:
            failed.append(f"service {spec.name}: {spec.code_error}")
        for code in spec.code:
            where = _relative_path(project, code.target)
            if code.outcome is Outcome.REFUSED:
                conflicts = ", ".join(c.path for c in code.conflicts)
                failed.append(f"{where}: {len(code.conflicts)} conflict(s): {conflicts}")
            else:
                output.note(f"Upgraded the code in {where}: {code.summary()}.")
    return failed


# --- the plan and the table -------------------------------------------------------------------


def _show_plan(project: Project, upgrade_plan: UpgradePlan, *, as_json: bool) -> None:
    from protoncli.deploy.upgrade import upgrade_code_of

    upgrade_plan = upgrade_code_of(project, upgrade_plan, dry_run=True)
    if as_json:
        output.print_json(plan_document(project, upgrade_plan))
        return
    _print_table(project, upgrade_plan)
    for spec in upgrade_plan.moving:
        _print_details(project, spec)
    count = len(upgrade_plan.moving)
    if count:
        output.outcome(f"Plan: {count} spec(s) would be upgraded; nothing was written.")
    else:
        output.outcome("Nothing to upgrade: every selected spec is at its target version.")


def _print_table(project: Project, upgrade_plan: UpgradePlan) -> None:
    output.table(
        ["SPEC", "KIND", "FROM", "TO", "ACTION"],
        [
            (
                _relative(project, spec),
                spec.kind,
                f"{spec.blueprint}@{spec.from_version}",
                spec.to_version if spec.moves else "-",
                _action_word(spec),
            )
            for spec in upgrade_plan.specs
        ],
    )


def _action_word(spec: SpecUpgrade) -> str:
    from protoncli.deploy.upgrade import DOWNGRADE, UP_TO_DATE

    if spec.action in (UP_TO_DATE, DOWNGRADE):
        return spec.action
    return f"{spec.action} upgrade"


def _print_details(project: Project, spec: SpecUpgrade) -> None:
    from protoncli.deploy.upgrade_inputs import PIPELINE

    lines = []
    for item in spec.new_inputs:
        where = {"": "", PIPELINE: " (pipeline)"}.get(item.where, f" (instance {item.where})")
        flag = "--pipeline-param" if item.where == PIPELINE else "--param"
        if item.needed and not item.given:
            state = f"required, no value: give {flag} {item.name}=VALUE or edit the spec file"
        else:
            state = "value given" if item.given else "optional or has a default"
        lines.append(f"  new input {item.name}{where}: {state}")
    lines += [f"  problem: {problem}" for problem in spec.problems]
    lines += [f"  warning: {warning}" for warning in spec.warnings]
    if spec.code_error is not None:
        lines.append(f"  code: {spec.code_error}")
    for code in spec.code:
        lines.append(f"  code in {_relative_path(project, code.target)}: {code.summary()}")
        lines += [f"    {c.path}: {c.action}" for c in code.files if str(c.action) != "unchanged"]
    if lines:
        output.line()
        output.line(f"{_relative(project, spec)} ({spec.from_version} -> {spec.to_version}):")
        for text in lines:
            output.line(text)


def plan_document(project: Project, upgrade_plan: UpgradePlan) -> dict[str, Any]:
    """The `--plan --json` document (docs/reference/schemas/upgrade-plan.schema.json)."""
    from protoncli.cli.commands.service_code import upgrade_document

    return {
        "workspace": upgrade_plan.workspace,
        "target": {"mode": upgrade_plan.target.mode, "version": upgrade_plan.target.version},
        "specs": [
            {
                "spec": _relative(project, spec),
                "kind": spec.kind,
                "name": spec.name,
                "blueprint": spec.blueprint,
                "from_version": spec.from_version,
                "to_version": spec.to_version,
                "action": spec.action,
                "new_inputs": [
                    {
                        "resource": item.where or None,
                        "name": item.name,
                        "required": item.needed,
                        "given": item.given,
                    }
                    for item in spec.new_inputs
                ],
                "problems": list(spec.problems),
                "warnings": list(spec.warnings),
                "code": [upgrade_document(code) for code in spec.code],
                "code_error": spec.code_error,
            }
            for spec in upgrade_plan.specs
        ],
        "upgrades": len(upgrade_plan.moving),
    }


def _relative(project: Project, spec: SpecUpgrade) -> str:
    return _relative_path(project, spec.path)


def _relative_path(project: Project, path: Any) -> str:
    from pathlib import Path

    try:
        return Path(path).resolve().relative_to(project.workspace.root.resolve()).as_posix()
    except ValueError:
        return str(path)
