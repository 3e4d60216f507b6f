"""A deterministic share of the fleet, so N CI jobs can reconcile a large fleet in parallel.

`pcli apply --shard K/N` keeps the items whose shard key hashes to share K of N. Every job of a
CI matrix computes the same assignment from the same workspace and stacks, so each item is
handled by exactly one job, with no coordination between the jobs.

Decisions:
- An environment, its service instances and their components share one key, the environment's
  name, so they land in one share: apply deploys an environment before what renders with its
  outputs, and that order only holds inside one job.
- A pipeline has no environment (its service's instances may run in many), so it gets a key of
  its own, `pipeline:<service>`, and pipelines spread over the shares like environments do. A
  pipeline renders with its instances' outputs; when those change in the same run in another
  share, the pipeline is reported pending again (its context changed) and the next run, for
  example the next scheduled one, brings it up to date.
- An instance or component whose environment is not known (a stack whose tags lost it) goes
  with its service (`service:<service>`), or a component without a service with its own name
  (`component:<name>`). Names cannot contain ':' (Proton's naming rule), so these keys never
  equal an environment's name.
- The hash is SHA-256 of the key (stable across Python runs and machines, unlike `hash()`),
  read as a big-endian integer, modulo N.
"""

from __future__ import annotations

import hashlib
import re

from protoncli.errors import UsageError
from protoncli.state.identity import COMPONENT, PIPELINE, SERVICE_INSTANCE, Identity

MAX_SHARDS = 1000
_SHARD_RE = re.compile(r"(0|[1-9][0-9]*)/(0|[1-9][0-9]*)", re.ASCII)
_SHARD_HINT = (
    f"give --shard K/N: job K of N (1 <= K <= N <= {MAX_SHARDS}), e.g. 1/4, 2/4, 3/4 and 4/4 "
    "in four jobs"
)


def parse_shard(text: str) -> tuple[int, int]:
    """Parse "K/N" into `(K, N)`; a `UsageError` for anything else."""
    match = _SHARD_RE.fullmatch(text)
    if match is None:
        raise UsageError(
            f"--shard '{text}': expected K/N, two whole numbers such as 2/4", hint=_SHARD_HINT
        )
    index, count = int(match[1]), int(match[2])
    if not 1 <= count <= MAX_SHARDS:
        raise UsageError(
            f"--shard '{text}': N must be between 1 and {MAX_SHARDS}", hint=_SHARD_HINT
        )
    if not 1 <= index <= count:
        raise UsageError(f"--shard '{text}': K must be between 1 and N ({count})", hint=_SHARD_HINT)
    return index, count


def shard_key(identity: Identity) -> str:
    """What decides an item's share: its environment, or a key of its own (see the decisions)."""
    if identity.kind == PIPELINE:
        return f"pipeline:{identity.service}"
    if identity.environment:
        return identity.environment
    if identity.kind in {SERVICE_INSTANCE, COMPONENT} and identity.service:
        return f"service:{identity.service}"
    if identity.kind == COMPONENT:
        return f"component:{identity.component}"
    return f"{identity.kind}:{identity.name}"  # not reached: every environment has a name


def shard_of(identity: Identity, count: int) -> int:
    """The share (1..count) the item belongs to."""
    digest = hashlib.sha256(shard_key(identity).encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % count + 1


def in_shard(identity: Identity, shard: tuple[int, int]) -> bool:
    """Whether the item belongs to `shard`, a `(K, N)` from `parse_shard`."""
    index, count = shard
    return shard_of(identity, count) == index
