"""`pcli env import`: an environment provisioned outside pcli (Proton's customer-managed
environments), against a real moto server: registered with its outputs, hosting services,
shown as managed elsewhere, never deployed or deleted by pcli."""

from __future__ import annotations

import json

import pytest

NETWORK = """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: /shared/net
Outputs:
  LogGroupName:
    Value: !Ref Logs
"""


@pytest.fixture
def network(cloudformation):
    """A stack made outside pcli, with the output the starter service reads."""
    cloudformation.create_stack(StackName="network-shared", TemplateBody=NETWORK)
    return "network-shared"


def status_rows(cli) -> dict[str, dict]:
    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in json.loads(result.stdout)["resources"]}


def test_an_imported_stack_hosts_a_service_and_is_never_deployed_or_deleted(
    cli, network, cloudformation
):
    imported = cli("env", "import", "shared", "--stack", network, "--json")

    assert imported.exit_code == 0, imported.output
    document = json.loads(imported.stdout)
    assert document["blueprint"] == "external-env"
    assert document["managed_elsewhere"] == "stack network-shared"
    assert document["outputs"] == {"LogGroupName": "/shared/net"}
    spec = (cli.workspace / "environments" / "shared.yaml").read_text()
    assert "managed_elsewhere: stack network-shared" in spec
    row = status_rows(cli)["shared"]
    assert row["provisioning"] == "managed elsewhere"
    assert not row["pending"]

    created = cli(
        "svc", "create", "api", "--blueprint", "lambda-api-svc", "--instance", "api-shared=shared",
        "--yes",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    template = cloudformation.get_template(StackName="pcli-demo-svc-api-api-shared")
    assert "/shared/net" in json.dumps(template["TemplateBody"])

    deployed = cli("env", "deploy", "shared", "--yes")
    assert deployed.exit_code == 2
    assert "is managed elsewhere (stack network-shared): pcli never deploys" in deployed.output
    assert "pcli env import shared --stack network-shared --replace" in deployed.output
    planned = cli("plan", "--check")
    assert planned.exit_code == 0, planned.output

    assert cli("env", "delete", "shared", "--yes").exit_code == 2  # the service lives there
    assert cli("svc", "delete", "api", "--yes").exit_code == 0
    forgotten = cli("env", "delete", "shared", "--yes")
    assert forgotten.exit_code == 0, forgotten.output
    assert "Forgot environment shared" in forgotten.output
    assert cloudformation.describe_stacks(StackName=network)["Stacks"]  # left as it runs
    assert status_rows(cli) == {}


def test_outputs_from_a_file_and_a_second_import_needs_replace(cli, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"LogGroupName": "/legacy", "Port": 8080}))

    first = cli("env", "import", "legacy", "--outputs", str(outputs))

    assert first.exit_code == 0, first.output
    assert "managed elsewhere: outputs" in first.stdout
    shown = json.loads(cli("env", "outputs", "legacy", "--json").stdout)
    assert shown == {"LogGroupName": "/legacy", "Port": "8080"}
    again = cli("env", "import", "legacy", "--outputs", str(outputs))
    assert again.exit_code == 2
    assert "already exists" in again.output
    outputs.write_text(json.dumps({"LogGroupName": "/legacy-2"}))
    replaced = cli("env", "import", "legacy", "--outputs", str(outputs), "--replace", "--json")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.stdout)["replaced"] is True
    shown = json.loads(cli("env", "outputs", "legacy", "--json").stdout)
    assert shown == {"LogGroupName": "/legacy-2"}


def test_bad_imports_are_refused_with_nothing_written(cli, tmp_path):
    missing = cli("env", "import", "shared", "--stack", "no-such-stack")
    assert missing.exit_code == 2
    assert "no stack no-such-stack in us-east-1: nothing was imported" in missing.output
    neither = cli("env", "import", "shared")
    assert neither.exit_code == 2
    assert "give --stack STACK_NAME or --outputs FILE" in neither.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"ids": ["a", "b"]}')
    listed = cli("env", "import", "shared", "--outputs", str(bad))
    assert listed.exit_code == 2
    assert "output 'ids' is a list, not a string" in listed.output
    bad.write_text('{"vpc": "vpc-1"}')
    with_infrastructure = cli(
        "env", "import", "shared", "--outputs", str(bad), "--blueprint", "vpc-ecs-env"
    )
    assert with_infrastructure.exit_code == 2
    assert "has infrastructure (cloudformation): pcli deploys it" in with_infrastructure.output
    assert not (cli.workspace / "environments" / "shared.yaml").exists()


def test_an_environment_pcli_deploys_is_not_replaced_by_an_import(cli, tmp_path):
    outputs = tmp_path / "outputs.json"
    outputs.write_text("{}")
    created = cli("env", "create", "dev", "--blueprint", "vpc-ecs-env", "--no-deploy")
    assert created.exit_code == 0, created.output

    replaced = cli("env", "import", "dev", "--outputs", str(outputs), "--replace")

    assert replaced.exit_code == 2
    assert "deployed by pcli" in replaced.output
