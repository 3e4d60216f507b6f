"""CloudFormation drift detection, scripted with botocore's Stubber on a real client (moto has
no drift detection): every detection started before any is polled, drifted and in-sync stacks,
failed and unfinished detections, paginated resource drifts, masked NoEcho values; the
drift-aware change set of --revert-drift; the template diff."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.stub import ANY, Stubber

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.deploy.drift import (
    MAX_POLL_DELAY,
    DriftTarget,
    PropertyDifference,
    ResourceDrift,
    detect_cloudformation_drift,
    template_diff,
)
from protoncli.deploy.model import StackRequest

REGION = "us-east-1"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ENV = "pcli-acme-env-dev"
SVC = "pcli-acme-svc-web-web-dev"


def stack_id(name):
    return f"arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/0f1e2d3c"


def target(name, description):
    return DriftTarget("environment", "dev", name, REGION, description, "UPDATE_COMPLETE")


TARGETS = [target(ENV, "environment dev"), target(SVC, "service instance web/web-dev")]


class Script:
    """What CloudFormation answers, call by call, in the order pcli must ask."""

    def __init__(self, stubber):
        self.stubber = stubber

    def detect(self, name):
        self.stubber.add_response(
            "detect_stack_drift",
            {"StackDriftDetectionId": f"detection-{name}"},
            {"StackName": name},
        )

    def status(self, name, detection, drift=None, *, count=None, reason=None):
        response = {
            "StackId": stack_id(name),
            "StackDriftDetectionId": f"detection-{name}",
            "DetectionStatus": detection,
            "Timestamp": T0,
        }
        if drift is not None:
            response["StackDriftStatus"] = drift
        if count is not None:
            response["DriftedStackResourceCount"] = count
        if reason is not None:
            response["DetectionStatusReason"] = reason
        self.stubber.add_response(
            "describe_stack_drift_detection_status",
            response,
            {"StackDriftDetectionId": f"detection-{name}"},
        )

    def resource_drifts(self, name, drifts, *, page=None, next_page=None):
        expected = {"StackName": name, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
        if page:
            expected["NextToken"] = page
        response = {"StackResourceDrifts": drifts}
        if next_page:
            response["NextToken"] = next_page
        self.stubber.add_response("describe_stack_resource_drifts", response, expected)


def modified_topic(name, differences):
    return {
        "StackId": stack_id(name),
        "LogicalResourceId": "Topic",
        "PhysicalResourceId": f"arn:aws:sns:{REGION}:123456789012:dev-topic",
        "ResourceType": "AWS::SNS::Topic",
        "ExpectedProperties": json.dumps({"DisplayName": "dev"}),
        "ActualProperties": json.dumps({"DisplayName": "changed by hand"}),
        "PropertyDifferences": [
            {
                "PropertyPath": path,
                "ExpectedValue": expected,
                "ActualValue": actual,
                "DifferenceType": kind,
            }
            for path, expected, actual, kind in differences
        ],
        "StackResourceDriftStatus": "MODIFIED",
        "Timestamp": T0,
    }


def deleted_queue(name):
    return {
        "StackId": stack_id(name),
        "LogicalResourceId": "Queue",
        "PhysicalResourceId": f"https://sqs.{REGION}.amazonaws.com/123456789012/dev-queue",
        "ResourceType": "AWS::SQS::Queue",
        "ExpectedProperties": json.dumps({"QueueName": "dev-queue"}),
        "StackResourceDriftStatus": "DELETED",
        "Timestamp": T0,
    }


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def client():
    target = AwsTarget(region=REGION, endpoint_url="http://127.0.0.1:1")
    return SessionFactory().client("cloudformation", target)


@pytest.fixture
def script(client):
    with Stubber(client) as stubber:
        yield Script(stubber)
        stubber.assert_no_pending_responses()


@pytest.fixture
def clock():
    return Clock()


def detect(client, clock, targets=TARGETS, **options):
    progress = []
    found = detect_cloudformation_drift(
        {REGION: CloudFormationGateway(client)},
        targets,
        on_progress=progress.append,
        sleep=clock.sleep,
        clock=clock,
        **options,
    )
    return found, progress


def test_every_detection_starts_before_any_is_polled_and_drifted_stacks_list_resources(
    client, script, clock
):
    script.detect(ENV)
    script.detect(SVC)
    script.status(ENV, "DETECTION_IN_PROGRESS")
    script.status(SVC, "DETECTION_COMPLETE", "IN_SYNC", count=0)
    script.status(ENV, "DETECTION_COMPLETE", "DRIFTED", count=2)
    script.resource_drifts(
        ENV,
        [modified_topic(ENV, [("/DisplayName", "dev", "changed by hand", "NOT_EQUAL")])],
        next_page="page-2",
    )
    script.resource_drifts(ENV, [deleted_queue(ENV)], page="page-2")

    found, progress = detect(client, clock)

    env = found[(REGION, ENV)]
    assert env.drift_status == "DRIFTED"
    assert env.detection_status == "DETECTION_COMPLETE"
    assert env.errors == ()
    assert env.resources == (
        ResourceDrift(
            "Topic",
            "AWS::SNS::Topic",
            f"arn:aws:sns:{REGION}:123456789012:dev-topic",
            "MODIFIED",
            (PropertyDifference("/DisplayName", "dev", "changed by hand", "NOT_EQUAL"),),
        ),
        ResourceDrift(
            "Queue",
            "AWS::SQS::Queue",
            f"https://sqs.{REGION}.amazonaws.com/123456789012/dev-queue",
            "DELETED",
            (),
        ),
    )
    svc = found[(REGION, SVC)]
    assert (svc.drift_status, svc.resources, svc.errors) == ("IN_SYNC", (), ())
    assert [(p.done, p.total) for p in progress] == [(1, 2), (2, 2)]
    assert clock.sleeps == [2.0]


def test_a_stack_in_sync_reads_no_resource_drifts(client, script, clock):
    script.detect(ENV)
    script.status(ENV, "DETECTION_COMPLETE", "IN_SYNC", count=0)

    found, _ = detect(client, clock, TARGETS[:1])

    assert found[(REGION, ENV)].drift_status == "IN_SYNC"
    assert found[(REGION, ENV)].resources == ()
    assert clock.sleeps == []


def test_a_failed_detection_is_reported_on_its_stack_with_what_it_found(client, script, clock):
    reason = "Failed to detect drift on resource [Queue]: Access denied for sqs:GetQueueAttributes"
    script.detect(ENV)
    script.detect(SVC)
    script.status(ENV, "DETECTION_FAILED", "DRIFTED", count=1, reason=reason)
    script.resource_drifts(ENV, [modified_topic(ENV, [("/DisplayName", "dev", "x", "NOT_EQUAL")])])
    script.status(SVC, "DETECTION_COMPLETE", "IN_SYNC", count=0)

    found, _ = detect(client, clock)

    env = found[(REGION, ENV)]
    assert env.detection_status == "DETECTION_FAILED"
    assert env.reason == reason
    assert env.errors == (f"drift detection failed: {reason}",)
    assert [r.logical_id for r in env.resources] == ["Topic"]  # what it could check
    assert found[(REGION, SVC)].errors == ()


def test_a_detection_that_cannot_start_leaves_the_other_stacks_checked(client, script, clock):
    script.stubber.add_client_error(
        "detect_stack_drift",
        "ValidationError",
        f"Stack [{ENV}] is in UPDATE_IN_PROGRESS state and can not be checked for drift",
        400,
        expected_params={"StackName": ENV},
    )
    script.detect(SVC)
    script.status(SVC, "DETECTION_COMPLETE", "IN_SYNC", count=0)

    found, _ = detect(client, clock)

    env = found[(REGION, ENV)]
    assert env.drift_status == "NOT_RUN"
    assert "UPDATE_IN_PROGRESS state and can not be checked for drift" in env.errors[0]
    assert env.errors[0].startswith(f"DetectStackDrift failed for stack {ENV}")
    assert found[(REGION, SVC)].drift_status == "IN_SYNC"


def test_waiting_is_bounded_and_backs_off(client, script, clock):
    script.detect(ENV)
    for _ in range(6):  # at 0, 2, 6, 14, 24 and 34 seconds
        script.status(ENV, "DETECTION_IN_PROGRESS")

    found, _ = detect(client, clock, TARGETS[:1], timeout=30.0)

    env = found[(REGION, ENV)]
    assert env.drift_status == "NOT_RUN"
    assert env.detection_status == "DETECTION_IN_PROGRESS"
    assert env.errors == ("drift detection did not end within 30 seconds",)
    assert clock.sleeps == [2.0, 4.0, 8.0, MAX_POLL_DELAY, MAX_POLL_DELAY]


def test_values_cloudformation_masks_stay_masked_on_both_sides(client, script, clock):
    script.detect(ENV)
    script.status(ENV, "DETECTION_COMPLETE", "DRIFTED", count=1)
    script.resource_drifts(
        ENV,
        [
            modified_topic(
                ENV,
                [
                    ("/KmsMasterKeyId", "****", "alias/leaked-if-shown", "NOT_EQUAL"),
                    ("/DisplayName", "dev", "ops", "NOT_EQUAL"),
                ],
            )
        ],
    )

    found, _ = detect(client, clock, TARGETS[:1])

    differences = found[(REGION, ENV)].resources[0].differences
    assert differences == (
        PropertyDifference("/KmsMasterKeyId", "****", "****", "NOT_EQUAL"),
        PropertyDifference("/DisplayName", "dev", "ops", "NOT_EQUAL"),
    )


def test_revert_drift_sends_the_drift_aware_deployment_mode_on_updates_only(client, script):
    request = StackRequest(
        ENV,
        "Resources: {}\n",
        {"pcli:workspace": "acme"},
        "environment dev",
        deployment_mode="REVERT_DRIFT",
    )
    common = {
        "StackName": ENV,
        "ChangeSetName": ANY,
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        "Tags": [{"Key": "pcli:workspace", "Value": "acme"}],
        "Description": "environment dev",
        "TemplateBody": "Resources: {}\n",
    }
    change_set = f"arn:aws:cloudformation:{REGION}:123456789012:changeSet/pcli-1/cs"
    script.stubber.add_response(
        "create_change_set",
        {"Id": change_set, "StackId": stack_id(ENV)},
        {**common, "ChangeSetType": "UPDATE", "DeploymentMode": "REVERT_DRIFT"},
    )
    script.stubber.add_response(
        "create_change_set",
        {"Id": change_set, "StackId": stack_id(ENV)},
        {**common, "ChangeSetType": "CREATE"},
    )
    gateway = CloudFormationGateway(client)

    assert gateway.create_change_set(request, change_set_type="UPDATE") == change_set
    assert gateway.create_change_set(request, change_set_type="CREATE") == change_set


def test_template_diff_ignores_trailing_whitespace_and_json_layout():
    deployed = "Resources:\n  Topic:   \n    Type: AWS::SNS::Topic\n\n\n"
    assert template_diff(deployed, "Resources:\n  Topic:\n    Type: AWS::SNS::Topic", "s") is None
    as_botocore_returns = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}, indent=2)
    rendered = '{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}\n'
    assert template_diff(as_botocore_returns, rendered, "s") is None


def test_template_diff_is_a_unified_diff_from_deployed_to_rendered():
    deployed = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    rendered = "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"

    diff = template_diff(deployed, rendered, "pcli-acme-env-dev")

    assert diff is not None
    assert diff.splitlines() == [
        "--- pcli-acme-env-dev (deployed)",
        "+++ pcli-acme-env-dev (rendered)",
        "@@ -1,3 +1,3 @@",
        " Resources:",
        "-  Topic:",
        "-    Type: AWS::SNS::Topic",
        "+  Queue:",
        "+    Type: AWS::SQS::Queue",
    ]
