"""Services of a workspace: deploy (instances in parallel, then the pipeline), outputs, delete.

Creating one (the spec file, from flags and answers) is `deploy.service_create`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.model import Bundle
from protoncli.deploy.environments import environment_stack, read_environment
from protoncli.deploy.interview import runs_compatible
from protoncli.deploy.model import DeployEvent, DeployHooks, DeployResult, OnEvent, StackRequest
from protoncli.deploy.project import (
    Project,
    StackTarget,
    missing,
    require_spec_header,
)
from protoncli.deploy.rendering import (
    deployment_id,
    render_for_deploy,
    require_cloudformation,
    spec_digest,
    template_of,
)
from protoncli.errors import NotFoundError, UsageError
from protoncli.render.model import EnvironmentFacts, InstanceFacts, RenderContext
from protoncli.specs.model import InstanceSpec, ServiceSpec

if TYPE_CHECKING:
    from protoncli.workspace.scaffold import ScaffoldResult


@dataclass(frozen=True)
class ServiceRecord:
    name: str
    path: Path
    spec: ServiceSpec
    blueprint: str
    version: str
    warnings: tuple[str, ...] = ()
    scaffold: ScaffoldResult | None = None  # what `create_service(scaffold_into=...)` wrote


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
    if not runs_compatible(bundle, env):
        major = int(env.version.split(".")[0])
        listed = ", ".join(str(c) for c in bundle.compatible_environments) or "none"
        raise UsageError(
            f"environment {environment!r} runs {env.blueprint}:{major}, which service blueprint "
            f"{blueprint} does not list as compatible (compatible: {listed})",
            hint="pick an environment created from a compatible blueprint",
        )


def _outputs(project: Project, region: str, stack: str) -> dict[str, str] | None:
    info = project.cloudformation(region).describe(stack)
    if info is None or info.status.startswith("DELETE") or info.status == "REVIEW_IN_PROGRESS":
        return None
    return dict(info.outputs)


def environment_facts(project: Project, environment: str) -> tuple[str, EnvironmentFacts]:
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
            regions[env], environments[env] = environment_facts(project, env)
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
    # The service's own identifiers and its pipeline belong to the management region (the
    # workspace's), wherever its instances run.
    home = project.management_region()
    context = RenderContext(
        environments=environments,
        instances=instances,
        region=home,
        account_id=project.account_id(home),
    )
    return context, {i.name: regions[i.environment] for i in record.spec.instances}


def _requests(
    project: Project, record: ServiceRecord, *, with_pipeline: bool
) -> tuple[dict[str, tuple[str, StackRequest]], bool, tuple[str, ...]]:
    """Stack requests by resource ("instance:<name>" / "pipeline"), each with its region; whether
    the blueprint has a pipeline; the warnings of the spec and its rendering.

    Without `with_pipeline`, the instances only: the pipeline's template may read outputs of
    instances that are not deployed yet. With it, every resource, rendered with the deployed
    instances' outputs.
    """
    from protoncli.deploy.naming import stack_tags

    info, bundle = project.blueprint(record.blueprint, record.version, "service")
    require_cloudformation(bundle, info.ref)
    context, regions = _context(project, record, with_instance_outputs=with_pipeline)
    result = render_for_deploy(
        bundle if with_pipeline else replace(bundle, pipeline=None),
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
        digest = spec_digest(resource.inputs, template)
        tags = stack_tags(
            workspace=project.workspace.name,
            kind=resource.kind,
            service=record.name,
            blueprint=info.name,
            version=info.version,
            spec_digest=digest,
            deployment_id=deployment_id(stack, digest),
            **names,
        )
        description = (
            f"pipeline of {record.name}"
            if resource.kind == "pipeline"
            else f"service instance {record.name}/{resource.name}"
        )
        requests[key] = (region, StackRequest(stack, template, tags, description))
    return requests, bundle.has_pipeline, tuple(dict.fromkeys(record.warnings + result.warnings))


def deploy_service(
    project: Project,
    name: str,
    hooks: DeployHooks,
    *,
    instances: Sequence[str] = (),
    deployment_mode: str | None = None,
) -> list[DeployResult]:
    """Deploy the chosen instances (all by default) in parallel, then the pipeline;
    `deployment_mode` "REVERT_DRIFT" also puts drifted resources back to their templates."""
    record = read_service(project, name)
    chosen = [i.name for i in _chosen_instances(record, instances)]
    requests, has_pipeline, warnings = _requests(project, record, with_pipeline=False)
    for warning in warnings:
        hooks.on_event(DeployEvent("warning", "", f"service {name}", message=warning))
    one_at_a_time = replace(
        hooks, confirm=_serialised(hooks.confirm), recreate=_serialised(hooks.recreate)
    )

    def deploy_one(instance: str) -> DeployResult:
        region, request = requests[f"instance:{instance}"]
        request = replace(request, deployment_mode=deployment_mode)
        return project.deployer(region).deploy(request, one_at_a_time)

    workers = max(1, min(project.concurrency, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pcli-deploy") as pool:
        results = list(pool.map(deploy_one, chosen))
    if has_pipeline:
        requests, _, pipeline_warnings = _requests(project, record, with_pipeline=True)
        for warning in pipeline_warnings:
            if warning not in warnings:
                hooks.on_event(DeployEvent("warning", "", f"pipeline of {name}", message=warning))
        region, request = requests["pipeline"]
        request = replace(request, deployment_mode=deployment_mode)
        results.append(project.deployer(region).deploy(request, one_at_a_time))
    return results


def _chosen_instances(record: ServiceRecord, names: Sequence[str]) -> list[InstanceSpec]:
    """The instances named (all of them when none is), each checked to exist."""
    declared = [i.name for i in record.spec.instances]
    unknown = [i for i in names if i not in declared]
    if unknown:
        raise NotFoundError(
            f"service {record.name!r} has no instance {', '.join(map(repr, unknown))}",
            hint=f"its instances: {', '.join(declared)}",
        )
    return [i for i in record.spec.instances if not names or i.name in names]


def service_targets(
    project: Project, name: str, instances: Sequence[str] = ()
) -> list[StackTarget]:
    """The stacks `pcli svc deploy NAME [-i I]...` works on: the instances, then the pipeline."""
    record = read_service(project, name)
    targets = [
        StackTarget(
            read_environment(project, i.environment).region,
            instance_stack(project, name, i.name),
            f"service instance {name}/{i.name}",
        )
        for i in _chosen_instances(record, instances)
    ]
    _, bundle = project.blueprint(record.blueprint, record.version, "service")
    if bundle.has_pipeline:
        region = project.management_region()
        targets.append(StackTarget(region, pipeline_stack(project, name), f"pipeline of {name}"))
    return targets


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
    outputs = _outputs(project, project.management_region(), pipeline_stack(project, name))
    if outputs is not None:
        found["pipeline"] = outputs
    return found


def delete_service(project: Project, name: str, *, on_event: OnEvent) -> list[DeployResult]:
    """Delete the pipeline, then the components and instances, then the spec file."""
    from protoncli.deploy.components import delete_component
    from protoncli.workspace.specfiles import read_component

    record = read_service(project, name)
    results = [
        project.deployer(project.management_region()).delete(
            pipeline_stack(project, name), f"pipeline of {name}", on_event=on_event
        )
    ]
    for component in project.workspace.components():
        if read_component(project.workspace, component).service == name:
            results += delete_component(project, component, on_event=on_event, redeploy=False)

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
