"""`pcli svc deploy`'s AWS calls, counted on the wire, against a real moto server.

Per stack at most the AWS CLI's 5 (CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, the
DescribeStacks that follows the stack to its end, the deployment record's PutObject), plus a
constant per run: one bulk DescribeStacks of each region where that saves reading the stacks
one by one (the stacks deployed, before their change sets; the environments' outputs). A bulk
read that is refused, or outdated by the time a stack is deployed, changes no outcome.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from protoncli.aws.session import SessionFactory

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TINY_ENV = {
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TinyEnvironmentInput"
  types:
    TinyEnvironmentInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
""",
    "infrastructure/manifest.yaml": MANIFEST,
    "infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
""",
}
INSTANCE_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
Outputs:
  QueueUrl:
    Value: !Ref Queue
  EnvironmentTopic:
    Value: "{{ environment.outputs.TopicArn }}"
"""
SVC_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "TinyServiceInput"
  types:
    TinyServiceInput:
      type: object
      properties:
        retention:
          type: integer
          default: 60
"""
PIPED_SCHEMA = SVC_SCHEMA.replace(
    "  types:\n",
    '  pipeline_input_type: "TinyPipelineInput"\n  types:\n'
    "    TinyPipelineInput:\n      type: object\n      properties: {}\n",
)
TINY_SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
    "schema/schema.yaml": SVC_SCHEMA,
    "instance_infrastructure/manifest.yaml": MANIFEST,
    "instance_infrastructure/cloudformation.yaml": INSTANCE_TEMPLATE,
}
# The same with a pipeline that renders every instance's outputs.
PIPED_SVC = TINY_SVC | {
    "schema/schema.yaml": PIPED_SCHEMA,
    "pipeline_infrastructure/manifest.yaml": MANIFEST,
    "pipeline_infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: "{% for i in service_instances %}{{ i.outputs.QueueUrl }} {% endfor %}"
""",
}
BY_NAME = "cloudformation:DescribeStacks"
BULK = "cloudformation:DescribeStacks(all)"
PER_STACK = ("CreateChangeSet", "DescribeChangeSet", "ExecuteChangeSet")


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def calls(monkeypatch) -> Counter[str]:
    """Every AWS call any pcli client makes, as "service:Action"; DescribeStacks without a
    stack name (a page of the whole region) as "cloudformation:DescribeStacks(all)"."""
    counted: Counter[str] = Counter()
    client = SessionFactory.client

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        name = f"{model.service_model.endpoint_prefix}:{model.name}"
        if name == BY_NAME and "StackName" not in params:
            name = BULK
        counted[name] += 1

    def client_with_counter(factory, service, target):
        made = client(factory, service, target)
        if not getattr(made, "_test_counted", False):
            made.meta.events.register("before-parameter-build", count)
            made._test_counted = True
        return made

    monkeypatch.setattr(SessionFactory, "client", client_with_counter)
    return counted


@pytest.fixture
def two_regions(cli, tmp_path, write_files):
    """Environments one (us-east-1) and two (eu-west-1), deployed; service web with instances
    a1..a3 in one and b1..b3 in two, written but not deployed."""
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "one", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "two", "-b", "tiny-env", "--region", "eu-west-1", "--yes"))
    pairs = [f"{i}={env}" for env, names in (("one", "a"), ("two", "b")) for i in _three(names)]
    instances = [arg for pair in pairs for arg in ("-i", pair)]
    ok(cli("svc", "create", "web", "-b", "tiny-svc", *instances, "--no-deploy"))
    return cli


def _three(prefix: str) -> list[str]:
    return [f"{prefix}{k}" for k in (1, 2, 3)]


def per_stack(calls: Counter[str]) -> dict[str, int]:
    return {action: calls[f"cloudformation:{action}"] for action in PER_STACK}


def test_a_first_deploy_makes_five_calls_per_stack_and_one_bulk_read_per_region(two_regions, calls):
    calls.clear()
    ok(two_regions("svc", "deploy", "web", "--yes"))

    assert per_stack(calls) == dict.fromkeys(PER_STACK, 6)
    assert calls["s3:PutObject"] == 6  # the deployment records
    # Each stack is read once, as it is followed to its end; nothing is read before its change
    # set or for its environment's outputs: one bulk read of each region said it all.
    assert calls[BY_NAME] == 6
    assert calls[BULK] == 2
    assert sum(calls.values()) - 5 * 6 <= 4, calls


def test_a_redeploy_without_changes_reads_no_stack_one_by_one(two_regions, calls):
    ok(two_regions("svc", "deploy", "web", "--yes"))
    calls.clear()

    result = ok(two_regions("svc", "deploy", "web", "--yes"))

    assert "No changes: service instance web/a1 is up to date." in result.output
    assert calls[BY_NAME] == 0
    assert calls[BULK] == 2
    assert calls["cloudformation:CreateChangeSet"] == 6
    assert calls["cloudformation:ExecuteChangeSet"] == 0


