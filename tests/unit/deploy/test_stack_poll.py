"""The shared poll of stacks in progress against a real moto server: one ListStacks a tick for
every stack in flight, and an interruption that ends every wait.

moto leaves a stack in CREATE_IN_PROGRESS for good when its creation fails (a bucket whose name
is taken): those are the stacks in flight here. Deleting one ends it (DELETE_COMPLETE).
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import suppress

import boto3
import pytest
from botocore.exceptions import ClientError

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.blueprints.registry import Registry
from protoncli.deploy.engine import Deployer
from protoncli.deploy.polling import StackPoll
from protoncli.deploy.project import AwsSettings, Project, Stopped
from protoncli.workspace.model import init_workspace

REGION = "us-east-1"
STUCK = json.dumps(
    {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "taken"}}}}
)
TOPIC = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
SAFETY = 30.0  # seconds a test waits for a thread before it fails (never reached when it works)


@pytest.fixture
def boto(moto_url):
    return boto3.client("cloudformation", endpoint_url=moto_url, region_name=REGION)


@pytest.fixture
def stuck(moto_url, boto):
    """Make stacks that stay in CREATE_IN_PROGRESS; their ids."""
    boto3.client("s3", endpoint_url=moto_url, region_name=REGION).create_bucket(Bucket="taken")

    def make(*names):
        for name in names:
            with suppress(ClientError):  # moto answers with an error and keeps the stack
                boto.create_stack(StackName=name, TemplateBody=STUCK)
        return [boto.describe_stacks(StackName=name)["Stacks"][0]["StackId"] for name in names]

    return make


@pytest.fixture
def client(moto_url):
    return SessionFactory().client(
        "cloudformation", AwsTarget(region=REGION, endpoint_url=moto_url)
    )


def test_the_stacks_in_progress_are_listed_by_id_and_name(stuck, boto, client):
    (stuck_id,) = stuck("pcli-acme-env-stuck")
    boto.create_stack(StackName="pcli-acme-env-done", TemplateBody=TOPIC)
    assert CloudFormationGateway(client).stacks_in_progress() == {
        stuck_id,
        "pcli-acme-env-stuck",
    }


class VirtualTime:
    """A clock for threads that moves only when each of them sleeps: then to the earliest
    wake-up among them. What the threads do between sleeps takes no time on it."""

    def __init__(self, threads):
        self.now = 0.0
        self._active = threads
        self._asleep: list[float] = []
        self._changed = threading.Condition()

    def clock(self):
        with self._changed:
            return self.now

    def sleep(self, seconds):
        with self._changed:
            wake = self.now + seconds
            self._asleep.append(wake)
            self._move()
            woke = self._changed.wait_for(lambda: self.now >= wake, timeout=SAFETY)
            self._asleep.remove(wake)
        assert woke, "virtual time stopped"

    def leave(self):
        """A thread that sleeps no more."""
        with self._changed:
            self._active -= 1
            self._move()

    def _move(self):
        if self._asleep and len(self._asleep) == self._active:
            self.now = max(self.now, min(self._asleep))
            self._changed.notify_all()


def test_stacks_in_flight_share_one_liststacks_a_tick(moto_url, stuck, boto, client):
    names = [f"pcli-acme-svc-web-{n}" for n in range(4)]
    ids = stuck(*names)
    clock = VirtualTime(len(names))
    poll = StackPoll(CloudFormationGateway(client), sleep=clock.sleep, clock=clock.clock)
    listed_at: list[float] = []
    read: list[str] = []

    def listing(**_):
        listed_at.append(clock.now)
        if len(listed_at) == 3:  # the stacks end between the second listing and the third
            for stack_id in ids:
                boto.delete_stack(StackName=stack_id)

    client.meta.events.register("before-call.cloudformation.ListStacks", listing)
    client.meta.events.register(
        "provide-client-params.cloudformation.DescribeStacks",
        lambda params, **_: read.append(params["StackName"]),
    )
    results: dict[str, object] = {}

    def watch(name):
        deployer = Deployer(CloudFormationGateway(client), None, poll=poll)
        try:
            results[name] = deployer.watch(name, name, on_event=lambda _event: None)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            results[name] = error
        finally:
            clock.leave()

    threads = [threading.Thread(target=watch, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(SAFETY)

    assert {
        name: getattr(result, "status", result) for name, result in results.items()
    } == dict.fromkeys(names, "DELETE_COMPLETE")
    assert listed_at == [1.0, 2.0, 3.0]  # one listing a second for the four stacks
    assert poll.listings == 3
    for name, stack_id in zip(names, ids, strict=True):
        # by name when watching begins; by id at the first look, and once more at the end
        assert (read.count(name), read.count(stack_id)) == (1, 2)
    assert poll.following == 0


@pytest.fixture
def project(tmp_path, moto_url):
    workspace = init_workspace(tmp_path / "ws", name="acme", region=REGION, registry=None)
    return Project(
        workspace,
        Registry(tmp_path / "reg"),
        SessionFactory(),
        settings=AwsSettings(endpoint_url=moto_url),
    )


def test_an_interruption_ends_every_wait_at_once(project, stuck):
    names = [f"pcli-acme-env-{n}" for n in ("one", "two", "three")]
    stuck(*names)
    poll = project.stack_poll(REGION)
    assert project.watcher(REGION)._poll is poll
    assert project.deployer(REGION)._poll is poll
    ended: dict[str, BaseException | None] = {}

    def watch(name):
        try:
            project.watcher(REGION).watch(name, name, on_event=lambda _event: None)
            ended[name] = None
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            ended[name] = error

    threads = [threading.Thread(target=watch, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + SAFETY
    while poll.following < len(names):  # every stack past its first look: waiting
        assert time.monotonic() < deadline, "the watches never began to wait"
        time.sleep(0.01)

    project.stop.set()  # what Ctrl-C or SIGTERM does
    for thread in threads:
        thread.join(SAFETY)  # the stacks never end: only the interruption ends these waits

    assert {name: type(error) for name, error in ended.items()} == dict.fromkeys(names, Stopped)
    assert poll.following == 0
