"""`pcli adopt`: take over the stacks AWS Proton created, in place, under their own names."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.deploying import OVERRIDE_RULE_OPTION
from protoncli.errors import ExitCode, PcliError, UsageError

if TYPE_CHECKING:
    from protoncli.deploy.adopt import Outcome, Review
    from protoncli.deploy.adoption import Entry, FoundStack, Proposal
    from protoncli.deploy.project import Project

app = typer.Typer(
    help="Adopt the stacks AWS Proton created: workspace entries, change sets, pcli's tags.",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


@app.command("adopt")
def adopt_command(
    ctx: typer.Context,
    regions: list[str] | None = typer.Option(
        None,
        "--region",
        "-r",
        metavar="REGION",
        help="Look in this region (repeat for more; default: every region the workspace uses).",
    ),
    accounts: list[str] | None = typer.Option(
        None,
        "--account",
        metavar="NAME",
        help="Look in this account of pcli.yaml's accounts: (repeat for more; default: the "
        "caller's own and every named one).",
    ),
    export: Path | None = typer.Option(
        None,
        "--from",
        metavar="DIR",
        help="Proton's spec files (environments/NAME.yaml, services/NAME.yaml): the inputs of "
        "the entries written.",
        file_okay=False,
        exists=True,
    ),
    write: bool = typer.Option(
        False, "--write", help="Write the proposed spec files (never over an existing file)."
    ),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Adopt without asking (required when not in a terminal)."
    ),
    allow_replacement: bool = typer.Option(
        False,
        "--allow-replacement",
        help="Also adopt stacks whose change set replaces or removes resources.",
    ),
    override_rules: list[str] = OVERRIDE_RULE_OPTION,
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Find the stacks AWS Proton created, propose their workspace entries, adopt them in place.

    Reads every stack of each region (one paginated DescribeStacks) and keeps those Proton
    tagged (aws:proton:environment, -service, -service-instance, -component). For each, it
    says what it is and the spec file it needs (blueprint from aws:proton:template); --write
    writes those (inputs from --from DIR, Proton's exported specs). For every stack the
    workspace declares, it renders the spec as a deploy would and makes a change set against
    the live stack: with no difference, adopting adds pcli's tags and changes nothing else;
    differences are shown and adopted only when confirmed (--yes where pcli cannot ask);
    replacing or removing a resource also needs --allow-replacement. Adopted stacks keep
    their names (recorded in adopted.yaml); later deploys update them in place.

    Exit codes: 0 done (or nothing to adopt); 1 a stack could not be adopted (the report says
    why; the others were); 2 two Proton items of one name in two places, bad flags, or
    confirmation needed; 3 an adoption's deployment failed.

    Examples:

      pcli adopt

      pcli adopt --from proton-export --write

      pcli adopt --region us-east-1 --yes --json
    """
    from protoncli.cli.deploying import open_project
    from protoncli.deploy.adopt import review
    from protoncli.deploy.adoption import discover, propose, write_entries

    json_ = output.wants_json(ctx, json_)
    project = open_project(ctx, override_rules=override_rules)
    places = _places(project, regions or [], accounts or [])
    if not json_:
        output.note(f"Reading the stacks of {_place_list(places)}...")
    proposal = propose(project, discover(project, places), export)
    if write:
        proposal = write_entries(project, proposal)
    else:
        from protoncli.deploy.adoption import record_stacks

        record_stacks(project, proposal.stacks)  # declared items: their deploys go to them
    pending = [item for item in proposal.stacks if item.state == "declared"]
    if pending and not json_:
        output.note(f"Making the change set of {len(pending)} stack(s) against the live stack...")
    reviews = review(project, pending)
    if not json_:
        _print_report(proposal, reviews, write=write)
    acting = [r for r in reviews if r.acts]
    outcomes: list[Outcome] = []
    if acting and override_rules:
        from protoncli.deploy.guardrails import check_overrides, rules_of

        entries = proposal.entries
        check_overrides(project, [rules_of(project, e.blueprint, e.version) for e in entries])
    if acting:
        if not yes:
            _confirm(ctx, acting, json_, proposal, reviews)
        outcomes = _act(project, reviews, json_=json_, allow_replacement=allow_replacement)
    if json_:
        output.print_json(adopt_document(proposal, reviews, outcomes))
    else:
        _print_outcomes(outcomes)
    _exit(proposal, reviews, outcomes)


