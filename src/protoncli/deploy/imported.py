"""Environments provisioned outside pcli (Proton's customer-managed environments): registered
with their outputs, never deployed, updated or deleted by pcli.

`pcli env import NAME` writes environments/NAME.yaml with a customer-managed blueprint (the
starter `external-env` unless another is named) and `managed_elsewhere:` saying where the outputs
come from (`stack NAME`, or `outputs` from a file), and records the environment in AWS as a
provisioned item of its own kind (`provision/state.py`, provisioning `external`): its outputs,
and tags that make plan find it up to date. With `--stack`, what depends on the environment
renders with that stack's outputs as they are at the time (`describe_item`); with
`--outputs FILE`, with the file's, as imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from protoncli.deploy.model import FORGOTTEN, DeployEvent, DeployResult, OnEvent
from protoncli.errors import NotFoundError, UsageError
from protoncli.provision.state import EXTERNAL, SUCCEEDED, ProvisionedState

if TYPE_CHECKING:
    from protoncli.blueprints.registry import VersionInfo
    from protoncli.deploy.project import Project
    from protoncli.state.declared import EnvironmentRecord

IMPORTED_BLUEPRINT = "external-env"
SOURCE_KEY = "managed_elsewhere"  # the spec header key: "stack NAME" or "outputs"
STACK_SOURCE = "stack "
FILE_SOURCE = "outputs"


@dataclass(frozen=True)
class Imported:
    record: EnvironmentRecord
    outputs: Mapping[str, str]
    source: str  # "stack NAME" | "outputs"
    replaced: bool


def imported_source(record: EnvironmentRecord) -> str | None:
    """Where an imported environment's outputs come from; None for one pcli deploys."""
    value = record.spec.header.get(SOURCE_KEY)
    return str(value) if value else None


def source_stack(source: str | None) -> str | None:
    if source and source.startswith(STACK_SOURCE):
        return source.removeprefix(STACK_SOURCE).strip() or None
    return None


def import_environment(
    project: Project,
    name: str,
    *,
    stack: str | None,
    outputs: Mapping[str, str] | None,
    blueprint: str | None,
    region: str | None,
    account: str | None,
    replace: bool,
) -> Imported:
    """Write the spec file and the environment's state in AWS; an error, with nothing written,
    when the stack does not exist, the blueprint has infrastructure, or the name is taken."""
    from protoncli.deploy.interview import already_exists, check_new_name
    from protoncli.locks import workspace_lock
    from protoncli.state.declared import read_environment
    from protoncli.workspace.specfiles import environment_document, write_new_spec

    if (stack is None) == (outputs is None):
        raise UsageError("give --stack STACK or --outputs FILE (one of them)")
    if account is not None:
        project.account(account)  # an unknown name fails first
    chosen_region = region or project.settings.region or project.workspace.region
    info = _customer_managed(project, blueprint)
    source = f"{STACK_SOURCE}{stack}" if stack is not None else FILE_SOURCE
    if outputs is not None:
        values = dict(outputs)
    else:
        values = _stack_outputs(project, chosen_region, account, str(stack))
    path = project.workspace.environment_spec(name)
    with workspace_lock(project.workspace, f"pcli env import {name}"):
        existed = path.exists()
        if existed and not replace:
            raise already_exists(project, "environment", name)
        if existed and imported_source(read_environment(project, name)) is None:
            raise UsageError(
                f"environment {name!r} is deployed by pcli ({path}): it cannot be replaced by "
                "an import",
                hint="import it under another name",
            )
        if not existed:
            check_new_name(project, "environment", name)
        document = environment_document(
            blueprint=info.name,
            version=info.version,
            region=chosen_region,
            inputs={},
            account=account,
        )
        document = {**document, SOURCE_KEY: source}
        write_new_spec(path, document, overwrite=existed)
    record = read_environment(project, name)
    _record_state(project, record, values, source)
    return Imported(record, values, source, existed)


def _customer_managed(project: Project, blueprint: str | None) -> VersionInfo:
    """The blueprint to register the environment with: a customer-managed environment
    blueprint (no infrastructure of its own)."""
    from protoncli.blueprints.model import Kind, Provisioning

    info = project.registry.resolve(blueprint or IMPORTED_BLUEPRINT)
    if info.kind != Kind.ENVIRONMENT:
        raise UsageError(f"blueprint {info.ref} is a {info.kind} blueprint, not an environment one")
    if info.provisioning is not Provisioning.CUSTOMER_MANAGED:
        raise UsageError(
            f"blueprint {info.ref} has infrastructure ({info.provisioning}): pcli deploys it",
            hint=f"create the environment from it with pcli env create NAME -b {info.name}, or "
            "import with a blueprint that has a schema only (the default, external-env)",
        )
    return info


def _stack_outputs(
    project: Project, region: str, account: str | None, stack: str
) -> dict[str, str]:
    info = project.cloudformation(region, account).describe(stack)
    if info is None:
        where = region if account is None else f"{region} of account {account}"
        raise NotFoundError(
            f"no stack {stack} in {where}: nothing was imported",
            hint="give the name of the environment's stack (aws cloudformation list-stacks), "
            "its --region, and --account when it lives in a pcli.yaml account",
        )
    return dict(info.outputs)


def _record_state(
    project: Project, record: EnvironmentRecord, outputs: Mapping[str, str], source: str
) -> None:
    from protoncli.deploy.environments import environment_stack, environment_tags
    from protoncli.deploy.rendering import spec_digest
    from protoncli.provision.store import write_state

    name = environment_stack(project, record.name)
    info = project.registered(record.blueprint, record.version)
    tags = environment_tags(project, record, info, spec_digest(dict(outputs), source))
    now = datetime.now(UTC)
    state = ProvisionedState(
        name=name,
        region=record.region,
        provisioning=EXTERNAL,
        method="",
        status=SUCCEEDED,
        tags=tags,
        outputs=dict(outputs),
        created=now,
        updated=now,
        deployment_id=tags.get("pcli:deployment-id"),
        source=source,
    )
    write_state(project.artifacts(record.region, record.account), state)


def refuse_imported(record: EnvironmentRecord) -> None:
    """pcli never deploys an environment managed elsewhere."""
    source = imported_source(record)
    if source is None:
        return
    again = f"--stack {source_stack(source)}" if source_stack(source) else "--outputs FILE"
    raise UsageError(
        f"environment {record.name!r} is managed elsewhere ({source}): pcli never deploys, "
        "updates or deletes it",
        hint=f"take its outputs anew: pcli env import {record.name} {again} --replace",
    )


def forget_imported(
    project: Project, record: EnvironmentRecord, name: str, on_event: OnEvent
) -> DeployResult:
    """Forget an imported environment (its state in AWS, then its spec file is removed by the
    caller); what runs for it is left as it is."""
    from protoncli.provision.store import delete_state

    description = f"environment {record.name}"
    delete_state(project.artifacts(record.region, record.account), name)
    source = imported_source(record)
    message = f"forgotten; it is managed elsewhere ({source}) and left as it is"
    on_event(DeployEvent("deleted", name, description, message=message))
    return DeployResult(name, description, FORGOTTEN, changed=True)
