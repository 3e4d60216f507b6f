"""Small real bundles written into tmp_path, for the registry, compatibility and sync tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from protoncli.blueprints.registry import Registry

ENV_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: {description}
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: "{{{{ environment.inputs.vpc_cidr }}}}"
Outputs:
  VpcId:
    Value: !Ref Vpc
"""

SERVICE_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: {description}
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{{{ service.name }}}}-{{{{ service_instance.name }}}}"
      DelaySeconds: "{{{{ service_instance.inputs.port }}}}"
"""

PIPELINE_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ service.name }}-pipeline"
"""

CFN_MANIFEST = {
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

ENV_PROPERTIES: dict[str, Any] = {
    "vpc_cidr": {"type": "string", "default": "10.0.0.0/16", "pattern": r"^[0-9./]+$"},
    "az_count": {"type": "number", "default": 2, "minimum": 1, "maximum": 3},
}

SERVICE_PROPERTIES: dict[str, Any] = {
    "port": {"type": "number", "default": 80, "minimum": 0, "maximum": 65535},
    "size": {"type": "string", "enum": ["small", "medium", "large"], "default": "small"},
}

PIPELINE_PROPERTIES: dict[str, Any] = {
    "test_command": {"type": "string", "default": "make test"},
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _schema(
    kind: str, main: str, properties: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    type_schema: dict[str, Any] = {
        "type": "object",
        "description": f"Inputs of {main}",
        "properties": properties,
    }
    if required:
        type_schema["required"] = required
    return {
        "schema": {
            "format": {"openapi": "3.0.0"},
            f"{kind}_input_type": main,
            "types": {main: type_schema},
        }
    }


class BundleFactory:
    """Writes environment and service bundles (CloudFormation) under a base folder."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def environment(
        self,
        folder: str = "network",
        *,
        properties: dict[str, Any] | None = None,
        required: list[str] | None = None,
        description: str = "network v1",
    ) -> Path:
        root = self.base / folder
        schema = _schema(
            "environment", "NetworkInput", properties or dict(ENV_PROPERTIES), required or []
        )
        _write(root / "schema" / "schema.yaml", yaml.safe_dump(schema, sort_keys=False))
        _write(root / "infrastructure" / "manifest.yaml", yaml.safe_dump(CFN_MANIFEST))
        _write(
            root / "infrastructure" / "cloudformation.yaml",
            ENV_TEMPLATE.format(description=description),
        )
        return root

    def service(
        self,
        folder: str = "web",
        *,
        properties: dict[str, Any] | None = None,
        required: list[str] | None = None,
        pipeline: dict[str, Any] | None = None,
        pipeline_folder: bool = True,
        registration: str | None = ".template-registration.yaml",
        description: str = "web v1",
    ) -> Path:
        root = self.base / folder
        schema = _schema(
            "service", "WebInput", properties or dict(SERVICE_PROPERTIES), required or []
        )
        if pipeline is not None:
            schema["schema"]["pipeline_input_type"] = "PipelineInput"
            schema["schema"]["types"]["PipelineInput"] = {
                "type": "object",
                "properties": pipeline,
            }
        _write(root / "schema" / "schema.yaml", yaml.safe_dump(schema, sort_keys=False))
        instance = root / "instance_infrastructure"
        _write(instance / "manifest.yaml", yaml.safe_dump(CFN_MANIFEST))
        _write(instance / "cloudformation.yaml", SERVICE_TEMPLATE.format(description=description))
        if pipeline is not None and pipeline_folder:
            _write(root / "pipeline_infrastructure" / "manifest.yaml", yaml.safe_dump(CFN_MANIFEST))
            _write(root / "pipeline_infrastructure" / "cloudformation.yaml", PIPELINE_TEMPLATE)
        if registration == ".template-registration.yaml":
            _write(
                root / registration,
                "compatible_environments:\n  - network:1\nsupported_component_sources:\n"
                "  - DIRECTLY_DEFINED\n",
            )
        elif registration == ".compatible-envs":
            _write(root / registration, "network:1\n")
        return root


@pytest.fixture
def bundles(tmp_path: Path) -> BundleFactory:
    return BundleFactory(tmp_path / "src")


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "registry")
