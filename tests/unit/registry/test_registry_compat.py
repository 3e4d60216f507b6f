"""A new minor version must keep the previous minor's schema backward compatible."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from protoncli.blueprints.compat import schema_incompatibilities
from protoncli.blueprints.registry import IncompatibleSchemaError
from protoncli.errors import RegistryError
from protoncli.schema.parse import parse_schema

BASE: dict[str, Any] = {
    "vpc_cidr": {"type": "string", "default": "10.0.0.0/16", "pattern": "^[0-9./]+$"},
    "az_count": {"type": "number", "default": 2, "minimum": 1, "maximum": 3},
    "label": {"type": "string", "minLength": 1, "maxLength": 20},
    "tier": {"type": "string", "enum": ["dev", "prod"], "default": "dev"},
    "subnets": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
    "owner": {"type": "string"},
}
BASE_REQUIRED = ["vpc_cidr"]


def _changed(**changes: Any) -> dict[str, Any]:
    properties = copy.deepcopy(BASE)
    for name, change in changes.items():
        if change is None:
            del properties[name]
        else:
            properties.setdefault(name, {}).update(change)
    return properties


def _without(name: str, key: str) -> dict[str, Any]:
    properties = copy.deepcopy(BASE)
    del properties[name][key]
    return properties


INCOMPATIBLE = [
    (_changed(label=None), BASE_REQUIRED, "NetworkInput.label: input removed"),
    (
        _changed(team={"type": "string"}),
        [*BASE_REQUIRED, "team"],
        "NetworkInput.team: new required input without a default",
    ),
    (BASE, [*BASE_REQUIRED, "owner"], "NetworkInput.owner: became required without a default"),
    (
        _changed(az_count={"type": "string", "minimum": None, "maximum": None, "default": "2"}),
        BASE_REQUIRED,
        "NetworkInput.az_count: type changed from number to string",
    ),
    (
        _changed(subnets={"items": {"type": "number"}}),
        BASE_REQUIRED,
        "NetworkInput.subnets: array item type changed from string to number",
    ),
    (
        _changed(tier={"enum": ["dev"]}),
        BASE_REQUIRED,
        "NetworkInput.tier: enum narrowed: 'prod' removed",
    ),
    (
        _changed(owner={"enum": ["alice", "bob"]}),
        BASE_REQUIRED,
        "NetworkInput.owner: enum added: values restricted to 'alice', 'bob'",
    ),
    (
        _changed(vpc_cidr={"pattern": "^10[.]"}),
        BASE_REQUIRED,
        "NetworkInput.vpc_cidr: pattern changed from '^[0-9./]+$' to '^10[.]'",
    ),
    (
        _changed(owner={"pattern": "^[a-z]+$"}),
        BASE_REQUIRED,
        "NetworkInput.owner: pattern added to '^[a-z]+$'",
    ),
    (
        _changed(label={"minLength": 3}),
        BASE_REQUIRED,
        "NetworkInput.label: minLength raised from 1 to 3",
    ),
    (
        _changed(label={"maxLength": 10}),
        BASE_REQUIRED,
        "NetworkInput.label: maxLength lowered from 20 to 10",
    ),
    (
        _changed(az_count={"minimum": 2}),
        BASE_REQUIRED,
        "NetworkInput.az_count: minimum raised from 1 to 2",
    ),
    (
        _changed(az_count={"maximum": 2}),
        BASE_REQUIRED,
        "NetworkInput.az_count: maximum lowered from 3 to 2",
    ),
    (
        _changed(subnets={"minItems": 2}),
        BASE_REQUIRED,
        "NetworkInput.subnets: minItems raised from 1 to 2",
    ),
    (
        _changed(subnets={"maxItems": 3}),
        BASE_REQUIRED,
        "NetworkInput.subnets: maxItems lowered from 4 to 3",
    ),
    (
        _changed(owner={"maxLength": 5}),
        BASE_REQUIRED,
        "NetworkInput.owner: maxLength 5 added",
    ),
    (
        _changed(subnets={"items": {"type": "string", "pattern": "^subnet-"}}),
        BASE_REQUIRED,
        "NetworkInput.subnets: item pattern added to '^subnet-'",
    ),
    (
        _without("vpc_cidr", "default"),
        BASE_REQUIRED,
        "NetworkInput.vpc_cidr: default removed from a required input",
    ),
]


def _strip_none(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {key: value for key, value in prop.items() if value is not None}
        for name, prop in properties.items()
    }


@pytest.mark.parametrize(
    ("properties", "required", "reason"),
    INCOMPATIBLE,
    ids=[case[2].split(": ", 1)[1] for case in INCOMPATIBLE],
)
def test_incompatible_minor_is_refused_with_the_reason(
    registry, bundles, properties, required, reason
):
    registry.publish(bundles.environment("network", properties=BASE, required=BASE_REQUIRED))
    changed = bundles.environment(
        "next/network", properties=_strip_none(properties), required=required
    )

    with pytest.raises(RegistryError) as caught:
        registry.publish(changed)

    assert isinstance(caught.value, IncompatibleSchemaError)
    assert caught.value.details == [reason]
    assert caught.value.message == (
        "network 1.1: schema is not backward compatible with 1.0, "
        "so it cannot be a new minor version"
    )
    assert caught.value.hint == "publish it as a new major version (--major)"
    assert [v.version for v in registry.versions("network")] == ["1.0"]


def test_every_reason_is_listed_and_major_accepts_the_change(registry, bundles):
    registry.publish(bundles.environment("network", properties=BASE, required=BASE_REQUIRED))
    properties = _changed(label=None, tier={"enum": ["prod"]})
    changed = bundles.environment("next/network", properties=properties, required=BASE_REQUIRED)

    with pytest.raises(RegistryError) as caught:
        registry.publish(changed)
    result = registry.publish(changed, major=True)

    assert caught.value.details == [
        "NetworkInput.label: input removed",
        "NetworkInput.tier: enum narrowed: 'dev' removed",
    ]
    assert result.version.version == "2.0"


def test_compatible_changes_make_a_new_minor(registry, bundles):
    registry.publish(bundles.environment("network", properties=BASE, required=BASE_REQUIRED))
    properties = _changed(
        region={"type": "string"},
        zone={"type": "string", "default": "a"},
        owner={"default": "platform"},
        az_count={"maximum": 6, "minimum": 0},
        label={"minLength": 0, "maxLength": 40},
        tier={"enum": ["dev", "prod", "staging"]},
        subnets={"minItems": 0},
    )
    del properties["vpc_cidr"]["pattern"]
    del properties["subnets"]["maxItems"]
    changed = bundles.environment("next/network", properties=properties, required=["zone", "owner"])

    result = registry.publish(changed)

    assert result.created
    assert result.version.version == "1.1"


def test_the_check_is_against_the_latest_minor_of_the_target_major(registry, bundles):
    no_label = _changed(label=None)
    registry.publish(bundles.environment("network", properties=BASE))
    registry.publish(bundles.environment("v2/network", properties=no_label), major=True)

    same_as_two = registry.publish(
        bundles.environment("v2b/network", properties=no_label, description="fix")
    )
    with pytest.raises(RegistryError) as into_one:
        registry.publish(
            bundles.environment("v1b/network", properties=no_label, description="fix one"), major=1
        )

    assert same_as_two.version.version == "2.1"
    assert into_one.value.details == ["NetworkInput.label: input removed"]
    assert "network 1.1:" in into_one.value.message
    assert [v.version for v in registry.versions("network")] == ["1.0", "2.0", "2.1"]


def test_dropping_the_pipeline_is_refused(registry, bundles):
    registry.publish(bundles.service("web", pipeline={"test_command": {"type": "string"}}))
    no_pipeline = bundles.service("next/web", description="no pipeline")

    with pytest.raises(RegistryError) as caught:
        registry.publish(no_pipeline, name="web")

    assert caught.value.details == [
        "pipeline dropped: the pipeline_infrastructure folder was removed",
        "pipeline dropped: pipeline_input_type PipelineInput was removed",
    ]


def test_a_new_required_pipeline_input_without_default_is_refused(registry, bundles):
    registry.publish(bundles.service("web", pipeline={"test_command": {"type": "string"}}))
    changed = bundles.service(
        "next/web",
        pipeline={"test_command": {"type": "string"}, "stage": {"type": "string"}},
    )
    schema_file = changed / "schema" / "schema.yaml"
    schema_file.write_text(
        schema_file.read_text().replace(
            "PipelineInput:\n      type: object\n",
            "PipelineInput:\n      type: object\n      required:\n      - stage\n",
        )
    )

    with pytest.raises(RegistryError) as caught:
        registry.publish(changed, name="web")

    assert caught.value.details == ["PipelineInput.stage: new required input without a default"]


def _schema(kind: str, properties: str, pipeline: str | None = None) -> Any:
    text = (
        "schema:\n  format:\n    openapi: '3.0.0'\n"
        f"  {kind}_input_type: Main\n"
        + ("  pipeline_input_type: Pipe\n" if pipeline else "")
        + "  types:\n    Main:\n      type: object\n      properties:\n"
        + properties
        + (f"    Pipe:\n      type: object\n      properties:\n{pipeline}" if pipeline else "")
    )
    return parse_schema(text, "schema.yaml")


def test_kind_change_and_component_schemas():
    env = _schema("environment", "        a: {type: string}\n")
    svc = _schema("service", "        a: {type: string}\n")

    assert schema_incompatibilities(env, svc, old_has_pipeline=False, new_has_pipeline=False) == [
        "kind changed from environment to service"
    ]
    assert schema_incompatibilities(None, env, old_has_pipeline=False, new_has_pipeline=False) == [
        "kind changed from component to environment"
    ]
    assert (
        schema_incompatibilities(None, None, old_has_pipeline=False, new_has_pipeline=False) == []
    )


def test_pipeline_folder_removed_while_the_schema_keeps_its_type():
    pipe = "        b: {type: string}\n"
    old = _schema("service", "        a: {type: string}\n", pipe)
    new = _schema("service", "        a: {type: string}\n", pipe)

    reasons = schema_incompatibilities(old, new, old_has_pipeline=True, new_has_pipeline=False)

    assert reasons == ["pipeline dropped: the pipeline_infrastructure folder was removed"]


def test_integer_may_widen_to_number_but_not_the_reverse():
    integer = _schema("environment", "        a: {type: integer}\n")
    number = _schema("environment", "        a: {type: number}\n")

    widened = schema_incompatibilities(
        integer, number, old_has_pipeline=False, new_has_pipeline=False
    )
    narrowed = schema_incompatibilities(
        number, integer, old_has_pipeline=False, new_has_pipeline=False
    )

    assert widened == []
    assert narrowed == ["Main.a: type changed from number to integer"]
