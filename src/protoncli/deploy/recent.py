"""The last deployments of many stacks at once, for a fleet report (`pcli status --html`).

`records.read_history` reads every record of one stack; a fleet report wants the newest few of
every stack. Reads are bulk: one paginated ListObjectsV2 of the records folder per account and
region (`records/<stack>/<start time>-<id>.json`: the keys sort by start time within a stack's
folder), then the newest `limit` records of each stack read (GetObject), at most the project's
concurrency at once. A place whose records cannot be listed, or a record that cannot be read,
leaves its stacks with an error message; every other stack is still read.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protoncli.deploy.records import PREFIX, DeploymentRecord, HistoryTarget
from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project

LIMIT = 5  # records shown per stack

Place = tuple[str, str | None]  # region, pcli.yaml account name (None: the caller's own)


@dataclass(frozen=True)
class Recent:
    """The newest records of one target's stack (newest first), or why they could not be read
    (`error`; the records read before the error, if any, are kept)."""

    target: HistoryTarget
    records: tuple[DeploymentRecord, ...] = ()
    error: str | None = None


def read_recent(
    project: Project, targets: Sequence[HistoryTarget], limit: int = LIMIT
) -> list[Recent]:
    """The newest `limit` records of each target's stack, in the order of `targets`."""
    places = sorted({(t.region, t.account) for t in targets}, key=lambda p: (p[0], p[1] or ""))
    workers = max(1, project.concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pcli-recent") as pool:
        listed = dict(zip(places, pool.map(lambda p: _listing(project, p), places), strict=True))
        jobs: list[tuple[int, Place, str]] = []
        for index, target in enumerate(targets):
            listing = listed[(target.region, target.account)]
            if isinstance(listing, dict):
                keys = listing.get(target.stack_name, [])[-limit:]
                jobs += [(index, (target.region, target.account), key) for key in keys]
        read = list(pool.map(lambda job: _read(project, job[1], job[2]), jobs))
    found: dict[int, list[DeploymentRecord]] = {}
    failures: dict[int, str] = {}
    for (index, _, _), answer in zip(jobs, read, strict=True):
        if isinstance(answer, str):
            failures.setdefault(index, answer)
        else:
            found.setdefault(index, []).append(answer)
    recent = []
    for index, target in enumerate(targets):
        listing = listed[(target.region, target.account)]
        records = sorted(found.get(index, []), key=lambda r: (r.started, r.key), reverse=True)
        error = listing if isinstance(listing, str) else failures.get(index)
        recent.append(Recent(target, tuple(records), error))
    return recent


def _listing(project: Project, place: Place) -> dict[str, list[str]] | str:
    """The record keys of each stack in the place (oldest first), or why they cannot be
    listed."""
    region, account = place
    try:
        keys = project.artifacts(region, account).keys_if_any(f"{PREFIX}/")
    except (PcliError, OSError) as error:
        return _message(error)
    by_stack: dict[str, list[str]] = {}
    for key in keys:
        parts = key.split("/")
        if len(parts) == 3 and parts[2].endswith(".json"):  # noqa: PLR2004 - records/STACK/FILE
            by_stack.setdefault(parts[1], []).append(key)
    return by_stack


def _read(project: Project, place: Place, key: str) -> DeploymentRecord | str:
    region, account = place
    try:
        document = project.artifacts(region, account).get_record(key)
        return DeploymentRecord.from_document(key, document)
    except (PcliError, OSError) as error:
        return _message(error)


def _message(error: Exception) -> str:
    return error.message if isinstance(error, PcliError) else str(error)
