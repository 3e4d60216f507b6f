"""Resolved settings reach the deploying commands: region, profile and sandbox, against moto."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from protoncli.cli.app import app


@pytest.fixture
def cli(tmp_path, monkeypatch, moto_url):
    """`pcli --registry <tmp>/reg ...` run inside a workspace (pcli init, region eu-west-1)."""
    registry = tmp_path / "reg"
    root = tmp_path / "ws"

    def run(*args, env=None):
        return CliRunner().invoke(app, ["--registry", str(registry), *args], env=env)

    created = run("init", str(root), "--name", "demo", "--region", "eu-west-1")
    assert created.exit_code == 0, created.output
    monkeypatch.chdir(root)
    run.root = root
    return run


def spec_region(cli, name):
    lines = (cli.root / "environments" / f"{name}.yaml").read_text().splitlines()
    return next(line.split(": ")[1] for line in lines if line.startswith("region: "))


def test_the_region_variable_wins_over_the_workspace_for_a_new_environment(cli):
    result = cli(
        "env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy", env={"PCLI_REGION": "us-west-2"}
    )

    assert result.exit_code == 0, result.output
    assert spec_region(cli, "dev") == "us-west-2"


def test_a_user_config_region_does_not_override_the_workspace(cli):
    assert cli("config", "set", "region", "ap-south-1").exit_code == 0

    result = cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy")

    assert result.exit_code == 0, result.output
    assert spec_region(cli, "dev") == "eu-west-1"


def test_sandbox_set_in_pcli_yaml_is_used_and_the_variable_turns_it_off(cli):
    assert cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy").exit_code == 0
    pcli_yaml = cli.root / "pcli.yaml"
    pcli_yaml.write_text(pcli_yaml.read_text() + "sandbox: true\n")

    on = cli("status")
    off = cli("status", env={"PCLI_SANDBOX": "false"})

    assert on.exit_code == 1
    assert on.stderr.splitlines()[0] == "Error: the sandbox is not running"
    assert off.exit_code == 0, off.output
    assert "NOT_DEPLOYED" in off.stdout


@pytest.mark.parametrize(
    ("env", "described"),
    [
        ({"PCLI_PROFILE": "ghost"}, "for region eu-west-1 (profile ghost)"),
        ({"AWS_PROFILE": "ghost"}, "for region eu-west-1:"),
    ],
)
def test_pcli_profile_is_passed_on_and_aws_profile_still_works(cli, env, described):
    assert cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy").exit_code == 0

    result = cli("status", env=env)

    assert result.exit_code == 1
    first = result.stderr.splitlines()[0]
    assert described in first
    assert first.endswith("AWS profile 'ghost' not found")


def test_the_profile_flag_wins_over_the_user_config(cli):
    assert cli("config", "set", "profile", "from-file").exit_code == 0
    assert cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy").exit_code == 0

    from_file = cli("status")
    from_flag = cli("--profile", "from-flag", "status")

    assert "AWS profile 'from-file' not found" in from_file.stderr
    assert "AWS profile 'from-flag' not found" in from_flag.stderr
