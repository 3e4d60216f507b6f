"""pcli's corrections to moto, checked through a real moto server over HTTP."""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
TWO_TOPICS = TEMPLATE.replace("Outputs:", "  Other:\n    Type: AWS::SNS::Topic\nOutputs:")


def _client(url, **kwargs):
    # a session of its own: clients are made in several threads, and boto3's default session
    # is not safe for that
    return boto3.session.Session().client(
        "cloudformation",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
        **kwargs,
    )


def _run(cf, change_set_type, body, tags):
    cs = cf.create_change_set(
        StackName="s",
        ChangeSetName=f"cs-{len(tags)}-{change_set_type}",
        ChangeSetType=change_set_type,
        TemplateBody=body,
        Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )
    cf.execute_change_set(ChangeSetName=cs["Id"])
    return cf.describe_stacks(StackName="s")["Stacks"][0]


def test_outputs_and_tags_follow_each_executed_change_set(moto_url):
    cf = _client(moto_url)
    created = _run(cf, "CREATE", TEMPLATE, {"pcli:version": "1.0"})
    assert [o["OutputKey"] for o in created["Outputs"]] == ["TopicArn"]

    updated = _run(cf, "UPDATE", TWO_TOPICS, {"pcli:version": "1.1", "pcli:kind": "environment"})
    assert {t["Key"]: t["Value"] for t in updated["Tags"]} == {
        "pcli:version": "1.1",
        "pcli:kind": "environment",
    }


def test_a_create_change_set_reuses_a_stack_left_in_review(moto_url):
    cf = _client(moto_url)
    cf.create_change_set(
        StackName="s", ChangeSetName="abandoned", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    stack = _run(cf, "CREATE", TEMPLATE, {})
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    names = [s["StackName"] for s in cf.describe_stacks()["Stacks"]]
    assert names == ["s"]


def test_a_create_change_set_for_a_running_stack_is_refused(moto_url):
    """moto would make a second stack of the name; CloudFormation refuses, and pcli relies on
    the refusal when a stack appears after it read the region."""
    cf = _client(moto_url)
    _run(cf, "CREATE", TEMPLATE, {})

    with pytest.raises(cf.exceptions.ClientError) as raised:
        cf.create_change_set(
            StackName="s", ChangeSetName="again", ChangeSetType="CREATE", TemplateBody=TEMPLATE
        )

    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == (
        "Stack [s] already exists and cannot be created again with the changeSet [again]."
    )
    assert [s["StackName"] for s in cf.describe_stacks()["Stacks"]] == ["s"]


def _created(cf, stack):
    created = cf.create_change_set(
        StackName=stack, ChangeSetName="create", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    cf.execute_change_set(ChangeSetName=created["Id"])
    return created


def _pending(cf, stack, name):
    return cf.create_change_set(
        StackName=stack, ChangeSetName=name, ChangeSetType="UPDATE", TemplateBody=TWO_TOPICS
    )


def _listed(cf, stack):
    summaries = cf.list_change_sets(StackName=stack)["Summaries"]
    return sorted((s["ChangeSetName"], s["ExecutionStatus"]) for s in summaries)


def test_executing_a_change_set_drops_the_stacks_other_change_sets(moto_url):
    """As CloudFormation does: they no longer fit the stack. Other stacks keep theirs."""
    cf = _client(moto_url)
    for stack in ("s", "t"):
        _created(cf, stack)
    first = _pending(cf, "s", "first")
    _pending(cf, "s", "second")
    _pending(cf, "t", "other-stack")
    assert _listed(cf, "s") == [
        ("create", "EXECUTE_COMPLETE"),
        ("first", "AVAILABLE"),
        ("second", "AVAILABLE"),
    ]

    cf.execute_change_set(ChangeSetName=first["Id"])

    assert _listed(cf, "s") == [("first", "EXECUTE_COMPLETE")]
    assert _listed(cf, "t") == [("create", "EXECUTE_COMPLETE"), ("other-stack", "AVAILABLE")]
    assert cf.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def test_executing_a_change_set_that_is_gone_answers_change_set_not_found(moto_url):
    """moto alone answers an internal error (500)."""
    cf = _client(moto_url, config=Config(retries={"total_max_attempts": 1}))
    _created(cf, "s")
    first, second = _pending(cf, "s", "first"), _pending(cf, "s", "second")
    cf.execute_change_set(ChangeSetName=first["Id"])

    for gone in ({"ChangeSetName": second["Id"]}, {"ChangeSetName": "second", "StackName": "s"}):
        with pytest.raises(ClientError) as caught:
            cf.execute_change_set(**gone)
        assert caught.value.response["Error"]["Code"] == "ChangeSetNotFound"
        assert "does not exist" in caught.value.response["Error"]["Message"]

    assert cf.describe_stacks(StackName="s")["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"
    assert _listed(cf, "s") == [("first", "EXECUTE_COMPLETE")]


def test_executing_a_change_set_of_a_deleted_stack_answers_change_set_not_found(moto_url):
    cf = _client(moto_url, config=Config(retries={"total_max_attempts": 1}))
    _created(cf, "s")
    pending = _pending(cf, "s", "pending")
    cf.delete_stack(StackName="s")

    with pytest.raises(ClientError) as caught:
        cf.execute_change_set(ChangeSetName=pending["Id"])

    assert caught.value.response["Error"]["Code"] == "ChangeSetNotFound"
    assert cf.describe_stacks()["Stacks"] == []


NETWORK = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.1.0.0/16}
  Subnet:
    Type: AWS::EC2::Subnet
    Properties: {VpcId: !Ref Vpc, CidrBlock: 10.1.0.0/24}
  Gateway:
    Type: AWS::EC2::InternetGateway
  Attachment:
    Type: AWS::EC2::VPCGatewayAttachment
    Properties: {VpcId: !Ref Vpc, InternetGatewayId: !Ref Gateway}
  Routes:
    Type: AWS::EC2::RouteTable
    Properties: {VpcId: !Ref Vpc}
  DefaultRoute:
    Type: AWS::EC2::Route
    DependsOn: Attachment
    Properties:
      RouteTableId: !Ref Routes
      DestinationCidrBlock: 0.0.0.0/0
      GatewayId: !Ref Gateway
  SubnetRoutes:
    Type: AWS::EC2::SubnetRouteTableAssociation
    Properties: {SubnetId: !Ref Subnet, RouteTableId: !Ref Routes}
"""


def test_a_stack_with_a_routed_vpc_can_be_deleted(moto_url):
    """moto alone leaves the route table and the gateway attached, and the VPC's deletion fails."""
    cf = _client(moto_url)
    ec2 = boto3.client(
        "ec2",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
    )
    stack_id = _run(cf, "CREATE", NETWORK, {})["StackId"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.1.0.0/16"]}])["Vpcs"]
    assert len(vpc) == 1

    cf.delete_stack(StackName="s")

    assert cf.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.1.0.0/16"]}])["Vpcs"] == []
    assert ec2.describe_internet_gateways()["InternetGateways"] == []
    routes = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]}])
    assert routes["RouteTables"] == []


