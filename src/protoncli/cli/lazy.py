"""A Typer group whose sub-commands are imported only when they are used.

`pcli --help` and completion of group names read the short help from `COMMANDS`, so they import
no command module at all.
"""

from __future__ import annotations

import errno
import importlib
import sys
import traceback
from dataclasses import dataclass
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from protoncli.errors import ExitCode, PcliError


@dataclass(frozen=True)
class LazyCommand:
    target: str  # "module:attribute", the attribute being a typer.Typer
    short_help: str


_LISTING = "pcli.listing"

COMMANDS: dict[str, LazyCommand] = {
    "init": LazyCommand(
        "protoncli.cli.commands.init:app", "Start a workspace: pcli.yaml and spec folders."
    ),
    "quickstart": LazyCommand(
        "protoncli.cli.commands.quickstart:app",
        "From a folder to a running service: workspace, environment, service, in one go.",
    ),
    "blueprint": LazyCommand(
        "protoncli.cli.commands.blueprint:app",
        "Publish, inspect, lint and render blueprints (Proton template bundles).",
    ),
    "env": LazyCommand("protoncli.cli.commands.env:app", "Create, deploy and track environments."),
    "account": LazyCommand(
        "protoncli.cli.commands.account:app",
        "Name the AWS accounts environments are deployed into; check pcli can work there.",
    ),
    "svc": LazyCommand(
        "protoncli.cli.commands.service:app",
        "Create, deploy and track services (instances and pipeline).",
    ),
    "component": LazyCommand(
        "protoncli.cli.commands.component:app",
        "Create, deploy and delete components attached to service instances.",
    ),
    "status": LazyCommand(
        "protoncli.cli.commands.status:app",
        "Every environment, service instance, pipeline and component with its stack.",
    ),
    "upgrade": LazyCommand(
        "protoncli.cli.commands.upgrade:app",
        "Move environments and services to newer blueprint versions, then deploy them.",
    ),
    "drift": LazyCommand(
        "protoncli.cli.commands.drift:app",
        "Resources changed outside CloudFormation; templates the spec no longer renders.",
    ),
    "graph": LazyCommand(
        "protoncli.cli.commands.graph:app",
        "Draw the fleet (Mermaid or Graphviz): items, their state, the outputs between them.",
    ),
    "ci": LazyCommand(
        "protoncli.cli.commands.ci:app",
        "Generate a CI workflow: plan pull requests, deploy environment by environment.",
    ),
    "plan": LazyCommand(
        "protoncli.cli.commands.plan:app",
        "Show what apply would do: create, update, delete, and why.",
    ),
    "apply": LazyCommand(
        "protoncli.cli.commands.apply:app",
        "Bring AWS to the workspace, in dependency order, with one confirmation.",
    ),
    "notify": LazyCommand(
        "protoncli.cli.commands.notify:app",
        "Record how a Terraform deployment by pull request ended, with its outputs.",
    ),
    "adopt": LazyCommand(
        "protoncli.cli.commands.adopt:app",
        "Adopt the stacks AWS Proton created, in place, under their own names.",
    ),
    "sandbox": LazyCommand(
        "protoncli.cli.commands.sandbox:app",
        "Run a local AWS endpoint (moto) so pcli works with no AWS account.",
    ),
    "config": LazyCommand(
        "protoncli.cli.commands.config:app",
        "Show settings and where they come from; set them in the user config file.",
    ),
}


def _load(name: str, lazy: LazyCommand) -> Any:
    module_name, attribute = lazy.target.split(":")
    sub_app = getattr(importlib.import_module(module_name), attribute)
    command = typer.main.get_command(sub_app)
    command.name = name
    return command


class _ShortHelpOnly(typer.core.TyperCommand):
    """Stands in for a lazy group in the command list of `pcli --help`."""


class LazyGroup(TyperGroup):
    """Root group: lazy sub-commands and the single place where errors become exit codes."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *(n for n in COMMANDS if n not in self.commands)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        lazy = COMMANDS.get(cmd_name)
        if lazy is None:
            return None
        if ctx is not None and _listing_only(ctx):
            return _ShortHelpOnly(name=cmd_name, help=lazy.short_help, short_help=lazy.short_help)
        command = _load(cmd_name, lazy)
        self.commands[cmd_name] = command
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        ctx.meta[_LISTING] = True
        try:
            super().format_help(ctx, formatter)
        finally:
            ctx.meta[_LISTING] = False

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        ctx.meta[_LISTING] = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            ctx.meta[_LISTING] = False

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except PcliError as error:
            _debug_traceback(ctx)
            report_error(error)
            raise typer.Exit(int(error.exit_code)) from None
        except TyperException as error:
            _point_at_root_option(ctx, error)
            raise
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            sys.stderr.write("Interrupted.\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except OSError as error:
            if error.errno not in _FILE_SYSTEM_REFUSALS:
                raise
            _debug_traceback(ctx)
            report_error(file_system_error(error))
            raise typer.Exit(int(ExitCode.ERROR)) from None
        except Exception as error:  # noqa: BLE001 - the one place that turns bugs into a message
            if _debug_traceback(ctx):
                raise typer.Exit(int(ExitCode.ERROR)) from None
            sys.stderr.write(
                f"Error: internal error: {type(error).__name__}: {error}\n"
                "Hint: this is a bug in pcli; rerun with --debug for the traceback and report it.\n"
            )
            raise typer.Exit(int(ExitCode.ERROR)) from None


def _point_at_root_option(ctx: Any, error: TyperException) -> None:
    """An option of pcli itself typed after the command (`pcli status --sandbox`): the error
    says where it goes instead of that there is no such option."""
    name = getattr(error, "option_name", None)
    if type(error).__name__ != "NoSuchOption" or not name:
        return
    root = ctx.find_root().command
    for param in root.params:
        if name in (*param.opts, *param.secondary_opts):
            break
    else:
        return
    metavar = param.metavar or str(param.name).upper()
    value = "" if getattr(param, "is_flag", False) else f" {metavar}"
    command = getattr(getattr(error, "ctx", None), "command_path", "") or "pcli COMMAND"
    example = command.replace("pcli", f"pcli {name}{value}", 1)
    error.message = (
        f"{name} is an option of pcli itself, not of `{command}`: give it before the "
        f"command, as in `{example} ...`"
    )


# What the machine refuses (not a bug of pcli): a folder that may not be written, a full disk.
_FILE_SYSTEM_REFUSALS = frozenset(
    {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT}
)


def file_system_error(error: OSError) -> PcliError:
    """A file-system refusal as a pcli error naming the path and what to do."""
    where = error.filename or "a file"
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space on that disk, then run the command again"
    else:
        hint = "make it writable for this user (or point pcli elsewhere), then run it again"
    return PcliError(f"{where}: {reason}", hint=hint)


def _listing_only(ctx: Any) -> bool:
    """True while help or completion only lists the group's commands."""
    return bool(ctx.meta.get(_LISTING, False))


def _debug_traceback(ctx: Any) -> bool:
    from protoncli.cli.state import debug_enabled

    if debug_enabled(ctx):
        traceback.print_exc(file=sys.stderr)
        return True
    return False


def report_error(error: PcliError) -> None:
    """Print a pcli error: one line, the details indented, then the hint."""
    lines = [f"Error: {error.message}"]
    lines.extend(f"  {detail}" for detail in error.details)
    if error.hint:
        lines.append(f"Hint: {error.hint}")
    sys.stderr.write("\n".join(lines) + "\n")
