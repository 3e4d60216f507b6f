"""Read `schema/schema.yaml`: Proton's subset of OpenAPI 3.0 data models.

Accepted shape::

    schema:
      format: {openapi: "3.0.0"}
      environment_input_type: EnvInput        # or service_input_type (+ pipeline_input_type)
      types:
        EnvInput: {type: object, description: ..., properties: {...}, required: [...]}

A property is one of `string`, `number`, `integer`, `boolean` or `array` (of one of the first
four). Everything else (nested objects, `$ref`, `oneOf`, unknown keywords) is refused with the
file, line, type and property named, every problem of the file at once.

Decisions on points Proton never documented:
- `integer` is accepted besides the console's string/number/boolean/array (it is OpenAPI).
- Only the types named by `*_input_type` are checked; other entries of `types:` are reported by
  `schema_problems` as unused, not refused.
- A keyword that does not apply to the property's type (`minLength` on a number) and a default
  that breaks its own constraints are warnings from `schema_problems`, not errors: OpenAPI
  ignores the first, and Proton registered bundles with the second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from protoncli.errors import BundleError, did_you_mean
from protoncli.schema.model import PROPERTY_TYPES, InputDef, InputType, Schema
from protoncli.schema.validate import value_problems
from protoncli.yamlio import MarkedDict, line_of, parse_yaml

OPENAPI_VERSION = "3.0.0"
SCHEMA_KEYS = (
    "format",
    "environment_input_type",
    "service_input_type",
    "pipeline_input_type",
    "types",
)
TYPE_KEYS = ("type", "description", "properties", "required")
ITEM_TYPES = ("string", "number", "integer", "boolean")
ITEM_KEYWORDS = (
    "type",
    "title",
    "description",
    "format",
    "enum",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
)
PROPERTY_KEYWORDS = (
    *ITEM_KEYWORDS,
    "default",
    "example",
    "minItems",
    "maxItems",
    "items",
)
SECRET_FORMAT = "password"  # noqa: S105 - the OpenAPI format name, not a password

_COUNT_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems")
_NUMBER_KEYWORDS = ("minimum", "maximum")
_TEXT_KEYWORDS = ("title", "description", "format")
_COMBINATORS = ("oneOf", "anyOf", "allOf", "not")
_TYPES_TEXT = "string, number, integer, boolean or array"


class _Problems:
    """Problems of one schema file, each `source:line: text`, raised together."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, text: str) -> None:
        where = f"{self.source}:{line}" if line else self.source
        self.items.append((line, f"{where}: {text}"))

    def error(self) -> BundleError:
        """One error for every problem, in file order."""
        hint = f"inputs are {_TYPES_TEXT} (arrays of the first four); see the blueprint format"
        texts = [text for _, text in sorted(self.items, key=lambda item: item[0])]
        if len(texts) == 1:
            return BundleError(texts[0], hint=hint)
        return BundleError(f"{self.source}: {len(texts)} problems", hint=hint, details=texts)


def parse_schema(text: str, source: str) -> Schema:
    """Parse a bundle's schema file; raise one `BundleError` listing every problem."""
    document = parse_yaml(text, source, BundleError, marked=True)
    if not isinstance(document, dict) or not isinstance(document.get("schema"), MarkedDict):
        raise BundleError(
            f"{source}: expected a top-level 'schema:' mapping",
            hint="a schema file starts with 'schema:' holding format, *_input_type and types",
        )
    root = document["schema"]
    problems = _Problems(source)
    for key in root:
        if key not in SCHEMA_KEYS:
            allowed = ", ".join(SCHEMA_KEYS)
            problems.add(line_of(root, key), f"unknown key 'schema.{key}' (allowed: {allowed})")
    _check_format(root, problems)
    kind, main_name, pipeline_name = _input_type_names(root, problems)
    types = root.get("types")
    if not isinstance(types, MarkedDict):
        problems.add(line_of(root, "types"), "'schema.types' must be a mapping of type names")
        raise problems.error()
    main = _named_type(types, main_name, root, problems)
    pipeline = _named_type(types, pipeline_name, root, problems) if pipeline_name else None
    if problems.items or main is None:
        raise problems.error()
    return Schema(source=source, kind=kind, main=main, pipeline=pipeline, raw=document)


