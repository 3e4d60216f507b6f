"""Check input values against an input type with jsonschema, in words people can act on.

An input type becomes a draft 2020-12 JSON Schema (`to_json_schema`); `jsonschema` finds every
violation and each is rewritten to name the input and say what to write instead.

Type rules (YAML gives the values, JSON Schema judges them):
- A YAML integer (`80`) is a `number` as well as an `integer`; `80.0` is an `integer` too
  (JSON Schema counts a float with no fraction as an integer).
- A `string` input given a YAML number, boolean or date (`80`, `yes`, `2024-01-01`) is a
  violation, never converted: the message asks to quote the value, because YAML has already
  changed what was written (`1.10` became `1.1`).
- Booleans are never numbers, and numbers are never booleans.
- Keys the schema does not define are not errors here (no `additionalProperties: false`); the
  resolver warns about them.
- Values of secret inputs (`format: password`) never appear in messages.
- A secret input whose value is a dynamic reference (`{{resolve:secretsmanager:...}}`,
  `{{resolve:ssm-secure:...}}`) passes without type, pattern or length checks: the value it
  stands for was checked before it was stored. A value that starts like a reference but is not
  a well-formed one is a problem.
- A `pattern` is said in words when it has one of the common shapes (`schema.patterns`), and
  shown as written otherwise.
- Address ranges (CIDR blocks) are checked for what AWS certainly refuses: host bits set, a
  subnet outside the VPC's range, subnets that overlap (`schema.cidr` says which inputs, and
  why these rules only).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from protoncli.schema.cidr import prop_range_problems, spec_range_problems
from protoncli.schema.model import InputDef, InputType
from protoncli.schema.patterns import describe
from protoncli.schema.secrets import looks_like_reference, reference_problem
from protoncli.schema.verdicts import known_valid, remember_valid, verdict_key

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"

MISSING = "missing"  # a required input that has no value
INVALID = "invalid"  # a value that breaks the schema
UNRESOLVED = "unresolved"  # a ${Proton::CURRENT_VAL} with no previous value to take
OTHER = "other"  # anything else about a spec (no instances, unresolved placeholder)

_TYPE_WORDS = {
    "string": "a string",
    "number": "a number",
    "integer": "a whole number (integer)",
    "boolean": "true or false",
    "array": "a list",
}
_BOOLEAN_WORDS = ("true", "false", "yes", "no", "on", "off")
_SHOWN_CHARS = 60


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the inputs of a spec: where it is, which input, what is wrong."""

    where: str  # "instance 'api-prod'", "pipeline", "environment spec"
    input: str | None
    message: str
    line: int | None = None
    source: str | None = None  # the spec file
    kind: str = INVALID  # MISSING, INVALID, UNRESOLVED or OTHER

    def __str__(self) -> str:
        location = self.source or ""
        if self.line:
            location = f"{location}:{self.line}" if location else f"line {self.line}"
        subject = self.where
        if self.input is not None:
            named = f"input '{self.input}'"
            subject = f"{subject}, {named}" if subject else named
        separator = " " if self.kind in (MISSING, UNRESOLVED) else ": "
        text = f"{subject}{separator}{self.message}" if subject else self.message
        return f"{location}: {text}" if location else text


def to_json_schema(input_type: InputType) -> dict[str, Any]:
    """The JSON Schema of one input type's values; unknown keys stay allowed."""
    properties = {item.name: _plain(item.raw or {"type": item.type}) for item in input_type.inputs}
    schema: dict[str, Any] = {"$schema": JSON_SCHEMA_DRAFT, "type": "object"}
    if input_type.description:
        schema["description"] = input_type.description
    schema["properties"] = properties
    required = [item.name for item in input_type.inputs if item.required]
    if required:
        schema["required"] = required
    return schema


def validate_inputs(
    input_type: InputType,
    values: Mapping[str, Any],
    *,
    where: str,
    key_lines: Mapping[str, int] | None = None,
    source: str | None = None,
    line: int | None = None,
) -> list[Problem]:
    """Every violation of `values` against `input_type`, in schema order.

    `key_lines` gives the line of each input in the spec; `line` is used for a missing input
    (the line of the instance or of `spec:`).
    """
    schema = to_json_schema(input_type)
    key = None if _holds_secret(input_type, values) else verdict_key(schema, dict(values))
    if known_valid(key):
        return []
    from jsonschema import Draft202012Validator

    lines = key_lines or {}
    validator = Draft202012Validator(schema)
    found: list[tuple[int, Problem]] = []
    missing: set[str] = set()
    order = {item.name: index for index, item in enumerate(input_type.inputs)}
    references = _secret_references(input_type, values)
    for error in validator.iter_errors({k: v for k, v in values.items() if k not in references}):
        path = list(error.absolute_path)
        if error.validator == "required" and not path:
            missing.update(name for name in error.validator_value if name not in values)
            continue
        name = str(path[0]) if path else None
        item = input_type.get(name) if name else None
        secret = item.secret if item else False
        message = _error_text(error, secret=secret, path=path[1:])
        problem = Problem(where, name, message, lines.get(name or "", line), source)
        found.append((order.get(name or "", len(order)), problem))
    for name in missing:
        problem = Problem(where, name, _missing_text(input_type, name), line, source, MISSING)
        found.append((order.get(name, len(order)), problem))
    for name, text in references.items():
        if text is not None:
            found.append((order[name], Problem(where, name, text, lines.get(name, line), source)))
    for name, text in spec_range_problems(input_type, values):
        found.append((order[name], Problem(where, name, text, lines.get(name, line), source)))
    found.sort(key=lambda pair: pair[0])
    if not found:
        remember_valid(key)
    return [problem for _, problem in found]


