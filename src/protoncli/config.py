"""pcli's settings: what each one is, where it may be set, and which value wins.

For every setting the first of these that gives a value wins:

1. a flag on the command line (the CLI passes in only the flags a user typed);
2. its environment variable, `PCLI_<KEY>`;
3. the workspace's `pcli.yaml`, for the settings a workspace may set (region, registry, sandbox);
4. the user config file, `config.yaml` in platformdirs' config folder (or `PCLI_CONFIG`);
5. the default.

A bad value is a `UsageError` (exit 2) that says where it came from. Nothing here prints.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from protoncli import paths
from protoncli.errors import UsageError, did_you_mean
from protoncli.yamlio import MarkedDict, line_of, parse_yaml, read_text

BOOL = "bool"
CHOICE = "choice"
TEXT = "text"
PATH = "path"
REGION = "region"
SECONDS = "seconds"

FLAG = "flag"
ENV = "env"
WORKSPACE = "workspace"
USER = "user"
DEFAULT = "default"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
BOOL_WORDS = "true/false, 1/0, yes/no or on/off"


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # BOOL | CHOICE | TEXT | PATH | REGION | SECONDS
    description: str
    default: Any = None
    choices: tuple[str, ...] = ()
    in_workspace: bool = False  # whether pcli.yaml may set it

    @property
    def variable(self) -> str:
        return f"PCLI_{self.key.upper()}"

    @property
    def flag(self) -> str:
        return "--" + self.key.replace("_", "-")

    @property
    def allowed(self) -> str:
        """The values it takes, in words."""
        if self.kind == BOOL:
            return "true|false"
        if self.kind == CHOICE:
            return "|".join(self.choices)
        words = {PATH: "a folder", REGION: "an AWS region name", SECONDS: "a number of seconds"}
        return words.get(self.kind, "a name")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "region",
        REGION,
        "AWS region. A flag or PCLI_REGION wins over every spec; otherwise an environment"
        " spec's region, then pcli.yaml's, then the user config's, then AWS's own.",
        in_workspace=True,
    ),
    Setting(
        "profile",
        TEXT,
        "AWS profile (SSO and role_arn profiles work); unset, AWS_PROFILE and AWS's rules apply.",
    ),
    Setting(
        "registry",
        PATH,
        "Blueprint registry: a folder (default: pcli's user data folder), or a team registry:"
        " s3://BUCKET/PREFIX, or a git repository (git+file:///PATH, git+https://HOST/PATH,"
        " USER@HOST:PATH; #BRANCH optional).",
        in_workspace=True,
    ),
    Setting(
        "sandbox",
        BOOL,
        "Send every AWS call to the local sandbox (pcli sandbox start).",
        default=False,
        in_workspace=True,
    ),
    Setting("output", CHOICE, "Output of every command.", default="text", choices=("text", "json")),
    Setting(
        "color",
        CHOICE,
        "Colour: auto (a terminal without NO_COLOR), always or never.",
        default="auto",
        choices=("auto", "always", "never"),
    ),
    Setting(
        "connect_timeout",
        SECONDS,
        "Seconds to wait for a connection to AWS before trying again (AWS_MAX_ATTEMPTS and"
        " AWS_RETRY_MODE say how often).",
        default=5.0,
    ),
    Setting(
        "read_timeout",
        SECONDS,
        "Seconds to wait for an answer from AWS before trying again; the first attempts and"
        " their retries give up well within a minute by default.",
        default=10.0,
    ),
    Setting("quiet", BOOL, "Print only results, warnings and errors.", default=False),
    Setting("debug", BOOL, "Show tracebacks and debug details.", default=False),
    Setting("no_input", BOOL, "Never prompt; fail when input is missing.", default=False),
)
SETTINGS_BY_KEY: Mapping[str, Setting] = {setting.key: setting for setting in SETTINGS}


def setting_named(key: str) -> Setting:
    """The setting called `key` (`no-input` works for `no_input`); unknown: a usage error."""
    setting = SETTINGS_BY_KEY.get(key.strip().lower().replace("-", "_"))
    if setting is None:
        raise UsageError(
            f"unknown setting {key!r}{did_you_mean(key, SETTINGS_BY_KEY)}",
            hint=f"settings: {', '.join(SETTINGS_BY_KEY)} (see `pcli config list`)",
        )
    return setting


# ---------------------------------------------------------------------------------------------
# Values


def parse_text(setting: Setting, text: str, where: str) -> Any:
    """A value written as text (a variable, `pcli config set`), checked; `where` names it."""
    raw = text.strip()
    if setting.kind == BOOL:
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise UsageError(f"{where}: {text!r} is not true or false", hint=f"use {BOOL_WORDS}")
    if setting.kind == SECONDS:
        return _seconds(raw, where)
    return check_value(setting, raw, where)


MAX_SECONDS = 3600.0


def _seconds(value: Any, where: str) -> float:
    """A positive number of seconds, at most an hour."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if isinstance(value, bool) or not 0 < seconds <= MAX_SECONDS:
        raise UsageError(
            f"{where}: expected a number of seconds (more than 0, at most {MAX_SECONDS:g}), "
            f"not {value!r}",
            hint="for example 5 or 2.5",
        )
    return seconds


