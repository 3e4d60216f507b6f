"""The test render of `pcli blueprint lint`: a spec (given, or made up), made-up outputs, and how
both adapt to what the templates do with them.

Without a spec, lint makes up the inputs a spec would have to give (required inputs without a
default). Every lint render makes up the outputs of other resources the templates read (there are
no deployed stacks): the keys are found in the template text (`environment.outputs.VpcId`,
`service_instances[0].outputs.X`, `service_instance.components.default.outputs.X`); a key built
at render time gets the renderer's stand-in (`placeholder-<key>`, or an id shaped by its name).
The values come from placeholders.py. The render then runs up
to `MAX_RENDERS` times (and once more for each input), each time after learning something:

1. where each made-up value landed in the rendered CloudFormation (the key it is the value of,
   or the `!Split` that splits it), so the next render shapes it for that use;
2. the plain-text Outputs of the rendered service instance, which its pipeline reads as
   `service_instances[N].outputs.<Key>` (a service with a pipeline renders its instances alone
   first, so a pipeline that needs those values cannot stop the instances rendering);
3. what turned out undefined that a spec or deployed resources would define: an optional input
   with no default that the template reads unguarded (made up, with a warning: a spec that leaves
   it out fails to render), the attached component's name (a component is attached), the
   service's repository fields (made up).

Anything else that fails is reported as it is. `failure_cause` says whether a failure comes from
a placeholder (a lookup keyed by a made-up output, a made-up input the schema refuses): lint
reports those as warnings.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.model import Bundle, Kind, Provisioning
from protoncli.blueprints.placeholders import (
    ACCOUNT_ID,
    Landing,
    OutputReference,
    find_landings,
    input_value,
    instance_input_references,
    kind_of,
    literal_outputs,
    names_a_list,
    output_references,
    shaped,
    shaped_list,
)
from protoncli.errors import InputError, PcliError, RenderError
from protoncli.render.model import (
    ComponentTarget,
    EnvironmentFacts,
    InstanceFacts,
    RenderContext,
)
from protoncli.render.namespaces import PLACEHOLDER_REPOSITORY, REPOSITORY_FIELDS
from protoncli.schema.validate import value_problems
from protoncli.specs.model import EnvironmentSpec, InstanceSpec, ServiceSpec
from protoncli.yamlio import parse_yaml

if TYPE_CHECKING:
    from protoncli.render.model import RenderResult
    from protoncli.schema.model import InputType
    from protoncli.specs.model import Spec

LINT_ENVIRONMENT = "lint-env"
LINT_SERVICE = "lint-svc"
LINT_INSTANCE = "lint-instance"
LINT_COMPONENT = "lint-component"
SOURCE = "<placeholders>"
MAX_RENDERS = 8  # renders to learn in, besides one for each input that may turn out needed
MIN_CONTAINED = 8  # a shorter made-up value counts as a cause only when it is the whole value

_UNDEFINED = re.compile(r"'([^']+)' is undefined$")
_INPUT_PATH = re.compile(
    r"^(environment|service_instance|pipeline|service_instances\[\d+\])\.inputs\.([^.\[\]]+)$"
)
_INPUT_NAME = re.compile(r"input '([^']+)'")
_OUTPUT_LABELS = {
    "environment": "environment.outputs",
    "instance": "service_instances[].outputs",
    "component": "service_instance.components.default.outputs",
}
_OUTPUT_PREFIXES = tuple(_OUTPUT_LABELS.values())
_NAMES = {
    LINT_ENVIRONMENT: "environment.name",
    LINT_SERVICE: "service.name",
    LINT_INSTANCE: "service_instance.name",
    LINT_COMPONENT: "component.name",
    ACCOUNT_ID: "environment.account_id",
}

Note = tuple[str, str, str, str | None]  # severity, check, message, location


class LintRender:
    """One bundle's test render: what it is rendered with, and what lint learned doing it."""

    def __init__(
        self, bundle: Bundle, spec: Spec | None, blueprint: tuple[str | None, str | None]
    ) -> None:
        self.bundle = bundle
        self.given = spec
        self.blueprint = blueprint
        manifests = [m for m in (bundle.infrastructure, bundle.pipeline) if m is not None]
        texts = [text for manifest in manifests for text in manifest.files.values()]
        self.references: list[OutputReference] = output_references(texts)
        self.component_inputs = (
            instance_input_references(texts) if bundle.kind is Kind.COMPONENT else []
        )
        self.attach_component = any(ref.owner == "component" for ref in self.references)
        self.repository = False
        self.filled: set[tuple[str, str]] = set()  # optional inputs made up: (part, name)
        self.landed: dict[str, Landing] = {}  # placeholder label -> where it landed
        self.literals: dict[str, str] = {}  # instance outputs known from the rendered instance
        self.values: dict[str, Any] = {}  # placeholder label -> made-up value
        self.notes: list[Note] = []
        schema = bundle.schema
        inputs = [t for t in (schema.main, schema.pipeline) if t is not None] if schema else []
        self.max_renders = MAX_RENDERS + sum(len(t.inputs) for t in inputs)

    # -- what the render takes ----------------------------------------------------------------

    def spec(self) -> Spec | None:
        """The given spec, else one with made-up inputs (None: the render needs none)."""
        if self.given is not None:
            return self.given
        schema = self.bundle.schema
        if self.bundle.kind is Kind.COMPONENT:
            if not self.component_inputs:
                return None
            inputs = {
                name: self._made_up(f"service_instance.inputs.{name}", name)
                for name in self.component_inputs
            }
            return ServiceSpec(
                (InstanceSpec(LINT_INSTANCE, LINT_ENVIRONMENT, inputs),), None, SOURCE
            )
        if schema is None:
            return None
        if self.bundle.kind is Kind.ENVIRONMENT:
            inputs = self._inputs(schema.main, "environment", "main")
            return EnvironmentSpec(inputs=inputs, source=SOURCE)
        instance = InstanceSpec(
            LINT_INSTANCE, LINT_ENVIRONMENT, self._inputs(schema.main, "service_instance", "main")
        )
        pipeline = None
        if self.bundle.has_pipeline:
            pipeline = self._inputs(schema.pipeline, "pipeline", "pipeline")
        return ServiceSpec(instances=(instance,), pipeline=pipeline, source=SOURCE)

    def _inputs(self, input_type: InputType | None, prefix: str, part: str) -> dict[str, Any]:
        """Made-up values for the inputs a spec must give (and optional ones found needed)."""
        values: dict[str, Any] = {}
        for item in input_type.inputs if input_type is not None else ():
            if item.has_default or not (item.required or (part, item.name) in self.filled):
                continue
            label = f"{prefix}.inputs.{item.name}"
            landing = self.landed.get(label)
            prop = item.raw or {"type": item.type}
            value = input_value(
                prop,
                item.name,
                seed=label,
                landing=landing.key if landing else None,
                avoid=list(values.values()) if kind_of(item.name) == "cidr" else (),
            )
            if landing is not None and landing.split is not None and isinstance(value, str):
                listed = shaped_list(item.name, landing.split, landing=landing.key, seed=label)
                if not value_problems(prop, listed, secret=False, remember=False):
                    value = listed
            values[item.name] = self.values[label] = value
        return values

    def _made_up(self, label: str, name: str, *, split: str | None = None) -> str:
        """A value of unknown type (an output, a component's input), shaped by its use."""
        landing = self.landed.get(label)
        key = landing.key if landing else None
        if landing is not None and landing.split is not None:
            value = shaped_list(name, landing.split, landing=key, seed=label)
        elif split is not None:
            value = shaped_list(name, split, landing=key, seed=label)
        elif landing is None and label.startswith(_OUTPUT_PREFIXES) and names_a_list(name):
            value = shaped_list(name, ",", seed=label)
        else:
            value = shaped(name, landing=key, seed=label)
        self.values[label] = value
        return value

    def context(self, spec: Spec | None) -> RenderContext:
        """Made-up outputs for every environment and instance the render names."""
        outputs: dict[str, dict[str, str]] = {owner: {} for owner in _OUTPUT_LABELS}
        for ref in self.references:
            label = f"{_OUTPUT_LABELS[ref.owner]}.{ref.key}"
            if ref.owner == "instance" and ref.key in self.literals:
                outputs["instance"][ref.key] = self.literals[ref.key]
                self.values.pop(label, None)  # the template's own value, not a placeholder
                continue
            outputs[ref.owner][ref.key] = self._made_up(label, ref.key, split=ref.split)
        environments = {LINT_ENVIRONMENT}
        instances = {LINT_INSTANCE}
        if isinstance(spec, ServiceSpec):
            environments |= {item.environment for item in spec.instances}
            instances |= {item.name for item in spec.instances}
        component = outputs["component"] if self.attach_component else None
        return RenderContext(
            environments={
                name: EnvironmentFacts(outputs=outputs["environment"]) for name in environments
            },
            service=dict(PLACEHOLDER_REPOSITORY) if self.repository else {},
            instances={
                name: InstanceFacts(outputs=outputs["instance"], component_outputs=component)
                for name in instances
            },
            component=self._component_target(spec),
            placeholder_outputs=True,
        )

    def _component_target(self, spec: Spec | None) -> ComponentTarget | None:
        if self.bundle.kind is not Kind.COMPONENT:
            return None
        if isinstance(spec, ServiceSpec) and spec.instances:
            first = spec.instances[0]
            return ComponentTarget(first.environment, LINT_SERVICE, first.name)
        return ComponentTarget(LINT_ENVIRONMENT, LINT_SERVICE, LINT_INSTANCE)

    # -- rendering ------------------------------------------------------------------------------

    def run(self) -> tuple[RenderResult | None, PcliError | None]:
        """Render until nothing new is learned; the result, or the error that stopped it."""
        if self.bundle.kind is Kind.SERVICE and self.bundle.pipeline is not None:
            self._renders(dataclasses.replace(self.bundle, pipeline=None), instances_only=True)
        return self._renders(self.bundle)

    def _renders(
        self, bundle: Bundle, *, instances_only: bool = False
    ) -> tuple[RenderResult | None, PcliError | None]:
        result: RenderResult | None = None
        failure: PcliError | None = None
        for _ in range(self.max_renders):
            spec = self.spec()
            if instances_only and isinstance(spec, ServiceSpec):
                spec = dataclasses.replace(spec, pipeline=None)
            try:
                result, failure = self._render(bundle, spec), None
            except PcliError as error:
                result, failure = None, error
                if self._adapt(error):
                    continue
                break
            if not self._learn(result):
                break
        return result, failure

    def _render(self, bundle: Bundle, spec: Spec | None) -> RenderResult:
        from protoncli.render.engine import render_bundle

        name = {
            Kind.ENVIRONMENT: LINT_ENVIRONMENT,
            Kind.SERVICE: LINT_SERVICE,
            Kind.COMPONENT: LINT_COMPONENT,
        }[bundle.kind]
        return render_bundle(
            bundle,
            spec,
            name=name,
            context=self.context(spec),
            blueprint_name=self.blueprint[0],
            blueprint_version=self.blueprint[1],
        )

    def _learn(self, result: RenderResult) -> bool:
        """Note where made-up values landed and the instance's plain outputs; whether the next
        render would differ."""
        before = (dict(self.values), dict(self.literals))
        tracked = {
            label: value
            for label, value in self.values.items()
            if isinstance(value, str) and label not in self.landed
        }
        wanted = {ref.key for ref in self.references if ref.owner == "instance"}
        for resource in result.resources:
            if resource.provisioning != Provisioning.CLOUDFORMATION:
                continue
            for text in resource.files.values():
                document = _parsed(text)
                self.landed.update(find_landings(document, tracked))
                if resource.kind == "service-instance":
                    literals = literal_outputs(document)
                    self.literals.update({k: v for k, v in literals.items() if k in wanted})
        spec = self.spec()
        self.context(spec)
        return (self.values, self.literals) != before

    def _adapt(self, error: PcliError) -> bool:
        """Change what the next render takes so `error` does not recur; whether it could."""
        found = _UNDEFINED.search(error.message)
        if found is None:
            return False
        path = found.group(1)
        location = error.message[: found.start()].rstrip(": ") or None
        inputs = _INPUT_PATH.match(path)
        if inputs is not None:
            return self._fill(inputs.group(1), inputs.group(2), location)
        if path == "service_instance.components.default.name" and not self.attach_component:
            self.attach_component = True
            self._note(
                "info",
                "rendered with a component attached: the template reads"
                " service_instance.components.default.name",
                location,
            )
            return True
        field = path.removeprefix("service.")
        if field in REPOSITORY_FIELDS and path != field and not self.repository:
            self.repository = True
            return True
        return False

    def _fill(self, prefix: str, name: str, location: str | None) -> bool:
        """Make up an optional input with no default that a template reads unguarded."""
        schema = self.bundle.schema
        if self.given is not None or schema is None:
            return False
        part = "pipeline" if prefix == "pipeline" else "main"
        input_type = schema.pipeline if part == "pipeline" else schema.main
        item = input_type.get(name) if input_type is not None else None
        if item is None or item.has_default or (part, name) in self.filled:
            return False
        self.filled.add((part, name))
        self._note(
            "warning",
            f"input '{name}' is optional and has no default, but the template reads it without"
            " `is defined` or `| default(...)`: a spec that leaves it out fails to render (lint"
            " rendered it with a placeholder)",
            location,
        )
        return True

    def _note(self, severity: str, message: str, location: str | None) -> None:
        self.notes.append((severity, "render", message, location))

    # -- telling placeholders from the bundle ---------------------------------------------------

    def placeholders(self) -> dict[str, str]:
        """Every value lint made up, as text, with what it stands for."""
        found: dict[str, str] = {}
        for label, value in self.values.items():
            items = value if isinstance(value, list) else [value]
            for item in items:
                if isinstance(item, str | int | float) and not isinstance(item, bool):
                    found.setdefault(str(item), label)
        found.update({name: label for name, label in _NAMES.items() if name not in found})
        for key in REPOSITORY_FIELDS:
            found.setdefault(PLACEHOLDER_REPOSITORY[key], f"service.{key}")
        return found

    def failure_cause(self, error: PcliError) -> str | None:
        """What lint made up that made the render fail, if a made-up value did."""
        texts = [error.message, *error.details]
        if isinstance(error, InputError) and self.given is None:
            named = {name for text in texts for name in _INPUT_NAME.findall(text)}
            invented = {label for label in self.values if ".inputs." in label}
            labels = sorted(label for label in invented if label.rpartition(".")[2] in named)
            if named and len(labels) >= len(named):
                return ", ".join(labels)
        made_up = {str(v): k for k, v in self.values.items() if isinstance(v, str)}
        for text in texts:
            for value, label in made_up.items():
                if len(value) >= MIN_CONTAINED and value in text:
                    return label
            if "placeholder-" in text:
                return "an output"
        return None


def _parsed(text: str) -> Mapping[str, Any] | None:
    try:
        document = parse_yaml(text, "<rendered>", RenderError, cloudformation=True)
    except RenderError:
        return None
    return document if isinstance(document, Mapping) else None
