"""The deploy engine against a real moto server over HTTP: create, update, no changes, delete."""

from __future__ import annotations

import hashlib
from types import SimpleNamespace

import pytest

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.s3 import ArtifactStore
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.deploy.engine import TEMPLATE_BODY_LIMIT, Deployer
from protoncli.deploy.model import Change, DeployHooks, StackRequest
from protoncli.errors import DeployError, ExitCode, PcliError

NAME = "pcli-acme-env-dev"
TAGS = {"pcli:workspace": "acme", "pcli:kind": "environment", "pcli:environment": "dev"}
TOPIC = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
TOPIC_AND_QUEUE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: dev-jobs
Outputs:
  TopicArn:
    Value: !Ref Topic
  QueueName:
    Value: !GetAtt Queue.QueueName
"""


@pytest.fixture
def aws(moto_url):
    factory = SessionFactory(max_attempts=2)
    target = AwsTarget(region="us-east-1", endpoint_url=moto_url)
    client = factory.client("cloudformation", target)
    s3 = factory.client("s3", target)
    artifacts = ArtifactStore(s3, account_id=factory.account_id(target), region="us-east-1")
    sleeps: list[float] = []
    deployer = Deployer(CloudFormationGateway(client), artifacts, sleep=sleeps.append)
    calls: list[str] = []
    client.meta.events.register(
        "provide-client-params.cloudformation", lambda model, **_: calls.append(model.name)
    )
    return SimpleNamespace(
        deployer=deployer, client=client, s3=s3, sleeps=sleeps, log=[], calls=calls
    )


def _request(body, tags=TAGS):
    return StackRequest(NAME, body, tags, "environment dev")


def _deploy(aws, body, *, answer=True):
    def confirm(changes):
        aws.log.append(("confirm", changes))
        return answer

    def on_event(event):
        aws.log.append((event.kind, event))

    return aws.deployer.deploy(_request(body), DeployHooks(on_event, confirm))


def _ignore(_event):
    pass


def _yes(_changes):
    return True


def _kinds(aws):
    return [kind for kind, _ in aws.log]


def _stack(aws):
    return aws.client.describe_stacks(StackName=NAME)["Stacks"][0]


def test_create_shows_changes_before_confirming_then_follows_to_done(aws):
    result = _deploy(aws, TOPIC)

    assert result.status == "CREATE_COMPLETE"
    assert result.changed
    assert result.ok
    assert result.outputs["TopicArn"].startswith("arn:aws:sns:us-east-1:123456789012:")
    # moto is done at once: the first poll (immediate) finds the stack created, with no
    # progress to show, so its events are not read
    assert _kinds(aws) == ["start", "changes", "confirm", "done"]
    changes = aws.log[1][1].changes
    assert changes == (Change("Add", "Topic", "AWS::SNS::Topic", None),)
    assert aws.log[2][1] == changes
    assert aws.log[-1][1].status == "CREATE_COMPLETE"
    assert aws.sleeps == []
    assert "DescribeStackEvents" not in aws.calls
    assert "ListStacks" not in aws.calls  # nothing left to follow: the poll is never asked
    assert aws.calls[aws.calls.index("ExecuteChangeSet") + 1 :] == ["DescribeStacks"]
    stack = _stack(aws)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == result.outputs


def test_the_stack_carries_the_tags(aws):
    _deploy(aws, TOPIC)
    stack = _stack(aws)
    assert {tag["Key"]: tag["Value"] for tag in stack["Tags"]} == TAGS


def test_update_adds_a_resource_and_new_outputs(aws):
    _deploy(aws, TOPIC)
    aws.log.clear()
    result = _deploy(aws, TOPIC_AND_QUEUE)
    assert result.status == "UPDATE_COMPLETE"
    assert result.outputs["QueueName"] == "dev-jobs"
    assert Change("Add", "Queue", "AWS::SQS::Queue", None) in aws.log[1][1].changes
    assert _kinds(aws) == ["start", "changes", "confirm", "done"]
    assert aws.log[-1][1].status == "UPDATE_COMPLETE"
    assert _stack(aws)["StackStatus"] == "UPDATE_COMPLETE"
    assert aws.client.get_template(StackName=NAME)["TemplateBody"] == TOPIC_AND_QUEUE


def test_no_changes_is_success_with_the_current_outputs(aws):
    created = _deploy(aws, TOPIC)
    aws.log.clear()
    result = _deploy(aws, TOPIC)
    assert result.status == "NO_CHANGES"
    assert not result.changed
    assert result.ok
    assert result.outputs == created.outputs
    assert _kinds(aws) == ["start", "no-changes"]
    assert _unexecuted_change_sets(aws) == []


def _unexecuted_change_sets(aws):
    summaries = aws.client.list_change_sets(StackName=NAME)["Summaries"]
    return [item for item in summaries if item["ExecutionStatus"] != "EXECUTE_COMPLETE"]


def test_declining_a_first_create_leaves_nothing_behind(aws):
    with pytest.raises(PcliError) as caught:
        _deploy(aws, TOPIC, answer=False)
    assert caught.value.message == f"stack {NAME} (environment dev) not deployed: declined"
    assert caught.value.exit_code == ExitCode.ERROR
    assert not isinstance(caught.value, DeployError)
    assert aws.client.describe_stacks()["Stacks"] == []
    assert _kinds(aws) == ["start", "changes", "confirm"]


def test_ctrl_c_at_the_confirmation_leaves_nothing_behind(aws):
    def interrupted(_changes):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        aws.deployer.deploy(_request(TOPIC), DeployHooks(_ignore, interrupted))
    assert aws.client.describe_stacks()["Stacks"] == []


def test_declining_an_update_keeps_the_stack_as_it_was(aws):
    _deploy(aws, TOPIC)
    with pytest.raises(PcliError, match="not deployed: declined"):
        _deploy(aws, TOPIC_AND_QUEUE, answer=False)
    assert _stack(aws)["StackStatus"] == "CREATE_COMPLETE"
    assert aws.client.get_template(StackName=NAME)["TemplateBody"] == TOPIC
    assert _unexecuted_change_sets(aws) == []


def test_delete_waits_until_the_stack_is_gone(aws):
    _deploy(aws, TOPIC)
    aws.log.clear()
    result = aws.deployer.delete(
        NAME, "environment dev", on_event=lambda e: aws.log.append((e.kind, e))
    )
    assert (result.status, result.changed) == ("DELETE_COMPLETE", True)
    assert _kinds(aws) == ["start", "deleted"]
    assert aws.calls[-2:] == ["DeleteStack", "DescribeStacks"]  # gone at the first look
    assert aws.client.describe_stacks()["Stacks"] == []


def test_deleting_a_missing_stack_changes_nothing(aws):
    result = aws.deployer.delete(NAME, "environment dev", on_event=_ignore)
    assert (result.status, result.changed, result.ok) == ("DELETE_COMPLETE", False, True)


def _big_template():
    padding = "x" * 200
    topics = "".join(
        f"  Topic{n}:\n    Type: AWS::SNS::Topic\n    Metadata:\n      Note: {padding}\n"
        for n in range(240)
    )
    return f"Resources:\n{topics}"


def test_a_large_template_goes_through_the_artifact_bucket(aws):
    body = _big_template()
    assert len(body.encode()) > TEMPLATE_BODY_LIMIT
    sent = []
    aws.client.meta.events.register(
        "provide-client-params.cloudformation.CreateChangeSet",
        lambda params, **_: sent.append(dict(params)),
    )
    result = _deploy(aws, body)
    assert result.status == "CREATE_COMPLETE"
    bucket = "pcli-artifacts-123456789012-us-east-1"
    key = f"templates/{NAME}/{hashlib.sha256(body.encode()).hexdigest()}.yaml"
    assert sent[0]["TemplateURL"] == f"https://{bucket}.s3.us-east-1.amazonaws.com/{key}"
    assert "TemplateBody" not in sent[0]
    assert aws.s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode() == body
    rules = aws.s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert rules["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = aws.s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    assert aws.client.get_template(StackName=NAME)["TemplateBody"] == body


def test_a_large_template_without_an_artifact_bucket_is_refused(aws):
    deployer = Deployer(CloudFormationGateway(aws.client), None)
    with pytest.raises(PcliError) as caught:
        deployer.deploy(_request(_big_template()), DeployHooks(_ignore, _yes))
    assert f"over CloudFormation's {TEMPLATE_BODY_LIMIT}-byte limit" in caught.value.message
    assert aws.client.describe_stacks()["Stacks"] == []


def test_a_confirmation_that_fails_leaves_no_change_set_or_empty_stack(aws):
    def broken(_changes):
        raise RuntimeError("the prompt broke")

    with pytest.raises(RuntimeError, match="the prompt broke"):
        aws.deployer.deploy(_request(TOPIC), DeployHooks(_ignore, broken))
    assert aws.client.describe_stacks()["Stacks"] == []