def _places(
    project: Project, regions: Sequence[str], accounts: Sequence[str]
) -> list[tuple[str, str | None]]:
    from protoncli.state.declared import read_declared
    from protoncli.state.fleet import fleet_places
    from protoncli.workspace.model import check_region

    for region in regions:
        check_region(region)
    for name in accounts:
        project.account(name)  # an unknown name is a usage error
    if not regions and not accounts:
        return sorted(fleet_places(project, read_declared(project)), key=_place_key)
    chosen_regions = list(regions) or sorted(project.own_regions())
    chosen_accounts: list[str | None] = list(accounts) or [None]
    return [(region, account) for account in chosen_accounts for region in chosen_regions]


def _place_key(place: tuple[str, str | None]) -> tuple[str, str]:
    return place[1] or "", place[0]


def _place_list(places: Sequence[tuple[str, str | None]]) -> str:
    from protoncli.state.proton import place_words

    return ", ".join(place_words(region, account) for region, account in places)


# --- the report --------------------------------------------------------------------------------


STATE_WORDS = {"adopted": "adopted", "declared": "declared", "new": "new", "blocked": "blocked"}
VERDICT_WORDS = {
    "no-difference": "tags only",
    "changes": "changes",
    "replaces": "REPLACES",
    "blocked": "blocked",
}
KIND_WORDS = {"service-instance": "instance"}
DETAILS = {
    "adopted": "adopted by this workspace already",
    "declared": "declared by the workspace",
    "new": "not declared yet: its spec file is proposed below",
    "no-difference": "no difference: only pcli's tags are added",
    "changes": "resources change (the change set below)",
    "replaces": "REPLACES OR REMOVES RESOURCES (the change set below)",
}


def _print_report(proposal: Proposal, reviews: Sequence[Review], *, write: bool) -> None:
    from protoncli.state.proton import place_words

    by_key = {r.identity.key: r for r in reviews}
    if not proposal.stacks:
        output.line("No stack AWS Proton created was found.")
        return
    output.table(
        ["KIND", "NAME", "STACK", "BLUEPRINT", "STATE"],
        [_stack_row(item, by_key.get(item.identity.key)) for item in proposal.stacks],
    )
    for item in proposal.stacks:
        found = by_key.get(item.identity.key)
        key = found.verdict if found is not None else item.state
        why = (found.message if found is not None else None) or item.reason or DETAILS[key]
        proton = item.proton
        where = place_words(proton.region, proton.account)
        output.line(f"  {proton.identity.description} ({proton.name}, {where}): {why}")
    _print_entries(proposal, write=write)
    for note in proposal.notes:
        output.warn(note)
    for reviewed in reviews:
        _print_review(reviewed)


def _stack_row(item: FoundStack, found: Review | None) -> list[str]:
    proton = item.proton
    identity = proton.identity
    blueprint = proton.blueprint or "?"
    if item.version:
        blueprint += f"@{item.version}"
    state = VERDICT_WORDS[found.verdict] if found is not None else STATE_WORDS[item.state]
    kind = KIND_WORDS.get(identity.kind, identity.kind)
    return [kind, identity.name, proton.name, blueprint, state]


def _print_entries(proposal: Proposal, *, write: bool) -> None:
    from protoncli.workspace.roundtrip import dump_new_yaml

    for entry in proposal.entries:
        where = _relative(entry.path)
        origin = f"version from {_origin_words(entry)}"
        inputs = f", inputs from {entry.inputs_from}" if entry.inputs_from else ", no inputs"
        if entry.written:
            output.line(f"Wrote {where} ({entry.blueprint}@{entry.version}, {origin}{inputs}).")
        elif entry.exists:
            output.warn(f"{where} exists: kept as it is, not overwritten")
        else:
            output.line(f"# {where} ({origin}{inputs})")
            output.line(dump_new_yaml(dict(entry.document)).rstrip())
    if proposal.entries and not write:
        output.note("Write these spec files with: pcli adopt --write (add --from DIR for inputs)")
    if proposal.adopted_file is not None:
        output.note(f"Recorded the adopted stacks' names in {_relative(proposal.adopted_file)}.")


