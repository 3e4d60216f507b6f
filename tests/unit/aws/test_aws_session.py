"""Sessions per target against a real moto server: endpoint, credentials, profiles, roles."""

from __future__ import annotations

import pytest
from botocore.credentials import RefreshableCredentials

from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget

SIMPLE_TEMPLATE = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"


def test_clients_are_cached_per_target_and_service(moto_url):
    factory = SessionFactory()
    target = AwsTarget(region="us-east-1", endpoint_url=moto_url)
    cloudformation = factory.client("cloudformation", target)
    assert factory.client("cloudformation", target) is cloudformation
    assert factory.client("cloudformation", AwsTarget("us-east-1", endpoint_url=moto_url)) is (
        cloudformation
    )
    assert factory.client("s3", target) is not cloudformation
    other_region = factory.client("cloudformation", AwsTarget("eu-west-1", endpoint_url=moto_url))
    assert other_region is not cloudformation
    assert other_region.meta.region_name == "eu-west-1"


def test_an_endpoint_target_uses_the_endpoint_and_the_sandbox_credentials(moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAREALLOOKINGKEY00")
    factory = SessionFactory(max_attempts=3)
    target = AwsTarget(region="us-east-1", endpoint_url=moto_url)
    client = factory.client("cloudformation", target)
    assert client.meta.endpoint_url == moto_url
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert factory._session(target).get_credentials().access_key == "testing"
    assert factory.account_id(target) == "123456789012"


def test_aws_endpoint_url_from_the_environment_still_works(moto_url):
    factory = SessionFactory()
    target = AwsTarget(region="us-east-1")
    assert factory.client("sts", target).meta.endpoint_url == moto_url
    assert factory.account_id(target) == "123456789012"


def test_a_profile_gives_its_own_credentials(moto_url, isolated_env):
    (isolated_env / "aws-config").write_text("[profile dev]\nregion = eu-west-1\n")
    (isolated_env / "aws-credentials").write_text(
        "[dev]\naws_access_key_id = AKIADEVPROFILE000000\naws_secret_access_key = devsecret\n"
    )
    factory = SessionFactory()
    target = AwsTarget(region="us-east-1", profile="dev", endpoint_url=moto_url)
    assert factory._session(target).get_credentials().access_key == "AKIADEVPROFILE000000"
    assert factory.client("sts", target).meta.region_name == "us-east-1"  # the target decides


def test_a_role_is_assumed_and_its_account_used(moto_url):
    factory = SessionFactory()
    role = "arn:aws:iam::111111111111:role/ProtonDeploy"
    target = AwsTarget(region="us-east-1", endpoint_url=moto_url, role_arn=role)
    assert factory.account_id(target) == "111111111111"
    caller = factory.client("sts", target).get_caller_identity()
    assert caller["Arn"] == "arn:aws:sts::111111111111:assumed-role/ProtonDeploy/pcli"
    credentials = factory._session(target).get_credentials()
    assert isinstance(credentials, RefreshableCredentials)
    assert credentials.method == "assume-role"
    stack = factory.client("cloudformation", target).create_stack(
        StackName="in-other-account", TemplateBody=SIMPLE_TEMPLATE
    )
    assert ":111111111111:stack/in-other-account/" in stack["StackId"]
    # The base account sees nothing of it: the accounts are really apart.
    base = factory.client("cloudformation", AwsTarget(region="us-east-1", endpoint_url=moto_url))
    assert base.describe_stacks()["Stacks"] == []


def test_two_roles_are_two_accounts(moto_url):
    factory = SessionFactory()
    accounts = {
        factory.account_id(
            AwsTarget(
                region="us-east-1",
                endpoint_url=moto_url,
                role_arn=f"arn:aws:iam::{account}:role/Deploy",
            )
        )
        for account in ("111111111111", "222222222222")
    }
    assert accounts == {"111111111111", "222222222222"}


def test_assumed_role_credentials_are_fetched_again_when_expired(moto_url):
    factory = SessionFactory()
    target = AwsTarget(
        region="us-east-1", endpoint_url=moto_url, role_arn="arn:aws:iam::333333333333:role/D"
    )
    credentials = factory._session(target).get_credentials()
    first = credentials.get_frozen_credentials().access_key
    assert not credentials.refresh_needed()
    # Let the credentials and the fetcher's cache of the AssumeRole answer both run out.
    credentials._expiry_time = credentials._expiry_time.replace(year=2000)
    credentials._refresh_using.__self__._cache.clear()
    assert credentials.refresh_needed()
    assert credentials.get_frozen_credentials().access_key != first
    assert not credentials.refresh_needed()


@pytest.mark.parametrize("service", ["cloudformation", "s3", "sts"])
def test_every_service_goes_to_the_target_endpoint(moto_url, service):
    target = AwsTarget(region="eu-central-1", endpoint_url=moto_url)
    assert SessionFactory().client(service, target).meta.endpoint_url == moto_url


def test_the_account_id_is_asked_once_per_credentials_then_read_from_the_cache(moto_url):
    target = AwsTarget(region="us-east-1", endpoint_url=moto_url)
    calls = []

    def counting(factory):
        factory.client("sts", target).meta.events.register(
            "before-call.sts.GetCallerIdentity", lambda **_: calls.append(1)
        )
        return factory

    assert counting(SessionFactory()).account_id(target) == "123456789012"
    assert counting(SessionFactory()).account_id(target) == "123456789012"
    assert len(calls) == 1


def test_the_caller_is_asked_once_per_credentials_then_read_from_the_cache(moto_url):
    target = AwsTarget(region="us-west-1", endpoint_url=moto_url)
    calls = []

    def counting(factory):
        factory.client("sts", target).meta.events.register(
            "before-call.sts.GetCallerIdentity", lambda **_: calls.append(1)
        )
        return factory

    first = counting(SessionFactory()).caller_arn(target)
    assert counting(SessionFactory()).caller_arn(target) == first
    assert first.startswith("arn:aws:")
    assert len(calls) == 1


def test_a_role_names_its_account_without_a_call(moto_url):
    target = AwsTarget(
        region="us-east-1", endpoint_url=moto_url, role_arn="arn:aws:iam::333333333333:role/Deploy"
    )
    assert SessionFactory().account_id(target) == "333333333333"
