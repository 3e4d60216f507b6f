"""`pcli config ...`: every setting's value and where it comes from; the user config file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.cli.completion import complete_setting_keys, complete_setting_values
from protoncli.cli.state import app_state
from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.config import Resolved, Settings

app = typer.Typer(
    help="Show settings and where they come from; set them in the user config file.",
    no_args_is_help=True,
    add_completion=False,  # completion is the root's (pcli --install-completion)
    epilog="Examples: pcli config list; pcli config set output json; pcli config get registry",
)

KEY_ARGUMENT = typer.Argument(
    ...,
    metavar="KEY",
    autocompletion=complete_setting_keys,
    help="A setting: region, profile, registry, sandbox, output, color, quiet, debug, no_input.",
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")


def _json_mode(ctx: typer.Context, flag: bool) -> bool:
    """--json or --output json; a broken setting must not stop `pcli config` from mending it."""
    try:
        return output.wants_json(ctx, flag)
    except PcliError:
        return flag


def _json_value(resolved: Resolved) -> Any:
    from pathlib import Path

    value = resolved.value
    return str(value) if isinstance(value, Path) else value


def _record(resolved: Resolved) -> dict[str, Any]:
    return {
        "key": resolved.setting.key,
        "value": _json_value(resolved),
        "source": resolved.source,
        "origin": resolved.origin,
        "variable": resolved.setting.variable,
    }


def _settings(ctx: typer.Context) -> Settings:
    return app_state(ctx).settings


@app.command("list")
def list_settings(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List every setting with its value and where it comes from (flag, variable, file, default).

    Precedence: flags > PCLI_* variables > the workspace's pcli.yaml > the user config file >
    defaults.

    Examples: pcli config list; pcli --region eu-west-1 config list --json
    """
    from protoncli.config import SETTINGS, format_value

    settings = _settings(ctx)
    output.warn_all(settings.warnings)
    workspace_file = None if settings.workspace_file is None else str(settings.workspace_file)
    if _json_mode(ctx, json_):
        output.print_json(
            {
                "settings": [_record(settings[s.key]) for s in SETTINGS],
                "user_config": str(settings.user_file),
                "workspace_file": workspace_file,
            }
        )
        return
    output.table(
        ["KEY", "VALUE", "SOURCE"],
        [
            (s.key, format_value(settings.value(s.key)) or "-", settings[s.key].source)
            for s in SETTINGS
        ],
        wrap=("VALUE",),
    )
    exists = "" if settings.user_file.is_file() else " (not created yet)"
    output.line(f"User config: {settings.user_file}{exists}")
    output.line(f"Workspace:   {workspace_file or '- (no pcli.yaml here or above)'}")


@app.command()
def get(ctx: typer.Context, key: str = KEY_ARGUMENT, json_: bool = JSON_OPTION) -> None:
    """Print one setting's value, and nothing else (for scripts); unset prints an empty line.

    Booleans print as true or false. The value is the one commands use: flags, variables,
    pcli.yaml and the user config all count.

    Examples: pcli config get registry; REGION=$(pcli config get region)
    """
    from protoncli.config import format_value, setting_named

    setting = setting_named(key)
    resolved = _settings(ctx)[setting.key]
    if _json_mode(ctx, json_):
        output.print_json(_record(resolved))
        return
    output.line(format_value(resolved.value))


@app.command("set")
def set_setting(
    ctx: typer.Context,
    key: str = KEY_ARGUMENT,
    value: str = typer.Argument(
        ...,
        metavar="VALUE",
        autocompletion=complete_setting_values,
        help="Its value: true/false for switches, text|json, auto|always|never, a folder...",
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Check a value and write it to the user config file (comments in the file are kept).

    Flags, PCLI_* variables and (for region, registry, sandbox) a workspace's pcli.yaml still
    win over the file; a note says so when one does here.

    Examples: pcli config set output json; pcli config set registry ~/blueprints
    """
    from protoncli.config import format_value, set_user_setting

    as_json = _json_mode(ctx, json_)  # before the edit, which may change `output`
    setting, written, path = set_user_setting(key, value)
    if as_json:
        output.print_json({"key": setting.key, "value": _json_value_of(written), "file": str(path)})
        return
    output.line(f"Set {setting.key} to {format_value(written)} in {path}.")
    now = _now(ctx, setting.key)
    if now is not None and now.origin != "user":
        output.note(f"Note: {now.source} overrides it here (see `pcli config list`).")


def _json_value_of(value: Any) -> Any:
    return value if isinstance(value, bool) else str(value)


def _now(ctx: typer.Context, key: str) -> Resolved | None:
    """The setting as commands now see it, after an edit; None (and a warning) if the settings
    still have a problem elsewhere."""
    from protoncli.config import resolve_settings

    state = app_state(ctx)
    try:
        return resolve_settings(state.flags, workspace=state.workspace)[key]
    except PcliError as error:
        output.warn(f"the settings still have a problem: {error.message}")
        return None


def _note_now(ctx: typer.Context, key: str) -> None:
    from protoncli.config import format_value

    now = _now(ctx, key)
    if now is not None:
        output.note(f"{key} is now {format_value(now.value) or '(not set)'} ({now.source}).")


@app.command()
def unset(ctx: typer.Context, key: str = KEY_ARGUMENT, json_: bool = JSON_OPTION) -> None:
    """Remove a setting from the user config file, so the default (or a workspace's) applies.

    Unsetting a key the file does not hold changes nothing and succeeds.

    Example: pcli config unset output
    """
    from protoncli.config import unset_user_setting

    as_json = _json_mode(ctx, json_)  # before the edit, which may change `output`
    setting, removed, path = unset_user_setting(key)
    if as_json:
        output.print_json({"key": setting.key, "removed": removed, "file": str(path)})
        return
    if removed:
        output.line(f"Removed {setting.key} from {path}.")
        _note_now(ctx, setting.key)
    else:
        output.line(f"{setting.key} is not set in {path}; nothing changed.")