def _origin_words(entry: Entry) -> str:
    return {
        "export": "the exported spec",
        "template-arn": "the template ARN",
        "recommended": "the registry (recommended)",
    }[entry.version_from]


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _print_review(item: Review) -> None:
    from protoncli.cli.progress import change_set_table
    from protoncli.deploy.adopt import CHANGES, REPLACES, replaced

    what = f"{item.identity.description} ({item.found.proton.name})"
    if item.verdict == REPLACES:
        output.warn(
            f"adopting {what} would REPLACE OR REMOVE {len(replaced(item))} resource(s): "
            f"{', '.join(replaced(item))}; what they hold may be lost. Not adopted without "
            "--allow-replacement."
        )
    if item.verdict in (CHANGES, REPLACES):
        change_set_table(item.changes, title=f"Change set for {what}:", stream=None)


# --- confirming and acting ---------------------------------------------------------------------


def _confirm(
    ctx: typer.Context,
    acting: Sequence[Review],
    json_: bool,
    proposal: Proposal,
    reviews: Sequence[Review],
) -> None:
    from protoncli.cli.deploying import CANNOT_ASK, ask_yes_no
    from protoncli.cli.state import interactive
    from protoncli.deploy.adopt import NO_DIFFERENCE

    changing = sum(1 for r in acting if r.verdict != NO_DIFFERENCE)
    if not interactive(ctx):
        if json_:
            output.print_json(adopt_document(proposal, reviews, []))
        raise UsageError(
            f"adopting {len(acting)} stack(s) needs confirmation and {CANNOT_ASK}; nothing was "
            "changed",
            hint="review the report above, then run the same command with --yes",
        )
    question = f"Adopt {len(acting)} stack(s) in place"
    question += f" ({changing} with resource changes)?" if changing else " (tags only)?"
    if not ask_yes_no(question):
        output.note("Nothing was changed.")
        raise typer.Exit(int(ExitCode.ERROR))


def _act(
    project: Project, reviews: Sequence[Review], *, json_: bool, allow_replacement: bool
) -> list[Outcome]:
    from protoncli.cli.progress import make_view
    from protoncli.deploy.adopt import adopt
    from protoncli.deploy.model import DeployHooks

    view = make_view(
        json_mode=False, command="adopt", quiet=json_ or output.quiet(), color=output.color_mode()
    )
    try:
        with view:
            hooks = DeployHooks(view.on_event, lambda _changes: True)
            return adopt(project, reviews, hooks, allow_replacement=allow_replacement)
    except KeyboardInterrupt:
        sys.stderr.write(
            "\nInterrupted. An adoption already started goes on in AWS; run pcli adopt again: "
            "it reads what AWS says.\n"
        )
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


OUTCOME_WORDS = {
    "adopted": "adopted",  # pcli's tags added, nothing else changed
    "updated": "updated",  # adopted, and resources changed as the change set showed
    "failed": "FAILED",
    "held": "held",
    "skipped": "skipped",
}


_DONE = {"adopted": "pcli's tags added", "updated": "pcli's tags added, resources updated"}


def _print_outcomes(outcomes: Sequence[Outcome]) -> None:
    if not outcomes:
        return
    output.table(
        ["ITEM", "STACK", "OUTCOME", "DETAIL"],
        [
            (
                o.review.identity.description,
                o.review.found.proton.name,
                OUTCOME_WORDS[o.status],
                o.message or _DONE.get(o.status, ""),
            )
            for o in outcomes
        ],
        wrap=["DETAIL"],
    )
    done = sum(1 for o in outcomes if o.status in ("adopted", "updated"))
    output.outcome(f"Adopted: {done} of {len(outcomes)} stack(s).")


