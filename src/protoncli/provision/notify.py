"""`pcli notify`: how a deployment that pcli did not run itself ended (Terraform applied by a
team's automation after a pull request), recorded in the item's state in AWS, as Proton's
`NotifyResourceDeploymentStatusChange` recorded it.

Outputs come as `terraform output -json` prints them (`{"name": {"value": ...}}`), as Proton's
list (`[{"key": ..., "valueString": ...}]`), or as a plain object (`{"name": "value"}`). Values
are strings, as Proton's are: numbers and booleans are taken as their JSON text, anything else
(a list, a map, null) is refused, naming the output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.errors import NotFoundError, PcliError, UsageError
from protoncli.provision.state import FAILED, IN_PROGRESS, SUCCEEDED
from protoncli.provision.store import (
    delete_folder,
    delete_state,
    item_of_deployment,
    read_state,
    write_state,
)

if TYPE_CHECKING:
    from protoncli.aws.s3 import ArtifactStore

MAX_VALUE = 1024  # Proton's Output.valueString length
_WRAP_HINT = 'outputs are strings: wrap it in the template, e.g. join(",", ...) or jsonencode(...)'


@dataclass(frozen=True)
class NotifyResult:
    deployment_id: str
    item: str  # the item's (stack) name
    status: str
    outputs: Mapping[str, str] = field(default_factory=dict)
    deleted: bool = False  # the deployment deleted the item: its state is gone
    description: str = ""  # the item in words (environment dev)


def read_outputs(given: str) -> dict[str, str]:
    """The outputs an `--outputs FILE|-|JSON` flag gives: a file (a file:// prefix is taken),
    standard input for `-`, or the JSON itself (as AWS's sample workflow passes it to
    `aws proton notify-resource-deployment-status-change --outputs "$outputs"`)."""
    if given.lstrip().startswith(("[", "{")):
        return parse_outputs(given, "--outputs")
    if given == "-":
        return parse_outputs(sys.stdin.read(), "standard input")
    path = Path(given.removeprefix("file://"))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"--outputs {given}: {error.strerror or error}") from None
    return parse_outputs(text, str(path))


def parse_outputs(text: str, source: str) -> dict[str, str]:
    """The outputs in `text` (any of the three forms), as strings."""
    try:
        document = json.loads(text) if text.strip() else {}
    except ValueError as error:
        raise UsageError(f"{source}: not valid JSON ({error})") from None
    if isinstance(document, list):
        return _from_list(document, source)
    if not isinstance(document, dict):
        raise UsageError(
            f"{source}: expected a JSON object (terraform output -json) or a list of "
            '{"key": ..., "valueString": ...}'
        )
    values = {}
    for key, value in document.items():
        is_terraform = isinstance(value, dict) and "value" in value
        values[str(key)] = _string(key, value["value"] if is_terraform else value, source)
    return values


def _from_list(items: list[Any], source: str) -> dict[str, str]:
    values = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "key" not in item or "valueString" not in item:
            raise UsageError(
                f'{source}: item {index + 1} is not {{"key": ..., "valueString": ...}}'
            )
        key = item["key"]
        if not isinstance(key, str) or not key:
            raise UsageError(f"{source}: item {index + 1}: key must be non-empty text")
        values[key] = _string(key, item["valueString"], source)
    return values


def _string(key: Any, value: Any, source: str) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = json.dumps(value)
    elif isinstance(value, str):
        text = value
    else:
        kind = "null" if value is None else type(value).__name__.replace("dict", "map")
        raise UsageError(f"{source}: output {key!r} is a {kind}, not a string", hint=_WRAP_HINT)
    if len(text) > MAX_VALUE:
        raise UsageError(f"{source}: output {key!r} is {len(text)} characters (at most 1024)")
    return text


def notify(
    store: ArtifactStore,
    deployment_id: str,
    status: str,
    *,
    outputs: Mapping[str, str] | None,
    message: str | None,
    now: datetime | None = None,
) -> NotifyResult:
    """Record how `deployment_id` ended (or that it runs: IN_PROGRESS) in its item's state."""
    now = now or datetime.now(UTC)
    where = f"s3://{store.bucket}"
    name = item_of_deployment(store, deployment_id)
    if name is None:
        raise NotFoundError(
            f"no deployment {deployment_id} is known in {where}",
            hint="check the id (.proton/deployment-metadata.json's deploymentId), the region "
            "(--region), and that the credentials are the environment account's",
        )
    state = read_state(store, name)
    if state is None:
        raise UsageError(
            f"deployment {deployment_id} was notified already: {name} was deleted",
            hint="nothing to record",
        )
    pending = state.pending
    if pending is None or pending.deployment_id != deployment_id or state.status != IN_PROGRESS:
        if state.deployment_id == deployment_id:
            raise UsageError(
                f"deployment {deployment_id} of {name} was notified already: {state.status}",
                hint="a deployment ends once; deploy again for a new one",
            )
        newer = pending.deployment_id if pending is not None else state.deployment_id
        raise UsageError(
            f"deployment {deployment_id} of {name} is no longer the item's deployment "
            f"(now: {newer})",
            hint="notify the deployment its pull request carries now",
        )
    if status == IN_PROGRESS:
        write_state(store, state.started(pending, now))
        return NotifyResult(deployment_id, name, status)
    if status not in (SUCCEEDED, FAILED):
        raise PcliError(f"unknown status {status}")  # the CLI offers the three only
    if status == SUCCEEDED and pending.deleting:
        delete_state(store, name)
        delete_folder(store, name)
        return NotifyResult(deployment_id, name, status, deleted=True)
    ended = state.ended(status, now, outputs=outputs, message=message)
    write_state(store, ended)
    _record_outcome(store, name, deployment_id, ended.stack_status(), now=now, message=message)
    return NotifyResult(deployment_id, name, status, ended.outputs)


def _record_outcome(
    store: ArtifactStore,
    name: str,
    deployment_id: str,
    status: str,
    *,
    now: datetime,
    message: str | None,
) -> None:
    """The deployment's record (`deploy/records.py`, written when the pull request was made)
    says how it ended, so `history` shows it."""
    from protoncli.deploy.records import FAILED as RECORD_FAILED
    from protoncli.deploy.records import OK, PREFIX

    keys = [
        key
        for key in store.keys_if_any(f"{PREFIX}/{name}/")
        if key.endswith(f"-{deployment_id}.json")
    ]
    if not keys:
        return  # a record that could not be written then: the state says it all
    key = keys[-1]
    document = store.record_if_any(key)
    if not isinstance(document, dict):
        return
    document["status"] = status
    document["outcome"] = RECORD_FAILED if status.endswith("_FAILED") else OK
    document["ended"] = now.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if message and status.endswith("_FAILED"):
        document["failures"] = [message]
    store.put_record(key, document)
