"""Short digests that say, without rendering, whether an item's stack is what it should be.

A deployment tags its stack with three digests besides the version (see `identity`):

- `pcli:inputs-digest`: what the workspace declares for the item (the spec's inputs as written,
  secret inputs as their references; a component's files too);
- `pcli:bundle-digest`: the content of the blueprint version (the registry's digest), so an
  edited version shows as a change although its number did not move;
- `pcli:context-digest`: the outputs of other stacks the item renders with (its environment's,
  its component's, for a pipeline its instances').

The state model computes the same digests from the spec files, the registry and the outputs of
one bulk read, so `status` and `plan` know what changed and why with no rendering at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

DIGEST_LENGTH = 16


def digest_of(value: Any) -> str:
    """A short, stable digest of a JSON-like value (mapping keys sorted)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def bundle_digest(registry_digest: str) -> str:
    """The registry's digest of a version (`sha256:...` or bare hex), shortened for a tag."""
    return registry_digest.rpartition(":")[2][:DIGEST_LENGTH]


def environment_inputs_digest(inputs: Mapping[str, Any]) -> str:
    return digest_of({"inputs": inputs})


def instance_inputs_digest(inputs: Mapping[str, Any], environment: str) -> str:
    """An instance renders with its own inputs, in its environment."""
    return digest_of({"inputs": inputs, "environment": environment})


def pipeline_inputs_digest(
    pipeline: Mapping[str, Any] | None,
    instances: Mapping[str, tuple[str, Mapping[str, Any]]],
    source: Mapping[str, str] | None = None,
) -> str:
    """A pipeline renders with its inputs, every instance's (name -> environment, inputs) and
    the service's source repository (its spec header's fields that are set: a pipeline
    deployed before services had a source keeps its digest)."""
    document: dict[str, Any] = {
        "pipeline": pipeline,
        "instances": {name: [env, dict(values)] for name, (env, values) in instances.items()},
    }
    if source:
        document["source"] = dict(source)
    return digest_of(document)


def component_inputs_digest(
    files: Mapping[str, bytes], instance_inputs: Mapping[str, Any] | None
) -> str:
    """A component renders from its own files with its service instance's inputs."""
    file_digests = {path: hashlib.sha256(data).hexdigest() for path, data in files.items()}
    return digest_of({"files": file_digests, "instance": instance_inputs})


CONTEXT_PARTS = {"e": "environment outputs", "c": "component outputs", "i": "instance outputs"}


def context_digest(
    environments: Mapping[str, Mapping[str, str] | None],
    components: Mapping[str, Mapping[str, str] | None] | None = None,
    instances: Mapping[str, Mapping[str, str] | None] | None = None,
) -> str:
    """The outputs of other stacks an item renders with (by environment, by instance name), as
    `e=<digest> c=<digest> i=<digest>`: one part per source, so a change can be named."""
    parts = {"e": environments, "c": components, "i": instances}
    return " ".join(
        f"{key}={digest_of(value)[:8]}" for key, value in parts.items() if value is not None
    )


def changed_context(deployed: str, declared: str) -> list[str]:
    """What changed between two context digests, in words ("environment outputs", ...)."""
    old = dict(part.partition("=")[::2] for part in deployed.split())
    new = dict(part.partition("=")[::2] for part in declared.split())
    return [CONTEXT_PARTS.get(key, key) for key in new if old.get(key) != new[key]]