def _holds_secret(input_type: InputType, values: Mapping[str, Any]) -> bool:
    return any(item.secret and item.name in values for item in input_type.inputs)


def _secret_references(input_type: InputType, values: Mapping[str, Any]) -> dict[str, str | None]:
    """Secret inputs whose value is written as a dynamic reference, each with what is wrong
    with the reference (None when it is well formed)."""
    return {
        item.name: reference_problem(values[item.name])
        for item in input_type.inputs
        if item.secret and item.name in values and looks_like_reference(values[item.name])
    }


def value_problems(
    prop: Mapping[str, Any], value: Any, *, secret: bool, remember: bool = True
) -> list[str]:
    """Every violation of one value against one property schema, as plain sentences.

    `remember=False` checks without recording a pass in the verdict cache (answers checked as
    they are typed would fill it with every prefix of every answer).
    """
    if secret and looks_like_reference(value):
        problem = reference_problem(value)
        return [] if problem is None else [problem]
    schema = {"$schema": JSON_SCHEMA_DRAFT, **_plain(prop)}
    key = None if secret else verdict_key(schema, value)
    if known_valid(key):
        return []
    from jsonschema import Draft202012Validator

    problems = [
        _error_text(error, secret=secret, path=list(error.absolute_path))
        for error in Draft202012Validator(schema).iter_errors(value)
    ]
    if not secret:
        problems += prop_range_problems(prop, value)
    if not problems and remember:
        remember_valid(key)
    return problems


def _missing_text(input_type: InputType, name: str) -> str:
    item = input_type.get(name)
    if item is None:
        return "is required"
    about = _type_name(item)
    if item.description:
        about = f"{about}: {item.description.strip()}"
    return f"is required ({about})"


def _type_name(item: InputDef) -> str:
    if item.type == "array" and isinstance(item.raw, Mapping):
        items = item.raw.get("items")
        if isinstance(items, Mapping) and "type" in items:
            return f"type array of {items['type']}"
    return f"type {item.type}"


def _error_text(error: ValidationError, *, secret: bool, path: list[str | int]) -> str:
    text = _rewrite(str(error.validator), error.validator_value, error.instance, secret=secret)
    if path and isinstance(path[0], int):
        return f"item {path[0] + 1}: {text}"
    return text


def _rewrite(keyword: str, expected: Any, value: Any, *, secret: bool) -> str:  # noqa: PLR0911 - one return per keyword
    shown = _show(value, secret=secret)
    if keyword == "type":
        return _type_text(str(expected), value, secret=secret)
    if keyword == "enum":
        allowed = ", ".join(_show(item, secret=False) for item in expected)
        return f"{shown} is not one of the allowed values: {allowed}"
    if keyword == "pattern":
        words = describe(str(expected))
        if words is not None:
            return f"{shown} must be {words}"
        return f"{shown} does not match the pattern {expected}"
    if keyword in ("minLength", "maxLength"):
        size = _count(len(value), "character")
        if keyword == "minLength":
            return f"{shown} is too short: {size}, at least {expected} needed"
        return f"{shown} is too long: {size}, at most {expected} allowed"
    if keyword == "minimum":
        return f"{shown} is less than the minimum of {expected}"
    if keyword == "maximum":
        return f"{shown} is greater than the maximum of {expected}"
    if keyword in ("minItems", "maxItems"):
        bound = "at least" if keyword == "minItems" else "at most"
        return f"the list has {_count(len(value), 'item')}; {bound} {expected} allowed"
    return f"{shown} does not satisfy {keyword}: {expected}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _type_text(expected: str, value: Any, *, secret: bool) -> str:
    text = f"expected {_TYPE_WORDS.get(expected, expected)}, got {_describe(value, secret=secret)}"
    if expected == "string" and isinstance(value, bool | int | float | dt.date):
        return f"{text}; quote the value in YAML to keep it as written"
    if isinstance(value, str) and expected in ("number", "integer") and _looks_numeric(value):
        return f"{text}; remove the quotes to make it a number"
    if isinstance(value, str) and expected == "boolean" and value.lower() in _BOOLEAN_WORDS:
        return f"{text}; write true or false without quotes"
    if expected == "array" and not isinstance(value, list):
        return f"{text}; write a YAML list such as [a, b]"
    return text


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _describe(value: Any, *, secret: bool) -> str:  # noqa: PLR0911 - one return per kind of value
    """Name a value's kind, and the value itself unless it is secret."""
    if value is None:
        return "an empty value (null)"
    if isinstance(value, bool):
        return "a boolean" if secret else f"the boolean {json.dumps(value)}"
    if isinstance(value, int | float):
        return "a number" if secret else f"the number {value}"
    if isinstance(value, str):
        return "a string" if secret else f"the string {_show(value, secret=False)}"
    if isinstance(value, dt.date):
        return "a date" if secret else f"the date {value.isoformat()}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def _show(value: Any, *, secret: bool) -> str:
    """A value as a message shows it: strings in quotes, YAML spelling for the rest."""
    if secret:
        return "the value"
    if isinstance(value, str):
        short = value if len(value) <= _SHOWN_CHARS else value[: _SHOWN_CHARS - 3] + "..."
        return f"'{short}'"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_show(item, secret=False) for item in value) + "]"
    return str(value)


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (no line-marked mappings)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
