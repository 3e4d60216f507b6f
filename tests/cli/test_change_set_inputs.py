"""An update's change set says which inputs changed since the stack's last deployment (read
from its deployment record), whenever someone reviews it; a deploy with --yes never reads it.

Against the moto server: moto describes no property changes (tests/unit/aws and
tests/cli/test_change_sets.py cover those), but the inputs come from pcli's own records.
"""

from __future__ import annotations

import json

import boto3
import pytest

PASSWORD = "correct-horse-battery"  # noqa: S105 - a test value, the secret that must not show
SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: QueueInput
  types:
    QueueInput:
      type: object
      properties:
        timeout: {type: integer, default: 30}
        team: {type: string}
        db_password: {type: string, format: password}
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: cloudformation.yaml
      rendering_engine: jinja
      template_language: cloudformation
"""
TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: {{ environment.inputs.timeout }}
      Tags:
        - Key: team
          Value: "{{ environment.inputs.team | default('none') }}"
        - Key: password
          Value: "{{ environment.inputs.db_password }}"
"""
STACK = "pcli-demo-env-dev"
REFUSED = "Error: the change set needs confirmation and pcli cannot ask here"


@pytest.fixture
def dev(cli, write_files):
    """Environment dev deployed with timeout 30 (the default) and a secret stored for
    db_password; returns its spec file."""
    bundle = write_files(
        "queue-env",
        {
            "schema/schema.yaml": SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": TEMPLATE,
        },
    )
    assert cli("blueprint", "publish", str(bundle), "--name", "queue-env").exit_code == 0
    created = cli(
        "env", "create", "dev", "-b", "queue-env", "-p", f"db_password={PASSWORD}", "--yes"
    )
    assert created.exit_code == 0, created.output
    return cli.workspace / "environments" / "dev.yaml"


def edit(spec, **inputs):
    """Set these inputs in the spec file (each replaces the line that set it, if any)."""
    lines = [
        line for line in spec.read_text().splitlines() if line.split(":")[0].strip() not in inputs
    ]
    lines += [f"  {name}: {value}" for name, value in inputs.items()]
    spec.write_text("\n".join(lines) + "\n")


def test_a_change_set_refused_for_review_lists_the_inputs_changed(cli, dev):
    edit(dev, timeout=45, team="web")

    result = cli("env", "deploy", "dev")

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    start = lines.index(f"{STACK}  Change set for environment dev: 1 change(s)")
    assert lines[start + 1 : start + 6] == [
        "    Inputs (as last deployed → now):",
        "      timeout: 30 → 45",  # the default it was deployed with, then the spec's value
        "      team: (none) → web",
        "    ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "    Modify  Queue       AWS::SQS::Queue  -",
    ]
    assert lines[-2].startswith(REFUSED)


def test_secret_inputs_show_as_references_or_masked(cli, dev):
    reference = "{{resolve:secretsmanager:pcli/demo/env/dev/db_password:SecretString}}"
    edit(dev, db_password=PASSWORD)  # a plain value, as a spec carried over from Proton has

    result = cli("env", "deploy", "dev", "--json")

    assert result.exit_code == 2
    assert PASSWORD not in result.stdout + result.stderr
    changes = next(
        json.loads(line) for line in result.stdout.splitlines() if '"type": "changes"' in line
    )
    assert changes["inputs"] == {
        "known": True,
        "reason": None,
        "changed": {"db_password": {"before": reference, "after": "****"}},
        "added": {},
        "removed": {},
    }


def test_a_deploy_with_yes_never_reads_the_record(cli, dev, monkeypatch):
    def refuse(*_args):
        raise AssertionError("a --yes deploy read a deployment record")

    monkeypatch.setattr("protoncli.deploy.records.deployed_record", refuse)
    edit(dev, timeout=45)

    result = cli("env", "deploy", "dev", "--yes", "--json")

    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    (changes,) = [r for r in records if r["type"] == "changes"]
    assert changes["inputs"] is None


def test_without_a_record_the_inputs_as_last_deployed_are_unknown(cli, dev, moto_url):
    """A stack deployed before pcli kept records (or whose record is gone)."""
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    bucket = "pcli-artifacts-123456789012-us-east-1"
    for item in s3.list_objects_v2(Bucket=bucket, Prefix="records/")["Contents"]:
        s3.delete_object(Bucket=bucket, Key=item["Key"])
    edit(dev, timeout=45)

    result = cli("env", "deploy", "dev")

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    said = next(k for k, line in enumerate(lines) if "Inputs" in line)
    deployment = dev_stack_tags(moto_url)["pcli:deployment-id"][:8]
    assert lines[said : said + 2] == [
        f"    Inputs as last deployed: unknown (no deployment record of {deployment}: deployed",
        "      before pcli kept records, or by Proton)",
    ]
    assert lines[said + 2].startswith("    ACTION")


def dev_stack_tags(moto_url):
    cloudformation = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")
    (stack,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    return {tag["Key"]: tag["Value"] for tag in stack["Tags"]}


def test_plan_changes_shows_the_inputs_changed(cli, dev):
    edit(dev, timeout=45)

    result = cli("plan", "--changes")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    start = lines.index("Change set for environment dev:")
    assert lines[start + 1 : start + 5] == [
        "Inputs (as last deployed → now):",
        "  timeout: 30 → 45",
        "ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "Modify  Queue       AWS::SQS::Queue  -",
    ]