def test_deploying_one_environment_reads_its_region_only(two_regions, calls):
    calls.clear()
    ok(two_regions("svc", "deploy", "web", "--env", "one", "--yes"))

    assert per_stack(calls) == dict.fromkeys(PER_STACK, 3)
    # us-east-1 in bulk (three instances, environment one); in eu-west-1, environment two's
    # outputs (the instances there are rendered too) by name.
    assert calls[BULK] == 1
    assert calls[BY_NAME] == 3 + 1


def test_one_instance_is_read_on_its_own_rather_than_its_whole_region(two_regions, calls):
    """Two stacks to read in us-east-1 (the instance and its environment), one in eu-west-1
    (environment two, the instances there are rendered too): each read by name, which costs
    no more than a bulk read, whatever the regions hold."""
    calls.clear()
    ok(two_regions("svc", "deploy", "web", "-i", "a1", "--yes"))

    assert per_stack(calls) == dict.fromkeys(PER_STACK, 1)
    assert calls[BULK] == 0
    assert calls[BY_NAME] == 2 + 2  # a1 before and after its change set; each environment


def test_a_refused_bulk_read_leaves_each_stack_read_on_its_own(two_regions, calls, monkeypatch):
    """An IAM policy may allow DescribeStacks on pcli's stacks only: the bulk read is refused
    (AccessDenied, as botocore's before-call hook answers it) and the deploy goes on as before
    it, reading each stack by name."""
    from botocore.awsrequest import AWSResponse

    def mark(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["test_bulk"] = "StackName" not in params

    def refuse(context: dict[str, Any], **_: Any) -> Any:
        if not context.get("test_bulk"):
            return None
        error = {"Code": "AccessDenied", "Message": "not on every stack"}
        response = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://cloudformation", 403, {}, None), response

    client = SessionFactory.client

    def hooked(factory, service, target):
        made = client(factory, service, target)
        if service == "cloudformation" and not getattr(made, "_test_refusing", False):
            made.meta.events.register("before-parameter-build.cloudformation.DescribeStacks", mark)
            made.meta.events.register("before-call.cloudformation.DescribeStacks", refuse)
            made._test_refusing = True
        return made

    monkeypatch.setattr(SessionFactory, "client", hooked)
    calls.clear()

    result = ok(two_regions("svc", "deploy", "web", "--yes"))

    assert "Deployed" in result.output
    assert per_stack(calls) == dict.fromkeys(PER_STACK, 6)
    assert calls[BY_NAME] == 6 + 6 + 2  # before and after each change set; each environment


def test_a_stack_deleted_after_the_bulk_read_is_created_again(two_regions, monkeypatch):
    """The bulk read says a1 runs; it is deleted before its deploy: its UPDATE change set is
    refused, and the engine reads the stack anew and creates it."""
    import boto3

    from protoncli.deploy import services

    ok(two_regions("svc", "deploy", "web", "--yes"))
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    (before,) = cloudformation.describe_stacks(StackName="pcli-demo-svc-web-a1")["Stacks"]
    original = services._read_ahead

    def read_then_delete(*args: Any) -> None:
        original(*args)
        cloudformation.delete_stack(StackName="pcli-demo-svc-web-a1")  # moto: gone at once

    monkeypatch.setattr(services, "_read_ahead", read_then_delete)

    ok(two_regions("svc", "deploy", "web", "-i", "a1", "-i", "a2", "-i", "a3", "--yes"))

    (stack,) = cloudformation.describe_stacks(StackName="pcli-demo-svc-web-a1")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["StackId"] != before["StackId"]  # a new stack


def test_a_pipeline_renders_with_the_outputs_of_instances_not_deployed_now(
    cli, tmp_path, write_files, calls
):
    """`svc deploy api -i a1` with the pipeline stack gone: a1 has no changes (its outputs are
    the bulk read's), a2 is not deployed (its outputs are the bulk read's), the pipeline is
    created anew with both."""
    import boto3

    for name, files in (("tiny-env", TINY_ENV), ("piped-svc", PIPED_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "one", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "api", "-b", "piped-svc", "-i", "a1=one", "-i", "a2=one", "--yes"))
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.delete_stack(StackName="pcli-demo-pipeline-api")
    calls.clear()

    ok(cli("svc", "deploy", "api", "-i", "a1", "--yes"))

    template = cloudformation.get_template(StackName="pcli-demo-pipeline-api")["TemplateBody"]
    queues = [
        output["OutputValue"]
        for name in ("a1", "a2")
        for stack in cloudformation.describe_stacks(StackName=f"pcli-demo-svc-api-{name}")["Stacks"]
        for output in stack["Outputs"]
        if output["OutputKey"] == "QueueUrl"
    ]
    assert len(queues) == 2
    assert all(queue in str(template) for queue in queues)
    assert calls[BULK] == 1
    assert calls[BY_NAME] == 1  # the pipeline, followed to its end; nothing else one by one
