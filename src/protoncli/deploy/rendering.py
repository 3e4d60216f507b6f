"""Render one resource of a workspace for deployment, in memory."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from typing import Any

from protoncli.blueprints.model import Bundle, Provisioning
from protoncli.errors import UsageError
from protoncli.render.model import RenderContext, RenderedResource, RenderResult
from protoncli.specs.model import EnvironmentSpec, ServiceSpec


def require_deployable(bundle: Bundle, blueprint: str) -> None:
    """pcli deploys CloudFormation, runs Terraform and CodeBuild commands; a blueprint of an
    environment provisioned elsewhere has nothing to deploy."""
    if bundle.provisioning is not Provisioning.CUSTOMER_MANAGED:
        return
    raise UsageError(
        f"blueprint {blueprint} describes an environment provisioned elsewhere: it has no "
        "infrastructure for pcli to deploy",
        hint="choose a blueprint with infrastructure (CloudFormation, Terraform or CodeBuild)",
    )


def render_for_deploy(
    bundle: Bundle,
    spec: EnvironmentSpec | ServiceSpec | None,
    *,
    name: str,
    context: RenderContext,
    blueprint: str,
    version: str,
) -> RenderResult:
    """Render as `pcli blueprint render` would, with the same checks of every file's name, but
    write nothing: a deploy reads the result from memory."""
    from protoncli.render.engine import render_bundle
    from protoncli.render.writer import relative_paths

    result = render_bundle(
        bundle,
        spec,
        name=name,
        context=context,
        blueprint_name=blueprint,
        blueprint_version=version,
    )
    relative_paths(result)  # refuses a name that would leave the output folder
    return result


def template_of(resource: RenderedResource) -> str:
    """The CloudFormation template text of a rendered resource (its one template file)."""
    texts = [
        text for name, text in resource.files.items() if name.endswith((".yaml", ".yml", ".json"))
    ]
    if len(texts) != 1:
        raise UsageError(f"{resource.kind} {resource.name}: expected one CloudFormation template")
    return texts[0]


def spec_digest(inputs: Mapping[str, Any], template: str) -> str:
    """A short digest of what a stack was deployed from (its inputs and rendered template)."""
    payload = json.dumps(inputs, sort_keys=True, default=str) + "\0" + template
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def deployment_id(stack_name: str, digest: str) -> str:
    """The `pcli:deployment-id` of a stack deployed from the spec digest `digest`.

    Decision: the id is derived from the stack and its spec digest instead of drawn at random.
    CloudFormation counts a changed stack tag as an update (the change set re-tags every
    taggable resource), so a fresh id on every run would turn each redeploy of an unchanged
    spec into an update and "no changes" could never be reported. The id still changes with
    every change of inputs or template, which is what a deployment is.
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pcli-deployment:{stack_name}:{digest}"))