def _check_format(root: MarkedDict, problems: _Problems) -> None:
    fmt = root.get("format")
    if not isinstance(fmt, dict) or "openapi" not in fmt:
        line = line_of(root, "format") or root.line
        problems.add(line, f"'schema.format' must be {{openapi: \"{OPENAPI_VERSION}\"}}")
        return
    if str(fmt["openapi"]) != OPENAPI_VERSION:
        problems.add(
            line_of(fmt, "openapi"),
            f"format.openapi is '{fmt['openapi']}'; Proton schemas use \"{OPENAPI_VERSION}\"",
        )


def _input_type_names(root: MarkedDict, problems: _Problems) -> tuple[str, str | None, str | None]:
    """Return (kind, main type name, pipeline type name) as the schema declares them."""
    names: dict[str, str | None] = {}
    for key in ("environment_input_type", "service_input_type", "pipeline_input_type"):
        value = root.get(key)
        if key in root and not isinstance(value, str):
            problems.add(line_of(root, key), f"'schema.{key}' must be the name of a type")
            value = None
        names[key] = value
    environment, service = names["environment_input_type"], names["service_input_type"]
    if "environment_input_type" in root and "service_input_type" in root:
        problems.add(
            line_of(root, "service_input_type"),
            "give environment_input_type or service_input_type, not both",
        )
    elif "environment_input_type" not in root and "service_input_type" not in root:
        problems.add(
            root.line,
            "missing environment_input_type (environment blueprint) "
            "or service_input_type (service blueprint)",
        )
    if "pipeline_input_type" in root and "service_input_type" not in root:
        problems.add(
            line_of(root, "pipeline_input_type"),
            "pipeline_input_type is only for service blueprints (with service_input_type)",
        )
    if "service_input_type" in root:
        return "service", service, names["pipeline_input_type"]
    return "environment", environment, None


def _named_type(
    types: MarkedDict, name: str | None, root: MarkedDict, problems: _Problems
) -> InputType | None:
    if name is None:
        return None
    if name not in types:
        key = next(k for k in SCHEMA_KEYS if root.get(k) == name)
        known = ", ".join(types) or "none"
        problems.add(
            line_of(root, key),
            f"{key} names type '{name}', which is not under types (types: {known})"
            + did_you_mean(name, list(types)),
        )
        return None
    return _parse_input_type(name, types[name], line_of(types, name), problems)


def _parse_input_type(name: str, body: Any, line: int, problems: _Problems) -> InputType | None:
    where = f"type '{name}'"
    if not isinstance(body, MarkedDict):
        problems.add(line, f"{where} must be a mapping with type: object and properties")
        return None
    for key in body:
        if key not in TYPE_KEYS:
            problems.add(
                line_of(body, key),
                f"{where}: key '{key}' is not supported (allowed: {', '.join(TYPE_KEYS)})",
            )
    if body.get("type") != "object":
        problems.add(body.key_lines.get("type", line), f"{where} must have type: object")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        problems.add(line_of(body, "description"), f"{where}: description must be text")
        description = None
    properties = body.get("properties") or MarkedDict()
    if not isinstance(properties, MarkedDict):
        problems.add(line_of(body, "properties"), f"{where}: properties must be a mapping")
        properties = MarkedDict()
    required = _required_names(where, body, properties, problems)
    inputs = []
    for prop_name, prop in properties.items():
        item = _parse_property(where, prop_name, prop, line_of(properties, prop_name), problems)
        if item is not None:
            inputs.append(_input_def(prop_name, item, required=prop_name in required))
    return InputType(name=name, description=description, inputs=tuple(inputs), raw=body)


def _required_names(
    where: str, body: MarkedDict, properties: Mapping[str, Any], problems: _Problems
) -> set[str]:
    required = body.get("required") or []
    line = line_of(body, "required")
    if not isinstance(required, list) or not all(isinstance(n, str) for n in required):
        problems.add(line, f"{where}: required must be a list of property names")
        return set()
    for item in required:
        if item not in properties:
            known = ", ".join(properties) or "none"
            problems.add(
                line,
                f"{where}: required lists '{item}', which is not a property "
                f"(properties: {known})" + did_you_mean(item, list(properties)),
            )
    return set(required)


