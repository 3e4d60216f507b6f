"""How `pcli svc upgrade-code` shows an upgrade of scaffolded code: a table of files and what
happens to each, a summary, and the conflicts; or one JSON document."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.cli import output
from protoncli.errors import PcliError, UsageError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.workspace.scaffold_upgrade import ScaffoldUpgrade


def upgrade_code_command(
    project: Project,
    folder: Path,
    *,
    version: str | None,
    conflicts: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    from protoncli.deploy.code_upgrade import upgrade_code
    from protoncli.workspace.scaffold_upgrade import ConflictMode, Outcome

    modes = [mode.value for mode in ConflictMode]
    if conflicts not in modes:
        raise UsageError(
            f"--conflicts {conflicts!r}: expected one of {', '.join(modes)}",
            hint="refuse writes nothing when a file conflicts; markers writes conflict markers",
        )
    result = upgrade_code(
        project, folder, version=version, conflicts=ConflictMode(conflicts), dry_run=dry_run
    )
    output.warn_all(result.warnings)
    if as_json:
        output.print_json(upgrade_document(result))
    elif result.files:
        rows = [(c.path, c.action, c.note) for c in result.files]
        output.table(["FILE", "ACTION", "NOTE"], rows)
    moving = f"{result.target} from {result.blueprint}@{result.from_version} to {result.to_version}"
    if result.outcome is Outcome.REFUSED:
        raise _refusal(result)
    if result.outcome is Outcome.DRY_RUN:
        output.note(f"Dry run: upgrading {moving} would give {result.summary()}.")
        if result.conflicts and result.conflict_mode is ConflictMode.REFUSE:
            count = len(result.conflicts)
            output.note(
                f"{count} file(s) conflict: without --conflicts markers, nothing is written."
            )
        return
    output.note(f"Upgraded {moving}: {result.summary()}.")
    if result.conflicts:
        output.warn(
            f"{len(result.conflicts)} file(s) conflict: "
            + ", ".join(c.path for c in result.conflicts)
            + "; resolve the <<<<<<< markers (or compare with your last commit), then commit"
        )


def _refusal(result: ScaffoldUpgrade) -> PcliError:
    return PcliError(
        f"{result.target}: {len(result.conflicts)} file(s) conflict with the changes of "
        f"{result.blueprint}@{result.to_version}; nothing was written",
        details=[f"{c.path}: {c.note}" for c in result.conflicts],
        hint=(
            "change those files by hand and run the command again, or write the conflicts into "
            "them with --conflicts markers (commit your work first)"
        ),
    )


def upgrade_document(result: ScaffoldUpgrade) -> dict[str, Any]:
    """The --json document (docs/reference/schemas/svc-upgrade-code.schema.json)."""
    from protoncli.workspace.scaffold_upgrade import Action

    return {
        "folder": str(result.target),
        "service": result.service,
        "blueprint": result.blueprint,
        "from_version": result.from_version,
        "to_version": result.to_version,
        "outcome": str(result.outcome),
        "conflicts": str(result.conflict_mode),
        "files": [
            {"path": c.path, "action": str(c.action), "note": c.note, "markers": c.markers}
            for c in result.files
        ],
        "counts": {str(action): len(result.paths(action)) for action in Action},
        "warnings": list(result.warnings),
    }
