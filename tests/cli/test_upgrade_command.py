"""`pcli upgrade` against a real moto server: plan, minor and major upgrades of spec files,
refusals (incompatible services, versions that do not exist), new required inputs."""

from __future__ import annotations

import json

import pytest
from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC

ENV_SCHEMA_2 = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TinyEnvironmentInput"
  types:
    TinyEnvironmentInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
        owner:
          type: string
          minLength: 2
      required:
        - owner
"""
DEV_STACK = "pcli-demo-env-dev"


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def tag(cloudformation, stack, key):
    (found,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {t["Key"]: t["Value"] for t in found.get("Tags", [])}.get(key)


@pytest.fixture
def publish(cli, tmp_path, write_files):
    """`publish(name, files, *extra)`: publish a bundle of `files` as blueprint `name`."""
    count = iter(range(100))

    def run(name, files, *extra):
        bundle = write_files(tmp_path / f"{name}-{next(count)}" / name, files)
        ok(cli("blueprint", "publish", str(bundle), "--name", name, *extra))

    return run


@pytest.fixture
def fleet(cli, publish):
    """tiny-env 1.0, 1.1 and 2.0 (2.0 requires `owner`); tiny-svc 1.0 (compatible with
    tiny-env:1 only); environment dev and service api (instance api-dev, a pipeline) at 1.0,
    deployed. The env spec carries a comment of its own."""
    publish("tiny-env", TINY_ENV)
    publish("tiny-svc", TINY_SVC)
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "api", "-b", "tiny-svc", "-i", "api-dev=dev", "--yes"))
    spec = cli.workspace / "environments" / "dev.yaml"
    spec.write_text("# the team's dev environment\n" + spec.read_text())
    template = TINY_ENV["infrastructure/cloudformation.yaml"]
    publish("tiny-env", {**TINY_ENV, "infrastructure/cloudformation.yaml": template + "# 1.1\n"})
    two = {**TINY_ENV, "schema/schema.yaml": ENV_SCHEMA_2}
    publish("tiny-env", two, "--major")
    return spec


def rows(result):
    lines = [line for line in result.stdout.splitlines() if line.strip() and "───" not in line]
    return [line.split() for line in lines[1:]]


def test_plan_shows_every_spec_and_writes_nothing(cli, fleet):
    before = {path: path.read_bytes() for path in cli.workspace.rglob("*.yaml")}

    result = ok(cli("upgrade", "--all", "--plan"))

    assert rows(result)[:2] == [
        ["environments/dev.yaml", "environment", "tiny-env@1.0", "1.1", "minor", "upgrade"],
        ["services/api.yaml", "service", "tiny-svc@1.0", "-", "up", "to", "date"],
    ]
    assert "Plan: 1 spec(s) would be upgraded; nothing was written." in result.stderr
    assert {path: path.read_bytes() for path in cli.workspace.rglob("*.yaml")} == before


def test_upgrade_moves_the_spec_keeping_comments_and_deploys_it(cli, fleet, cloudformation):
    result = ok(cli("upgrade", "dev", "--yes"))

    text = fleet.read_text()
    assert text.startswith("# the team's dev environment\n")
    assert 'version: "1.1"' in text
    assert tag(cloudformation, DEV_STACK, "pcli:version") == "1.1"
    assert "Wrote environments/dev.yaml: tiny-env 1.0 -> 1.1." in result.stderr
    # The service's spec did not move: it was not named.
    assert 'version: "1.0"' in (cli.workspace / "services" / "api.yaml").read_text()

    again = ok(cli("upgrade", "dev", "--yes"))
    assert "Nothing to upgrade" in again.stderr


def test_a_major_upgrade_is_refused_while_a_service_does_not_list_the_new_major(
    cli, fleet, cloudformation
):
    before = fleet.read_bytes()

    result = cli("upgrade", "dev", "--major", "--yes")

    assert result.exit_code == 2, result.output
    assert "environment 'dev' cannot move to tiny-env 2.0" in result.stderr
    assert "api (tiny-svc@1.0 is compatible with tiny-env:1)" in result.stderr
    assert fleet.read_bytes() == before
    assert tag(cloudformation, DEV_STACK, "pcli:version") == "1.0"


def test_new_required_inputs_are_listed_in_one_error_then_given_with_param(cli, fleet):
    ok(cli("env", "create", "lab", "-b", "tiny-env@1.0", "--no-deploy"))
    ok(cli("env", "create", "lab2", "-b", "tiny-env@1.0", "--no-deploy"))
    lab = cli.workspace / "environments" / "lab.yaml"
    before = lab.read_bytes()

    result = cli("upgrade", "lab", "lab2", "--major", "--yes")

    assert result.exit_code == 2, result.output
    assert "missing: owner" in result.stderr
    for name in ("lab", "lab2"):
        assert (
            f"environments/{name}.yaml: input 'owner' is required by tiny-env 2.0 and has no value"
        ) in result.stderr
    assert "--param owner=VALUE" in result.stderr
    assert lab.read_bytes() == before

    plan = ok(cli("upgrade", "lab", "--major", "--plan"))
    assert "new input owner: required, no value" in plan.stdout

    ok(cli("upgrade", "lab", "--major", "--param", "owner=platform", "--yes"))
    text = lab.read_text()
    assert 'version: "2.0"' in text
    assert "owner: platform" in text


def test_a_version_that_does_not_exist_is_a_usage_error(cli, fleet):
    result = cli("upgrade", "dev", "--to", "9.9", "--yes")

    assert result.exit_code == 2, result.output
    assert "tiny-env has no version 9.9 (published: 1.0, 1.1, 2.0)" in result.stderr


def test_nothing_named_and_components_are_usage_errors(cli, fleet):
    nothing = cli("upgrade")
    assert nothing.exit_code == 2
    assert "nothing to upgrade was named" in nothing.stderr

    unknown = cli("upgrade", "dve")
    assert unknown.exit_code == 2
    assert "did you mean 'dev'?" in unknown.stderr


def test_a_service_upgrade_moves_its_instances_and_pipeline(cli, fleet, publish, cloudformation):
    template = TINY_SVC["instance_infrastructure/cloudformation.yaml"]
    publish(
        "tiny-svc",
        {**TINY_SVC, "instance_infrastructure/cloudformation.yaml": template + "# 1.1\n"},
    )

    ok(cli("upgrade", "--blueprint", "tiny-svc", "--yes"))

    assert 'version: "1.1"' in (cli.workspace / "services" / "api.yaml").read_text()
    assert tag(cloudformation, "pcli-demo-svc-api-api-dev", "pcli:version") == "1.1"
    assert tag(cloudformation, "pcli-demo-pipeline-api", "pcli:version") == "1.1"
    assert tag(cloudformation, DEV_STACK, "pcli:version") == "1.0"


def test_without_a_terminal_upgrading_needs_yes(cli, fleet):
    before = fleet.read_bytes()

    result = cli("upgrade", "dev")

    assert result.exit_code == 2
    assert "needs --yes" in result.stderr
    assert fleet.read_bytes() == before


def test_plan_json_lists_the_new_inputs(cli, fleet):
    ok(cli("env", "create", "lab", "-b", "tiny-env@1.0", "--no-deploy"))

    document = json.loads(ok(cli("upgrade", "lab", "--to", "2.0", "--plan", "--json")).stdout)

    (spec,) = document["specs"]
    assert (spec["from_version"], spec["to_version"], spec["action"]) == ("1.0", "2.0", "major")
    assert spec["new_inputs"] == [
        {"resource": None, "name": "owner", "required": True, "given": False}
    ]
