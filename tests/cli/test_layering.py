"""The core never imports the CLI libraries; help and version stay light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    "protoncli.deploy.engine",
    "protoncli.deploy.naming",
    "protoncli.deploy.environments",
    "protoncli.deploy.services",
    "protoncli.deploy.components",
    "protoncli.deploy.status",
    "protoncli.workspace.model",
    "protoncli.workspace.specfiles",
    "protoncli.workspace.scaffold",
    "protoncli.sandbox.manager",
]
SRC = Path(__file__).resolve().parents[2] / "src" / "protoncli"
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
    groups = ("blueprint", "env", "svc", "component", "status", "sandbox", "init")
    for args in (["--help"], ["--version"], *([group, "--help"] for group in groups)):
        loaded = _modules_of_cli_run(args)
        heavy = sorted({name.split(".")[0] for name in loaded} & set(HEAVY))
        assert heavy == [], f"pcli {' '.join(args)} imported {heavy}"


def test_only_the_aws_package_imports_boto3():
    """boto3/botocore load when an aws/ module does, never from the core's own imports."""
    core = [m for m in CORE_MODULES if not m.startswith("protoncli.aws")]
    loaded = _imported_after("\n".join(f"import {m}" for m in core))
    assert sorted({name.split(".")[0] for name in loaded} & {"boto3", "botocore"}) == []
    sources = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if "aws" not in path.relative_to(SRC).parts
        and any(
            line.lstrip().startswith(
                ("import boto3", "import botocore", "from boto3", "from botocore")
            )
            for line in path.read_text().splitlines()
        )
    )
    assert sources == []
