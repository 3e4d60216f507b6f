"""Services of a workspace: create, deploy (instances in parallel, then the pipeline), delete."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from protoncli.blueprints.limits import check_name
from protoncli.blueprints.model import Bundle
from protoncli.deploy.environments import (
    Confirm,
    OnEvent,
    environment_stack,
    read_environment,
)
from protoncli.deploy.model import DeployResult, StackRequest
from protoncli.deploy.project import Project, missing, require_spec_header
from protoncli.deploy.rendering import (
    render_for_deploy,
    require_cloudformation,
    spec_digest,
    template_of,
)
from protoncli.errors import UsageError
from protoncli.render.model import EnvironmentFacts, InstanceFacts, RenderContext
from protoncli.specs.model import InstanceSpec, ServiceSpec


@dataclass(frozen=True)
class ServiceRecord:
    name: str
    path: Path
    spec: ServiceSpec
    blueprint: str
    version: str
    warnings: tuple[str, ...] = ()


def instance_stack(project: Project, service: str, instance: str) -> str:
    from protoncli.deploy.naming import stack_name

    return stack_name(project.workspace.name, "svc", service, instance)


def pipeline_stack(project: Project, service: str) -> str:
    from protoncli.deploy.naming import stack_name

    return stack_name(project.workspace.name, "pipeline", service)


def read_service(project: Project, name: str) -> ServiceRecord:
    from protoncli.workspace.specfiles import read_spec

    path = project.workspace.service_spec(name)
    if not path.is_file():
        raise missing("service", name, project.workspace.services(), f"pcli svc create {name}")
    spec, warnings = read_spec(path)
    if not isinstance(spec, ServiceSpec):
        raise UsageError(f"{path}: expected `proton: ServiceSpec`")
    blueprint, version = require_spec_header(str(path), spec.header)
    return ServiceRecord(name, path, spec, blueprint, version, tuple(warnings))


def check_compatible(project: Project, bundle: Bundle, blueprint: str, environment: str) -> None:
    """An instance may only live in an environment whose blueprint major the service lists."""
    env = read_environment(project, environment)
    major = int(env.version.split(".")[0])
    allowed = {(c.name, c.major) for c in bundle.compatible_environments}
    if (env.blueprint, major) not in allowed:
        listed = ", ".join(str(c) for c in bundle.compatible_environments) or "none"
        raise UsageError(
            f"environment {environment!r} runs {env.blueprint}:{major}, which service blueprint "
            f"{blueprint} does not list as compatible (compatible: {listed})",
            hint="pick an environment created from a compatible blueprint",
        )


def create_service(
    project: Project,
    name: str,
    blueprint_ref: str,
    *,
    instances: Sequence[tuple[str, str]],
    spec: ServiceSpec | None = None,
    params: Mapping[str, str] | None = None,
    pipeline_params: Mapping[str, str] | None = None,
) -> ServiceRecord:
    """Validate everything against the blueprint, then write services/<name>.yaml."""
    from protoncli.specs.resolve import apply_params, resolve_service_spec
    from protoncli.workspace.specfiles import service_document, write_new_spec

    check_name(name, "service")
    path = project.workspace.service_spec(name)
    if path.exists():
        raise UsageError(
            f"service {name!r} already exists: {path}",
            hint=f"deploy it with `pcli svc deploy {name}`, or edit the spec file",
        )
    info = project.registry.resolve(blueprint_ref)
    if str(info.kind) != "service":
        raise UsageError(
            f"blueprint {info.ref} is a {info.kind} blueprint, not a service blueprint"
        )
    bundle = project.registry.load(info)
    assert bundle.schema is not None  # noqa: S101 - a service bundle always has a schema
    planned = _planned_instances(spec, instances)
    if not planned:
        raise UsageError(
            "a service needs at least one instance", hint="add --instance NAME=ENVIRONMENT"
        )
    for instance in planned:
        check_name(instance.name, "service instance")
        check_compatible(project, bundle, info.ref, instance.environment)
    given = dict(params or {})
    planned = [
        replace(i, inputs=apply_params(i.inputs, given, bundle.schema.main)) for i in planned
    ]
    pipeline: dict[str, Any] | None = None
    if bundle.has_pipeline and bundle.schema.pipeline is not None:
        base = dict(spec.pipeline or {}) if spec else {}
        pipeline = apply_params(base, dict(pipeline_params or {}), bundle.schema.pipeline)
    elif pipeline_params:
        raise UsageError(f"blueprint {info.ref} has no pipeline: --pipeline-param is not used")
    header = {"blueprint": info.name, "version": info.version}
    candidate = ServiceSpec(tuple(planned), pipeline, source=str(path), header=header)
    resolve_service_spec(bundle.schema, candidate, has_pipeline=bundle.has_pipeline)
    write_new_spec(
        path,
        service_document(
            blueprint=info.name,
            version=info.version,
            instances=[(i.name, i.environment, dict(i.inputs)) for i in planned],
            pipeline=pipeline,
        ),
    )
    return read_service(project, name)


def _planned_instances(
    spec: ServiceSpec | None, flags: Sequence[tuple[str, str]]
) -> list[InstanceSpec]:
    """Instances of --spec, with --instance NAME=ENV adding new ones or moving existing ones."""
    planned = {i.name: i for i in (spec.instances if spec else ())}
    for name, environment in flags:
        current = planned.get(name)
        planned[name] = (
            replace(current, environment=environment)
            if current
            else InstanceSpec(name=name, environment=environment, inputs={})
        )
    return list(planned.values())


def _outputs(project: Project, region: str, stack: str) -> dict[str, str] | None:
    info = project.cloudformation(region).describe(stack)
    if info is None or info.status.startswith("DELETE") or info.status == "REVIEW_IN_PROGRESS":
        return None
    return dict(info.outputs)


def _environment_facts(project: Project, environment: str) -> tuple[str, EnvironmentFacts]:
    env = read_environment(project, environment)
    outputs = _outputs(project, env.region, environment_stack(project, environment))
    if outputs is None:
        raise UsageError(
            f"environment {environment!r} is not deployed",
            hint=f"deploy it first: pcli env deploy {environment}",
        )
    return env.region, EnvironmentFacts(project.account_id(env.region), outputs)


def _component_of(project: Project, service: str, instance: str) -> str | None:
    from protoncli.workspace.specfiles import read_component

    for name in project.workspace.components():
        record = read_component(project.workspace, name)
        if (record.service, record.instance) == (service, instance):
            return name
    return None


def _context(
    project: Project, record: ServiceRecord, *, with_instance_outputs: bool
) -> tuple[RenderContext, dict[str, str]]:
    """Live facts for rendering: environment outputs, component outputs, instance outputs."""
    from protoncli.deploy.components import component_stack

    environments: dict[str, EnvironmentFacts] = {}
    regions: dict[str, str] = {}
    instances: dict[str, InstanceFacts] = {}
    for instance in record.spec.instances:
        env = instance.environment
        if env not in environments:
            regions[env], environments[env] = _environment_facts(project, env)
        region = regions[env]
        component = _component_of(project, record.name, instance.name)
        component_outputs = None
        if component is not None:
            component_outputs = _outputs(project, region, component_stack(project, component))
        own = (
            _outputs(project, region, instance_stack(project, record.name, instance.name))
            if with_instance_outputs
            else None
        )
        instances[instance.name] = InstanceFacts(
            outputs=own or {},
            component_outputs=component_outputs,
            component_name=component or "default",
        )
    first_region = next(iter(regions.values()), project.workspace.region)
    context = RenderContext(
        environments=environments,
        instances=instances,
        region=first_region,
        account_id=project.account_id(first_region),
    )
    return context, {i.name: regions[i.environment] for i in record.spec.instances}


def _requests(
    project: Project, record: ServiceRecord, *, with_instance_outputs: bool
) -> tuple[dict[str, tuple[str, StackRequest]], bool]:
    """Stack requests by resource ("instance:<name>" / "pipeline"), each with its region."""
    from protoncli.deploy.naming import stack_tags

    info, bundle = project.blueprint(record.blueprint, record.version, "service")
    require_cloudformation(bundle, info.ref)
    context, regions = _context(project, record, with_instance_outputs=with_instance_outputs)
    result = render_for_deploy(
        bundle,
        record.spec,
        name=record.name,
        context=context,
        blueprint=info.name,
        version=info.version,
    )
    requests: dict[str, tuple[str, StackRequest]] = {}
    for resource in result.resources:
        template = template_of(resource)
        if resource.kind == "pipeline":
            key, stack, region = "pipeline", pipeline_stack(project, record.name), context.region
            names: dict[str, str | None] = {}
        else:
            key = f"instance:{resource.name}"
            stack = instance_stack(project, record.name, resource.name)
            region = regions[resource.name]
            names = {"environment": resource.environment, "instance": resource.name}
        tags = stack_tags(
            workspace=project.workspace.name,
            kind=resource.kind,
            service=record.name,
            blueprint=info.name,
            version=info.version,
            spec_digest=spec_digest(resource.inputs, template),
            deployment_id=str(uuid.uuid4()),
            **names,
        )
        description = (
            f"pipeline of {record.name}"
            if resource.kind == "pipeline"
            else f"service instance {record.name}/{resource.name}"
        )
        requests[key] = (region, StackRequest(stack, template, tags, description))
    return requests, bundle.has_pipeline


def deploy_service(
    project: Project,
    name: str,
    *,
    instances: Sequence[str] = (),
    confirm: Confirm,
    on_event: OnEvent,
    recreate: Callable[[Any], bool] = lambda _info: False,
) -> list[DeployResult]:
    """Deploy the chosen instances (all by default) in parallel, then the pipeline."""
    record = read_service(project, name)
    declared = [i.name for i in record.spec.instances]
    unknown = [i for i in instances if i not in declared]
    if unknown:
        raise UsageError(
            f"service {name!r} has no instance {', '.join(map(repr, unknown))}",
            hint=f"its instances: {', '.join(declared)}",
        )
    chosen = list(instances) or declared
    requests, has_pipeline = _requests(project, record, with_instance_outputs=False)
    confirm_once = _serialised(confirm)

    def deploy_one(instance: str) -> DeployResult:
        region, request = requests[f"instance:{instance}"]
        return project.deployer(region).deploy(
            request, confirm=confirm_once, on_event=on_event, recreate=_serialised(recreate)
        )

    workers = max(1, min(project.concurrency, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pcli-deploy") as pool:
        results = list(pool.map(deploy_one, chosen))
    if has_pipeline:
        requests, _ = _requests(project, record, with_instance_outputs=True)
        region, request = requests["pipeline"]
        results.append(
            project.deployer(region).deploy(
                request, confirm=confirm_once, on_event=on_event, recreate=recreate
            )
        )
    return results


def _serialised(function: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """One question at a time when parallel deploys ask for confirmation."""
    lock = threading.Lock()

    def ask(argument: Any) -> bool:
        with lock:
            return function(argument)

    return ask


def service_outputs(project: Project, name: str) -> dict[str, dict[str, str]]:
    """Outputs per deployed resource of the service: instance names, and "pipeline"."""
    record = read_service(project, name)
    found: dict[str, dict[str, str]] = {}
    for instance in record.spec.instances:
        region = read_environment(project, instance.environment).region
        outputs = _outputs(project, region, instance_stack(project, name, instance.name))
        if outputs is not None:
            found[instance.name] = outputs
    outputs = _outputs(project, project.workspace.region, pipeline_stack(project, name))
    if outputs is not None:
        found["pipeline"] = outputs
    return found


def delete_service(project: Project, name: str, *, on_event: OnEvent) -> list[DeployResult]:
    """Delete the pipeline, then the components and instances, then the spec file."""
    from protoncli.deploy.components import delete_component
    from protoncli.workspace.specfiles import read_component

    record = read_service(project, name)
    results = [
        project.deployer(project.workspace.region).delete(
            pipeline_stack(project, name), f"pipeline of {name}", on_event=on_event
        )
    ]
    results += [
        delete_component(project, component, on_event=on_event, redeploy=False)
        for component in project.workspace.components()
        if read_component(project.workspace, component).service == name
    ]

    def delete_one(instance: InstanceSpec) -> DeployResult:
        region = read_environment(project, instance.environment).region
        return project.deployer(region).delete(
            instance_stack(project, name, instance.name),
            f"service instance {name}/{instance.name}",
            on_event=on_event,
        )

    workers = max(1, min(project.concurrency, len(record.spec.instances)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pcli-delete") as pool:
        results += list(pool.map(delete_one, record.spec.instances))
    record.path.unlink(missing_ok=True)
    return results
