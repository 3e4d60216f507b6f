"""`pcli blueprint publish|promote`, and what --debug changes, as a user runs them.

Each test has its own registry under tmp_path; bundles are copies of the starters.
"""

from __future__ import annotations

import json
import tarfile

import pytest


def versions_json(pcli, name: str) -> list[dict]:
    return json.loads(pcli("blueprint", "versions", name, "--json").stdout)["versions"]


# -- publish and promote ------------------------------------------------------------------------


def test_publish_registers_minor_major_draft_and_recognises_identical_content(
    pcli, env_bundle, touch_template
):
    first = pcli("blueprint", "publish", str(env_bundle))
    assert first.exit_code == 0
    digest = versions_json(pcli, "team-env")[0]["digest"]
    assert first.stdout == f"Published team-env@1.0 (PUBLISHED, {digest[:19]}).\n"
    assert first.stderr == ""

    same = pcli("blueprint", "publish", str(env_bundle))
    assert same.exit_code == 0
    assert same.stdout == "Unchanged: identical content is already team-env@1.0.\n"
    assert same.stderr == ""
    flags = pcli("blueprint", "publish", str(env_bundle), "--major", "--draft")
    assert flags.exit_code == 0
    assert flags.stdout == same.stdout
    assert flags.stderr == (
        "Warning: --major and --draft not applied: nothing was published, the content is "
        "already team-env@1.0 (PUBLISHED); change the bundle to publish a new version\n"
    )

    touch_template(env_bundle, "minor")
    assert pcli("blueprint", "publish", str(env_bundle)).stdout.startswith(
        "Published team-env@1.1 (PUBLISHED, sha256:"
    )
    touch_template(env_bundle, "major")
    assert pcli("blueprint", "publish", str(env_bundle), "--major").stdout.startswith(
        "Published team-env@2.0 (PUBLISHED, sha256:"
    )
    touch_template(env_bundle, "draft")
    assert pcli("blueprint", "publish", str(env_bundle), "--draft").stdout.startswith(
        "Published team-env@2.1 (DRAFT, sha256:"
    )
    statuses = [
        (r["version"], r["status"], r["recommended"]) for r in versions_json(pcli, "team-env")
    ]
    assert statuses == [
        ("1.0", "PUBLISHED", False),
        ("1.1", "PUBLISHED", False),
        ("2.0", "PUBLISHED", True),
        ("2.1", "DRAFT", False),
    ]


def test_promote_publishes_a_draft_and_makes_it_recommended(pcli, env_bundle, touch_template):
    pcli("blueprint", "publish", str(env_bundle))
    touch_template(env_bundle, "draft")
    pcli("blueprint", "publish", str(env_bundle), "--draft")

    result = pcli("blueprint", "promote", "team-env", "1.1")
    assert result.exit_code == 0
    assert result.stdout == "team-env@1.1 is PUBLISHED. It is now the recommended version.\n"
    assert pcli("blueprint", "show", "team-env").stdout.splitlines()[0] == (
        "team-env@1.1 (recommended)"
    )
    again = pcli("blueprint", "promote", "team-env", "1.1", "--json")
    assert again.exit_code == 0
    record = json.loads(again.stdout)
    assert (record["version"], record["status"], record["recommended"]) == (
        "1.1",
        "PUBLISHED",
        True,
    )


def test_promote_an_older_draft_does_not_call_it_recommended(pcli, env_bundle, touch_template):
    pcli("blueprint", "publish", str(env_bundle), "--draft")
    touch_template(env_bundle, "newer")
    pcli("blueprint", "publish", str(env_bundle))

    result = pcli("blueprint", "promote", "team-env", "1.0")
    assert result.exit_code == 0
    assert result.stdout == "team-env@1.0 is PUBLISHED.\n"


def test_promote_unknown_version_fails_with_the_known_ones(pcli, env_bundle, touch_template):
    pcli("blueprint", "publish", str(env_bundle))
    touch_template(env_bundle, "draft")
    pcli("blueprint", "publish", str(env_bundle), "--draft")

    result = pcli("blueprint", "promote", "team-env", "9.9")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: blueprint 'team-env' has no version 9.9\nHint: known versions: 1.0, 1.1 (draft)\n"
    )


