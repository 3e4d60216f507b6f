"""History and rollback of environments and service instances, from their deployment records.

Which stacks: the item's identity gives the stack name (`Identity.stack_name`); the region is
the spec's (an environment's own, a service instance's environment's), or the one given, so
history also works for an item whose spec is gone.

Rollback redeploys a record's template with the record's tags through the normal engine (change
set, confirmation, progress), so it works when that blueprint version has left the registry:
the record carries the template. It then writes the record's spec back into the workspace, for
the user to review and commit:

- an environment: its whole spec file, as it was deployed;
- a service instance: only that instance's entry (its environment and inputs), since the file
  holds the other instances too; the header's `version` follows only when the instance is the
  service's only one (the whole service rolled back). With several instances the header keeps
  the version the others run, and a warning says the next `svc deploy` of the instance brings
  that version back. A missing service spec is written whole from the record.

The default target is the newest successful record older than the one the stack runs (the stack's
`pcli:deployment-id`) with different content; `--to` names a record by its deployment id or a
prefix of it. Pipelines and components are not rolled back (their history is listed).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.deploy.model import DeployEvent, DeployHooks, DeployResult, StackRequest
from protoncli.deploy.records import DeploymentRecord, History, HistoryTarget, recorded_deploy
from protoncli.errors import PcliError, UsageError
from protoncli.state.adopted import stack_of
from protoncli.state.identity import ENVIRONMENT, SERVICE_INSTANCE, Identity

if TYPE_CHECKING:
    from protoncli.deploy.project import Project


# ---------------------------------------------------------------------------------------------
# Which stacks


def environment_target(project: Project, name: str, region: str | None = None) -> HistoryTarget:
    """The environment's stack; its region from `region`, else its spec, else the workspace's."""
    from protoncli.state.declared import read_environment

    identity = Identity.of_environment(name)
    account = None
    if project.workspace.environment_spec(name).is_file():
        record = read_environment(project, name)
        region, account = region or record.region, record.account
    return HistoryTarget(
        identity,
        stack_of(project, identity),
        region or project.management_region(),
        account,
    )


def service_targets(
    project: Project, name: str, instance: str | None = None, region: str | None = None
) -> list[HistoryTarget]:
    """The stacks of a service's instances (one with `instance`) and, without it, its pipeline.

    An instance the spec no longer declares is found by name (its region: `region` or the
    workspace's)."""
    from protoncli.deploy.project import missing
    from protoncli.state.declared import read_service

    workspace = project.workspace
    declared: dict[str, str] = {}
    if workspace.service_spec(name).is_file():
        record = read_service(project, name)
        declared = {i.name: i.environment for i in record.spec.instances}
    elif instance is None:
        raise missing("service", name, workspace.services(), f"pcli svc create {name}")
    chosen = [instance] if instance is not None else list(declared)
    targets = [_instance_target(project, name, i, declared.get(i), region) for i in chosen]
    if instance is None:
        pipeline = Identity.of_pipeline(name)
        home = region or project.management_region()
        targets.append(HistoryTarget(pipeline, stack_of(project, pipeline), home))
    return targets


def _instance_target(
    project: Project, service: str, instance: str, environment: str | None, region: str | None
) -> HistoryTarget:
    from protoncli.state.declared import read_environment

    identity = Identity.of_instance(service, instance, environment)
    account = None
    if environment is not None and project.workspace.environment_spec(environment).is_file():
        record = read_environment(project, environment)
        region, account = region or record.region, record.account
    return HistoryTarget(
        identity,
        stack_of(project, identity),
        region or project.management_region(),
        account,
    )


def rollback_instance_target(
    project: Project, name: str, instance: str | None, region: str | None
) -> HistoryTarget:
    """The one service instance `svc rollback` works on: `instance`, or the only one."""
    targets = [
        t for t in service_targets(project, name, instance, region) if t.identity.kind != "pipeline"
    ]
    if len(targets) != 1:
        names = ", ".join(t.identity.instance or "" for t in targets) or "none"
        raise UsageError(
            f"service {name!r} has {len(targets)} instances: choose one to roll back",
            hint=f"give --instance INSTANCE (its instances: {names})",
        )
    return targets[0]


# ---------------------------------------------------------------------------------------------
# Which record


@dataclass(frozen=True)
class RollbackChoice:
    history: History
    record: DeploymentRecord  # the record to go back to
    warnings: tuple[str, ...] = ()


def choose_record(project: Project, history: History, to: str | None) -> RollbackChoice:
    """The record to roll back to: `to` (a deployment id or its prefix), else the newest
    successful one before the one the stack runs."""
    from protoncli.state.declared import version_info

    target = history.target
    what = f"{target.identity.description} (stack {target.stack_name} in {target.region})"
    if not history.records:
        raise PcliError(
            f"{what} has no deployment records",
            hint="records are written by every deployment pcli makes; deploy it first",
        )
    _refuse_provisioned(project, history.target, what)
    record = _named(history, to, what) if to else _previous(history, what)
    if record.secrets_masked:
        raise PcliError(
            f"deployment {record.short_id} of {what} cannot be rolled back to: its spec held "
            "plain values of secret inputs, which its record does not keep",
            hint="store those values in Secrets Manager (docs/reference/secrets.md), deploy, "
            "and roll back to that deployment later",
        )
    warnings: list[str] = []
    gone = record.blueprint and record.version
    if gone and version_info(project, record.blueprint or "", record.version or "") is None:
        warnings.append(
            f"blueprint {record.blueprint}@{record.version} is no longer in the registry: "
            f"rolling back to deployment {record.short_id} from the template its record keeps"
        )
    return RollbackChoice(history, record, tuple(warnings))


def _refuse_provisioned(project: Project, target: HistoryTarget, what: str) -> None:
    """A rollback redeploys a record's template: Terraform and CodeBuild items have none to
    redeploy (their record keeps the spec file they were deployed from)."""
    from protoncli.provision.store import state_of

    state = state_of(project, target.region, target.account, target.stack_name)
    if state is None:
        return
    raise UsageError(
        f"{what} is provisioned by {state.label}: pcli rolls back stacks only",
        hint="put back the spec file its record keeps (history --json shows it), or check it "
        "out from git, and deploy it",
    )


def _named(history: History, to: str, what: str) -> DeploymentRecord:
    ids = list(dict.fromkeys(record.deployment_id for record in history.records))
    found = [deployment for deployment in ids if deployment.startswith(to)]
    if len(found) != 1:
        known = ", ".join(deployment[:8] for deployment in ids)
        problem = "no deployment" if not found else "more than one deployment"
        raise UsageError(
            f"{problem} of {what} has an id starting with {to!r}",
            hint=f"known deployment ids (newest first): {known}",
        )
    chosen = [r for r in history.records if r.deployment_id == found[0]]
    successful = next((record for record in chosen if record.ok), None)
    if successful is None:
        raise PcliError(
            f"deployment {found[0][:8]} of {what} failed ({chosen[0].status}): there is "
            "nothing to roll back to there",
            hint="pick a successful deployment from the history",
        )
    return successful


def _previous(history: History, what: str) -> DeploymentRecord:
    current = history.current or history.records[0]
    index = history.records.index(current)
    for record in history.records[index + 1 :]:
        if record.ok and record.deployment_id != current.deployment_id:
            return record
    raise PcliError(
        f"{what} has no successful deployment before the one it runs "
        f"({current.short_id}) to roll back to",
        hint="its history lists every deployment: pcli env history / pcli svc history",
    )


# ---------------------------------------------------------------------------------------------
# Rolling back


@dataclass(frozen=True)
class RollbackOutcome:
    result: DeployResult
    record: DeploymentRecord
    spec_path: Path | None  # the spec file written back (None: nothing written)
    diff: str  # unified diff of the spec file, "" when unchanged


def roll_back(project: Project, choice: RollbackChoice, hooks: DeployHooks) -> RollbackOutcome:
    """Redeploy the chosen record (its template and tags), then write its spec back."""
    record = choice.record
    target = choice.history.target
    description = target.identity.description
    for warning in choice.warnings:
        hooks.on_event(DeployEvent("warning", target.stack_name, description, message=warning))
    request = StackRequest(
        target.stack_name,
        record.template,
        dict(record.tags),
        description,
        account=target.account,
    )
    result = recorded_deploy(
        project,
        target.region,
        request,
        hooks,
        spec_text=record.spec,
        overrides=record.overrides,  # its tags say the stack runs them: so does the new record
    )
    path, before, after, warnings = _restore_spec(project, record)
    for warning in warnings:
        hooks.on_event(DeployEvent("warning", target.stack_name, description, message=warning))
    diff = ""
    if path is not None and before != after:
        relative = _relative(project, path)
        diff = "".join(
            difflib.unified_diff(
                before.splitlines(keepends=True),
                after.splitlines(keepends=True),
                fromfile=f"a/{relative}",
                tofile=f"b/{relative}",
            )
        )
    return RollbackOutcome(result, record, path, diff)


def _relative(project: Project, path: Path) -> str:
    try:
        return path.relative_to(project.workspace.root).as_posix()
    except ValueError:
        return str(path)


def _restore_spec(
    project: Project, record: DeploymentRecord
) -> tuple[Path | None, str, str, list[str]]:
    """Write the record's spec back: (the file, its text before and after, warnings)."""
    from protoncli.locks import workspace_lock
    from protoncli.yamlio import atomic_write

    identity = record.identity
    if record.spec is None or identity.kind not in (ENVIRONMENT, SERVICE_INSTANCE):
        return None, "", "", []
    workspace = project.workspace
    if identity.kind == ENVIRONMENT:
        path = workspace.environment_spec(identity.environment or "")
    else:
        path = workspace.service_spec(identity.service or "")
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    warnings: list[str] = []
    if identity.kind == ENVIRONMENT or not path.is_file():
        with workspace_lock(workspace, f"rolling back {identity.description}"):
            atomic_write(path, record.spec)
    else:
        warnings = _restore_instance(path, record)
    return path, before, path.read_text(encoding="utf-8"), warnings


def _restore_instance(path: Path, record: DeploymentRecord) -> list[str]:
    """Put the record's entry of the instance into the service spec (and the version header
    when the instance is the service's only one)."""
    from protoncli.workspace.roundtrip import edit_yaml_text
    from protoncli.workspace.specfiles import find_instance, set_header, update_spec

    assert record.spec is not None  # noqa: S101 - checked by the caller
    name = record.identity.instance or ""
    kept: dict[str, Any] = {}
    edit_yaml_text(record.spec, lambda document: kept.update(entry=find_instance(document, name)))
    entry = kept.get("entry")
    if entry is None:
        return [f"the record's spec has no instance {name!r}: {path} was left as it is"]
    warnings: list[str] = []

    def changes(document: Any) -> None:
        entries = document.get("instances")
        if entries is None:
            document["instances"] = entries = []
        names = [e.get("name") if hasattr(e, "get") else None for e in entries]
        if name in names:
            entries[names.index(name)] = entry
        else:
            entries.append(entry)
        if record.version is None or document.get("version") == record.version:
            return
        if [e.get("name") for e in entries if hasattr(e, "get")] == [name]:
            set_header(document, "version", record.version)
        else:
            warnings.append(
                f"{path.name} pins version {document.get('version')} for all its instances; "
                f"instance {name} now runs {record.version}: its next deploy brings "
                f"{document.get('version')} back"
            )

    update_spec(path, changes)
    return warnings
