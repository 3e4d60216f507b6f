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
