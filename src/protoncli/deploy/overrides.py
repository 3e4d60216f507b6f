"""`pcli svc deploy NAME --param KEY=VALUE`: deploy instances with values their spec does not hold.

CI ships a new build without a commit to make: the values are checked and typed by the
blueprint's schema as `svc create`'s are, rendered into the chosen instances' templates,
recorded in their deployment records and marked in their stacks' tags (`state.overrides`); the
spec file is not edited. The pipeline renders from the spec, as before.

Decisions:
- Every chosen instance (`--instance`, `--env`, else every instance) gets the values.
- A value the instance's spec already resolves to (written, or the schema's default) is no
  override: deploying it changes nothing and marks nothing.
- A secret input's plain value is refused (it would be rendered into the template and kept in
  the record): give a `{{resolve:secretsmanager:...}}` reference, or keep it in the spec.
- `${Proton::CURRENT_VAL}` is refused: it names a previous spec's value, and there is none here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from protoncli.errors import InputError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.specs.model import InstanceSpec, ServiceSpec

Overrides = Mapping[str, Mapping[str, Any]]  # instance name -> input name -> typed value


def instance_overrides(
    project: Project, service: str, params: Mapping[str, str], instances: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """The `--param` texts typed and checked against the service blueprint's instance inputs,
    for each chosen instance (every one when none is named): the values that differ from what
    its spec resolves to. One `InputError` (exit 2) lists every bad key or value; nothing is
    read from AWS."""
    if not params:
        return {}
    from protoncli.deploy.services import chosen_instances
    from protoncli.schema.secrets import holds_plain_secret
    from protoncli.specs.model import CURRENT_VAL
    from protoncli.specs.resolve import apply_params, resolve_inputs
    from protoncli.state.declared import read_service

    record = read_service(project, service)
    info, bundle = project.blueprint(record.blueprint, record.version, "service")
    chosen = chosen_instances(record, instances)
    if bundle.schema is None:
        raise InputError(
            f"--param: blueprint {info.ref} has no schema, so its instances have no inputs",
            hint="leave out --param",
        )
    input_type = bundle.schema.main
    values = apply_params({}, params, input_type)
    errors = []
    for key, value in values.items():
        if value == CURRENT_VAL:
            errors.append(f"--param {key}: {CURRENT_VAL} belongs in spec files; give the value")
        elif (item := input_type.get(key)) and item.secret and holds_plain_secret(value):
            errors.append(
                f"--param {key}: input '{key}' is secret; give a "
                "{{resolve:secretsmanager:NAME:SecretString}} reference, not the value"
            )
    found: dict[str, dict[str, Any]] = {}
    for instance in chosen:
        spec_inputs, _, _ = resolve_inputs(input_type, instance.inputs, where="")
        merged, problems, _ = resolve_inputs(
            input_type, {**instance.inputs, **values}, where=f"instance '{instance.name}'"
        )
        errors += [
            f"--param {p.input}: {p.message}"
            for p in problems
            if p.input in values and values[p.input] != CURRENT_VAL
        ]
        found[instance.name] = {
            key: merged[key] for key in values if merged.get(key) != spec_inputs.get(key)
        }
    _raise(list(dict.fromkeys(errors)), input_type.name, [i.name for i in input_type.inputs])
    return {name: kept for name, kept in found.items() if kept}


def _raise(errors: list[str], type_name: str, names: list[str]) -> None:
    if not errors:
        return
    hint = f"inputs of '{type_name}': {', '.join(names) or 'none'}"
    if len(errors) == 1:
        raise InputError(errors[0], hint=hint)
    raise InputError(f"{len(errors)} --param values are not valid", hint=hint, details=errors)


def with_overrides(spec: ServiceSpec, overrides: Overrides) -> ServiceSpec:
    """The spec as the instances are deployed: each overridden instance's inputs with its
    values (the pipeline's and the other instances' as written)."""
    if not overrides:
        return spec
    return replace(
        spec, instances=tuple(_overridden(i, overrides.get(i.name)) for i in spec.instances)
    )


def _overridden(instance: InstanceSpec, values: Mapping[str, Any] | None) -> InstanceSpec:
    return replace(instance, inputs={**instance.inputs, **values}) if values else instance


def override_tags(instance: InstanceSpec, values: Mapping[str, Any] | None) -> dict[str, str]:
    """The tag values (`overrides`, `overrides_digest`) of an instance deployed with `values`;
    none without (`state.overrides`)."""
    from protoncli.state.digests import instance_inputs_digest
    from protoncli.state.overrides import overrides_tag

    if not values:
        return {}
    deployed = {**instance.inputs, **values}
    return {
        "overrides": overrides_tag(values),
        "overrides_digest": instance_inputs_digest(deployed, instance.environment),
    }
