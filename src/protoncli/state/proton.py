"""The stacks AWS Proton created, found by the tags Proton put on them: what each one is.

Proton named its CloudFormation stacks `AWSProton-...` and tagged each with the ARNs of what it
provisioned: `aws:proton:environment`, `aws:proton:service`, `aws:proton:service-instance`,
`aws:proton:component`, and the template it rendered, `aws:proton:template`. One paginated
DescribeStacks per region (and account) reads them all, as the state model reads pcli's own.

Decisions:
- A stack is Proton's when it carries one of the item tags (environment, service,
  service-instance, component). What it is comes from the most specific one: a component tag
  makes a component, a service-instance tag an instance (its environment from the environment
  tag), a service tag alone the service's pipeline, an environment tag alone an environment.
- A tag's value is an ARN (`arn:aws:proton:REGION:ACCOUNT:environment/dev`); the name is its
  last part. A plain name is taken as it is.
- The blueprint is the template's name in `aws:proton:template`
  (`...:environment-template/vpc-env` -> `vpc-env`); a version suffix (`vpc-env:1.0`), when
  there is one, is the version.
- A stack named `AWSProton-...` that carries pcli's tags and no longer Proton's was adopted
  (CloudFormation may drop `aws:` tags on an update): it is listed as adopted, by its pcli tags.
- `AWSProton-CodeBuild-...` stacks hold the CodeBuild project of Proton's CodeBuild
  provisioning, not an item: they are not listed. Stacks with neither Proton's tags nor an
  `AWSProton-` name (other tools' stacks, pcli's own) are never listed nor touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protoncli.state.deployed import is_running
from protoncli.state.identity import (
    COMPONENT,
    ENVIRONMENT,
    PIPELINE,
    SERVICE_INSTANCE,
    Identity,
    workspace_of,
)

if TYPE_CHECKING:
    from protoncli.deploy.model import StackInfo
    from protoncli.deploy.project import Project

STACK_PREFIX = "AWSProton-"
CODEBUILD_PREFIX = "AWSProton-CodeBuild-"
ENVIRONMENT_TAG = "aws:proton:environment"
SERVICE_TAG = "aws:proton:service"
INSTANCE_TAG = "aws:proton:service-instance"
COMPONENT_TAG = "aws:proton:component"
TEMPLATE_TAG = "aws:proton:template"
ITEM_TAGS = (ENVIRONMENT_TAG, SERVICE_TAG, INSTANCE_TAG, COMPONENT_TAG)
# The template kinds of `aws:proton:template` ARNs, by the kind of item they render.
TEMPLATE_KINDS = {"environment-template": "environment", "service-template": "service"}

Place = tuple[str, str | None]  # (region, account name of pcli.yaml; None: the caller's own)


@dataclass(frozen=True)
class ProtonStack:
    """One stack Proton created, and what it is in pcli's words."""

    region: str
    account: str | None
    stack: StackInfo
    identity: Identity
    blueprint: str | None  # from aws:proton:template; None: no template (components)
    template_kind: str | None  # environment | service (the ARN's kind), None when unknown
    version: str | None  # from the template ARN's version suffix, rarely there

    @property
    def name(self) -> str:
        return self.stack.name

    @property
    def adopted_by(self) -> str | None:
        """The pcli workspace whose tags the stack carries (it was adopted), else None."""
        return workspace_of(self.stack.tags)


@dataclass(frozen=True)
class ProtonStacks:
    stacks: tuple[ProtonStack, ...]
    calls: Mapping[str, int]  # place in words -> calls made to read its stacks


def find_proton_stacks(project: Project, places: Iterable[Place]) -> ProtonStacks:
    """Proton's stacks in each place (one bulk read each, side by side), in region order."""
    chosen = sorted(set(places), key=lambda place: (place[1] or "", place[0]))
    if not chosen:
        return ProtonStacks((), {})

    def read(place: Place) -> tuple[str, list[ProtonStack], int]:
        region, account = place
        reading, calls = _stacks_in(project, region, account)
        found = [
            proton
            for info in reading
            if (proton := proton_stack(region, account, info)) is not None
        ]
        return place_words(region, account), found, calls

    stacks: list[ProtonStack] = []
    calls: dict[str, int] = {}
    with ThreadPoolExecutor(
        max_workers=min(8, len(chosen)), thread_name_prefix="pcli-read"
    ) as pool:
        for name, found, pages in pool.map(read, chosen):
            stacks += found
            calls[name] = pages
    stacks.sort(key=lambda s: (s.identity.kind != ENVIRONMENT, s.identity.name, s.region))
    return ProtonStacks(tuple(stacks), calls)


