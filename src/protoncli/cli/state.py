"""Options shared by every command, kept on the Typer context, and the settings they resolve to."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.blueprints.registry import Registry
    from protoncli.config import Settings

_TRUE = {"1", "true", "yes", "on"}


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


class AppState:
    """The root options a user typed, and every setting resolved from them (`settings`).

    Settings are resolved on first use (the root command does it before any sub-command except
    `pcli config`, so a bad value fails at once) and then read by every command, so all of them
    see one view: flags > PCLI_* variables > pcli.yaml > user config > defaults.
    """

    def __init__(
        self, flags: Mapping[str, Any] | None = None, *, workspace: Path | None = None
    ) -> None:
        self.flags: dict[str, Any] = {k: v for k, v in (flags or {}).items() if v is not None}
        self.workspace = workspace  # --workspace as typed; None: PCLI_WORKSPACE, then a search
        self._settings: Settings | None = None

    def give_flag(self, name: str, value: Any) -> None:
        """A root setting given as a command's own flag (`pcli env create --no-input`)."""
        self.flags[name] = value
        self._settings = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from protoncli.config import resolve_settings

            self._settings = resolve_settings(self.flags, workspace=self.workspace)
        return self._settings

    @property
    def debug(self) -> bool:
        """Never raises: the error handler asks it while reporting a bad setting."""
        try:
            return bool(self.settings.value("debug"))
        except PcliError:
            return bool(self.flags.get("debug")) or env_flag("PCLI_DEBUG")

    @property
    def quiet(self) -> bool:
        return bool(self.settings.value("quiet"))

    @property
    def output(self) -> str:
        """Either `text` or `json`."""
        return str(self.settings.value("output"))

    @property
    def color(self) -> str:
        """One of `auto`, `always`, `never`."""
        return str(self.settings.value("color"))

    @property
    def no_input(self) -> bool:
        return bool(self.settings.value("no_input"))

    @property
    def sandbox(self) -> bool:
        return bool(self.settings.value("sandbox"))

    @property
    def registry(self) -> Path | str:
        """The registry folder or team registry URL (flag, variable, pcli.yaml, user config or
        the default)."""
        return self.settings.registry

    def open_registry(self, *, seeded: bool = True) -> Registry:
        """The registry of the settings; with `seeded`, a folder registry gets the starter
        blueprints first (what every command that reads it wants; publish and sync only add
        to it). A team registry in S3 is reached with these settings' AWS profile, region and
        timeouts, and the sandbox with --sandbox."""
        from protoncli.blueprints.location import Access, is_remote
        from protoncli.blueprints.starters import open_registry

        location = self.registry
        access = None
        if isinstance(location, str) and is_remote(location):
            endpoint = None
            if self.sandbox:
                from protoncli.sandbox.manager import require_running

                endpoint = require_running()
            connect, read = self.timeouts
            region = self.settings.value("region")
            access = Access(self.profile, region, endpoint, connect, read)
        return open_registry(location, access=access, seeded=seeded)

    @property
    def region(self) -> str | None:
        """A region that wins over every spec (--region or PCLI_REGION), else None."""
        return self.settings.region_override()

    @property
    def timeouts(self) -> tuple[float, float]:
        """Seconds to wait for a connection to AWS and for an answer (each attempt)."""
        return (
            float(self.settings.value("connect_timeout")),
            float(self.settings.value("read_timeout")),
        )

    @property
    def profile(self) -> str | None:
        """The AWS profile pcli sets; None leaves AWS_PROFILE and botocore's rules in charge."""
        value = self.settings.value("profile")
        return None if value is None else str(value)


def app_state(ctx: Any) -> AppState:
    root = ctx.find_root() if ctx is not None else None
    obj = getattr(root, "obj", None)
    if isinstance(obj, AppState):
        return obj
    state = AppState()
    if root is not None:
        root.obj = state
    return state


def debug_enabled(ctx: Any) -> bool:
    return env_flag("PCLI_DEBUG") or app_state(ctx).debug


def interactive(ctx: Any) -> bool:
    """Prompts are allowed: stdin is a terminal, `CI` is not set and --no-input was not given."""
    import sys

    if running_in_ci() or app_state(ctx).no_input:
        return False
    return sys.stdin.isatty()


def running_in_ci() -> bool:
    """`CI` is set to anything but an empty or false value (false, 0, no, off)."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}
