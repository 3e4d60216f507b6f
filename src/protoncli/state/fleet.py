"""The one join of desired and deployed state, per item of the workspace.

Desired: the spec files, the versions they pin, the registry's recommended versions. Deployed:
every stack tagged with the workspace's name in each region the workspace uses (pcli.yaml's,
every spec's, and pcli.yaml's optional `regions:` list). Joined by identity (kind and names),
never by stack name. `status`, the lists, delete protection, `plan`, `apply` and `upgrade` read
this model and derive no state on their own.

Decisions:
- Version status compares the version a stack runs (the pinned one while nothing is deployed)
  with the registry: `behind-major` when a newer major has a published version, else
  `behind-minor` when the same major has a newer published minor, else `up-to-date`. `None`
  for components (no blueprint) and for blueprints the registry does not have.
- A declared item is pending when it is not deployed, or its stack's tags say it was deployed
  from another version, spec, version content or outputs of the stacks it renders with, or its
  last deployment failed. Each reason is kept, in words, for `plan`.
- A service instance deployed with `svc deploy --param` values its spec does not hold is not
  pending for them: its `overrides` say what it runs, and `overrides_held` that `plan` holds it
  back (`state.overrides`). Once the spec holds those values it is simply up to date.
- A stack of the workspace that no spec declares is an orphan: listed, counted, deletable (with
  `apply --prune`), whatever its tags say about blueprints the registry no longer has.
- A stack that could not be read (`deployed.StackProblem`) is a problem of the fleet. A declared
  item whose stack it is (by name, in its region) is left out: neither deployed as the stack was
  read nor undeployed, so nothing plans or renders from a guess. Items that render with its
  outputs are not called pending for them (they are unknown).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from protoncli.blueprints.limits import parse_version
from protoncli.deploy.model import TERMINAL_FAILED, StackInfo, is_in_progress
from protoncli.deploy.project import NOT_DEPLOYED, Project
from protoncli.errors import PcliError
from protoncli.state.declared import Declared, DeclaredItem, read_declared
from protoncli.state.deployed import (
    Deployed,
    DeployedItem,
    Place,
    StackProblem,
    read_deployed,
    usable_outputs,
)
from protoncli.state.digests import bundle_digest, changed_context, context_digest
from protoncli.state.identity import (
    BLUEPRINT_TAG,
    BUNDLE_DIGEST_TAG,
    COMPONENT,
    CONTEXT_DIGEST_TAG,
    ENVIRONMENT,
    INPUTS_DIGEST_TAG,
    PIPELINE,
    SERVICE_INSTANCE,
    VERSION_TAG,
    Identity,
)
from protoncli.state.overrides import (
    COMMITTED,
    HELD,
    NONE,
    Override,
    overrides_of,
    reverted_reason,
)
from protoncli.state.overrides import standing as override_standing

if TYPE_CHECKING:
    from protoncli.blueprints.versions import VersionInfo

UP_TO_DATE = "up-to-date"
BEHIND_MINOR = "behind-minor"
BEHIND_MAJOR = "behind-major"
DISPLAY_ORDER = (ENVIRONMENT, SERVICE_INSTANCE, PIPELINE, COMPONENT)


@dataclass(frozen=True)
class Versions:
    """What the registry says about the version an item runs."""

    recommended: str | None = None  # the blueprint's recommended version (newest major)
    recommended_minor: str | None = None  # the recommended version of the item's major
    status: str | None = None  # up-to-date | behind-minor | behind-major


@dataclass(frozen=True)
class FleetItem:
    identity: Identity
    declared: DeclaredItem | None
    deployed: DeployedItem | None
    versions: Versions = field(default_factory=Versions)
    reasons: tuple[str, ...] = ()  # why it is pending, in words
    unreadable: bool = False  # deployed; the file that would declare it could not be read
    # --param values of `svc deploy` the stack runs and the spec does not hold
    overrides: tuple[Override, ...] = ()
    overrides_held: bool = False  # only those differ from the spec: apply leaves it alone

    @property
    def kind(self) -> str:
        return self.identity.kind

    @property
    def name(self) -> str:
        return self.identity.name

    @property
    def environment(self) -> str | None:
        source = self.declared.identity if self.declared else self.identity
        if self.kind == PIPELINE:
            return None
        return source.environment

    @property
    def blueprint(self) -> str | None:
        if self.declared is not None:
            return self.declared.blueprint
        return None if self.kind == COMPONENT else self._tag(BLUEPRINT_TAG)

    @property
    def version(self) -> str | None:
        """The version the spec pins (the deployed one for an orphan)."""
        if self.declared is not None:
            return self.declared.version
        return self.deployed_version

    @property
    def deployed_version(self) -> str | None:
        return None if self.kind == COMPONENT else self._tag(VERSION_TAG)

    @property
    def stack_name(self) -> str:
        if self.deployed is not None:
            return self.deployed.stack.name
        assert self.declared is not None  # noqa: S101 - an item is declared, deployed or both
        return self.declared.stack_name

    @property
    def region(self) -> str:
        if self.declared is not None:
            return self.declared.region
        assert self.deployed is not None  # noqa: S101 - same
        return self.deployed.region

    @property
    def account(self) -> str | None:
        """The pcli.yaml account its stack lives in (None: the caller's own account)."""
        if self.declared is not None:
            return self.declared.account
        assert self.deployed is not None  # noqa: S101 - same
        return self.deployed.account

    @property
    def stack(self) -> StackInfo | None:
        return self.deployed.stack if self.deployed is not None else None

    @property
    def stack_status(self) -> str:
        return self.deployed.stack.status if self.deployed is not None else NOT_DEPLOYED

    @property
    def last_deployed(self) -> datetime | None:
        stack = self.stack
        return (stack.last_updated or stack.created) if stack is not None else None

    @property
    def is_declared(self) -> bool:
        return self.declared is not None

    @property
    def is_deployed(self) -> bool:
        return self.deployed is not None

    @property
    def orphaned(self) -> bool:
        return self.declared is None and not self.unreadable

    @property
    def pending(self) -> bool:
        return bool(self.reasons)

    @property
    def failed(self) -> bool:
        return self.stack_status in TERMINAL_FAILED

    @property
    def in_progress(self) -> bool:
        return is_in_progress(self.stack_status)

    @property
    def behind(self) -> bool:
        return self.versions.status in (BEHIND_MINOR, BEHIND_MAJOR)

    @property
    def outputs(self) -> dict[str, str] | None:
        return usable_outputs(self.stack)

    @property
    def drift(self) -> str | None:
        """The last drift detection's verdict, when one ran (`pcli drift` runs one)."""
        return self.stack.drift_status if self.stack is not None else None

    def _tag(self, key: str) -> str | None:
        return self.deployed.tags.get(key) if self.deployed is not None else None


@dataclass(frozen=True)
class Summary:
    total: int
    up_to_date: int
    behind_minor: int
    behind_major: int
    failed: int
    pending: int
    orphaned: int


@dataclass(frozen=True)
class Fleet:
    workspace: str
    items: tuple[FleetItem, ...]
    declared: Declared
    calls: Mapping[str, int]  # place (`deployed.place_name`) -> calls made to read its stacks
    stack_problems: tuple[StackProblem, ...] = ()  # running stacks that could not be read
    # place -> why its bulk read failed, for the places whose stacks were read one by one
    bulk_failures: Mapping[str, str] = field(default_factory=dict)

    @property
    def aws_calls(self) -> int:
        return sum(self.calls.values())

    def summary(self, items: Iterable[FleetItem] | None = None) -> Summary:
        chosen = list(self.items if items is None else items)

        def count(status: str) -> int:
            return sum(1 for item in chosen if item.versions.status == status)

        return Summary(
            total=len(chosen),
            up_to_date=count(UP_TO_DATE),
            behind_minor=count(BEHIND_MINOR),
            behind_major=count(BEHIND_MAJOR),
            failed=sum(1 for item in chosen if item.failed),
            pending=sum(1 for item in chosen if item.pending),
            orphaned=sum(1 for item in chosen if item.orphaned),
        )

    def find(self, identity: Identity) -> FleetItem | None:
        return next((item for item in self.items if item.identity.key == identity.key), None)

    def of_kind(self, kind: str) -> list[FleetItem]:
        return [item for item in self.items if item.kind == kind]

    def living_in(self, environment: str) -> list[FleetItem]:
        """Deployed items other than the environment itself whose environment is `environment`
        (declared or orphaned; by the stack's tags too, in case the spec moved it)."""
        return [
            item
            for item in self.items
            if item.deployed is not None
            and item.kind != ENVIRONMENT
            and environment in (item.environment, item.deployed.identity.environment)
        ]

    def of_service(self, service: str) -> list[FleetItem]:
        return [
            item
            for item in self.items
            if item.identity.service == service and item.kind in (SERVICE_INSTANCE, PIPELINE)
        ]


def read_fleet(project: Project, places: Iterable[str | Place] | None = None) -> Fleet:
    """Read the workspace and, in bulk, its stacks; join them. With `places` (regions, or
    (region, account) pairs), only those places' stacks are read (for a report on items that
    live there: their items elsewhere would show as not deployed)."""
    declared = read_declared(project)
    chosen = fleet_places(project, declared) if places is None else places
    deployed = read_deployed(project, chosen)
    return join(project, declared, deployed)


def fleet_places(project: Project, declared: Declared) -> set[Place]:
    """Every region of every account the workspace uses: where each spec's items live, and the
    workspace's own regions (pcli.yaml's `region` and `regions:`) in its own account and in
    each account pcli.yaml names, so a stack left in one of them is found as an orphan."""
    accounts: list[str | None] = [None, *sorted(project.accounts())]
    own = {(region, account) for region in project.own_regions() for account in accounts}
    return declared.places() | own


def join(project: Project, declared: Declared, deployed: Deployed) -> Fleet:
    by_key: dict[tuple[str, ...], list[DeployedItem]] = {}
    for found in deployed.items:
        by_key.setdefault(found.identity.key, []).append(found)
    unread = {(problem.region, problem.stack_name) for problem in deployed.problems}
    unknown: set[tuple[str, ...]] = set()
    pairs: list[tuple[DeclaredItem | None, DeployedItem | None, Identity]] = []
    for item in declared.items:
        candidates = by_key.get(item.identity.key, [])
        match = next(
            (c for c in candidates if (c.region, c.account) == (item.region, item.account)),
            None,
        )
        if match is not None:
            candidates.remove(match)
        elif (item.region, item.stack_name) in unread:
            unknown.add(item.identity.key)  # left out: its stack could not be read
            continue
        pairs.append((item, match, item.identity))
    for candidates in by_key.values():
        pairs += [(None, found, found.identity) for found in candidates]
    outputs = _Outputs(pairs, declared, frozenset(unknown))
    versions = _VersionCache(project)
    items = [
        _item(identity, mine, theirs, declared=declared, outputs=outputs, versions=versions)
        for mine, theirs, identity in pairs
        if not _unknown_pipeline(mine, identity, declared)
    ]
    items.sort(key=lambda item: (DISPLAY_ORDER.index(item.kind), item.name, item.region))
    return Fleet(
        project.workspace.name,
        tuple(items),
        declared,
        deployed.calls,
        deployed.problems,
        deployed.bulk_failures,
    )


def _item(
    identity: Identity,
    mine: DeclaredItem | None,
    theirs: DeployedItem | None,
    *,
    declared: Declared,
    outputs: _Outputs,
    versions: _VersionCache,
) -> FleetItem:
    reasons = _reasons(mine, theirs, outputs, versions) if mine is not None else ()
    overrides, held = _overrides(mine, theirs, declared)
    if overrides and not held:
        reasons = (*reasons, reverted_reason(overrides))
    return FleetItem(
        identity,
        mine,
        theirs,
        versions.of(mine, theirs),
        reasons,
        unreadable=mine is None and declared.is_unreadable(identity),
        overrides=overrides,
        overrides_held=held,
    )


def _overrides(
    mine: DeclaredItem | None, theirs: DeployedItem | None, declared: Declared
) -> tuple[tuple[Override, ...], bool]:
    """The --param values an instance's stack runs and its spec does not hold; whether they
    are all that differs from the spec (its inputs and version as deployed, its last
    deployment not failed)."""
    if mine is None or theirs is None or mine.identity.kind != SERVICE_INSTANCE:
        return (), False
    found = override_standing(theirs.tags, mine.inputs_digest)
    if found in (NONE, COMMITTED):
        return (), False
    service = declared.services.get(mine.identity.service or "")
    instance = service.spec.instance(mine.identity.instance or "") if service else None
    overrides = overrides_of(theirs.tags, instance.inputs if instance is not None else {})
    held = (
        found == HELD
        and theirs.tags.get(VERSION_TAG) == mine.version
        and theirs.stack.status not in TERMINAL_FAILED
    )
    return overrides, held and bool(overrides)


def _unknown_pipeline(mine: DeclaredItem | None, identity: Identity, declared: Declared) -> bool:
    """A pipeline stack of a service whose blueprint version is unreadable: not an orphan (the
    service is declared), not a declared item either (its version says nothing); left out, and
    the service's problem says why."""
    return (
        mine is None
        and identity.kind == PIPELINE
        and identity.service in declared.unknown_pipelines
    )


class _UnknownOutputs(Exception):  # noqa: N818 - not an error: a stack that could not be read
    """The outputs of a stack that could not be read."""


class _Outputs:
    """Outputs of deployed items by identity key, for the context digests."""

    def __init__(
        self,
        pairs: Sequence[tuple[DeclaredItem | None, DeployedItem | None, Identity]],
        declared: Declared,
        unknown: frozenset[tuple[str, ...]] = frozenset(),
    ) -> None:
        self._unknown = unknown  # identity keys of declared items whose stacks were not read
        # Only stacks matched to a declared item (in its region): as a deploy reads them. An
        # orphan of the same identity in another region renders nothing.
        self._stacks = {
            identity.key: theirs.stack
            for mine, theirs, identity in pairs
            if theirs is not None and mine is not None
        }
        self._declared = declared
        self._component_of = {
            (record.service, record.instance): name for name, record in declared.components.items()
        }

    def of(self, identity: Identity) -> dict[str, str] | None:
        if identity.key in self._unknown:
            raise _UnknownOutputs
        return usable_outputs(self._stacks.get(identity.key))

    def environment(self, name: str) -> dict[str, str] | None:
        return self.of(Identity.of_environment(name))

    def component(self, service: str, instance: str) -> dict[str, str] | None:
        name = self._component_of.get((service, instance))
        if name is None:
            return None
        return self.of(Identity.of_component(name, service=None, instance=None, environment=None))

    def context(self, identity: Identity) -> str | None:
        """The context digest the item would be deployed with now (None: environments, and
        items that render with a stack that could not be read)."""
        try:
            return self._context(identity)
        except _UnknownOutputs:
            return None

    def _context(self, identity: Identity) -> str | None:
        if identity.kind == ENVIRONMENT:
            return None
        if identity.kind == COMPONENT:
            record = self._declared.components[identity.component or ""]
            return context_digest({record.environment: self.environment(record.environment)})
        service = self._declared.services[identity.service or ""]
        instances = [
            i
            for i in service.spec.instances
            if identity.kind == PIPELINE or i.name == identity.instance
        ]
        environments = {i.environment: self.environment(i.environment) for i in instances}
        components = {i.name: self.component(service.name, i.name) for i in instances}
        if identity.kind == SERVICE_INSTANCE:
            return context_digest(environments, components)
        own = {i.name: self.of(Identity.of_instance(service.name, i.name, None)) for i in instances}
        return context_digest(environments, components, own)


class _VersionCache:
    """The registry's versions of each blueprint, read once per blueprint."""

    def __init__(self, project: Project) -> None:
        self._registry = project.registry
        self._versions: dict[str, list[VersionInfo]] = {}

    def versions(self, blueprint: str) -> list[VersionInfo]:
        if blueprint not in self._versions:
            try:
                self._versions[blueprint] = self._registry.versions(blueprint)
            except PcliError:  # an unknown or unreadable blueprint has no versions
                self._versions[blueprint] = []
        return self._versions[blueprint]

    def info(self, blueprint: str | None, version: str | None) -> VersionInfo | None:
        if blueprint is None or version is None:
            return None
        return next((v for v in self.versions(blueprint) if v.version == version), None)

    def of(self, mine: DeclaredItem | None, theirs: DeployedItem | None) -> Versions:
        source = mine if mine is not None else theirs
        if source is None or source.identity.kind == COMPONENT:
            return Versions()
        blueprint = mine.blueprint if mine is not None else _tag(theirs, BLUEPRINT_TAG)
        current = _tag(theirs, VERSION_TAG) if theirs is not None else None
        current = current or (mine.version if mine is not None else None)
        if blueprint is None or current is None:
            return Versions()
        return version_standing(self.versions(blueprint), current)


def version_standing(versions: Sequence[VersionInfo], current: str) -> Versions:
    """Where `current` stands among a blueprint's versions (see the module's decisions)."""
    published = sorted((v for v in versions if v.is_published), key=lambda v: (v.major, v.minor))
    if not published:
        return Versions()
    try:
        major, minor = parse_version(current)
    except PcliError:  # a version tag someone edited by hand: no standing
        return Versions()
    newest = published[-1]
    same_major = [v for v in published if v.major == major]
    recommended_minor = same_major[-1].version if same_major else None
    if newest.major > major:
        status = BEHIND_MAJOR
    elif same_major and (same_major[-1].major, same_major[-1].minor) > (major, minor):
        status = BEHIND_MINOR
    else:
        status = UP_TO_DATE
    return Versions(newest.version, recommended_minor, status)


def _tag(theirs: DeployedItem | None, key: str) -> str | None:
    return theirs.tags.get(key) if theirs is not None else None


def _reasons(
    mine: DeclaredItem, theirs: DeployedItem | None, outputs: _Outputs, versions: _VersionCache
) -> tuple[str, ...]:
    """Why the item's stack is not what the workspace declares (empty: it is)."""
    if theirs is None:
        return ("not deployed",)
    tags = theirs.tags
    reasons: list[str] = []
    if theirs.stack.status in TERMINAL_FAILED:
        reasons.append(f"last deployment failed ({theirs.stack.status})")
    deployed_version = tags.get(VERSION_TAG)
    if mine.version is not None and deployed_version != mine.version:
        reasons.append(f"version changed ({deployed_version or '?'} -> {mine.version})")
    if INPUTS_DIGEST_TAG not in tags:
        reasons.append("deployed by an earlier pcli (no digests to compare): redeploy to know")
        return tuple(reasons)
    if tags[INPUTS_DIGEST_TAG] != mine.inputs_digest and (
        override_standing(tags, mine.inputs_digest) != COMMITTED
    ):
        reasons.append("spec changed")
    info = versions.info(mine.blueprint, mine.version)
    if (
        info is not None
        and deployed_version == mine.version
        and tags.get(BUNDLE_DIGEST_TAG, "") != bundle_digest(info.digest)
    ):
        reasons.append(f"content of {mine.blueprint}@{mine.version} changed")
    context = outputs.context(mine.identity)
    if context is not None:
        changed = changed_context(tags.get(CONTEXT_DIGEST_TAG, ""), context)
        reasons += [f"{what} changed" for what in changed]
    return tuple(reasons)
