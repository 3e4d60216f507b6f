"""Exit codes of `pcli blueprint ...`, `pcli init`, `pcli sandbox ...` and the root command
(docs/reference/exit-codes.md): 0 success, 1 error, 2 usage error or unknown name."""

from __future__ import annotations

import shutil

import pytest

BROKEN_TEMPLATE = "Resources:\n  Topic:\n    Type: {{ environment.inputs.no_such_input }}\n"


@pytest.fixture
def team_env(tmp_path, starters_dir):
    bundle = tmp_path / "work" / "team-env"
    shutil.copytree(starters_dir / "vpc-ecs-env" / "v1", bundle)
    return bundle


@pytest.fixture
def in_tmp_path(tmp_path, monkeypatch):
    """Run in an empty folder: relative paths name nothing, no workspace is found."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def first_error(result):
    return next(line for line in result.stderr.splitlines() if line.startswith(("Error", "Usage")))


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (("blueprint", "list"), 0, None),
        (("blueprint", "versions", "vpc-ecs-env"), 0, None),
        (("blueprint", "show", "vpc-ecs-env@1.0"), 0, None),
        (("blueprint", "promote", "vpc-ecs-env", "1.0"), 0, None),
        (("blueprint", "lint", "vpc-ecs-env"), 0, None),
        (("blueprint", "list", "--wrong"), 2, "Usage: pcli blueprint list"),
        (("blueprint", "versions"), 2, "Usage: pcli blueprint versions"),
        (("blueprint", "versions", "nope"), 2, "Error: blueprint 'nope' not found"),
        (("blueprint", "show", "nope"), 2, "Error: blueprint 'nope' not found"),
        (("blueprint", "show", "vpc-ecs-env@9.9"), 2, "Error: blueprint 'vpc-ecs-env' has no"),
        (("blueprint", "promote", "nope", "1.0"), 2, "Error: blueprint 'nope' not found"),
        (("blueprint", "publish", "./missing"), 2, "Error: missing: no such bundle"),
        (("blueprint", "sync", "./missing"), 2, "Error: missing: no such folder"),
        (("blueprint", "render", "vpc-ecs-env", "-o", "out"), 2, "Error: --name is required"),
        (("blueprint", "render", "nope", "-o", "out", "-n", "x"), 2, "Error: blueprint 'nope'"),
        (("blueprint", "lint", "./missing"), 2, "Error: ./missing: no such bundle"),
        (("sandbox", "stop"), 0, None),
        (("sandbox", "status"), 1, None),
        (("sandbox", "start", "--timeout", "0"), 2, "Usage: pcli sandbox start"),
        (("init", "--wrong"), 2, "Usage: pcli init"),
        (("nope",), 2, "Usage: pcli"),
        (("--output", "xml", "blueprint", "list"), 2, "Error: "),
        (("--color", "purple", "blueprint", "list"), 2, "Error: "),
    ],
)
def test_registry_sandbox_and_root_exit_codes(pcli, in_tmp_path, args, code, error):
    result = pcli(*args)

    assert result.exit_code == code, result.output
    if error is None:
        assert "Error" not in result.stderr
        assert "Traceback" not in result.output
    else:
        assert first_error(result).startswith(error)


def test_init_exits_2_on_an_existing_workspace(pcli, tmp_path):
    assert pcli("init", str(tmp_path / "ws")).exit_code == 0

    again = pcli("init", str(tmp_path / "ws"))

    assert again.exit_code == 2
    assert first_error(again).endswith("pcli.yaml: already exists; this folder is a pcli workspace")


def test_blueprint_errors_that_are_not_usage_exit_1(pcli, team_env, tmp_path):
    lint_errors = tmp_path / "lint-errors"
    shutil.copytree(team_env, lint_errors)
    (lint_errors / "schema" / "schema.yaml").write_text("schema: [not, a, mapping]\n")
    render_fails = tmp_path / "render-fails"
    shutil.copytree(team_env, render_fails)
    (render_fails / "infrastructure" / "cloudformation.yaml").write_text(BROKEN_TEMPLATE)
    templates = tmp_path / "templates"
    (templates / "broken" / "v1").mkdir(parents=True)

    linted = pcli("blueprint", "lint", str(lint_errors))
    rendered = pcli(
        "blueprint", "render", str(render_fails), "-n", "dev", "-o", str(tmp_path / "o")
    )
    synced = pcli("blueprint", "sync", str(templates))

    assert linted.exit_code == 1, linted.output
    assert linted.stdout.splitlines()[-1].startswith("Lint failed: ")
    assert rendered.exit_code == 1, rendered.output
    assert first_error(rendered).startswith("Error: ")
    assert synced.exit_code == 1, synced.output
    assert first_error(synced).startswith("Error: ")


def test_a_minor_version_that_breaks_the_schema_is_refused_with_exit_1(pcli, team_env):
    assert pcli("blueprint", "publish", str(team_env)).exit_code == 0
    schema = team_env / "schema" / "schema.yaml"
    schema.write_text(
        schema.read_text().replace("type: object", "type: object\n      required: [brand_new]", 1)
    )

    refused = pcli("blueprint", "publish", str(team_env))

    assert refused.exit_code == 1, refused.output
    assert first_error(refused).startswith("Error: ")
