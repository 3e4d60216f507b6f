"""`pcli env create` / `pcli svc create` where pcli cannot ask: one exit-2 error listing every
missing thing with its flag; `--version` next to `--blueprint`.

The app runs in-process; stdin is not a terminal, so nothing is ever asked.
"""

from __future__ import annotations

import pytest

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TEAM_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: TeamInput
  types:
    TeamInput:
      type: object
      required: [team, size]
      properties:
        team: {type: string}
        size: {type: integer, minimum: 1, maximum: 5}
"""
TEMPLATE = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
WEB_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: WebInput
  types:
    WebInput:
      type: object
      required: [owner]
      properties:
        owner: {type: string}
"""


def write_bundle(folder, files):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def cli(pcli, tmp_path):
    """`pcli --workspace ws ...` with team-env 1.0 and 1.1 and web-svc published."""
    workspace = tmp_path / "ws"
    assert pcli("init", str(workspace), "--name", "demo").exit_code == 0

    def run(*args, env=None):
        return pcli("--workspace", str(workspace), *args, env=env)

    team = write_bundle(
        tmp_path / "team-env",
        {
            "schema/schema.yaml": TEAM_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": TEMPLATE,
        },
    )
    assert run("blueprint", "publish", str(team), "--name", "team-env").exit_code == 0
    (team / "infrastructure" / "cloudformation.yaml").write_text(TEMPLATE + "# 1.1\n")
    assert run("blueprint", "publish", str(team), "--name", "team-env").exit_code == 0
    web = write_bundle(
        tmp_path / "web-svc",
        {
            ".template-registration.yaml": "compatible_environments:\n  - team-env:1\n",
            "schema/schema.yaml": WEB_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": TEMPLATE,
        },
    )
    assert run("blueprint", "publish", str(web), "--name", "web-svc").exit_code == 0
    run.workspace = workspace
    return run


def test_env_create_with_nothing_lists_name_and_blueprint_with_their_flags(cli):
    result = cli("env", "create", "--no-deploy")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: new environment: 2 required value(s) missing: NAME, --blueprint\n"
        "  NAME: the new environment's name (the first argument)\n"
        "  --blueprint: the environment blueprint, NAME or NAME@VERSION (in the registry: "
        "external-env, team-env, tf-vpc-env, vpc-ecs-env)\n"
        "Hint: give them with NAME --blueprint BLUEPRINT (or in a spec file with --spec FILE)\n"
    )


def test_env_create_lists_the_name_and_every_required_input_in_one_error(cli):
    result = cli("env", "create", "-b", "team-env", "--no-deploy")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: new environment: 3 required value(s) missing: NAME, team, size\n"
        "  NAME: the new environment's name (the first argument)\n"
        "  new environment: input 'team' is required (type string)\n"
        "  new environment: input 'size' is required (type integer)\n"
        "Hint: give them with NAME --param team=VALUE --param size=VALUE (or in a spec file "
        "with --spec FILE)\n"
    )
    assert list((cli.workspace / "environments").iterdir()) == []


def test_env_create_never_asks_with_no_input_even_where_it_could(cli):
    result = cli("--no-input", "env", "create", "dev", "-b", "team-env", "-p", "team=core")

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: environment 'dev': 1 required input(s) missing: size\n")


def test_a_wrong_param_names_the_input_the_expected_type_and_the_value(cli):
    result = cli("env", "create", "dev", "-b", "team-env", "-p", "team=a", "-p", "size=many")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --param size: input 'size' expects a whole number (integer), got 'many'\n"
        "Hint: inputs of 'TeamInput': team, size\n"
    )


def test_version_flag_picks_the_version_and_defaults_to_the_recommended_one(cli):
    params = ("-p", "team=a", "-p", "size=1", "--no-deploy")
    pinned = cli("env", "create", "old", "-b", "team-env", "--version", "1.0", *params)
    latest = cli("env", "create", "new", "-b", "team-env", *params)
    same = cli("env", "create", "same", "-b", "team-env@1.0", "--version", "1.0", *params)

    assert pinned.exit_code == 0, pinned.output
    assert "(team-env@1.0, us-east-1)" in pinned.stderr
    assert 'version: "1.0"' in (cli.workspace / "environments" / "old.yaml").read_text()
    assert latest.exit_code == 0, latest.output
    assert 'version: "1.1"' in (cli.workspace / "environments" / "new.yaml").read_text()
    assert same.exit_code == 0, same.output


def test_version_flag_and_a_different_version_in_the_reference_are_a_usage_error(cli):
    result = cli("env", "create", "dev", "-b", "team-env@1.0", "--version", "1.1")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --blueprint team-env@1.0 and --version 1.1 name different versions\n"
        "Hint: give the version once: --blueprint NAME --version VERSION\n"
    )


def test_svc_create_lists_instances_with_the_compatible_environments(cli):
    params = ("-p", "team=a", "-p", "size=1", "--no-deploy")
    assert cli("env", "create", "dev", "-b", "team-env", *params).exit_code == 0
    assert cli("env", "create", "lab", "-b", "vpc-ecs-env", "--no-deploy").exit_code == 0

    result = cli("svc", "create", "web", "-b", "web-svc", "--no-deploy")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: service 'web': 2 required value(s) missing: --instance, owner\n"
        "  --instance: the service's instances, one per environment (compatible environments "
        "here: dev)\n"
        "  input 'owner' is required\n"
        "Hint: give them with --instance INSTANCE=ENVIRONMENT --param owner=VALUE (or in a spec "
        "file with --spec FILE)\n"
    )
    assert not (cli.workspace / "services" / "web.yaml").exists()


def test_svc_create_json_reports_the_missing_values_in_its_result_line(cli):
    import json

    result = cli("svc", "create", "--json")

    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["type"] for r in records] == ["version", "result"]
    assert records[-1]["error"] == (
        "new service: 3 required value(s) missing: NAME, --blueprint, --instance"
    )