def test_publish_json_reports_created_and_recommended(pcli, env_bundle, touch_template):
    result = pcli("blueprint", "publish", str(env_bundle), "--json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["created"] is True
    assert (record["name"], record["version"], record["kind"]) == ("team-env", "1.0", "environment")
    assert (record["status"], record["recommended"]) == ("PUBLISHED", True)
    assert record["provisioning"] == "cloudformation"

    same = json.loads(pcli("blueprint", "publish", str(env_bundle), "--json").stdout)
    assert (same["created"], same["version"], same["digest"]) == (False, "1.0", record["digest"])

    touch_template(env_bundle, "draft")
    draft = json.loads(pcli("blueprint", "publish", str(env_bundle), "--draft", "--json").stdout)
    assert (draft["created"], draft["version"], draft["status"]) == (True, "1.1", "DRAFT")
    assert draft["recommended"] is False
    assert draft["published_at"] is None


def test_publish_of_an_incompatible_minor_lists_every_reason_and_suggests_major(pcli, env_bundle):
    pcli("blueprint", "publish", str(env_bundle))
    schema = env_bundle / "schema" / "schema.yaml"
    text = schema.read_text()
    text = text.replace(
        "type: integer\n          default: 30", 'type: string\n          default: "30"'
    )
    text = text.replace(
        "      properties:\n",
        "      required: [owner]\n      properties:\n        owner:\n          type: string\n",
        1,
    )
    schema.write_text(text)

    result = pcli("blueprint", "publish", str(env_bundle))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: team-env 1.1: schema is not backward compatible with 1.0, so it cannot be a new"
        " minor version\n"
        "  VpcEcsEnvironmentInput.log_retention_days: type changed from integer to string\n"
        "  VpcEcsEnvironmentInput.owner: new required input without a default\n"
        "Hint: publish it as a new major version (--major)\n"
    )
    major = pcli("blueprint", "publish", str(env_bundle), "--major")
    assert major.exit_code == 0
    assert major.stdout.startswith("Published team-env@2.0 (PUBLISHED, ")


def test_publish_with_name_from_a_tarball(pcli, env_bundle, tmp_path):
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(env_bundle, arcname="team-env")

    by_folder = pcli("blueprint", "publish", str(archive))
    assert by_folder.exit_code == 0
    assert by_folder.stdout.startswith("Published team-env@1.0 (PUBLISHED, ")
    named = pcli("blueprint", "publish", str(archive), "--name", "other-env")
    assert named.stdout.startswith("Published other-env@1.0 (PUBLISHED, ")


def test_publish_of_a_missing_folder_is_a_usage_error(pcli, tmp_path):
    missing = tmp_path / "nowhere"
    result = pcli("blueprint", "publish", str(missing))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"Error: {missing}: no such bundle folder or archive"


def test_publish_of_another_kind_under_a_used_name_fails(pcli, starters_dir):
    service = starters_dir / "lambda-api-svc" / "v1"
    assert pcli("blueprint", "publish", str(service), "--name", "team-app").exit_code == 0

    environment = starters_dir / "vpc-ecs-env" / "v1"
    result = pcli("blueprint", "publish", str(environment), "--name", "team-app")
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: blueprint 'team-app' is a service blueprint (since 1.0); cannot publish an"
        " environment bundle under that name\n"
        "Hint: publish it under another name (--name)\n"
    )


# -- --debug ------------------------------------------------------------------------------------


def test_debug_shows_the_traceback_then_the_error(pcli):
    result = pcli("--debug", "blueprint", "versions", "zzz")
    assert result.exit_code == 2
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "protoncli.errors.NotFoundError: blueprint 'zzz' not found" in result.stderr
    assert "Error: blueprint 'zzz' not found in registry" in result.stderr


def test_debug_from_the_environment_shows_the_traceback(pcli):
    result = pcli("blueprint", "show", "vpc-ecs-env@7.0", env={"PCLI_DEBUG": "1"})
    assert result.exit_code == 2
    assert "Traceback (most recent call last):" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("blueprint", "versions", "zzz"),
        ("blueprint", "show", "vpc-ecs-env@7.0"),
        ("blueprint", "show", "vpc-ecs-env@x"),
        ("blueprint", "promote", "vpc-ecs-env", "3.0"),
        ("blueprint", "publish", "/nonexistent/bundle"),
    ],
)
def test_errors_without_debug_show_no_traceback(pcli, args):
    result = pcli(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stderr.startswith("Error: ")