def check_value(setting: Setting, value: Any, where: str) -> Any:
    """A value as read from a flag or a YAML file, checked; `where` names its origin."""
    if setting.kind == BOOL:
        if isinstance(value, bool):
            return value
        raise UsageError(f"{where}: {value!r} is not true or false", hint="write true or false")
    if setting.kind == SECONDS:
        return _seconds(value, where)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{where}: expected {setting.allowed}, not {value!r}")
    if setting.key == "registry" and _is_remote_registry(value):
        from protoncli.blueprints.location import parse_remote

        try:
            parse_remote(value)
        except UsageError as error:
            raise UsageError(f"{where}: {error.message}", hint=error.hint) from None
    if setting.kind == CHOICE and value not in setting.choices:
        raise UsageError(
            f"{where}: {value!r} is not one of {', '.join(setting.choices)}"
            f"{did_you_mean(value, setting.choices)}"
        )
    if setting.kind == REGION:
        from protoncli.workspace.model import check_region

        try:
            check_region(value)
        except UsageError as error:
            raise UsageError(
                f"{where}: {value!r} is not an AWS region name", hint=error.hint
            ) from None
    return value


def format_value(value: Any) -> str:
    """A value as `pcli config get` prints it: true/false, a path, text; unset is empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"  # seconds: 5, 2.5
    return str(value)


# ---------------------------------------------------------------------------------------------
# Resolving


@dataclass(frozen=True)
class Resolved:
    """A setting's value and where it came from."""

    setting: Setting
    value: Any
    origin: str  # FLAG | ENV | WORKSPACE | USER | DEFAULT
    source: str  # "flag --region", "env PCLI_REGION", "workspace /w/pcli.yaml", ...


@dataclass(frozen=True)
class Settings:
    """Every setting, resolved once; what every command reads."""

    resolved: Mapping[str, Resolved]
    user_file: Path
    workspace_file: Path | None
    warnings: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Resolved:
        return self.resolved[key]

    def value(self, key: str) -> Any:
        return self.resolved[key].value

    @property
    def registry(self) -> Path | str:
        """The registry folder, or a team registry's URL (blueprints/location.py)."""
        value = self.value("registry")
        return value if isinstance(value, str) else Path(value)

    def region_override(self) -> str | None:
        """The region that wins over every spec: only one given by a flag or PCLI_REGION."""
        region = self.resolved["region"]
        return region.value if region.origin in (FLAG, ENV) else None


def resolve_settings(
    flags: Mapping[str, Any] | None = None,
    *,
    workspace: Path | None = None,
) -> Settings:
    """Resolve every setting. `flags`: the values given on the command line, by key.

    `workspace` is the --workspace folder; without it PCLI_WORKSPACE, then the nearest
    `pcli.yaml` from the current directory up. No workspace found: that layer is skipped.
    """
    given = dict(flags or {})
    unknown = set(given) - set(SETTINGS_BY_KEY)
    if unknown:
        raise ValueError(f"not settings: {sorted(unknown)}")
    workspace_file = find_workspace_file(workspace)
    workspace_layer = _read_workspace_layer(workspace_file) if workspace_file else {}
    user_file = paths.user_config_file()
    user_layer, warnings = _read_user_layer(user_file)
    resolved = {
        setting.key: _resolve_one(setting, given, workspace_layer, user_layer)
        for setting in SETTINGS
    }
    return Settings(resolved, user_file, workspace_file, tuple(warnings))


