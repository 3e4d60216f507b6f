from __future__ import annotations

import datetime as dt
import json
import textwrap

import pytest
from jsonschema import Draft202012Validator

from protoncli.schema.model import InputType
from protoncli.schema.parse import parse_schema
from protoncli.schema.validate import Problem, to_json_schema, validate_inputs

SCHEMA = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      service_input_type: ApiInput
      types:
        ApiInput:
          type: object
          description: "Inputs of an HTTP API"
          properties:
            hostname:
              type: string
              description: "Public host name"
              pattern: "[a-z]+\\\\.example"
              minLength: 5
              maxLength: 30
            port:
              type: number
              minimum: 1
              maximum: 65535
            workers:
              type: integer
              minimum: 1
            verbose:
              type: boolean
            plan:
              type: string
              enum: [free, team, business]
            zones:
              type: array
              minItems: 1
              maxItems: 3
              items: {type: string, pattern: "^[a-z]{2}-[a-z]+-[0-9]$"}
            weights:
              type: array
              items: {type: number, maximum: 10}
            db_password:
              type: string
              format: password
              minLength: 12
          required: [hostname, zones]
    """
)


@pytest.fixture(scope="module")
def api() -> InputType:
    return parse_schema(SCHEMA, "schema/schema.yaml").main


def messages(input_type: InputType, values: dict[str, object]) -> list[str]:
    return [
        str(problem) for problem in validate_inputs(input_type, values, where="instance 'api-prod'")
    ]


VALID = {"hostname": "shop.example.com", "zones": ["eu-west-1"]}


def test_json_schema_is_the_input_type_as_written(api):
    schema = to_json_schema(api)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["description"] == "Inputs of an HTTP API"
    assert schema["required"] == ["hostname", "zones"]
    assert "additionalProperties" not in schema
    assert list(schema["properties"]) == [
        "hostname",
        "port",
        "workers",
        "verbose",
        "plan",
        "zones",
        "weights",
        "db_password",
    ]
    assert schema["properties"]["zones"] == {
        "type": "array",
        "minItems": 1,
        "maxItems": 3,
        "items": {"type": "string", "pattern": "^[a-z]{2}-[a-z]+-[0-9]$"},
    }
    assert type(schema["properties"]["zones"]["items"]) is dict
    json.dumps(schema)


def test_valid_values_and_unknown_keys_pass(api):
    values = {**VALID, "port": 443, "workers": 2, "verbose": False, "not_in_schema": {"x": 1}}
    assert validate_inputs(api, values, where="x") == []


def test_yaml_integer_is_a_number_and_whole_float_is_an_integer(api):
    assert messages(api, {**VALID, "port": 80, "workers": 3.0}) == []
    assert messages(api, {**VALID, "port": 80.5}) == []


def test_pattern_is_an_unanchored_search(api):
    assert messages(api, {**VALID, "hostname": "www.shop.example.org"}) == []


def test_every_violation_is_reported_in_schema_order_with_lines(api):
    values = {
        "zones": ["eu-west-1", "mars", 7, "us-east-1"],
        "port": 70000,
        "plan": "enterprise",
        "workers": 0,
        "weights": [1, 11],
        "verbose": "yes",
    }
    lines = {"zones": 12, "port": 13, "plan": 14, "workers": 15, "weights": 16, "verbose": 17}
    problems = validate_inputs(
        api, values, where="instance 'api-prod'", key_lines=lines, source="svc.yaml", line=9
    )
    assert [str(problem) for problem in problems] == [
        (
            "svc.yaml:9: instance 'api-prod', input 'hostname' is required "
            "(type string: Public host name)"
        ),
        (
            "svc.yaml:13: instance 'api-prod', input 'port': 70000 is greater than the maximum "
            "of 65535"
        ),
        "svc.yaml:15: instance 'api-prod', input 'workers': 0 is less than the minimum of 1",
        (
            "svc.yaml:17: instance 'api-prod', input 'verbose': expected true or false, got the "
            "string 'yes'; write true or false without quotes"
        ),
        (
            "svc.yaml:14: instance 'api-prod', input 'plan': 'enterprise' is not one of the "
            "allowed values: 'free', 'team', 'business'"
        ),
        "svc.yaml:12: instance 'api-prod', input 'zones': the list has 4 items; at most 3 allowed",
        (
            "svc.yaml:12: instance 'api-prod', input 'zones': item 2: 'mars' must be 2 "
            "lower-case letters, then '-', then lower-case letters, then '-', then a digit"
        ),
        (
            "svc.yaml:12: instance 'api-prod', input 'zones': item 3: expected a string, got the "
            "number 7; quote the value in YAML to keep it as written"
        ),
        (
            "svc.yaml:16: instance 'api-prod', input 'weights': item 2: 11 is greater than the "
            "maximum of 10"
        ),
    ]
    assert problems[0] == Problem(
        where="instance 'api-prod'",
        input="hostname",
        message="is required (type string: Public host name)",
        line=9,
        source="svc.yaml",
        kind="missing",
    )
    assert problems[1].input == "port"
    assert problems[1].line == 13
    assert problems[1].message == "70000 is greater than the maximum of 65535"


def test_missing_array_names_its_item_type(api):
    assert messages(api, {"hostname": "a.example"}) == [
        "instance 'api-prod', input 'zones' is required (type array of string)"
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"hostname": 12345},
            (
                "input 'hostname': expected a string, got the number 12345; quote the value in "
                "YAML to keep it as written"
            ),
        ),
        (
            {"hostname": True},
            (
                "input 'hostname': expected a string, got the boolean true; quote the value in "
                "YAML to keep it as written"
            ),
        ),
        (
            {"hostname": dt.date(2024, 5, 1)},
            (
                "input 'hostname': expected a string, got the date 2024-05-01; quote the value in "
                "YAML to keep it as written"
            ),
        ),
        (
            {"hostname": None},
            "input 'hostname': expected a string, got an empty value (null)",
        ),
        (
            {"port": "80"},
            (
                "input 'port': expected a number, got the string '80'; remove the quotes to make "
                "it a number"
            ),
        ),
        ({"port": True}, "input 'port': expected a number, got the boolean true"),
        ({"port": "eighty"}, "input 'port': expected a number, got the string 'eighty'"),
        (
            {"workers": 2.5},
            "input 'workers': expected a whole number (integer), got the number 2.5",
        ),
        ({"workers": False}, "input 'workers': expected a whole number (integer), got the boolean"),
        ({"verbose": 1}, "input 'verbose': expected true or false, got the number 1"),
        (
            {"zones": "eu-west-1"},
            (
                "input 'zones': expected a list, got the string 'eu-west-1'; write a YAML list "
                "such as [a, b]"
            ),
        ),
        ({"zones": []}, "input 'zones': the list has 0 items; at least 1 allowed"),
        ({"zones": {"a": 1}}, "input 'zones': expected a list, got a mapping"),
        (
            {"hostname": "ab"},
            "input 'hostname': 'ab' is too short: 2 characters, at least 5 needed",
        ),
        (
            {"hostname": "x" * 70 + ".example"},
            "input 'hostname': '" + "x" * 57 + "...' is too long: 78 characters, at most 30",
        ),
        (
            {"hostname": "shop.exampl"},
            "input 'hostname': 'shop.exampl' does not match the pattern [a-z]+\\.example",
        ),
    ],
)
def test_messages_people_can_act_on(api, values, expected):
    found = messages(api, {**VALID, **values})
    assert any(expected in text for text in found), found
    assert all(text.startswith("instance 'api-prod', ") for text in found)
    assert len(found) == 1 or values == {"hostname": "ab"}


def test_secret_values_never_appear(api):
    found = messages(api, {**VALID, "db_password": "hunter2"})
    assert found == [
        (
            "instance 'api-prod', input 'db_password': the value is too short: 7 characters, "
            "at least 12 needed"
        )
    ]
    found = messages(api, {**VALID, "db_password": 31337})
    assert found == [
        (
            "instance 'api-prod', input 'db_password': expected a string, got a number; "
            "quote the value in YAML to keep it as written"
        )
    ]


def test_problem_text_without_where_source_or_line():
    assert str(Problem("", "port", "70000 is too big")) == "input 'port': 70000 is too big"
    assert str(Problem("pipeline", "a", "is required", kind="missing")) == (
        "pipeline, input 'a' is required"
    )
    assert str(Problem("", None, "no instances", source="svc.yaml")) == "svc.yaml: no instances"
    assert str(Problem("", "a", "bad", line=4)) == "line 4: input 'a': bad"
