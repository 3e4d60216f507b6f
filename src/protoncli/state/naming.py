"""Stack names and tags: how a stack says which workspace, kind and names it belongs to.

Stack names read `pcli-<workspace>-<kind>-<name>[-<name>...]`. CloudFormation allows only
`[A-Za-z][-A-Za-z0-9]*` and 128 characters, while Proton names may hold `_` and be long, and a
`-` inside a name makes the joined form ambiguous ("a-b" + "c" and "a" + "b-c"). Whenever the
readable form alone could be shared by two different inputs (a character replaced, the name cut,
a `-` in any part but the last, a kind word inside the workspace, an unusual number of names, a
name that already ends like a hash), 8 hex digits of a SHA-256 of the exact inputs are appended,
so two different inputs never get the same name.
"""

from __future__ import annotations

import hashlib
import json
import re

MAX_STACK_NAME = 128
HASH_LENGTH = 8
KIND_TAGS = {
    "env": "environment",
    "svc": "service-instance",
    "pipeline": "pipeline",
    "comp": "component",
}
KIND_WORDS = {long: short for short, long in KIND_TAGS.items()} | {s: s for s in KIND_TAGS}
# How many names each kind takes in its plain form; any other count always gets the hash.
NAME_COUNTS = {"env": 1, "svc": 2, "pipeline": 1, "comp": 1}
_PLAIN_PART = re.compile(r"[A-Za-z0-9]+")
_PLAIN_LAST = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9-]")
_LOOKS_HASHED = re.compile(rf"-[0-9a-f]{{{HASH_LENGTH}}}$")


def stack_name(workspace: str, kind: str, *names: str) -> str:
    """The stack name for one deployable thing; deterministic, unique per input, valid.

    `kind` is "env", "svc", "pipeline" or "comp" (or the tag words "environment",
    "service-instance", "pipeline", "component"). The names are the environment (env), the
    service and instance (svc), the service (pipeline) or the component (comp).
    """
    short_kind = kind_word(kind)
    parts = [workspace, short_kind, *names]
    readable = "pcli-" + "-".join(_NOT_ALLOWED.sub("-", part) for part in parts)
    if len(names) == NAME_COUNTS[short_kind] and _is_unambiguous(workspace, names, readable):
        return readable
    digest = hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()[:HASH_LENGTH]
    head = readable[: MAX_STACK_NAME - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}"


def kind_word(kind: str) -> str:
    """The short kind used in stack names ("env", "svc", "pipeline", "comp")."""
    try:
        return KIND_WORDS[kind]
    except KeyError:
        raise ValueError(f"unknown stack kind {kind!r}") from None


def _is_unambiguous(workspace: str, names: tuple[str, ...], readable: str) -> bool:
    if len(readable) > MAX_STACK_NAME or _LOOKS_HASHED.search(readable):
        return False
    workspace_words = workspace.split("-")
    if not all(_PLAIN_PART.fullmatch(word) for word in workspace_words):
        return False
    if any(word in KIND_WORDS for word in workspace_words):
        return False
    *leading, last = names
    return all(_PLAIN_PART.fullmatch(name) for name in leading) and bool(
        _PLAIN_LAST.fullmatch(last)
    )
