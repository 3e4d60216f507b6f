"""The core never imports the CLI libraries; help and version stay light."""

from __future__ import annotations

import json
import subprocess
import sys

CORE_MODULES = [
    "protoncli.errors",
    "protoncli.paths",
    "protoncli.config",
    "protoncli.yamlio",
    "protoncli.blueprints.model",
    "protoncli.blueprints.bundle",
    "protoncli.blueprints.archive",
    "protoncli.blueprints.limits",
    "protoncli.blueprints.registry",
    "protoncli.blueprints.compat",
    "protoncli.blueprints.sync",
    "protoncli.blueprints.lint",
    "protoncli.blueprints.starters",
    "protoncli.schema.parse",
    "protoncli.schema.validate",
    "protoncli.specs.io",
    "protoncli.specs.resolve",
    "protoncli.render.engine",
]
CLI_LIBRARIES = ["typer", "rich", "questionary", "click", "prompt_toolkit"]
HEAVY = ["boto3", "botocore", "questionary", "jinja2", "cfnlint", "moto", "jsonschema"]


def _imported_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_core_modules_never_import_cli_libraries():
    loaded = _imported_after("\n".join(f"import {m}" for m in CORE_MODULES))
    leaked = sorted(name for name in loaded if name.split(".")[0] in CLI_LIBRARIES)
    assert leaked == []


def _modules_of_cli_run(args: list[str]) -> set[str]:
    code = f"import sys\nfrom protoncli.cli.app import run\ncode = run({args!r})\n"
    return _imported_after(code)


def test_help_and_version_import_nothing_heavy():
    for args in (["--help"], ["--version"], ["blueprint", "--help"]):
        loaded = _modules_of_cli_run(args)
        heavy = sorted({name.split(".")[0] for name in loaded} & set(HEAVY))
        assert heavy == [], f"pcli {' '.join(args)} imported {heavy}"
