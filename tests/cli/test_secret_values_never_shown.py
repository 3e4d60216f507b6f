"""A plain value of a secret input (quotes, line breaks) never reaches pcli's output.

The value is given the way specs carried over from Proton give it (plain text in the spec file)
or as `--param`; every run is checked in text, JSON and --debug modes, stdout and stderr.
"""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from protoncli.schema.secrets import MASK

SECRET = "Sw0rd\"fish's\nsecond-line-42"  # noqa: S105 - the value a test must never see
LINES = ["Sw0rd", "second-line-42"]  # any part of the value would be a leak
SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: DbInput
  types:
    DbInput:
      type: object
      properties:
        team: {type: string, default: core}
        db_password: {type: string, format: password}
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: cloudformation.yaml
      rendering_engine: jinja
      template_language: cloudformation
"""
HEAD = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n"
# Where the value lands, and what goes wrong there.
TEMPLATES = {
    # the quote closes the scalar: refused as an input that changes the structure (exit 2)
    "injection": HEAD + '      DisplayName: "{{ environment.inputs.db_password }}"\n',
    # the template is broken on the line the value lands on: the excerpt must be masked
    "broken-yaml": HEAD + "      DisplayName: {{ environment.inputs.db_password | tojson }} ]\n",
    # a filter's message quotes the value it refuses
    "filter": HEAD
    + "      DisplayName: {{ environment.inputs.db_password | proton_cfn_sanitize }}\n",
}
# The block scalar takes any line that is indented for it, so this one renders and deploys.
DEPLOYABLE = HEAD + (
    "      DisplayName: team\n"
    "      Tags:\n"
    "        - Key: note\n"
    "          Value: {{ environment.inputs.db_password | tojson }}\n"
)


def assert_hidden(result, *, where: str) -> None:
    for text in (result.stdout, result.stderr):
        for part in [SECRET, *LINES]:
            assert part not in text, f"{where}: the secret leaked:\n{text}"


def bundle(write_files, tmp_path, template: str):
    return write_files(
        tmp_path / "db-env",
        {
            "schema/schema.yaml": SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": template,
        },
    )


def plain_spec(tmp_path):
    spec = tmp_path / "dev.yaml"
    spec.write_text(
        yaml.safe_dump({"proton": "EnvironmentSpec", "spec": {"db_password": SECRET}}),
        encoding="utf-8",
    )
    return spec


@pytest.mark.parametrize(
    "expected",
    [
        ("injection", 2, "input 'db_password' (environment.inputs.db_password)"),
        ("broken-yaml", 1, "invalid YAML"),
        ("filter", 1, 'Illegal character(s) detected in "****"'),
    ],
)
@pytest.mark.parametrize("mode", [[], ["--json"], ["--debug"]])
def test_blueprint_render_never_shows_a_plain_secret(pcli, tmp_path, write_files, expected, mode):
    case, code, shown = expected
    root = bundle(write_files, tmp_path, TEMPLATES[case])
    out = tmp_path / "out"
    flags = ["--debug"] if mode == ["--debug"] else []
    json_flag = ["--json"] if mode == ["--json"] else []

    result = pcli(
        *flags,
        "blueprint", "render", str(root), "--spec", str(plain_spec(tmp_path)), "-o", str(out),
        *json_flag,
    )  # fmt: skip

    assert result.exit_code == code, result.output
    assert shown in result.stderr
    assert_hidden(result, where=f"{case} {mode}")
    assert not out.exists()


def test_a_masked_excerpt_still_says_where_the_template_breaks(pcli, tmp_path, write_files):
    root = bundle(write_files, tmp_path, TEMPLATES["broken-yaml"])

    result = pcli("blueprint", "render", str(root), "--spec", str(plain_spec(tmp_path)), "-o", "o")

    assert "line 5 of the rendered file reads '" in result.stderr
    assert 'DisplayName: "****' in result.stderr
    assert_hidden(result, where="excerpt")


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_env_create_and_deploy_never_show_a_secret_param(
    cli, tmp_path, write_files, cloudformation, json_flag
):
    root = bundle(write_files, tmp_path, DEPLOYABLE)
    assert cli("blueprint", "publish", str(root), "--name", "db-env").exit_code == 0

    created = cli(
        "env", "create", "dev", "-b", "db-env", "-p", f"db_password={SECRET}", "--yes", *json_flag
    )
    deployed = cli("env", "deploy", "dev", "--yes", *json_flag)
    shown = cli("env", "show", "dev", *json_flag)

    assert created.exit_code == 0, created.output
    assert deployed.exit_code == 0, deployed.output
    assert shown.exit_code == 0, shown.output
    for result, where in ((created, "create"), (deployed, "deploy"), (shown, "show")):
        assert_hidden(result, where=f"{where} {json_flag}")
    spec = (cli.workspace / "environments" / "dev.yaml").read_text()
    assert "{{resolve:secretsmanager:pcli/demo/env/dev/db_password:SecretString}}" in spec
    assert all(part not in spec for part in LINES)


def test_env_deploy_of_a_carried_over_plain_secret_refuses_it_without_showing_it(
    cli, tmp_path, write_files
):
    root = bundle(write_files, tmp_path, TEMPLATES["injection"])
    assert cli("blueprint", "publish", str(root), "--name", "db-env").exit_code == 0
    spec = cli.workspace / "environments" / "dev.yaml"
    spec.write_text(
        textwrap.dedent(
            """\
            blueprint: db-env
            version: "1.0"
            proton: EnvironmentSpec
            spec:
            """
        )
        + yaml.safe_dump({"db_password": SECRET}, indent=2).replace(
            "db_password", "  db_password", 1
        ),
        encoding="utf-8",
    )

    for flags in ([], ["--json"]):
        result = cli("env", "deploy", "dev", "--yes", *flags)
        assert result.exit_code == 2, result.output
        assert "input 'db_password'" in result.output
        assert_hidden(result, where=f"deploy {flags}")


def test_env_show_masks_a_carried_over_plain_secret(cli, tmp_path, write_files):
    root = bundle(write_files, tmp_path, DEPLOYABLE)
    assert cli("blueprint", "publish", str(root), "--name", "db-env").exit_code == 0
    spec = cli.workspace / "environments" / "dev.yaml"
    spec.write_text(
        'blueprint: db-env\nversion: "1.0"\nproton: EnvironmentSpec\nspec:\n'
        + yaml.safe_dump({"db_password": SECRET}, indent=2).replace(
            "db_password", "  db_password", 1
        ),
        encoding="utf-8",
    )

    for flags in ([], ["--json"]):
        shown = cli("env", "show", "dev", *flags)
        assert shown.exit_code == 0, shown.output
        assert_hidden(shown, where=f"show {flags}")
    document = json.loads(cli("env", "show", "dev", "--json").stdout)
    assert document["inputs"]["db_password"] == MASK