def _stacks_in(project: Project, region: str, account: str | None) -> tuple[list[StackInfo], int]:
    if account is None:
        reading, calls = project.stacks_in(region)
    else:
        reading, calls = project.stacks_in(region, account)
    return list(reading.stacks), calls


def place_words(region: str, account: str | None) -> str:
    return region if account is None else f"{account}/{region}"


def proton_stack(region: str, account: str | None, info: StackInfo) -> ProtonStack | None:
    """What the stack is, when Proton created it (see the module's decisions); else None."""
    if not is_running(info.status) or info.name.startswith(CODEBUILD_PREFIX):
        return None
    tags = info.tags
    identity = proton_identity(tags)
    if identity is None and info.name.startswith(STACK_PREFIX):
        identity = Identity.from_tags(tags)  # adopted: Proton's tags may be gone
    if identity is None:
        return None
    kind, blueprint, version = template_of(tags.get(TEMPLATE_TAG))
    if blueprint is None and tags.get("pcli:blueprint"):
        blueprint = tags["pcli:blueprint"]
    return ProtonStack(region, account, info, identity, blueprint, kind, version)


def proton_identity(tags: Mapping[str, str]) -> Identity | None:
    """The item Proton's tags name (see the module's decisions); None without them."""
    environment = name_in(tags.get(ENVIRONMENT_TAG))
    service = name_in(tags.get(SERVICE_TAG))
    instance_arn = tags.get(INSTANCE_TAG)
    component = name_in(tags.get(COMPONENT_TAG))
    instance_service, instance = _instance_names(instance_arn)
    service = service or instance_service
    if component:
        return Identity.of_component(
            component, service=service, instance=instance, environment=environment
        )
    if instance and service:
        return Identity.of_instance(service, instance, environment)
    if service:
        return Identity.of_pipeline(service)
    if environment:
        return Identity.of_environment(environment)
    return None


ARN_FIELDS = 6  # arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
INSTANCE_PATH = ("service", "SERVICE", "service-instance", "INSTANCE")


def arn_resource(value: str) -> str:
    """The resource part of an ARN (`environment/dev`); anything else as it is."""
    fields = value.split(":", ARN_FIELDS - 1)
    return fields[-1] if value.startswith("arn:") and len(fields) == ARN_FIELDS else value


def name_in(value: str | None) -> str | None:
    """The name an ARN (or a plain name) gives: the last part of its resource."""
    if not value:
        return None
    resource = arn_resource(value)
    return resource.rsplit("/", 1)[-1] or None


def _instance_names(value: str | None) -> tuple[str | None, str | None]:
    """(service, instance) of `...:service/<svc>/service-instance/<inst>` (or a plain name)."""
    if not value:
        return None, None
    resource = arn_resource(value)
    parts = resource.split("/")
    if len(parts) == len(INSTANCE_PATH) and (parts[0], parts[2]) == INSTANCE_PATH[::2]:
        return parts[1] or None, parts[3] or None
    return None, parts[-1] or None


def template_of(value: str | None) -> tuple[str | None, str | None, str | None]:
    """(template kind, blueprint name, version) of an `aws:proton:template` value:
    `arn:aws:proton:us-east-1:123456789012:environment-template/vpc-env` gives
    ("environment", "vpc-env", None); a `:1.0` suffix gives the version."""
    if not value:
        return None, None, None
    kind = None
    resource = arn_resource(value)
    if "/" in resource:
        prefix, resource = resource.split("/", 1)
        kind = TEMPLATE_KINDS.get(prefix)
    name, _, version = resource.partition(":")
    return kind, name or None, version or None


def expected_template_kind(identity: Identity) -> str | None:
    """The template kind an item is rendered from (None: components have no template)."""
    if identity.kind == ENVIRONMENT:
        return "environment"
    if identity.kind in (SERVICE_INSTANCE, PIPELINE):
        return "service"
    assert identity.kind == COMPONENT  # noqa: S101 - the four kinds
    return None
