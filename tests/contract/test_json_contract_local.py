"""`pcli blueprint ...` and `pcli config ...` documents match their published JSON Schemas (local
files only)."""

from __future__ import annotations

import json
import shutil

import pytest


@pytest.fixture
def team_env(tmp_path, starters_dir):
    """A copy of the vpc-ecs-env starter in a folder named team-env."""
    bundle = tmp_path / "work" / "team-env"
    shutil.copytree(starters_dir / "vpc-ecs-env" / "v1", bundle)
    return bundle


def document(result, code=0):
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["blueprint", "list", "--json"], None),
        (["--output", "json", "blueprint", "list"], None),
        (["-o", "json", "blueprint", "list"], None),
        (["blueprint", "list"], {"PCLI_OUTPUT": "json"}),
    ],
    ids=["--json", "--output json", "-o json", "PCLI_OUTPUT=json"],
)
def test_blueprint_list_document_in_every_way_of_asking_for_json(pcli, check_schema, args, env):
    listed = document(pcli(*args, env=env))

    check_schema(listed, "blueprint-list")
    names = [bp["name"] for bp in listed["blueprints"]]
    assert "vpc-ecs-env" in names
    assert "fargate-web-svc" in names


def test_output_text_is_the_default_and_a_table(pcli):
    result = pcli("--output", "text", "blueprint", "list")

    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:5] == ["NAME", "KIND", "RECOMMENDED", "LATEST", "VERSIONS"]


def test_blueprint_versions_show_publish_and_promote_documents(pcli, check_schema, team_env):
    published = document(pcli("blueprint", "publish", str(team_env), "--draft", "--json"))
    check_schema(published, "blueprint-publish")
    assert (published["name"], published["version"], published["status"]) == (
        "team-env",
        "1.0",
        "DRAFT",
    )
    assert published["created"] is True

    again = document(pcli("blueprint", "publish", str(team_env), "--json"))
    check_schema(again, "blueprint-publish")
    assert again["created"] is False

    promoted = document(pcli("blueprint", "promote", "team-env", "1.0", "--json"))
    check_schema(promoted, "blueprint-promote")
    assert (promoted["status"], promoted["recommended"]) == ("PUBLISHED", True)

    versions = document(pcli("blueprint", "versions", "team-env", "--json"))
    check_schema(versions, "blueprint-versions")
    assert [v["version"] for v in versions["versions"]] == ["1.0"]

    shown = document(pcli("blueprint", "show", "team-env@1.0", "--json"))
    check_schema(shown, "blueprint-show")
    assert shown["kind"] == "environment"
    assert shown["inputs"], "the starter environment has inputs"


def test_blueprint_show_of_a_service_with_a_pipeline(pcli, check_schema):
    shown = document(pcli("blueprint", "show", "fargate-web-svc", "--json"))

    check_schema(shown, "blueprint-show")
    assert shown["has_pipeline"] is True
    assert shown["pipeline_inputs"]
    assert shown["compatible_environments"]


def test_blueprint_sync_document_also_when_a_folder_fails(pcli, check_schema, tmp_path, team_env):
    templates = tmp_path / "templates"
    shutil.copytree(team_env, templates / "team-env" / "v1")
    (templates / "broken" / "v1").mkdir(parents=True)

    synced = document(pcli("blueprint", "sync", str(templates), "--json"), code=1)

    check_schema(synced, "blueprint-sync")
    assert synced["ok"] is False
    assert {(e["name"], e["action"]) for e in synced["entries"]} == {
        ("team-env", "created"),
        ("broken", "failed"),
    }


def test_blueprint_render_document(pcli, check_schema, tmp_path):
    out = tmp_path / "out"

    rendered = document(
        pcli("blueprint", "render", "vpc-ecs-env", "--name", "dev", "-o", str(out), "--json")
    )

    check_schema(rendered, "blueprint-render")
    assert [r["kind"] for r in rendered["resources"]] == ["environment"]
    assert all((out / "dev").joinpath(name).is_file() for name in rendered["resources"][0]["files"])


def test_blueprint_lint_documents_pass_and_fail(pcli, check_schema, team_env):
    passed = document(pcli("blueprint", "lint", str(team_env), "--json"))
    check_schema(passed, "blueprint-lint")
    assert passed["ok"] is True

    (team_env / "schema" / "schema.yaml").write_text("schema: [not, a, mapping]\n")
    failed = document(pcli("blueprint", "lint", str(team_env), "--json"), code=1)
    check_schema(failed, "blueprint-lint")
    assert failed["ok"] is False
    assert failed["errors"] >= 1


def test_config_documents(pcli, check_schema):
    listed = document(pcli("--region", "eu-west-1", "config", "list", "--json"))
    check_schema(listed, "config-list")
    region = next(s for s in listed["settings"] if s["key"] == "region")
    assert (region["value"], region["origin"]) == ("eu-west-1", "flag")

    written = document(pcli("config", "set", "output", "json", "--json"))
    check_schema(written, "config-set")
    got = document(pcli("config", "get", "output", "--json"))
    check_schema(got, "config-get")
    assert (got["value"], got["origin"]) == ("json", "user")
    removed = document(pcli("config", "unset", "output", "--json"))
    check_schema(removed, "config-unset")
    assert removed["removed"] is True

    seconds = document(pcli("config", "set", "read_timeout", "2.5", "--json"))
    check_schema(seconds, "config-set")
    got = document(pcli("config", "get", "read_timeout", "--json"))
    check_schema(got, "config-get")
    assert (got["value"], got["origin"]) == (2.5, "user")
