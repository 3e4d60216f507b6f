"""pcli's corrections to moto, checked through a real moto server over HTTP."""

from __future__ import annotations

import boto3

TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
TWO_TOPICS = TEMPLATE.replace("Outputs:", "  Other:\n    Type: AWS::SNS::Topic\nOutputs:")


def _client(url):
    return boto3.client(
        "cloudformation",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
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
