"""The CloudFormation gateway: a real moto server where it can, botocore's Stubber where not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY, Stubber

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.deploy.model import Change, PropertyChange, StackRequest
from protoncli.errors import AwsError

TOPIC = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1"
CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/pcli-1/2"


@pytest.fixture
def moto_cf(moto_url):
    client = SessionFactory(max_attempts=1).client(
        "cloudformation", AwsTarget(region="us-east-1", endpoint_url=moto_url)
    )
    return CloudFormationGateway(client), client


@pytest.fixture
def stubbed():
    client = SessionFactory().client(
        "cloudformation", AwsTarget(region="us-east-1", endpoint_url="http://127.0.0.1:1")
    )
    sleeps: list[float] = []
    with Stubber(client) as stubber:
        yield CloudFormationGateway(client, sleep=sleeps.append), stubber, sleeps
        stubber.assert_no_pending_responses()


def _request(body=TOPIC, **tags):
    return StackRequest("pcli-acme-env-dev", body, tags or {"pcli:kind": "environment"}, "env dev")


def test_describe_reads_a_stack_and_none_when_missing(moto_cf):
    gateway, client = moto_cf
    assert gateway.describe("pcli-acme-env-dev") is None
    client.create_stack(
        StackName="pcli-acme-env-dev",
        TemplateBody=TOPIC,
        Tags=[{"Key": "pcli:workspace", "Value": "acme"}],
    )
    info = gateway.describe("pcli-acme-env-dev")
    assert info is not None
    assert info.name == "pcli-acme-env-dev"
    assert info.status == "CREATE_COMPLETE"
    assert info.tags == {"pcli:workspace": "acme"}
    assert info.outputs["TopicArn"].startswith("arn:aws:sns:us-east-1:123456789012:")
    assert info.created is not None
    assert gateway.describe(info.stack_id) == info


def test_describe_all_reads_every_stack_page_by_page(moto_cf):
    gateway, client = moto_cf
    for number in range(120):
        client.create_stack(StackName=f"stack-{number}", TemplateBody=TOPIC)
    calls = []
    client.meta.events.register(
        "before-call.cloudformation.DescribeStacks", lambda **_: calls.append(1)
    )
    stacks = gateway.describe_all()
    assert sorted(info.name for info in stacks) == sorted(f"stack-{n}" for n in range(120))
    assert len(calls) == 3  # 50 + 50 + 20
    assert gateway.pages_read == 3


def test_a_create_change_set_lists_its_changes_and_carries_the_tags(moto_cf):
    gateway, _ = moto_cf
    change_set = gateway.create_change_set(
        _request(**{"pcli:workspace": "acme"}), change_set_type="CREATE"
    )
    status, _reason, changes = gateway.wait_change_set(change_set)
    assert status == "CREATE_COMPLETE"
    assert changes == (Change("Add", "Topic", "AWS::SNS::Topic", None),)
    gateway.execute_change_set(change_set)
    info = gateway.describe("pcli-acme-env-dev")
    assert info is not None
    assert info.status == "CREATE_COMPLETE"
    assert info.tags == {"pcli:workspace": "acme"}


def test_an_identical_update_has_no_changes(moto_cf):
    gateway, _ = moto_cf
    first = gateway.create_change_set(_request(), change_set_type="CREATE")
    gateway.wait_change_set(first)
    gateway.execute_change_set(first)
    again = gateway.create_change_set(_request(), change_set_type="UPDATE")
    status, reason, changes = gateway.wait_change_set(again)
    assert (status, changes) == ("NO_CHANGES", ())
    assert "didn't contain changes" in (reason or "")
    gateway.delete_change_set(again)


def test_events_since_a_time_come_oldest_first(moto_cf):
    gateway, client = moto_cf
    stack_id = client.create_stack(StackName="s", TemplateBody=TOPIC)["StackId"]
    created = gateway.events(stack_id, T0 - timedelta(days=3650))
    assert [event.status for event in created] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    assert created[0].reason == "User Initiated"
    later = datetime.now(UTC)
    client.delete_stack(StackName="s")
    deleted = gateway.events(stack_id, later)
    assert [event.status for event in deleted] == ["DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert gateway.describe("s") is None
    by_id = gateway.describe(stack_id)
    assert by_id is not None
    assert by_id.status == "DELETE_COMPLETE"


def test_template_body_is_text_for_yaml_and_json(moto_cf):
    gateway, client = moto_cf
    client.create_stack(StackName="y", TemplateBody=TOPIC)
    assert gateway.template_body("y") == TOPIC
    as_json = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    client.create_stack(StackName="j", TemplateBody=json.dumps(as_json))
    assert json.loads(gateway.template_body("j")) == as_json


def test_a_missing_stack_template_keeps_the_aws_message(moto_cf):
    gateway, _ = moto_cf
    with pytest.raises(AwsError, match=r"^GetTemplate failed for stack nope: Stack with id nope"):
        gateway.template_body("nope")


def test_cancel_is_not_supported_by_the_sandbox(moto_cf):
    gateway, client = moto_cf
    client.create_stack(StackName="s", TemplateBody=TOPIC)
    with pytest.raises(AwsError) as caught:
        gateway.cancel_update("s")
    assert caught.value.message.startswith(
        "CancelUpdateStack failed for stack s: the endpoint does not support CancelUpdateStack"
    )


def _change(action, logical, rtype, replacement=None):
    change = {"Action": action, "LogicalResourceId": logical, "ResourceType": rtype}
    if replacement:
        change["Replacement"] = replacement
    return {"Type": "Resource", "ResourceChange": change}


def _change_set_page(status, changes=(), next_page=None, reason=None):
    page = {
        "ChangeSetId": CHANGE_SET_ID,
        "StackId": STACK_ID,
        "StackName": "s",
        "Status": status,
        "ExecutionStatus": "AVAILABLE",
        "Changes": list(changes),
    }
    if next_page:
        page["NextToken"] = next_page
    if reason:
        page["StatusReason"] = reason
    return page


def test_waiting_for_a_change_set_polls_then_reads_every_page(stubbed):
    gateway, stubber, sleeps = stubbed
    expected = {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True}
    stubber.add_response("describe_change_set", _change_set_page("CREATE_PENDING"), expected)
    stubber.add_response("describe_change_set", _change_set_page("CREATE_IN_PROGRESS"), expected)
    first = [_change("Modify", "Queue", "AWS::SQS::Queue", "True")]
    stubber.add_response(
        "describe_change_set", _change_set_page("CREATE_COMPLETE", first, next_page="t2"), expected
    )
    stubber.add_response(
        "describe_change_set",
        _change_set_page("CREATE_COMPLETE", [_change("Remove", "Topic", "AWS::SNS::Topic")]),
        {"ChangeSetName": CHANGE_SET_ID, "NextToken": "t2", "IncludePropertyValues": True},
    )
    status, _reason, changes = gateway.wait_change_set(CHANGE_SET_ID)
    assert status == "CREATE_COMPLETE"
    assert changes == (
        Change("Modify", "Queue", "AWS::SQS::Queue", "True"),
        Change("Remove", "Topic", "AWS::SNS::Topic", None),
    )
    assert sleeps == [0.2, 0.4]


def test_a_failed_change_set_reports_its_reason(stubbed):
    gateway, stubber, _ = stubbed
    stubber.add_response(
        "describe_change_set",
        _change_set_page("FAILED", reason="Parameter X has no value"),
        {"ChangeSetName": ANY, "IncludePropertyValues": True},
    )
    assert gateway.wait_change_set(CHANGE_SET_ID) == ("FAILED", "Parameter X has no value", ())


def _event(number, seconds):
    return {
        "EventId": f"e{number}",
        "StackId": STACK_ID,
        "StackName": "s",
        "LogicalResourceId": f"R{number}",
        "ResourceType": "AWS::SQS::Queue",
        "ResourceStatus": "CREATE_IN_PROGRESS",
        "Timestamp": T0 + timedelta(seconds=seconds),
    }


def test_events_read_pages_until_one_older_than_since(stubbed):
    gateway, stubber, _ = stubbed
    stubber.add_response(
        "describe_stack_events",
        {"StackEvents": [_event(4, 4), _event(3, 3)], "NextToken": "p2"},
        {"StackName": STACK_ID},
    )
    stubber.add_response(
        "describe_stack_events",
        {"StackEvents": [_event(2, 2), _event(1, -1), _event(0, -2)], "NextToken": "p3"},
        {"StackName": STACK_ID, "NextToken": "p2"},
    )
    events = gateway.events(STACK_ID, T0 + timedelta(microseconds=400))
    assert [event.event_id for event in events] == ["e2", "e3", "e4"]


# --- property values (IncludePropertyValues) -------------------------------------------------

WITH_VALUES = {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True}


def _detail(path, *, before=None, after=None, recreation="Never", change="Modify", **detail):
    target = {
        "Attribute": "Properties",
        "Name": path.rsplit("/", 1)[-1],
        "RequiresRecreation": recreation,
        "Path": path,
        "AttributeChangeType": change,
    }
    target |= {"BeforeValue": before} if before is not None else {}
    target |= {"AfterValue": after} if after is not None else {}
    return {
        "Target": target,
        "Evaluation": detail.get("evaluation", "Static"),
        "ChangeSource": detail.get("source", "DirectModification"),
        **({"CausingEntity": detail["entity"]} if "entity" in detail else {}),
    }


def _modify(logical, rtype, details, replacement="False"):
    entry = _change("Modify", logical, rtype, replacement)
    entry["ResourceChange"] |= {
        "PhysicalResourceId": f"{logical.lower()}-0a1b2c3d",
        "Scope": ["Properties"],
        "Details": details,
        "BeforeContext": "{}",
        "AfterContext": "{}",
    }
    return entry


def test_property_changes_come_with_their_values_as_cloudformation_gives_them(stubbed):
    """Static changes carry their values; a Dynamic one (known only when the change set runs)
    has none; a NoEcho parameter's values stay as CloudFormation masks them."""
    gateway, stubber, _ = stubbed
    database = [
        _detail("/Properties/AllocatedStorage", before="20", after="50"),
        _detail(
            "/Properties/MasterUserPassword",
            before="****",
            after="****",
            source="ParameterReference",
            entity="DbPassword",
        ),
        _detail(
            "/Properties/KmsKeyId",
            recreation="Always",
            evaluation="Dynamic",
            source="ResourceAttribute",
            entity="Key.Arn",
        ),
        _detail("/Properties/StorageEncrypted", after="true", change="Add", recreation="Always"),
    ]
    changes = [
        _modify("Database", "AWS::RDS::DBInstance", database, "True"),
        _change("Add", "Key", "AWS::KMS::Key"),
    ]
    stubber.add_response(
        "describe_change_set", _change_set_page("CREATE_COMPLETE", changes), WITH_VALUES
    )

    _status, _reason, (db, key) = gateway.wait_change_set(CHANGE_SET_ID)

    storage, password, kms, encrypted = db.details
    assert storage == PropertyChange(
        path="/Properties/AllocatedStorage",
        attribute="Properties",
        name="AllocatedStorage",
        change_type="Modify",
        before="20",
        after="50",
        requires_recreation="Never",
        source="DirectModification",
        evaluation="Static",
    )
    assert storage.label == "AllocatedStorage"
    assert (password.before, password.after, password.causing_entity) == (
        "****",
        "****",
        "DbPassword",
    )
    assert (kms.before, kms.after, kms.has_values) == (None, None, False)
    assert (kms.evaluation, kms.causing_entity, kms.replaces) == ("Dynamic", "Key.Arn", True)
    assert (encrypted.change_type, encrypted.before, encrypted.after) == ("Add", None, "true")
    assert key.details == ()