def _change_set_names(cf, stack):
    pages = cf.get_paginator("list_change_sets").paginate(StackName=stack)
    return sorted(s["ChangeSetName"] for page in pages for s in page["Summaries"])


def test_list_change_sets_answers_for_the_named_stack_only(moto_url):
    cf = _client(moto_url)
    ids = {}
    for stack in ("a", "b"):
        created = cf.create_change_set(
            StackName=stack, ChangeSetName="create", ChangeSetType="CREATE", TemplateBody=TEMPLATE
        )
        cf.execute_change_set(ChangeSetName=created["Id"])
        ids[stack] = created["StackId"]
        cf.create_change_set(
            StackName=stack,
            ChangeSetName=f"pending-{stack}",
            ChangeSetType="UPDATE",
            TemplateBody=TWO_TOPICS,
        )

    assert _change_set_names(cf, "a") == ["create", "pending-a"]
    assert _change_set_names(cf, ids["b"]) == ["create", "pending-b"]
    summaries = cf.list_change_sets(StackName="a")["Summaries"]
    assert {s["StackId"] for s in summaries} == {ids["a"]}

    # a name means the live stack of that name; a deleted stack is reached by its id only
    cf.delete_stack(StackName="b")
    cf.create_change_set(
        StackName="b", ChangeSetName="again", ChangeSetType="CREATE", TemplateBody=TEMPLATE
    )
    assert _change_set_names(cf, "b") == ["again"]
    assert _change_set_names(cf, ids["b"]) == ["create", "pending-b"]


