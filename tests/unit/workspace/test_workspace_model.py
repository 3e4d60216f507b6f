"""pcli init and finding the workspace: pcli.yaml, folders, flag, variable, search upwards."""

from __future__ import annotations

from pathlib import Path

import pytest

from protoncli.errors import UsageError
from protoncli.workspace.model import (
    WORKSPACE_FILE,
    Workspace,
    default_workspace_name,
    find_workspace,
    init_workspace,
    load_workspace,
)

PCLI_YAML = """\
# pcli workspace. pcli commands run in this folder or below it find it on their own;
# from elsewhere, pass --workspace DIR or set PCLI_WORKSPACE.
#
#   environments/<name>.yaml   environment specs: Proton's EnvironmentSpec + blueprint, version
#   services/<name>.yaml       service specs: Proton's ServiceSpec + blueprint, version
#   components/<name>/         component IaC and the service instance it is attached to

# Workspace name: goes into the names and tags of the stacks pcli deploys.
name: platform

# AWS region of new environments (an environment spec's own `region:` wins).
region: eu-west-1

# Blueprint registry folder, relative to this file unless absolute
# (the --registry flag and PCLI_REGISTRY win over it).
registry: ../blueprints
"""


def make_workspace(root: Path, name: str = "team", region: str = "us-east-1") -> Workspace:
    return init_workspace(root, name=name, region=region, registry=None)


# --- init ---------------------------------------------------------------------------------------


def test_init_writes_commented_pcli_yaml_and_the_spec_folders(tmp_path):
    root = tmp_path / "infra"

    workspace = init_workspace(root, name="platform", region="eu-west-1", registry="../blueprints")

    assert (root / WORKSPACE_FILE).read_text() == PCLI_YAML
    assert sorted(p.name for p in root.iterdir()) == [
        "components",
        "environments",
        "pcli.yaml",
        "services",
    ]
    assert all((root / folder).is_dir() for folder in ("environments", "services", "components"))
    assert workspace == Workspace(root.resolve(), "platform", "eu-west-1", "../blueprints")
    assert workspace.registry_path() == tmp_path.resolve() / "blueprints"


def test_init_without_registry_leaves_a_commented_example(tmp_path):
    make_workspace(tmp_path)

    text = (tmp_path / WORKSPACE_FILE).read_text()

    assert text.endswith("# registry: ../blueprints\n")
    assert load_workspace(tmp_path).registry is None
    assert load_workspace(tmp_path).registry_path() is None


def test_init_refuses_a_folder_that_already_is_a_workspace(tmp_path):
    make_workspace(tmp_path, name="first")
    before = (tmp_path / WORKSPACE_FILE).read_text()

    with pytest.raises(UsageError) as caught:
        make_workspace(tmp_path, name="second")

    assert caught.value.message == (
        f"{tmp_path / WORKSPACE_FILE}: already exists; this folder is a pcli workspace"
    )
    assert (tmp_path / WORKSPACE_FILE).read_text() == before


def test_init_names_the_workspace_after_its_folder_made_valid(tmp_path):
    root = tmp_path / "my team.infra"

    workspace = init_workspace(root, name=None, region="us-east-1", registry=None)

    assert workspace.name == "my-team-infra"
    assert default_workspace_name(tmp_path / "__x__") == "x"
    assert default_workspace_name(tmp_path / "...") == "workspace"


def test_init_quotes_a_name_yaml_would_read_as_a_number(tmp_path):
    workspace = make_workspace(tmp_path, name="2024")

    assert 'name: "2024"\n' in (tmp_path / WORKSPACE_FILE).read_text()
    assert workspace.name == "2024"


@pytest.mark.parametrize(
    ("name", "region", "message"),
    [
        ("bad name", "us-east-1", "workspace name 'bad name': must match"),
        ("ok", "Europe", "region 'Europe': not an AWS region name"),
    ],
)
def test_init_refuses_bad_names_and_regions_and_writes_nothing(tmp_path, name, region, message):
    with pytest.raises(UsageError) as caught:
        init_workspace(tmp_path / "ws", name=name, region=region, registry=None)

    assert caught.value.message.startswith(message)
    assert not (tmp_path / "ws").exists()


# --- finding ------------------------------------------------------------------------------------


def test_find_searches_upwards_from_the_start_folder(tmp_path):
    make_workspace(tmp_path / "repo")
    deep = tmp_path / "repo" / "services" / "nested"
    deep.mkdir(parents=True)

    assert find_workspace(deep).root == (tmp_path / "repo").resolve()