def _parse_property(
    where: str, name: str, prop: Any, line: int, problems: _Problems
) -> MarkedDict | None:
    """Check one property; return it when it is usable, None when it was refused."""
    where = f"{where}, property '{name}'"
    if not isinstance(prop, MarkedDict):
        problems.add(line, f"{where}: must be a mapping such as {{type: string}}")
        return None
    count = len(problems.items)
    prop_type = _check_type(where, prop, line, problems, allowed=PROPERTY_TYPES)
    if prop.get("type") == "object":
        return None  # its properties and the like are part of the refused nested object
    _check_keywords(where, prop, problems, allowed=PROPERTY_KEYWORDS)
    if prop_type == "array":
        _check_items(where, prop, line, problems)
    return prop if len(problems.items) == count else None


def _check_type(
    where: str, prop: MarkedDict, line: int, problems: _Problems, *, allowed: tuple[str, ...]
) -> str | None:
    prop_type = prop.get("type")
    allowed_text = ", ".join(allowed)
    if "type" not in prop:
        if "$ref" in prop or any(key in prop for key in _COMBINATORS):
            return None  # reported with the keywords
        problems.add(line, f"{where}: has no type (give type: {allowed_text})")
        return None
    if prop_type == "object":
        problems.add(
            line_of(prop, "type"),
            f"{where}: nested objects (type: object) are not supported; "
            f"an input is one of {allowed_text}",
        )
        return None
    if prop_type not in allowed:
        closest = did_you_mean(str(prop_type), allowed)
        problems.add(
            line_of(prop, "type"),
            f"{where}: type '{prop_type}' is not supported (use one of {allowed_text}){closest}",
        )
        return None
    return str(prop_type)


def _check_keywords(
    where: str, prop: MarkedDict, problems: _Problems, *, allowed: tuple[str, ...]
) -> None:
    for key, value in prop.items():
        line = line_of(prop, key)
        if key not in allowed:
            problems.add(line, f"{where}: {_unsupported_keyword(key, allowed)}")
        else:
            message = _keyword_value_problem(key, value)
            if message:
                problems.add(line, f"{where}: {message}")


def _unsupported_keyword(key: str, allowed: tuple[str, ...]) -> str:
    if key == "$ref":
        return f"'$ref' is not supported; write the property inline with a type ({_TYPES_TEXT})"
    if key in _COMBINATORS:
        return f"'{key}' is not supported; give the property a single type ({_TYPES_TEXT})"
    suggestion = did_you_mean(key, allowed)
    return f"keyword '{key}' is not supported{suggestion} (allowed: {', '.join(allowed)})"


def _keyword_value_problem(key: str, value: Any) -> str | None:  # noqa: PLR0911 - one return per keyword
    """Say what is wrong with the value of a supported keyword, or None."""
    if key in _COUNT_KEYWORDS:
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
        return None if ok else f"{key} must be a whole number of 0 or more, not {value!r}"
    if key in _NUMBER_KEYWORDS:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"{key} must be a number, not {value!r}"
    if key in _TEXT_KEYWORDS:
        return None if isinstance(value, str) else f"{key} must be text, not {value!r}"
    if key == "enum":
        plain = isinstance(value, list) and not any(isinstance(v, dict | list) for v in value)
        return None if plain and value else "enum must be a non-empty list of plain values"
    if key == "pattern":
        if not isinstance(value, str):
            return f"pattern must be text (a regular expression), not {value!r}"
        try:
            re.compile(value)
        except re.error as exc:
            return f"pattern {value!r} is not a valid regular expression: {exc}"
    return None


def _check_items(where: str, prop: MarkedDict, line: int, problems: _Problems) -> None:
    items = prop.get("items")
    if items is None:
        problems.add(
            line, f"{where}: an array needs items with a type, such as items: {{type: string}}"
        )
        return
    item_where = f"{where}, items"
    if not isinstance(items, MarkedDict):
        problems.add(
            line_of(prop, "items"), f"{item_where}: must be a mapping such as {{type: string}}"
        )
        return
    items_line = line_of(prop, "items")
    item_type = items.get("type")
    if item_type in ("array", "object"):
        problems.add(
            line_of(items, "type"),
            f"{item_where}: arrays of {item_type}s are not supported; "
            f"items are one of {', '.join(ITEM_TYPES)}",
        )
        return
    _check_type(item_where, items, items_line, problems, allowed=ITEM_TYPES)
    _check_keywords(item_where, items, problems, allowed=ITEM_KEYWORDS)