def test_list_change_sets_answers_while_other_stacks_deploy(moto_url):
    """moto alone serialises a live view of its change sets, which other requests change:
    under concurrent deploys some ListChangeSets calls answer 500."""
    deployers, seconds = 8, 3.0
    stop = threading.Event()
    failures: list[BaseException] = []
    lists, rounds = 0, [0] * deployers

    def deploy(k: int) -> None:
        cf = _client(moto_url)
        stack = f"stack-{k}"
        created = cf.create_change_set(
            StackName=stack, ChangeSetName="create", ChangeSetType="CREATE", TemplateBody=TEMPLATE
        )
        cf.execute_change_set(ChangeSetName=created["Id"])
        body, other = TWO_TOPICS, TEMPLATE
        n = 0
        while not stop.is_set():
            n += 1
            # a change set that runs, and one that is dropped unexecuted
            ran = cf.create_change_set(
                StackName=stack, ChangeSetName=f"run-{n}", ChangeSetType="UPDATE", TemplateBody=body
            )
            cf.execute_change_set(ChangeSetName=ran["Id"])
            dropped = cf.create_change_set(
                StackName=stack,
                ChangeSetName=f"drop-{n}",
                ChangeSetType="UPDATE",
                TemplateBody=other,
            )
            cf.delete_change_set(ChangeSetName=dropped["Id"])
            body, other = other, body
            rounds[k] = n

    def list_loop() -> None:
        nonlocal lists
        cf = _client(moto_url, config=Config(retries={"total_max_attempts": 1}))  # no 500 hidden
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            stack = f"stack-{lists % deployers}"
            pages = cf.get_paginator("list_change_sets").paginate(StackName=stack)
            listed = {s["StackName"] for page in pages for s in page["Summaries"]}
            assert listed <= {stack}, listed
            lists += 1

    def guarded(target, *args):
        try:
            target(*args)
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)
            stop.set()

    threads = [threading.Thread(target=guarded, args=(deploy, k)) for k in range(deployers)]
    for thread in threads:
        thread.start()
    try:
        guarded(list_loop)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not failures, failures[:3]
    assert not any(thread.is_alive() for thread in threads)
    assert lists > 0
    assert min(rounds) > 0, rounds  # every stack kept changing while the lists ran


class _Arrives:
    """A stack whose name, once read, makes another stack arrive in the backend: what a
    create served by another thread does while DescribeStacks walks the stacks."""

    def __init__(self, backend, name):
        self._backend, self._name, self.stack_id = backend, name, f"id-{name}"

    @property
    def name(self):
        self._backend.stacks.setdefault("arrived-id", _Arrives(self._backend, "arrived"))
        return self._name


@pytest.mark.parametrize("lookup", ["describe_stacks", "get_stack"])
def test_a_stack_that_arrives_while_stacks_are_looked_up_breaks_nothing(lookup):
    from moto.cloudformation.models import CloudFormationBackend

    from protoncli.sandbox.motofix import apply_moto_fixes

    apply_moto_fixes()
    backend = CloudFormationBackend("us-east-1", "123456789012")
    first, second = _Arrives(backend, "first"), _Arrives(backend, "second")
    backend.stacks.update({first.stack_id: first, second.stack_id: second})

    found = getattr(backend, lookup)("second")  # reading "first" adds a stack mid-walk

    assert (found[0] if lookup == "describe_stacks" else found) is second


def test_the_serialisers_remembered_aliases_are_the_ones_moto_works_out(moto_url, monkeypatch):
    """Every alias answer the correction gives (kept per class, field and shape) is the answer
    moto's own rules give for that very object, over answers of several services and shapes:
    stacks with parameters, outputs and tags, change sets, S3 listings."""
    from moto.core import serialize

    picker = serialize.XFormedAttributePicker
    remembered = picker.get_possible_keys
    original = remembered.__wrapped__
    compared = []

    def checked(self, context):
        names = tuple(remembered(self, context))
        assert names == tuple(original(self, context)), (type(context.obj), context.key)
        compared.append(names)
        return names

    monkeypatch.setattr(picker, "get_possible_keys", checked)
    cf = _client(moto_url)
    body = TEMPLATE.replace("Resources:", "Parameters:\n  Size: {Type: String}\nResources:")
    for name in ("alias-a", "alias-b"):
        cs = cf.create_change_set(
            StackName=name,
            ChangeSetName="first",
            ChangeSetType="CREATE",
            TemplateBody=body,
            Parameters=[{"ParameterKey": "Size", "ParameterValue": "2"}],
            Tags=[{"Key": "pcli:kind", "Value": "environment"}],
        )
        cf.describe_change_set(ChangeSetName=cs["Id"])
        cf.execute_change_set(ChangeSetName=cs["Id"])
    stacks = cf.describe_stacks()["Stacks"]
    assert {s["StackName"] for s in stacks} >= {"alias-a", "alias-b"}
    s3 = boto3.session.Session().client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
    )
    s3.create_bucket(Bucket="alias-check")
    s3.put_object(Bucket="alias-check", Key="records/a.json", Body=b"{}")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket="alias-check")["Contents"]] == [
        "records/a.json"
    ]
    assert len(compared) > 100  # the answers above went through the serialiser
