"""`pcli blueprint publish/list/show`, `env create --no-deploy` and `blueprint render` through a
team registry in S3 (the moto server) and in git (a local bare repository), from the CLI."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner, Result

from protoncli.blueprints.location import cache_folder
from protoncli.cli.app import app

BUCKET = "team-blueprints"


@pytest.fixture(params=["s3", "git"])
def team_url(request, tmp_path: Path) -> str:
    if request.param == "s3":
        moto_url = request.getfixturevalue("moto_url")
        boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(
            Bucket=BUCKET
        )
        return f"s3://{BUCKET}/platform"
    origin = tmp_path / "blueprints.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(origin)], check=True)
    return f"git+file://{origin}"


@pytest.fixture
def team(team_url: str) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        return CliRunner().invoke(app, ["--registry", team_url, *args])

    return run


def test_publish_list_show_and_create_an_environment_through_a_team_registry(
    team, team_url, env_bundle, tmp_path
):
    published = team("blueprint", "publish", str(env_bundle))
    assert published.exit_code == 0, published.output
    assert published.stdout.startswith("Published team-env@1.0 (PUBLISHED, sha256:")

    listed = team("blueprint", "list", "--json")
    assert listed.exit_code == 0, listed.output
    document = json.loads(listed.stdout)
    assert document["registry"] == team_url
    assert [bp["name"] for bp in document["blueprints"]] == ["team-env"]  # never seeded

    shown = team("blueprint", "show", "team-env@1.0", "--json")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["version"] == "1.0"

    workspace = tmp_path / "ws"
    init = CliRunner().invoke(
        app, ["init", str(workspace), "--name", "demo", "--registry", team_url]
    )
    assert init.exit_code == 0, init.output
    assert f'registry: "{team_url}"\n' in (workspace / "pcli.yaml").read_text()
    created = CliRunner().invoke(
        app,
        ["--workspace", str(workspace), "env", "create", "dev", "-b", "team-env",
         "--region", "us-east-1", "--no-deploy", "--no-input"],
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    spec = (workspace / "environments" / "dev.yaml").read_text()
    assert 'blueprint: team-env\nversion: "1.0"\nregion: us-east-1\n' in spec

    rendered = team(
        "blueprint",
        "render",
        "team-env",
        "--spec",
        str(workspace / "environments" / "dev.yaml"),
        "-o",
        str(tmp_path / "out"),
    )
    assert rendered.exit_code == 0, rendered.output
    assert (tmp_path / "out" / "dev" / "cloudformation.yaml").is_file()


def test_a_corrupted_cached_version_is_exit_1_with_one_message_naming_it(
    team, team_url, env_bundle
):
    assert team("blueprint", "publish", str(env_bundle)).exit_code == 0
    assert team("blueprint", "show", "team-env").exit_code == 0  # fetched into the cache
    bundle = cache_folder(team_url) / "team-env" / "1.0" / "bundle"
    schema = bundle / "schema" / "schema.yaml"
    schema.chmod(0o644)
    schema.write_text(schema.read_text() + "# edited\n")

    shown = team("blueprint", "show", "team-env")

    assert shown.exit_code == 1
    lines = shown.stderr.splitlines()
    assert lines[0].startswith(
        f"Error: blueprint team-env@1.0: the cached copy in {bundle} is corrupted"
    )
    assert lines[-1] == (
        f"Hint: delete the cached copy (pcli fetches it again from {team_url}): rm -rf '{bundle}'"
    )
    assert "Traceback" not in shown.output


RULE = """\
let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]
rule bucket_encrypted when %buckets !empty {
  %buckets.Properties.BucketEncryption exists
}
"""


def test_a_team_registrys_guardrails_travel_in_its_index(team, team_url, env_bundle, tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "storage.guard").write_text(RULE)
    (rules / "guardrails.yaml").write_text("rules:\n  bucket_encrypted: warning\n")
    assert team("blueprint", "guardrails", "--set", str(rules)).exit_code == 0
    # a publish after it keeps them: it rewrites the index with the rules it read
    assert team("blueprint", "publish", str(env_bundle)).exit_code == 0

    # another machine: a cache of its own reads them from the index
    fresh = {"PCLI_HOME": str(tmp_path / "other-machine")}
    shown = CliRunner().invoke(
        app, ["--registry", team_url, "blueprint", "guardrails", "--json"], env=fresh
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["rules"] == [
        {"name": "bucket_encrypted", "severity": "warning", "file": "storage.guard"}
    ]
    assert (tmp_path / "other-machine").is_dir()  # its cache is its own

    cleared = team("blueprint", "guardrails", "--clear", "--yes")
    assert cleared.exit_code == 0, cleared.output
    again = CliRunner().invoke(
        app, ["--registry", team_url, "blueprint", "guardrails", "--json"], env=fresh
    )
    assert json.loads(again.stdout)["rules"] == []
