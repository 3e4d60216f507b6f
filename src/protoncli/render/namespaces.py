"""The parameter namespace of each template kind, as plain dicts (proton-format.md §2.3).

Decisions on points Proton's docs leave open:
- `environment.account_id` is present in environment templates too (from the context; the
  management account when the context names none). Proton's generated Terraform variables for
  environments have no `account_id`, so the Terraform output leaves it out (terraform.py).
- `service.branch_name`, `service.repository_id` and `service.repository_connection_arn` are
  present in service-instance templates when the service has a pipeline or the spec header or
  the context gives any of them (absent values are "" there); in a pipeline they are always
  present. In a pipeline an empty one (the service has no source) is listed in
  `Namespace.empty`: a pipeline template that reads it fails with a usage error naming the svc
  create flags and spec header keys that set it, rather than rendering "" (such as
  `https://github.com/.git`). It reads as undefined, so `is defined` and `| default(...)` guard
  it. Terraform variables still carry "" (tfvars are not rendered by Jinja).
- `service_instance.components.default.outputs` is always a mapping (`{}` with no component
  attached); `service_instance.components.default.name` exists only when a component is attached.
- `service_instance.environment` repeats `environment` (Proton's docs mention both).
- The pipeline's `service_instances` follow the spec's instance order; each has `inputs` (not
  `input`), `outputs` and `environment`.

Alongside the values, each namespace carries hints for missing keys (by dotted path) so an
undefined reference can say where the value should come from, and the paths whose missing keys
read as placeholders when the context asks for that (lint renders).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from protoncli.render.model import EnvironmentFacts, InstanceFacts
from protoncli.specs.repository import empty_field_hint

REPOSITORY_FIELDS = ("branch_name", "repository_id", "repository_connection_arn")
DEFAULT_HINT = "or use `| default(...)` / `is defined` where the value is optional"


@dataclass(frozen=True)
class Namespace:
    """Template variables plus what an undefined reference under each path should say."""

    values: dict[str, Any]
    # Hints for undefined references: by the missing value's full dotted path, or by its parent's
    # path (for any missing key under it); "{key}" stands for the missing key.
    hints: dict[str, str] = field(default_factory=dict)
    placeholders: frozenset[str] = frozenset()  # paths whose missing keys read "placeholder-<key>"
    # Paths of values that are empty and must not be used so (the service's repository fields),
    # with what to do about each: reading one is a usage error.
    empty: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PipelineInstance:
    """One service instance as the pipeline sees it."""

    name: str
    inputs: Mapping[str, Any]
    environment: str
    environment_facts: EnvironmentFacts
    facts: InstanceFacts


def _inputs_hint(where: str) -> str:
    return (
        f"{where} has no input '{{key}}': it is not in the blueprint's schema, or it is optional "
        "with no default and the spec does not set it; guard it with `is defined` or "
        "`| default(...)`"
    )


def _environment_outputs_hint(environment: str) -> str:
    return (
        f"the environment '{environment}' has no output {{key}}; give it in --context "
        f"(environments.{environment}.outputs) {DEFAULT_HINT}"
    )


def _environment(name: str, facts: EnvironmentFacts) -> dict[str, Any]:
    return {"name": name, "account_id": facts.account_id, "outputs": dict(facts.outputs)}


PLACEHOLDER_REPOSITORY = {
    "branch_name": "main",
    "repository_id": "example/placeholder",
    "repository_connection_arn": (
        "arn:aws:codestar-connections:us-east-1:000000000000:connection/placeholder"
    ),
}


def repository_fields(service: Mapping[str, str], *, placeholders: bool = False) -> dict[str, str]:
    """The service's repository fields; "" when unknown, or a stand-in value in lint renders."""
    return {
        key: service.get(key, PLACEHOLDER_REPOSITORY[key] if placeholders else "")
        for key in REPOSITORY_FIELDS
    }


def empty_repository_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """`service.<key>` of each empty repository field, with what to do about it."""
    return {f"service.{key}": empty_field_hint(key) for key in REPOSITORY_FIELDS if not fields[key]}


def environment_namespace(
    name: str, inputs: Mapping[str, Any], facts: EnvironmentFacts
) -> Namespace:
    values = {"environment": {"name": name, "account_id": facts.account_id, "inputs": dict(inputs)}}
    hints = {
        "environment.inputs": _inputs_hint("the environment"),
        "environment": (
            "an environment template sees environment.name, environment.account_id and "
            "environment.inputs; no outputs of other resources reach it"
        ),
    }
    return Namespace(values, hints)


