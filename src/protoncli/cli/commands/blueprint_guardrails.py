"""`pcli blueprint guardrails`: show, set or clear the rules of the whole registry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.guardrails.rules import RuleSet


def guardrails(
    ctx: typer.Context,
    set_from: Path | None = typer.Option(
        None,
        "--set",
        metavar="DIR",
        help="Make the .guard files (and guardrails.yaml) of DIR the registry's rules, after "
        "checking them; they replace the rules it had.",
    ),
    clear: bool = typer.Option(False, "--clear", help="Remove the registry's rules."),
    yes: bool = typer.Option(
        False, "--yes", "-y", help="Clear without asking (needed where pcli cannot ask)."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document instead of text."),
) -> None:
    """Show the registry's guardrails, or set or clear them.

    Registry guardrails are AWS CloudFormation Guard rules that every rendered CloudFormation
    template of every blueprint in the registry must keep, with each blueprint's own rules
    (its bundle's guardrails/). A folder registry keeps them in .guardrails/ at its root, a
    team registry in its index. An error rule blocks a deploy (exit 1), a warning rule is
    shown; a deploy may let an error rule's violations through with --override-rule RULE,
    which is recorded with the deployment. See docs/reference/guardrails.md.

    Exit codes: 0 shown or written; 1 rule files Guard cannot use (nothing written), or a
    registry that cannot be written; 2 bad flags, no such DIR, or --clear needing --yes.

    Examples:

      pcli blueprint guardrails

      pcli blueprint guardrails --set platform/guardrails

      pcli blueprint guardrails --clear --yes
    """
    from protoncli.cli.commands.blueprint import registry_of

    if set_from is not None and clear:
        raise UsageError("--set and --clear cannot be used together")
    registry = registry_of(ctx, seeded=False)
    if set_from is not None:
        rules = registry.set_guardrails(_rule_files(set_from))
        _report(registry.location, rules, json_=output.wants_json(ctx, json_), did="set")
        return
    if clear:
        _confirm_clear(ctx, registry.location, yes=yes)
        rules = registry.set_guardrails({})
        _report(registry.location, rules, json_=output.wants_json(ctx, json_), did="cleared")
        return
    _report(registry.location, registry.guardrails(), json_=output.wants_json(ctx, json_))


def _rule_files(folder: Path) -> dict[str, bytes]:
    from protoncli.guardrails.rules import RULE_SUFFIX, SEVERITY_FILE, rule_files_in

    if not folder.is_dir():
        raise UsageError(
            f"{folder}: no such folder",
            hint=f"give a folder of {RULE_SUFFIX} files (and {SEVERITY_FILE} for severities)",
        )
    files = rule_files_in(folder)
    if not any(name.endswith(RULE_SUFFIX) for name in files):
        raise UsageError(
            f"{folder}: holds no {RULE_SUFFIX} file",
            hint="to remove the registry's rules, use --clear",
        )
    return files


def _confirm_clear(ctx: typer.Context, location: str, *, yes: bool) -> None:
    from protoncli.cli.deploying import CANNOT_ASK, ask_yes_no
    from protoncli.cli.state import interactive

    if yes:
        return
    if not interactive(ctx):
        raise UsageError(
            f"clearing the guardrails of {location} needs --yes when {CANNOT_ASK}",
            hint="run again with --yes",
        )
    if not ask_yes_no(f"Remove every guardrail of {location}?"):
        raise UsageError("nothing was cleared", hint="the registry keeps its rules")


def _report(location: str, rules: RuleSet, *, json_: bool, did: str | None = None) -> None:
    rows = rule_rows(rules)
    if json_:
        output.print_json({"registry": location, "changed": did is not None, "rules": rows})
        return
    if did == "cleared":
        output.line(f"Cleared the guardrails of {location}.")
        return
    if did == "set":
        output.line(f"Set {len(rows)} guardrail(s) of {location}:")
    elif not rows:
        output.line(
            f"{location} has no guardrails of its own (blueprints may carry theirs). "
            "Set some with: pcli blueprint guardrails --set DIR"
        )
        return
    rules_table(rows)


def rules_table(rows: list[dict[str, Any]], title: str | None = None) -> None:
    """Rules as `rule_rows` lists them: RULE, SEVERITY, FILE (`blueprint show` titles its)."""
    output.table(
        ["RULE", "SEVERITY", "FILE"],
        [(row["name"], row["severity"], row["file"]) for row in rows],
        title=title,
    )


def rule_rows(rules: RuleSet) -> list[dict[str, Any]]:
    return [
        {"name": name, "severity": rules.severity(name), "file": Path(rule_file.label).name}
        for rule_file in rules.files
        for name in rule_file.rules
    ]
