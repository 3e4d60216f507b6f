"""What Terraform says, read: its machine-readable UI lines, plans, outputs and error texts.

Pure functions over Terraform's output, no processes (`terraform.py` runs Terraform):

- `parse_line` reads one line of `-json` UI output (an object with `@level`, `@message`,
  `@timestamp`, `type`); `hook_event` turns an `apply_start` / `apply_complete` /
  `apply_errored` line into a `StackEvent` the way CloudFormation would report it
  (`CREATE_IN_PROGRESS`, `UPDATE_COMPLETE`, `DELETE_FAILED`, ...); `parse_diagnostic` reads a
  `diagnostic` line.
- `plan_from_show` builds a `Plan` from `terraform show -json PLANFILE`: one `Change` per
  resource that changes, in CloudFormation's words (Add, Modify, Remove; replacement "True"
  when Terraform replaces the resource).
- `parse_lock_info` reads the `Lock Info:` block Terraform writes when a state lock is held or
  cannot be released; `locked_report` and `stopped_report` word those cases;
  `failed_provider` names the provider an `init` could not install; `failure_report` sums up
  a failed command (`Outcome`: what one command wrote) by resource.
- `string_outputs` turns `terraform output -json` values into the strings Proton outputs are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from protoncli.deploy.model import Change, StackEvent
from protoncli.errors import UsageError

# Terraform's hook actions, as the verb of a CloudFormation status; others (read) are not told.
_VERBS = {
    "create": "CREATE",
    "update": "UPDATE",
    "replace": "UPDATE",
    "delete": "DELETE",
    "import": "IMPORT",
}
_HOOK_STATES = {
    "apply_start": "IN_PROGRESS",
    "apply_complete": "COMPLETE",
    "apply_errored": "FAILED",
}
_LOCK_FIELDS = {"ID", "Path", "Operation", "Who", "Version", "Created", "Info"}
_PROVIDER_FAILURES = (
    "failed to query available provider packages",
    "failed to install provider",
    "could not connect to registry",
    "was not found in any of the search locations",
    "failed to download provider",
)
_PROVIDER_NAME = re.compile(
    r"(?:for provider|installing|provider registry\.terraform\.io/)\s*"
    r"((?:[\w.-]+/)?[\w-]+/[\w-]+)",
)
LOCK_ACQUIRE = "Error acquiring the state lock"
LOCK_RELEASE = "Error releasing the state lock"
_FRACTION = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True)
class Plan:
    """A saved plan, as pcli shows it: the resources it changes and Terraform's summary line.
    `has_changes` is also True for a plan that changes outputs only (no `changes` row)."""

    changes: tuple[Change, ...]
    has_changes: bool
    summary: str


@dataclass(frozen=True)
class Diagnostic:
    """One of Terraform's errors or warnings."""

    severity: str  # error | warning
    summary: str
    detail: str
    address: str | None = None  # the resource it is about, when Terraform says
    where: str | None = None  # `main.tf line 8, in resource "x" "y"`, when Terraform says

    def text(self) -> str:
        """`summary: detail`, the detail on one line."""
        detail = " ".join(self.detail.split())
        return f"{self.summary}: {detail}" if detail else self.summary

    def located(self) -> str:
        """`text()`, and where in the configuration when it names no resource."""
        if self.address or not self.where:
            return self.text()
        return f"{self.where}: {self.text()}"


@dataclass(frozen=True)
class LockInfo:
    """A state lock as Terraform describes it (`Lock Info:`); fields it leaves out are ""."""

    lock_id: str
    path: str = ""
    who: str = ""
    created: str = ""
    operation: str = ""


def parse_line(line: str) -> dict[str, Any] | None:
    """One line of `-json` output as an object; None for anything else (plain text)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def parse_timestamp(value: Any) -> datetime:
    """`@timestamp` (RFC 3339) as an aware UTC datetime; now when missing or unreadable."""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value))
        except ValueError:
            pass
        else:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return datetime.now(UTC)


def hook_event(message: Mapping[str, Any], event_id: str) -> StackEvent | None:
    """The `StackEvent` of an apply hook line; None for other lines and untold actions."""
    state = _HOOK_STATES.get(str(message.get("type")))
    hook = message.get("hook")
    if state is None or not isinstance(hook, dict):
        return None
    verb = _VERBS.get(str(hook.get("action")))
    resource = hook.get("resource")
    if verb is None or not isinstance(resource, dict):
        return None
    id_value = hook.get("id_value")
    return StackEvent(
        event_id=event_id,
        timestamp=parse_timestamp(message.get("@timestamp")),
        logical_id=str(resource.get("addr", "")),
        resource_type=str(resource.get("resource_type", "")),
        status=f"{verb}_{state}",
        reason=str(message.get("@message", "")) if state == "FAILED" else None,
        physical_id=str(id_value) if id_value not in {None, ""} else None,
    )


def parse_diagnostic(message: Mapping[str, Any]) -> Diagnostic | None:
    """The diagnostic of a `diagnostic` line; None for other lines."""
    body = message.get("diagnostic")
    if message.get("type") != "diagnostic" or not isinstance(body, dict):
        return None
    address = body.get("address")
    return Diagnostic(
        severity=str(body.get("severity") or message.get("@level") or "error"),
        summary=str(body.get("summary", "")),
        detail=str(body.get("detail", "")),
        address=str(address) if address else None,
        where=_where(body),
    )


def _where(body: Mapping[str, Any]) -> str | None:
    """A diagnostic's place as Terraform prints it: `main.tf line 8, in resource "a" "b"`."""
    where_range = body.get("range")
    snippet = body.get("snippet")
    if not isinstance(where_range, dict) or not where_range.get("filename"):
        return None
    start = where_range.get("start")
    line = start.get("line") if isinstance(start, dict) else None
    place = str(where_range["filename"]) + (f" line {line}" if line else "")
    context = snippet.get("context") if isinstance(snippet, dict) else None
    return f"{place}, in {context}" if context else place


