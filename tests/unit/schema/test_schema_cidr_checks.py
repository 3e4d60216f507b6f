"""Address ranges (CIDR blocks) that AWS certainly refuses, found when a spec is checked: a subnet
outside the VPC's range, subnets that overlap, host bits set, numbers out of bounds. Nothing
else is judged (an ingress range, a peer network, specs with no VPC input)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from protoncli.errors import InputError
from protoncli.schema.cidr import cidr_pattern, declares_ranges, role_of
from protoncli.schema.parse import parse_schema
from protoncli.schema.validate import validate_inputs, value_problems
from protoncli.specs.model import EnvironmentSpec
from protoncli.specs.resolve import resolve_environment_spec

REPO = Path(__file__).resolve().parents[3]
VPC_SCHEMA = REPO / "blueprints" / "vpc-ecs-env" / "v1" / "schema" / "schema.yaml"
CIDR = r"^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$"


@pytest.fixture
def vpc_schema():
    """The vpc-ecs-env starter's schema: a VPC range, two subnet ranges, an ingress range."""
    return parse_schema(VPC_SCHEMA.read_text(), str(VPC_SCHEMA))


def problems(schema, **values):
    return [str(problem) for problem in validate_inputs(schema.main, values, where="")]


def resolve(schema, **values):
    spec = EnvironmentSpec(inputs=values, source="dev.yaml")
    return resolve_environment_spec(schema, spec)


def test_a_subnet_outside_the_vpc_range_is_refused_before_any_deploy(vpc_schema):
    with pytest.raises(InputError) as raised:
        resolve(vpc_schema, vpc_cidr="10.0.0.0/17", public_subnet_two_cidr="10.0.200.0/24")

    assert raised.value.message == (
        "dev.yaml: input 'public_subnet_two_cidr': '10.0.200.0/24' is not inside the VPC's "
        "range 10.0.0.0/17 (input 'vpc_cidr')"
    )


def test_subnets_that_overlap_are_refused(vpc_schema):
    assert problems(
        vpc_schema,
        vpc_cidr="10.0.0.0/16",
        public_subnet_one_cidr="10.0.0.0/23",
        public_subnet_two_cidr="10.0.1.128/25",
    ) == [
        (
            "input 'public_subnet_two_cidr': '10.0.1.128/25' overlaps the subnet range 10.0.0.0/23 "
            "(input 'public_subnet_one_cidr') in the same VPC"
        )
    ]


def test_a_range_with_host_bits_set_is_refused_with_the_range_to_write(vpc_schema):
    assert problems(vpc_schema, vpc_cidr="10.0.0.5/16") == [
        (
            "input 'vpc_cidr': '10.0.0.5/16' has host bits set; AWS takes only the range's first "
            "address: 10.0.0.0/16"
        )
    ]
    assert problems(vpc_schema, load_balancer_ingress_cidr="192.168.1.7/16") == [
        (
            "input 'load_balancer_ingress_cidr': '192.168.1.7/16' has host bits set; AWS takes "
            "only the range's first address: 192.168.0.0/16"
        )
    ]


def test_numbers_out_of_bounds_are_refused_though_the_pattern_takes_them(vpc_schema):
    assert problems(vpc_schema, public_subnet_one_cidr="10.0.300.0/24") == [
        (
            "input 'public_subnet_one_cidr': '10.0.300.0/24' is not an address range: each of its "
            "four numbers must be 0 to 255, the prefix 0 to 32"
        )
    ]


def test_a_vpc_given_against_the_default_subnets_is_the_given_values_problem(vpc_schema):
    """The defaults' subnets do not fit the VPC given: an error naming the VPC input (a problem
    of a default alone would only be a warning about the blueprint)."""
    with pytest.raises(InputError) as raised:
        resolve(vpc_schema, vpc_cidr="192.168.0.0/16")

    assert raised.value.details == [
        (
            "dev.yaml: input 'vpc_cidr': '192.168.0.0/16' does not contain the subnet range "
            "10.0.0.0/24 (input 'public_subnet_one_cidr', its default)"
        ),
        (
            "dev.yaml: input 'vpc_cidr': '192.168.0.0/16' does not contain the subnet range "
            "10.0.1.0/24 (input 'public_subnet_two_cidr', its default)"
        ),
    ]


def test_what_aws_accepts_passes(vpc_schema):
    resolved = resolve(
        vpc_schema,
        vpc_cidr="172.16.0.0/16",
        public_subnet_one_cidr="172.16.0.0/24",
        public_subnet_two_cidr="172.16.1.0/24",
        load_balancer_ingress_cidr="203.0.113.0/24",  # outside the VPC: not a subnet
    )

    assert resolved.inputs["vpc_cidr"] == "172.16.0.0/16"
    assert problems(vpc_schema, public_subnet_one_cidr="10.0.0.0/16") == []  # the whole VPC


