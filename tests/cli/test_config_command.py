"""`pcli config list|get|set|unset`, and the one resolved view of settings every command uses."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protoncli import paths
from protoncli.cli.app import app

KEYS = [
    "region",
    "profile",
    "registry",
    "sandbox",
    "output",
    "color",
    "connect_timeout",
    "read_timeout",
    "quiet",
    "debug",
    "no_input",
]


def run(*args, env=None):
    return CliRunner().invoke(app, list(args), env=env)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """`pcli init` in tmp/ws, the current directory inside it."""
    root = tmp_path / "ws"
    result = run("init", str(root), "--name", "demo", "--region", "eu-west-1")
    assert result.exit_code == 0, result.output
    monkeypatch.chdir(root)
    return root


def listing(*args, env=None):
    result = run(*args, "config", "list", "--json", env=env)
    assert result.exit_code == 0, result.output
    return {r["key"]: (r["value"], r["source"]) for r in json.loads(result.stdout)["settings"]}


def test_list_shows_every_setting_its_value_and_source(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    registry = Path(os.environ["PCLI_HOME"]) / "data" / "registry"

    result = run("config", "list")

    assert result.exit_code == 0, result.output
    rows = [row for row in map(str.split, result.stdout.splitlines()) if row and row[0] in KEYS]
    assert rows == [
        ["region", "-", "default"],
        ["profile", "-", "default"],
        ["registry", str(registry), "default"],
        ["sandbox", "false", "default"],
        ["output", "text", "default"],
        ["color", "auto", "default"],
        ["connect_timeout", "5", "default"],
        ["read_timeout", "10", "default"],
        ["quiet", "false", "default"],
        ["debug", "false", "default"],
        ["no_input", "false", "default"],
    ]
    assert result.stdout.splitlines()[-2:] == [
        f"User config: {paths.user_config_file()} (not created yet)",
        "Workspace:   - (no pcli.yaml here or above)",
    ]


def test_list_json_names_flags_variables_workspace_and_user_file(workspace):
    assert run("config", "set", "color", "never").exit_code == 0
    config = paths.user_config_file()
    pcli_yaml = workspace / "pcli.yaml"

    result = run("--quiet", "config", "list", "--json", env={"PCLI_PROFILE": "ops"})

    document = json.loads(result.stdout)
    assert document["user_config"] == str(config)
    assert document["workspace_file"] == str(pcli_yaml)
    records = {r["key"]: r for r in document["settings"]}
    assert list(records) == KEYS
    assert records["quiet"] == {
        "key": "quiet",
        "value": True,
        "source": "flag --quiet",
        "origin": "flag",
        "variable": "PCLI_QUIET",
    }
    assert records["profile"]["source"] == "env PCLI_PROFILE"
    assert records["region"]["value"] == "eu-west-1"
    assert records["region"]["source"] == f"workspace {pcli_yaml}"
    assert records["color"]["source"] == f"user config {config}"
    assert records["output"]["origin"] == "default"


def test_region_precedence_flag_variable_workspace_user_config(workspace):
    assert run("config", "set", "region", "ap-south-1").exit_code == 0
    pcli_yaml = workspace / "pcli.yaml"

    assert listing()["region"] == ("eu-west-1", f"workspace {pcli_yaml}")
    assert listing(env={"PCLI_REGION": "us-west-2"})["region"] == ("us-west-2", "env PCLI_REGION")
    assert listing("--region", "ca-central-1", env={"PCLI_REGION": "us-west-2"})["region"] == (
        "ca-central-1",
        "flag --region",
    )
    outside = workspace.parent
    os.chdir(outside)
    assert listing()["region"] == ("ap-south-1", f"user config {paths.user_config_file()}")


def test_registry_precedence_reaches_blueprint_commands(workspace, tmp_path, starters_dir):
    pcli_yaml = workspace / "pcli.yaml"
    pcli_yaml.write_text(pcli_yaml.read_text() + "registry: ../team-registry\n")
    bundle = starters_dir / "vpc-ecs-env" / "v1"

    published = run("blueprint", "publish", str(bundle), "--name", "team-env", "--json")

    assert published.exit_code == 0, published.output
    assert (tmp_path / "team-registry" / "team-env" / "1.0" / "version.json").is_file()
    assert run("config", "get", "registry").stdout == f"{tmp_path / 'team-registry'}\n"
    flagged = run("--registry", str(tmp_path / "mine"), "config", "get", "registry")
    assert flagged.stdout == f"{tmp_path / 'mine'}\n"


def test_get_prints_the_value_only(workspace):
    assert run("config", "get", "region").stdout == "eu-west-1\n"
    assert run("config", "get", "sandbox").stdout == "false\n"
    assert run("config", "get", "profile").stdout == "\n"
    assert run("--no-input", "config", "get", "no-input").stdout == "true\n"
    got = run("config", "get", "output", "--json")
    assert json.loads(got.stdout) == {
        "key": "output",
        "value": "text",
        "source": "default",
        "origin": "default",
        "variable": "PCLI_OUTPUT",
    }


def test_get_of_an_unknown_key_is_a_usage_error_with_a_suggestion():
    result = run("config", "get", "regoin")

    assert result.exit_code == 2
    assert (
        result.stderr.splitlines()[0] == "Error: unknown setting 'regoin' (did you mean 'region'?)"
    )


def test_set_writes_the_user_file_and_every_command_sees_it(tmp_path, monkeypatch, registry):
    monkeypatch.chdir(tmp_path)

    result = run("config", "set", "output", "json")

    assert result.exit_code == 0, result.output
    assert result.stdout == f"Set output to json in {paths.user_config_file()}.\n"
    listed = run("--registry", str(registry), "blueprint", "list")
    assert listed.exit_code == 0, listed.output
    assert "vpc-ecs-env" in [b["name"] for b in json.loads(listed.stdout)["blueprints"]]


def test_set_says_when_a_variable_or_flag_overrides_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = run("config", "set", "color", "never", env={"PCLI_COLOR": "always"})

    assert result.exit_code == 0, result.output
    assert result.stderr == "Note: env PCLI_COLOR overrides it here (see `pcli config list`).\n"


def test_set_keeps_comments_and_refuses_bad_values(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = paths.user_config_file()
    config.parent.mkdir(parents=True)
    config.write_text("# laptop settings\nprofile: dev  # SSO\n")

    bad = run("config", "set", "sandbox", "maybe")
    good = run("config", "set", "sandbox", "yes")

    assert bad.exit_code == 2
    assert bad.stderr.splitlines() == [
        "Error: sandbox: 'maybe' is not true or false",
        "Hint: use true/false, 1/0, yes/no or on/off",
    ]
    assert good.exit_code == 0, good.output
    assert config.read_text() == "# laptop settings\nprofile: dev  # SSO\nsandbox: true\n"


def test_unset_removes_a_key_and_is_fine_when_it_is_absent(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert run("config", "set", "sandbox", "true").exit_code == 0
    config = paths.user_config_file()

    removed = run("config", "unset", "sandbox")
    again = run("config", "unset", "sandbox")

    assert removed.exit_code == 0, removed.output
    assert removed.stdout == f"Removed sandbox from {config}.\n"
    assert removed.stderr == "sandbox is now false (default).\n"
    assert "sandbox:" not in config.read_text()
    assert again.exit_code == 0
    assert again.stdout == f"sandbox is not set in {config}; nothing changed.\n"


def test_a_bad_setting_fails_every_command_but_config_can_mend_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = paths.user_config_file()
    config.parent.mkdir(parents=True)
    config.write_text("output: xml\n")

    broken = run("init", str(tmp_path / "one"))
    mended = run("config", "set", "output", "text")
    works = run("init", str(tmp_path / "two"))

    assert broken.exit_code == 2
    assert broken.stderr.splitlines()[0] == (
        f"Error: {config}:1: output: 'xml' is not one of text, json"
    )
    assert "Traceback" not in broken.output
    assert mended.exit_code == 0, mended.output
    assert works.exit_code == 0, works.output


@pytest.mark.parametrize(
    ("args", "env", "first_line"),
    [
        ([], {"PCLI_SANDBOX": "maybe"}, "Error: PCLI_SANDBOX: 'maybe' is not true or false"),
        ([], {"PCLI_DEBUG": "sometimes"}, "Error: PCLI_DEBUG: 'sometimes' is not true or false"),
        (["--output", "xml"], {}, "Error: --output: 'xml' is not one of text, json"),
        (["--color", "blue"], {}, "Error: --color: 'blue' is not one of auto, always, never"),
        (["--region", "mars"], {}, "Error: --region: 'mars' is not an AWS region name"),
    ],
)
def test_bad_flags_and_variables_are_one_line_usage_errors(
    tmp_path, monkeypatch, args, env, first_line
):
    monkeypatch.chdir(tmp_path)

    result = run(*args, "blueprint", "list", env=env)

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == first_line
    assert "Traceback" not in result.output


def test_a_workspace_setting_a_personal_setting_is_refused(workspace):
    pcli_yaml = workspace / "pcli.yaml"
    pcli_yaml.write_text(pcli_yaml.read_text() + "output: json\n")

    result = run("env", "list")

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"Error: {pcli_yaml}:")
    assert lines[0].endswith(": output: a workspace cannot set output; it is a personal setting")
    assert lines[1].startswith("Hint: remove it from pcli.yaml; set it with `pcli config set")


def test_unknown_keys_in_the_user_file_are_warned_about(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = paths.user_config_file()
    config.parent.mkdir(parents=True)
    config.write_text("colour: never\n")

    result = run("config", "list")

    assert result.exit_code == 0
    assert result.stderr == (
        f"Warning: {config}:1: unknown setting 'colour' (did you mean 'color'?); ignored\n"
    )


def test_root_help_names_the_variable_of_every_setting():
    result = run("--help", env={"COLUMNS": "300"})

    lines = {line.split()[1]: line for line in result.stdout.splitlines() if "│ --" in line}
    for key in KEYS:
        flag = "--" + key.replace("_", "-")
        assert lines[flag].rstrip(" │").endswith(f"[env var: PCLI_{key.upper()}]"), lines[flag]
    assert "AWS_PROFILE" in lines["--profile"]
