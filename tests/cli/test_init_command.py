"""`pcli init [DIR]`: the workspace files, the report, the next step and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from protoncli.cli import lazy
from protoncli.cli.app import app
from protoncli.cli.commands.init import app as init_app
from protoncli.workspace.model import find_workspace


@pytest.fixture
def pcli(monkeypatch: pytest.MonkeyPatch):
    """The real root app with `init` registered as a lazy command."""
    monkeypatch.setitem(
        lazy.COMMANDS,
        "init",
        lazy.LazyCommand("protoncli.cli.commands.init:app", "Make a folder a pcli workspace."),
    )

    def run(*args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    return run


def test_init_creates_the_workspace_and_says_what_to_do_next(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(init_app, ["infra", "--name", "platform", "--region", "eu-west-1"])

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"Created workspace 'platform' in {(tmp_path / 'infra').resolve()}\n"
        "  pcli.yaml\n"
        "  environments/\n"
        "  services/\n"
        "  components/\n"
        "Default region: eu-west-1\n"
        "Registry: not set (pcli uses its default registry)\n"
        "Git: a new repository in the workspace's folder (nothing committed)\n"
        "Next: cd infra && pcli env create NAME --blueprint BLUEPRINT\n"
    )
    assert _git(tmp_path / "infra", "rev-parse", "--show-toplevel") == str(
        (tmp_path / "infra").resolve()
    )
    workspace = find_workspace(tmp_path / "infra" / "services")
    assert (workspace.name, workspace.region, workspace.registry) == ("platform", "eu-west-1", None)


def test_init_in_the_current_folder_takes_its_name(tmp_path, monkeypatch):
    folder = tmp_path / "team-infra"
    folder.mkdir()
    monkeypatch.chdir(folder)

    result = CliRunner().invoke(init_app, [])

    assert result.exit_code == 0, result.output
    assert result.output.endswith("Next: pcli env create NAME --blueprint BLUEPRINT\n")
    assert find_workspace(folder).name == "team-infra"


def test_region_defaults_to_the_aws_region_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")

    result = CliRunner().invoke(init_app, [str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert find_workspace(tmp_path).region == "ap-southeast-2"


def test_registry_given_from_here_is_recorded_relative_to_the_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(init_app, ["repos/infra", "--registry", "shared/blueprints"])

    assert result.exit_code == 0, result.output
    workspace = find_workspace(tmp_path / "repos" / "infra")
    assert workspace.registry == "../../shared/blueprints"
    assert workspace.registry_path() == tmp_path.resolve() / "shared" / "blueprints"
    assert "registry: ../../shared/blueprints\n" in (workspace.root / "pcli.yaml").read_text()


def test_json_report(tmp_path):
    result = CliRunner().invoke(init_app, [str(tmp_path / "ws"), "--json", "--region", "us-west-2"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "workspace": {
            "root": str((tmp_path / "ws").resolve()),
            "name": "ws",
            "region": "us-west-2",
            "registry": None,
        },
        "created": ["pcli.yaml", "environments/", "services/", "components/"],
        "git": "initialised",
        "next": f"cd {tmp_path / 'ws'} && pcli env create NAME --blueprint BLUEPRINT",
    }


def _git(folder: Path, *args: str) -> str:
    import subprocess

    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_workspace_inside_a_repository_makes_no_repository_of_its_own(tmp_path):
    _git(tmp_path, "init", "--quiet")

    result = CliRunner().invoke(init_app, [str(tmp_path / "infra" / "prod"), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["git"] == "inside"
    assert not (tmp_path / "infra" / "prod" / ".git").exists()


def test_a_workspace_in_a_folder_its_repository_ignores_gets_a_repository_of_its_own(tmp_path):
    _git(tmp_path, "init", "--quiet")
    (tmp_path / ".gitignore").write_text("/scratch/\n")

    result = CliRunner().invoke(init_app, [str(tmp_path / "scratch" / "ws"), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["git"] == "initialised"
    assert (tmp_path / "scratch" / "ws" / ".git").is_dir()


def test_no_git_makes_no_repository_and_says_so(tmp_path):
    result = CliRunner().invoke(init_app, [str(tmp_path / "ws"), "--no-git"])

    assert result.exit_code == 0, result.output
    assert "Git: not set up (--no-git): keep the spec files in a repository\n" in result.output
    assert not (tmp_path / "ws" / ".git").exists()


def test_without_git_on_the_path_the_workspace_is_made_and_the_report_says_so(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))

    result = CliRunner().invoke(init_app, [str(tmp_path / "ws"), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["git"] == "unavailable"
    assert (tmp_path / "ws" / "pcli.yaml").is_file()


def test_existing_spec_folders_are_not_reported_as_created(tmp_path):
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "api.yaml").write_text("proton: ServiceSpec\n")

    result = CliRunner().invoke(init_app, [str(tmp_path), "--json"])

    assert json.loads(result.output)["created"] == ["pcli.yaml", "environments/", "components/"]
    assert (tmp_path / "services" / "api.yaml").read_text() == "proton: ServiceSpec\n"


def test_second_init_is_a_usage_error(tmp_path, pcli):
    first = pcli("init", str(tmp_path))
    second = pcli("init", str(tmp_path), "--name", "other")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 2
    assert second.stderr == (
        f"Error: {tmp_path / 'pcli.yaml'}: already exists; this folder is a pcli workspace\n"
        "Hint: edit pcli.yaml to change its settings, or init another folder\n"
    )
    assert find_workspace(tmp_path).name == tmp_path.name


def test_bad_region_is_a_usage_error(tmp_path, pcli):
    result = pcli("init", str(tmp_path / "ws"), "--region", "eu-west")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: region 'eu-west': not an AWS region name\n"
        "Hint: give a region such as us-east-1 or eu-west-2\n"
    )
    assert not (tmp_path / "ws").exists()


def test_help_shows_an_example(pcli):
    result = pcli("init", "--help")

    assert result.exit_code == 0
    assert "Usage: pcli init [OPTIONS] [DIR]" in result.output
    assert "Example:" in result.output
    assert "pcli init platform-infra --region eu-west-1 --registry ../blueprints" in result.output


def test_workspace_folder_is_found_from_the_created_folders(tmp_path, pcli):
    pcli("init", str(tmp_path / "ws"))

    assert find_workspace(Path(tmp_path / "ws" / "components")).root == (tmp_path / "ws").resolve()
