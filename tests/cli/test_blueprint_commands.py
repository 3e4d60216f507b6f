"""`pcli blueprint list|versions|show`, help and --version, as a user runs them.

Each test gets its own registry under tmp_path; the starter blueprints are seeded into it on the
first read. Output is checked on stdout and stderr separately.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protoncli import __version__
from protoncli.cli.app import app

STARTERS = (
    "external-env",
    "fargate-web-svc",
    "lambda-api-svc",
    "sqs-queue-component",
    "tf-vpc-env",
    "vpc-ecs-env",
)
STARTER_LIST = ", ".join(STARTERS)
KINDS = {
    "external-env": "environment",
    "fargate-web-svc": "service",
    "lambda-api-svc": "service",
    "sqs-queue-component": "component",
    "tf-vpc-env": "environment",
    "vpc-ecs-env": "environment",
}
STARTERS_DIR = Path(__file__).resolve().parents[2] / "blueprints"
# A version published without --description takes the first paragraph of the bundle's README.
DESCRIPTIONS = {
    name: (STARTERS_DIR / name / "v1" / "README.md").read_text().split("\n\n")[1].strip()
    for name in STARTERS
}


def table_rows(text: str) -> list[list[str]]:
    """The non-blank lines of a table, split on whitespace (header, rule and rows)."""
    return [line.split() for line in text.splitlines() if line.strip()]


def row_of(rows: list[list[str]], first: str) -> list[str]:
    """The table row whose first cell is `first`."""
    return next(row for row in rows if row[0] == first)


def key_values(text: str) -> dict[str, str]:
    pairs = {}
    for line in text.splitlines():
        key, colon, value = line.partition(": ")
        if colon and not line.startswith(" "):
            pairs[key.rstrip(":")] = value.strip()
    return pairs


# -- help and version ---------------------------------------------------------------------------


def test_version_prints_name_and_version():
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"pcli {__version__}\n"
    assert result.stderr == ""


def test_root_help_lists_the_blueprint_group_and_global_options():
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    out = result.stdout
    assert "Usage: pcli [OPTIONS] COMMAND [ARGS]..." in out
    # the names' column is as wide as the longest name (quickstart)
    assert re.search(
        r"blueprint +Publish, inspect, lint and render blueprints \(Proton template bundles\)\.",
        out,
    )
    for option in ("--version", "--debug", "--registry", "--no-input", "PCLI_REGISTRY"):
        assert option in out
    assert "Exit codes: 0 ok, 1 error, 2 usage, 3 deploy failed, 130 interrupted." in out


def test_blueprint_group_help_lists_every_command_and_an_example():
    result = CliRunner().invoke(app, ["blueprint", "--help"])
    assert result.exit_code == 0
    commands = [row[1] for row in table_rows(result.stdout) if len(row) > 1 and row[0] == "│"]
    for command in ("list", "versions", "show", "publish", "promote", "sync", "render", "lint"):
        assert command in commands
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert lines.index("pcli blueprint list") > lines.index("Examples:")
    assert "pcli blueprint show vpc-ecs-env" in lines


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("list", "pcli blueprint list --json"),
        ("versions", "pcli blueprint versions vpc-ecs-env"),
        ("show", "pcli blueprint show vpc-ecs-env@1.0"),
        ("publish", "pcli blueprint publish ./my-env/v1 --name my-env"),
        ("promote", "pcli blueprint promote vpc-ecs-env 1.1"),
        ("sync", "pcli blueprint sync ./templates"),
        ("render", "pcli blueprint render vpc-ecs-env --spec dev.yaml -o out --name dev"),
        ("lint", "pcli blueprint lint ./my-env/v1"),
    ],
)
def test_every_command_help_shows_usage_and_an_example(command: str, example: str):
    result = CliRunner().invoke(app, ["blueprint", command, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: pcli blueprint {command} [OPTIONS]" in result.stdout
    assert example in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("command", ["render", "lint"])
def test_bundle_argument_help_keeps_its_brackets(command: str):
    result = CliRunner().invoke(app, ["blueprint", command, "--help"])
    assert "or NAME[@VERSION] from the" in result.stdout


# -- list ---------------------------------------------------------------------------------------


def test_list_shows_the_five_starters_in_a_table(pcli):
    result = pcli("blueprint", "list")
    assert result.exit_code == 0
    rows = table_rows(result.stdout)
    assert rows[0] == ["NAME", "KIND", "RECOMMENDED", "LATEST", "VERSIONS", "DESCRIPTION"]
    assert [row[:5] for row in rows[2:] if row[0] in KINDS] == [
        [name, KINDS[name], "1.0", "1.0", "1"] for name in STARTERS
    ]
    assert "A VPC with two public subnets" in " ".join(result.stdout.split())  # from README
    assert result.stderr == ""


def test_list_json_names_the_registry_and_each_blueprint(pcli, registry):
    result = pcli("blueprint", "list", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document == {
        "problems": [],
        "registry": str(registry),
        "blueprints": [
            {
                "name": name,
                "kind": KINDS[name],
                "recommended": "1.0",
                "latest": "1.0",
                "versions": 1,
                "description": DESCRIPTIONS[name],
            }
            for name in STARTERS
        ],
    }


def test_one_corrupt_version_record_leaves_the_rest_of_the_list(pcli, registry):
    assert pcli("blueprint", "list").exit_code == 0  # the starters are seeded
    (registry / "vpc-ecs-env" / "1.0" / "version.json").write_text("{not json")

    result = pcli("blueprint", "list")

    assert result.exit_code == 1
    names = [row[0] for row in table_rows(result.stdout)[2:] if row[0] in KINDS]
    assert names == [name for name in STARTERS if name != "vpc-ecs-env"]
    assert "could not read blueprint vpc-ecs-env:" in result.stderr
    assert "1 blueprint(s) of the registry could not be read" in result.stderr
    document = json.loads(pcli("blueprint", "list", "--json").stdout)
    assert [p.split(":")[0] for p in document["problems"]] == ["blueprint vpc-ecs-env"]


def test_list_reads_the_registry_from_the_environment(tmp_path):
    registry = tmp_path / "from-env"
    result = CliRunner().invoke(
        app, ["blueprint", "list", "--json"], env={"PCLI_REGISTRY": str(registry)}
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["registry"] == str(registry)
    assert (registry / "vpc-ecs-env" / "1.0" / "version.json").is_file()


def test_list_of_a_registry_whose_starters_were_removed_says_how_to_publish(pcli, registry):
    assert pcli("blueprint", "list").exit_code == 0  # seeds the starters
    for name in STARTERS:
        shutil.rmtree(registry / name)

    result = pcli("blueprint", "list")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert (
        result.stderr == f"No blueprints in {registry}. Publish one: pcli blueprint publish DIR\n"
    )

    as_json = pcli("blueprint", "list", "--json")
    assert json.loads(as_json.stdout) == {
        "problems": [],
        "registry": str(registry),
        "blueprints": [],
    }


def test_list_shows_drafts_descriptions_and_the_recommended_version(
    pcli, env_bundle, touch_template
):
    assert pcli("blueprint", "publish", str(env_bundle), "--description", "Team VPC").exit_code == 0
    touch_template(env_bundle, "draft")
    assert pcli("blueprint", "publish", str(env_bundle), "--draft").exit_code == 0

    result = pcli("blueprint", "list")
    rows = table_rows(result.stdout)
    assert rows[0] == ["NAME", "KIND", "RECOMMENDED", "LATEST", "VERSIONS", "DESCRIPTION"]
    assert ["team-env", "environment", "1.0", "1.1", "2", "Team", "VPC"] in rows


# -- versions -----------------------------------------------------------------------------------


def test_versions_lists_status_recommended_and_short_digest(pcli, env_bundle, touch_template):
    pcli("blueprint", "publish", str(env_bundle))
    touch_template(env_bundle, "one")
    pcli("blueprint", "publish", str(env_bundle))
    touch_template(env_bundle, "two")
    pcli("blueprint", "publish", str(env_bundle), "--major", "--draft")

    result = pcli("blueprint", "versions", "team-env")
    assert result.exit_code == 0
    records = json.loads(pcli("blueprint", "versions", "team-env", "--json").stdout)["versions"]
    rows = table_rows(result.stdout)
    assert rows[0] == ["VERSION", "STATUS", "RECOMMENDED", "DIGEST", "CREATED"]
    digests = [r["digest"].removeprefix("sha256:")[:12] for r in records]
    created = [r["created_at"] for r in records]
    assert rows[2:] == [
        ["1.0", "PUBLISHED", digests[0], created[0]],
        ["1.1", "PUBLISHED", "yes", digests[1], created[1]],
        ["2.0", "DRAFT", digests[2], created[2]],
    ]


def test_versions_json_describes_each_version(pcli):
    result = pcli("blueprint", "versions", "fargate-web-svc", "--json")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["name"] == "fargate-web-svc"
    (record,) = document["versions"]
    assert record["digest"].startswith("sha256:")
    assert len(record["digest"]) == len("sha256:") + 64
    assert record["created_at"].endswith("Z")
    assert record["published_at"] == record["created_at"]
    assert {
        k: v for k, v in record.items() if k not in {"digest", "created_at", "published_at"}
    } == {
        "name": "fargate-web-svc",
        "version": "1.0",
        "kind": "service",
        "status": "PUBLISHED",
        "recommended": True,
        "provisioning": "cloudformation",
        "compatible_environments": ["vpc-ecs-env:1"],
    }


def test_versions_of_an_unknown_name_suggests_the_close_one(pcli, registry):
    result = pcli("blueprint", "versions", "vpc-ecs")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"Error: blueprint 'vpc-ecs' not found in registry {registry}\n"
        f"Hint: did you mean 'vpc-ecs-env'? known blueprints: {STARTER_LIST}\n"
    )


def test_versions_of_a_name_like_no_other_lists_the_known_names(pcli):
    result = pcli("blueprint", "versions", "zzz")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[1] == f"Hint: known blueprints: {STARTER_LIST}"


# -- show ---------------------------------------------------------------------------------------


def test_show_service_lists_inputs_pipeline_inputs_and_compatible_environments(pcli):
    result = pcli("blueprint", "show", "fargate-web-svc")
    assert result.exit_code == 0
    out = result.stdout
    assert out.splitlines()[0] == "fargate-web-svc@1.0 (recommended)"
    facts = key_values(out)
    assert facts["Kind"] == "service"
    assert facts["Status"] == "PUBLISHED"
    assert facts["Provisioning"] == "cloudformation"
    assert facts["Pipeline"] == "yes"
    assert facts["Compatible environments"] == "vpc-ecs-env:1"
    assert facts["Digest"].startswith("sha256:")

    inputs, _, pipeline = out.partition("Pipeline inputs")
    rows = table_rows(inputs)
    assert ["INPUT", "TYPE", "DEFAULT", "REQUIRED", "DESCRIPTION"] in rows
    assert row_of(rows, "port")[:8] == [
        "port",
        "number",
        "80",
        "no",
        "Port",
        "the",
        "container",
        "listens",
    ]
    assert row_of(rows, "desired_count")[:4] == ["desired_count", "integer", "1", "no"]
    assert row_of(rows, "task_size")[:4] == ["task_size", "string", "x-small", "no"]
    pipeline_row = row_of(table_rows(pipeline), "compute_type")
    assert pipeline_row[:4] == ["compute_type", "string", "BUILD_GENERAL1_SMALL", "no"]
    # Headers are never split over two lines, however narrow the description column gets.
    assert all("DESCRIPTIO" not in line or "DESCRIPTION" in line for line in out.splitlines())


def test_show_environment_has_no_pipeline_or_compatible_environments(pcli):
    result = pcli("blueprint", "show", "vpc-ecs-env@1.0")
    assert result.exit_code == 0
    facts = key_values(result.stdout)
    assert facts["Kind"] == "environment"
    assert "Pipeline" not in facts
    assert "Compatible environments" not in facts
    assert "Pipeline inputs" not in result.stdout
    row = row_of(table_rows(result.stdout), "container_insights")
    assert row[:4] == ["container_insights", "boolean", "false", "no"]


def test_show_component_says_it_takes_no_inputs(pcli):
    result = pcli("blueprint", "show", "sqs-queue-component")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "sqs-queue-component@1.0 (recommended)"
    assert "Components take no inputs: they read their service instance's inputs." in lines
    assert "INPUT" not in result.stdout
    # its own guardrails follow
    assert "Guardrails" in [line.strip() for line in lines]
    assert row_of(table_rows(result.stdout), "sqs_queue_encrypted")[:3] == [
        "sqs_queue_encrypted",
        "error",
        "encryption.guard",
    ]
    shown = json.loads(pcli("blueprint", "show", "sqs-queue-component", "--json").stdout)
    assert shown["guardrails"] == [
        {"name": "sqs_queue_encrypted", "severity": "error", "file": "encryption.guard"}
    ]


def test_show_json_lists_inputs_with_type_default_and_required(pcli):
    result = pcli("blueprint", "show", "lambda-api-svc", "--json")
    assert result.exit_code == 0
    record = json.loads(result.stdout)
    assert record["name"] == "lambda-api-svc"
    assert record["version"] == "1.0"
    assert record["kind"] == "service"
    assert record["recommended"] is True
    assert record["has_pipeline"] is False
    assert record["compatible_environments"] == ["vpc-ecs-env:1", "tf-vpc-env:1"]
    assert record["pipeline_inputs"] == []
    by_name = {item["name"]: item for item in record["inputs"]}
    assert list(by_name) == [
        "runtime",
        "memory_size",
        "timeout",
        "greeting",
        "reserved_concurrency",
    ]
    assert by_name["memory_size"] == {
        "name": "memory_size",
        "type": "integer",
        "required": False,
        "default": 256,
        "has_default": True,
        "title": "Memory (MB)",
        "description": "Memory given to the function; CPU grows with it",
        "secret": False,
        "enum": None,
    }
    assert by_name["runtime"]["enum"] == ["python3.12", "python3.13"]
    optional = by_name["reserved_concurrency"]
    assert (optional["default"], optional["has_default"], optional["required"]) == (
        None,
        False,
        False,
    )


def test_show_marks_a_required_input_without_default(pcli, env_bundle):
    schema = env_bundle / "schema" / "schema.yaml"
    schema.write_text(
        schema.read_text().replace(
            "      properties:\n",
            "      required: [owner]\n      properties:\n"
            "        owner:\n          type: string\n          description: Owning team\n",
            1,
        )
    )
    assert pcli("blueprint", "publish", str(env_bundle)).exit_code == 0

    result = pcli("blueprint", "show", "team-env")
    row = row_of(table_rows(result.stdout), "owner")
    assert row == ["owner", "string", "-", "yes", "Owning", "team"]
    record = json.loads(pcli("blueprint", "show", "team-env", "--json").stdout)
    owner = next(item for item in record["inputs"] if item["name"] == "owner")
    assert (owner["required"], owner["has_default"]) == (True, False)


def test_show_unknown_version_fails_with_the_known_versions(pcli):
    result = pcli("blueprint", "show", "vpc-ecs-env@1.3")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "Error: blueprint 'vpc-ecs-env' has no version 1.3\n"
        "Hint: did you mean '1.0'? known versions: 1.0\n"
    )


def test_show_unknown_major_fails_with_the_known_majors(pcli):
    result = pcli("blueprint", "show", "vpc-ecs-env@2")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: major version 2 of 'vpc-ecs-env' does not exist\nHint: known major versions: 1\n"
    )


def test_show_of_a_blueprint_with_only_drafts_names_the_drafts(pcli, env_bundle):
    pcli("blueprint", "publish", str(env_bundle), "--draft")

    result = pcli("blueprint", "show", "team-env")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: blueprint 'team-env' has no published version\n"
        "Hint: drafts: 1.0; promote one, or name a version (NAME@MAJOR.MINOR)\n"
    )
    draft = pcli("blueprint", "show", "team-env@1.0")
    assert draft.exit_code == 0
    assert draft.stdout.splitlines()[0] == "team-env@1.0"
    assert key_values(draft.stdout)["Status"] == "DRAFT"
