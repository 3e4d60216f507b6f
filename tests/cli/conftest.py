"""Fixtures shared by the CLI tests: an in-process `pcli` with its own registry, bundles."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from protoncli.cli.app import app


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "reg"


@pytest.fixture
def pcli(registry: Path) -> Callable[..., Result]:
    """Run `pcli --registry <tmp>/reg ARGS...` in-process and return the result."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["--registry", str(registry), *args], env=env)

    return run


@pytest.fixture
def env_bundle(tmp_path: Path, starters_dir: Path) -> Path:
    """A copy of the vpc-ecs-env starter bundle in a folder named team-env."""
    bundle = tmp_path / "work" / "team-env"
    shutil.copytree(starters_dir / "vpc-ecs-env" / "v1", bundle)
    return bundle


@pytest.fixture
def touch_template() -> Callable[[Path, str], None]:
    """Change a bundle's content (a comment) without changing its schema."""

    def touch(bundle: Path, comment: str) -> None:
        template = bundle / "infrastructure" / "cloudformation.yaml"
        template.write_text(template.read_text() + f"# {comment}\n")

    return touch
