"""Inputs a service instance runs with from `pcli svc deploy --param`, as its stack's tags say.

`pcli svc deploy NAME --param KEY=VALUE` deploys an instance with values its spec file does not
hold (CI shipping a new image) and leaves the file alone. The instance's stack is then tagged:

- `pcli:inputs-digest`: the spec file's inputs, as after any deploy (what the workspace
  declared when it was deployed);
- `pcli:overrides-digest`: the inputs it was deployed with (the file's, with the --param values),
  digested as a spec's are (`digests.instance_inputs_digest`), so a spec edited later to hold
  the same values has this very digest;
- `pcli:overrides`: the --param values as `KEY=VALUE KEY=VALUE` (keys sorted), for people: a
  value a tag cannot carry (characters tags refuse, or too long) is written as its key alone.
  The deployment record keeps every value (`records.DeploymentRecord.overrides`).

Against the spec now (`standing`):

- COMMITTED, the spec's digest is the overrides digest: the values were committed; up to date.
- HELD, the spec's digest is the inputs digest: nothing changed in the spec since; the stack
  runs the --param values. `plan` says so; `apply` leaves the item alone unless told
  `--revert-overrides`.
- REVERTED, neither: the spec changed otherwise; its update deploys the spec, which reverts
  the --param values the spec does not hold, and the plan says that too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from protoncli.state.identity import INPUTS_DIGEST_TAG, OVERRIDES_DIGEST_TAG, OVERRIDES_TAG

TAG_LIMIT = 256  # characters of a CloudFormation tag value
# What every AWS service takes in a tag value (stack tags reach the stack's resources), besides
# letters, digits and spaces; a space separates the pairs.
_TAG_PUNCTUATION = frozenset("_.:/=+-@")

NONE, COMMITTED, HELD, REVERTED = "none", "committed", "held", "reverted"


def value_text(value: Any) -> str:
    """An input value as a person types it after `--param KEY=`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _fits_tag(text: str) -> bool:
    return all(char.isalnum() or char in _TAG_PUNCTUATION for char in text)


def overrides_tag(values: Mapping[str, Any]) -> str:
    """The `pcli:overrides` tag of a deploy with these --param values."""
    texts = {key: value_text(values[key]) for key in sorted(values)}
    shown = {key: text for key, text in texts.items() if _fits_tag(text)}

    def joined() -> str:
        return " ".join(f"{key}={shown[key]}" if key in shown else key for key in texts)

    while len(joined()) > TAG_LIMIT and shown:
        del shown[max(shown, key=lambda key: len(shown[key]))]
    return joined()[:TAG_LIMIT]


def read_overrides_tag(text: str) -> dict[str, str | None]:
    """Key -> value text from a `pcli:overrides` tag (None: the tag does not carry it)."""
    found: dict[str, str | None] = {}
    for part in text.split():
        key, separator, value = part.partition("=")
        found[key] = value if separator else None
    return found


def standing(tags: Mapping[str, str], declared_digest: str) -> str:
    """Where the spec stands against a stack's --param values (see the module's doc)."""
    deployed = tags.get(OVERRIDES_DIGEST_TAG)
    if deployed is None or OVERRIDES_TAG not in tags:
        return NONE
    if deployed == declared_digest:
        return COMMITTED
    if tags.get(INPUTS_DIGEST_TAG) == declared_digest:
        return HELD
    return REVERTED


@dataclass(frozen=True)
class Override:
    """One input a stack runs with from --param, against what the spec gives it."""

    key: str
    deployed: str | None  # the value as text; None when the stack's tag could not carry it
    declared: str | None  # the spec's value as text; None: the spec leaves it to the default

    @property
    def param(self) -> str:
        return self.key if self.deployed is None else f"{self.key}={self.deployed}"

    @property
    def spec_says(self) -> str:
        if self.declared is None:
            return f"{self.key}: the blueprint's default"
        return f"{self.key}={self.declared}"


def overrides_of(tags: Mapping[str, str], inputs: Mapping[str, Any]) -> tuple[Override, ...]:
    """The stack's --param values that differ from the spec's `inputs` (a value the tag does
    not carry counts as different)."""
    found = []
    for key, deployed in read_overrides_tag(tags.get(OVERRIDES_TAG, "")).items():
        declared = value_text(inputs[key]) if key in inputs else None
        if deployed is None or deployed != declared:
            found.append(Override(key, deployed, declared))
    return tuple(found)


def described(overrides: tuple[Override, ...]) -> str:
    """`--param image=abc (spec says image=latest)`."""
    params = ", ".join(o.param for o in overrides)
    spec = ", ".join(o.spec_says for o in overrides)
    return f"--param {params} (spec says {spec})"


def held_reason(overrides: tuple[Override, ...], *, revert: bool) -> str:
    """Why `plan` shows an item held back (or, with --revert-overrides, reverted)."""
    count = "value" if len(overrides) == 1 else "values"
    if revert:
        what = described(overrides)
        return f"deployed with {what}: --revert-overrides deploys the spec's {count}"
    return (
        f"deployed with {described(overrides)}: commit the {count} to the spec, or apply "
        "--revert-overrides to go back"
    )


def reverted_reason(overrides: tuple[Override, ...]) -> str:
    """What an update of a spec that changed otherwise does to the --param values."""
    return f"the update reverts {described(overrides)}, which the spec does not hold"