def test_find_starts_in_the_current_directory(tmp_path, monkeypatch):
    make_workspace(tmp_path)
    monkeypatch.chdir(tmp_path / "environments")

    assert find_workspace().name == "team"


def test_find_prefers_the_flag_then_the_variable_to_the_search(tmp_path, monkeypatch):
    make_workspace(tmp_path / "here", name="here")
    make_workspace(tmp_path / "flag", name="flag")
    make_workspace(tmp_path / "variable", name="variable")
    monkeypatch.setenv("PCLI_WORKSPACE", str(tmp_path / "variable"))

    assert find_workspace(tmp_path / "here", tmp_path / "flag").name == "flag"
    assert find_workspace(tmp_path / "here").name == "variable"
    assert find_workspace(tmp_path / "here", tmp_path / "flag" / WORKSPACE_FILE).name == "flag"


def test_find_reports_where_it_looked(tmp_path):
    with pytest.raises(UsageError) as caught:
        find_workspace(tmp_path)

    assert caught.value.message == f"no pcli workspace (pcli.yaml) in {tmp_path} or any parent"
    assert caught.value.hint == "run `pcli init` or pass --workspace DIR"


def test_flag_naming_a_folder_without_pcli_yaml_does_not_search_upwards(tmp_path):
    make_workspace(tmp_path)

    with pytest.raises(UsageError) as caught:
        find_workspace(explicit=tmp_path / "services")

    assert caught.value.message == (
        f"--workspace {tmp_path / 'services'}: not a pcli workspace (no pcli.yaml in it)"
    )


def test_variable_naming_a_missing_folder_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PCLI_WORKSPACE", str(tmp_path / "gone"))

    with pytest.raises(UsageError) as caught:
        find_workspace(tmp_path)

    assert caught.value.message == f"PCLI_WORKSPACE {tmp_path / 'gone'}: no such directory"


# --- reading pcli.yaml --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("region: us-east-1\n", "{file}: missing 'name:'"),
        ("name: team\nregion: 12\n", "{file}:2: region must be non-empty text, not 12"),
        ("name: team\nregion: mars-1\n", "{file}:2: region 'mars-1': not an AWS region name"),
        ("name: -team\nregion: us-east-1\n", "{file}:1: workspace name '-team': must match"),
        ("name: [team\n", "{file}:2: invalid YAML"),
        ("- team\n", "{file}: expected a mapping with name, region and registry"),
    ],
)
def test_bad_pcli_yaml_names_file_and_line(tmp_path, text, message):
    (tmp_path / WORKSPACE_FILE).write_text(text)

    with pytest.raises(UsageError) as caught:
        find_workspace(tmp_path)

    assert caught.value.message.startswith(message.format(file=tmp_path / WORKSPACE_FILE))


def test_other_keys_of_pcli_yaml_are_kept_as_settings(tmp_path):
    (tmp_path / WORKSPACE_FILE).write_text("name: team\nregion: us-east-1\nprofile: ops\n")

    workspace = find_workspace(tmp_path)

    assert workspace.settings["profile"] == "ops"
    assert workspace == Workspace(tmp_path.resolve(), "team", "us-east-1", None)


# --- layout -------------------------------------------------------------------------------------


def test_spec_paths_and_listings(tmp_path):
    workspace = make_workspace(tmp_path)
    root = workspace.root
    for path in ("environments/dev.yaml", "environments/prod.yaml", "services/api.yaml"):
        (root / path).write_text("proton: EnvironmentSpec\n")
    (root / "environments" / "notes.txt").write_text("not a spec")
    (root / "environments" / ".dev.yaml.123.tmp").write_text("a write in progress")
    (root / "components" / "queue").mkdir()
    (root / "components" / "queue" / "component.yaml").write_text("environment: dev\n")
    (root / "components" / "half-made").mkdir()

    assert workspace.environment_spec("dev") == root / "environments" / "dev.yaml"
    assert workspace.service_spec("api") == root / "services" / "api.yaml"
    assert workspace.component_dir("queue") == root / "components" / "queue"
    assert workspace.environments() == ["dev", "prod"]
    assert workspace.services() == ["api"]
    assert workspace.components() == ["queue"]


def test_spec_paths_refuse_names_that_leave_the_folder(tmp_path):
    workspace = make_workspace(tmp_path)

    with pytest.raises(UsageError) as caught:
        workspace.environment_spec("../secrets")

    assert caught.value.message.startswith("environment name '../secrets': must match")


def test_absolute_registry_is_used_as_is(tmp_path):
    workspace = init_workspace(
        tmp_path / "ws", name="ws", region="us-east-1", registry=str(tmp_path / "reg")
    )

    assert workspace.registry_path() == tmp_path / "reg"
