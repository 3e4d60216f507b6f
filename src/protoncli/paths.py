"""Where pcli keeps its files: platformdirs locations, overridable for tests and shared set-ups.

`PCLI_HOME` puts every pcli directory under one folder (tests use it). Without it, the
platformdirs user directories for "pcli" are used.
"""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "pcli"


def _home() -> Path | None:
    value = os.environ.get("PCLI_HOME")
    return Path(value).expanduser() if value else None


def data_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "config"
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def state_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "state"
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def cache_dir() -> Path:
    home = _home()
    if home is not None:
        return home / "cache"
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def default_registry_dir() -> Path:
    return data_dir() / "registry"


def user_config_file() -> Path:
    override = os.environ.get("PCLI_CONFIG")
    if override:
        return Path(override).expanduser()
    return config_dir() / "config.yaml"
