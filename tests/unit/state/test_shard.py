"""--shard K/N: every item in exactly one share, an environment with everything in it together,
the same assignment on every machine and run, shares of roughly equal size."""

from __future__ import annotations

from collections import Counter

import pytest

from protoncli.errors import ExitCode, UsageError
from protoncli.state.identity import Identity
from protoncli.state.shard import in_shard, parse_shard, shard_key, shard_of


def _fleet() -> list[Identity]:
    items: list[Identity] = []
    for env in ("dev", "staging", "prod-eu", "prod-us", "sandbox_1"):
        items.append(Identity.of_environment(env))
        for service in ("api", "web", "worker"):
            items.append(Identity.of_instance(service, f"{service}-{env}", env))
            items.append(
                Identity.of_component(
                    f"queue-{service}-{env}",
                    service=service,
                    instance=f"{service}-{env}",
                    environment=env,
                )
            )
    items += [Identity.of_pipeline(service) for service in ("api", "web", "worker")]
    return items


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1/1", (1, 1)), ("1/4", (1, 4)), ("4/4", (4, 4)), ("17/1000", (17, 1000))],
)
def test_good_values_parse(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0/3", "K must be between 1 and N (3)"),
        ("4/3", "K must be between 1 and N (3)"),
        ("1/0", "N must be between 1 and 1000"),
        ("1/1001", "N must be between 1 and 1000"),
        ("a/b", "expected K/N"),
        ("3", "expected K/N"),
        ("-1/3", "expected K/N"),
        ("1/-3", "expected K/N"),
        (" 1/3", "expected K/N"),
        ("1 / 3", "expected K/N"),
        ("1/3 ", "expected K/N"),
        ("01/3", "expected K/N"),
        ("1/3/4", "expected K/N"),
        ("", "expected K/N"),
        ("\uff11/\uff13", "expected K/N"),  # fullwidth digits are not ASCII digits
    ],
)
def test_bad_values_are_usage_errors_with_the_accepted_form(text, says):
    with pytest.raises(UsageError) as caught:
        parse_shard(text)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.message.startswith(f"--shard '{text}': {says}")
    assert caught.value.hint is not None
    assert "K/N" in caught.value.hint
    assert "1 <= K <= N <= 1000" in caught.value.hint


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_every_item_lands_in_exactly_one_share(count):
    for identity in _fleet():
        owners = [index for index in range(1, count + 1) if in_shard(identity, (index, count))]
        assert owners == [shard_of(identity, count)], identity


@pytest.mark.parametrize("count", [2, 3, 4, 16])
def test_an_environment_and_its_instances_and_components_land_together(count):
    by_environment: dict[str, set[int]] = {}
    for identity in _fleet():
        if identity.environment is not None:
            by_environment.setdefault(identity.environment, set()).add(shard_of(identity, count))
    assert len(by_environment) == 5
    assert all(len(shares) == 1 for shares in by_environment.values()), by_environment


def test_keys_environment_for_everything_in_one_and_a_key_of_its_own_for_a_pipeline():
    assert shard_key(Identity.of_environment("dev")) == "dev"
    assert shard_key(Identity.of_instance("api", "api-dev", "dev")) == "dev"
    assert (
        shard_key(Identity.of_component("q", service="api", instance="api-dev", environment="dev"))
        == "dev"
    )
    assert shard_key(Identity.of_pipeline("api")) == "pipeline:api"


def test_an_item_whose_environment_is_unknown_goes_with_its_service_or_its_own_name():
    # stacks whose tags lost pcli:environment still belong to one share
    assert shard_key(Identity.of_instance("api", "api-x", None)) == "service:api"
    orphan = Identity.of_component("q", service="api", instance="api-x", environment=None)
    assert shard_key(orphan) == "service:api"
    loose = Identity.of_component("q", service=None, instance=None, environment=None)
    assert shard_key(loose) == "component:q"


def test_pipelines_spread_over_the_shares():
    shares = {shard_of(Identity.of_pipeline(f"svc-{n}"), 4) for n in range(40)}
    assert shares == {1, 2, 3, 4}


def test_the_assignment_is_fixed_across_runs_and_machines():
    # SHA-256 of the key, big-endian, modulo N, plus one: changing the hash moves items between
    # CI jobs, so these values are pinned.
    expected = {
        "dev": [2, 2, 4, 6],
        "prod": [2, 2, 4, 4],
        "staging": [1, 1, 3, 4],
    }
    for env, shares in expected.items():
        identity = Identity.of_environment(env)
        assert [shard_of(identity, n) for n in (2, 3, 4, 7)] == shares, env
        instance = Identity.of_instance("api", f"api-{env}", env)
        assert [shard_of(instance, n) for n in (2, 3, 4, 7)] == shares, env
    assert [shard_of(Identity.of_pipeline("web"), n) for n in (2, 3, 4, 7)] == [2, 2, 2, 3]


def test_a_single_share_holds_everything():
    assert all(in_shard(identity, (1, 1)) for identity in _fleet())


def test_shares_are_roughly_even_over_200_environments():
    counts = Counter(shard_of(Identity.of_environment(f"env-{n}"), 4) for n in range(200))
    assert set(counts) == {1, 2, 3, 4}
    assert all(30 <= count <= 70 for count in counts.values()), counts