def resource_type_of(address: str) -> str:
    """The resource type in an address: `module.a.aws_s3_bucket.b["x"]` -> `aws_s3_bucket`."""
    parts = [part for part in re.sub(r"\[[^\]]*\]", "", address).split(".") if part]
    while len(parts) >= 2 and parts[0] == "module":  # noqa: PLR2004 - "module" and its name
        parts = parts[2:]
    if parts and parts[0] == "data":
        parts = parts[1:]
    return parts[0] if len(parts) >= 2 else ""  # noqa: PLR2004 - type and name


def change_of(resource_change: Mapping[str, Any]) -> Change | None:
    """One `resource_changes[]` item as a `Change`; None when it changes nothing."""
    change = resource_change.get("change")
    actions = tuple(change.get("actions", ())) if isinstance(change, dict) else ()
    address = str(resource_change.get("address", ""))
    resource_type = str(resource_change.get("type", ""))
    if actions == ("create",):
        return Change("Add", address, resource_type, None)
    if actions == ("update",):
        return Change("Modify", address, resource_type, "False")
    if actions == ("delete",):
        return Change("Remove", address, resource_type, None)
    if set(actions) == {"create", "delete"}:
        return Change("Modify", address, resource_type, "True")
    return None  # no-op, read, forget


def plan_from_show(document: Mapping[str, Any], summary: str | None = None) -> Plan:
    """The `Plan` of `terraform show -json PLANFILE`; `summary` is the plan's summary line."""
    changes = tuple(
        change
        for item in document.get("resource_changes") or ()
        if isinstance(item, dict) and (change := change_of(item)) is not None
    )
    outputs_change = any(
        tuple(item.get("actions", ())) not in {("no-op",), ()}
        for item in (document.get("output_changes") or {}).values()
        if isinstance(item, dict)
    )
    has_changes = bool(changes) or outputs_change
    if not has_changes:
        summary = "No changes."
    return Plan(changes=changes, has_changes=has_changes, summary=summary or "")


def parse_lock_info(text: str) -> LockInfo | None:
    """The lock of the first `Lock Info:` block in `text`; None when there is none."""
    _, found, rest = text.partition("Lock Info:")
    if not found:
        return None
    fields: dict[str, str] = {}
    for line in rest.splitlines()[1:]:
        key, colon, value = line.strip().partition(":")
        if not colon or key not in _LOCK_FIELDS:
            break
        fields[key] = value.strip()
    if not fields.get("ID"):
        return None
    return LockInfo(
        lock_id=fields["ID"],
        path=fields.get("Path", ""),
        who=fields.get("Who", ""),
        created=fields.get("Created", ""),
        operation=fields.get("Operation", ""),
    )


def unlock_hint(workdir: Path, lock: LockInfo | None) -> str:
    lock_id = lock.lock_id if lock else "LOCK_ID"
    return f"if no other run is using it: terraform force-unlock {lock_id} in {workdir}"


def locked_report(command: str, workdir: Path, text: str) -> tuple[str, LockInfo | None]:
    """The message of a command refused because another run holds the state lock."""
    lock = parse_lock_info(text[text.find(LOCK_ACQUIRE) :])
    where = f"terraform {command} in {workdir}: the state is locked by"
    if lock is None:
        return f"{where} another run", None
    since = lock.created or "an unknown time"
    return f"{where} {lock.who or 'another run'} since {since} (lock {lock.lock_id})", lock


def stopped_report(
    command: str, workdir: Path, text: str, *, killed: bool
) -> tuple[str, LockInfo | None]:
    """The message of a command that was stopped, saying whether its state lock was released."""
    stopped = f"terraform {command} was stopped in {workdir}"
    if killed:
        return (
            f"{stopped}: it did not stop in time and was killed; its state lock may be held",
            None,
        )
    if LOCK_RELEASE not in text:
        return f"{stopped}; Terraform released its state lock", None
    lock = parse_lock_info(text[text.find(LOCK_RELEASE) :]) or parse_lock_info(text)
    holder = f" (lock {lock.lock_id}, held by {lock.who or 'unknown'})" if lock else ""
    return f"{stopped}, and Terraform could not release its state lock{holder}", lock


def is_provider_failure(text: str) -> bool:
    """Whether `terraform init` output says a provider could not be installed."""
    lowered = text.lower()
    return any(marker in lowered for marker in _PROVIDER_FAILURES)


