"""The deploy engine on sequences moto cannot produce, scripted with botocore's Stubber on a
real client: per-resource events, failures and rollbacks, other operations in progress,
interrupted waits, failed first creations.

While a stack runs, the engine's own poll (a deployer built without the project's) lists the
stacks in progress once a second (ListStacks); time is a fake clock that moves with each sleep."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from botocore.stub import ANY, Stubber

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.deploy.engine import Deployer, StackBusyError
from protoncli.deploy.model import (
    Change,
    DeployHooks,
    InputChange,
    InputChanges,
    PropertyChange,
    StackRequest,
)
from protoncli.errors import DeployError, ExitCode, NotFoundError, PcliError

NAME = "pcli-acme-env-dev"
DESCRIPTION = "environment dev"
STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{NAME}/first"
NEW_STACK_ID = f"arn:aws:cloudformation:us-east-1:123456789012:stack/{NAME}/second"
CHANGE_SET_ID = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/pcli-1/cs"
T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TEMPLATE = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n"
STACK_TYPE = "AWS::CloudFormation::Stack"
TAGS = {"pcli:workspace": "acme"}  # the request's: a no-change deploy has nothing to re-tag
IN_PROGRESS = [
    "CREATE_IN_PROGRESS",
    "ROLLBACK_IN_PROGRESS",
    "DELETE_IN_PROGRESS",
    "UPDATE_IN_PROGRESS",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
]


class Script:
    """What CloudFormation answers, call by call, in the order the engine must ask."""

    def __init__(self, stubber: Stubber) -> None:
        self.stubber = stubber
        self.events: list[dict] = []

    def stack(
        self, status, *, stack_id=STACK_ID, outputs=None, updated=None, reason=None, tags=None
    ):
        stack = {
            "StackName": NAME,
            "StackId": stack_id,
            "StackStatus": status,
            "CreationTime": T0 - timedelta(hours=1),
            "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in (outputs or {}).items()],
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        if updated:
            stack["LastUpdatedTime"] = updated
        if reason:
            stack["StackStatusReason"] = reason
        self.stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": ANY})

    def missing(self):
        self.stubber.add_client_error(
            "describe_stacks", "ValidationError", f"Stack with id {NAME} does not exist", 400
        )

    def event(self, seconds, logical, status, reason=None, rtype="AWS::S3::Bucket"):
        """Record one more event (it shows in every later `page()`)."""
        event = {
            "EventId": f"e{len(self.events)}",
            "StackId": STACK_ID,
            "StackName": NAME,
            "LogicalResourceId": logical,
            "ResourceType": STACK_TYPE if logical == NAME else rtype,
            "ResourceStatus": status,
            "Timestamp": T0 + timedelta(seconds=seconds),
        }
        if reason:
            event["ResourceStatusReason"] = reason
        self.events.append(event)

    def page(self, stack_id=STACK_ID):
        """DescribeStackEvents: every recorded event, newest first."""
        self.stubber.add_response(
            "describe_stack_events", {"StackEvents": self.events[::-1]}, {"StackName": stack_id}
        )

    def poll(self, status, **stack):
        """DescribeStacks, then DescribeStackEvents."""
        self.stack(status, **stack)
        self.page(stack.get("stack_id", STACK_ID))

    def listing(self, *stack_ids):
        """ListStacks of the stacks in progress: these stacks (none: this one has ended)."""
        summaries = [
            {
                "StackId": stack_id,
                "StackName": stack_id.split("/")[1],
                "StackStatus": "UPDATE_IN_PROGRESS",
                "CreationTime": T0 - timedelta(hours=1),
            }
            for stack_id in stack_ids
        ]
        self.stubber.add_response(
            "list_stacks", {"StackSummaries": summaries}, {"StackStatusFilter": IN_PROGRESS}
        )

    def running(self):
        """ListStacks naming this stack: it still runs."""
        self.listing(STACK_ID)

    def change_set(self, change_set_type, changes, stack_id=STACK_ID):
        """CreateChangeSet (answering with the stack id, so no DescribeStacks follows), then
        DescribeChangeSet."""
        self.stubber.add_response(
            "create_change_set",
            {"Id": CHANGE_SET_ID, "StackId": stack_id},
            {
                "StackName": NAME,
                "ChangeSetName": ANY,
                "ChangeSetType": change_set_type,
                "Capabilities": ANY,
                "Tags": [{"Key": "pcli:workspace", "Value": "acme"}],
                "Description": DESCRIPTION,
                "TemplateBody": TEMPLATE,
            },
        )
        entries = [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": action,
                    "LogicalResourceId": logical,
                    "ResourceType": rtype,
                    **({"Replacement": replacement} if replacement else {}),
                },
            }
            for action, logical, rtype, replacement in changes
        ]
        self.stubber.add_response(
            "describe_change_set",
            {"Status": "CREATE_COMPLETE", "Changes": entries, "ExecutionStatus": "AVAILABLE"},
            {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True},
        )

    def no_changes(self):
        self.stubber.add_response(
            "create_change_set", {"Id": CHANGE_SET_ID}, {"ChangeSetType": "UPDATE", **_any()}
        )
        self.stubber.add_response(
            "describe_change_set",
            {
                "Status": "FAILED",
                "StatusReason": "The submitted information didn't contain changes. Submit "
                "different information to create a change set.",
            },
            {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True},
        )
        self.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)

    def call(self, operation, **expected):
        self.stubber.add_response(operation, {}, expected)

    def waiting_change_sets(self, *names, other_stack=None):
        """ListChangeSets: change sets of the stack that have not run (names), one of another
        stack (which pcli must ignore), and one that ran."""
        summaries = [
            {
                "StackName": NAME,
                "ChangeSetName": name,
                "Status": "CREATE_COMPLETE",
                "ExecutionStatus": "AVAILABLE",
                "CreationTime": T0 - timedelta(minutes=3),
            }
            for name in names
        ]
        summaries.append(
            {
                "StackName": NAME,
                "ChangeSetName": "pcli-20261128115000-done",
                "Status": "CREATE_COMPLETE",
                "ExecutionStatus": "EXECUTE_COMPLETE",
            }
        )
        if other_stack:
            summaries.append(
                {
                    "StackName": other_stack,
                    "ChangeSetName": "pcli-20261128115500-other",
                    "Status": "CREATE_COMPLETE",
                    "ExecutionStatus": "AVAILABLE",
                }
            )
        self.stubber.add_response("list_change_sets", {"Summaries": summaries}, {"StackName": NAME})


def _any():
    keys = ("StackName", "ChangeSetName", "Capabilities", "Tags", "Description", "TemplateBody")
    return dict.fromkeys(keys, ANY)


class FakeTime:
    """A clock that moves only when someone sleeps (`scale` seconds of clock per second slept)."""

    def __init__(self, scale=1.0):
        self.elapsed = 0.0
        self.scale = scale
        self.sleeps: list[float] = []

    def clock(self):
        return T0 + timedelta(seconds=self.elapsed)

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.elapsed += seconds * self.scale


class Run:
    """One engine under test: its script, the events it reported (with the time of each), the
    sleeps it took."""

    def __init__(self, client, *, time=None, max_wait=3 * 3600.0, sleep=None):
        self.time = time or FakeTime()
        self.sleeps = self.time.sleeps
        self.reported: list = []
        self.times: list[float] = []
        self.confirmed: list = []
        self.deployer = Deployer(
            CloudFormationGateway(client),
            None,
            sleep=sleep or self.time.sleep,
            clock=self.time.clock,
            max_wait_seconds=max_wait,
        )

    def on_event(self, event):
        self.reported.append(event)
        self.times.append(self.time.elapsed)

    def confirm(self, changes):
        self.confirmed.append(changes)
        return True

    def deploy(self, **options):
        request = StackRequest(NAME, TEMPLATE, {"pcli:workspace": "acme"}, DESCRIPTION)
        options.setdefault("confirm", self.confirm)
        return self.deployer.deploy(request, DeployHooks(on_event=self.on_event, **options))

    def kinds(self):
        return [event.kind for event in self.reported]

    def resources(self):
        return [
            (event.event.logical_id, event.event.status)
            for event in self.reported
            if event.kind == "resource"
        ]


@pytest.fixture
def client():
    target = AwsTarget(region="us-east-1", endpoint_url="http://127.0.0.1:1")
    return SessionFactory().client("cloudformation", target)


@pytest.fixture
def calls(client):
    """The CloudFormation operations the engine asked for, in order (unscripted ones included:
    they are recorded before the Stubber refuses them)."""
    made: list[str] = []
    client.meta.events.register(
        "provide-client-params.cloudformation", lambda model, **_: made.append(model.name)
    )
    return made


@pytest.fixture
def script(client):
    with Stubber(client) as stubber:
        yield Script(stubber)
        stubber.assert_no_pending_responses()


def test_resource_events_are_reported_once_each_in_order(client, script):
    script.missing()
    script.change_set(
        "CREATE",
        [("Add", "Bucket", "AWS::S3::Bucket", None), ("Add", "Queue", "AWS::SQS::Queue", None)],
    )
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(-5, NAME, "REVIEW_IN_PROGRESS", "User Initiated")  # before the deployment
    script.event(1, NAME, "CREATE_IN_PROGRESS", "User Initiated")
    script.event(2, "Bucket", "CREATE_IN_PROGRESS")
    script.poll("CREATE_IN_PROGRESS")  # the first look, at once
    script.event(3, "Queue", "CREATE_IN_PROGRESS", rtype="AWS::SQS::Queue")
    script.event(4, "Bucket", "CREATE_IN_PROGRESS", "Resource creation Initiated")
    script.running()  # 1 s
    script.page()
    script.running()  # 2 s
    script.running()  # 3 s
    script.page()  # nothing new
    script.event(5, "Bucket", "CREATE_COMPLETE")
    script.event(6, "Queue", "CREATE_COMPLETE", rtype="AWS::SQS::Queue")
    script.event(7, NAME, "CREATE_COMPLETE")
    script.listing()  # 4 s: no longer in progress
    script.poll("CREATE_COMPLETE", outputs={"BucketName": "dev-bucket"})

    run = Run(client)
    result = run.deploy()

    assert (result.status, result.changed, result.outputs) == (
        "CREATE_COMPLETE",
        True,
        {"BucketName": "dev-bucket"},
    )
    assert run.resources() == [
        (NAME, "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_IN_PROGRESS"),
        ("Queue", "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_COMPLETE"),
        ("Queue", "CREATE_COMPLETE"),
        (NAME, "CREATE_COMPLETE"),
    ]
    assert run.kinds()[:2] == ["start", "changes"]
    assert run.kinds()[-1] == "done"
    assert run.confirmed == [
        (
            Change("Add", "Bucket", "AWS::S3::Bucket", None),
            Change("Add", "Queue", "AWS::SQS::Queue", None),
        )
    ]
    assert run.sleeps == [1.0] * 4  # the first look at once, then a listing every second


def test_a_failed_create_reports_the_failing_resources(client, script):
    script.missing()
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(1, NAME, "CREATE_IN_PROGRESS", "User Initiated")
    script.event(2, "Bucket", "CREATE_FAILED", "dev-bucket already exists")
    script.event(2, "Queue", "CREATE_FAILED", "Resource creation cancelled", "AWS::SQS::Queue")
    script.event(3, NAME, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create")
    script.poll("ROLLBACK_IN_PROGRESS")
    script.event(4, "Bucket", "DELETE_COMPLETE")
    script.event(5, NAME, "ROLLBACK_COMPLETE")
    script.listing()
    script.poll("ROLLBACK_COMPLETE")

    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deploy()

    error = caught.value
    assert error.exit_code == ExitCode.DEPLOY_FAILED
    assert error.message == f"stack {NAME} ({DESCRIPTION}): ROLLBACK_COMPLETE"
    assert error.details == [
        "Bucket (AWS::S3::Bucket): dev-bucket already exists",
        "Queue (AWS::SQS::Queue): Resource creation cancelled",
    ]
    assert "could not be created" in (error.hint or "")
    assert error.result.status == "ROLLBACK_COMPLETE"
    assert [f.logical_id for f in error.result.failures] == ["Bucket", "Queue"]
    failed = run.reported[-1]
    assert (failed.kind, failed.status) == ("failed", "ROLLBACK_COMPLETE")
    assert failed.failures == error.result.failures


def test_an_update_rollback_is_a_failed_deployment(client, script):
    script.stack("CREATE_COMPLETE", outputs={"BucketName": "dev-bucket"})
    script.change_set("UPDATE", [("Modify", "Bucket", "AWS::S3::Bucket", "True")])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(1, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.event(2, "Bucket", "UPDATE_FAILED", "Access Denied")
    script.event(3, NAME, "UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed")
    script.event(4, NAME, "UPDATE_ROLLBACK_COMPLETE")
    script.poll("UPDATE_ROLLBACK_COMPLETE", outputs={"BucketName": "dev-bucket"})

    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deploy()

    assert caught.value.message == f"stack {NAME} ({DESCRIPTION}): UPDATE_ROLLBACK_COMPLETE"
    assert caught.value.details == ["Bucket (AWS::S3::Bucket): Access Denied"]
    assert "previous version" in (caught.value.hint or "")
    assert caught.value.result.outputs == {"BucketName": "dev-bucket"}
    changes = next(event.changes for event in run.reported if event.kind == "changes")
    assert changes == (Change("Modify", "Bucket", "AWS::S3::Bucket", "True"),)
    assert run.sleeps == []


def test_an_operation_in_progress_is_waited_for_before_deploying(client, script):
    started = T0 - timedelta(seconds=30)
    script.stack("UPDATE_IN_PROGRESS", updated=started)
    script.event(-30, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.poll("UPDATE_IN_PROGRESS", updated=started)
    script.event(-1, "Bucket", "UPDATE_COMPLETE")
    script.event(0, NAME, "UPDATE_COMPLETE")
    script.listing()
    script.poll("UPDATE_COMPLETE", updated=started)
    script.stack("UPDATE_COMPLETE", updated=started, outputs={"BucketName": "b"}, tags=TAGS)
    script.no_changes()

    run = Run(client)
    result = run.deploy()

    assert (result.status, result.changed, result.outputs) == (
        "NO_CHANGES",
        False,
        {"BucketName": "b"},
    )
    assert run.kinds() == ["start", "waiting", "resource", "resource", "resource", "no-changes"]
    assert run.reported[1].status == "UPDATE_IN_PROGRESS"
    assert "waiting" in (run.reported[1].message or "")
    assert run.resources()[-1] == (NAME, "UPDATE_COMPLETE")
    assert run.sleeps == [1.0]


def test_an_interrupted_wait_is_resumed_by_watch(client, script):
    script.stack("UPDATE_COMPLETE")
    script.change_set("UPDATE", [("Modify", "Bucket", "AWS::S3::Bucket", "False")])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(1, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.poll("UPDATE_IN_PROGRESS", updated=T0 + timedelta(seconds=1))

    interrupted = Run(client, sleep=_interrupt)
    with pytest.raises(KeyboardInterrupt):
        interrupted.deploy()
    assert interrupted.resources() == [(NAME, "UPDATE_IN_PROGRESS")]
    assert interrupted.deployer._poll.following == 0  # the interrupted wait left the poll

    script.stack("UPDATE_IN_PROGRESS", updated=T0 + timedelta(seconds=1))
    script.event(2, "Bucket", "UPDATE_IN_PROGRESS")
    script.poll("UPDATE_IN_PROGRESS", updated=T0 + timedelta(seconds=1))
    script.event(3, "Bucket", "UPDATE_COMPLETE")
    script.event(4, NAME, "UPDATE_COMPLETE")
    script.listing()
    script.poll("UPDATE_COMPLETE", updated=T0 + timedelta(seconds=1), outputs={"A": "1"})

    resumed = Run(client)
    result = resumed.deployer.watch(NAME, DESCRIPTION, on_event=resumed.on_event)

    assert (result.status, result.changed, result.outputs) == ("UPDATE_COMPLETE", True, {"A": "1"})
    assert resumed.kinds()[0] == "waiting"
    assert resumed.kinds()[-1] == "done"
    assert resumed.resources() == [
        (NAME, "UPDATE_IN_PROGRESS"),
        ("Bucket", "UPDATE_IN_PROGRESS"),
        ("Bucket", "UPDATE_COMPLETE"),
        (NAME, "UPDATE_COMPLETE"),
    ]


def _refuse(_question):
    return False


def _interrupt(_seconds):
    raise KeyboardInterrupt


def test_watch_reports_a_failed_last_operation(client, script):
    script.stack("ROLLBACK_COMPLETE", reason="The following resource(s) failed to create")
    script.event(1, "Bucket", "CREATE_FAILED", "Bucket name taken")
    script.poll("ROLLBACK_COMPLETE")
    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deployer.watch(NAME, DESCRIPTION, on_event=run.on_event)
    assert caught.value.details == ["Bucket (AWS::S3::Bucket): Bucket name taken"]
    assert caught.value.result.changed is False


def test_watching_a_missing_stack_says_so(client, script):
    script.missing()
    run = Run(client)
    with pytest.raises(NotFoundError, match=f"stack {NAME} \\(environment dev\\) does not exist"):
        run.deployer.watch(NAME, DESCRIPTION, on_event=run.on_event)


def test_a_wait_longer_than_allowed_stops_with_a_hint(client, script):
    script.stack("UPDATE_IN_PROGRESS", updated=T0)
    script.poll("UPDATE_IN_PROGRESS", updated=T0)
    for _ in range(3):  # each second slept is a minute here: 60 s, 120 s, 180 s (> 150)
        script.running()
        script.page()
    run = Run(client, time=FakeTime(scale=60), max_wait=150)
    with pytest.raises(PcliError) as caught:
        run.deployer.watch(NAME, DESCRIPTION, on_event=run.on_event)
    assert (
        caught.value.message
        == f"stack {NAME} ({DESCRIPTION}) is still UPDATE_IN_PROGRESS after 3 minutes"
    )
    assert "run the same command again" in (caught.value.hint or "")


def _failed_first_create(script):
    script.stack("ROLLBACK_COMPLETE", reason="The following resource(s) failed to create")


def test_a_failed_first_create_is_replaced_after_confirmation(client, script):
    _failed_first_create(script)
    script.call("delete_stack", StackName=STACK_ID)
    script.event(1, NAME, "DELETE_IN_PROGRESS", "User Initiated")
    script.poll("DELETE_IN_PROGRESS")
    script.event(2, NAME, "DELETE_COMPLETE")
    script.listing()
    script.poll("DELETE_COMPLETE")
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)], stack_id=NEW_STACK_ID)
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("CREATE_COMPLETE", stack_id=NEW_STACK_ID)

    asked = []
    run = Run(client)
    result = run.deploy(recreate=lambda info: asked.append(info.status) or True)

    assert asked == ["ROLLBACK_COMPLETE"]
    assert result.status == "CREATE_COMPLETE"
    assert run.kinds() == [
        "start",
        "resource",
        "resource",
        "deleted",
        "changes",
        "done",
    ]


def test_a_failed_first_create_is_left_alone_without_confirmation(client, script):
    _failed_first_create(script)
    run = Run(client)
    with pytest.raises(PcliError) as caught:
        run.deploy(recreate=_refuse)
    assert caught.value.message == (
        f"stack {NAME} ({DESCRIPTION}) is in ROLLBACK_COMPLETE: its creation failed and it "
        "cannot be updated"
    )
    assert caught.value.hint == (
        "run the command again and confirm replacing the failed stack, or delete it"
    )
    assert caught.value.exit_code == ExitCode.ERROR


def test_a_stack_waiting_for_review_gets_a_create_change_set(client, script):
    script.stack("REVIEW_IN_PROGRESS")
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("REVIEW_IN_PROGRESS")
    script.waiting_change_sets()
    script.call("delete_stack", StackName=STACK_ID)
    run = Run(client)
    with pytest.raises(PcliError, match="not deployed: declined"):
        run.deploy(confirm=_refuse)


def test_a_stack_that_cannot_be_deployed_says_what_to_do(client, script):
    script.stack("UPDATE_ROLLBACK_FAILED")
    run = Run(client)
    with pytest.raises(PcliError) as caught:
        run.deploy()
    assert caught.value.message == (
        f"stack {NAME} ({DESCRIPTION}) is in UPDATE_ROLLBACK_FAILED and cannot be deployed"
    )
    assert "continue-update-rollback" in (caught.value.hint or "")


def test_a_failed_change_set_changes_nothing_and_says_why(client, script):
    script.missing()
    script.stubber.add_response(
        "create_change_set", {"Id": CHANGE_SET_ID}, {"ChangeSetType": "CREATE", **_any()}
    )
    script.stubber.add_response(
        "describe_change_set",
        {"Status": "FAILED", "StatusReason": "Parameters: [Vpc] must have values"},
        {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True},
    )
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("REVIEW_IN_PROGRESS")  # the empty stack the CREATE change set made
    script.waiting_change_sets()
    script.call("delete_stack", StackName=STACK_ID)
    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deploy()
    assert caught.value.message == f"stack {NAME} ({DESCRIPTION}): the change set failed (FAILED)"
    assert caught.value.details == ["Parameters: [Vpc] must have values"]
    assert caught.value.result.changed is False
    assert run.confirmed == []


def test_a_failed_delete_lists_what_could_not_be_deleted(client, script):
    script.stack("CREATE_COMPLETE")
    script.call("delete_stack", StackName=STACK_ID)
    script.event(1, NAME, "DELETE_IN_PROGRESS", "User Initiated")
    script.event(2, "Bucket", "DELETE_FAILED", "The bucket you tried to delete is not empty")
    script.event(3, NAME, "DELETE_FAILED", "The following resource(s) failed to delete: [Bucket]")
    script.poll("DELETE_FAILED")
    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deployer.delete(NAME, DESCRIPTION, on_event=run.on_event)
    assert caught.value.message == f"stack {NAME} ({DESCRIPTION}): DELETE_FAILED"
    assert caught.value.details == [
        "Bucket (AWS::S3::Bucket): The bucket you tried to delete is not empty"
    ]


def test_cancel_asks_cloudformation_to_cancel_the_update(client, script):
    script.call("cancel_update_stack", StackName=NAME)
    Run(client).deployer.cancel(NAME)


def test_deleting_while_a_deletion_runs_waits_for_it(client, script):
    script.stack("DELETE_IN_PROGRESS", updated=T0 - timedelta(days=7))
    script.event(-3600, "Bucket", "UPDATE_COMPLETE")  # last week's update: not this operation
    script.event(1, "Bucket", "DELETE_IN_PROGRESS")
    script.poll("DELETE_IN_PROGRESS")
    script.event(2, NAME, "DELETE_COMPLETE")
    script.listing()
    script.poll("DELETE_COMPLETE")
    script.missing()
    run = Run(client)
    result = run.deployer.delete(NAME, DESCRIPTION, on_event=run.on_event)
    assert (result.status, result.changed) == ("DELETE_COMPLETE", False)
    assert run.kinds() == ["start", "waiting", "resource", "resource", "deleted"]
    assert run.resources() == [("Bucket", "DELETE_IN_PROGRESS"), (NAME, "DELETE_COMPLETE")]


def test_later_polls_read_only_recent_pages_yet_catch_late_events(client, script):
    script.stack("UPDATE_IN_PROGRESS", updated=T0)
    script.event(1, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.event(100, "Bucket", "UPDATE_IN_PROGRESS")
    script.poll("UPDATE_IN_PROGRESS", updated=T0)
    script.event(90, "Queue", "UPDATE_IN_PROGRESS", rtype="AWS::SQS::Queue")  # shows up late
    script.event(200, NAME, "UPDATE_COMPLETE")
    script.listing()
    script.stack("UPDATE_COMPLETE", updated=T0)
    newest_first = sorted(script.events, key=lambda event: event["Timestamp"], reverse=True)
    # One page that reaches back before the cursor (100 s - 30 s): no second page is asked for.
    script.stubber.add_response(
        "describe_stack_events",
        {"StackEvents": newest_first, "NextToken": "older"},
        {"StackName": STACK_ID},
    )
    run = Run(client)
    result = run.deployer.watch(NAME, DESCRIPTION, on_event=run.on_event)
    assert result.status == "UPDATE_COMPLETE"
    assert run.resources() == [
        (NAME, "UPDATE_IN_PROGRESS"),
        ("Bucket", "UPDATE_IN_PROGRESS"),
        ("Queue", "UPDATE_IN_PROGRESS"),
        (NAME, "UPDATE_COMPLETE"),
    ]


# --- following an operation --------------------------------------------------------------------


def _after_execution(calls):
    return calls[calls.index("ExecuteChangeSet") + 1 :]


def test_a_stack_that_ended_well_at_the_first_look_has_no_events_read(client, script, calls):
    script.missing()
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("CREATE_COMPLETE", outputs={"BucketName": "dev-bucket"})

    run = Run(client)
    result = run.deploy()

    assert (result.status, result.changed, result.outputs) == (
        "CREATE_COMPLETE",
        True,
        {"BucketName": "dev-bucket"},
    )
    assert run.kinds() == ["start", "changes", "done"]
    assert run.resources() == []
    assert _after_execution(calls) == ["DescribeStacks"]
    assert "DescribeStackEvents" not in calls
    assert run.sleeps == []


def test_a_stack_gone_at_the_first_look_of_a_deletion_has_no_events_read(client, script, calls):
    script.stack("CREATE_COMPLETE")
    script.call("delete_stack", StackName=STACK_ID)
    script.missing()

    run = Run(client)
    result = run.deployer.delete(NAME, DESCRIPTION, on_event=run.on_event)

    assert (result.status, result.changed) == ("DELETE_COMPLETE", True)
    assert run.kinds() == ["start", "deleted"]
    assert calls == ["DescribeStacks", "DeleteStack", "DescribeStacks"]
    assert run.sleeps == []


def test_a_stack_still_running_at_the_first_look_has_its_events_read_as_it_runs_and_at_its_end(
    client, script, calls
):
    script.stack("UPDATE_COMPLETE")
    script.change_set("UPDATE", [("Modify", "Bucket", "AWS::S3::Bucket", "False")])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(1, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.poll("UPDATE_IN_PROGRESS", updated=T0)
    script.event(2, "Bucket", "UPDATE_IN_PROGRESS")
    script.running()
    script.page()
    script.event(3, "Bucket", "UPDATE_COMPLETE")  # shows up with the last read only
    script.event(4, NAME, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    script.event(5, NAME, "UPDATE_COMPLETE")
    script.listing()
    script.poll("UPDATE_COMPLETE", updated=T0, outputs={"BucketName": "b"})

    run = Run(client)
    result = run.deploy()

    assert (result.status, result.outputs) == ("UPDATE_COMPLETE", {"BucketName": "b"})
    assert _after_execution(calls) == [
        "DescribeStacks",  # the first look
        "DescribeStackEvents",
        "ListStacks",  # 1 s: still in progress
        "DescribeStackEvents",
        "ListStacks",  # 2 s: no longer
        "DescribeStacks",
        "DescribeStackEvents",
    ]
    assert run.resources() == [
        (NAME, "UPDATE_IN_PROGRESS"),
        ("Bucket", "UPDATE_IN_PROGRESS"),
        ("Bucket", "UPDATE_COMPLETE"),
        (NAME, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
        (NAME, "UPDATE_COMPLETE"),
    ]
    assert run.kinds() == ["start", "changes", *["resource"] * 5, "done"]
    assert run.sleeps == [1.0, 1.0]


def test_a_stack_that_failed_at_the_first_look_has_its_events_read_once(client, script, calls):
    script.missing()
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(1, NAME, "CREATE_IN_PROGRESS", "User Initiated")
    script.event(2, "Bucket", "CREATE_FAILED", "dev-bucket already exists")
    script.event(3, NAME, "ROLLBACK_IN_PROGRESS", "The following resource(s) failed to create")
    script.event(4, "Bucket", "DELETE_COMPLETE")
    script.event(5, NAME, "ROLLBACK_COMPLETE")
    script.poll("ROLLBACK_COMPLETE", reason="The following resource(s) failed to create")

    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deploy()

    assert caught.value.message == f"stack {NAME} ({DESCRIPTION}): ROLLBACK_COMPLETE"
    assert caught.value.details == ["Bucket (AWS::S3::Bucket): dev-bucket already exists"]
    assert [f.logical_id for f in caught.value.result.failures] == ["Bucket"]
    assert _after_execution(calls) == ["DescribeStacks", "DescribeStackEvents"]
    assert run.resources() == [
        (NAME, "CREATE_IN_PROGRESS"),
        ("Bucket", "CREATE_FAILED"),
        (NAME, "ROLLBACK_IN_PROGRESS"),
        ("Bucket", "DELETE_COMPLETE"),
        (NAME, "ROLLBACK_COMPLETE"),
    ]
    assert run.kinds()[-1] == "failed"
    assert run.sleeps == []


# --- other runs on the same stack ---------------------------------------------------------------

OTHER_RUN = "pcli-20261128115700-4f2a9c1e"


def test_an_update_goes_ahead_without_looking_for_change_sets_of_other_runs(client, script, calls):
    """A change set another run keeps in review is no operation to wait for: whichever run
    executes first deploys. No ListChangeSets is scripted, so asking for one would fail."""
    script.stack("UPDATE_COMPLETE")
    script.change_set("UPDATE", [("Modify", "Bucket", "AWS::S3::Bucket", "False")])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("UPDATE_COMPLETE", updated=T0, outputs={"BucketName": "b"})

    run = Run(client)
    result = run.deploy()

    assert (result.status, result.changed) == ("UPDATE_COMPLETE", True)
    assert "ListChangeSets" not in calls
    assert calls == [
        "DescribeStacks",
        "CreateChangeSet",
        "DescribeChangeSet",
        "ExecuteChangeSet",
        "DescribeStacks",
    ]
    assert run.confirmed == [(Change("Modify", "Bucket", "AWS::S3::Bucket", "False"),)]


def test_declining_a_create_leaves_the_empty_stack_another_runs_change_set_waits_on(client, script):
    script.missing()
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("REVIEW_IN_PROGRESS")
    script.waiting_change_sets(OTHER_RUN, other_stack="pcli-acme-env-prod")
    with pytest.raises(PcliError, match="not deployed: declined"):
        Run(client).deploy(confirm=_refuse)


def _update_reviewed(script):
    script.stack("UPDATE_COMPLETE")
    script.change_set("UPDATE", [("Modify", "Bucket", "AWS::S3::Bucket", "False")])


OVERTAKEN = (
    f"stack {NAME} ({DESCRIPTION}): this run's change set pcli-1 no longer exists: another "
    "operation (another pcli run, most likely) deployed or deleted the stack meanwhile; "
    "nothing was changed by this run"
)


def test_a_change_set_that_vanished_before_execution_is_a_clear_error(client, script):
    """Another run executed its change set first: CloudFormation deleted this one."""
    _update_reviewed(script)
    gone = "ChangeSet [pcli-1] does not exist"
    script.stubber.add_client_error("execute_change_set", "ChangeSetNotFound", gone, 404)
    script.stubber.add_client_error("delete_change_set", "ChangeSetNotFound", gone, 404)
    run = Run(client)

    with pytest.raises(StackBusyError) as caught:
        run.deploy()

    assert caught.value.message == OVERTAKEN
    assert caught.value.hint == (
        "look at the stack now (pcli status), then deploy again if it still needs it"
    )
    assert "ChangeSetNotFound" not in caught.value.message


def test_a_change_set_made_obsolete_by_another_run_is_dropped_and_reported(client, script):
    _update_reviewed(script)
    obsolete = "ChangeSet [pcli-1] cannot be executed in its current status of [OBSOLETE]"
    script.stubber.add_client_error("execute_change_set", "InvalidChangeSetStatus", obsolete, 400)
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    run = Run(client)

    with pytest.raises(StackBusyError) as caught:
        run.deploy()

    assert caught.value.message == (
        f"stack {NAME} ({DESCRIPTION}): this run's change set pcli-1 can no longer be executed "
        f"({obsolete}): another operation (another pcli run, most likely) deployed or deleted "
        "the stack meanwhile; nothing was changed by this run"
    )


def test_a_change_set_that_vanished_while_being_made_is_a_clear_error(client, script):
    """Another run declined its CREATE and deleted the empty stack, this run's change set
    with it: nothing of this run is left to clean up."""
    script.stack("REVIEW_IN_PROGRESS")
    script.stubber.add_response(
        "create_change_set", {"Id": CHANGE_SET_ID}, {"ChangeSetType": "CREATE", **_any()}
    )
    script.stubber.add_client_error(
        "describe_change_set", "ChangeSetNotFound", "ChangeSet [pcli-1] does not exist", 404
    )
    with pytest.raises(StackBusyError) as caught:
        Run(client).deploy()
    assert caught.value.message == OVERTAKEN


def test_declining_a_create_leaves_a_stack_another_run_created_meanwhile(client, script):
    script.missing()
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("CREATE_COMPLETE")  # another run executed its own CREATE change set
    with pytest.raises(PcliError, match="not deployed: declined"):
        Run(client).deploy(confirm=_refuse)


def test_a_stack_known_from_the_bulk_read_is_not_read_again(client, script):
    """apply tells the engine what its bulk read saw: no DescribeStacks before the change set."""
    run = Run(client)
    run.deployer._known = lambda _name: None  # absent, moments ago
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("CREATE_COMPLETE")

    assert run.deploy().status == "CREATE_COMPLETE"


def test_an_outdated_bulk_read_falls_back_to_reading_the_stack(client, script):
    """The bulk read said absent; another run created the stack meanwhile: the CREATE change set
    is refused, the engine reads the stack and makes an UPDATE change set instead."""
    run = Run(client)
    run.deployer._known = lambda _name: None
    script.stubber.add_client_error(
        "create_change_set", "AlreadyExistsException", f"Stack [{NAME}] already exists", 400
    )
    script.stack("CREATE_COMPLETE", tags=TAGS)
    script.no_changes()

    assert run.deploy().status == "NO_CHANGES"


# --- noticing the end: the poll of stacks in progress ------------------------------------------


class Timed:
    """When (seconds on the run's clock) the engine made each call after ExecuteChangeSet."""

    def __init__(self, client, run):
        self.made: list[tuple[str, float]] = []
        client.meta.events.register(
            "provide-client-params.cloudformation",
            lambda model, **_: self.made.append((model.name, run.time.elapsed)),
        )

    def __call__(self, operation):
        names = [name for name, _ in self.made]
        after = self.made[names.index("ExecuteChangeSet") + 1 :]
        return [at for name, at in after if name == operation]


def _updating(script):
    """An update executed; the stack runs at the first look."""
    script.stack("UPDATE_COMPLETE")
    script.change_set("UPDATE", [("Modify", "Bucket", "AWS::S3::Bucket", "False")])
    script.call("execute_change_set", ChangeSetName=CHANGE_SET_ID)
    script.event(1, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.poll("UPDATE_IN_PROGRESS", updated=T0)


def test_a_long_deployment_is_noticed_within_one_listing_of_its_end(client, script):
    """In progress at every listing for 33 s, then not: done is reported at 34 s (the old poll,
    every 5 s by then, saw it at 36.2 s), having read the stack twice and its events ten times."""
    _updating(script)
    reads = {1, 3, 7, 12, 17, 22, 27, 32}  # the events: after 1 s, then 2, 4, then every 5 s
    for second in range(1, 34):
        script.running()
        if second in reads:
            script.page()
    script.event(33, NAME, "UPDATE_COMPLETE")
    script.listing()  # 34 s
    script.poll("UPDATE_COMPLETE", updated=T0, outputs={"BucketName": "b"})
    run = Run(client)
    timed = Timed(client, run)

    result = run.deploy()

    assert (result.status, result.outputs) == ("UPDATE_COMPLETE", {"BucketName": "b"})
    assert run.kinds()[-1] == "done"
    assert run.times[-1] == 34.0
    assert timed("ListStacks") == [float(second) for second in range(1, 35)]  # one a second
    assert timed("DescribeStacks") == [0.0, 34.0]
    assert timed("DescribeStackEvents") == [0.0, *sorted(float(s) for s in reads), 34.0]
    assert run.resources() == [(NAME, "UPDATE_IN_PROGRESS"), (NAME, "UPDATE_COMPLETE")]


def test_a_listing_that_lags_behind_sends_the_follower_back_to_waiting(client, script):
    """The first listing after the execution does not name the stack yet: the stack is read,
    still runs, and the wait goes on; the end is noticed at the first listing without it."""
    _updating(script)
    script.listing()  # 1 s: not named (yet)
    script.stack("UPDATE_IN_PROGRESS", updated=T0)  # it does run
    script.page()
    script.running()  # 2 s
    script.running()  # 3 s
    script.page()
    script.event(4, NAME, "UPDATE_COMPLETE")
    script.listing()  # 4 s: ended
    script.poll("UPDATE_COMPLETE", updated=T0)
    run = Run(client)
    timed = Timed(client, run)

    assert run.deploy().status == "UPDATE_COMPLETE"

    assert timed("DescribeStacks") == [0.0, 1.0, 4.0]
    assert run.times[-1] == 4.0
    assert run.resources() == [(NAME, "UPDATE_IN_PROGRESS"), (NAME, "UPDATE_COMPLETE")]


def test_a_listing_that_keeps_missing_a_running_stack_is_heeded_ever_less_often(client, script):
    """A stack the listings never name (a status this botocore does not know, say) is read at
    1, 2, 4, 8 s...: no more often than every 5 s in the end, as the old per-stack poll."""
    _updating(script)
    for second in range(1, 9):
        script.listing()  # never names it
        if second in {1, 2, 4}:  # heeded: read, and still running
            script.stack("UPDATE_IN_PROGRESS", updated=T0)
        if second == 8:  # heeded again: it has ended meanwhile
            script.poll("UPDATE_COMPLETE", updated=T0)
        if second in {1, 3, 7}:  # its events, as usual
            script.page()
    run = Run(client)
    timed = Timed(client, run)

    assert run.deploy().status == "UPDATE_COMPLETE"

    assert timed("DescribeStacks") == [0.0, 1.0, 2.0, 4.0, 8.0]


def test_without_liststacks_each_stack_is_read_on_its_own(client, script, calls):
    """ListStacks denied (IAM cannot limit it to pcli's stacks): the poll is off for the run,
    and the stack is read with its events, as it was before the poll."""
    _updating(script)
    script.stubber.add_client_error(
        "list_stacks",
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "cloudformation:ListStacks",
        403,
    )
    script.poll("UPDATE_IN_PROGRESS", updated=T0)  # 1 s
    script.event(2, NAME, "UPDATE_COMPLETE")
    script.poll("UPDATE_COMPLETE", updated=T0)  # 3 s

    run = Run(client)
    assert run.deploy().status == "UPDATE_COMPLETE"

    assert _after_execution(calls) == [
        "DescribeStacks",
        "DescribeStackEvents",
        "ListStacks",
        "DescribeStacks",
        "DescribeStackEvents",
        "DescribeStacks",
        "DescribeStackEvents",
    ]
    assert run.sleeps == [1.0, 2.0]
    assert "ListStacks failed" in (run.deployer._poll.unavailable or "")
    assert run.resources() == [(NAME, "UPDATE_IN_PROGRESS"), (NAME, "UPDATE_COMPLETE")]


def test_a_retag_that_fails_reads_the_events_once_and_names_the_failing_resources(
    client, script, calls
):
    """Re-tagging shows no progress (its events are not read while it runs), yet a failure's
    events are read at the end: they say what failed."""
    script.stack("UPDATE_COMPLETE", tags={"pcli:workspace": "old"})
    script.no_changes()
    script.call(
        "update_stack", StackName=NAME, UsePreviousTemplate=True, Capabilities=ANY, Tags=ANY
    )
    script.stack("UPDATE_IN_PROGRESS", updated=T0)
    script.event(1, NAME, "UPDATE_IN_PROGRESS", "User Initiated")
    script.event(2, "Bucket", "UPDATE_FAILED", "Tag policy denies pcli:workspace")
    script.event(3, NAME, "UPDATE_ROLLBACK_COMPLETE")
    script.listing()
    script.poll("UPDATE_ROLLBACK_COMPLETE", updated=T0)

    run = Run(client)
    with pytest.raises(DeployError) as caught:
        run.deploy()

    assert caught.value.details == ["Bucket (AWS::S3::Bucket): Tag policy denies pcli:workspace"]
    assert calls[calls.index("UpdateStack") + 1 :] == [
        "DescribeStacks",
        "ListStacks",
        "DescribeStacks",
        "DescribeStackEvents",
    ]
    assert run.kinds()[-1] == "failed"


# --- what a change set shows ------------------------------------------------------------------

# A DescribeChangeSet answer as AWS gives it with IncludePropertyValues: the property changes
# of each resource, with their values before and after (Static) or without (Dynamic).
QUEUE_CHANGE = {
    "Type": "Resource",
    "ResourceChange": {
        "Action": "Modify",
        "LogicalResourceId": "Queue",
        "PhysicalResourceId": "https://sqs.us-east-1.amazonaws.com/123456789012/acme-queue",
        "ResourceType": "AWS::SQS::Queue",
        "Replacement": "False",
        "Scope": ["Properties"],
        "Details": [
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": "VisibilityTimeout",
                    "RequiresRecreation": "Never",
                    "Path": "/Properties/VisibilityTimeout",
                    "BeforeValue": "30",
                    "AfterValue": "60",
                    "AttributeChangeType": "Modify",
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
        ],
        "BeforeContext": '{"Properties":{"VisibilityTimeout":"30"}}',
        "AfterContext": '{"Properties":{"VisibilityTimeout":"60"}}',
    },
}


class Explainer:
    """A `DeployHooks.explain` that says what it was asked and answers with a fixed change."""

    def __init__(self, inputs):
        self.asked: list = []
        self.inputs = inputs

    def __call__(self, info, changes):
        self.asked.append((info, changes))
        shown = tuple(
            replace(c, details=tuple(replace(d, before="****") for d in c.details)) for c in changes
        )
        return shown, self.inputs


def test_an_update_change_set_is_explained_before_it_is_shown_and_confirmed(client, script):
    """The engine reports the change set as the explainer says it (values masked, inputs
    changed), gives it the stack as it stands (its tags name the deployment it runs), and
    asks about what is shown."""
    script.stack("UPDATE_COMPLETE", tags={"pcli:deployment-id": "3f2a9c1e"})
    script.stubber.add_response(
        "create_change_set", {"Id": CHANGE_SET_ID}, {"ChangeSetType": "UPDATE", **_any()}
    )
    script.stubber.add_response(
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [QUEUE_CHANGE], "ExecutionStatus": "AVAILABLE"},
        {"ChangeSetName": CHANGE_SET_ID, "IncludePropertyValues": True},
    )
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    inputs = InputChanges(known=True, changed=(InputChange("timeout", 30, 60),))
    explainer = Explainer(inputs)
    run = Run(client)

    def decline(changes):
        run.confirmed.append(changes)
        return False

    with pytest.raises(PcliError, match="not deployed: declined"):
        run.deploy(confirm=decline, explain=explainer)

    ((info, described),) = explainer.asked
    assert info.tags == {"pcli:deployment-id": "3f2a9c1e"}
    assert described[0].details == (
        PropertyChange(
            path="/Properties/VisibilityTimeout",
            attribute="Properties",
            name="VisibilityTimeout",
            change_type="Modify",
            before="30",
            after="60",
            requires_recreation="Never",
            source="DirectModification",
            evaluation="Static",
        ),
    )
    (reported,) = [event for event in run.reported if event.kind == "changes"]
    assert reported.inputs == inputs
    assert reported.changes[0].details[0].before == "****"
    assert run.confirmed == [reported.changes]


def test_a_creation_is_explained_without_a_stack_to_compare_with(client, script):
    script.missing()
    script.change_set("CREATE", [("Add", "Bucket", "AWS::S3::Bucket", None)])
    script.call("delete_change_set", ChangeSetName=CHANGE_SET_ID)
    script.stack("REVIEW_IN_PROGRESS")
    script.waiting_change_sets(OTHER_RUN)
    explainer = Explainer(None)

    with pytest.raises(PcliError, match="not deployed: declined"):
        Run(client).deploy(confirm=_refuse, explain=explainer)

    assert [info for info, _ in explainer.asked] == [None]
