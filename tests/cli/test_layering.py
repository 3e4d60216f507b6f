"""The core never imports the CLI libraries; help and version stay light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    "protoncli.state.naming",
    "protoncli.state.identity",
    "protoncli.state.declared",
    "protoncli.state.deployed",
    "protoncli.state.fleet",
    "protoncli.state.plan",
    "protoncli.state.opsfile",
    "protoncli.state.shard",
    "protoncli.deploy.apply",
    "protoncli.deploy.environments",
    "protoncli.deploy.services",
    "protoncli.deploy.components",
    "protoncli.deploy.upgrade",
    "protoncli.deploy.upgrade_inputs",
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


# What the state model may import from deploy/: the composition root and the engine's data.
STATE_MAY_IMPORT_FROM_DEPLOY = {
    "protoncli.deploy",
    "protoncli.deploy.project",
    "protoncli.deploy.model",
}


def test_the_state_model_imports_no_acting_part_of_deploy():
    """state/ describes; deploy/ acts on what it describes (deploy imports state, never the
    other way round beyond the project and the data classes)."""
    loaded = _imported_after("import protoncli.state.fleet")
    acting = sorted(
        name
        for name in loaded
        if name.startswith("protoncli.deploy") and name not in STATE_MAY_IMPORT_FROM_DEPLOY
    )
    assert acting == []


def test_core_modules_never_import_cli_libraries():
    loaded = _imported_after("\n".join(f"import {m}" for m in CORE_MODULES))
    leaked = sorted(name for name in loaded if name.split(".")[0] in CLI_LIBRARIES)
    assert leaked == []


# What `pcli --help`, `--version`, `<group> --help` and completion must never import.
NOT_AT_START = ["boto3", "botocore", "questionary", "jinja2", "cfnlint", "moto", "pydantic"]
COMPLETE_ENV_DEPLOY = {
    "_PCLI_COMPLETE": "complete_bash",
    "COMP_WORDS": "pcli env deploy ",
    "COMP_CWORD": "3",
}


def _imported_by_pcli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> set[str]:
    """Top-level packages `python -X importtime -m protoncli ARGS` imported (it must exit 0
    and print something: help, a version, completion candidates)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "protoncli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip(), f"pcli {' '.join(args)} printed nothing"
    timings = [line for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert timings, "python -X importtime printed no import timings"
    return {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in timings[1:]}


@pytest.fixture
def workspace_with_an_environment(tmp_path: Path) -> Path:
    """A workspace (pcli.yaml) with environments/dev.yaml, so completion has names to read."""
    (tmp_path / "pcli.yaml").write_text("name: demo\nregion: us-east-1\n")
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "dev.yaml").write_text(
        'blueprint: vpc-ecs-env\nversion: "1.0"\nproton: EnvironmentSpec\nspec: {}\n'
    )
    return tmp_path


def test_help_version_and_completion_import_nothing_heavy(workspace_with_an_environment: Path):
    from protoncli.cli.lazy import COMMANDS

    runs: list[tuple[list[str], dict[str, str] | None]] = [
        (["--help"], None),
        (["--version"], None),
        *(([group, "--help"], None) for group in COMMANDS),
        ([], COMPLETE_ENV_DEPLOY),
    ]
    for args, env in runs:
        loaded = _imported_by_pcli(args, workspace_with_an_environment, env)
        heavy = sorted(loaded & set(NOT_AT_START))
        what = " ".join(args) if env is None else "completion of `pcli env deploy `"
        assert heavy == [], f"pcli {what} imported {heavy}"


def test_the_import_check_sees_heavy_imports(workspace_with_an_environment: Path):
    """The check above can fail: a command that renders does import jinja2."""
    out = workspace_with_an_environment / "out"
    args = ["blueprint", "render", "vpc-ecs-env", "--name", "dev", "--output-dir", str(out)]
    assert "jinja2" in _imported_by_pcli(args, workspace_with_an_environment)


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


def test_schema_and_specs_never_import_deploy_and_the_registry_never_imports_starters(
    tmp_path: Path,
):
    """Secret-reference rules live beside the schema; seeding is the caller's business."""
    rules = ["schema.model", "schema.parse", "schema.secrets", "schema.validate"]
    modules = [f"protoncli.{name}" for name in [*rules, "specs.io", "specs.model", "specs.resolve"]]
    loaded = _imported_after("\n".join(f"import {m}" for m in modules))
    assert sorted(name for name in loaded if name.startswith("protoncli.deploy")) == []

    # The registry read and written in every way a command does: still no starters module.
    code = (
        "from pathlib import Path\n"
        "from protoncli.blueprints.registry import Registry\n"
        f"registry = Registry(Path({str(tmp_path / 'registry')!r}))\n"
        "registry.blueprints(); registry.names()\n"
        "try:\n"
        "    registry.resolve('vpc-ecs-env')\n"
        "except Exception:\n"
        "    pass\n"
    )
    loaded = _imported_after(code)
    assert "protoncli.blueprints.registry" in loaded
    assert "protoncli.blueprints.starters" not in loaded
