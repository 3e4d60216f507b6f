"""The values `pcli blueprint lint` makes up, and how it tells findings about them apart."""

from __future__ import annotations

import re

import pytest

from protoncli.blueprints.lint import placeholder_behind
from protoncli.blueprints.pattern_examples import pattern_examples
from protoncli.blueprints.placeholders import (
    Landing,
    find_landings,
    input_value,
    instance_input_references,
    literal_outputs,
    names_a_list,
    output_references,
    shaped,
    shaped_list,
)
from protoncli.schema.validate import value_problems

PATTERNS = [
    r"([0-9]{1,3}\.){3}[0-9]{1,3}($|/(16|24))",
    r"^$|^\d{12}(,\d{12})*$",
    r"^[a-z][a-z0-9-]{2,30}$",
    r"^(rate|cron)\(.+\)$",
    r"^arn:aws:iam::\d{12}:role/.+$",
    r"^[A-Z]{2}-[0-9]{4}$",
    r"(?i)^[a-f0-9]{8}$",
    r"^vpc-[0-9a-f]{8,17}$",
    r"^\w+(\.\w+)*$",
    r"^(?P<pair>ab)+$",
    r"^(?!aws)[a-z]+$",
    r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$",
    r"^/[a-z0-9/_-]*$",
    r"^[\x41-\x43]{3}\u0044$",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_pattern_examples_match_their_pattern(pattern):
    examples = list(pattern_examples(pattern, min_length=1))
    assert examples
    assert all(re.search(pattern, text) for text in examples)


def test_pattern_examples_keep_to_the_length_limits():
    examples = list(pattern_examples(r"^[a-z]+$", min_length=5, max_length=9))
    assert examples
    assert all(5 <= len(text) <= 9 for text in examples)


@pytest.mark.parametrize("pattern", ["[", "(ab", r"a{2,1}"])
def test_pattern_examples_of_a_pattern_they_cannot_read_are_none(pattern):
    assert list(pattern_examples(pattern)) == []


PROPERTIES = [
    ("port", {"type": "number", "minimum": 0, "maximum": 65535}, 8080),
    ("port", {"type": "number", "minimum": 1000, "maximum": 1010}, 1010),
    ("desired_count", {"type": "number"}, 1),
    ("memory", {"type": "integer", "minimum": 128, "maximum": 10240}, 512),
    ("retries", {"type": "number", "exclusiveMinimum": 3}, 4),
    ("size", {"type": "string", "enum": ["x-small", "small"]}, "x-small"),
    ("image", {"type": "string", "minLength": 1, "maxLength": 200}, None),
    ("schedule", {"type": "string", "pattern": r"^(rate|cron)\(.+\)$"}, "rate(5 minutes)"),
    ("vpc_cidr", {"type": "string", "pattern": r"([0-9]{1,3}\.){3}[0-9]{1,3}($|/(16|24))"}, None),
    ("queue", {"type": "string", "pattern": "^[a-z]{3,5}$"}, None),
    ("suffix", {"type": "string", "minLength": 3, "maxLength": 8}, None),
    ("long_name", {"type": "string", "minLength": 40}, None),
    ("account_ids", {"type": "string", "pattern": r"^$|^\d{12}(,\d{12})*$", "minLength": 1}, None),
    ("zones", {"type": "array", "items": {"type": "string"}, "minItems": 2}, None),
    ("flag", {"type": "boolean"}, False),
    ("example", {"type": "string", "example": "given-example"}, "given-example"),
]


@pytest.mark.parametrize(("name", "prop", "expected"), PROPERTIES)
def test_input_values_satisfy_their_schema(name, prop, expected):
    value = input_value(prop, name, seed=f"service_instance.inputs.{name}")
    assert value_problems(prop, value, secret=False, remember=False) == []
    if expected is not None:
        assert value == expected


def test_array_items_differ_so_that_subnet_ranges_do_not_overlap():
    prop = {"type": "array", "items": {"type": "string"}, "minItems": 3}
    assert input_value(prop, "private_subnet_cidrs", seed="s") == [
        "10.0.1.0/24",
        "10.0.2.0/24",
        "10.0.3.0/24",
    ]
    assert input_value(prop, "zones", seed="z") == ["us-east-1a", "us-east-1b", "us-east-1c"]


@pytest.mark.parametrize(
    ("name", "landing", "shape"),
    [
        ("VPC", None, r"vpc-[0-9a-f]{17}"),
        ("Anything", "VpcId", r"vpc-[0-9a-f]{17}"),
        ("PublicSubnet1", None, r"subnet-[0-9a-f]{17}"),
        ("VPCSecurityGroup", None, r"sg-[0-9a-f]{17}"),
        ("HostGroup", "GroupId", r"sg-[0-9a-f]{17}"),
        ("VpcCidr", None, r"10\.0\.0\.0/16"),
        ("ClusterArn", None, r"arn:aws:ecs:us-east-1:000000000000:cluster/placeholder-.+"),
        ("EventsTopic", "TopicArn", r"arn:aws:sns:us-east-1:000000000000:placeholder-.+"),
        ("TaskExecutionRoleArn", None, r"arn:aws:iam::000000000000:role/placeholder-.+"),
        ("Anything", "Role", r"arn:aws:iam::000000000000:role/placeholder-.+"),
        ("AppBucketArn", None, r"arn:aws:s3:::placeholder-.+"),
        ("VpcConnectorArn", None, r"arn:aws:apprunner:us-east-1:000000000000:vpcconnector/.+"),
        ("CloudMapNamespaceId", None, r"ns-[0-9a-f]{16}"),
        ("image", None, r"public\.ecr\.aws/.+/.+"),
        ("schedule_expression", None, r"rate\(5 minutes\)"),
        ("SNSRegion", None, r"us-east-1"),
        ("code_uri", None, r"s3://placeholder-[0-9a-f]{8}/code-uri\.zip"),
        ("Cluster", None, r"placeholder-cluster"),
    ],
)
def test_values_are_shaped_by_their_key_or_name(name, landing, shape):
    assert re.fullmatch(shape, shaped(name, landing=landing))


def test_shaped_values_differ_by_seed_and_split_lists_hold_three():
    assert shaped("VpcId", seed="a") != shaped("VpcId", seed="b")
    items = shaped_list("SubnetIds", ",", seed="x").split(",")
    assert len(items) == 3
    assert len(set(items)) == 3
    assert all(re.fullmatch(r"subnet-[0-9a-f]{17}", item) for item in items)
    assert names_a_list("PrivateSubnets")
    assert names_a_list("SecurityGroupIds")
    assert not names_a_list("Address")


def test_output_references_say_whose_outputs_and_how_they_are_split():
    text = (
        "{{ environment.outputs.VpcId }} {{ service_instance.components.default.outputs.Queue }}"
        " {{ service_instances[0].outputs.Runtime }} {{ environment.outputs['Sub nets'] }}"
        " {% for s in environment.outputs.SubnetIds.split(',') %}{% endfor %}"
        " {{ environment.outputs.items() }}"
    )
    found = {(ref.owner, ref.key): ref.split for ref in output_references([text])}
    assert found == {
        ("environment", "VpcId"): None,
        ("component", "Queue"): None,
        ("instance", "Runtime"): None,
        ("environment", "Sub nets"): None,
        ("environment", "SubnetIds"): ",",
    }
    assert instance_input_references(
        ["{{ service_instance.inputs.port }} {{ service_instance.inputs['a b'] }}"]
    ) == ["port", "a b"]


def test_landings_prefer_a_key_that_says_what_it_holds_and_a_split():
    document = {
        "Resources": {
            "Group": {"Properties": {"Tags": [{"Value": "vpc-value1"}], "VpcId": "vpc-value1"}},
            "Balancer": {"Properties": {"Subnets": {"Fn::Split": [",", "nets-value"]}}},
            "Bucket": {"Properties": {"BucketName": {"Fn::Sub": "x-name-value-y"}}},
        }
    }
    values = {"a": "vpc-value1", "b": "nets-value", "c": "name-value"}
    assert find_landings(document, values) == {
        "a": Landing("VpcId"),
        "b": Landing("Subnets", ","),
    }


def test_literal_outputs_are_the_plain_text_ones():
    document = {
        "Outputs": {
            "Runtime": {"Value": "python3.12"},
            "Port": {"Value": 8080},
            "Url": {"Value": {"Fn::GetAtt": ["Api", "Url"]}},
        }
    }
    assert literal_outputs(document) == {"Runtime": "python3.12", "Port": "8080"}


PLACEHOLDERS = {
    "vpc-0123456789abcdef0": "environment.outputs.VPC",
    "8080": "service_instance.inputs.port",
    "1": "service_instance.inputs.count",
    "lint-svc": "service.name",
    "us-east-1a": "environment.inputs.zones",
}


@pytest.mark.parametrize(
    ("message", "node", "label"),
    [
        (
            "'vpc-0123456789abcdef0' is not a 'AWS::EC2::VPC.Id' with pattern '^vpc-'",
            None,
            "environment.outputs.VPC",
        ),
        ("'lint-svc_web' does not match '^[a-z-]+$'", None, "service.name"),
        ("8080 is greater than the maximum of 100", None, "service_instance.inputs.port"),
        ("'placeholder-Flavor' is not one of ['a']", None, "an output"),
        (
            "Avoid hardcoding availability zones 'us-east-1a'",
            "us-east-1a",
            "environment.inputs.zones",
        ),
        ("'x' does not match 'vpc-0123456789abcdef0'", None, None),
        ("'11' is not one of ['a']", None, None),
        ("Additional properties are not allowed ('Portt' was unexpected)", "8080", None),
        ("'vpc-0123456789abcdef0' is not of type 'array'", None, None),
        ("Resource type 'AWS::X' does not exist in 'us-east-1a'", "AWS::X", None),
    ],
)
def test_a_finding_is_about_a_placeholder_when_the_value_it_objects_to_holds_one(
    message, node, label
):
    assert placeholder_behind(message, PLACEHOLDERS, node) == label
