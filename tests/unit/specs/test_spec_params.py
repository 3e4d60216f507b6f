from __future__ import annotations

import textwrap

import pytest

from protoncli.errors import InputError
from protoncli.schema.model import InputType
from protoncli.schema.parse import parse_schema
from protoncli.specs.resolve import apply_params

SCHEMA = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      environment_input_type: ClusterInput
      types:
        ClusterInput:
          type: object
          properties:
            cluster_name: {type: string}
            node_count: {type: integer}
            cpu_share: {type: number}
            spot: {type: boolean}
            zones: {type: array, items: {type: string}}
            ports: {type: array, items: {type: integer}}
            weights: {type: array, items: {type: number}}
            flags: {type: array, items: {type: boolean}}
            admin_token: {type: string, format: password}
            secret_count: {type: integer, format: password}
    """
)


@pytest.fixture(scope="module")
def cluster() -> InputType:
    return parse_schema(SCHEMA, "schema.yaml").main


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("cluster_name", " main, 1 ", " main, 1 "),
        ("cluster_name", "80", "80"),
        ("node_count", "3", 3),
        ("node_count", "-2", -2),
        ("node_count", "+7", 7),
        ("cpu_share", "80", 80),
        ("cpu_share", "0.25", 0.25),
        ("cpu_share", "1e3", 1000.0),
        ("spot", "true", True),
        ("spot", "Yes", True),
        ("spot", "1", True),
        ("spot", "FALSE", False),
        ("spot", "no", False),
        ("spot", "0", False),
        ("zones", "eu-west-1a, eu-west-1b", ["eu-west-1a", "eu-west-1b"]),
        ("zones", '["a,b", "c"]', ["a,b", "c"]),
        ("zones", "", []),
        ("zones", "single", ["single"]),
        ("ports", "80,443", [80, 443]),
        ("ports", "[80, 443]", [80, 443]),
        ("weights", "0.5, 2", [0.5, 2]),
        ("flags", "yes,no", [True, False]),
        ("admin_token", "s3cr3t", "s3cr3t"),
    ],
)
def test_conversions_by_schema_type(cluster, key, text, expected):
    result = apply_params({}, {key: text}, cluster)
    assert result == {key: expected}
    assert type(result[key]) is type(expected)


def test_current_val_is_kept_for_the_resolver(cluster):
    result = apply_params({}, {"node_count": "${Proton::CURRENT_VAL}"}, cluster)
    assert result == {"node_count": "${Proton::CURRENT_VAL}"}


def test_params_override_and_keep_other_values(cluster):
    values = {"cluster_name": "old", "node_count": 1}
    result = apply_params(values, {"cluster_name": "new"}, cluster)
    assert result == {"cluster_name": "new", "node_count": 1}
    assert values == {"cluster_name": "old", "node_count": 1}


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        (
            "node_count",
            "3.5",
            "--param node_count: input 'node_count' expects a whole number (integer), got '3.5'",
        ),
        (
            "node_count",
            "three",
            "--param node_count: input 'node_count' expects a whole number (integer), got 'three'",
        ),
        ("cpu_share", "fast", "--param cpu_share: input 'cpu_share' expects a number, got 'fast'"),
        ("cpu_share", "nan", "--param cpu_share: input 'cpu_share' expects a number, got 'nan'"),
        ("cpu_share", "inf", "--param cpu_share: input 'cpu_share' expects a number, got 'inf'"),
        (
            "spot",
            "maybe",
            "--param spot: input 'spot' expects true or false (also yes/no, y/n, 1/0), got 'maybe'",
        ),
        (
            "zones",
            "[a, b]",
            (
                "--param zones: input 'zones' expects a JSON list or comma-separated "
                "values (Expecting value), got '[a, b]'"
            ),
        ),
        (
            "ports",
            "80,http",
            (
                "--param ports: input 'ports' expects a list of integer values "
                "(each a whole number (integer)), got '80,http'"
            ),
        ),
        (
            "secret_count",
            "many",
            "--param secret_count: input 'secret_count' expects a whole number (integer)",
        ),
        (
            "cluster_nme",
            "x",
            (
                "--param cluster_nme: the blueprint has no input 'cluster_nme' "
                "(did you mean 'cluster_name'?)"
            ),
        ),
        ("region", "x", "--param region: the blueprint has no input 'region'"),
    ],
)
def test_wrong_params_name_input_type_and_value(cluster, key, text, expected):
    with pytest.raises(InputError) as caught:
        apply_params({}, {key: text}, cluster)
    assert caught.value.message == expected
    assert caught.value.hint == (
        "inputs of 'ClusterInput': cluster_name, node_count, cpu_share, spot, zones, ports, "
        "weights, flags, admin_token, secret_count"
    )


def test_json_that_is_not_a_list(cluster):
    with pytest.raises(InputError) as caught:
        apply_params({}, {"zones": "[1]x"}, cluster)
    assert "expects a JSON list or comma-separated values" in caught.value.message


def test_every_wrong_param_at_once(cluster):
    with pytest.raises(InputError) as caught:
        apply_params({}, {"node_count": "x", "spot": "maybe", "cluster_name": "ok"}, cluster)
    assert caught.value.message == "2 --param values are not valid"
    assert caught.value.details == [
        "--param node_count: input 'node_count' expects a whole number (integer), got 'x'",
        "--param spot: input 'spot' expects true or false (also yes/no, y/n, 1/0), got 'maybe'",
    ]
