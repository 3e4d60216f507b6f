"""The NDJSON view of deployment progress (`--json`): one JSON object per line on stdout, the
first `{"type": "version", ...}`, the last `{"type": "result", ...}`; the schema is in
docs/reference/json-output.md and docs/reference/schemas/.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from types import TracebackType
from typing import Any, Self, TextIO

from protoncli import __version__
from protoncli.cli import output
from protoncli.deploy.model import DeployEvent, InputChanges, PropertyChange, StackEvent
from protoncli.errors import ExitCode, PcliError

# --- NDJSON -------------------------------------------------------------------------------


def _resource_record(event: StackEvent) -> dict[str, Any]:
    return {
        "logical_id": event.logical_id,
        "type": event.resource_type,
        "status": event.status,
        "reason": event.reason,
        "timestamp": event.timestamp.isoformat(),
        "physical_id": event.physical_id,
    }


def detail_record(detail: PropertyChange) -> dict[str, Any]:
    """What changes in one property of a resource (values masked where they show a secret)."""
    return {
        "path": detail.path,
        "attribute": detail.attribute,
        "name": detail.name,
        "change_type": detail.change_type,
        "before": detail.before,
        "after": detail.after,
        "requires_recreation": detail.requires_recreation,
        "evaluation": detail.evaluation,
        "source": detail.source,
        "causing_entity": detail.causing_entity,
    }


def inputs_record(inputs: InputChanges | None) -> dict[str, Any] | None:
    """The inputs changed since the stack's last deployment: `changed` (name: before and
    after), `added` and `removed` (name: value); `known` false, with the `reason`, when the
    inputs as last deployed cannot be told. None when not told (a creation, a component, a
    deploy with --yes)."""
    if inputs is None:
        return None
    return {
        "known": inputs.known,
        "reason": inputs.reason,
        "changed": {i.name: {"before": i.before, "after": i.after} for i in inputs.changed},
        "added": {i.name: i.after for i in inputs.added},
        "removed": {i.name: i.before for i in inputs.removed},
    }


def event_record(event: DeployEvent) -> dict[str, Any]:
    """The JSON object for one event (schema "1"): `type` is the event kind; a resource's own
    fields sit under `resource` so its `type` cannot clash with the event's."""
    record: dict[str, Any] = {
        "type": event.kind,
        "stack": event.stack_name,
        "description": event.description,
    }
    if event.kind == "changes":
        record["changes"] = [
            {
                "action": c.action,
                "logical_id": c.logical_id,
                "type": c.resource_type,
                "replacement": c.replacement,
                "details": [detail_record(d) for d in c.details],
            }
            for c in event.changes
        ]
        record["inputs"] = inputs_record(event.inputs)
    if event.event is not None:
        record["resource"] = _resource_record(event.event)
    if event.status is not None:
        record["status"] = event.status
    if event.kind == "failed":
        record["failures"] = [_resource_record(f) for f in event.failures]
    if event.message is not None:
        record["message"] = event.message
    return record


def _exit_of(exc: BaseException) -> tuple[int, str]:
    """The exit code and message an exception ends the command with."""
    if isinstance(exc, PcliError):
        return int(exc.exit_code), exc.message
    if isinstance(exc, KeyboardInterrupt):
        return int(ExitCode.INTERRUPTED), "interrupted"
    if isinstance(exc, SystemExit):
        return (exc.code if isinstance(exc.code, int) else int(bool(exc.code))), ""
    code = getattr(exc, "exit_code", None)  # typer.Exit (click's Exit)
    if isinstance(code, int):
        return code, ""
    return int(ExitCode.ERROR), str(exc) or type(exc).__name__


class NdjsonView:
    """One JSON object per line: a version line, the events, notes, then a result line.

    When the block ends with an exception and no result was written, the result line says
    `ok: false` with the exception's exit code and message, so a reader always gets one.
    """

    def __init__(self, *, command: str, stream: TextIO | None = None) -> None:
        self._command = command
        self._stream = stream
        self._lock = threading.Lock()
        self._started = False
        self._finished = False

    def __enter__(self) -> Self:
        self._write({})
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and not self._finished:
            code, message = _exit_of(exc)
            error = {"error": message} if message else {}
            self._write_result({"ok": code == 0, "exit_code": code, "resources": [], **error})

    def on_event(self, event: DeployEvent) -> None:
        self._write(event_record(event))

    def paused(self) -> AbstractContextManager[None]:
        """NDJSON never redraws, and questions go to stderr: nothing to hold."""
        return nullcontext()

    def note(self, message: str) -> None:
        self._write({"type": "note", "message": message})

    def result(self, ok: bool, exit_code: int, resources: Sequence[Mapping[str, Any]]) -> None:
        self._write_result(
            {"ok": ok, "exit_code": int(exit_code), "resources": [dict(r) for r in resources]}
        )

    def _write_result(self, fields: dict[str, Any]) -> None:
        self._write({"type": "result", **fields})
        self._finished = True

    def _write(self, record: dict[str, Any]) -> None:
        """Write `record` (after the version line, written once, first)."""
        with self._lock:
            stream = self._stream if self._stream is not None else sys.stdout
            lines = []
            if not self._started:
                self._started = True
                lines.append(self._version_record())
            if record:
                lines.append(record)
            stream.write("".join(json.dumps(line, default=str) + "\n" for line in lines))
            stream.flush()

    def _version_record(self) -> dict[str, Any]:
        return {
            "type": "version",
            "schema": output.JSON_SCHEMA_VERSION,
            "pcli": __version__,
            "command": self._command,
        }
