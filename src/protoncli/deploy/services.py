"""Services of a workspace: deploy (instances in parallel, then the pipeline), outputs, delete.

Creating one (the spec file, from flags and answers) is `deploy.service_create`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from protoncli.blueprints.model import Bundle
from protoncli.deploy.environments import environment_stack
from protoncli.deploy.interview import runs_compatible
from protoncli.deploy.model import (
    DeployEvent,
    DeployHooks,
    DeployResult,
    OnEvent,
    StackInfo,
    StackRequest,
)
from protoncli.deploy.project import Project, StackTarget, run_all
from protoncli.deploy.rendering import (
    deployment_id,
    render_for_deploy,
    require_deployable,
    spec_digest,
    template_of,
)
from protoncli.errors import AwsError, NotFoundError, PcliError, UsageError
from protoncli.provision.request import files_text
from protoncli.provision.settings import provisioned_for
from protoncli.render.model import EnvironmentFacts, InstanceFacts, RenderContext
from protoncli.specs.model import InstanceSpec
from protoncli.state.adopted import stack_of
from protoncli.state.declared import ServiceRecord, read_environment, read_service
from protoncli.state.deployed import usable_outputs
from protoncli.state.identity import Identity

DELETE_COMPLETE = "DELETE_COMPLETE"


def instance_stack(project: Project, service: str, instance: str) -> str:
    return stack_of(project, Identity.of_instance(service, instance, None))


def pipeline_stack(project: Project, service: str) -> str:
    return stack_of(project, Identity.of_pipeline(service))


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


def _outputs(
    project: Project, region: str, stack: str, account: str | None = None
) -> dict[str, str] | None:
    """The stack's outputs: known in this run already (`Project.known_outputs`), else read."""
    key = (region, stack)
    if key in project.known_outputs:
        known = project.known_outputs[key]
        return dict(known) if known is not None else None
    from protoncli.provision.store import describe_item

    return usable_outputs(describe_item(project, region, account, stack))


def environment_facts(
    project: Project, environment: str
) -> tuple[tuple[str, str | None], EnvironmentFacts]:
    """Where the environment lives (region, account) and what its instances render with."""
    env = read_environment(project, environment)
    stack = environment_stack(project, environment)
    outputs = _outputs(project, env.region, stack, env.account)
    if outputs is None:
        raise UsageError(
            f"environment {environment!r} is not deployed",
            hint=f"deploy it first: pcli env deploy {environment}",
        )
    facts = EnvironmentFacts(project.account_id(env.region, env.account), outputs)
    return (env.region, env.account), facts


def _component_of(project: Project, service: str, instance: str) -> str | None:
    from protoncli.state.declared import component_record

    for name in project.workspace.components():
        record = component_record(project, name)
        if (record.service, record.instance) == (service, instance):
            return name
    return None


