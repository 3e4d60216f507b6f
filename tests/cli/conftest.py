"""Fixtures shared by the CLI tests: an in-process `pcli` with its own registry, bundles."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


@pytest.fixture
def write_files(tmp_path: Path) -> Callable[[Path | str, dict[str, str]], Path]:
    """`write_files(root, {relative path: text})` writes a bundle's files under `root` (taken
    from tmp_path when relative); returns the root."""

    def write(folder: Path | str, files: dict[str, str]) -> Path:
        root = tmp_path / folder
        for name, text in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root

    return write


@pytest.fixture
def cli(pcli: Callable[..., Result], tmp_path: Path, moto_url: str) -> Callable[..., Result]:
    """`pcli --registry <tmp> --workspace <tmp>/ws ...` in a fresh workspace named demo, with
    AWS on the moto server; `cli.workspace` is the workspace folder."""
    workspace = tmp_path / "ws"
    created = pcli("init", str(workspace), "--name", "demo")
    assert created.exit_code == 0, created.output

    def run(*args: str) -> Result:
        return pcli("--workspace", str(workspace), *args)

    run.workspace = workspace  # type: ignore[attr-defined]
    return run


@pytest.fixture
def cloudformation(moto_url: str) -> Any:
    """A boto3 CloudFormation client on the moto server."""
    import boto3

    return boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bare provisioning repository with one commit on main (Terraform by pull request)."""
    import subprocess

    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "t")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "t@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "t")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "t@example.com")
    seed = tmp_path / "seed"
    seed.mkdir()
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "README.md"],
        ["commit", "-q", "-m", "start"],
    ):
        if args[0] == "add":
            (seed / "README.md").write_text("provisioning\n")
        subprocess.run(["git", *args], cwd=seed, check=True, capture_output=True, timeout=60)
    bare = tmp_path / "provisioning.git"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(seed), str(bare)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return bare
