"""The changes of a change set in JSON: each change's `details` (what changes in each property)
and the stack's `inputs` (changed since its last deployment), in the NDJSON `changes` event and
in `plan --changes --json`, validated against docs/reference/schemas against a real moto server.

moto describes no property changes: the `details` CloudFormation gives are checked as pcli
prints them (`event_record`, `detail_record`) from a change parsed off an AWS-shaped answer."""

from __future__ import annotations

import json

import pytest
import yaml

from protoncli.aws.cloudformation import changes_of
from protoncli.cli.progress_ndjson import detail_record, event_record
from protoncli.deploy.model import DeployEvent, InputChange, InputChanges

# ResourceChange.Details as DescribeChangeSet gives them with IncludePropertyValues.
DETAILS = [
    {
        "Target": {
            "Attribute": "Properties",
            "Name": "MessageRetentionPeriod",
            "RequiresRecreation": "Never",
            "Path": "/Properties/MessageRetentionPeriod",
            "BeforeValue": "60",
            "AfterValue": "120",
            "AttributeChangeType": "Modify",
        },
        "Evaluation": "Static",
        "ChangeSource": "DirectModification",
    },
    {
        "Target": {
            "Attribute": "Properties",
            "Name": "KmsMasterKeyId",
            "RequiresRecreation": "Never",
            "Path": "/Properties/KmsMasterKeyId",
            "AttributeChangeType": "Modify",
        },
        "Evaluation": "Dynamic",
        "ChangeSource": "ResourceAttribute",
        "CausingEntity": "Key.Arn",
    },
    {
        "Target": {"Attribute": "Tags", "RequiresRecreation": "Never"},
        "Evaluation": "Static",
        "ChangeSource": "DirectModification",
    },
]
PAGE = {
    "Changes": [
        {
            "Type": "Resource",
            "ResourceChange": {
                "Action": "Modify",
                "LogicalResourceId": "Queue",
                "ResourceType": "AWS::SQS::Queue",
                "Replacement": "False",
                "Details": DETAILS,
            },
        }
    ]
}


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def web(cli, tiny):
    """Environment dev and service web (instance web-dev, a pipeline) deployed with their
    defaults; then the spec gives the instance retention 120 and the pipeline stage prod."""
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes"))
    path = cli.workspace / "services" / "web.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["instances"][0]["spec"] = {"retention": 120}
    spec["pipeline"] = {"stage": "prod"}
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_a_reviewed_update_streams_the_inputs_it_changes(cli, web, check_ndjson):
    result = cli("svc", "deploy", "web", "--json")  # not a terminal, no --yes: refused

    assert result.exit_code == 2
    records = check_ndjson(result.stdout, "svc deploy")
    (changes,) = [r for r in records if r["type"] == "changes"]
    assert changes["stack"] == "pcli-demo-svc-web-web-dev"
    assert changes["changes"] == [
        {
            "action": "Modify",
            "logical_id": "Queue",
            "type": "AWS::SQS::Queue",
            "replacement": None,
            "details": [],  # moto describes no property changes
        }
    ]
    assert changes["inputs"] == {
        "known": True,
        "reason": None,
        "changed": {"retention": {"before": 60, "after": 120}},
        "added": {},
        "removed": {},
    }


def test_plan_changes_json_has_each_update_s_inputs(cli, web, check_schema):
    plan = json.loads(ok(cli("plan", "--json", "--changes")).stdout)

    check_schema(plan, "plan")
    by_name = {item["name"]: item for item in plan["items"]}
    assert by_name["web/web-dev"]["inputs"]["changed"] == {
        "retention": {"before": 60, "after": 120}
    }
    assert by_name["web"]["inputs"]["changed"] == {"stage": {"before": "test", "after": "prod"}}
    assert by_name["dev"]["action"] == "none"
    assert by_name["dev"]["inputs"] is None  # not previewed: nothing to do

    # What CloudFormation gives on AWS (moto gives no details) fits the plan's schema too.
    queue = by_name["web/web-dev"]["changes"][0]
    queue["details"] = [detail_record(d) for d in changes_of(PAGE)[0].details]
    check_schema(plan, "plan")


def test_a_changes_event_with_details_and_inputs_matches_its_schema(check_schema):
    inputs = InputChanges(
        known=True,
        changed=(InputChange("retention", 60, 120),),
        added=(InputChange("tags", after={"team": "web"}),),
        removed=(InputChange("legacy", before=["a"]),),
    )
    event = DeployEvent("changes", "s", "service instance web/web-dev", tuple(changes_of(PAGE)))

    record = event_record(event)
    check_schema(record, "deploy-event")
    check_schema(json.loads(json.dumps(event_record(_with(event, inputs)))), "deploy-event")
    unknown = InputChanges(known=False, reason="no deployment record of 3f2a9c1e")
    check_schema(event_record(_with(event, unknown)), "deploy-event")

    retention, kms, tags = record["changes"][0]["details"]
    assert retention == {
        "path": "/Properties/MessageRetentionPeriod",
        "attribute": "Properties",
        "name": "MessageRetentionPeriod",
        "change_type": "Modify",
        "before": "60",
        "after": "120",
        "requires_recreation": "Never",
        "evaluation": "Static",
        "source": "DirectModification",
        "causing_entity": None,
    }
    assert (kms["before"], kms["after"], kms["evaluation"]) == (None, None, "Dynamic")
    assert (tags["attribute"], tags["path"]) == ("Tags", None)


def _with(event, inputs):
    from dataclasses import replace

    return replace(event, inputs=inputs)
