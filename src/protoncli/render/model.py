"""What rendering takes besides a bundle and a spec, and what it produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class EnvironmentFacts:
    account_id: str = DEFAULT_ACCOUNT_ID
    outputs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class InstanceFacts:
    outputs: Mapping[str, str] = field(default_factory=dict)
    component_outputs: Mapping[str, str] | None = None  # None: no component attached
    component_name: str = "default"


@dataclass(frozen=True)
class ComponentTarget:
    """Where a component bundle attaches: its environment and, if attached, service and instance."""

    environment: str
    service: str | None = None
    instance: str | None = None


@dataclass(frozen=True)
class RenderContext:
    """Facts a spec alone does not give: account ids, outputs of deployed stacks, repository.

    Read from `--context FILE` (see docs/reference/render-context.md) or built by the deploy
    engine from live stacks.
    """

    environments: Mapping[str, EnvironmentFacts] = field(default_factory=dict)
    service: Mapping[str, str] = field(default_factory=dict)  # branch_name, repository_id, ...
    instances: Mapping[str, InstanceFacts] = field(default_factory=dict)
    component: ComponentTarget | None = None
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID  # management account, used in identifiers
    deployment_id: str | None = None  # fixed id for reproducible output; random when None
    warnings: tuple[str, ...] = ()  # problems found while reading the context file
    # Lint renders without deployed resources: every output (and a component's instance inputs)
    # then reads as "placeholder-<key>" instead of failing as undefined.
    placeholder_outputs: bool = False

    def environment(self, name: str) -> EnvironmentFacts:
        return self.environments.get(name, EnvironmentFacts(account_id=self.account_id))

    def instance(self, name: str) -> InstanceFacts:
        return self.instances.get(name, InstanceFacts())


@dataclass(frozen=True)
class RenderedResource:
    """One deployable unit: an environment, a service instance, a pipeline or a component."""

    kind: str  # "environment" | "service-instance" | "pipeline" | "component"
    name: str  # environment, instance, service or component name
    folder: str  # output folder relative to the output directory, POSIX, no trailing slash
    provisioning: str  # Provisioning value
    identifier: str  # pcli's ARN-shaped identifier of the resource
    files: Mapping[str, str]  # file name relative to `folder` -> text
    inputs: Mapping[str, Any] = field(default_factory=dict)  # resolved inputs used
    environment: str | None = None
    binary_files: Mapping[str, bytes] = field(default_factory=dict)  # copied as they are


@dataclass(frozen=True)
class RenderResult:
    resources: tuple[RenderedResource, ...]
    warnings: tuple[str, ...] = ()

    def files(self) -> dict[str, str]:
        """Every output file, keyed by its path relative to the output directory."""
        out: dict[str, str] = {}
        for resource in self.resources:
            for name, text in resource.files.items():
                path = f"{resource.folder}/{name}" if resource.folder else name
                out[path] = text
        return out
