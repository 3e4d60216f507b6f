"""Settings that several commands share, with their precedence.

Flags > `PCLI_*` environment variables > user config file (platformdirs, or `PCLI_CONFIG`) >
defaults. (The CLI passes flags in; environment variables are read here.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from protoncli import paths
from protoncli.errors import UsageError
from protoncli.yamlio import parse_yaml, read_text


def load_user_config() -> dict[str, Any]:
    path = paths.user_config_file()
    if not path.is_file():
        return {}
    data = parse_yaml(read_text(path, UsageError), str(path), UsageError)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of settings, got {type(data).__name__}")
    return data


def registry_path(flag: Path | None = None) -> Path:
    """The registry directory: --registry > PCLI_REGISTRY > user config `registry` > default."""
    if flag is not None:
        return flag.expanduser()
    env = os.environ.get("PCLI_REGISTRY")
    if env:
        return Path(env).expanduser()
    configured = load_user_config().get("registry")
    if configured:
        return Path(str(configured)).expanduser()
    return paths.default_registry_dir()
