"""Assumed roles: one AssumeRole per role and run, shared by the role's sessions of every
region, and assumed again by botocore before the credentials expire (long runs go on).
Counted through the fault-injecting server of test_status_fallback, which answers with moto
unless a rule answers first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tests.cli.test_status_fallback import fault_server  # noqa: F401 - the fixture

from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget

ROLE = "arn:aws:iam::111111111111:role/pcli-deploy"


@pytest.fixture
def counted(fault_server, moto_url):  # noqa: F811 - the fixture imported above
    url, injector = fault_server
    injector.rules.clear()
    injector.calls.clear()
    return url, injector


def _assumed(injector) -> list[dict[str, str]]:
    return [call for call in injector.calls if call.get("Action") == "AssumeRole"]


def test_a_role_is_assumed_once_for_every_region(counted):
    url, injector = counted
    sessions = SessionFactory()
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        target = AwsTarget(region=region, role_arn=ROLE, endpoint_url=url, external_id="team-x")
        sessions.client("cloudformation", target).describe_stacks()
        sessions.client("s3", target).list_buckets()
    (call,) = _assumed(injector)
    assert call["RoleArn"] == ROLE
    assert call["RoleSessionName"] == "pcli"
    assert call["ExternalId"] == "team-x"
    other = AwsTarget(region="us-east-1", role_arn=ROLE, endpoint_url=url, session_name="ci-run")
    sessions.client("cloudformation", other).describe_stacks()
    assert [c["RoleSessionName"] for c in _assumed(injector)] == ["pcli", "ci-run"]


def test_credentials_about_to_expire_are_assumed_again_before_a_call(counted):
    url, injector = counted

    def short_lived(params):
        if params.get("Action") != "AssumeRole":
            return None
        expires = (datetime.now(UTC) + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = (
            '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleResult><Credentials><AccessKeyId>ASIASHORTLIVED0001</AccessKeyId>"
            "<SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken>"
            f"<Expiration>{expires}</Expiration></Credentials><AssumedRoleUser>"
            "<Arn>arn:aws:sts::111111111111:assumed-role/pcli-deploy/pcli</Arn>"
            "<AssumedRoleId>AROASHORT:pcli</AssumedRoleId></AssumedRoleUser></AssumeRoleResult>"
            "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>"
        )
        return 200, "text/xml", body.encode()

    injector.rules.append(short_lived)
    sessions = SessionFactory()
    client = sessions.client(
        "cloudformation", AwsTarget(region="us-east-1", role_arn=ROLE, endpoint_url=url)
    )
    for _ in range(3):
        client.describe_stacks()
    # two minutes left is inside botocore's refresh window: each call assumes the role anew
    assert len(_assumed(injector)) == 3
