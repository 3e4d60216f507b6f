"""Whether a new minor version's schema is backward compatible with the previous minor.

Proton checks this "on a best-effort basis" and names no rules. pcli's rules (decision): a spec
that was valid for the old schema must stay valid for the new one, so a minor version may not

- remove an input, or drop the pipeline (`pipeline_input_type` or the pipeline folder);
- add a required input without a default, make an input required without a default, or remove
  the default of a required input;
- change an input's type (or an array's item type), except integer to number;
- narrow what a value may be: remove enum values (or add an enum), add or change a pattern,
  raise a lower limit (minLength, minimum, minItems) or lower an upper one (maxLength, maximum,
  maxItems), or add such a limit;
- change the blueprint's kind.

Adding optional inputs, adding defaults, widening limits and adding enum values are compatible.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from protoncli.schema.model import InputDef, InputType, Schema

# Limits whose raising narrows the accepted values, and those whose lowering does.
_LOWER_LIMITS = ("minLength", "minimum", "minItems")
_UPPER_LIMITS = ("maxLength", "maximum", "maxItems")


def schema_incompatibilities(
    old: Schema | None,
    new: Schema | None,
    *,
    old_has_pipeline: bool,
    new_has_pipeline: bool,
) -> list[str]:
    """Every reason why a spec valid for `old` may be invalid for `new` (empty: compatible).

    `None` is a component's schema (components have none).
    """
    old_kind = old.kind if old is not None else "component"
    new_kind = new.kind if new is not None else "component"
    if old_kind != new_kind:
        return [f"kind changed from {old_kind} to {new_kind}"]
    if old is None or new is None:
        return []
    reasons = _input_type_changes(old.main, new.main)
    reasons.extend(_pipeline_changes(old, new, old_has_pipeline, new_has_pipeline))
    return reasons


def _pipeline_changes(
    old: Schema, new: Schema, old_has_pipeline: bool, new_has_pipeline: bool
) -> list[str]:
    reasons: list[str] = []
    if old_has_pipeline and not new_has_pipeline:
        reasons.append("pipeline dropped: the pipeline_infrastructure folder was removed")
    if old.pipeline is not None and new.pipeline is None:
        reasons.append(f"pipeline dropped: pipeline_input_type {old.pipeline.name} was removed")
    elif new.pipeline is not None:
        # A pipeline input type that did not exist before is compared with an empty one, so
        # its required inputs without defaults are reported like any other new required input.
        before = old.pipeline or InputType(new.pipeline.name, None, (), {})
        reasons.extend(_input_type_changes(before, new.pipeline))
    return reasons


def _input_type_changes(old: InputType, new: InputType) -> list[str]:
    reasons: list[str] = []
    for old_input in old.inputs:
        new_input = new.get(old_input.name)
        where = f"{new.name}.{old_input.name}"
        if new_input is None:
            reasons.append(f"{old.name}.{old_input.name}: input removed")
        else:
            reasons.extend(f"{where}: {why}" for why in _input_changes(old_input, new_input))
    reasons.extend(
        f"{new.name}.{added.name}: new required input without a default"
        for added in new.inputs
        if old.get(added.name) is None and added.required and not added.has_default
    )
    return reasons


def _input_changes(old: InputDef, new: InputDef) -> list[str]:
    reasons: list[str] = []
    if old.type != new.type and (old.type, new.type) != ("integer", "number"):
        return [f"type changed from {old.type} to {new.type}"]
    if new.required and not new.has_default:
        if not old.required:
            reasons.append("became required without a default")
        elif old.has_default:
            reasons.append("default removed from a required input")
    old_raw: Mapping[str, Any] = old.raw or {}
    new_raw: Mapping[str, Any] = new.raw or {}
    reasons.extend(_constraint_changes(old_raw, new_raw, ""))
    if new.type == "array":
        reasons.extend(_item_changes(old_raw.get("items"), new_raw.get("items")))
    return reasons


def _item_changes(old_items: Any, new_items: Any) -> list[str]:
    old_map: Mapping[str, Any] = old_items if isinstance(old_items, Mapping) else {}
    new_map: Mapping[str, Any] = new_items if isinstance(new_items, Mapping) else {}
    old_type, new_type = old_map.get("type"), new_map.get("type")
    if new_type is not None and old_type != new_type:
        before = old_type if old_type is not None else "any"
        return [f"array item type changed from {before} to {new_type}"]
    return _constraint_changes(old_map, new_map, "item ")


def _constraint_changes(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str) -> list[str]:
    reasons = _enum_changes(old.get("enum"), new.get("enum"), prefix)
    old_pattern, new_pattern = old.get("pattern"), new.get("pattern")
    if new_pattern is not None and old_pattern != new_pattern:
        change = "added" if old_pattern is None else f"changed from {old_pattern!r}"
        reasons.append(f"{prefix}pattern {change} to {new_pattern!r}")
    for key in _LOWER_LIMITS:
        reasons.extend(_limit_change(key, old.get(key), new.get(key), prefix, raised=True))
    for key in _UPPER_LIMITS:
        reasons.extend(_limit_change(key, old.get(key), new.get(key), prefix, raised=False))
    return reasons


def _enum_changes(old_enum: Any, new_enum: Any, prefix: str) -> list[str]:
    if not isinstance(new_enum, list | tuple):
        return []
    if not isinstance(old_enum, list | tuple):
        values = ", ".join(_show(value) for value in new_enum)
        return [f"{prefix}enum added: values restricted to {values}"]
    removed = [value for value in old_enum if value not in new_enum]
    if not removed:
        return []
    return [f"{prefix}enum narrowed: {', '.join(_show(value) for value in removed)} removed"]


def _limit_change(key: str, old: Any, new: Any, prefix: str, *, raised: bool) -> list[str]:
    if not _is_number(new):
        return []
    if not _is_number(old):
        return [f"{prefix}{key} {_show(new)} added"]
    if raised and new > old:
        return [f"{prefix}{key} raised from {_show(old)} to {_show(new)}"]
    if not raised and new < old:
        return [f"{prefix}{key} lowered from {_show(old)} to {_show(new)}"]
    return []


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
