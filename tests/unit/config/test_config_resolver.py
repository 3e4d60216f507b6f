"""Settings resolution: every layer, its source text, bad values, and editing the user file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from protoncli import paths
from protoncli.config import (
    SETTINGS,
    find_workspace_file,
    resolve_settings,
    set_user_setting,
    unset_user_setting,
)
from protoncli.errors import UsageError

PCLI_YAML = "name: demo\nregion: eu-west-1\n"


def user_file(text: str) -> Path:
    path = paths.user_config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """A folder with a pcli.yaml; the current directory is a folder below it."""
    root = tmp_path / "ws"
    (root / "services").mkdir(parents=True)
    (root / "pcli.yaml").write_text(PCLI_YAML)
    monkeypatch.chdir(root / "services")
    return root


def test_defaults_when_nothing_sets_anything(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    settings = resolve_settings()

    assert {key: r.value for key, r in settings.resolved.items()} == {
        "region": None,
        "profile": None,
        "registry": Path(os.environ["PCLI_HOME"]) / "data" / "registry",
        "sandbox": False,
        "output": "text",
        "connect_timeout": 5.0,
        "read_timeout": 10.0,
        "color": "auto",
        "quiet": False,
        "debug": False,
        "no_input": False,
    }
    assert {r.source for r in settings.resolved.values()} == {"default"}
    assert settings.workspace_file is None
    assert settings.user_file == paths.user_config_file()


def test_each_layer_wins_over_the_ones_below_it(workspace, monkeypatch):
    config = user_file("region: ap-south-1\nregistry: user-reg\n")
    (workspace / "pcli.yaml").write_text(PCLI_YAML + "registry: ../ws-reg\n")

    def region_and_registry(**flags):
        settings = resolve_settings(flags)
        return [(settings[k].value, settings[k].source) for k in ("region", "registry")]

    assert region_and_registry() == [
        ("eu-west-1", f"workspace {workspace / 'pcli.yaml'}"),
        (workspace.parent / "ws-reg", f"workspace {workspace / 'pcli.yaml'}"),
    ]
    monkeypatch.setenv("PCLI_REGION", "us-west-2")
    monkeypatch.setenv("PCLI_REGISTRY", "/srv/env-reg")
    assert region_and_registry() == [
        ("us-west-2", "env PCLI_REGION"),
        (Path("/srv/env-reg"), "env PCLI_REGISTRY"),
    ]
    assert region_and_registry(region="ca-central-1", registry=Path("/flag-reg")) == [
        ("ca-central-1", "flag --region"),
        (Path("/flag-reg"), "flag --registry"),
    ]
    (workspace / "pcli.yaml").write_text(PCLI_YAML.replace("region: eu-west-1\n", ""))
    monkeypatch.delenv("PCLI_REGION")
    monkeypatch.delenv("PCLI_REGISTRY")
    assert region_and_registry() == [
        ("ap-south-1", f"user config {config}"),
        (config.parent / "user-reg", f"user config {config}"),
    ]


def test_only_a_flag_or_the_variable_overrides_the_region_of_specs(workspace, monkeypatch):
    user_file("region: ap-south-1\n")
    assert resolve_settings().region_override() is None
    monkeypatch.setenv("PCLI_REGION", "us-west-2")
    assert resolve_settings().region_override() == "us-west-2"
    assert resolve_settings({"region": "eu-north-1"}).region_override() == "eu-north-1"


def test_an_explicit_workspace_or_the_variable_is_used_instead_of_the_search(
    workspace, tmp_path, monkeypatch
):
    other = tmp_path / "other"
    other.mkdir()
    (other / "pcli.yaml").write_text("name: other\nregion: sa-east-1\n")

    assert find_workspace_file() == workspace / "pcli.yaml"
    assert resolve_settings(workspace=other).value("region") == "sa-east-1"
    assert find_workspace_file(other / "pcli.yaml") == other / "pcli.yaml"
    monkeypatch.setenv("PCLI_WORKSPACE", str(other))
    assert resolve_settings().value("region") == "sa-east-1"
    monkeypatch.setenv("PCLI_WORKSPACE", str(tmp_path / "missing"))
    assert find_workspace_file() is None
    assert resolve_settings().value("region") is None


@pytest.mark.parametrize(
    ("variable", "text", "value"),
    [
        ("PCLI_SANDBOX", "1", True),
        ("PCLI_SANDBOX", "Off", False),
        ("PCLI_QUIET", "yes", True),
        ("PCLI_NO_INPUT", "true", True),
        ("PCLI_DEBUG", "0", False),
        ("PCLI_OUTPUT", "json", "json"),
        ("PCLI_COLOR", "never", "never"),
        ("PCLI_PROFILE", "prod-admin", "prod-admin"),
    ],
)
def test_variables_are_read_and_typed(tmp_path, monkeypatch, variable, text, value):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, text)
    key = variable.removeprefix("PCLI_").lower()

    resolved = resolve_settings()[key]

    assert (resolved.value, resolved.source) == (value, f"env {variable}")


def test_an_empty_variable_counts_as_unset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PCLI_OUTPUT", "")
    assert resolve_settings()["output"].source == "default"


@pytest.mark.parametrize(
    ("variable", "text", "message"),
    [
        ("PCLI_SANDBOX", "maybe", "PCLI_SANDBOX: 'maybe' is not true or false"),
        ("PCLI_OUTPUT", "xml", "PCLI_OUTPUT: 'xml' is not one of text, json"),
        ("PCLI_COLOR", "colour", "PCLI_COLOR: 'colour' is not one of auto, always, never"),
        ("PCLI_REGION", "moon-base", "PCLI_REGION: 'moon-base' is not an AWS region name"),
    ],
)
def test_a_bad_variable_is_a_usage_error_naming_it(tmp_path, monkeypatch, variable, text, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, text)

    with pytest.raises(UsageError) as caught:
        resolve_settings()

    assert caught.value.message.startswith(message)


def test_a_bad_value_in_the_user_file_names_the_file_and_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = user_file("# mine\nquiet: true\noutput: xml\n")

    with pytest.raises(UsageError) as caught:
        resolve_settings()

    assert caught.value.message == f"{path}:3: output: 'xml' is not one of text, json"


def test_a_string_where_a_boolean_belongs_in_a_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = user_file('sandbox: "maybe"\n')

    with pytest.raises(UsageError) as caught:
        resolve_settings()

    assert caught.value.message == f"{path}:1: sandbox: 'maybe' is not true or false"


def test_a_workspace_cannot_set_a_personal_setting(workspace):
    (workspace / "pcli.yaml").write_text(PCLI_YAML + "profile: admin\n")

    with pytest.raises(UsageError) as caught:
        resolve_settings()

    assert caught.value.message == (
        f"{workspace / 'pcli.yaml'}:3: profile: a workspace cannot set profile; "
        "it is a personal setting"
    )
    assert "pcli config set profile" in (caught.value.hint or "")


def test_the_workspace_may_turn_the_sandbox_on_and_the_variable_off(workspace, monkeypatch):
    (workspace / "pcli.yaml").write_text(PCLI_YAML + "sandbox: true\n")
    assert resolve_settings().value("sandbox") is True
    monkeypatch.setenv("PCLI_SANDBOX", "0")
    assert resolve_settings().value("sandbox") is False


@pytest.mark.parametrize(("text", "seconds"), [("2.5", 2.5), ("30", 30.0), (" 1 ", 1.0)])
def test_timeouts_are_seconds_from_variables_and_files(tmp_path, monkeypatch, text, seconds):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PCLI_READ_TIMEOUT", text)
    assert resolve_settings().value("read_timeout") == seconds
    user_file(f"connect_timeout: {text.strip()}\n")
    assert resolve_settings().value("connect_timeout") == seconds


@pytest.mark.parametrize("text", ["0", "-1", "soon", "7200", "nan"])
def test_a_timeout_that_is_not_a_number_of_seconds_is_refused(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PCLI_CONNECT_TIMEOUT", text)
    with pytest.raises(UsageError, match="expected a number of seconds"):
        resolve_settings()


def test_unknown_keys_of_the_user_file_are_warnings_and_empty_keys_are_unset(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = user_file("regoin: eu-west-1\nprofile:\n")

    settings = resolve_settings()

    assert settings.warnings == (
        f"{path}:1: unknown setting 'regoin' (did you mean 'region'?); ignored",
    )
    assert settings["profile"].source == "default"


def test_every_setting_has_a_pcli_variable_and_a_flag():
    assert [(s.variable, s.flag) for s in SETTINGS] == [
        ("PCLI_REGION", "--region"),
        ("PCLI_PROFILE", "--profile"),
        ("PCLI_REGISTRY", "--registry"),
        ("PCLI_SANDBOX", "--sandbox"),
        ("PCLI_OUTPUT", "--output"),
        ("PCLI_COLOR", "--color"),
        ("PCLI_CONNECT_TIMEOUT", "--connect-timeout"),
        ("PCLI_READ_TIMEOUT", "--read-timeout"),
        ("PCLI_QUIET", "--quiet"),
        ("PCLI_DEBUG", "--debug"),
        ("PCLI_NO_INPUT", "--no-input"),
    ]


# --- the user file ------------------------------------------------------------------------------


def test_set_creates_the_file_with_a_header_then_edits_it_keeping_comments():
    path = paths.user_config_file()
    assert not path.exists()

    set_user_setting("output", "json")
    text = path.read_text()
    assert text.startswith("# pcli user settings")
    assert text.endswith("\noutput: json\n")

    path.write_text("# my settings\noutput: json  # for jq\n\n# registry\nregistry: ~/r\n# end\n")
    set_user_setting("no-input", "on")
    set_user_setting("output", "text")
    assert path.read_text() == (
        "# my settings\noutput: text  # for jq\n\n# registry\nregistry: ~/r\nno_input: true\n"
        "# end\n"
    )


def test_set_quotes_text_yaml_would_read_as_something_else():
    set_user_setting("profile", "yes")
    assert paths.user_config_file().read_text().endswith('profile: "yes"\n')
    assert resolve_settings().value("profile") == "yes"


def test_set_refuses_a_bad_value_and_leaves_the_file_alone():
    path = user_file("output: json\n")

    with pytest.raises(UsageError) as caught:
        set_user_setting("color", "purple")

    assert caught.value.message == "color: 'purple' is not one of auto, always, never"
    assert path.read_text() == "output: json\n"


def test_unset_removes_the_key_and_keeps_the_rest():
    path = user_file("# keep me\noutput: json\nquiet: true\n")

    assert unset_user_setting("output")[1] is True
    assert path.read_text() == "# keep me\nquiet: true\n"
    assert unset_user_setting("quiet")[1] is True
    assert path.read_text() == "# keep me\n"
    assert unset_user_setting("quiet")[1] is False
    assert resolve_settings().value("quiet") is False
