"""The starter blueprints' schemas, sample specs and registration files follow Proton's formats."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from protoncli.blueprints.bundle import load_bundle

PROTON_NAME = re.compile(r"^[0-9A-Za-z]+[0-9A-Za-z_\-]*$")
SCHEMA_KEYWORDS = {
    "type", "items", "enum", "pattern", "minLength", "maxLength",
    "minimum", "maximum", "default", "required", "title", "description",
}  # fmt: skip


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _input_types(bundle: Path) -> list[tuple[str, dict[str, Any]]]:
    schema = read_yaml(bundle / "schema/schema.yaml")["schema"]
    assert schema["format"] == {"openapi": "3.0.0"}
    keys = ("environment_input_type", "service_input_type", "pipeline_input_type")
    return [(key, schema["types"][schema[key]]) for key in keys if key in schema]


def _schema_bundles(starters: Path) -> list[Path]:
    return sorted(path.parent.parent for path in starters.glob("*/v1/schema/schema.yaml"))


def test_every_input_has_a_prompt_and_uses_only_protons_schema_subset(starters_dir):
    bundles = _schema_bundles(starters_dir)
    assert [b.parent.name for b in bundles] == [
        "external-env", "fargate-web-svc", "lambda-api-svc", "tf-vpc-env", "vpc-ecs-env",
    ]  # fmt: skip
    for bundle in bundles:
        for _key, input_object in _input_types(bundle):
            assert input_object["type"] == "object"
            assert input_object["description"]
            for name, prop in input_object["properties"].items():
                where = f"{bundle}: {name}"
                assert set(prop) <= SCHEMA_KEYWORDS, where
                assert prop["title"], where
                assert prop["description"], where
                assert prop["type"] in {"string", "number", "integer", "boolean", "array"}, where
                if "default" in prop:
                    jsonschema.validate(prop["default"], prop)


def test_sample_specs_are_valid_for_their_schemas(starters_dir):
    for bundle in _schema_bundles(starters_dir):
        spec = read_yaml(bundle / "spec/spec.yaml")
        types = dict(_input_types(bundle))
        if "environment_input_type" in types:
            assert spec["proton"] == "EnvironmentSpec"
            jsonschema.validate(spec["spec"], types["environment_input_type"])
            continue
        assert spec["proton"] == "ServiceSpec"
        assert ("pipeline" in spec) == ("pipeline_input_type" in types)
        if "pipeline" in spec:
            jsonschema.validate(spec["pipeline"], types["pipeline_input_type"])
        for instance in spec["instances"]:
            assert PROTON_NAME.match(instance["name"])
            assert instance["environment"] == "dev"
            jsonschema.validate(instance.get("spec") or {}, types["service_input_type"])


_REFERENCE = re.compile(r"\b(environment|service_instance|pipeline)\.inputs\.(\w+)")
_PROPERTY_OF = {
    "environment": "environment_input_type",
    "service_instance": "service_input_type",
    "pipeline": "pipeline_input_type",
}


def test_templates_use_every_input_and_only_inputs_the_schema_defines(starters_dir):
    for bundle in _schema_bundles(starters_dir):
        defined = {(key, name) for key, obj in _input_types(bundle) for name in obj["properties"]}
        used = {
            (_PROPERTY_OF[owner], name)
            for path in bundle.rglob("*")
            if path.is_file()
            and path.suffix in {".yaml", ".tf", ".py", ""}
            and "schema" not in path.parts
            for owner, name in _REFERENCE.findall(path.read_text(encoding="utf-8"))
        }
        assert used == defined, bundle


def test_services_register_for_their_environments_with_directly_defined_components(starters_dir):
    # lambda-api-svc needs only the environment's LogGroupName, which tf-vpc-env outputs too.
    environments = {
        "fargate-web-svc": ["vpc-ecs-env:1"],
        "lambda-api-svc": ["vpc-ecs-env:1", "tf-vpc-env:1"],
    }
    for name, compatible in environments.items():
        registration = read_yaml(starters_dir / name / "v1/.template-registration.yaml")
        assert registration == {
            "compatible_environments": compatible,
            "supported_component_sources": ["DIRECTLY_DEFINED"],
        }


def test_component_is_a_directly_defined_bundle_without_schema(starters_dir):
    bundle = starters_dir / "sqs-queue-component/v1"

    assert read_yaml(bundle / "manifest.yaml") == {
        "infrastructure": {
            "templates": [
                {
                    "file": "cloudformation.yaml",
                    "rendering_engine": "jinja",
                    "template_language": "cloudformation",
                }
            ]
        }
    }
    assert not (bundle / "schema").exists()


def test_pcli_loads_every_starter_as_the_blueprint_it_is(starters_dir):
    loaded = {path.parent.name: load_bundle(path) for path in sorted(starters_dir.glob("*/v1"))}

    summary = {
        name: (
            str(b.kind),
            str(b.provisioning),
            b.has_pipeline,
            [str(e) for e in b.compatible_environments],
        )
        for name, b in loaded.items()
    }
    assert summary == {
        "external-env": ("environment", "customer-managed", False, []),
        "fargate-web-svc": ("service", "cloudformation", True, ["vpc-ecs-env:1"]),
        "lambda-api-svc": (
            "service",
            "cloudformation",
            False,
            ["vpc-ecs-env:1", "tf-vpc-env:1"],
        ),
        "sqs-queue-component": ("component", "cloudformation", False, []),
        "tf-vpc-env": ("environment", "terraform", False, []),
        "vpc-ecs-env": ("environment", "cloudformation", False, []),
    }
    assert sorted(loaded["tf-vpc-env"].infrastructure.files) == [
        "main.tf",
        "outputs.tf",
        "versions.tf",
    ]
    assert sorted(loaded["fargate-web-svc"].skeleton_files()) == [
        ".pcli-ci.yaml", "Dockerfile", "app/{{ service.name }}.py",
    ]  # fmt: skip
