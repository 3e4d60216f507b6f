"""Components (Proton's directly defined components): developer IaC attached to an instance."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli.blueprints.limits import check_name
from protoncli.blueprints.model import Kind
from protoncli.deploy.model import Change, DeployHooks, DeployResult, OnEvent, StackRequest
from protoncli.deploy.project import Project, missing
from protoncli.deploy.rendering import (
    deployment_id,
    render_for_deploy,
    require_deployable,
    spec_digest,
    template_of,
)
from protoncli.errors import UsageError
from protoncli.provision.request import files_text
from protoncli.provision.settings import provisioned_for
from protoncli.render.model import ComponentTarget, RenderContext
from protoncli.state.adopted import stack_of
from protoncli.state.declared import read_environment, read_service
from protoncli.state.identity import Identity

if TYPE_CHECKING:
    from protoncli.workspace.specfiles import ComponentRecord


def component_stack(project: Project, name: str) -> str:
    identity = Identity.of_component(name, service=None, instance=None, environment=None)
    return stack_of(project, identity)


def create_component(
    project: Project, name: str, *, service: str, instance: str, bundle_dir: Path
) -> Path:
    """Copy the component's bundle into components/<name>/ and record where it attaches.

    The service instance is looked up, and the folder written, under the workspace lock: of
    several creates of one name exactly one writes it, and none attaches to an instance that
    is being removed or to an environment being deleted.
    """
    from protoncli.blueprints.bundle import load_bundle
    from protoncli.locks import require_not_deleting, workspace_lock
    from protoncli.workspace.specfiles import write_component

    check_name(name, "component")
    _check_new_component(project, name)
    bundle = load_bundle(bundle_dir)
    if bundle.kind is not Kind.COMPONENT:
        raise UsageError(
            f"{bundle_dir}: a {bundle.kind} bundle, not a component (manifest.yaml + IaC)"
        )
    require_deployable(bundle, str(bundle_dir))
    with workspace_lock(project.workspace, f"pcli component create {name}"):
        _check_new_component(project, name)  # another create may have won meanwhile
        record = read_service(project, service)
        target = record.spec.instance(instance)
        if target is None:
            names = ", ".join(i.name for i in record.spec.instances)
            raise UsageError(
                f"service {service!r} has no instance {instance!r}",
                hint=f"its instances: {names}",
            )
        for other in project.workspace.components():
            from protoncli.workspace.specfiles import read_component

            attached = read_component(project.workspace, other)
            if (attached.service, attached.instance) == (service, instance):
                raise UsageError(
                    f"service instance {service}/{instance} already has component {other!r}",
                    hint="Proton attaches one component per service instance",
                )
        require_not_deleting(project.workspace, "environment", target.environment)
        return write_component(
            project.workspace,
            name,
            bundle_dir=bundle_dir,
            service=service,
            instance=instance,
            environment=target.environment,
        )


def _check_new_component(project: Project, name: str) -> None:
    if name in project.workspace.components():
        raise UsageError(
            f"component {name!r} already exists: {project.workspace.component_dir(name)}",
            hint=f"deploy it with `pcli component deploy {name}`",
        )


def require_component(project: Project, name: str) -> ComponentRecord:
    """The component's record; a not-found error naming the known ones."""
    from protoncli.workspace.specfiles import read_component

    if name not in project.workspace.components():
        raise missing(
            "component", name, project.workspace.components(), f"pcli component create {name}"
        )
    return read_component(project.workspace, name)


def component_request(project: Project, name: str) -> tuple[str, StackRequest, str, str]:
    from protoncli.blueprints.bundle import load_bundle
    from protoncli.deploy.services import environment_facts
    from protoncli.state.declared import component_item
    from protoncli.state.digests import context_digest

    record = require_component(project, name)
    bundle = load_bundle(record.bundle_dir)
    service = read_service(project, record.service)
    (region, account), facts = environment_facts(project, record.environment)
    context = RenderContext(
        environments={record.environment: facts},
        component=ComponentTarget(record.environment, record.service, record.instance),
        region=region,
        account_id=facts.account_id,
    )
    result = render_for_deploy(
        bundle, service.spec, name=name, context=context, blueprint=name, version="1.0"
    )
    (resource,) = result.resources
    provisioned = provisioned_for(project, resource)
    template = template_of(resource) if provisioned is None else files_text(resource)
    stack = component_stack(project, name)
    digest = spec_digest(resource.inputs, template)
    identity = Identity.of_component(
        name, service=record.service, instance=record.instance, environment=record.environment
    )
    declared = component_item(project, record, {service.name: service}, {}, region)
    tags = identity.tags(
        project.workspace.name,
        spec_digest=digest,
        inputs_digest=declared.inputs_digest,
        context_digest=context_digest({record.environment: dict(facts.outputs)}),
        deployment_id=deployment_id(stack, digest),
    )
    request = StackRequest(
        stack, template, tags, f"component {name}", account=account, provisioned=provisioned
    )
    return region, request, record.service, record.instance


def deploy_component(project: Project, name: str, hooks: DeployHooks) -> list[DeployResult]:
    """Deploy the component, then redeploy its instance so it sees the component's outputs."""
    from protoncli.deploy.records import recorded_deploy
    from protoncli.deploy.services import deploy_service
    from protoncli.workspace.model import COMPONENT_FILE

    region, request, service, instance = component_request(project, name)
    record_file = project.workspace.component_dir(name) / COMPONENT_FILE
    spec_text = record_file.read_text(encoding="utf-8") if record_file.is_file() else None
    result = recorded_deploy(project, region, request, hooks, spec_text=spec_text)
    redeployed = deploy_service(project, service, hooks, instances=[instance])
    return [result, *redeployed]


def delete_component(
    project: Project,
    name: str,
    *,
    on_event: OnEvent,
    redeploy: bool = True,
    confirm: Callable[[tuple[Change, ...]], bool] = lambda _changes: True,
) -> list[DeployResult]:
    """Delete the component's stack and folder; then redeploy its instance without it.

    The results: the deletion, then (with `redeploy`) the instance's and pipeline's deploys.
    """
    from protoncli.deploy.services import deploy_service
    from protoncli.workspace.specfiles import require_removable

    record = require_component(project, name)
    require_removable(project.workspace.component_dir(name))
    environment = read_environment(project, record.environment)
    from protoncli.provision.deployer import deleter

    stack = component_stack(project, name)
    result = deleter(project, environment.region, environment.account, stack).delete(
        stack, f"component {name}", on_event=on_event
    )
    shutil.rmtree(project.workspace.component_dir(name))
    if not redeploy:
        return [result]
    hooks = DeployHooks(on_event, confirm)  # a stack in ROLLBACK_COMPLETE is not replaced
    redeployed = deploy_service(project, record.service, hooks, instances=[record.instance])
    return [result, *redeployed]
