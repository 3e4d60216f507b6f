"""`pcli apply`: do what `pcli plan` shows, in dependency order, with one confirmation."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.commands.plan import (
    BRANCH_OPTION,
    ENV_OPTION,
    NAMES_ARGUMENT,
    PRUNE_OPTION,
    REVERT_OVERRIDES_OPTION,
    SHARD_OPTION,
    build_plan,
    print_plan,
)
from protoncli.cli.deploying import (
    JSON_OPTION,
    OVERRIDE_RULE_OPTION,
    PROVISIONING_OPTION,
    YES_OPTION,
)
from protoncli.errors import ExitCode, PcliError, UsageError

if TYPE_CHECKING:
    from protoncli.cli.progress import ProgressView
    from protoncli.deploy.apply import ApplyResult, ItemOutcome
    from protoncli.deploy.project import Project
    from protoncli.state.plan import Plan

app = typer.Typer(
    help="Bring AWS to the workspace: create, update (and with --prune delete) stacks.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)

APPLY_LOCK = "apply.lock"


@app.command("apply")
def apply_command(
    ctx: typer.Context,
    names: list[str] | None = NAMES_ARGUMENT,
    env: str | None = ENV_OPTION,
    prune: bool = PRUNE_OPTION,
    yes: bool = YES_OPTION,
    provisioning: str | None = PROVISIONING_OPTION,
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    concurrency: int | None = typer.Option(
        None, "--concurrency", min=1, max=64, help="Stacks deployed at once (default: 4)."
    ),
    branch: str | None = BRANCH_OPTION,
    shard: str | None = SHARD_OPTION,
    revert_overrides: bool = REVERT_OVERRIDES_OPTION,
    json_: bool = JSON_OPTION,
) -> None:
    """Do what `pcli plan` shows: environments, components, instances, then pipelines.

    Plans first (from AWS and the workspace, every time), shows the plan and asks once in a
    terminal (--yes elsewhere); then deploys in dependency order, independent stacks at
    once, with the same progress views as deploys. Orphaned stacks are deleted only with
    --prune, last. Instances deployed with svc deploy --param values their spec does not hold
    are held back (listed, left alone) unless --revert-overrides deploys the spec's values;
    an instance whose spec changed otherwise is updated to it (the plan says which values
    that reverts). An item whose environment, component or instance failed is skipped. After
    a failure or an interruption, run the same command again: it plans from what AWS says.

    Exit codes: 0 done (or nothing to do); 3 when any item failed or was skipped; 2 when
    confirmation is needed and pcli cannot ask; 1 when another apply runs on this workspace.

    Examples:

      pcli apply --yes

      pcli apply web --env dev

      pcli apply --prune --yes --json
    """
    from protoncli.cli.deploying import open_project

    project = open_project(ctx, provisioning=provisioning, override_rules=override_rules)
    rerun = _rerun(names or [], env=env, prune=prune, branch=branch, shard=shard)
    if revert_overrides:
        rerun = rerun.replace(" --yes", " --revert-overrides --yes")

    def plan_now() -> Plan:
        from protoncli.deploy.guardrails import check_plan_overrides

        plan = build_plan(
            project,
            names or [],
            env=env,
            prune=prune,
            branch=branch,
            shard=shard,
            revert_overrides=revert_overrides,
        )
        check_plan_overrides(project, plan)
        return plan

    run_apply(ctx, project, plan_now, yes=yes, json_=json_, concurrency=concurrency,
              command="apply", rerun=rerun)  # fmt: skip


def apply_items(
    ctx: typer.Context,
    project: Project,
    names: Sequence[str],
    *,
    yes: bool,
    json_: bool,
    concurrency: int | None,
    command: str,
    rerun: str,
) -> None:
    """Apply the pending items of the named environments and services (for `pcli upgrade`)."""

    def plan_now() -> Plan:
        return build_plan(project, names, env=None, prune=False, branch=None, shard=None)

    run_apply(ctx, project, plan_now, yes=yes, json_=json_, concurrency=concurrency,
              command=command, rerun=rerun)  # fmt: skip


def _rerun(
    names: Sequence[str], *, env: str | None, prune: bool, branch: str | None, shard: str | None
) -> str:
    parts = ["pcli apply", *names]
    parts += [f"--env {env}"] if env else []
    parts += ["--prune"] if prune else []
    parts += [f"--branch {branch}"] if branch else []
    parts += [f"--shard {shard}"] if shard else []
    return " ".join([*parts, "--yes"])


def run_apply(
    ctx: typer.Context,
    project: Project,
    plan_now: Callable[[], Plan],
    *,
    yes: bool,
    json_: bool,
    concurrency: int | None,
    command: str,
    rerun: str,
) -> None:
    """Plan, confirm once, apply under the progress view, report each item; exit codes."""
    from protoncli.locks import file_lock, state_folder

    json_ = output.wants_json(ctx, json_)
    with file_lock(
        state_folder(project.workspace) / APPLY_LOCK,
        f"pcli {command}",
        timeout=0,
    ):
        plan = plan_now()
        if not json_:
            _to_stderr(lambda: print_plan(plan))
        if plan.fleet.declared.problems or plan.fleet.stack_problems:
            # Acting on a part of the fleet's truth could create what exists or leave out
            # what depends on it: nothing is done until every file and stack can be read.
            from protoncli.cli.commands.status import fail_on_problems, print_problems

            print_problems(plan.fleet)
            fail_on_problems(plan.fleet)
        if not plan.changes:
            if json_:
                _nothing_to_do(command, plan)
            return
        if not yes:
            plan = _confirmed(ctx, plan, plan_now, rerun)
        result = _run(project, plan, json_=json_, command=command, concurrency=concurrency)
    if not json_:
        _print_result(result)
    if not result.ok:
        raise typer.Exit(int(ExitCode.DEPLOY_FAILED))


def _to_stderr(show: Callable[[], None]) -> None:
    from contextlib import redirect_stdout

    with redirect_stdout(sys.stderr):
        show()


def _nothing_to_do(command: str, plan: Plan) -> None:
    from protoncli.cli.progress import make_view

    view = make_view(json_mode=True, command=command, quiet=True, color="never")
    with view:
        if plan.held():
            _note_held(view, plan)
        else:
            view.note("Nothing to do: every stack is what the workspace declares.")
        view.result(True, 0, [])


def _note_held(view: ProgressView, plan: Plan) -> None:
    """One note per instance held back for its --param values (the JSON view shows no plan)."""
    for planned in plan.held():
        item = planned.item
        view.note(f"Held back: {item.identity.description}: {planned.reasons[-1]}")


def _confirmed(ctx: typer.Context, plan: Plan, plan_now: Callable[[], Plan], rerun: str) -> Plan:
    """One question for the whole plan; the plan is made again after it, and a plan that
    changed while the question was read is not applied."""
    from protoncli.cli.deploying import CANNOT_ASK, ask_yes_no
    from protoncli.cli.state import interactive

    if not interactive(ctx):
        raise UsageError(
            f"applying the plan needs confirmation and {CANNOT_ASK}; nothing was changed",
            hint=f"review the plan above, then run: {rerun}",
        )
    if not ask_yes_no("Apply this plan?"):
        output.note("Nothing was changed.")
        raise typer.Exit(int(ExitCode.ERROR))
    again = plan_now()
    if _signature(again) != _signature(plan):
        _to_stderr(lambda: print_plan(again))
        raise PcliError(
            "the plan changed while it was being confirmed (the workspace or AWS moved); "
            "nothing was changed",
            hint="the new plan is above: run the same command again to apply it",
        )
    return again


def _signature(plan: Plan) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    return [(p.item.identity.key, p.action, p.reasons) for p in plan.acting()]


def _run(
    project: Project, plan: Plan, *, json_: bool, command: str, concurrency: int | None
) -> ApplyResult:
    from protoncli.cli.progress import make_view
    from protoncli.deploy.apply import apply_plan
    from protoncli.deploy.model import DeployHooks

    view: ProgressView = make_view(
        json_mode=json_, command=command, quiet=output.quiet(), color=output.color_mode()
    )
    try:
        with view:
            if json_:
                _note_held(view, plan)
            try:
                # The plan was confirmed as a whole: each change set is part of it, and a
                # first creation that failed is recreated (the plan said "create").
                hooks = DeployHooks(view.on_event, lambda _c: True, lambda _i: True)
                result = apply_plan(project, plan, hooks, concurrency=concurrency)
            except KeyboardInterrupt:
                view.result(False, int(ExitCode.INTERRUPTED), [])
                raise
            code = 0 if result.ok else int(ExitCode.DEPLOY_FAILED)
            view.result(result.ok, code, [_record(o) for o in result.outcomes])
    except KeyboardInterrupt:
        sys.stderr.write(
            "\nInterrupted. Deployments already started go on in AWS; run the same command "
            "again: it plans from what AWS says and goes on.\n"
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
    return result


def _record(outcome: ItemOutcome) -> dict[str, Any]:
    item = outcome.item
    return {
        "stack": item.stack_name,
        "description": item.identity.description,
        "action": outcome.planned.action,
        "outcome": outcome.status,
        "status": outcome.stack_status,
        "message": outcome.message,
    }


def _print_result(result: ApplyResult) -> None:
    output.table(
        ["ITEM", "ACTION", "OUTCOME", "STACK STATUS", "DETAIL"],
        [
            (
                o.item.identity.description,
                o.planned.action,
                o.status,
                o.stack_status or "-",
                o.message or "",
            )
            for o in result.outcomes
        ],
    )
    done = sum(1 for o in result.outcomes if o.status in ("done", "no-changes"))
    if result.ok:
        output.outcome(f"Applied: {done} item(s) done.")
        return
    output.warn(
        f"Apply finished with {len(result.failed)} failed and {len(result.skipped)} skipped "
        f"item(s) ({done} done); run the same command again after fixing the cause: it goes on "
        "from what AWS says."
    )