def test_an_endpoint_that_refuses_property_values_is_asked_without_them_from_then_on(stubbed):
    gateway, stubber, _ = stubbed
    refused = "1 validation error detected: Value at 'includePropertyValues' is not supported"
    stubber.add_client_error(
        "describe_change_set", "ValidationError", refused, 400, expected_params=WITH_VALUES
    )
    plain = {"ChangeSetName": CHANGE_SET_ID}
    page = _change_set_page("CREATE_COMPLETE", [_change("Modify", "Queue", "AWS::SQS::Queue")])
    stubber.add_response("describe_change_set", page, plain)
    stubber.add_response("describe_change_set", page, plain)  # the next change set: asked as-is

    first = gateway.wait_change_set(CHANGE_SET_ID)
    second = gateway.wait_change_set(CHANGE_SET_ID)

    assert (
        first
        == second
        == ("CREATE_COMPLETE", None, (Change("Modify", "Queue", "AWS::SQS::Queue", None),))
    )


def test_a_validation_error_that_is_not_about_property_values_is_reported(stubbed):
    gateway, stubber, _ = stubbed
    for expected in (WITH_VALUES, {"ChangeSetName": CHANGE_SET_ID}):
        stubber.add_client_error(
            "describe_change_set", "ValidationError", "Bad name", 400, expected_params=expected
        )

    with pytest.raises(AwsError, match="DescribeChangeSet failed for change set pcli-1: Bad name"):
        gateway.wait_change_set(CHANGE_SET_ID)


def test_the_sandbox_takes_property_values_and_describes_an_update(moto_cf):
    gateway, client = moto_cf
    asked: list[dict] = []
    client.meta.events.register(
        "provide-client-params.cloudformation.DescribeChangeSet",
        lambda params, **_: asked.append(dict(params)),
    )
    first = gateway.create_change_set(_request(), change_set_type="CREATE")
    gateway.wait_change_set(first)
    gateway.execute_change_set(first)
    update = gateway.create_change_set(
        _request(
            TOPIC.replace(
                "Type: AWS::SNS::Topic",
                "Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: shop",
            )
        ),
        change_set_type="UPDATE",
    )

    status, _reason, changes = gateway.wait_change_set(update)

    assert status == "CREATE_COMPLETE"
    assert changes == (Change("Modify", "Topic", "AWS::SNS::Topic", None),)  # moto: no Details
    assert asked
    assert all(params.get("IncludePropertyValues") is True for params in asked)