def _resolve_one(
    setting: Setting,
    flags: Mapping[str, Any],
    workspace_layer: Mapping[str, Resolved],
    user_layer: Mapping[str, Resolved],
) -> Resolved:
    flag = flags.get(setting.key)
    if flag is not None:
        value = check_value(setting, str(flag) if isinstance(flag, Path) else flag, setting.flag)
        return Resolved(setting, _as_path(setting, value), FLAG, f"flag {setting.flag}")
    text = os.environ.get(setting.variable, "")
    if text.strip():
        value = parse_text(setting, text, setting.variable)
        return Resolved(setting, _as_path(setting, value), ENV, f"env {setting.variable}")
    for layer in (workspace_layer, user_layer):
        if setting.key in layer:
            return layer[setting.key]
    return Resolved(setting, _default(setting), DEFAULT, "default")


def _default(setting: Setting) -> Any:
    if setting.key == "registry":
        return paths.default_registry_dir()
    return setting.default


def _as_path(setting: Setting, value: Any, base: Path | None = None) -> Any:
    """A path setting as a `Path`: `~` expanded, relative to `base` (a file's folder) if given."""
    if setting.kind != PATH:
        return value
    if setting.key == "registry" and _is_remote_registry(value):
        return str(value).strip()  # a URL, not a path
    path = Path(value).expanduser()
    if base is not None and not path.is_absolute():
        return Path(os.path.normpath(base / path))
    return path


def _is_remote_registry(value: Any) -> bool:
    from protoncli.blueprints.location import is_remote

    return isinstance(value, str) and is_remote(value)


def find_workspace_file(explicit: Path | None = None, start: Path | None = None) -> Path | None:
    """The `pcli.yaml` commands would use: --workspace > PCLI_WORKSPACE > the nearest one up.

    Returns None where there is none (the commands that need a workspace say so themselves).
    """
    from protoncli.workspace.model import WORKSPACE_ENV, WORKSPACE_FILE

    variable = os.environ.get(WORKSPACE_ENV, "").strip()
    named = explicit if explicit is not None else (Path(variable) if variable else None)
    if named is not None:
        named = named.expanduser()
        candidate = named if named.name == WORKSPACE_FILE else named / WORKSPACE_FILE
        return candidate.resolve() if candidate.is_file() else None
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / WORKSPACE_FILE).is_file():
            return (folder / WORKSPACE_FILE).resolve()
    return None


# ---------------------------------------------------------------------------------------------
# Files


def _read_mapping(path: Path, what: str) -> MarkedDict:
    document = parse_yaml(read_text(path, UsageError), str(path), UsageError, marked=True)
    if document is None:
        return MarkedDict()
    if not isinstance(document, MarkedDict):
        raise UsageError(
            f"{path}: expected a mapping of settings, got {type(document).__name__}",
            hint=f"write one `key: value` per line; see {what}",
        )
    return document


def _read_workspace_layer(path: Path) -> dict[str, Resolved]:
    document = _read_mapping(path, "docs/reference/workspace.md")
    layer: dict[str, Resolved] = {}
    for key, value in document.items():
        setting = SETTINGS_BY_KEY.get(key)
        if setting is None or value is None:
            continue  # name, keys other modules read, and `key:` left empty
        where = f"{path}:{line_of(document, key)}: {key}"
        if not setting.in_workspace:
            raise UsageError(
                f"{where}: a workspace cannot set {key}; it is a personal setting",
                hint=f"remove it from pcli.yaml; set it with `pcli config set {key} VALUE`"
                f" or {setting.variable}",
            )
        checked = check_value(setting, value, where)
        resolved = _as_path(setting, checked, path.parent)
        layer[key] = Resolved(setting, resolved, WORKSPACE, f"workspace {path}")
    return layer


