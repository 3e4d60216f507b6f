"""A schema's `pattern` in words: the describer, and the validation errors and question hints
that use it (the pattern as written when it cannot be described)."""

from __future__ import annotations

import re
import textwrap

import pytest

from protoncli.prompting import input_question
from protoncli.schema.parse import parse_schema
from protoncli.schema.patterns import describe, pattern_hint
from protoncli.schema.validate import validate_inputs, value_problems

CIDR_16_24 = r"^([0-9]{1,3}\.){3}[0-9]{1,3}/(1[6-9]|2[0-4])$"


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("^[a-z][a-z0-9-]*$", "lower-case letters, digits and '-', starting with a letter"),
        ("^[a-z]+$", "lower-case letters only"),
        ("^[A-Za-z0-9 ]+$", "letters, digits and spaces only"),
        ("^[A-Z]{3}$", "exactly 3 upper-case letters"),
        ("^[a-z0-9-]{1,63}$", "1 to 63 lower-case letters, digits and '-'"),
        (r"^\d+$", "digits only"),
        (r"^\w+$", "letters, digits and '_' only"),
        ("^[a-f0-9]{40}$", "exactly 40 digits and letters a-f"),
        ("^[a-z]*$", "lower-case letters only, or nothing"),
        ("^(dev|staging|prod)$", "one of 'dev', 'staging' or 'prod'"),
        ("^(?:prod|dev)-[0-9]+$", "one of 'prod' or 'dev', then '-', then digits"),
        (
            "^[a-z]{2}-[a-z]+-[0-9]$",
            "2 lower-case letters, then '-', then lower-case letters, then '-', then a digit",
        ),
        (r"^v[0-9]+\.[0-9]+$", "'v', then digits, then '.', then digits"),
        (
            "^[a-z]([a-z0-9-]*[a-z0-9])?$",
            (
                "lower-case letters, digits and '-', starting with a letter and ending with a "
                "letter or digit"
            ),
        ),
        (
            "^[a-z][a-z0-9-]*[a-z0-9]$",
            (
                "lower-case letters, digits and '-', starting with a letter and ending with a "
                "letter or digit, at least 2 characters"
            ),
        ),
        (
            "^[a-z][a-z0-9-]{0,62}$",
            "lower-case letters, digits and '-', starting with a letter, 1 to 63 characters",
        ),
        (
            "^[A-Za-z_][A-Za-z0-9_]*$",
            "letters, digits and '_', starting with a letter or '_'",
        ),
        (
            "^[a-z]+(-[a-z]+)?$",
            "lower-case letters, then optionally '-' followed by lower-case letters",
        ),
        (
            CIDR_16_24,
            "an IPv4 address range (CIDR) such as 10.0.0.0/16, with a prefix from /16 to /24",
        ),
        (
            r"^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$",
            "an IPv4 address range (CIDR) such as 10.0.0.0/16",
        ),
    ],
)
def test_common_shapes_are_put_into_words(pattern, words):
    assert describe(pattern) == words


@pytest.mark.parametrize(
    "pattern",
    [
        r"[a-z]+\.example",  # not anchored: "contains"
        "^dev|prod$",  # starts with dev, or ends with prod
        "^[^/]+$",  # a negated class
        "^[a-z]{2}(-[a-z]+)+-[0-9]$",  # a repeated group
        r"^(a)\1$",  # a backreference
        "^(?=x)x$",  # a lookahead
        "^[a-z$",  # not a regular expression
        "^$",
    ],
)
def test_other_patterns_are_not_described(pattern):
    assert describe(pattern) is None
    assert pattern_hint(pattern) == f"matching the pattern {pattern}"


@pytest.mark.parametrize(
    ("pattern", "accepted", "refused"),
    [
        ("^[a-z][a-z0-9-]*$", ["a", "web-1"], ["1a", "Web", ""]),
        ("^[a-z]([a-z0-9-]*[a-z0-9])?$", ["a", "a-1"], ["a-", "-a"]),
        ("^[A-Z]{3}$", ["ABC"], ["AB", "ABCD"]),
        ("^(dev|staging|prod)$", ["dev", "prod"], ["qa", "devx"]),
    ],
)
def test_the_words_say_what_the_pattern_accepts(pattern, accepted, refused):
    """The examples a reader would take from the words are the pattern's."""
    assert describe(pattern) is not None
    assert all(re.search(pattern, value) for value in accepted)
    assert not any(re.search(pattern, value) for value in refused)


def test_a_value_that_breaks_a_described_pattern_is_refused_in_words():
    prop = {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"}

    assert value_problems(prop, "My_App", secret=False) == [
        "'My_App' must be lower-case letters, digits and '-', starting with a letter"
    ]
    assert value_problems(prop, "My_App", secret=True) == [
        "the value must be lower-case letters, digits and '-', starting with a letter"
    ]


def test_a_pattern_without_words_is_shown_as_written():
    prop = {"type": "string", "pattern": r"[a-z]+\.example"}

    assert value_problems(prop, "shop", secret=False) == [
        r"'shop' does not match the pattern [a-z]+\.example"
    ]


SCHEMA = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      environment_input_type: EnvInput
      types:
        EnvInput:
          type: object
          properties:
            team: {type: string, description: Who owns it, pattern: "^[a-z][a-z0-9-]*$"}
            zones:
              type: array
              items: {type: string, pattern: "^[a-z]{2}-[a-z]+-[0-9]$"}
            host: {type: string, pattern: '[a-z]+\\.example'}
    """
)


def test_spec_errors_and_question_hints_say_the_pattern_in_words():
    input_type = parse_schema(SCHEMA, "schema.yaml").main

    problems = validate_inputs(
        input_type, {"team": "Ops", "zones": ["us-east-1", "mars"], "host": "x"}, where=""
    )
    hints = [input_question(item, key=item.name).help for item in input_type.inputs]

    assert [str(problem) for problem in problems] == [
        "input 'team': 'Ops' must be lower-case letters, digits and '-', starting with a letter",
        (
            "input 'zones': item 2: 'mars' must be 2 lower-case letters, then '-', then lower-case "
            "letters, then '-', then a digit"
        ),
        r"input 'host': 'x' does not match the pattern [a-z]+\.example",
    ]
    assert hints == [
        "Who owns it; lower-case letters, digits and '-', starting with a letter",
        (
            "each entry: 2 lower-case letters, then '-', then lower-case letters, then '-', then a "
            "digit"
        ),
        r"matching the pattern [a-z]+\.example",
    ]
