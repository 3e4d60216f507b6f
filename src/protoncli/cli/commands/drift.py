"""`pcli drift`: resources changed outside CloudFormation, and templates that no longer match a
fresh render of the workspace, stack by stack."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.completion import (
    Candidate,
    complete_components,
    complete_environments,
    complete_services,
)
from protoncli.errors import ExitCode, PcliError

if TYPE_CHECKING:
    from protoncli.deploy.drift import DriftProgress, DriftReport, OnProgress, StackDrift

app = typer.Typer(
    help="Show drift: resources changed outside CloudFormation, templates the spec no longer "
    "renders.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)

UNAVAILABLE_NOTE = (
    "CloudFormation drift cannot be detected on this endpoint (the sandbox does not implement "
    "drift detection): only template drift is shown."
)


def complete_drift_names(ctx: typer.Context, incomplete: str) -> list[Candidate]:
    """Environment, service and component names of the workspace."""
    return [
        *complete_environments(ctx, incomplete),
        *complete_services(ctx, incomplete),
        *complete_components(ctx, incomplete),
    ]


@app.command("drift")
def drift(
    ctx: typer.Context,
    names: list[str] = typer.Argument(
        None,
        metavar="[NAME]...",
        autocompletion=complete_drift_names,
        help="Environments, services (instances and pipeline) or components; default: all "
        "deployed.",
    ),
    check: bool = typer.Option(
        False, "--check", help="Exit 4 when anything drifted (0 when nothing did)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Show how deployed stacks differ from AWS reality and from the workspace.

    Two kinds of drift, per stack: CloudFormation drift (resources changed outside
    CloudFormation, with their property differences) and template drift (the deployed template
    against a fresh render of the pinned blueprint version and the spec, as a unified diff).
    Detection starts on every stack at once, then waits for each; on AWS it takes a minute or
    more. The sandbox cannot detect CloudFormation drift: there, template drift only.

    Examples:

      pcli drift

      pcli drift dev web --check

      pcli drift --json
    """
    from protoncli.cli.deploying import open_project
    from protoncli.deploy.drift import collect_drift

    project = open_project(ctx)
    as_json = output.wants_json(ctx, json_)
    with _progress_line() as on_progress:
        report = collect_drift(project, names or [], on_progress=on_progress)
    if report.cloudformation_unavailable:
        output.note(UNAVAILABLE_NOTE)
    if as_json:
        output.print_json(drift_document(report))
    else:
        _print_report(report)
    for stack in report.stacks:
        for error in stack.errors:
            output.warn(f"{stack.description} ({stack.stack_name}): {error}")
    if check and report.drifted:
        raise typer.Exit(int(ExitCode.CHANGES_PENDING))
    failed = [stack for stack in report.stacks if stack.errors]
    if failed:
        raise PcliError(
            f"drift could not be fully checked on {len(failed)} stack(s) (see the warnings above)",
            hint="fix what the warnings name (permissions, stacks busy with an operation), then "
            "run the command again",
        )


def drift_document(report: DriftReport) -> dict[str, Any]:
    """The `--json` document: the workspace, each stack's drift, and whether anything drifted."""
    return {
        "workspace": report.workspace,
        "stacks": [_listed(asdict(stack)) | {"drifted": stack.drifted} for stack in report.stacks],
        "drifted": report.drifted,
    }


def _listed(value: Any) -> Any:
    """`value` with its tuples as lists, as JSON has them."""
    if isinstance(value, dict):
        return {key: _listed(item) for key, item in value.items()}
    if isinstance(value, tuple | list):
        return [_listed(item) for item in value]
    return value


def _print_report(report: DriftReport) -> None:
    if not report.stacks:
        output.note("Nothing deployed in this workspace yet: no drift to show.")
        return
    output.table(
        ["KIND", "NAME", "STACK", "CLOUDFORMATION", "TEMPLATE"],
        [
            (s.kind, s.name, s.stack_name, _cloudformation_cell(s), _template_cell(s))
            for s in report.stacks
        ],
    )
    for stack in report.stacks:
        if stack.drifted:
            _print_details(stack)
    drifted = sum(1 for stack in report.stacks if stack.drifted)
    if drifted:
        output.outcome(f"Drift found on {drifted} of {len(report.stacks)} stack(s).")
    else:
        output.outcome(f"No drift found on {len(report.stacks)} stack(s).")


def _cloudformation_cell(stack: StackDrift) -> str:
    from protoncli.deploy.drift import UNAVAILABLE
    from protoncli.deploy.project import NOT_DEPLOYED

    if stack.drift_status == NOT_DEPLOYED:
        return "not deployed"
    if stack.drift_status == UNAVAILABLE:
        return "not available"
    if stack.resources:
        return f"{stack.drift_status} ({len(stack.resources)} resource(s))"
    return stack.drift_status


def _template_cell(stack: StackDrift) -> str:
    if stack.stack_status == "NOT_DEPLOYED":
        return "-"
    if stack.template_diff:
        return "differs"
    if any(error.startswith("template:") for error in stack.errors):
        return "not compared"
    return "matches"


def _print_details(stack: StackDrift) -> None:
    output.line()
    output.line(f"{stack.description} ({stack.stack_name}, {stack.region}):")
    for resource in stack.resources:
        physical = f" {resource.physical_id}" if resource.physical_id else ""
        output.line(
            f"  {resource.logical_id} ({resource.resource_type}{physical}): {resource.status}"
        )
        for difference in resource.differences:
            output.line(
                f"    {difference.path}: expected {difference.expected!r}, actual "
                f"{difference.actual!r} ({difference.difference_type})"
            )
    if stack.template_diff:
        output.line("  the deployed template differs from a fresh render of the spec:")
        for text in stack.template_diff.splitlines():
            output.line(f"    {text}")


@contextmanager
def _progress_line() -> Iterator[OnProgress]:
    """Where detection's progress shows: a status line that updates in a terminal, one note
    elsewhere (CI, pipes), nothing with --quiet."""
    if output.quiet():
        yield lambda _progress: None
        return
    if not sys.stderr.isatty():
        told: set[str] = set()

        def note_once(progress: DriftProgress) -> None:
            if progress.phase == "detecting" and progress.phase not in told:
                told.add(progress.phase)
                if progress.done < progress.total:
                    output.note(
                        f"Detecting CloudFormation drift of {progress.total} stack(s); on AWS "
                        "this takes a minute or more..."
                    )

        yield note_once
        return
    console = output.make_console(stderr=True)
    with console.status("Reading the workspace's stacks...") as status:

        def update(progress: DriftProgress) -> None:
            what = (
                "Detecting CloudFormation drift"
                if progress.phase == "detecting"
                else "Comparing templates with a fresh render"
            )
            status.update(f"{what}: {progress.done} of {progress.total} stack(s) done...")

        yield update
