"""The composition root of deploy work: a workspace, a registry and AWS clients per region.

Commands build one `Project` and pass it to the operations; tests build it against moto.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from protoncli.aws.target import AwsTarget
from protoncli.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from protoncli.aws.cloudformation import CloudFormationGateway
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.model import Bundle
    from protoncli.blueprints.registry import Registry, VersionInfo
    from protoncli.deploy.engine import Deployer
    from protoncli.workspace.model import Workspace


@dataclass(frozen=True)
class AwsSettings:
    """How to reach AWS: region override, profile, and an endpoint (the sandbox) if any."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass
class Project:
    workspace: Workspace
    registry: Registry
    sessions: SessionFactory
    settings: AwsSettings = field(default_factory=AwsSettings)
    concurrency: int = 4
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def region_for(self, spec_region: str | None) -> str:
        return self.settings.region or spec_region or self.workspace.region

    def target(self, region: str) -> AwsTarget:
        return AwsTarget(
            region=region, profile=self.settings.profile, endpoint_url=self.settings.endpoint_url
        )

    def cloudformation(self, region: str) -> CloudFormationGateway:
        from protoncli.aws.cloudformation import CloudFormationGateway

        with self._lock:
            return CloudFormationGateway(
                self.sessions.client("cloudformation", self.target(region))
            )

    def account_id(self, region: str) -> str:
        with self._lock:
            return self.sessions.account_id(self.target(region))

    def deployer(self, region: str, **options: Any) -> Deployer:
        from protoncli.aws.s3 import ArtifactStore
        from protoncli.deploy.engine import Deployer

        target = self.target(region)
        with self._lock:
            s3 = self.sessions.client("s3", target)
        account = self.account_id(region)
        artifacts = ArtifactStore(s3, account_id=account, region=region)
        return Deployer(self.cloudformation(region), artifacts, **options)

    def blueprint(self, name: str, version: str, kind: str) -> tuple[VersionInfo, Bundle]:
        """The registered version a spec pins, checked to be of the expected kind."""
        info = self.registry.get(name, version)
        if str(info.kind) != kind:
            raise UsageError(
                f"blueprint {name}@{version} is a {info.kind} blueprint, not a {kind} blueprint",
                hint=f"list {kind} blueprints with: pcli blueprint list",
            )
        return info, self.registry.load(info)


def require_spec_header(path_label: str, header: dict[str, Any] | Any) -> tuple[str, str]:
    """The `blueprint` and `version` a workspace spec pins; both must be there."""
    blueprint = header.get("blueprint") if header else None
    version = header.get("version") if header else None
    if not blueprint or not version:
        raise UsageError(
            f"{path_label}: the spec does not pin a blueprint and version",
            hint='add `blueprint: NAME` and `version: "MAJOR.MINOR"` at the top of the file',
        )
    return str(blueprint), str(version)


def missing(kind: str, name: str, known: list[str], create: str) -> NotFoundError:
    listing = ", ".join(known) if known else "none yet"
    return NotFoundError(
        f"no {kind} named {name!r} in this workspace (known: {listing})",
        hint=f"create it: {create}",
    )
