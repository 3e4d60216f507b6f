"""Read and write spec files in Proton's shape, plus pcli's header keys.

Environment::

    blueprint: fargate-env      # pcli header (optional): blueprint, version, region
    version: "1.2"
    proton: EnvironmentSpec
    spec: {vpc_cidr: 10.0.0.0/16}

Service::

    blueprint: fargate-web-svc   # pcli header (optional): blueprint, version and the source
    repository_id: acme/web      # repository of a pipeline: repository_id, branch_name,
    branch_name: main            # repository_connection_arn (specs.repository)
    proton: ServiceSpec
    pipeline: {...}              # optional
    instances:
      - name: api-dev
        environment: dev
        spec: {...}              # optional

Block or flow YAML. Structural mistakes are errors (every one at once, with file and line); keys
pcli does not know are warnings, because Proton specs in the wild carry extra keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from protoncli.blueprints.limits import MAX_NAME_LENGTH, is_valid_name
from protoncli.errors import InputError, did_you_mean
from protoncli.specs.model import (
    ENVIRONMENT_SPEC,
    HEADER_KEYS,
    SERVICE_SPEC,
    EnvironmentSpec,
    InstanceSpec,
    ServiceSpec,
    Spec,
)
from protoncli.specs.repository import REPOSITORY_KEYS, shape_problem
from protoncli.yamlio import MarkedDict, line_of, parse_yaml, read_text

NAME_RULE = (
    "a letter or digit first, then letters, digits, '_' or '-', "
    f"at most {MAX_NAME_LENGTH} characters"
)
ENVIRONMENT_KEYS = (
    "proton",
    "spec",
    "blueprint",
    "version",
    "region",
    "account",
    "managed_elsewhere",
    "provisioning_repository",
)
SERVICE_KEYS = (
    "proton",
    "pipeline",
    "instances",
    "blueprint",
    "version",
    *REPOSITORY_KEYS,
)
INSTANCE_KEYS = ("name", "environment", "spec")
SPEC_KINDS = (ENVIRONMENT_SPEC, SERVICE_SPEC)
SPEC_SHAPE_HINT = (
    "a spec has 'proton: EnvironmentSpec' with 'spec:', or 'proton: ServiceSpec' with "
    "'instances:' (name, environment, spec) and an optional 'pipeline:'"
)


class _Report:
    """Errors and warnings found in one spec file; errors are raised together."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def _at(self, line: int, text: str) -> str:
        return f"{self.source}:{line}: {text}" if line else f"{self.source}: {text}"

    def error(self, line: int, text: str) -> None:
        self.errors.append(self._at(line, text))

    def warn(self, line: int, text: str) -> None:
        self.warnings.append(self._at(line, text))

    def raise_errors(self) -> None:
        if not self.errors:
            return
        hint = SPEC_SHAPE_HINT
        if len(self.errors) == 1:
            raise InputError(self.errors[0], hint=hint)
        raise InputError(
            f"{self.source}: {len(self.errors)} problems", hint=hint, details=list(self.errors)
        )


def parse_spec(text: str, source: str) -> Spec:
    """Parse a spec file's text; warnings are dropped (see `parse_spec_with_warnings`)."""
    return parse_spec_with_warnings(text, source)[0]


def load_spec(path: Path) -> Spec:
    return parse_spec(read_text(path, InputError), str(path))


def load_spec_with_warnings(path: Path) -> tuple[Spec, list[str]]:
    return parse_spec_with_warnings(read_text(path, InputError), str(path))


def parse_spec_with_warnings(text: str, source: str) -> tuple[Spec, list[str]]:
    """Parse a spec file's text; return the spec and warnings about keys pcli ignores."""
    document = parse_yaml(text, source, InputError, marked=True)
    if not isinstance(document, MarkedDict):
        raise InputError(
            f"{source}: a spec must be a mapping with 'proton: EnvironmentSpec' or "
            "'proton: ServiceSpec'",
            hint=SPEC_SHAPE_HINT,
        )
    report = _Report(source)
    kind = document.get("proton")
    if kind not in SPEC_KINDS:
        _report_bad_kind(document, report)
        report.raise_errors()
    allowed = ENVIRONMENT_KEYS if kind == ENVIRONMENT_SPEC else SERVICE_KEYS
    for key in document:
        if key == "region" and kind == SERVICE_SPEC:
            report.warn(
                line_of(document, key),
                "unknown key 'region' is ignored: a service runs in the regions of its "
                "environments",
            )
        elif key not in allowed:
            known = ", ".join(allowed)
            article = "an" if kind == ENVIRONMENT_SPEC else "a"
            report.warn(
                line_of(document, key),
                f"unknown key '{key}' is ignored{did_you_mean(key, allowed)} "
                f"({article} {kind} has: {known})",
            )
    header = _header(document, report, allowed)
    spec: Spec
    if kind == ENVIRONMENT_SPEC:
        inputs, key_lines = _inputs(document, "spec", "spec", report)
        spec = EnvironmentSpec(inputs=inputs, source=source, header=header, key_lines=key_lines)
    else:
        spec = _service_spec(document, header, report)
    report.raise_errors()
    return spec, report.warnings


def _report_bad_kind(document: MarkedDict, report: _Report) -> None:
    kind = document.get("proton")
    if "proton" not in document:
        report.error(document.line, "missing 'proton:' (EnvironmentSpec or ServiceSpec)")
    else:
        report.error(
            line_of(document, "proton"),
            f"proton: {kind!r} is not a spec kind (use EnvironmentSpec or ServiceSpec)"
            + did_you_mean(str(kind), SPEC_KINDS),
        )


