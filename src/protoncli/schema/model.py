"""A parsed `schema/schema.yaml`: the input types of a blueprint, in schema order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PROPERTY_TYPES = ("string", "number", "integer", "boolean", "array")


@dataclass(frozen=True)
class InputDef:
    """One input (a property of the input type)."""

    name: str
    type: str  # one of PROPERTY_TYPES
    required: bool
    has_default: bool
    default: Any = None
    title: str | None = None
    description: str | None = None
    enum: tuple[Any, ...] | None = None
    secret: bool = False  # `format: password` marks a secret input
    raw: Mapping[str, Any] | None = None  # the property's schema as written

    @property
    def label(self) -> str:
        return self.title or self.name


@dataclass(frozen=True)
class InputType:
    """`environment_input_type`, `service_input_type` or `pipeline_input_type`."""

    name: str
    description: str | None
    inputs: tuple[InputDef, ...]
    raw: Mapping[str, Any]  # the object schema as written (type, properties, required)

    def get(self, name: str) -> InputDef | None:
        return next((item for item in self.inputs if item.name == name), None)


@dataclass(frozen=True)
class Schema:
    """The whole schema file of a bundle."""

    source: str  # file path, for messages
    kind: str  # "environment" | "service"
    main: InputType  # environment or service instance inputs
    pipeline: InputType | None
    raw: Mapping[str, Any]
