"""`pcli drift --json` matches docs/reference/schemas/drift.schema.json: against moto (template
drift, no CloudFormation drift detection there) and, for resource drift moto cannot produce, the
document of a report with modified and deleted resources."""

from __future__ import annotations

import json

import boto3

from protoncli.cli.commands.drift import drift_document
from protoncli.deploy.drift import DriftReport, PropertyDifference, ResourceDrift, StackDrift


def test_the_drift_document_of_a_deployed_workspace(cli, tiny, check_schema, moto_url):
    for args in (
        ("env", "create", "dev", "-b", "tiny-env", "--yes"),
        ("env", "create", "idle", "-b", "tiny-env", "--no-deploy"),
        ("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes"),
    ):
        assert cli(*args).exit_code == 0

    in_sync = cli("drift", "--json")
    assert in_sync.exit_code == 0, in_sync.output
    document = json.loads(in_sync.stdout)
    check_schema(document, "drift")
    assert document["drifted"] is False
    assert {s["kind"] for s in document["stacks"]} == {
        "environment",
        "service-instance",
        "pipeline",
    }

    cloudformation = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")
    cloudformation.update_stack(
        StackName="pcli-demo-env-dev",
        TemplateBody="Resources:\n  Other:\n    Type: AWS::SNS::Topic\n",
    )
    drifted = cli("drift", "dev", "idle", "--json", "--check")
    assert drifted.exit_code == 4, drifted.output
    document = json.loads(drifted.stdout)
    check_schema(document, "drift")
    assert document["drifted"] is True
    assert [(s["name"], s["drifted"]) for s in document["stacks"]] == [
        ("dev", True),
        ("idle", False),
    ]


def test_the_drift_document_of_resources_changed_outside_cloudformation(check_schema):
    stack = StackDrift(
        kind="service-instance",
        name="web/web-dev",
        stack_name="pcli-demo-svc-web-web-dev",
        description="service instance web/web-dev",
        region="us-east-1",
        stack_status="UPDATE_COMPLETE",
        drift_status="DRIFTED",
        detection_status="DETECTION_FAILED",
        detection_reason="Failed to detect drift on resource [Role]",
        resources=(
            ResourceDrift(
                "Queue",
                "AWS::SQS::Queue",
                "https://sqs.us-east-1.amazonaws.com/123456789012/web-web-dev",
                "MODIFIED",
                (
                    PropertyDifference("/MessageRetentionPeriod", "60", "120", "NOT_EQUAL"),
                    PropertyDifference("/Tags/1", "****", "****", "REMOVE"),
                ),
            ),
            ResourceDrift("Topic", "AWS::SNS::Topic", None, "DELETED", ()),
        ),
        template_diff=None,
        errors=("drift detection failed: Failed to detect drift on resource [Role]",),
    )

    document = drift_document(DriftReport("demo", (stack,)))

    check_schema(document, "drift")
    assert document["drifted"] is True
    assert document["stacks"][0]["resources"][0]["differences"][1] == {
        "path": "/Tags/1",
        "expected": "****",
        "actual": "****",
        "difference_type": "REMOVE",
    }
