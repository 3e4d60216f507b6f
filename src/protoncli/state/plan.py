"""What `pcli apply` would do, item by item, in the order it would do it.

Read from the fleet (`state.fleet`) alone: no rendering, no change sets (those are
`deploy.apply.preview_changes`, asked for with `plan --changes`).

Decisions:
- Actions: `create` (declared, not deployed, or a first creation that failed and is recreated),
  `update` (deployed, pending), `delete` (orphans: carried out only with `--prune`; without it
  they are listed and count for nothing), `none`.
- A service instance whose stack runs `svc deploy --param` values the spec does not hold, and
  differs from the spec in nothing else that apply would act on alone (`FleetItem.overrides_held`),
  is held back: planned as an update that applies only with `--revert-overrides` (as orphans'
  deletions apply only with `--prune`), its reason naming the values and the spec's.
- An item renders with the outputs of what it depends on (an instance: its environment and its
  component; a pipeline: its instances). When one of those is created or updated first, the
  item is planned as an update too ("may change"): its template is rendered again after the
  upstream stack's outputs are known, and CloudFormation says whether anything changed.
- Order: environments, components, service instances, pipelines; deletions after everything
  else, in the reverse order (pipelines first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from protoncli.errors import NotFoundError
from protoncli.state.fleet import Fleet, FleetItem
from protoncli.state.identity import COMPONENT, ENVIRONMENT, KIND_ORDER, PIPELINE, SERVICE_INSTANCE
from protoncli.state.overrides import held_reason

CREATE, UPDATE, DELETE, NONE = "create", "update", "delete", "none"
RECREATED = ("ROLLBACK_COMPLETE",)  # a failed first creation: the stack is deleted and created


@dataclass(frozen=True)
class PlannedItem:
    item: FleetItem
    action: str  # create | update | delete | none
    reasons: tuple[str, ...] = ()
    applies: bool = (
        True  # False for deletions without --prune, held items without --revert-overrides
    )

    @property
    def acts(self) -> bool:
        return self.action != NONE and self.applies


@dataclass(frozen=True)
class Plan:
    workspace: str
    items: tuple[PlannedItem, ...]  # in apply order
    fleet: Fleet
    prune: bool
    revert_overrides: bool = False

    @property
    def changes(self) -> bool:
        """Whether apply would change anything (`plan --check` exits 4 then)."""
        return any(planned.acts for planned in self.items)

    def acting(self) -> list[PlannedItem]:
        return [planned for planned in self.items if planned.acts]

    def held(self) -> list[PlannedItem]:
        """Items held back for their --param values (without --revert-overrides)."""
        return [p for p in self.items if p.item.overrides_held and not p.applies]

    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, DELETE: 0, NONE: 0}
        for planned in self.items:
            counts[planned.action if planned.applies else NONE] += 1
        return counts


def make_plan(
    fleet: Fleet,
    names: Sequence[str] = (),
    *,
    env: str | None = None,
    prune: bool = False,
    only: Sequence[tuple[str, ...]] | None = None,
    revert_overrides: bool = False,
) -> Plan:
    """The plan for the items named (environments, services, SERVICE/INSTANCE, components;
    every item when none is named), limited to environment `env` and to the identity keys in
    `only` when given (a `--branch` or `--shard` selection). Items held back for their --param
    values are updated only with `revert_overrides`."""
    chosen = select(fleet, names, env=env)
    if only is not None:
        keys = set(only)
        chosen = [item for item in chosen if item.identity.key in keys]
    first = sorted((_action(item, prune, revert_overrides) for item in chosen), key=_order)
    acting = {p.item.identity.key for p in first if p.acts and p.action != DELETE}
    planned = []
    for item in first:  # in dependency order, so a change reaches everything downstream
        found = _knock_on(item, fleet, acting)
        if found.acts and found.action != DELETE:
            acting.add(found.item.identity.key)
        planned.append(found)
    return Plan(fleet.workspace, tuple(planned), fleet, prune, revert_overrides)


def select(fleet: Fleet, names: Sequence[str], *, env: str | None = None) -> list[FleetItem]:
    """Items picked by name (an environment picks itself; a service its instances and
    pipeline; SERVICE/INSTANCE one instance; a component itself) and environment."""
    items = list(fleet.items)
    if names:
        known: dict[str, list[FleetItem]] = {}
        for item in items:
            for name in names_of(item):
                known.setdefault(name, []).append(item)
        unknown = [name for name in names if name not in known]
        if unknown:
            listing = ", ".join(sorted(known)) or "none"
            raise NotFoundError(
                f"nothing named {', '.join(map(repr, unknown))} in this workspace or its stacks",
                hint=f"known names: {listing}",
            )
        picked = {id(item): item for name in names for item in known[name]}
        items = [item for item in items if id(item) in picked]
    if env is not None:
        items = [item for item in items if item.environment == env]
    return items


def names_of(item: FleetItem) -> frozenset[str]:
    """The names that pick an item on a command line: a service picks its instances and its
    pipeline, SERVICE/INSTANCE one instance, any other item its own name."""
    identity = item.identity
    if identity.kind == SERVICE_INSTANCE:
        return frozenset({identity.service or "", identity.name})
    if identity.kind == PIPELINE:
        return frozenset({identity.service or ""})
    return frozenset({identity.name})


def _action(item: FleetItem, prune: bool, revert_overrides: bool) -> PlannedItem:
    if item.unreadable:
        return PlannedItem(item, NONE, ("its spec file could not be read: left alone",))
    if item.orphaned:
        reason = "no spec declares it any more"
        if not prune:
            reason += " (deleted only with --prune)"
        return PlannedItem(item, DELETE, (reason,), applies=prune)
    if item.overrides_held:
        reason = held_reason(item.overrides, revert=revert_overrides)
        return PlannedItem(item, UPDATE, (*item.reasons, reason), applies=revert_overrides)
    if not item.pending:
        return PlannedItem(item, NONE)
    if not item.is_deployed or item.stack_status in RECREATED:
        return PlannedItem(item, CREATE, item.reasons)
    return PlannedItem(item, UPDATE, item.reasons)


def _upstream(item: FleetItem, fleet: Fleet) -> list[tuple[tuple[str, ...], str]]:
    """(identity key, words) of what the item renders with."""
    identity = item.identity
    found: list[tuple[tuple[str, ...], str]] = []
    if identity.kind in (SERVICE_INSTANCE, COMPONENT) and item.environment:
        found.append(((ENVIRONMENT, item.environment), f"environment {item.environment}"))
    if identity.kind == SERVICE_INSTANCE:
        for component in fleet.of_kind(COMPONENT):
            other = component.identity
            if component.is_declared and (other.service, other.instance) == (
                identity.service,
                identity.instance,
            ):
                found.append((other.key, f"component {other.name}"))
    if identity.kind == PIPELINE:
        found.extend(
            (instance.identity.key, instance.identity.description)
            for instance in fleet.of_service(identity.service or "")
            if instance.kind == SERVICE_INSTANCE and instance.is_declared
        )
    return found


def _knock_on(planned: PlannedItem, fleet: Fleet, acting: set[tuple[str, ...]]) -> PlannedItem:
    """An unchanged item whose upstream stacks change first may change with them."""
    if planned.action != NONE:
        return planned
    changing = [words for key, words in _upstream(planned.item, fleet) if key in acting]
    if not changing:
        return planned
    reason = f"may change: {', '.join(changing)} changes first (outputs it renders with)"
    return PlannedItem(planned.item, UPDATE, (reason,))


def _order(planned: PlannedItem) -> tuple[int, int, str]:
    kind = KIND_ORDER.index(planned.item.kind)
    if planned.action == DELETE:
        return (1, len(KIND_ORDER) - kind, planned.item.name)
    return (0, kind, planned.item.name)
