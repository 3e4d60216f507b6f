"""What one deployable item is: its kind and names, its stack name, and its `pcli:*` tags.

An item is an environment, a service instance, a pipeline or a component. Its identity is what
its stack's tags say; the stack name is derived from it (`naming.stack_name`) but a stack is
matched by its tags, never by its name. The environment of a service instance, pipeline-free
service or component is an attribute, not part of the key: the same instance moved to another
environment is the same item (and the same stack name).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from protoncli.state.naming import stack_name

ENVIRONMENT = "environment"
SERVICE_INSTANCE = "service-instance"
PIPELINE = "pipeline"
COMPONENT = "component"
# The order apply deploys kinds in: what a kind renders with is deployed before it.
KIND_ORDER = (ENVIRONMENT, COMPONENT, SERVICE_INSTANCE, PIPELINE)

TAG_PREFIX = "pcli:"
WORKSPACE_TAG = "pcli:workspace"
KIND_TAG = "pcli:kind"
BLUEPRINT_TAG = "pcli:blueprint"
VERSION_TAG = "pcli:version"
SPEC_DIGEST_TAG = "pcli:spec-digest"
INPUTS_DIGEST_TAG = "pcli:inputs-digest"
BUNDLE_DIGEST_TAG = "pcli:bundle-digest"
CONTEXT_DIGEST_TAG = "pcli:context-digest"
DEPLOYMENT_TAG = "pcli:deployment-id"
OVERRIDES_TAG = "pcli:overrides"  # `svc deploy --param` values (see state/overrides.py)
OVERRIDES_DIGEST_TAG = "pcli:overrides-digest"
_NAME_TAGS = {
    "environment": "pcli:environment",
    "service": "pcli:service",
    "instance": "pcli:instance",
    "component": "pcli:component",
}
_SHORT_KIND = {ENVIRONMENT: "env", SERVICE_INSTANCE: "svc", PIPELINE: "pipeline", COMPONENT: "comp"}


@dataclass(frozen=True)
class Identity:
    """One item of a workspace. Use the constructors below; they fill the right names."""

    kind: str  # environment | service-instance | pipeline | component
    environment: str | None = None
    service: str | None = None
    instance: str | None = None
    component: str | None = None

    @classmethod
    def of_environment(cls, name: str) -> Identity:
        return cls(ENVIRONMENT, environment=name)

    @classmethod
    def of_instance(cls, service: str, instance: str, environment: str | None) -> Identity:
        return cls(SERVICE_INSTANCE, environment=environment, service=service, instance=instance)

    @classmethod
    def of_pipeline(cls, service: str) -> Identity:
        return cls(PIPELINE, service=service)

    @classmethod
    def of_component(
        cls, name: str, *, service: str | None, instance: str | None, environment: str | None
    ) -> Identity:
        return cls(
            COMPONENT, environment=environment, service=service, instance=instance, component=name
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The names that make the item unique within its kind (and its stack name)."""
        if self.kind == ENVIRONMENT:
            return (self.environment or "",)
        if self.kind == SERVICE_INSTANCE:
            return (self.service or "", self.instance or "")
        if self.kind == PIPELINE:
            return (self.service or "",)
        return (self.component or "",)

    @property
    def key(self) -> tuple[str, ...]:
        """What declared and deployed items are joined on: the kind and its names."""
        return (self.kind, *self.names)

    @property
    def name(self) -> str:
        """The item's name as commands show it: `dev`, `web/web-dev`, `web`, `queue`."""
        return "/".join(self.names)

    @property
    def description(self) -> str:
        """The item in words, as deploy events and messages say it."""
        if self.kind == SERVICE_INSTANCE:
            return f"service instance {self.name}"
        if self.kind == PIPELINE:
            return f"pipeline of {self.service}"
        return f"{self.kind} {self.name}"

    def stack_name(self, workspace: str) -> str:
        return stack_name(workspace, _SHORT_KIND[self.kind], *self.names)

    def tags(self, workspace: str, **values: str | None) -> dict[str, str]:
        """The stack's `pcli:*` tags: the identity, then `values` (blueprint, version, digests,
        deployment_id) under their tag names; empty values are left out."""
        tags: dict[str, str | None] = {WORKSPACE_TAG: workspace, KIND_TAG: self.kind}
        for field_name, tag in _NAME_TAGS.items():
            tags[tag] = getattr(self, field_name)
        for key, value in values.items():
            tags[TAG_PREFIX + key.replace("_", "-")] = value
        return {key: value for key, value in tags.items() if value}

    @classmethod
    def from_tags(cls, tags: Mapping[str, str]) -> Identity | None:
        """The identity a stack's tags give; None for a stack pcli did not tag completely."""
        kind = tags.get(KIND_TAG)
        if kind not in KIND_ORDER:
            return None
        found = cls(kind, **{name: tags.get(tag) for name, tag in _NAME_TAGS.items()})
        if not all(found.names):
            return None
        return found


def workspace_of(tags: Mapping[str, str]) -> str | None:
    """The workspace a stack's tags name, if any."""
    return tags.get(WORKSPACE_TAG)
