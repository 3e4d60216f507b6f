"""Whether a create can use a blueprint version: what its questions offer, and refuse at once.

pcli deploys CloudFormation, runs Terraform and a CodeBuild bundle's commands. When a deploy
follows the spec file, a version with no infrastructure of its own (an environment provisioned
elsewhere, Proton's customer-managed ones) cannot be used: there is nothing to deploy (with
--no-deploy it can: the spec file is written). A service version
can only be used when an environment it runs on exists: one of those its instances are placed
in (--instance, --spec), else any of the workspace's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protoncli.blueprints.model import Kind, Provisioning
from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle, CompatibleEnvironment
    from protoncli.blueprints.registry import VersionInfo
    from protoncli.state.declared import EnvironmentRecord

PROVISIONING_HINT = (
    "choose a blueprint with infrastructure (CloudFormation, Terraform or CodeBuild), or give "
    "--no-deploy to write the spec file only"
)
PLACEMENT_HINT = (
    "create an environment it runs on first: pcli env create NAME --blueprint BLUEPRINT"
)


def provisioning_problem(provisioning: Provisioning, *, what: str = "") -> str | None:
    """Why pcli does not deploy what `provisioning` provisions (None: it does)."""
    if provisioning is not Provisioning.CUSTOMER_MANAGED:
        return None  # CloudFormation deploys; Terraform and CodeBuild commands run
    return f"{what}no infrastructure (provisioned elsewhere): nothing for pcli to deploy"


def _runs_on(compatible: Sequence[CompatibleEnvironment], record: EnvironmentRecord) -> bool:
    from protoncli.deploy.imported import IMPORTED_BLUEPRINT

    if record.blueprint == IMPORTED_BLUEPRINT:
        return True  # imported with no blueprint of its own: its outputs are checked on render
    major = int(record.version.split(".")[0])
    return (record.blueprint, major) in {(c.name, c.major) for c in compatible}


@dataclass(frozen=True)
class Usability:
    """What decides whether a blueprint version can be used by this create."""

    kind: str
    deploying: bool  # a deploy follows the spec file
    environments: tuple[EnvironmentRecord, ...] = ()  # where a service's instances may go
    placed: bool = False  # `environments` were given (--instance, --spec): each must fit

    def problem(self, info: VersionInfo) -> str | None:
        """Why `info` cannot be used here (None: it can)."""
        return self.provisioning(info) or self.placement(info)

    def provisioning(self, info: VersionInfo) -> str | None:
        """Why pcli cannot deploy `info`, when a deploy follows."""
        return provisioning_problem(info.provisioning) if self.deploying else None

    def placement(self, info: VersionInfo) -> str | None:
        """Why a service of `info` has nowhere to run (None: it has, or it is no service)."""
        if self.kind != Kind.SERVICE:
            return None
        compatible = info.compatible_environments
        if self.placed:
            wrong = [r for r in self.environments if not _runs_on(compatible, r)]
            if not wrong:
                return None
            named = ", ".join(f"{r.name} ({r.blueprint}:{r.version.split('.')[0]})" for r in wrong)
            return f"does not run in environment {named}"
        if any(_runs_on(compatible, r) for r in self.environments):
            return None
        runs = " or ".join(str(c) for c in compatible) or "no environment blueprint"
        return f"runs on {runs}: no environment here does"

    def bundle_problem(self, bundle: Bundle) -> str | None:
        """Why pcli cannot deploy a loaded version, its pipeline included (a deploy follows)."""
        if not self.deploying:
            return None
        problem = provisioning_problem(bundle.provisioning)
        if problem is None and bundle.pipeline is not None:
            problem = provisioning_problem(bundle.pipeline.provisioning, what="its pipeline uses ")
        return problem

    def hint(self, refused: Sequence[VersionInfo]) -> str:
        """What to do about versions refused: deploy them elsewhere, or make room for them."""
        hints = []
        if any(self.provisioning(info) for info in refused):
            hints.append(PROVISIONING_HINT)
        if any(self.placement(info) for info in refused):
            hints.append(PLACEMENT_HINT)
        return "; or ".join(hints) or PROVISIONING_HINT


def require_usable(usability: Usability, info: VersionInfo, bundle: Bundle) -> None:
    """Refuse, at once, a version a deploy follows that pcli does not deploy. (Where a
    service's instances go is checked as they are placed, before any input is asked too.)"""
    problem = usability.bundle_problem(bundle)
    if problem is not None:
        raise UsageError(
            f"blueprint {info.ref} cannot be used here: {problem}", hint=PROVISIONING_HINT
        )
