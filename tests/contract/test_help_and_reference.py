"""Help, the generated CLI reference, and the JSON schema of every command with --json.

The whole command tree is walked (every lazy group loaded), as `pcli <anything> --help` shows it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from protoncli.cli.app import app
from protoncli.cli.reference import REGENERATE, examples_of, render_reference, split_help, walk

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference"
SCHEMAS = DOCS / "schemas"

# Every command with --json and the schema of what it prints (docs/reference/json-output.md).
NDJSON = "deploy-event"
JSON_SCHEMAS = {
    "pcli init": "init",
    "pcli quickstart": "quickstart",
    "pcli blueprint list": "blueprint-list",
    "pcli blueprint versions": "blueprint-versions",
    "pcli blueprint show": "blueprint-show",
    "pcli blueprint guardrails": "blueprint-guardrails",
    "pcli blueprint publish": "blueprint-publish",
    "pcli blueprint promote": "blueprint-promote",
    "pcli blueprint sync": "blueprint-sync",
    "pcli blueprint render": "blueprint-render",
    "pcli blueprint lint": "blueprint-lint",
    "pcli env create": NDJSON,
    "pcli env deploy": NDJSON,
    "pcli env list": "env-list",
    "pcli env show": "env-show",
    "pcli env outputs": "env-outputs",
    "pcli env delete": NDJSON,
    "pcli env history": "history",
    "pcli env rollback": NDJSON,
    "pcli env logs": "logs-event",
    "pcli svc create": NDJSON,
    "pcli svc deploy": NDJSON,
    "pcli svc list": "svc-list",
    "pcli svc show": "svc-show",
    "pcli svc outputs": "svc-outputs",
    "pcli svc delete": NDJSON,
    "pcli svc history": "history",
    "pcli svc rollback": NDJSON,
    "pcli svc upgrade-code": "svc-upgrade-code",
    "pcli svc logs": "logs-event",
    "pcli svc status": "svc-status",
    "pcli component create": NDJSON,
    "pcli component deploy": NDJSON,
    "pcli component delete": NDJSON,
    "pcli status": "status",
    "pcli plan": "plan",
    "pcli apply": NDJSON,
    "pcli adopt": "adopt",
    "pcli account add": "account-add",
    "pcli notify": "notify",
    "pcli env import": "env-import",
    "pcli account list": "account-list",
    "pcli account check": "account-check",
    "pcli upgrade": "upgrade",
    "pcli drift": "drift",
    "pcli sandbox start": "sandbox-start",
    "pcli sandbox stop": "sandbox-stop",
    "pcli sandbox status": "sandbox-status",
    "pcli config list": "config-list",
    "pcli config get": "config-get",
    "pcli config set": "config-set",
    "pcli config unset": "config-unset",
}


def commands():
    return list(walk(app))


def test_every_command_has_a_summary_an_example_and_described_parameters():
    problems = []
    for command, ctx in commands():
        path = ctx.command_path
        kept, _examples = split_help(command.help)
        summary = kept[0] if kept else ""
        if not summary or "\n" in (command.help or "").split("\n\n")[0].strip():
            problems.append(f"{path}: the help's first paragraph must be a one-line summary")
        if not examples_of(command):
            problems.append(f"{path}: no example (an Examples: block in its help or epilog)")
        problems.extend(
            f"{path}: {param.opts or param.name} has no help text"
            for param in command.params
            if not param.hidden and param.name != "help" and not (param.help or "").strip()
        )
    assert problems == []


def test_every_example_is_a_pcli_command_line():
    for command, ctx in commands():
        for example in examples_of(command):
            assert "pcli " in example, f"{ctx.command_path}: example {example!r}"


def test_the_walk_reaches_every_group_and_command():
    paths = {ctx.command_path for _command, ctx in commands()}
    assert {"pcli", "pcli env deploy", "pcli svc delete", "pcli status", "pcli config set"} <= paths
    assert len(paths) >= len(JSON_SCHEMAS) + 7  # the root and the groups


def test_the_cli_reference_is_current():
    written = (DOCS / "cli.md").read_text(encoding="utf-8")

    assert written == render_reference(app), (
        f"docs/reference/cli.md is stale; regenerate it: {REGENERATE}"
    )


def test_every_command_with_json_has_a_schema_and_every_schema_is_used():
    with_json = {
        ctx.command_path
        for command, ctx in commands()
        if any("--json" in param.opts for param in command.params)
    }
    assert with_json == set(JSON_SCHEMAS), "a command with --json needs a schema"
    files = {path.name.removesuffix(".schema.json") for path in SCHEMAS.glob("*.schema.json")}
    assert files == schemas_reached_from(set(JSON_SCHEMAS.values()))


def schemas_reached_from(names: set[str]) -> set[str]:
    """`names` and every schema they `$ref`, directly or not."""
    reached, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            text = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
            todo.extend(re.findall(r'"\$ref": "([\w-]+)\.schema\.json"', text))
    return reached


def test_every_schema_is_valid_json_and_described_in_json_output_md():
    page = (DOCS / "json-output.md").read_text(encoding="utf-8")
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", path.name
        assert f"schemas/{path.name}" in page, f"json-output.md does not link {path.name}"
