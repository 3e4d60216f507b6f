"""pcli's corrections to moto for templates from the field: AWS's sample VPC environments
(`Fn::GetAZs`) and updates of resources moto cannot update (log groups first), checked through
a real moto server over HTTP, deployed as pcli deploys: through change sets."""

from __future__ import annotations

import uuid

import boto3
import pytest
from botocore.config import Config

NO_RETRIES = Config(retries={"total_max_attempts": 1})  # a failure shows at once


def _client(service, url, region="us-east-1"):
    return boto3.session.Session().client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto's dummy credentials
        config=NO_RETRIES,
    )


def _deploy(cf, body, *, change_set_type="UPDATE", stack="s"):
    created = cf.create_change_set(
        StackName=stack,
        ChangeSetName=f"cs-{uuid.uuid4().hex[:8]}",
        ChangeSetType=change_set_type,
        TemplateBody=body,
    )
    cf.execute_change_set(ChangeSetName=created["Id"])
    return cf.describe_stacks(StackName=stack)["Stacks"][0]


def _outputs(stack):
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


# As AWS's sample VPC environments write it: the short form with a mapping argument, the
# long form with a Ref, and the empty argument.
VPC = """\
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties: {CidrBlock: 10.0.0.0/16}
  SubnetOne:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.0.0/24
      AvailabilityZone: !Select [0, !GetAZs {Ref: 'AWS::Region'}]
  SubnetTwo:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.1.0/24
      AvailabilityZone:
        Fn::Select:
          - 1
          - Fn::GetAZs: {Ref: 'AWS::Region'}
  SubnetThree:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: 10.0.2.0/24
      AvailabilityZone: !Select [1, {'Fn::GetAZs': ''}]
Outputs:
  Zones:
    Value: !Join [",", !GetAZs '']
"""


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "us-west-1"])
def test_subnets_go_to_the_zones_get_azs_gives_in_the_stacks_region(moto_url, region):
    """moto alone refuses the stack: its zone is "{'Ref': 'AWS::Region'}a" (or the nodes of the
    YAML parser), and an empty argument means us-east-1 in every region."""
    cf, ec2 = _client("cloudformation", moto_url, region), _client("ec2", moto_url, region)
    stack = _deploy(cf, VPC, change_set_type="CREATE")

    zones = sorted(
        zone["ZoneName"]
        for zone in ec2.describe_availability_zones()["AvailabilityZones"]
        if zone["ZoneType"] == "availability-zone"
    )
    assert _outputs(stack) == {"Zones": ",".join(zones)}
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [_vpc_id(cf)]}])
    placed = {s["CidrBlock"]: s["AvailabilityZone"] for s in subnets["Subnets"]}
    assert placed == {"10.0.0.0/24": zones[0], "10.0.1.0/24": zones[1], "10.0.2.0/24": zones[1]}


def _vpc_id(cf, stack="s"):
    resources = cf.describe_stack_resources(StackName=stack)["StackResources"]
    return next(r["PhysicalResourceId"] for r in resources if r["LogicalResourceId"] == "Vpc")


LOG_GROUP = """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
{properties}
Outputs:
  Arn:
    Value: !GetAtt Logs.Arn
  Name:
    Value: !Ref Logs
"""


def _log_group(properties):
    lines = [f"      {key}: {value}" for key, value in properties.items()]
    return LOG_GROUP.format(properties="\n".join(lines) or "      {}")


def _groups(logs):
    return {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}