def _exit(proposal: Proposal, reviews: Sequence[Review], outcomes: Sequence[Outcome]) -> None:
    from protoncli.deploy.adopt import FAILED

    if any(o.status == FAILED and _deploy_failed(o) for o in outcomes):
        raise typer.Exit(int(ExitCode.DEPLOY_FAILED))
    blocked = [s for s in proposal.stacks if s.state == "blocked"]
    blocked += [r.found for r in reviews if r.verdict == "blocked"]
    not_adopted = [o for o in outcomes if o.status not in ("adopted", "updated")]
    if blocked or not_adopted:
        raise PcliError(
            f"{len(blocked) + len(not_adopted)} stack(s) could not be adopted; the report above "
            "says why (the others were handled)",
            hint="fix what it names, then run pcli adopt again",
        )


def _deploy_failed(outcome: Outcome) -> bool:
    status = outcome.stack_status or ""
    return "ROLLBACK" in status or status.endswith("_FAILED")


# --- JSON --------------------------------------------------------------------------------------


def adopt_document(
    proposal: Proposal,
    reviews: Sequence[Review],
    outcomes: Sequence[Outcome],
) -> dict[str, Any]:
    """The report as `pcli adopt --json` prints it; see adopt.schema.json."""
    by_key = {r.identity.key: r for r in reviews}
    done = {o.review.identity.key: o for o in outcomes}
    stacks = [
        _stack_record(item, by_key.get(item.identity.key), done.get(item.identity.key))
        for item in proposal.stacks
    ]
    return {
        "workspace": proposal.workspace,
        "places": [
            {"place": place, "calls": calls}
            for place, calls in sorted(proposal.found.calls.items())
        ],
        "stacks": stacks,
        "entries": [_entry_record(entry) for entry in proposal.entries],
        "notes": list(proposal.notes),
        "adopted_file": str(proposal.adopted_file) if proposal.adopted_file else None,
        "summary": {
            "found": len(stacks),
            "adopted": sum(1 for s in stacks if s["outcome"] in ("adopted", "updated")),
            "already_adopted": sum(1 for s in stacks if s["state"] == "adopted"),
            "blocked": sum(
                1 for s in stacks if s["state"] == "blocked" or s["verdict"] == "blocked"
            ),
        },
    }


def _stack_record(
    item: FoundStack, found: Review | None, outcome: Outcome | None
) -> dict[str, Any]:
    proton = item.proton
    identity = proton.identity
    return {
        "kind": identity.kind,
        "name": identity.name,
        "environment": identity.environment if identity.kind != "pipeline" else None,
        "stack_name": proton.name,
        "region": proton.region,
        "account": proton.account,
        "stack_status": proton.stack.status,
        "blueprint": proton.blueprint,
        "version": item.version,
        "state": item.state,
        "reason": item.reason or (found.message if found is not None else None),
        "verdict": found.verdict if found is not None else None,
        "changes": _changes_record(found) if found is not None and found.acts else None,
        "outcome": outcome.status if outcome is not None else None,
        "message": outcome.message if outcome is not None else None,
    }


def _changes_record(found: Review) -> list[dict[str, Any]]:
    from protoncli.cli.progress import change_set_rows
    from protoncli.cli.progress_ndjson import detail_record

    columns = ("action", "logical_id", "type", "replacement")
    return [
        {
            **dict(zip(columns, row, strict=True)),
            "details": [detail_record(detail) for detail in change.details],
        }
        for change, row in zip(found.changes, change_set_rows(found.changes), strict=True)
    ]


def _entry_record(entry: Entry) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "name": entry.name,
        "path": str(entry.path),
        "blueprint": entry.blueprint,
        "version": entry.version,
        "version_from": entry.version_from,
        "inputs_from": str(entry.inputs_from) if entry.inputs_from else None,
        "exists": entry.exists,
        "written": entry.written,
        "document": dict(entry.document),
    }