def _header(document: MarkedDict, report: _Report, allowed: tuple[str, ...]) -> dict[str, Any]:
    header: dict[str, Any] = {}
    for key in document:  # file order, so that dump_spec writes them back as they were
        if key not in HEADER_KEYS or key not in allowed:
            continue
        value = document[key]
        if isinstance(value, str) and value:
            problem = shape_problem(key, value) if key in REPOSITORY_KEYS else None
            if problem is not None:
                report.error(line_of(document, key), f"{key} {value!r} is not {problem}")
            header[key] = value
        elif key == "version" and isinstance(value, int | float) and not isinstance(value, bool):
            report.error(
                line_of(document, key),
                f'version must be text in quotes, such as version: "1.2" '
                f"(YAML reads {value!r} without quotes as a number)",
            )
        else:
            report.error(line_of(document, key), f"{key} must be non-empty text, not {value!r}")
    return header


def _inputs(
    parent: MarkedDict, key: str, where: str, report: _Report
) -> tuple[dict[str, Any], dict[str, int]]:
    """The input values under `parent[key]` and their lines; absent or null gives none."""
    values = parent.get(key)
    if values is None:
        return {}, {}
    if not isinstance(values, MarkedDict):
        report.error(line_of(parent, key), f"{where} must be a mapping of input names to values")
        return {}, {}
    return {name: _plain(value) for name, value in values.items()}, dict(values.key_lines)


def _service_spec(document: MarkedDict, header: dict[str, Any], report: _Report) -> ServiceSpec:
    pipeline: dict[str, Any] | None = None
    pipeline_lines: dict[str, int] = {}
    if document.get("pipeline") is not None:
        pipeline, pipeline_lines = _inputs(document, "pipeline", "pipeline", report)
    instances = document.get("instances")
    parsed: list[InstanceSpec] = []
    if instances is not None and not isinstance(instances, list):
        report.error(
            line_of(document, "instances"),
            "instances must be a list of {name, environment, spec} entries",
        )
    elif instances:
        parsed = _instances(instances, line_of(document, "instances"), report)
    return ServiceSpec(
        instances=tuple(parsed),
        pipeline=pipeline,
        source=report.source,
        header=header,
        pipeline_key_lines=pipeline_lines,
    )


def _instances(entries: list[Any], line: int, report: _Report) -> list[InstanceSpec]:
    parsed: list[InstanceSpec] = []
    first_lines: dict[str, int] = {}
    for position, entry in enumerate(entries, start=1):
        if not isinstance(entry, MarkedDict):
            report.error(line, f"instance {position} must be a mapping with name and environment")
            continue
        instance = _instance(entry, position, report)
        if instance is None:
            continue
        if instance.name in first_lines:
            report.error(
                instance.line,
                f"instance '{instance.name}' appears twice "
                f"(first at line {first_lines[instance.name]}); instance names must be unique",
            )
            continue
        first_lines[instance.name] = instance.line
        parsed.append(instance)
    return parsed


def _instance(entry: MarkedDict, position: int, report: _Report) -> InstanceSpec | None:
    count = len(report.errors)
    label = f"instance '{entry['name']}'" if isinstance(entry.get("name"), str) else None
    label = label or f"instance {position}"
    for key in entry:
        if key not in INSTANCE_KEYS:
            report.warn(
                line_of(entry, key),
                f"{label}: unknown key '{key}' is ignored{did_you_mean(key, INSTANCE_KEYS)} "
                f"(an instance has: {', '.join(INSTANCE_KEYS)})",
            )
    name = _name(entry, "name", label, report)
    environment = _name(entry, "environment", label, report)
    inputs, key_lines = _inputs(entry, "spec", f"{label}: spec", report)
    if name is None or environment is None or len(report.errors) > count:
        return None
    return InstanceSpec(
        name=name, environment=environment, inputs=inputs, line=entry.line, key_lines=key_lines
    )


def _name(entry: MarkedDict, key: str, label: str, report: _Report) -> str | None:
    """A checked instance or environment name, or None after reporting what is wrong."""
    value = entry.get(key)
    line = line_of(entry, key)
    if key not in entry or value is None:
        report.error(entry.line, f"{label} has no {key}")
        return None
    if not isinstance(value, str):
        report.error(line, f"{label}: {key} must be text; quote {value!r}")
        return None
    if not is_valid_name(value):
        what = "instance name" if key == "name" else "environment name"
        report.error(line, f"{label}: {what} '{value}' is not a valid Proton name ({NAME_RULE})")
        return None
    return value


def _plain(value: Any) -> Any:
    """A deep copy made of plain dicts and lists (no line-marked mappings)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# ---------------------------------------------------------------------------------------------
# Writing


class _SpecDumper(yaml.SafeDumper):
    """SafeDumper that indents list items under their key, as Proton's examples do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: ARG002 - lists are always indented
        super().increase_indent(flow, indentless=False)


def spec_document(spec: Spec) -> dict[str, Any]:
    """The spec as plain data in Proton's key order: header, proton, spec/pipeline/instances."""
    document: dict[str, Any] = {key: spec.header[key] for key in spec.header}
    if isinstance(spec, EnvironmentSpec):
        document["proton"] = ENVIRONMENT_SPEC
        document["spec"] = _plain(spec.inputs)
        return document
    document["proton"] = SERVICE_SPEC
    if spec.pipeline is not None:
        document["pipeline"] = _plain(spec.pipeline)
    instances = []
    for instance in spec.instances:
        entry: dict[str, Any] = {"name": instance.name, "environment": instance.environment}
        if instance.inputs:
            entry["spec"] = _plain(instance.inputs)
        instances.append(entry)
    document["instances"] = instances
    return document


def dump_spec(spec: Spec) -> str:
    """YAML text of a spec; `parse_spec(dump_spec(spec))` gives the same spec back."""
    return yaml.dump(
        spec_document(spec),
        Dumper=_SpecDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
