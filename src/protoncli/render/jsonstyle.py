"""JSON laid out the way Proton's generated files are.

Objects put one member per line, indented two spaces per level, with ` : ` between name and
value; arrays stay on the line they open (`[ {`, `}, {`, `} ]`); empty ones read `{ }` and `[ ]`;
no final newline.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

INDENT = "  "


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    return json.dumps(str(value), ensure_ascii=False)


def _write(value: Any, level: int) -> str:
    if isinstance(value, Mapping):
        if not value:
            return "{ }"
        pad = INDENT * (level + 1)
        members = [
            f"\n{pad}{_scalar(str(key))} : {_write(item, level + 1)}" for key, item in value.items()
        ]
        return "{" + ",".join(members) + "\n" + INDENT * level + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[ ]"
        return "[ " + ", ".join(_write(item, level) for item in value) + " ]"
    return _scalar(value)


def proton_json(value: Any) -> str:
    """`value` as JSON text in Proton's layout."""
    return _write(value, 0)