UNTYPED = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      environment_input_type: NetInput
      types:
        NetInput:
          type: object
          properties:
            VpcCidrBlock: {type: string}
            private_subnets: {type: array, items: {type: string}}
            peer_subnet_cidr: {type: string}
            note: {type: string}
    """
)


def test_values_that_read_as_ranges_are_checked_when_another_input_holds_one():
    schema = parse_schema(UNTYPED, "schema.yaml")

    found = problems(
        schema,
        VpcCidrBlock="10.0.0.0/16",
        private_subnets=["10.0.0.0/24", "10.9.0.0/24", "10.0.0.128/25"],
        peer_subnet_cidr="192.168.0.0/24",  # another network: not judged against the VPC
        note="a/b",
    )

    assert found == [
        (
            "input 'private_subnets': item 2: '10.9.0.0/24' is not inside the VPC's range "
            "10.0.0.0/16 (input 'VpcCidrBlock')"
        ),
        (
            "input 'private_subnets': item 3: '10.0.0.128/25' overlaps the subnet range "
            "10.0.0.0/24 (input 'private_subnets' item 1) in the same VPC"
        ),
    ]


def test_a_lone_value_that_reads_as_a_range_is_not_judged():
    schema = parse_schema(UNTYPED, "schema.yaml")

    assert problems(schema, note="10.0.0.5/16") == []


def test_without_one_vpc_input_subnets_are_not_judged_against_each_other():
    schema = parse_schema(UNTYPED.replace("VpcCidrBlock", "other_range"), "schema.yaml")

    assert problems(schema, other_range="10.0.0.0/16", private_subnets=["10.0.0.0/24"] * 2) == []


def test_one_value_of_an_input_declared_as_ranges():
    prop = {"type": "string", "pattern": CIDR}
    listed = {"type": "array", "items": {"type": "string", "format": "cidr"}}

    assert value_problems(prop, "10.0.0.5/16", secret=False) == [
        "'10.0.0.5/16' has host bits set; AWS takes only the range's first address: 10.0.0.0/16"
    ]
    assert value_problems(listed, ["10.0.0.0/16", "10.0.0.1/32", "10.1.1.0/16"], secret=False) == [
        (
            "item 3: '10.1.1.0/16' has host bits set; AWS takes only the range's first address: "
            "10.1.0.0/16"
        )
    ]
    assert value_problems({"type": "string"}, "10.0.0.5/16", secret=False) == []


@pytest.mark.parametrize(
    ("prop", "declared"),
    [
        ({"type": "string", "pattern": CIDR}, True),
        ({"type": "string", "format": "ipv4-cidr"}, True),
        ({"type": "string", "pattern": "^2001:db8:[0-9a-f:]*/[0-9]+$"}, True),
        ({"type": "string", "pattern": "^.*$"}, False),  # takes bare addresses and any text
        ({"type": "string", "pattern": "/"}, False),  # takes "a/b"
        ({"type": "string", "pattern": r"^([0-9]{1,3}\.){3}[0-9]{1,3}$"}, False),  # addresses
        ({"type": "integer"}, False),
    ],
)
def test_which_schemas_declare_ranges(prop, declared):
    assert declares_ranges(prop) is declared


def test_a_pattern_tied_to_one_network_declares_ranges_with_no_prefix_words():
    found = cidr_pattern(r"^10\.[0-9]+\.[0-9]+\.[0-9]+/[0-9]+$")

    assert found is not None
    assert found.prefixes == frozenset()  # not every sample address: no words from probing


@pytest.mark.parametrize(
    ("name", "title", "role"),
    [
        ("vpc_cidr", None, "vpc"),
        ("VpcCidrBlock", None, "vpc"),
        ("cidr", "VPC CIDR block", "vpc"),
        ("public_subnet_one_cidr", None, "subnet"),
        ("privateSubnetCidrs", None, "subnet"),
        ("vpc_ingress_cidr", None, None),
        ("peer_subnet_cidr", None, None),
        ("load_balancer_ingress_cidr", None, None),
        ("cidr1", "Subnet in the first zone", "subnet"),
        ("allowed_cidr", "Subnet of the clients", None),  # the name says another network
    ],
)
def test_roles_come_from_the_name_else_the_title(name, title, role):
    from protoncli.schema.model import InputDef

    item = InputDef(name=name, type="string", required=False, has_default=False, title=title)

    assert role_of(item) == role


def test_a_pass_remembered_before_these_rules_does_not_hide_them(vpc_schema):
    """A value an earlier build of this pcli version found valid (its verdict remembered with
    the key of that build: no rules version in it) is checked again."""
    import hashlib
    import json

    from protoncli import __version__, paths
    from protoncli.schema.validate import to_json_schema
    from protoncli.schema.verdicts import FOLDER

    values = {"vpc_cidr": "10.0.0.5/16"}
    schema = to_json_schema(vpc_schema.main)
    text = json.dumps(
        [__version__, schema, values], sort_keys=True, allow_nan=False, separators=(",", ":")
    )
    earlier = paths.cache_dir() / FOLDER / hashlib.sha256(text.encode("utf-8")).hexdigest()
    earlier.parent.mkdir(parents=True, exist_ok=True)
    earlier.touch()

    assert [problem.input for problem in validate_inputs(vpc_schema.main, values, where="")] == [
        "vpc_cidr"
    ]
