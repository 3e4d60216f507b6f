"""Bringing a service's scaffolded code to the blueprint version its spec pins (or another).

The folder's `.pcli-scaffold.json` names the service and the version the code came from; the
service's spec gives the inputs and, by default, the version to go to. The merge itself is
`workspace.scaffold_upgrade`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli.errors import NotFoundError, UsageError
from protoncli.state.declared import read_service
from protoncli.workspace.scaffold_upgrade import (
    ConflictMode,
    ScaffoldUpgrade,
    find_scaffolds,
    upgrade_scaffold_files,
)

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle
    from protoncli.deploy.project import Project
    from protoncli.workspace.scaffold import ScaffoldRecord


def upgrade_code(
    project: Project,
    target: Path,
    *,
    version: str | None = None,
    conflicts: ConflictMode = ConflictMode.REFUSE,
    dry_run: bool = False,
    service: str | None = None,
) -> ScaffoldUpgrade:
    """Upgrade the code scaffolded in `target` to `version` of the service's blueprint (default:
    the version the service's spec pins now). An explicit version must be in the registry. The
    service is the one the folder's record names; given `service`, it must be that one."""
    from protoncli.workspace.scaffold import read_record

    record = read_record(target.expanduser())
    if service is not None and record.service != service:
        raise UsageError(
            f"{record.target}: holds the scaffold of the service '{record.service}', "
            f"not '{service}'"
        )
    from protoncli.workspace.ci_workflow import source_workflow

    spec = read_service(project, record.service)
    info, new = project.blueprint(spec.blueprint, version or spec.version, "service")
    placed = [(i.name, i.environment) for i in spec.spec.instances]
    return upgrade_scaffold_files(
        record,
        old=_recorded_bundle(project, record),
        new=new,
        instances={i.name: dict(i.inputs) for i in spec.spec.instances},
        blueprint=info.name,
        version=info.version,
        conflicts=conflicts,
        dry_run=dry_run,
        ci=lambda: source_workflow(project, record.service, placed),
    )


def upgrade_scaffold(
    project: Project,
    service: str,
    new_version: str,
    *,
    folders: Sequence[Path] | None = None,
    conflicts: ConflictMode = ConflictMode.REFUSE,
    dry_run: bool = False,
) -> tuple[ScaffoldUpgrade, ...]:
    """Upgrade every scaffold of `service` to `new_version`: for `pcli upgrade`, after it moved
    the service's spec to that version.

    `folders` defaults to the folders inside the workspace whose `.pcli-scaffold.json` names the
    service (`find_scaffolds`); code scaffolded outside the workspace must be given. Each folder
    is upgraded on its own: one result per folder, in order, and a folder whose upgrade a
    conflict refused (`outcome` is `refused`) has nothing written, whatever the others did.
    With `dry_run`, nothing is written anywhere. Raises `PcliError` as `upgrade_code` does.
    """
    chosen = find_scaffolds(project.workspace.root, service) if folders is None else folders
    return tuple(
        upgrade_code(
            project,
            folder,
            version=new_version,
            conflicts=conflicts,
            dry_run=dry_run,
            service=service,
        )
        for folder in chosen
    )


def _recorded_bundle(project: Project, record: ScaffoldRecord) -> Bundle | None:
    """The bundle the code was scaffolded from; None when the registry no longer has it."""
    try:
        info = project.registry.get(record.blueprint, record.version)
    except NotFoundError:
        return None
    return project.registry.load(info)