def _context(
    project: Project, record: ServiceRecord, *, with_instance_outputs: bool
) -> tuple[RenderContext, dict[str, tuple[str, str | None]], dict[str, str]]:
    """Live facts for rendering: environment outputs, component outputs, instance outputs;
    the region and account of each instance; the context digest of each resource ("instance:<name>",
    "pipeline", as `state.digests.context_digest` computes them from the same outputs)."""
    from protoncli.deploy.components import component_stack
    from protoncli.state.digests import context_digest

    environments: dict[str, EnvironmentFacts] = {}
    regions: dict[str, tuple[str, str | None]] = {}
    instances: dict[str, InstanceFacts] = {}
    component_outputs: dict[str, dict[str, str] | None] = {}
    own_outputs: dict[str, dict[str, str] | None] = {}
    for instance in record.spec.instances:
        env = instance.environment
        if env not in environments:
            regions[env], environments[env] = environment_facts(project, env)
        region, account = regions[env]
        component = _component_of(project, record.name, instance.name)
        found = None
        if component is not None:
            found = _outputs(project, region, component_stack(project, component), account)
        component_outputs[instance.name] = found
        own = (
            _outputs(project, region, instance_stack(project, record.name, instance.name), account)
            if with_instance_outputs
            else None
        )
        own_outputs[instance.name] = own
        instances[instance.name] = InstanceFacts(
            outputs=own or {},
            component_outputs=found,
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
    env_outputs = {name: dict(facts.outputs) for name, facts in environments.items()}
    digests = {
        f"instance:{i.name}": context_digest(
            {i.environment: env_outputs[i.environment]}, {i.name: component_outputs[i.name]}
        )
        for i in record.spec.instances
    }
    digests["pipeline"] = context_digest(env_outputs, component_outputs, own_outputs)
    regions_of = {i.name: regions[i.environment] for i in record.spec.instances}
    return context, regions_of, digests


def _declared_digests(
    project: Project, record: ServiceRecord, has_pipeline: bool
) -> dict[str, str]:
    """The inputs digest of each resource of the service, as the state model computes it."""
    from protoncli.state.declared import service_items

    items = service_items(project, record, {}, project.management_region(), has_pipeline)
    return {
        (
            "pipeline" if item.identity.kind == "pipeline" else f"instance:{item.identity.instance}"
        ): item.inputs_digest
        for item in items
    }


def service_requests(
    project: Project,
    record: ServiceRecord,
    *,
    with_pipeline: bool,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> tuple[dict[str, tuple[str, StackRequest]], bool, tuple[str, ...]]:
    """Stack requests by resource ("instance:<name>" / "pipeline"), each with its region; whether
    the blueprint has a pipeline; the warnings of the spec and its rendering.

    Without `with_pipeline`, the instances only: the pipeline's template may read outputs of
    instances that are not deployed yet. With it, every resource, rendered with the deployed
    instances' outputs.

    `overrides` (instance -> `svc deploy --param` values) render those instances with them and
    tag their stacks so (`deploy.overrides`); their inputs digest stays the spec file's.
    """
    from protoncli.deploy.overrides import override_tags, with_overrides
    from protoncli.state.digests import bundle_digest

    info, bundle = project.blueprint(record.blueprint, record.version, "service")
    require_deployable(bundle, info.ref)
    if bundle.has_pipeline and not with_pipeline:  # before the instances deploy
        check_pipeline_source(project, record)
    context, regions, contexts = _context(project, record, with_instance_outputs=with_pipeline)
    inputs_digests = _declared_digests(project, record, bundle.has_pipeline)
    # Without the pipeline, neither its template nor its inputs: they are rendered (and their
    # inputs checked) with the pipeline, once the instances are deployed.
    spec = with_overrides(record.spec, overrides or {})
    result = render_for_deploy(
        bundle if with_pipeline else replace(bundle, pipeline=None),
        spec if with_pipeline else replace(spec, pipeline=None),
        name=record.name,
        context=context,
        blueprint=info.name,
        version=info.version,
    )
    requests: dict[str, tuple[str, StackRequest]] = {}
    for resource in result.resources:
        provisioned = provisioned_for(project, resource)
        template = template_of(resource) if provisioned is None else files_text(resource)
        marks: dict[str, str] = {}
        if resource.kind == "pipeline":
            key, region, account = "pipeline", context.region, None
            identity = Identity.of_pipeline(record.name)
        else:
            key = f"instance:{resource.name}"
            region, account = regions[resource.name]
            identity = Identity.of_instance(record.name, resource.name, resource.environment)
            declared = record.spec.instance(resource.name)
            if overrides and declared is not None:
                marks = override_tags(declared, overrides.get(resource.name))
        stack = stack_of(project, identity)
        digest = spec_digest(resource.inputs, template)
        tags = identity.tags(
            project.workspace.name,
            blueprint=info.name,
            version=info.version,
            spec_digest=digest,
            inputs_digest=inputs_digests[key],
            bundle_digest=bundle_digest(info.digest),
            context_digest=contexts[key],
            deployment_id=deployment_id(stack, digest),
            **marks,
        )
        requests[key] = (
            region,
            StackRequest(
                stack,
                template,
                tags,
                identity.description,
                account=account,
                provisioned=provisioned,
            ),
        )
    return requests, bundle.has_pipeline, tuple(dict.fromkeys(record.warnings + result.warnings))


def check_pipeline_source(project: Project, record: ServiceRecord) -> None:
    """Refuse, before anything deploys, a pipeline whose templates read a repository field of
    the service that is empty (specs.repository): they are rendered once with stand-in outputs
    and the service's real repository fields; only that error is raised here, any other
    surfaces when the pipeline is rendered for its deploy."""
    from protoncli.render.jinja_env import EmptyValueError
    from protoncli.specs.repository import REPOSITORY_KEYS, Source

    source = Source.of(record.spec.header)
    fields = {key: getattr(source, key) for key in REPOSITORY_KEYS}
    if all(fields.values()):
        return
    info, bundle = project.blueprint(record.blueprint, record.version, "service")
    context = RenderContext(service=fields, placeholder_outputs=True)
    try:
        render_for_deploy(
            bundle,
            record.spec,
            name=record.name,
            context=context,
            blueprint=info.name,
            version=info.version,
        )
    except EmptyValueError:
        raise
    except PcliError:
        return


def deploy_service(
    project: Project,
    name: str,
    hooks: DeployHooks,
    *,
    instances: Sequence[str] = (),
    deployment_mode: str | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[DeployResult]:
    """Deploy the chosen instances (all by default) in parallel, then the pipeline;
    `deployment_mode` "REVERT_DRIFT" also puts drifted resources back to their templates;
    `overrides` (`deploy.overrides.instance_overrides`) are `svc deploy --param` values.
    The stacks it deploys and renders with are read in bulk first, where that saves calls
    (`_read_ahead`)."""
    from protoncli.deploy.overrides import with_overrides
    from protoncli.deploy.records import recorded_deploy

    record = read_service(project, name)
    chosen = [i.name for i in chosen_instances(record, instances)]
    overrides = {i: values for i, values in (overrides or {}).items() if i in chosen and values}
    _read_ahead(project, record, chosen)
    requests, has_pipeline, warnings = service_requests(
        project, record, with_pipeline=False, overrides=overrides
    )
    for warning in warnings:
        hooks.on_event(DeployEvent("warning", "", f"service {name}", message=warning))
    one_at_a_time = hooks.one_at_a_time()
    spec_text = record.path.read_text(encoding="utf-8")

    def deploy_one(instance: str) -> DeployResult:
        region, request = requests[f"instance:{instance}"]
        request = replace(request, deployment_mode=deployment_mode)
        return recorded_deploy(
            project,
            region,
            request,
            one_at_a_time,
            spec_text=spec_text,
            spec=with_overrides(record.spec, overrides),
            overrides=overrides.get(instance),
        )

    results = run_all(project, chosen, deploy_one, name="pcli-deploy")
    if has_pipeline:
        requests, _, pipeline_warnings = service_requests(project, record, with_pipeline=True)
        for warning in pipeline_warnings:
            if warning not in warnings:
                hooks.on_event(DeployEvent("warning", "", f"pipeline of {name}", message=warning))
        region, request = requests["pipeline"]
        request = replace(request, deployment_mode=deployment_mode)
        results.append(
            recorded_deploy(
                project, region, request, one_at_a_time, spec_text=spec_text, spec=record.spec
            )
        )
    return results


# Before a service deploy, a region's stacks are read in bulk (one paginated DescribeStacks:
# ceil(stacks there / 100) calls on AWS, / 50 on moto) when the deploy would otherwise read at
# least this many of them one by one, a DescribeStacks each. From 3 on, the bulk read costs
# fewer calls in every region of up to 200 stacks (no more up to 300), and more only in bigger
# ones; below, reading one by one costs at most 2 calls, which few bulk reads would beat.
BULK_READ_FROM = 3


def _read_ahead(project: Project, record: ServiceRecord, chosen: Sequence[str]) -> None:
    """Tell the deployments what one bulk read of each region says instead of reading stack by
    stack: the stacks this run deploys (`Project.known_stacks`) and the outputs it renders
    with (`Project.known_outputs`). Only in the regions where that saves calls
    (`BULK_READ_FROM`); elsewhere, or when the bulk read fails (an IAM policy that allows
    DescribeStacks on pcli's stacks only, say), each stack is read as before.

    A read moments old may be outdated by the time a stack is deployed: the engine then reads
    that stack anew (see `Deployer.deploy`), as a deploy without it would have from the start.
    """
    outputs, deployed = _stacks_read(project, record, chosen)
    places = sorted(
        (
            place
            for place in outputs.keys() | deployed.keys()
            if len(outputs.get(place, ())) + len(deployed.get(place, ())) >= BULK_READ_FROM
        ),
        key=lambda place: (place[0], place[1] or ""),
    )

    def seed(place: tuple[str, str | None]) -> None:
        found = _stacks_by_name(project, *place)
        if found is None:
            return
        by_name, unreadable = found
        region = place[0]
        for stack in (outputs.get(place, set()) - unreadable) & by_name.keys():
            # one not found may be no stack but provisioned otherwise: read on its own
            project.known_outputs[(region, stack)] = usable_outputs(by_name[stack])
        for stack in deployed.get(place, set()) - unreadable:
            project.known_stacks[(region, stack)] = by_name.get(stack)

    run_all(project, places, seed, name="pcli-read")


def _stacks_read(
    project: Project, record: ServiceRecord, chosen: Sequence[str]
) -> tuple[dict[tuple[str, str | None], set[str]], dict[tuple[str, str | None], set[str]]]:
    """The stacks `deploy_service` reads one by one unless told, by (region, account): those whose
    outputs it renders with (the environments, the components, and for the pipeline the
    instances not deployed now), and those it deploys (the instances chosen, the pipeline)."""
    from protoncli.deploy.components import component_stack

    info, bundle = project.blueprint(record.blueprint, record.version, "service")
    require_deployable(bundle, info.ref)  # as rendering does: before any AWS call
    outputs: dict[tuple[str, str | None], set[str]] = {}
    deployed: dict[tuple[str, str | None], set[str]] = {}
    for instance in record.spec.instances:
        environment = read_environment(project, instance.environment)
        region = (environment.region, environment.account)
        read = outputs.setdefault(region, set())
        read.add(environment_stack(project, instance.environment))
        component = _component_of(project, record.name, instance.name)
        if component is not None:
            read.add(component_stack(project, component))
        stack = instance_stack(project, record.name, instance.name)
        if instance.name in chosen:
            deployed.setdefault(region, set()).add(stack)
        elif bundle.has_pipeline:
            read.add(stack)  # the pipeline renders with every instance's outputs
    if bundle.has_pipeline:
        home = (project.management_region(), None)
        deployed.setdefault(home, set()).add(pipeline_stack(project, record.name))
    for place, stacks in outputs.items():  # what this run knows already is not read
        stacks -= {stack for stack in stacks if (place[0], stack) in project.known_outputs}
    return outputs, deployed


def _stacks_by_name(
    project: Project, region: str, account: str | None = None
) -> tuple[dict[str, StackInfo], set[str]] | None:
    """Every stack of the region (of the account) by name, as DescribeStacks of that name would
    answer (a deleted stack is no stack), and the names of those that could not be read; None
    when the region cannot be read in bulk."""
    try:
        reading, _ = project.stacks_in(region, account)
    except AwsError:
        return None
    by_name = {info.name: info for info in reading.stacks if info.status != DELETE_COMPLETE}
    return by_name, {stack.name for stack in reading.unreadable}


def instances_in(
    project: Project, name: str, environments: Sequence[str], instances: Sequence[str] = ()
) -> list[str]:
    """The service's instances that run in `environments` (and are among `instances`, when
    some are named): what `svc deploy NAME --env E` deploys. An environment the service has no
    instance in is an error naming those it has."""
    record = read_service(project, name)
    chosen = chosen_instances(record, instances)
    where = sorted({i.environment for i in record.spec.instances})
    missing_envs = [e for e in environments if e not in {i.environment for i in chosen}]
    if missing_envs:
        named = " among the instances named" if instances else ""
        raise UsageError(
            f"service {name!r} has no instance in {', '.join(map(repr, missing_envs))}{named}",
            hint=f"its instances run in: {', '.join(where)}",
        )
    return [i.name for i in chosen if i.environment in environments]


def chosen_instances(record: ServiceRecord, names: Sequence[str]) -> list[InstanceSpec]:
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
    targets = []
    for i in chosen_instances(record, instances):
        environment = read_environment(project, i.environment)
        targets.append(
            StackTarget(
                environment.region,
                instance_stack(project, name, i.name),
                f"service instance {name}/{i.name}",
                environment.account,
            )
        )
    _, bundle = project.blueprint(record.blueprint, record.version, "service")
    if bundle.has_pipeline:
        region = project.management_region()
        targets.append(StackTarget(region, pipeline_stack(project, name), f"pipeline of {name}"))
    return targets


def service_outputs(project: Project, name: str) -> dict[str, dict[str, str]]:
    """Outputs per deployed resource of the service: instance names, and "pipeline"."""
    record = read_service(project, name)
    found: dict[str, dict[str, str]] = {}
    for instance in record.spec.instances:
        environment = read_environment(project, instance.environment)
        stack = instance_stack(project, name, instance.name)
        outputs = _outputs(project, environment.region, stack, environment.account)
        if outputs is not None:
            found[instance.name] = outputs
    outputs = _outputs(project, project.management_region(), pipeline_stack(project, name))
    if outputs is not None:
        found["pipeline"] = outputs
    return found


def delete_service(project: Project, name: str, *, on_event: OnEvent) -> list[DeployResult]:
    """Delete the pipeline, then the components and instances, then the spec file."""
    from protoncli.deploy.components import delete_component
    from protoncli.workspace.specfiles import read_component, require_removable

    record = read_service(project, name)
    require_removable(record.path)
    for component in project.workspace.components():
        if read_component(project.workspace, component).service == name:
            require_removable(project.workspace.component_dir(component))
    from protoncli.provision.deployer import deleter

    pipeline = pipeline_stack(project, name)
    results = [
        deleter(project, project.management_region(), None, pipeline).delete(
            pipeline, f"pipeline of {name}", on_event=on_event
        )
    ]
    for component in project.workspace.components():
        if read_component(project.workspace, component).service == name:
            results += delete_component(project, component, on_event=on_event, redeploy=False)

    def delete_one(instance: InstanceSpec) -> DeployResult:
        environment = read_environment(project, instance.environment)
        stack = instance_stack(project, name, instance.name)
        return deleter(project, environment.region, environment.account, stack).delete(
            stack, f"service instance {name}/{instance.name}", on_event=on_event
        )

    results += run_all(project, record.spec.instances, delete_one, name="pcli-delete")
    record.path.unlink(missing_ok=True)
    return results