def _input_def(name: str, prop: MarkedDict, *, required: bool) -> InputDef:
    enum = prop.get("enum")
    return InputDef(
        name=name,
        type=str(prop["type"]),
        required=required,
        has_default="default" in prop,
        default=prop.get("default"),
        title=prop.get("title"),
        description=prop.get("description"),
        enum=tuple(enum) if isinstance(enum, list) else None,
        secret=prop.get("format") == SECRET_FORMAT,
        raw=prop,
    )


# ---------------------------------------------------------------------------------------------
# Warnings a linter shows about a schema that parsed


_KEYWORD_TYPES: dict[str, tuple[str, ...]] = {
    "minLength": ("string",),
    "maxLength": ("string",),
    "pattern": ("string",),
    "minimum": ("number", "integer"),
    "maximum": ("number", "integer"),
    "minItems": ("array",),
    "maxItems": ("array",),
    "items": ("array",),
}
_BOUNDS = (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems"))
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def schema_problems(schema: Schema) -> list[str]:
    """Warnings about a schema that parsed: things Proton accepted that are probably mistakes."""
    warnings: list[str] = []
    input_types = [schema.main] if schema.pipeline is None else [schema.main, schema.pipeline]
    for input_type in input_types:
        for item in input_type.inputs:
            where = f"{schema.source}:{_input_line(input_type, item.name)}: "
            where += f"type '{input_type.name}', input '{item.name}'"
            warnings.extend(f"{where}: {text}" for text in _input_warnings(item))
    root = schema.raw.get("schema", {})
    types = root.get("types", {})
    used = {t.name for t in input_types}
    warnings.extend(
        f"{schema.source}:{line_of(types, name)}: type '{name}' is defined but no "
        "*_input_type names it; it is ignored"
        for name in types
        if name not in used
    )
    return warnings


def _input_line(input_type: InputType, name: str) -> int:
    properties = input_type.raw.get("properties")
    return line_of(properties, name)


def _input_warnings(item: InputDef) -> list[str]:
    prop = item.raw or {}
    warnings = []
    if not _NAME.match(item.name):
        warnings.append(
            "the name is not an identifier (letters, digits, _); templates cannot write "
            f"inputs.{item.name}"
        )
    warnings.extend(_inapplicable_keywords(item.type, prop))
    warnings.extend(_bound_warnings(prop))
    if item.type == "array" and isinstance(prop.get("items"), dict):
        items = prop["items"]
        warnings.extend(f"items: {text}" for text in _inapplicable_keywords(items["type"], items))
        warnings.extend(f"items: {text}" for text in _bound_warnings(items))
        warnings.extend(f"items: {text}" for text in _enum_warnings(items))
    warnings.extend(_enum_warnings(prop))
    if item.has_default:
        warnings.extend(
            f"the default does not fit the schema: {text}"
            for text in value_problems(prop, item.default, secret=item.secret)
        )
        if item.required:
            warnings.append("is required and has a default; the default makes it optional")
        if item.secret:
            warnings.append("is secret (format: password) but has a default written in the bundle")
    return warnings


def _inapplicable_keywords(prop_type: str, prop: Mapping[str, Any]) -> list[str]:
    return [
        f"{key} has no effect on a {prop_type} input (it applies to {' and '.join(types)})"
        for key, types in _KEYWORD_TYPES.items()
        if key in prop and prop_type not in types
    ]


def _bound_warnings(prop: Mapping[str, Any]) -> list[str]:
    return [
        f"{low} {prop[low]} is greater than {high} {prop[high]}; no value can satisfy both"
        for low, high in _BOUNDS
        if _is_number(prop.get(low)) and _is_number(prop.get(high)) and prop[low] > prop[high]
    ]


def _enum_warnings(prop: Mapping[str, Any]) -> list[str]:
    enum = prop.get("enum")
    if not isinstance(enum, list):
        return []
    bare = {key: value for key, value in prop.items() if key not in ("enum", "default")}
    warnings = [
        f"an enum value does not fit the schema: {text}"
        for value in enum
        for text in value_problems(bare, value, secret=False)
    ]
    seen: list[tuple[type, Any]] = []
    for value in enum:
        if (type(value), value) in seen:
            warnings.append(f"enum lists {value!r} more than once")
        seen.append((type(value), value))
    return warnings


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
