"""The inputs each resource renders with: schema defaults, then spec values, then checks.

inputs = schema defaults, overridden by spec values; an optional input with no default that
the spec omits is absent, so templates can test `is defined` as they do under Proton.

Decisions on points Proton left open:
- Unknown keys in a spec are warnings (with a close-match hint) and are dropped from the inputs.
- Pipeline inputs given for a blueprint without a pipeline are a warning ("ignored"), not an
  error: they change nothing, and failing would refuse specs Proton may have taken.
- `${Proton::CURRENT_VAL}` takes the value the previous spec gives the same input (same instance
  name; the previous pipeline for the pipeline). When the previous spec does not set the input,
  or no previous spec is given, it is a problem even if the input has a default: the deployed
  value may have come from another version's default, and guessing would change a live stack.
- A blueprint default that breaks its own schema is a warning and is used as written (Proton
  registered such bundles); only values from the spec make a spec invalid.
- Every problem of the whole spec (pipeline and all instances) is raised in one `InputError`.
- A secret input (`format: password`) whose value is written in plain text in a spec file is a
  warning naming the file, line and input, not an error: specs carried over from Proton hold
  such values, and refusing them would stop every deploy of those resources. pcli never rewrites
  the file on its own; the warning says how to move the value to Secrets Manager.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from protoncli.errors import InputError, did_you_mean
from protoncli.schema.model import InputDef, InputType, Schema
from protoncli.schema.secrets import SECRETS_DOC, holds_plain_secret
from protoncli.schema.validate import OTHER, UNRESOLVED, Problem, validate_inputs
from protoncli.specs.model import CURRENT_VAL, EnvironmentSpec, ServiceSpec

TRUE_WORDS = ("true", "yes", "y", "1")
FALSE_WORDS = ("false", "no", "n", "0")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class ResolvedEnvironment:
    inputs: dict[str, Any]
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class ResolvedService:
    pipeline_inputs: dict[str, Any] | None  # None when the blueprint has no pipeline
    instances: dict[str, dict[str, Any]]  # instance name -> inputs, in spec order
    warnings: tuple[str, ...]


def resolve_inputs(
    input_type: InputType,
    values: Mapping[str, Any],
    *,
    where: str,
    previous: Mapping[str, Any] | None = None,
    key_lines: Mapping[str, int] | None = None,
    source: str | None = None,
    line: int | None = None,
) -> tuple[dict[str, Any], list[Problem], list[str]]:
    """Merge defaults and `values`; return (inputs in schema order, problems, warnings).

    `where` names the resource in messages ("instance 'api'", "pipeline", "" for an
    environment); `line` is the resource's line, used for inputs that have no line of their own.
    """
    lines = key_lines or {}
    given: dict[str, Any] = {}
    problems: list[Problem] = []
    warnings: list[str] = []
    for key, value in values.items():
        item = input_type.get(key)
        if item is None:
            warnings.append(_unknown_key_warning(input_type, key, where, lines.get(key), source))
        elif value == CURRENT_VAL:
            if _has_previous_value(previous, key):
                given[key] = copy.deepcopy(previous[key])  # type: ignore[index] # checked above
            else:
                problems.append(_unresolved(key, where, lines.get(key, line), source))
        else:
            given[key] = value
            if item.secret and key in lines and holds_plain_secret(value):
                warnings.append(_plain_secret_warning(key, where, lines[key], source))
    merged = _merge_defaults(input_type, given)
    unresolved = {problem.input for problem in problems}
    for problem in validate_inputs(
        input_type, merged, where=where, key_lines=lines, source=source, line=line
    ):
        if problem.input in unresolved:
            continue
        if problem.input in merged and problem.input not in given:
            warnings.append(
                f"input '{problem.input}': the blueprint's default does not fit its schema "
                f"({problem.message}); it is used as written"
            )
        else:
            problems.append(problem)
    return merged, problems, warnings


def _plain_secret_warning(key: str, where: str, line: int, source: str | None) -> str:
    location = f"{source}:{line}" if source else f"line {line}"
    subject = f"{where}, input '{key}'" if where else f"input '{key}'"
    return (
        f"{location}: {subject} is secret (format: password) but its value is written in plain "
        "text in this file; store it in AWS Secrets Manager and write "
        "{{resolve:secretsmanager:NAME:SecretString}} in its place (pcli does not rewrite the "
        f"file; see {SECRETS_DOC})"
    )


def _has_previous_value(previous: Mapping[str, Any] | None, key: str) -> bool:
    return previous is not None and key in previous and previous[key] != CURRENT_VAL


def _unresolved(key: str, where: str, line: int | None, source: str | None) -> Problem:
    message = (
        f"uses {CURRENT_VAL} but there is no previous value; give a value or pass the previous spec"
    )
    return Problem(where, key, message, line, source, UNRESOLVED)


def _merge_defaults(input_type: InputType, given: Mapping[str, Any]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for item in input_type.inputs:
        if item.name in given:
            merged[item.name] = given[item.name]
        elif item.has_default:
            merged[item.name] = copy.deepcopy(item.default)
    return merged


def _unknown_key_warning(
    input_type: InputType, key: str, where: str, line: int | None, source: str | None
) -> str:
    location = source or ""
    if line:
        location = f"{location}:{line}"
    prefix = "".join(f"{part}: " for part in (location, where) if part)
    names = [item.name for item in input_type.inputs]
    return f"{prefix}unknown input '{key}' is ignored{did_you_mean(key, names)}"


def resolve_environment_spec(
    schema: Schema, spec: EnvironmentSpec, previous: EnvironmentSpec | None = None
) -> ResolvedEnvironment:
    """Inputs of an environment; one `InputError` lists every problem."""
    _check_kind(schema, spec.source, "environment")
    inputs, problems, warnings = resolve_inputs(
        schema.main,
        spec.inputs,
        where="",
        previous=previous.inputs if previous else None,
        key_lines=spec.key_lines,
        source=spec.source,
    )
    _raise_problems(problems, warnings, spec.source, spec.header)
    return ResolvedEnvironment(inputs=inputs, warnings=tuple(dict.fromkeys(warnings)))


def resolve_service_spec(
    schema: Schema,
    spec: ServiceSpec,
    previous: ServiceSpec | None = None,
    *,
    has_pipeline: bool,
) -> ResolvedService:
    """Inputs of a service's pipeline and instances; one `InputError` lists every problem."""
    _check_kind(schema, spec.source, "service")
    problems: list[Problem] = []
    warnings: list[str] = []
    pipeline_inputs = _resolve_pipeline(
        schema, spec, previous, has_pipeline=has_pipeline, problems=problems, warnings=warnings
    )
    if not spec.instances:
        message = "the service has no instances; add one under instances: (name, environment)"
        problems.append(Problem("", None, message, None, spec.source, OTHER))
    instances: dict[str, dict[str, Any]] = {}
    for instance in spec.instances:
        before = previous.instance(instance.name) if previous else None
        inputs, found, notes = resolve_inputs(
            schema.main,
            instance.inputs,
            where=f"instance '{instance.name}'",
            previous=before.inputs if before else None,
            key_lines=instance.key_lines,
            source=spec.source,
            line=instance.line or None,
        )
        instances[instance.name] = inputs
        problems.extend(found)
        warnings.extend(notes)
    _raise_problems(problems, warnings, spec.source, spec.header)
    return ResolvedService(
        pipeline_inputs=pipeline_inputs,
        instances=instances,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _resolve_pipeline(
    schema: Schema,
    spec: ServiceSpec,
    previous: ServiceSpec | None,
    *,
    has_pipeline: bool,
    problems: list[Problem],
    warnings: list[str],
) -> dict[str, Any] | None:
    if not has_pipeline:
        if spec.pipeline:
            warnings.append(
                f"{spec.source}: pipeline inputs are ignored: the blueprint has no pipeline"
            )
        return None
    if schema.pipeline is None:
        if spec.pipeline:
            warnings.append(
                f"{spec.source}: pipeline inputs are ignored: the schema has no pipeline_input_type"
            )
        return {}
    inputs, found, notes = resolve_inputs(
        schema.pipeline,
        spec.pipeline or {},
        where="pipeline",
        previous=previous.pipeline if previous else None,
        key_lines=spec.pipeline_key_lines,
        source=spec.source,
    )
    problems.extend(found)
    warnings.extend(notes)
    return inputs


def _check_kind(schema: Schema, source: str, expected: str) -> None:
    if schema.kind != expected:
        spec_kind = "an EnvironmentSpec" if expected == "environment" else "a ServiceSpec"
        raise InputError(
            f"{source}: {spec_kind} cannot use {schema.source}: it is a {schema.kind} blueprint",
            hint="check the blueprint named by the spec's 'blueprint:' key",
        )


def _raise_problems(
    problems: list[Problem], warnings: list[str], source: str, header: Mapping[str, Any]
) -> None:
    """Raise one `InputError` for every problem; warnings follow them as details.

    The warnings ride along because an unknown key often explains a missing input.
    """
    if not problems:
        return
    name = header.get("blueprint") or "NAME"
    hint = f"see the blueprint's inputs with: pcli blueprint show {name}"
    notes = [f"warning: {text}" for text in dict.fromkeys(warnings)]
    if len(problems) == 1:
        raise InputError(str(problems[0]), hint=hint, details=notes)
    raise InputError(
        f"{source}: {len(problems)} inputs are not valid",
        hint=hint,
        details=[str(problem) for problem in problems] + notes,
    )


# ---------------------------------------------------------------------------------------------
# --param KEY=VALUE


class ConversionError(ValueError):
    """A --param text that does not read as the input's type; the argument says what fits."""


def apply_params(
    values: Mapping[str, Any], params: Mapping[str, str], input_type: InputType
) -> dict[str, Any]:
    """`values` updated with `--param` texts converted by the schema's types.

    Booleans read true/false/yes/no/y/n/1/0; arrays read a JSON list (`["a", "b"]`) or a
    comma-separated list (`a, b`), whose items are converted by the items' type.
    `${Proton::CURRENT_VAL}` is kept as it is, for the resolver to take the previous value.
    """
    result = dict(values)
    errors: list[str] = []
    for key, text in params.items():
        item = input_type.get(key)
        if item is None:
            names = [entry.name for entry in input_type.inputs]
            errors.append(
                f"--param {key}: the blueprint has no input '{key}'{did_you_mean(key, names)}"
            )
            continue
        if text == CURRENT_VAL:
            result[key] = text  # resolved later from the previous spec
            continue
        try:
            result[key] = _convert(item, text)
        except ConversionError as exc:
            shown = "" if item.secret else f", got '{text}'"
            errors.append(f"--param {key}: input '{key}' expects {exc}{shown}")
    if errors:
        known = ", ".join(entry.name for entry in input_type.inputs) or "none"
        hint = f"inputs of '{input_type.name}': {known}"
        if len(errors) == 1:
            raise InputError(errors[0], hint=hint)
        raise InputError(f"{len(errors)} --param values are not valid", hint=hint, details=errors)
    return result


def _convert(item: InputDef, text: str) -> Any:
    if item.type == "array":
        return _convert_array(item, text)
    return convert_scalar(item.type, text)


def convert_scalar(kind: str, text: str) -> Any:
    """`text` read as a value of a primitive input type (what --param and prompts accept);
    ConversionError, whose text says what fits, when it does not read as one."""
    word = text.strip()
    if kind == "integer":
        if not _INTEGER.match(word):
            raise ConversionError("a whole number (integer)")
        return int(word)
    if kind == "number":
        if _INTEGER.match(word):
            return int(word)
        try:
            number = float(word)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ConversionError("a number")
        return number
    if kind == "boolean":
        if word.lower() in TRUE_WORDS:
            return True
        if word.lower() in FALSE_WORDS:
            return False
        raise ConversionError("true or false (also yes/no, y/n, 1/0)")
    return text


def _convert_array(item: InputDef, text: str) -> list[Any]:
    items = (item.raw or {}).get("items")
    item_type = str(items.get("type", "string")) if isinstance(items, Mapping) else "string"
    word = text.strip()
    if word.startswith("["):
        try:
            parsed = json.loads(word)
        except json.JSONDecodeError as exc:
            raise ConversionError(f"a JSON list or comma-separated values ({exc.msg})") from exc
        if not isinstance(parsed, list):
            raise ConversionError("a JSON list or comma-separated values")
        return parsed
    if not word:
        return []
    parts = [part.strip() for part in word.split(",")]
    try:
        return [convert_scalar(item_type, part) for part in parts]
    except ConversionError as exc:
        raise ConversionError(f"a list of {item_type} values (each {exc})") from exc