def failed_provider(text: str) -> str | None:
    """The provider (`hashicorp/aws`) named in a provider installation failure, if any."""
    match = _PROVIDER_NAME.search(text)
    return match.group(1) if match else None


def first_error_lines(text: str, limit: int = 6) -> list[str]:
    """Up to `limit` non-blank lines from the first `Error:` on (all text when none)."""
    lines = [line.strip(" │╷╵\t") for line in text.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("Error")), 0)
    return [line for line in lines[start:] if line][:limit]


def output_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """`terraform output -json` as `{name: value}` (sensitive values included)."""
    return {
        name: item.get("value") if isinstance(item, dict) else item
        for name, item in document.items()
    }


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list | tuple):
        return "list"
    if isinstance(value, dict):
        return "map"
    return type(value).__name__


def applied_outputs(message: Mapping[str, Any]) -> dict[str, Any] | None:
    """The outputs of an apply's `outputs` message, `{name: value}`; None when one of them is
    sensitive (the message leaves its value out: `terraform output -json` gives it)."""
    outputs = message.get("outputs")
    if not isinstance(outputs, Mapping) or any(
        not isinstance(item, Mapping) or "value" not in item for item in outputs.values()
    ):
        return None
    return output_values(outputs)


def string_outputs(raw: Mapping[str, Any]) -> dict[str, str]:
    """Outputs as the strings Proton keeps: strings as they are, numbers and booleans as JSON
    text (`80`, `true`). A list, map or null is refused, naming the output."""
    result: dict[str, str] = {}
    for name, value in raw.items():
        if isinstance(value, str):
            result[name] = value
        elif isinstance(value, bool | int | float):
            result[name] = json.dumps(value)
        else:
            raise UsageError(
                f"Terraform output {name} is a {_kind(value)}, not a string",
                hint='Proton outputs are strings: wrap it, e.g. join(",", ...) or jsonencode(...)',
            )
    return result


@dataclass
class Outcome:
    """What one command said: its exit code, stdout's lines, the JSON ones, stderr."""

    returncode: int
    lines: list[str] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    stderr: str = ""
    on_message: Callable[[dict[str, Any]], None] | None = None  # each JSON line, as it comes

    def text(self) -> str:
        """Everything it said, as text: human messages, plain lines, diagnostics, stderr."""
        parts = [str(m.get("@message", "")) for m in self.messages]
        parts += [d.summary + "\n" + d.detail for d in self.diagnostics()]
        parts += [line for line in self.lines if parse_line(line) is None]
        return "\n".join([*parts, self.stderr])

    def diagnostics(self, severity: str = "error") -> list[Diagnostic]:
        found = (parse_diagnostic(message) for message in self.messages)
        return [d for d in found if d is not None and d.severity == severity]


def failed_resources(
    diagnostics: list[Diagnostic],
    errored: list[StackEvent],
    started: Mapping[str, StackEvent],
) -> tuple[StackEvent, ...]:
    """The resources that failed: each errored one, with its diagnostics as its reason, and
    each other resource a diagnostic names."""
    reasons: dict[str, list[str]] = {}
    for diagnostic in diagnostics:
        if diagnostic.address:
            reasons.setdefault(diagnostic.address, []).append(diagnostic.text())
    failures = [
        StackEvent(
            event.event_id,
            event.timestamp,
            event.logical_id,
            event.resource_type,
            event.status,
            "; ".join(reasons.get(event.logical_id, [])) or event.reason,
            event.physical_id,
        )
        for event in errored
    ]
    told = {event.logical_id for event in errored}
    for address, texts in reasons.items():
        if address in told:
            continue
        first = started.get(address)
        verb = first.status.split("_", 1)[0] if first else "UPDATE"
        failures.append(
            StackEvent(
                event_id=first.event_id if first else "",
                timestamp=first.timestamp if first else datetime.now(UTC),
                logical_id=address,
                resource_type=first.resource_type if first else resource_type_of(address),
                status=f"{verb}_FAILED",
                reason="; ".join(texts),
            )
        )
    return tuple(failures)


def detail_line(event: StackEvent) -> str:
    return f"{event.logical_id} ({event.resource_type}): {event.reason}"


def failure_report(
    command: str,
    outcome: Outcome,
    errored: list[StackEvent] | None = None,
    started: Mapping[str, StackEvent] | None = None,
) -> tuple[str, tuple[StackEvent, ...], list[str]]:
    """What a failed command says: a message, the resources that failed, one line per error."""
    diagnostics = outcome.diagnostics()
    failures = failed_resources(diagnostics, errored or [], started or {})
    details = [detail_line(event) for event in failures]
    details += [d.located() for d in diagnostics if d.address is None]
    if failures:
        return f"terraform {command} failed: {len(failures)} resource(s) failed", failures, details
    if diagnostics:
        return f"terraform {command} failed: {diagnostics[0].summary}", failures, details
    lines = first_error_lines(outcome.text()) or [f"exit code {outcome.returncode}"]
    return f"terraform {command} failed: {'; '.join(lines)}", failures, details
