"""The logs gateway with real-AWS-shaped failures moto does not produce (botocore's Stubber):
a denied call names the permission to add; a missing log group has no events."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.stub import Stubber

from protoncli.aws.logs import LogsGateway
from protoncli.errors import AwsError


@pytest.fixture
def stubbed():
    session = botocore.session.Session()
    session.set_credentials("testing", "testing")
    clients = {
        service: session.create_client(service, region_name="us-east-1")
        for service in ("cloudformation", "ecs", "logs")
    }
    stubbers = {service: Stubber(client) for service, client in clients.items()}
    for stubber in stubbers.values():
        stubber.activate()
    yield LogsGateway(clients.__getitem__), stubbers
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("service", "call", "permission"),
    [
        ("logs", "filter_log_events", "logs:FilterLogEvents"),
        ("cloudformation", "list_stack_resources", "cloudformation:ListStackResources"),
        ("ecs", "describe_task_definition", "ecs:DescribeTaskDefinition"),
    ],
)
def test_a_denied_call_names_the_permission_to_add(stubbed, service, call, permission):
    gateway, stubbers = stubbed
    stubbers[service].add_client_error(
        call,
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/dev is not authorized",
        http_status_code=400,
    )
    read = {
        "filter_log_events": lambda: gateway.events("/ecs/web", start=0),
        "list_stack_resources": lambda: gateway.stack_resources("pcli-shop-svc-web-web-dev"),
        "describe_task_definition": lambda: gateway.task_definition_groups("web:3"),
    }[call]

    with pytest.raises(AwsError) as raised:
        read()

    assert "access denied" in raised.value.message
    assert "is not authorized" in raised.value.message
    assert raised.value.hint is not None
    assert f"add the permission {permission}" in raised.value.hint


def test_a_log_group_that_does_not_exist_yet_has_no_events(stubbed):
    gateway, stubbers = stubbed
    stubbers["logs"].add_client_error(
        "filter_log_events",
        service_error_code="ResourceNotFoundException",
        service_message="The specified log group does not exist.",
        http_status_code=400,
    )

    assert gateway.events("/aws/lambda/web-handler", start=0) == []


def test_every_page_of_events_is_read(stubbed):
    gateway, stubbers = stubbed
    event = {"eventId": "1", "timestamp": 1000, "logStreamName": "s", "message": "one\n"}
    stubbers["logs"].add_response(
        "filter_log_events",
        {"events": [event], "nextToken": "t"},
        {"logGroupName": "/ecs/web", "startTime": 5, "filterPattern": "ERROR"},
    )
    stubbers["logs"].add_response(
        "filter_log_events",
        {"events": [dict(event, eventId="2", message="two")]},
        {"logGroupName": "/ecs/web", "startTime": 5, "filterPattern": "ERROR", "nextToken": "t"},
    )

    found = gateway.events("/ecs/web", start=5, pattern="ERROR")

    assert [(e.event_id, e.message) for e in found] == [("1", "one"), ("2", "two")]