def _read_user_layer(path: Path) -> tuple[dict[str, Resolved], list[str]]:
    if not path.is_file():
        return {}, []
    document = _read_mapping(path, "docs/reference/configuration.md")
    layer: dict[str, Resolved] = {}
    warnings = []
    for key, value in document.items():
        setting = SETTINGS_BY_KEY.get(key)
        where = f"{path}:{line_of(document, key)}"
        if setting is None:
            warnings.append(
                f"{where}: unknown setting {key!r}{did_you_mean(key, SETTINGS_BY_KEY)}; ignored"
            )
            continue
        if value is None:
            continue  # `key:` with no value leaves the setting unset
        checked = check_value(setting, value, f"{where}: {key}")
        resolved = _as_path(setting, checked, path.parent)
        layer[key] = Resolved(setting, resolved, USER, f"user config {path}")
    return layer, warnings


def load_user_config() -> dict[str, Any]:
    """The user config file as plain data (empty when there is none)."""
    path = paths.user_config_file()
    return dict(_read_mapping(path, "docs/reference/configuration.md")) if path.is_file() else {}


def registry_path(flag: Path | str | None = None) -> Path | str:
    """The registry outside a workspace (a folder, or a team registry's URL): --registry >
    PCLI_REGISTRY > user config > default. Commands use `Settings.registry`, which also reads
    the workspace's pcli.yaml."""
    setting = SETTINGS_BY_KEY["registry"]
    if flag is not None:
        return _as_path(setting, str(flag))  # type: ignore[no-any-return]
    value = _resolve_one(setting, {}, {}, _read_user_layer(paths.user_config_file())[0]).value
    return value if isinstance(value, str) else Path(value)


# ---------------------------------------------------------------------------------------------
# Writing the user config file

USER_FILE_HEADER = """\
# pcli user settings, written by `pcli config set KEY VALUE` (editing by hand is fine too).
# For every setting: flags > PCLI_* variables > the workspace's pcli.yaml > this file > defaults.
# `pcli config list` shows each setting's value and where it comes from.
"""


def set_user_setting(key: str, text: str) -> tuple[Setting, Any, Path]:
    """Check `text` as a value of `key` and write it to the user config file, keeping the
    file's comments and layout. Returns the setting, the value written and the file."""
    setting = setting_named(key)
    value = parse_text(setting, text, setting.key)
    path = paths.user_config_file()
    with _user_file_lock(path, f"pcli config set {setting.key}"):
        _edit_user_file(
            path, lambda document: document.__setitem__(setting.key, value), setting.key
        )
    return setting, value, path


def unset_user_setting(key: str) -> tuple[Setting, bool, Path]:
    """Remove `key` from the user config file; returns whether it was there."""
    setting = setting_named(key)
    path = paths.user_config_file()
    with _user_file_lock(path, f"pcli config unset {setting.key}"):
        if not path.is_file() or setting.key not in _read_mapping(path, "the file"):
            return setting, False, path
        _edit_user_file(path, lambda document: document.pop(setting.key), setting.key)
    return setting, True, path


def _user_file_lock(path: Path, purpose: str) -> AbstractContextManager[None]:
    """The lock every read-modify-write of the user config file holds (`.config.yaml.lock`
    beside it): concurrent `pcli config set` runs apply one after the other, none lost."""
    from protoncli.locks import file_lock, lock_file_beside

    return file_lock(lock_file_beside(path), purpose)


def _edit_user_file(path: Path, change: Callable[[Any], None], key: str) -> None:
    from protoncli.workspace.roundtrip import RoundTripError, dump_new_yaml, edit_yaml_text
    from protoncli.yamlio import atomic_write

    existing = path.is_file()
    text = read_text(path, UsageError) if existing else USER_FILE_HEADER
    if existing and _read_mapping(path, "docs/reference/configuration.md"):
        try:
            new_text = edit_yaml_text(text, change)
        except RoundTripError as error:
            line = f":{error.line}" if error.line else ""
            raise UsageError(f"{path}{line}: cannot edit {key}: {error.problem}") from None
        if parse_yaml(new_text, str(path), UsageError) == {}:
            new_text = "".join(
                line for line in new_text.splitlines(keepends=True) if line.strip() != "{}"
            )
    else:
        document: dict[str, Any] = {}
        change(document)
        new_text = text if not text or text.endswith("\n") else text + "\n"
        new_text += dump_new_yaml(document) if document else ""
    atomic_write(path, new_text)
