"""A create of a name whose spec file exists: continued, or refused with "already exists".

A create whose deploy was refused (no confirmation) or failed leaves its spec file. The same
create run again continues with it, instead of refusing the name, when

- the blueprint, version and inputs it gives equal what the spec file holds (what it does not
  give falls back to the spec's: a create with the name alone continues too), and
- nothing is deployed for it yet, or its last deployment failed (`undeployed`, read from the
  state model); nothing of it is being deployed.

It then writes nothing (a plain value of a secret input is stored again, under the reference
the spec already holds) and deploys the spec file as `pcli env deploy` / `pcli svc deploy`
would. With --no-deploy it only says that the spec file already holds those values. Any other
create of an existing name is refused with "already exists", naming the deploy command and the
spec file to edit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from protoncli.deploy.interview import COMMANDS

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.schema.model import InputType
    from protoncli.state.identity import Identity

R = TypeVar("R")


def create_again(kind: str, name: str) -> str:
    """What a create that wrote (or continued with) a spec file says once its deploy fails."""
    return (
        f"the spec file is kept: the same `{COMMANDS[kind]} {name}` command, run again, "
        "continues with it and deploys it"
    )


@dataclass(frozen=True)
class Continuation(Generic[R]):
    """A create that continues with the spec file a former create of the same name and values
    wrote, instead of writing one. `state` says what AWS runs for it, in words (None: not
    read, because no deploy follows)."""

    record: R
    path: Path
    state: str | None

    def note(self) -> str:
        """What the create says instead of "Wrote ..."."""
        if self.state is None:
            return f"{self.path} already holds these values: nothing was written."
        return (
            f"{self.path} already holds these values, and {self.state}: continuing with it "
            "(nothing was written)."
        )


_ABSENT = object()


def same_value(left: Any, right: Any) -> bool:
    """Equal values of one input (True is not 1; lists compared entry by entry)."""
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(same_value, left, right))
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def same_blueprint(
    project: Project,
    held: tuple[str, str],
    blueprint_ref: str | None,
    version: str | None,
    header: Mapping[str, Any],
) -> bool:
    """Whether the blueprint a create names (--blueprint, --version, or the --spec header; none
    named counts as the same) is the spec file's: `held` is its (blueprint, version)."""
    from protoncli.deploy.interview import blueprint_reference

    reference = blueprint_reference(blueprint_ref, version, header)
    if reference is None:
        return True
    blueprint, _, pinned = reference.partition("@")
    if blueprint != held[0]:
        return False
    return not pinned or project.registry.resolve(reference).version == held[1]


def same_inputs(
    input_type: InputType,
    given: Mapping[str, Any],
    held: Mapping[str, Any],
    reference: Callable[[str], str],
) -> dict[str, Any] | None:
    """Whether each input `given` has the value the spec holds (`held`, else its default).

    A plain value of a secret input cannot be compared with the reference the spec holds: it
    counts as the same when the spec holds pcli's own reference for that input
    (`reference(name)`), and is returned to be stored again. None when a value differs."""
    from protoncli.schema.secrets import holds_plain_secret

    stored: dict[str, Any] = {}
    for name, value in given.items():
        item = input_type.get(name)
        if item is None:
            continue  # an unknown key: a create drops it (with a warning) too
        current = held.get(name, item.default if item.has_default else _ABSENT)
        if item.secret and holds_plain_secret(value) and current == reference(name):
            stored[name] = value
        elif current is _ABSENT or not same_value(value, current):
            return None
    return stored


def undeployed(project: Project, identities: Sequence[Identity]) -> tuple[str | None, list[str]]:
    """Whether a create of these items may continue, read from the state model (the spec
    files and the stacks, joined): what is not deployed yet or failed, in words (None when it
    may not continue), and what is deployed or being deployed (why it may not)."""
    from protoncli.state.fleet import read_fleet

    fleet = read_fleet(project)
    items = [(identity, fleet.find(identity)) for identity in identities]
    running = [
        f"{item.identity.description} is deployed: {item.stack_name} ({item.stack_status})"
        for _, item in items
        if item is not None and item.is_deployed and not item.failed
    ]
    missing = [i.description for i, item in items if item is None or not item.is_deployed]
    failed = [
        f"{item.stack_name}: {item.stack_status}"
        for _, item in items
        if item is not None and item.is_deployed and item.failed
    ]
    if any(item is not None and item.in_progress for _, item in items) or not (missing or failed):
        return None, running
    if not failed:
        whole = len(missing) == len(identities)
        return (
            "nothing of it is deployed yet"
            if whole
            else f"{', '.join(missing)} is not deployed yet"
        ), running
    text = f"its last deployment failed ({'; '.join(failed)})"
    return (f"{text} and {', '.join(missing)} is not deployed yet" if missing else text), running
