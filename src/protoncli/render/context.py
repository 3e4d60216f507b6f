"""Reading the render context file (`--context FILE`, YAML or JSON).

Documented form (every key optional):

    region: us-east-1                # default us-east-1, used in identifiers
    account_id: "111111111111"       # management account, default 000000000000
    environments:                    # by environment name
      prod: {account_id: "111111111111", outputs: {VpcId: vpc-123}}
    service: {branch_name: main, repository_id: acme/app, repository_connection_arn: "arn:..."}
    instances:                       # by instance name
      api-prod:
        outputs: {Url: https://...}
        component_outputs: {QueueUrl: https://...}   # present (even {}) = a component is attached
        component_name: queue                        # name of the attached component
    component: {environment: prod, service: api, instance: api-prod}   # for component bundles
    deployment_id: 7f0c...           # fixed id for reproducible output

Output values are stringified, as Proton's outputs are strings: numbers as written, booleans as
`true`/`false`. Wrong shapes are errors naming file:line; unknown keys are warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from protoncli.errors import UsageError
from protoncli.render.model import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    ComponentTarget,
    EnvironmentFacts,
    InstanceFacts,
    RenderContext,
)
from protoncli.yamlio import MarkedDict, parse_json, parse_yaml, read_text

ACCOUNT_ID = re.compile(r"^\d{12}$")
TOP_KEYS = ("region", "account_id", "environments", "service", "instances", "component")
TOP_KEYS_ALL = (*TOP_KEYS, "deployment_id")
ENVIRONMENT_KEYS = ("account_id", "outputs")
SERVICE_KEYS = ("branch_name", "repository_id", "repository_connection_arn")
INSTANCE_KEYS = ("outputs", "component_outputs", "component_name")
COMPONENT_KEYS = ("environment", "service", "instance")
HINT = "the context file's form is described in docs/reference/render-context.md"


class _Reader:
    """Validates one context document, collecting warnings; errors name file:line."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.warnings: list[str] = []

    def where(self, parent: Any, key: str | None = None) -> str:
        if isinstance(parent, MarkedDict):
            line = parent.line_of(key) if key is not None else parent.line
            if line:
                return f"{self.source}:{line}"
        return self.source

    def fail(self, parent: Any, key: str | None, message: str, hint: str = HINT) -> UsageError:
        return UsageError(f"{self.where(parent, key)}: {message}", hint=hint)

    def mapping(self, parent: Any, key: str, dotted: str) -> Mapping[str, Any]:
        value = parent.get(key)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(parent, key, f"'{dotted}' must be a mapping, not {_kind(value)}")
        return value

    def warn_unknown(self, data: Mapping[str, Any], allowed: tuple[str, ...], dotted: str) -> None:
        for key in data:
            if key not in allowed:
                prefix = f"{dotted}." if dotted else ""
                self.warnings.append(
                    f"{self.where(data, key)}: unknown key '{prefix}{key}' (ignored)"
                )

    def string(self, parent: Any, key: str, dotted: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.fail(parent, key, f"'{dotted}' must be a string, not {_kind(value)}")
        return str(value)

    def account(self, parent: Any, key: str, dotted: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(text, str) or not ACCOUNT_ID.match(text):
            raise self.fail(
                parent,
                key,
                f"'{dotted}' must be a 12-digit AWS account id, got {value!r}",
                hint='quote account ids ("012345678901") so YAML keeps leading zeros',
            )
        return text

    def outputs(self, parent: Any, key: str, dotted: str) -> dict[str, str]:
        data = self.mapping(parent, key, dotted)
        result: dict[str, str] = {}
        for name, value in data.items():
            result[str(name)] = self.output_value(data, str(name), value, f"{dotted}.{name}")
        return result

    def output_value(self, parent: Any, key: str, value: Any, dotted: str) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise self.fail(
            parent,
            key,
            f"'{dotted}' must be a string (outputs are strings), not {_kind(value)}",
        )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _named_entries(
    reader: _Reader, top: Mapping[str, Any], key: str, known: tuple[str, ...]
) -> Iterator[tuple[str, Mapping[str, Any], str]]:
    """(name, entry, dotted path) of each entry of the `key` mapping (an empty entry is {});
    an entry that is not a mapping is an error, unknown keys in one a warning."""
    entries = reader.mapping(top, key, key)
    for name, value in entries.items():
        dotted = f"{key}.{name}"
        entry = {} if value is None else value
        if not isinstance(entry, Mapping):
            raise reader.fail(entries, name, f"'{dotted}' must be a mapping")
        reader.warn_unknown(entry, known, dotted)
        yield str(name), entry, dotted


def _environments(reader: _Reader, top: Mapping[str, Any], default_account: str) -> dict[str, Any]:
    result: dict[str, EnvironmentFacts] = {}
    for name, entry, dotted in _named_entries(reader, top, "environments", ENVIRONMENT_KEYS):
        account = reader.account(entry, "account_id", f"{dotted}.account_id")
        result[name] = EnvironmentFacts(
            account_id=account or default_account,
            outputs=reader.outputs(entry, "outputs", f"{dotted}.outputs"),
        )
    return result


def _instances(reader: _Reader, top: Mapping[str, Any]) -> dict[str, InstanceFacts]:
    result: dict[str, InstanceFacts] = {}
    for name, entry, dotted in _named_entries(reader, top, "instances", INSTANCE_KEYS):
        component_outputs = None
        if "component_outputs" in entry:
            component_outputs = reader.outputs(
                entry, "component_outputs", f"{dotted}.component_outputs"
            )
        component_name = reader.string(entry, "component_name", f"{dotted}.component_name")
        result[name] = InstanceFacts(
            outputs=reader.outputs(entry, "outputs", f"{dotted}.outputs"),
            component_outputs=component_outputs,
            component_name=component_name or "default",
        )
    return result


def _service(reader: _Reader, top: Mapping[str, Any]) -> dict[str, str]:
    service = reader.mapping(top, "service", "service")
    reader.warn_unknown(service, SERVICE_KEYS, "service")
    result: dict[str, str] = {}
    for key in SERVICE_KEYS:
        value = reader.string(service, key, f"service.{key}")
        if value is not None:
            result[key] = value
    return result


def _component(reader: _Reader, top: Mapping[str, Any]) -> ComponentTarget | None:
    if top.get("component") is None:
        return None
    component = reader.mapping(top, "component", "component")
    reader.warn_unknown(component, COMPONENT_KEYS, "component")
    environment = reader.string(component, "environment", "component.environment")
    if not environment:
        raise reader.fail(top, "component", "'component.environment' is required")
    service = reader.string(component, "service", "component.service")
    instance = reader.string(component, "instance", "component.instance")
    if (service is None) != (instance is None):
        raise reader.fail(
            top,
            "component",
            "'component.service' and 'component.instance' go together: give both or neither",
            hint="an attached component names its service and instance; a detached one neither",
        )
    return ComponentTarget(environment=environment, service=service, instance=instance)


def context_from_data(data: Any, source: str) -> RenderContext:
    """Validate an already-parsed context document (a mapping) and build a `RenderContext`."""
    reader = _Reader(source)
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise UsageError(
            f"{source}: a render context must be a mapping, not {_kind(data)}", hint=HINT
        )
    reader.warn_unknown(data, TOP_KEYS_ALL, "")
    account_id = reader.account(data, "account_id", "account_id") or DEFAULT_ACCOUNT_ID
    region = reader.string(data, "region", "region") or DEFAULT_REGION
    deployment_id = reader.string(data, "deployment_id", "deployment_id")
    return RenderContext(
        environments=_environments(reader, data, account_id),
        service=_service(reader, data),
        instances=_instances(reader, data),
        component=_component(reader, data),
        region=region,
        account_id=account_id,
        deployment_id=deployment_id,
        warnings=tuple(reader.warnings),
    )


def load_context(path: Path) -> RenderContext:
    """Read a context file (YAML, or JSON when it ends in `.json`) into a `RenderContext`."""
    text = read_text(path, UsageError)
    source = str(path)
    data: Any
    if path.suffix.lower() == ".json":
        data = parse_json(text, source, UsageError)
        try:  # the same document read as YAML carries line numbers for messages
            marked = parse_yaml(text, source, UsageError, marked=True)
        except UsageError:
            marked = None
        if marked == data:
            data = marked
    else:
        data = parse_yaml(text, source, UsageError, marked=True)
    return context_from_data(data, source)
