"""`render_bundle`: a bundle, a spec and a context in; every resource's files out.

Rendering is pure (nothing is written here; see writer.py). Resources and their output folders,
the same for every provisioning method:

    environment        <env>/
    service instance   <env>/<service>-<instance>/
    pipeline           <service>/pipeline/
    component          <env>/<component>/

Decisions:
- The blueprint name and version in identifiers and Terraform metadata come from the
  `blueprint_name` / `blueprint_version` arguments, else the spec's `blueprint` / `version`
  header, else the bundle folder's name (the parent's for a `v1/` folder, the archive's name
  without its extension) and "1.0".
- An attached component's `service_instance.inputs` are the instance's inputs as the service
  spec writes them: the component bundle does not carry the service blueprint's schema, so no
  defaults are merged.
- Each resource gets the context's `deployment_id`, or a fresh random UUID.
- `proton_tags` (Terraform) carry pcli's tags: pcli:kind, pcli:environment, pcli:service,
  pcli:instance, pcli:component, pcli:blueprint, pcli:version (those that apply).
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from protoncli.blueprints.archive import is_os_noise
from protoncli.blueprints.model import MANIFEST, Bundle, Engine, Kind, Manifest
from protoncli.errors import BundleError, NotFoundError, RenderError, UsageError
from protoncli.render.cloudformation import render_cloudformation
from protoncli.render.identifiers import Identifiers, check_resource_name
from protoncli.render.model import RenderContext, RenderedResource, RenderResult
from protoncli.render.namespaces import (
    Namespace,
    PipelineInstance,
    component_namespace,
    environment_namespace,
    pipeline_namespace,
    service_instance_namespace,
)
from protoncli.schema.secrets import SecretMask
from protoncli.specs.model import EnvironmentSpec, ServiceSpec
from protoncli.specs.repository import Source

if TYPE_CHECKING:
    from protoncli.render.terraform import DeploymentMetadata

_VERSION = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$")
_SPEC_NAMES = {EnvironmentSpec: "an EnvironmentSpec", ServiceSpec: "a ServiceSpec"}


SpecT = TypeVar("SpecT", EnvironmentSpec, ServiceSpec)


@dataclass(frozen=True)
class _Target:
    """One resource to render."""

    kind: str  # environment | service-instance | pipeline | component
    tf_kind: str  # environment | service_instance | pipeline | component
    name: str
    folder: str
    manifest: Manifest
    namespace: Namespace
    identifier: str
    environment: str | None
    inputs: Mapping[str, Any]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class _Job:
    bundle: Bundle
    context: RenderContext
    ids: Identifiers
    blueprint: str
    major: str
    minor: str

    def tags(self, kind: str, **names: str | None) -> dict[str, str]:
        tags = {"pcli:kind": kind}
        tags.update({f"pcli:{key}": value for key, value in names.items() if value})
        tags["pcli:blueprint"] = self.blueprint
        tags["pcli:version"] = f"{self.major}.{self.minor}"
        return tags

    def metadata(self, target: _Target) -> DeploymentMetadata:
        environment_arn = None
        if target.kind != "environment" and target.environment is not None:
            environment_arn = self.ids.environment(target.environment)
        template_arn = None
        if self.bundle.kind is not Kind.COMPONENT:
            template_arn = self.ids.template(self.bundle.kind.value, self.blueprint)
        from protoncli.render.terraform import DeploymentMetadata

        return DeploymentMetadata(
            deployment_id=self.context.deployment_id or str(uuid.uuid4()),
            arn=target.identifier,
            environment_arn=environment_arn,
            template_arn=template_arn,
            major=self.major,
            minor=self.minor,
        )

    def render(self, target: _Target) -> RenderedResource:
        manifest = target.manifest
        binaries: dict[str, bytes] = {}
        if manifest.entry.engine is Engine.HCL:
            from protoncli.render.terraform import render_terraform

            files = render_terraform(
                manifest,
                target.tf_kind,
                target.namespace.values,
                self.metadata(target),
                target.tags,
            )
        elif manifest.entry.engine is Engine.CODEBUILD:
            if self.bundle.kind is Kind.COMPONENT:
                raise RenderError(
                    f"{manifest.source}: CodeBuild provisioning is not available for components"
                )
            from protoncli.render.codebuild import render_codebuild

            files, binaries = render_codebuild(manifest, self.bundle.files, target.namespace)
        else:
            files = render_cloudformation(manifest, target.namespace, target.folder)
        return RenderedResource(
            kind=target.kind,
            name=target.name,
            folder=target.folder,
            provisioning=manifest.provisioning.value,
            identifier=target.identifier,
            files=files,
            inputs=dict(target.inputs),
            environment=target.environment,
            binary_files=binaries,
        )


def _blueprint(
    bundle: Bundle, spec: object, name: str | None, version: str | None
) -> tuple[str, str, str]:
    from protoncli.blueprints.registry import default_blueprint_name

    header: Mapping[str, Any] = getattr(spec, "header", {}) or {}
    blueprint = name or header.get("blueprint") or default_blueprint_name(Path(bundle.root))
    text = str(version or header.get("version") or "1.0")
    found = _VERSION.match(text)
    if found is None:
        raise UsageError(
            f"invalid blueprint version {text!r}", hint="versions read MAJOR.MINOR, such as 1.0"
        )
    return str(blueprint), found.group(1), found.group(2) or "0"


def _check_spec_kind(bundle: Bundle, spec: object) -> None:
    expected = {Kind.ENVIRONMENT: EnvironmentSpec, Kind.SERVICE: ServiceSpec}.get(bundle.kind)
    if spec is None or expected is type(spec):
        return
    if bundle.kind is Kind.COMPONENT and isinstance(spec, ServiceSpec):
        return
    given = _SPEC_NAMES.get(type(spec), f"a {type(spec).__name__}")
    blueprint = {
        "environment": "an environment",
        "service": "a service",
        "component": "a component",
    }
    hint = {
        Kind.ENVIRONMENT: "give a spec that starts with `proton: EnvironmentSpec`",
        Kind.SERVICE: "give a spec that starts with `proton: ServiceSpec`",
        Kind.COMPONENT: "give the ServiceSpec of the service the component attaches to, or none",
    }[bundle.kind]
    source = getattr(spec, "source", None)
    where = f"{source}: " if source else ""
    raise UsageError(
        f"{where}{given} was given for {blueprint[bundle.kind.value]} blueprint", hint=hint
    )


def _skipped_terraform_files(bundle: Bundle) -> list[str]:
    """Files of a Terraform folder that are not copied (only `.tf` files are)."""
    warnings: list[str] = []
    for manifest in (bundle.infrastructure, bundle.pipeline):
        if manifest is None or manifest.entry.engine is not Engine.HCL or not manifest.folder:
            continue
        prefix = f"{manifest.folder}/"
        for path in sorted(bundle.files):
            rest = path[len(prefix) :] if path.startswith(prefix) else None
            if rest and rest != MANIFEST and not rest.endswith(".tf") and not is_os_noise(path):
                warnings.append(f"{path}: not copied to the output (only .tf files are)")
    return warnings


def render_bundle(
    bundle: Bundle,
    spec: EnvironmentSpec | ServiceSpec | None,
    *,
    name: str,
    context: RenderContext,
    previous: EnvironmentSpec | ServiceSpec | None = None,
    blueprint_name: str | None = None,
    blueprint_version: str | None = None,
) -> RenderResult:
    """Render every resource of `bundle` for `spec`; raise a `PcliError` on the first failure.

    `name` is the environment, service or component name, by the bundle's kind. The plain
    values of secret inputs (spec, previous spec, defaults) are masked in every error and
    warning it reports.
    """
    mask = _secret_mask(bundle, spec, previous)
    with mask.guard():
        result = _render_bundle(
            bundle,
            spec,
            name=name,
            context=context,
            previous=previous,
            blueprint_name=blueprint_name,
            blueprint_version=blueprint_version,
        )
    return RenderResult(result.resources, tuple(mask.text(text) for text in result.warnings))


def _secret_mask(
    bundle: Bundle,
    spec: EnvironmentSpec | ServiceSpec | None,
    previous: EnvironmentSpec | ServiceSpec | None,
) -> SecretMask:
    """What the render must never show: every plain value given to a secret input.

    A component bundle has no schema of its service's inputs, so nothing is known secret there.
    """
    schema = bundle.schema
    mask = SecretMask()
    if schema is None:
        return mask
    for input_type in (schema.main, schema.pipeline):
        if input_type is not None:
            defaults = {item.name: item.default for item in input_type.inputs if item.has_default}
            mask |= SecretMask.for_inputs(input_type, defaults)
    for given in (spec, previous):
        if isinstance(given, EnvironmentSpec):
            mask |= SecretMask.for_inputs(schema.main, given.inputs)
        elif isinstance(given, ServiceSpec):
            for instance in given.instances:
                mask |= SecretMask.for_inputs(schema.main, instance.inputs)
            mask |= SecretMask.for_inputs(schema.pipeline, given.pipeline or {})
    return mask


def _render_bundle(
    bundle: Bundle,
    spec: EnvironmentSpec | ServiceSpec | None,
    *,
    name: str,
    context: RenderContext,
    previous: EnvironmentSpec | ServiceSpec | None,
    blueprint_name: str | None,
    blueprint_version: str | None,
) -> RenderResult:
    _check_spec_kind(bundle, spec)
    blueprint, major, minor = _blueprint(bundle, spec, blueprint_name, blueprint_version)
    job = _Job(
        bundle, context, Identifiers(context.region, context.account_id), blueprint, major, minor
    )
    if bundle.kind is Kind.ENVIRONMENT:
        env_spec = spec if isinstance(spec, EnvironmentSpec) else None
        env_previous = previous if isinstance(previous, EnvironmentSpec) else None
        resources, warnings = _render_environment(job, env_spec, name, env_previous)
    elif bundle.kind is Kind.SERVICE:
        service_previous = previous if isinstance(previous, ServiceSpec) else None
        if not isinstance(spec, ServiceSpec):
            raise UsageError(
                f"the service blueprint needs a ServiceSpec to render service '{name}'",
                hint="give a spec that starts with `proton: ServiceSpec` and lists instances",
            )
        resources, warnings = _render_service(job, spec, name, service_previous)
    else:
        component_spec = spec if isinstance(spec, ServiceSpec) else None
        resources, warnings = _render_component(job, component_spec, name)
    warnings = [*context.warnings, *warnings, *_skipped_terraform_files(bundle)]
    return RenderResult(tuple(resources), tuple(dict.fromkeys(warnings)))


def _require_schema(bundle: Bundle) -> Any:
    if bundle.schema is None:
        raise BundleError(f"{bundle.root}: the bundle has no schema/schema.yaml")
    return bundle.schema


def _with_blueprint(spec: SpecT, blueprint: str) -> SpecT:
    """The spec with a `blueprint` header (messages name the blueprint) when it has none."""
    if spec.header.get("blueprint"):
        return spec
    return dataclasses.replace(spec, header={**spec.header, "blueprint": blueprint})


def _render_environment(
    job: _Job, spec: EnvironmentSpec | None, name: str, previous: EnvironmentSpec | None
) -> tuple[list[RenderedResource], list[str]]:
    from protoncli.specs.resolve import resolve_environment_spec

    check_resource_name(name, "environment")
    schema = _require_schema(job.bundle)
    resolved = resolve_environment_spec(
        schema, _with_blueprint(spec or EnvironmentSpec(inputs={}), job.blueprint), previous
    )
    warnings = list(resolved.warnings)
    manifest = job.bundle.infrastructure
    if manifest is None:
        warnings.append(f"{job.bundle.root}: customer-managed environment: nothing to render")
        return [], warnings
    facts = job.context.environment(name)
    target = _Target(
        kind="environment",
        tf_kind="environment",
        name=name,
        folder=name,
        manifest=manifest,
        namespace=environment_namespace(name, resolved.inputs, facts),
        identifier=job.ids.environment(name),
        environment=name,
        inputs=resolved.inputs,
        tags=job.tags("environment", environment=name),
    )
    return [job.render(target)], warnings


def _render_service(
    job: _Job, spec: ServiceSpec, service: str, previous: ServiceSpec | None
) -> tuple[list[RenderedResource], list[str]]:
    from protoncli.specs.resolve import resolve_service_spec

    check_resource_name(service, "service")
    schema = _require_schema(job.bundle)
    resolved = resolve_service_spec(
        schema, _with_blueprint(spec, job.blueprint), previous, has_pipeline=job.bundle.has_pipeline
    )
    context = job.context
    # The service's source: its spec header's, each field overridden by the context's.
    source = {**Source.of(spec.header).fields(), **context.service}
    repository = source if (job.bundle.has_pipeline or source) else None
    manifest = job.bundle.infrastructure
    if manifest is None:
        raise BundleError(f"{job.bundle.root}: the service bundle has no instance_infrastructure/")
    resources: list[RenderedResource] = []
    pipeline_instances: list[PipelineInstance] = []
    for instance in spec.instances:
        check_resource_name(instance.name, "service instance")
        check_resource_name(instance.environment, "environment")
        inputs = resolved.instances[instance.name]
        facts = context.instance(instance.name)
        environment_facts = context.environment(instance.environment)
        namespace = service_instance_namespace(
            service,
            instance.name,
            inputs,
            environment=instance.environment,
            environment_facts=environment_facts,
            facts=facts,
            repository=repository,
            placeholders=context.placeholder_outputs,
        )
        target = _Target(
            kind="service-instance",
            tf_kind="service_instance",
            name=instance.name,
            folder=f"{instance.environment}/{service}-{instance.name}",
            manifest=manifest,
            namespace=namespace,
            identifier=job.ids.service_instance(service, instance.name),
            environment=instance.environment,
            inputs=inputs,
            tags=job.tags(
                "service-instance",
                environment=instance.environment,
                service=service,
                instance=instance.name,
            ),
        )
        resources.append(job.render(target))
        pipeline_instances.append(
            PipelineInstance(instance.name, inputs, instance.environment, environment_facts, facts)
        )
    if job.bundle.pipeline is not None:
        resources.append(
            _render_pipeline(
                job, service, resolved.pipeline_inputs or {}, pipeline_instances, source
            )
        )
    return resources, list(resolved.warnings)


def _render_pipeline(
    job: _Job,
    service: str,
    inputs: Mapping[str, Any],
    instances: list[PipelineInstance],
    source: Mapping[str, str],
) -> RenderedResource:
    manifest = job.bundle.pipeline
    assert manifest is not None  # noqa: S101 - the caller checked
    namespace = pipeline_namespace(
        service,
        inputs,
        source,
        instances,
        placeholders=job.context.placeholder_outputs,
    )
    target = _Target(
        kind="pipeline",
        tf_kind="pipeline",
        name=service,
        folder=f"{service}/pipeline",
        manifest=manifest,
        namespace=namespace,
        identifier=job.ids.pipeline(service),
        environment=None,
        inputs=inputs,
        tags=job.tags("pipeline", service=service),
    )
    return job.render(target)


def _attached_inputs(
    job: _Job, spec: ServiceSpec | None, service: str, instance: str
) -> Mapping[str, Any]:
    if spec is None:
        if job.context.placeholder_outputs:
            return {}
        raise UsageError(
            f"the component is attached to {service}/{instance}: give that service's spec",
            hint="the spec gives service_instance.inputs; a detached component needs none",
        )
    found = spec.instance(instance)
    if found is None:
        names = ", ".join(item.name for item in spec.instances) or "none"
        raise NotFoundError(
            f"{spec.source}: the service spec has no instance '{instance}' (it has: {names})",
            hint="check component.instance in --context",
        )
    return found.inputs


def _render_component(
    job: _Job, spec: ServiceSpec | None, name: str
) -> tuple[list[RenderedResource], list[str]]:
    target_of = job.context.component
    if target_of is None:
        raise UsageError(
            f"component '{name}': the context does not say where it goes",
            hint="give component: {environment: ENV, service: SVC, instance: INST} in --context",
        )
    check_resource_name(name, "component")
    environment = check_resource_name(target_of.environment, "environment")
    manifest = job.bundle.infrastructure
    if manifest is None:
        raise BundleError(f"{job.bundle.root}: the component bundle has no manifest.yaml")
    warnings: list[str] = []
    attached = None
    if target_of.service is not None and target_of.instance is not None:
        service = check_resource_name(target_of.service, "service")
        instance = check_resource_name(target_of.instance, "service instance")
        attached = (service, instance, _attached_inputs(job, spec, service, instance))
    elif spec is not None:
        warnings.append(f"{spec.source}: ignored: the component '{name}' is detached")
    namespace = component_namespace(
        name,
        environment,
        job.context.environment(environment),
        attached,
        placeholders=job.context.placeholder_outputs,
    )
    target = _Target(
        kind="component",
        tf_kind="component",
        name=name,
        folder=f"{environment}/{name}",
        manifest=manifest,
        namespace=namespace,
        identifier=job.ids.component(name),
        environment=environment,
        inputs=attached[2] if attached else {},
        tags=job.tags(
            "component",
            environment=environment,
            service=attached[0] if attached else None,
            instance=attached[1] if attached else None,
            component=name,
        ),
    )
    return [job.render(target)], warnings
