"""Running a rule set on a rendered template: the violations, by rule, resource and property.

Guard reports each rule that does not hold with the clauses that failed and, for each, the path
of the value it looked at (`/Resources/Sg/Properties/SecurityGroupIngress/0/FromPort`) or the
path it reached before a key was missing (`/Resources/Bucket/Properties` + `BucketEncryption`).
A violation is one rule on one resource's property: the resource's logical id and type, the
property path (`SecurityGroupIngress[0].FromPort`), and the clause's own message (`<< ... >>`),
else the rule's, else Guard's. The clauses of an `or` fail together: they make one violation, at
the part of the path they share.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from protoncli.guardrails.rules import ReportCutError, RuleFile, RuleSet, run_guard

# Guard's own wording of a failed clause, trimmed of the positions and values it appends
_POSITION = re.compile(r"\[L:\d+,C:\d+\]")
_TRAVERSED = re.compile(r"\s*Value traversed to \[.*$", re.DOTALL)
# what is left of a query where a key was missing: keys, less Guard's notes on its filters
_FILTERS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_KEY = re.compile(r"[A-Za-z0-9_:\-]+")


@dataclass(frozen=True)
class Violation:
    rule: str
    severity: str  # error | warning
    resource: str | None  # the resource's logical id, None for a rule on the template itself
    resource_type: str | None
    property: str | None  # "SecurityGroupIngress[0].FromPort"
    message: str
    rule_file: str  # where the rule is written

    def where(self) -> str:
        """`Resource (AWS::Type) Property.Path`, or what of it is known."""
        if self.resource is None:
            return self.property or "the template"
        kind = f" ({self.resource_type})" if self.resource_type else ""
        return f"{self.resource}{kind}" + (f" {self.property}" if self.property else "")

    def line(self) -> str:
        return f"{self.rule}: {self.where()}: {self.message}"

    def document(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "resource": self.resource,
            "resource_type": self.resource_type,
            "property": self.property,
            "message": self.message,
            "rule_file": self.rule_file,
        }


@dataclass(frozen=True)
class _Failure:
    """One failed clause: where the value it looked at is, and what it says."""

    steps: tuple[str, ...]  # the path's parts: Resources, Sg, Properties, ...
    message: str
    custom: bool  # the message is the rule writer's (`<< ... >>`)


def check_template(rule_set: RuleSet, template: Mapping[str, Any]) -> list[Violation]:
    """Every violation of `rule_set` in a parsed template, in rule order."""
    if not rule_set:
        return []
    data = json.dumps(template, default=str)
    found: list[Violation] = []
    for rule_file in rule_set.files:
        for rule in _not_compliant(rule_file, template, data):
            found.extend(_violations(rule, rule_set, rule_file, template))
    return list(dict.fromkeys(found))  # a clause reached twice is one violation


def _not_compliant(
    rule_file: RuleFile, template: Mapping[str, Any], data: str | None = None
) -> list[Mapping[str, Any]]:
    """The reports of the file's rules that do not hold on `template`. A report Guard cut
    short (`ReportCutError`) is made again on each of `SPLIT` parts of the template's
    resources, down to one resource; a rule the whole template kept (the end of the cut
    report lists those) is kept out of what the parts say, so a rule about the template as a
    whole is not broken by the split."""
    if data is None:
        data = json.dumps(template, default=str)
    try:
        report = run_guard(rule_file.text, data, rule_file.label)
    except ReportCutError as cut:
        held = _held(cut.tail)
        resources = template.get("Resources")
        if not isinstance(resources, Mapping) or len(resources) < 2:  # noqa: PLR2004
            return _too_long(rule_file, resources, held)
        names = list(resources)
        size = -(-len(names) // SPLIT)  # ceiling: SPLIT parts, the last may be smaller
        found: list[Mapping[str, Any]] = []
        for start in range(0, len(names), size):
            part = {name: resources[name] for name in names[start : start + size]}
            found.extend(_not_compliant(rule_file, {**template, "Resources": part}))
        return [rule for rule in found if rule.get("name") not in held]
    entries = report.get("not_compliant") or ()
    return [e["Rule"] for e in entries if isinstance(e, dict) and isinstance(e.get("Rule"), dict)]


SPLIT = 8  # parts a template is checked in again when its report was cut short
_HELD = re.compile(r'"not_applicable":\s*\[(.*?)\],\s*"compliant":\s*\[(.*?)\]\s*\}\s*$', re.DOTALL)


def _held(tail: str) -> set[str]:
    """The rules a cut report's end lists as held (not applicable or compliant); none when
    the cut fell inside that list."""
    found = _HELD.search(tail)
    return set(re.findall(r'"([^"]*)"', found.group(1) + found.group(2))) if found else set()


def _too_long(rule_file: RuleFile, resources: Any, held: set[str]) -> list[Mapping[str, Any]]:
    """The rules one resource breaks in more places than Guard's report can hold: each named,
    on that resource, without the places."""
    (name,) = resources if isinstance(resources, Mapping) and resources else (None,)
    path = f"/Resources/{name}" if name else ""
    message = (
        "breaks this rule in more places than Guard's report can hold; run cfn-guard validate "
        "on the rendered template to see them all"
    )
    leaf = {"messages": {"custom_message": message}, "check": {"path": path}}
    return [{"name": rule, "checks": [leaf]} for rule in rule_file.rules if rule not in held]


def _violations(
    rule: Mapping[str, Any], rule_set: RuleSet, rule_file: RuleFile, template: Mapping[str, Any]
) -> Iterator[Violation]:
    name = str(rule.get("name") or "")
    rule_message = _text((rule.get("messages") or {}).get("custom_message"))
    failures = list(_failures(rule.get("checks")))
    if not failures:  # a rule that failed with nothing to point at
        failures = [_Failure((), rule_message or "the rule does not hold", bool(rule_message))]
    resources = template.get("Resources") if isinstance(template, Mapping) else None
    for failure in failures:
        resource, prop = _place(failure.steps)
        message = failure.message if failure.custom or not rule_message else rule_message
        declared = resources.get(resource) if isinstance(resources, Mapping) else None
        kind = declared.get("Type") if isinstance(declared, Mapping) else None
        yield Violation(
            rule=name,
            severity=rule_set.severity(name),
            resource=resource,
            resource_type=kind if isinstance(kind, str) else None,
            property=prop,
            message=message,
            rule_file=rule_file.label,
        )


def _failures(node: Any) -> Iterator[_Failure]:
    """The failed clauses under a node of Guard's report; an `or`'s as one."""
    if isinstance(node, list):
        for item in node:
            yield from _failures(item)
    elif isinstance(node, dict):
        if "Disjunctions" in node:
            yield from _joined(list(_failures((node["Disjunctions"] or {}).get("checks"))))
        elif "messages" in node and ("check" in node or "unresolved" in node):
            yield _leaf(node)
        else:
            for value in node.values():
                yield from _failures(value)


def _leaf(node: Mapping[str, Any]) -> _Failure:
    messages = node.get("messages") or {}
    custom = _text(messages.get("custom_message"))
    guard = _TRAVERSED.sub("", _POSITION.sub("", _text(messages.get("error_message"))))
    steps = _path_of(node.get("check") or node.get("unresolved"))
    context = _text(node.get("context"))
    message = custom or guard or (f"{context} does not hold" if context else "does not hold")
    return _Failure(steps, message, bool(custom))


def _joined(failures: list[_Failure]) -> Iterator[_Failure]:
    """The failed branches of one `or`: one failure per resource, at the path they share."""
    by_resource: dict[tuple[str, ...], list[_Failure]] = {}
    for failure in failures:
        by_resource.setdefault(failure.steps[:2], []).append(failure)
    for group in by_resource.values():
        steps = group[0].steps
        for other in group[1:]:
            steps = _common(steps, other.steps)
        chosen = next((failure for failure in group if failure.custom), group[0])
        yield _Failure(steps, chosen.message, chosen.custom)


def _common(left: tuple[str, ...], right: tuple[str, ...]) -> tuple[str, ...]:
    shared = 0
    while shared < min(len(left), len(right)) and left[shared] == right[shared]:
        shared += 1
    return left[:shared]


def _path_of(check: Any) -> tuple[str, ...]:
    """The path a clause's check looked at: the value's, or where it stopped and what it did
    not find (Guard's `traversed_to` and `remaining_query`)."""
    found = _first(check, "traversed_to")
    if found is not None:
        base = _steps(str((found.get("traversed_to") or {}).get("path") or ""))
        remaining = _FILTERS.sub("", str(found.get("remaining_query") or ""))
        return base + tuple(_KEY.findall(remaining))
    located = _first(check, "path", non_empty=True)
    return _steps(str(located["path"])) if located is not None else ()


def _first(node: Any, key: str, *, non_empty: bool = False) -> dict[str, Any] | None:
    """The first mapping under `node` (depth first, in the report's order) holding `key`."""
    if isinstance(node, dict):
        if key in node and (not non_empty or node[key]):
            return node
        for value in node.values():
            found = _first(value, key, non_empty=non_empty)
            if found is not None:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _first(item, key, non_empty=non_empty)
            if found is not None:
                return found
    return None


def _steps(path: str) -> tuple[str, ...]:
    return tuple(part for part in _POSITION.sub("", path).split("/") if part)


def _place(steps: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(logical id, property path) of a path under `/Resources/<id>/`; a path elsewhere in the
    template is its own property path."""
    if steps[:1] == ("Resources",) and len(steps) > 1:
        rest = steps[3:] if steps[2:3] == ("Properties",) else steps[2:]
        return steps[1], _property(rest)
    return None, _property(steps)


def _property(steps: tuple[str, ...]) -> str | None:
    text = ""
    for step in steps:
        text += f"[{step}]" if step.isdigit() else (f".{step}" if text else step)
    return text or None


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value else ""
