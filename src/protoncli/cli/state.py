"""Options shared by every command, kept on the Typer context."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


@dataclass
class AppState:
    debug: bool = False
    registry: Path | None = None
    no_input: bool = False
    workspace: Path | None = None
    sandbox: bool = False
    region: str | None = None
    profile: str | None = None
    quiet: bool = False
    output: str | None = None  # "text" | "json"; None: not given (settings decide)
    color: str | None = None  # "auto" | "always" | "never"; None: not given


def app_state(ctx: Any) -> AppState:
    root = ctx.find_root() if ctx is not None else None
    obj = getattr(root, "obj", None)
    if isinstance(obj, AppState):
        return obj
    state = AppState(debug=env_flag("PCLI_DEBUG"))
    if root is not None:
        root.obj = state
    return state


def debug_enabled(ctx: Any) -> bool:
    return env_flag("PCLI_DEBUG") or app_state(ctx).debug


def interactive(ctx: Any) -> bool:
    """Prompts are allowed: stdin is a terminal, `CI` is not set and --no-input was not given."""
    import sys

    if app_state(ctx).no_input or os.environ.get("CI"):
        return False
    return sys.stdin.isatty()
