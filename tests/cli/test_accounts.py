"""Environment accounts against a real moto server: each environment's stacks (the environment,
its service instances) are deployed, read and deleted with its account's role, assumed through
moto's STS (which puts what assumed credentials make into the role's account); pipelines and
environments without `account:` stay in the caller's own account (moto's 123456789012).
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import jsonschema
import pytest

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "schemas"

OWN = "123456789012"
PROD = "111111111111"
STAGE = "222222222222"
PROD_ROLE = f"arn:aws:iam::{PROD}:role/pcli-deploy"
STAGE_ROLE = f"arn:aws:iam::{STAGE}:role/pcli-deploy"
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
ENV_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: "EnvInput"
  types:
    EnvInput:
      type: object
      properties:
        team: {type: string, default: core}
"""
ENV_TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
  RenderedAccount:
    Value: "{{ environment.account_id }}"
"""
SVC_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: "SvcInput"
  pipeline_input_type: "PipelineInput"
  types:
    SvcInput:
      type: object
      properties:
        retention: {type: integer, default: 60}
    PipelineInput:
      type: object
      properties:
        stage: {type: string, default: build}
"""
SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
Outputs:
  QueueUrl:
    Value: !Ref Queue
  EnvironmentAccount:
    Value: "{{ environment.account_id }}"
"""
# The pipeline grants each instance's environment account, as Proton's sample pipelines do.
PIPELINE_TEMPLATE = """\
Resources:
  Artifacts:
    Type: AWS::SQS::Queue
Outputs:
  DeployAccounts:
    Value: >-
      {% for i in service_instances %}arn:aws:iam::{{ i.environment.account_id }}:root {% endfor %}
