"""Stack names: readable when they can be, valid and unique always; pcli:* tags."""

from __future__ import annotations

import itertools
import re

import pytest

from protoncli.state.identity import Identity
from protoncli.state.naming import stack_name

VALID = re.compile(r"^[A-Za-z][-A-Za-z0-9]*$")
HASHED = re.compile(r"-[0-9a-f]{8}$")


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        (("acme", "env", "dev"), "pcli-acme-env-dev"),
        (("acme", "environment", "dev"), "pcli-acme-env-dev"),
        (("acme", "svc", "api", "dev"), "pcli-acme-svc-api-dev"),
        (("acme", "service-instance", "api", "prod-eu"), "pcli-acme-svc-api-prod-eu"),
        (("acme", "pipeline", "frontend-api"), "pcli-acme-pipeline-frontend-api"),
        (("acme", "comp", "queue"), "pcli-acme-comp-queue"),
        (("platform-team", "env", "dev"), "pcli-platform-team-env-dev"),
    ],
)
def test_plain_names_stay_readable(inputs, expected):
    assert stack_name(*inputs) == expected


def test_underscores_are_replaced_and_a_hash_keeps_the_name_unique():
    replaced = stack_name("acme", "env", "my_env")
    assert replaced.startswith("pcli-acme-env-my-env-")
    assert HASHED.search(replaced)
    assert VALID.match(replaced)
    assert replaced != stack_name("acme", "env", "my-env")
    assert replaced == stack_name("acme", "env", "my_env")  # deterministic


def test_a_dash_inside_a_leading_name_cannot_collide_with_another_split():
    first = stack_name("acme", "svc", "my-api", "dev")
    second = stack_name("acme", "svc", "my", "api-dev")
    assert second == "pcli-acme-svc-my-api-dev"
    assert first != second
    assert first.startswith("pcli-acme-svc-my-api-dev-")


def test_a_kind_word_inside_the_workspace_cannot_collide():
    assert stack_name("a-env-b", "env", "c") != stack_name("a", "env", "b-env-c")


def test_a_name_that_looks_hashed_gets_its_own_hash():
    hashed = stack_name("acme", "env", "my_env")
    lookalike_name = hashed.removeprefix("pcli-acme-env-")
    assert stack_name("acme", "env", lookalike_name) != hashed


def test_long_names_are_cut_to_128_characters_and_stay_distinct():
    base = "x" * 100
    first = stack_name("acme", "svc", base + "a", base + "1")
    second = stack_name("acme", "svc", base + "a", base + "2")
    assert len(first) == len(second) == 128
    assert first != second
    assert VALID.match(first)
    assert first.startswith("pcli-acme-svc-xxxx")


def test_a_wrong_number_of_names_never_collides_with_the_plain_form():
    assert stack_name("acme", "svc", "a", "b") != stack_name("acme", "svc", "a-b")
    assert stack_name("acme", "env", "a", "b") != stack_name("acme", "env", "a-b")


def test_every_input_gets_its_own_valid_name():
    words = ["a", "b", "a-b", "b-c", "a_b", "A", "env", "svc", "x" * 130, "", "a--b", "é"]
    inputs = [
        (workspace, kind, *names)
        for workspace in ["ws", "ws-env", "w_s", "platform-team"]
        for kind in ["env", "svc", "comp"]
        for count in (1, 2)
        for names in itertools.product(words, repeat=count)
    ]
    names = {stack_name(*item) for item in inputs}
    assert len(names) == len(inputs)
    assert all(VALID.match(name) and len(name) <= 128 for name in names)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown stack kind 'service'"):
        stack_name("acme", "service", "api", "dev")


def test_tags_name_what_the_stack_is_and_skip_empty_values():
    tags = Identity.of_instance("api", "api-dev", "dev").tags(
        "acme",
        blueprint="fargate",
        version="1.2",
        spec_digest="sha256:abc",
        deployment_id="d-1",
    )
    assert tags == {
        "pcli:workspace": "acme",
        "pcli:kind": "service-instance",
        "pcli:environment": "dev",
        "pcli:service": "api",
        "pcli:instance": "api-dev",
        "pcli:blueprint": "fargate",
        "pcli:version": "1.2",
        "pcli:spec-digest": "sha256:abc",
        "pcli:deployment-id": "d-1",
    }


def test_environment_tags_have_no_service_keys():
    tags = Identity.of_environment("dev").tags(
        "acme",
        blueprint="vpc",
        version="1.0",
        spec_digest="sha256:def",
        deployment_id="d-2",
    )
    assert tags["pcli:kind"] == "environment"
    assert not {"pcli:service", "pcli:instance", "pcli:component"} & tags.keys()
