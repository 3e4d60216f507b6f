"""Services of a workspace: create, deploy (instances in parallel, then the pipeline), delete."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import check_name
from protoncli.blueprints.model import Bundle
from protoncli.deploy.environments import (
    Confirm,
    OnEvent,
    environment_stack,
    read_environment,
)
from protoncli.deploy.model import DeployResult, StackRequest
from protoncli.deploy.project import (
    Project,
    StackTarget,
    explain_missing,
    missing,
    missing_required,
    require_spec_header,
)
from protoncli.deploy.rendering import (
    deployment_id,
    render_for_deploy,
    require_cloudformation,
    spec_digest,
    template_of,
)
from protoncli.errors import InputError, NotFoundError, UsageError
from protoncli.render.model import EnvironmentFacts, InstanceFacts, RenderContext
from protoncli.specs.model import InstanceSpec, ServiceSpec

if TYPE_CHECKING:
    from protoncli.blueprints.registry import VersionInfo
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
    require_deployed: bool = False,
    scaffold_into: Path | None = None,
) -> ServiceRecord:
    """Validate everything against the blueprint, then write services/<name>.yaml.

    Nothing is written when a check fails: with `require_deployed` every environment must be
    deployed, and with `scaffold_into` no file of the folder may be one pcli would refuse to
    overwrite. The skeleton is written after the spec file.
    """
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
    planned = _planned_instances(spec, instances)
    _check_placement(project, bundle, info.ref, planned, require_deployed=require_deployed)
    planned, pipeline = _checked_inputs(
        bundle,
        info.name,
        name,
        spec=spec,
        planned=planned,
        params=dict(params or {}),
        pipeline_params=dict(pipeline_params or {}),
    )
    if scaffold_into is not None:
        _scaffold(bundle, info, name, planned, scaffold_into, dry_run=True)
    write_new_spec(
        path,
        service_document(
            blueprint=info.name,
            version=info.version,
            instances=[(i.name, i.environment, dict(i.inputs)) for i in planned],
            pipeline=pipeline,
        ),
    )
    written = _scaffold(bundle, info, name, planned, scaffold_into) if scaffold_into else None
    return replace(read_service(project, name), scaffold=written)


def _check_placement(
    project: Project,
    bundle: Bundle,
    blueprint: str,
    planned: Sequence[InstanceSpec],
    *,
    require_deployed: bool,
) -> None:
    """At least one instance; each named well, in a compatible (and deployed) environment."""
    if not planned:
        raise UsageError(
            "a service needs at least one instance", hint="add --instance NAME=ENVIRONMENT"
        )
    for instance in planned:
        check_name(instance.name, "service instance")
        check_compatible(project, bundle, blueprint, instance.environment)
    if require_deployed:
        for environment in dict.fromkeys(i.environment for i in planned):
            environment_facts(project, environment)


def _checked_inputs(
    bundle: Bundle,
    blueprint: str,
    name: str,
    *,
    spec: ServiceSpec | None,
    planned: Sequence[InstanceSpec],
    params: dict[str, str],
    pipeline_params: dict[str, str],
) -> tuple[list[InstanceSpec], dict[str, Any] | None]:
    """Instances and pipeline inputs with --param/--pipeline-param applied, checked together."""
    from protoncli.specs.resolve import apply_params, resolve_service_spec

    schema = bundle.schema
    assert schema is not None  # noqa: S101 - a service bundle always has a schema
    instances = [replace(i, inputs=apply_params(i.inputs, params, schema.main)) for i in planned]
    pipeline: dict[str, Any] | None = None
    if bundle.has_pipeline and schema.pipeline is not None:
        base = dict(spec.pipeline or {}) if spec else {}
        pipeline = apply_params(base, pipeline_params, schema.pipeline)
    elif pipeline_params:
        raise UsageError(f"blueprint {blueprint} has no pipeline: --pipeline-param is not used")
    # Problems name the --spec file the inputs came from, else the service: the workspace
    # spec file is not written yet.
    source = spec.source if spec else f"service {name}"
    candidate = ServiceSpec(
        tuple(instances), pipeline, source=source, header={"blueprint": blueprint}
    )
    try:
        resolve_service_spec(schema, candidate, has_pipeline=bundle.has_pipeline)
    except InputError as error:
        absent = [item for i in instances for item in missing_required(schema.main, i.inputs)]
        absent_pipeline = []
        if schema.pipeline is not None and pipeline is not None:
            absent_pipeline = missing_required(schema.pipeline, pipeline)
        missing_by_flag = {"--param": absent, "--pipeline-param": absent_pipeline}
        raise explain_missing(error, f"service {name!r}", missing_by_flag) from None
    return instances, pipeline


def _scaffold(
    bundle: Bundle,
    info: VersionInfo,
    service: str,
    instances: Sequence[InstanceSpec],
    target: Path,
    *,
    dry_run: bool = False,
) -> ScaffoldResult:
    """Write (or with `dry_run`, check) the blueprint's skeleton for the service."""
    from protoncli.workspace.scaffold import scaffold

    def run(*, dry_run: bool) -> ScaffoldResult:
        return scaffold(
            bundle,
            target,
            service=service,
            instances={i.name: dict(i.inputs) for i in instances},
            blueprint=info.name,
            version=info.version,
            dry_run=dry_run,
        )

    result = run(dry_run=dry_run)
    if dry_run and result.refused:
        run(dry_run=False)  # raises, naming each refused file and why, having written nothing
    return result


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
) -> tuple[dict[str, tuple[str, StackRequest]], bool]:
    """Stack requests by resource ("instance:<name>" / "pipeline"), each with its region.

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
    chosen = [i.name for i in _chosen_instances(record, instances)]
    requests, has_pipeline = _requests(project, record, with_pipeline=False)
    confirm_once = _serialised(confirm)
    recreate_once = _serialised(recreate)

    def deploy_one(instance: str) -> DeployResult:
        region, request = requests[f"instance:{instance}"]
        return project.deployer(region).deploy(
            request, confirm=confirm_once, on_event=on_event, recreate=recreate_once
        )

    workers = max(1, min(project.concurrency, len(chosen)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pcli-deploy") as pool:
        results = list(pool.map(deploy_one, chosen))
    if has_pipeline:
        requests, _ = _requests(project, record, with_pipeline=True)
        region, request = requests["pipeline"]
        results.append(
            project.deployer(region).deploy(
                request, confirm=confirm_once, on_event=on_event, recreate=recreate_once
            )
        )
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
