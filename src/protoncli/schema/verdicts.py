"""Remembered verdicts: which (schema, value) pairs jsonschema already found valid.

Validating is a pure function of the schema, the value and pcli's version, and importing
jsonschema costs a deploy more than the rest of its start-up work together. So a value that
passed once is not checked again: each pass leaves an empty file named by the SHA-256 of
pcli's version, the version of its own rules (`RULES`), the schema and the value (canonical
JSON) under `<cache dir>/valid-inputs/`.

Only passes are remembered (a failure is always checked afresh, so its message is exact).
Nothing is remembered for a value that holds a secret input, or that JSON cannot represent
exactly (YAML dates, NaN): those are always checked. The cache is best effort: a folder that
cannot be written to only means the check runs every time. `PCLI_NO_CACHE=1` turns it off.

The folder is listed once per process (one system call, where a look-up per value made one
each: a fleet's deploy checks hundreds of values on the thread that renders while its workers
deploy, and every system call there gave the interpreter away to them). A verdict another
process leaves after the listing is only a check made again.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from protoncli import __version__, paths

FOLDER = "valid-inputs"
# Raised with every change of what a check finds beyond jsonschema (the address-range rules of
# `schema.cidr`), so that a pass remembered before the change is not taken for a pass now.
RULES = 2


def verdict_key(schema: Any, value: Any) -> str | None:
    """The cache key of one check, or None when this check must not be remembered."""
    if os.environ.get("PCLI_NO_CACHE"):
        return None
    try:
        text = json.dumps(
            [__version__, RULES, schema, value],
            sort_keys=True,
            allow_nan=False,
            separators=(",", ":"),
        )
    except (TypeError, ValueError):
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_listed: dict[Path, set[str]] = {}  # folder -> the verdicts in it, listed once
_lock = threading.Lock()


def _remembered(folder: Path) -> set[str]:
    with _lock:
        names = _listed.get(folder)
        if names is None:
            try:
                names = {path.name for path in folder.iterdir()}
            except OSError:  # no folder yet (or none we may read): nothing remembered
                names = set()
            _listed[folder] = names
        return names


def known_valid(key: str | None) -> bool:
    return key is not None and key in _remembered(paths.cache_dir() / FOLDER)


def remember_valid(key: str | None) -> None:
    if key is None:
        return
    folder = paths.cache_dir() / FOLDER
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / key).touch()
    except OSError:
        return  # a cache we cannot write is a cache we do without
    names = _remembered(folder)
    with _lock:
        names.add(key)