def test_a_log_groups_retention_kms_key_and_tags_follow_each_update(moto_url):
    """moto alone drops the log group from the stack at the first update (its retention stays
    as it was): the stack loses its outputs and every DescribeStacks of the region answers
    "Template error: instance of Fn::GetAtt references undefined resource Logs"."""
    cf, logs = _client("cloudformation", moto_url), _client("logs", moto_url)
    cf.create_stack(StackName="other", TemplateBody="Resources:\n  T:\n    Type: AWS::SNS::Topic\n")
    created = _deploy(cf, _log_group({"RetentionInDays": 7}), change_set_type="CREATE")
    name = _outputs(created)["Name"]
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

    updated = _deploy(
        cf,
        _log_group({"RetentionInDays": 14, "KmsKeyId": key, "Tags": "[{Key: team, Value: a}]"}),
    )

    assert _outputs(updated) == _outputs(created)
    assert sorted(s["StackName"] for s in cf.describe_stacks()["Stacks"]) == ["other", "s"]
    group = _groups(logs)[name]
    assert (group["retentionInDays"], group["kmsKeyId"]) == (14, key)
    assert logs.list_tags_for_resource(resourceArn=_outputs(updated)["Arn"])["tags"] == {
        "team": "a"
    }

    _deploy(cf, _log_group({"Tags": "[{Key: owner, Value: b}]"}))  # never expire, no key

    group = _groups(logs)[name]
    assert "retentionInDays" not in group
    assert "kmsKeyId" not in group
    assert logs.list_tags_for_resource(resourceArn=_outputs(updated)["Arn"])["tags"] == {
        "owner": "b"
    }


def test_a_new_log_group_name_replaces_the_log_group(moto_url):
    cf, logs = _client("cloudformation", moto_url), _client("logs", moto_url)
    first = _deploy(cf, _log_group({"RetentionInDays": 7}), change_set_type="CREATE")

    named = _deploy(cf, _log_group({"LogGroupName": "app-logs", "RetentionInDays": 30}))

    assert _outputs(named)["Name"] == "app-logs"
    assert list(_groups(logs)) == ["app-logs"]
    assert _groups(logs)["app-logs"]["retentionInDays"] == 30
    assert _outputs(first)["Name"] != "app-logs"

    cf.delete_stack(StackName="s")
    assert _groups(logs) == {}


def test_a_log_group_created_with_a_kms_key_has_it(moto_url):
    cf, logs = _client("cloudformation", moto_url), _client("logs", moto_url)
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    created = _deploy(cf, _log_group({"KmsKeyId": key}), change_set_type="CREATE")

    assert _groups(logs)[_outputs(created)["Name"]]["kmsKeyId"] == key


TAGGED_VPC = """\
Parameters:
  Team:
    Type: String
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.3.0.0/16
      Tags: [{Key: team, Value: !Ref Team}]
Outputs:
  VpcId:
    Value: !Ref Vpc
  Cidr:
    Value: !GetAtt Vpc.CidrBlock
"""


def test_a_resource_moto_cannot_update_stays_in_its_stack(moto_url):
    """moto has no update for VPCs (nor some 50 other types): alone, it drops the VPC from the
    stack while the VPC runs on, so outputs vanish, DescribeStacks fails and the stack's
    deletion leaves the VPC behind."""
    cf, ec2 = _client("cloudformation", moto_url), _client("ec2", moto_url)
    created = cf.create_change_set(
        StackName="s",
        ChangeSetName="create",
        ChangeSetType="CREATE",
        TemplateBody=TAGGED_VPC,
        Parameters=[{"ParameterKey": "Team", "ParameterValue": "a"}],
    )
    cf.execute_change_set(ChangeSetName=created["Id"])
    before = _outputs(cf.describe_stacks(StackName="s")["Stacks"][0])

    changed = cf.create_change_set(
        StackName="s",
        ChangeSetName="team-b",
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=[{"ParameterKey": "Team", "ParameterValue": "b"}],
    )
    cf.execute_change_set(ChangeSetName=changed["Id"])

    (stack,) = cf.describe_stacks()["Stacks"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert _outputs(stack) == before == {"VpcId": before["VpcId"], "Cidr": "10.3.0.0/16"}

    cf.delete_stack(StackName="s")
    assert ec2.describe_vpcs(Filters=[{"Name": "cidr", "Values": ["10.3.0.0/16"]}])["Vpcs"] == []