def _component_entry(instance: str, facts: InstanceFacts) -> tuple[dict[str, Any], str]:
    if facts.component_outputs is None:
        hint = (
            f"no component is attached to the service instance '{instance}', so it has no output "
            f"{{key}}; give the component's outputs in --context "
            f"(instances.{instance}.component_outputs) {DEFAULT_HINT}"
        )
        return {"outputs": {}}, hint
    hint = (
        f"the component attached to '{instance}' has no output {{key}}; give it in --context "
        f"(instances.{instance}.component_outputs) {DEFAULT_HINT}"
    )
    return {"name": facts.component_name, "outputs": dict(facts.component_outputs)}, hint


def service_instance_namespace(
    service: str,
    instance: str,
    inputs: Mapping[str, Any],
    *,
    environment: str,
    environment_facts: EnvironmentFacts,
    facts: InstanceFacts,
    repository: Mapping[str, str] | None,
    placeholders: bool = False,
) -> Namespace:
    environment_values = _environment(environment, environment_facts)
    component, component_hint = _component_entry(instance, facts)
    service_values: dict[str, Any] = {"name": service}
    if repository is not None:
        service_values.update(repository_fields(repository, placeholders=placeholders))
    values = {
        "environment": environment_values,
        "service": service_values,
        "service_instance": {
            "name": instance,
            "inputs": dict(inputs),
            "environment": _environment(environment, environment_facts),
            "components": {"default": component},
        },
    }
    env_hint = _environment_outputs_hint(environment)
    hints = {
        "environment.outputs": env_hint,
        "service_instance.environment.outputs": env_hint,
        "service_instance.inputs": _inputs_hint(f"the service instance '{instance}'"),
        "service_instance.components.default.outputs": component_hint,
        "service_instance.components.default": "a component has only 'name' and 'outputs'",
        "service_instance.components": "components has only 'default' (the attached component)",
        "service": (
            "the service has no '{key}' here; repository fields (branch_name, repository_id, "
            "repository_connection_arn) come from --context (service.*)"
        ),
    }
    if facts.component_outputs is None:
        hints["service_instance.components.default.name"] = (
            f"no component is attached to the service instance '{instance}'; attach one in "
            f"--context (instances.{instance}.component_outputs and component_name)"
        )
    outputs = (
        "environment.outputs",
        "service_instance.environment.outputs",
        "service_instance.components.default.outputs",
    )
    return Namespace(values, hints, frozenset(outputs if placeholders else ()))


def pipeline_namespace(
    service: str,
    inputs: Mapping[str, Any],
    repository: Mapping[str, str],
    instances: Sequence[PipelineInstance],
    *,
    placeholders: bool = False,
) -> Namespace:
    listed: list[dict[str, Any]] = []
    hints = {"pipeline.inputs": _inputs_hint("the pipeline")}
    outputs: list[str] = []
    for index, item in enumerate(instances):
        listed.append(
            {
                "name": item.name,
                "inputs": dict(item.inputs),
                "outputs": dict(item.facts.outputs),
                "environment": _environment(item.environment, item.environment_facts),
            }
        )
        path = f"service_instances[{index}]"
        hints[f"{path}.inputs"] = _inputs_hint(f"the service instance '{item.name}'")
        hints[f"{path}.outputs"] = (
            f"the service instance '{item.name}' has no output {{key}}; give it in --context "
            f"(instances.{item.name}.outputs) {DEFAULT_HINT}"
        )
        hints[f"{path}.environment.outputs"] = _environment_outputs_hint(item.environment)
        outputs += [f"{path}.outputs", f"{path}.environment.outputs"]
    fields = repository_fields(repository, placeholders=placeholders)
    values = {
        "pipeline": {"inputs": dict(inputs)},
        "service": {"name": service, **fields},
        "service_instances": listed,
    }
    placeholder_paths = frozenset(outputs if placeholders else ())
    return Namespace(values, hints, placeholder_paths, empty_repository_fields(fields))


def component_namespace(
    component: str,
    environment: str,
    environment_facts: EnvironmentFacts,
    attached: tuple[str, str, Mapping[str, Any]] | None,
    *,
    placeholders: bool = False,
) -> Namespace:
    """`attached` is (service, instance, instance inputs) for an attached component."""
    values: dict[str, Any] = {
        "component": {"name": component},
        "environment": _environment(environment, environment_facts),
    }
    hints = {"environment.outputs": _environment_outputs_hint(environment)}
    placeholder_paths = ["environment.outputs"]
    if attached is None:
        detached = (
            f"the component '{component}' is detached (no service instance), so '{{key}}' is not "
            "available; attach it in --context (component.service, component.instance)"
        )
        hints["service"] = hints["service_instance"] = detached
    else:
        service, instance, inputs = attached
        values["service"] = {"name": service}
        values["service_instance"] = {"name": instance, "inputs": dict(inputs)}
        hints["service_instance.inputs"] = _inputs_hint(f"the service instance '{instance}'")
        placeholder_paths.append("service_instance.inputs")
    return Namespace(values, hints, frozenset(placeholder_paths if placeholders else ()))