"""


def _valid(text: str, schema: str) -> None:
    document = json.loads((SCHEMAS / f"{schema}.schema.json").read_text())
    jsonschema.validate(json.loads(text), document)


def _stack_names(moto_url: str, account: str) -> set[str]:
    """The stacks of `account` in us-east-1, read with a role assumed there (own: no role)."""
    if account == OWN:
        session = boto3.session.Session(region_name="us-east-1")
    else:
        sts = boto3.client("sts", endpoint_url=moto_url, region_name="us-east-1")
        role = f"arn:aws:iam::{account}:role/reader"
        creds = sts.assume_role(RoleArn=role, RoleSessionName="test")["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name="us-east-1",
        )
    client = session.client("cloudformation", endpoint_url=moto_url)
    return {
        stack["StackName"]
        for stack in client.describe_stacks()["Stacks"]
        if stack["StackStatus"] != "DELETE_COMPLETE"
    }


@pytest.fixture
def accounts(cli, tmp_path, write_files):
    """A workspace with accounts prod and stage, a one-topic environment blueprint and a
    one-queue service blueprint, published."""
    env = write_files(
        tmp_path / "acct-env",
        {
            "schema/schema.yaml": ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": ENV_TEMPLATE,
        },
    )
    svc = write_files(
        tmp_path / "acct-svc",
        {
            "schema/schema.yaml": SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": SVC_TEMPLATE,
            "pipeline_infrastructure/manifest.yaml": MANIFEST,
            "pipeline_infrastructure/cloudformation.yaml": PIPELINE_TEMPLATE,
            ".template-registration.yaml": "compatible_environments:\n  - acct-env:1\n",
        },
    )
    for bundle, name in ((env, "acct-env"), (svc, "acct-svc")):
        published = cli("blueprint", "publish", str(bundle), "--name", name)
        assert published.exit_code == 0, published.output
    for name, account, role in (("prod", PROD, PROD_ROLE), ("stage", STAGE, STAGE_ROLE)):
        added = cli("account", "add", name, "--id", account, "--role-arn", role, "--json")
        assert added.exit_code == 0, added.output
        _valid(added.stdout, "account-add")
    return cli


def test_each_stack_lands_in_its_environments_account_and_nowhere_else(accounts, moto_url):
    cli = accounts
    for env, extra in (("e-prod", ["--account", "prod"]), ("e-stage", ["--account", "stage"])):
        created = cli("env", "create", env, "-b", "acct-env", *extra, "--yes")
        assert created.exit_code == 0, created.output
    created = cli("env", "create", "e-own", "-b", "acct-env", "--yes")
    assert created.exit_code == 0, created.output
    spec = (cli.workspace / "environments" / "e-prod.yaml").read_text()
    assert "account: prod\n" in spec
    service = cli(
        "svc", "create", "api", "-b", "acct-svc",
        "--instance", "api-prod=e-prod", "--instance", "api-own=e-own",
        "--repository", "acme/api", "--branch", "main", "--yes",
    )  # fmt: skip
    assert service.exit_code == 0, service.output

    assert _stack_names(moto_url, PROD) == {"pcli-demo-env-e-prod", "pcli-demo-svc-api-api-prod"}
    assert _stack_names(moto_url, STAGE) == {"pcli-demo-env-e-stage"}
    assert _stack_names(moto_url, OWN) == {
        "pcli-demo-env-e-own",
        "pcli-demo-svc-api-api-own",
        "pcli-demo-pipeline-api",  # pipelines stay in the caller's own account
    }

    outputs = cli("env", "outputs", "e-prod", "--json")
    assert outputs.exit_code == 0, outputs.output
    assert json.loads(outputs.stdout)["RenderedAccount"] == PROD  # environment.account_id
    shown = cli("svc", "show", "api", "--json")
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["outputs"]["api-prod"]["EnvironmentAccount"] == PROD
    assert document["outputs"]["api-own"]["EnvironmentAccount"] == OWN
    granted = document["outputs"]["pipeline"]["DeployAccounts"].split()
    assert granted == [f"arn:aws:iam::{PROD}:root", f"arn:aws:iam::{OWN}:root"]

    status = cli("status", "--json")
    assert status.exit_code == 0, status.output
    rows = {row["name"]: row for row in json.loads(status.stdout)["resources"]}
    assert rows["e-prod"]["account"] == "prod"
    assert rows["api/api-prod"]["account"] == "prod"
    assert rows["e-own"]["account"] is None
    assert rows["api"]["account"] is None  # the pipeline
    assert not any(row["orphaned"] or row["pending"] for row in rows.values())
    assert all(row["deployed"] for row in rows.values())
    table = cli("status").stdout
    header = next(line for line in table.splitlines() if "KIND" in line)
    assert header.split()[:4] == ["KIND", "NAME", "ENV", "ACCOUNT"]
    assert any("e-prod " in line and " prod " in line for line in table.splitlines())

    refused = cli("env", "delete", "e-prod", "--yes")
    assert refused.exit_code == 2, refused.output
    assert "api/api-prod" in refused.output or "api-prod" in refused.output
    assert _stack_names(moto_url, PROD) == {"pcli-demo-env-e-prod", "pcli-demo-svc-api-api-prod"}

    deleted = cli("svc", "delete", "api", "--yes")
    assert deleted.exit_code == 0, deleted.output
    gone = cli("env", "delete", "e-prod", "--yes")
    assert gone.exit_code == 0, gone.output
    assert _stack_names(moto_url, PROD) == set()
    assert _stack_names(moto_url, STAGE) == {"pcli-demo-env-e-stage"}


def test_a_stack_left_in_an_account_is_an_orphan_there(accounts, moto_url):
    cli = accounts
    created = cli("env", "create", "e-prod", "-b", "acct-env", "--account", "prod", "--yes")
    assert created.exit_code == 0, created.output
    (cli.workspace / "environments" / "e-prod.yaml").unlink()

    status = cli("status", "--json")
    rows = json.loads(status.stdout)["resources"]
    assert [(r["name"], r["account"], r["orphaned"]) for r in rows] == [("e-prod", "prod", True)]
    pruned = cli("apply", "--prune", "--yes")
    assert pruned.exit_code == 0, pruned.output
    assert _stack_names(moto_url, PROD) == set()


def test_account_list_and_check(accounts):
    cli = accounts
    created = cli("env", "create", "e-prod", "-b", "acct-env", "--account", "prod", "--no-deploy")
    assert created.exit_code == 0, created.output
    listed = cli("account", "list", "--json")
    assert listed.exit_code == 0, listed.output
    _valid(listed.stdout, "account-list")
    rows = json.loads(listed.stdout)["accounts"]
    assert [(r["name"], r["id"], r["environments"]) for r in rows] == [
        ("prod", PROD, ["e-prod"]),
        ("stage", STAGE, []),
    ]
    checked = cli("account", "check", "prod", "--json")
    assert checked.exit_code == 0, checked.output
    _valid(checked.stdout, "account-check")
    (check,) = json.loads(checked.stdout)["checks"]
    assert check["ok"] is True
    assert [(s["name"], s["status"]) for s in check["steps"]] == [
        ("assume-role", "ok"),
        ("identity", "ok"),
        ("cloudformation", "ok"),
        ("artifact-bucket", "ok"),
    ]
    assert "assumed-role/pcli-deploy/pcli" in check["steps"][1]["detail"]
    policy = cli("account", "policy")
    assert "cloudformation:CreateChangeSet" in json.loads(policy.stdout)["Statement"][0]["Action"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--id", PROD, "--role-arn", STAGE_ROLE],
            f"is a role of account {STAGE}, not of the account's id {PROD}",
        ),
        (["--id", "1234", "--role-arn", PROD_ROLE], "is not a 12-digit AWS account id"),
        (["--id", PROD, "--role-arn", "arn:aws:iam::111111111111:user/x"], "not an IAM role"),
    ],
)
def test_an_account_that_cannot_be_right_is_refused(cli, args, message):
    added = cli("account", "add", "bad", *args)
    assert added.exit_code == 2, added.output
    assert message in added.output
    assert "accounts" not in (cli.workspace / "pcli.yaml").read_text()


def test_a_spec_naming_an_unknown_account_is_a_usage_error(accounts):
    cli = accounts
    created = cli("env", "create", "e-x", "-b", "acct-env", "--no-deploy")
    assert created.exit_code == 0, created.output
    spec = cli.workspace / "environments" / "e-x.yaml"
    spec.write_text(spec.read_text().replace("proton:", "account: qa\nproton:"))
    deployed = cli("env", "deploy", "e-x", "--yes")
    assert deployed.exit_code == 2, deployed.output
    assert "account 'qa' is not one of pcli.yaml's accounts (known: prod, stage)" in (
        deployed.output
    )
    unknown = cli("env", "create", "e-y", "-b", "acct-env", "--account", "qa", "--yes")
    assert unknown.exit_code == 2, unknown.output
    assert not (cli.workspace / "environments" / "e-y.yaml").exists()
