"""The CLI reference (docs/reference/cli.md), generated from the app itself.

    python -m protoncli.cli.reference > docs/reference/cli.md

Every command and group is read from the Typer app (lazy groups loaded): usage, summary, the
other paragraphs of its help, arguments, options with their variables and defaults, examples.
Examples are the lines of an `Example:` / `Examples:` block (indented lines after the header),
or the `;`-separated items after the header on its own line, in the help text or the epilog.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import typer

REGENERATE = "python -m protoncli.cli.reference > docs/reference/cli.md"
_EXAMPLES_HEADER = re.compile(r"^Examples?:\s*(?P<inline>.*)$", re.DOTALL)
_ENV_VAR = re.compile(r"\s*\\?\[env var: (?P<names>[^\]]+)\]")


@dataclass(frozen=True)
class ParamDoc:
    """One argument or option as the reference shows it."""

    kind: str  # "argument" | "option"
    names: str  # `NAME` or `--region`, `-o, --output`
    value: str  # metavar of an option that takes a value ("" for a flag)
    help: str
    env: str  # the variables that set it, comma-separated ("" when none)
    default: str  # "" when there is none worth showing
    required: bool


@dataclass(frozen=True)
class CommandDoc:
    path: str  # "pcli env deploy"
    usage: str
    summary: str
    details: list[str]  # paragraphs after the summary, examples taken out
    examples: list[str]
    params: list[ParamDoc]
    subcommands: list[str] = field(default_factory=list)


def unmarkup(text: str) -> str:
    """Help text without rich's escapes (`\\[` is a literal `[`)."""
    return text.replace("\\[", "[")


def paragraphs(text: str | None) -> list[str]:
    return [p.strip("\n") for p in re.split(r"\n\s*\n", unmarkup(text or "")) if p.strip()]


def split_help(text: str | None) -> tuple[list[str], list[str]]:
    """(paragraphs that are not examples, examples)."""
    kept: list[str] = []
    examples: list[str] = []
    in_block = False
    for paragraph in paragraphs(text):
        header = _EXAMPLES_HEADER.match(paragraph.strip())
        if header:
            inline = " ".join(header["inline"].split())
            examples.extend(item.strip() for item in inline.split(";") if item.strip())
            in_block = not inline
            continue
        lines = paragraph.splitlines()
        if in_block and all(line.startswith("  ") for line in lines):
            examples.extend(line.strip() for line in lines if line.strip())
            continue
        in_block = False
        kept.append(" ".join(line.strip() for line in lines))
    return kept, examples


def examples_of(command: Any) -> list[str]:
    """The examples in a command's help text and epilog."""
    return split_help(command.help)[1] + split_help(command.epilog)[1]


def _env_names(param: Any, help_text: str) -> tuple[str, str]:
    """(variables, help without a trailing "[env var: ...]")."""
    found = _ENV_VAR.search(help_text)
    names: list[str] = []
    if found:
        names = [name.strip() for name in found["names"].split(",")]
        help_text = _ENV_VAR.sub("", help_text)
    envvar = getattr(param, "envvar", None)
    if envvar:
        names.extend(n for n in ([envvar] if isinstance(envvar, str) else envvar) if n not in names)
    return ", ".join(names), help_text.strip()


def _default(param: Any) -> str:
    value = param.default
    if callable(value) or value is None or value is False or value in ([], ()):
        return ""
    if getattr(param, "is_flag", False) and value is True:
        return "on"
    return str(value)


def param_doc(param: Any, ctx: Any) -> ParamDoc:
    env, help_text = _env_names(param, unmarkup(param.help or ""))
    if param.param_type_name == "argument":
        name = param.metavar or param.name.upper()
        return ParamDoc("argument", name, "", help_text, env, _default(param), param.required)
    names = ", ".join(sorted([*param.opts, *param.secondary_opts], key=len))
    flag = getattr(param, "is_flag", False)
    value = "" if flag else (param.metavar or param.make_metavar(ctx))
    value = value.strip("<>") if value.startswith("<") else value
    return ParamDoc("option", names, value, help_text, env, _default(param), param.required)


def usage(path: str, command: Any, params: list[ParamDoc], *, group: bool) -> str:
    """`pcli env deploy [OPTIONS] NAME`: optional arguments in brackets, repeatable ones with ..."""
    pieces = [path, "[OPTIONS]"]
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    for param, doc in zip(arguments, [d for d in params if d.kind == "argument"], strict=True):
        piece = doc.names + ("..." if param.nargs == -1 else "")
        optional = not doc.required and not piece.startswith("[")
        pieces.append(f"[{piece}]" if optional else piece)
    if group:
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def command_doc(command: Any, ctx: Any) -> CommandDoc:
    kept, examples = split_help(command.help)
    epilog_kept, epilog_examples = split_help(command.epilog)
    params = [param_doc(p, ctx) for p in command.params if not p.hidden and p.name != "help"]
    group = hasattr(command, "list_commands")
    return CommandDoc(
        path=ctx.command_path,
        usage=usage(ctx.command_path, command, params, group=group),
        summary=kept[0] if kept else "",
        details=kept[1:] + epilog_kept,
        examples=examples + epilog_examples,
        params=params,
        subcommands=list(command.list_commands(ctx)) if group else [],
    )


def walk(app: typer.Typer) -> Iterator[tuple[Any, Any]]:
    """(command, context) for the root and every command below it, in listing order."""
    root: Any = typer.main.get_command(app)
    stack: list[tuple[Any, Any]] = [(root, typer.Context(root, info_name="pcli"))]
    while stack:
        command, ctx = stack.pop(0)
        yield command, ctx
        if hasattr(command, "list_commands"):
            children = []
            for name in command.list_commands(ctx):
                child = command.get_command(ctx, name)
                children.append((child, typer.Context(child, info_name=name, parent=ctx)))
            stack[0:0] = children


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _params_table(params: list[ParamDoc]) -> list[str]:
    lines: list[str] = []
    arguments = [p for p in params if p.kind == "argument"]
    options = [p for p in params if p.kind == "option"]
    if arguments:
        lines += ["| Argument | Description | Required |", "|---|---|---|"]
        lines += [
            f"| `{p.names}` | {_cell(p.help)} | {'yes' if p.required else 'no'} |"
            for p in arguments
        ]
        lines.append("")
    if options:
        lines += ["| Option | Description | Variable | Default |", "|---|---|---|---|"]
        for p in options:
            name = f"`{p.names}`" + (f" `{p.value}`" if p.value else "")
            required = " (required)" if p.required else ""
            env = f"`{p.env}`" if p.env else ""
            default = f"`{p.default}`" if p.default else ""
            lines.append(f"| {_cell(name)} | {_cell(p.help)}{required} | {env} | {default} |")
        lines.append("")
    return lines


def render_command(doc: CommandDoc, level: int) -> list[str]:
    lines = [f"{'#' * level} `{doc.path}`", "", doc.summary, ""]
    lines += ["```", doc.usage, "```", ""]
    for paragraph in doc.details:
        lines += [paragraph, ""]
    if doc.subcommands:
        prefix = doc.path.removeprefix("pcli").strip().replace(" ", "-")
        anchors = [
            f"[`{name}`](#pcli-{prefix + '-' if prefix else ''}{name})" for name in doc.subcommands
        ]
        lines += ["Commands: " + ", ".join(anchors) + ".", ""]
    lines += _params_table(doc.params)
    if doc.examples:
        lines += ["Examples:" if len(doc.examples) > 1 else "Example:", "", "```console"]
        lines += [f"$ {example}" for example in doc.examples]
        lines += ["```", ""]
    return lines


def render_reference(app: typer.Typer) -> str:
    lines = [
        "# CLI reference",
        "",
        "<!-- Generated from the app; do not edit by hand. Regenerate with:",
        f"     {REGENERATE} -->",
        "",
        (
            "Every command, its arguments and options. Options that a `PCLI_*` variable can set "
            "name it; the root options apply to every command (`pcli --quiet env deploy dev`). "
            "Exit codes: [exit-codes.md](exit-codes.md); JSON output: "
            "[json-output.md](json-output.md)."
        ),
        "",
    ]
    for command, ctx in walk(app):
        depth = ctx.command_path.count(" ")
        lines += render_command(command_doc(command, ctx), level=min(2 + depth, 4))
    return "\n".join(lines).rstrip("\n") + "\n"


def main() -> None:
    from protoncli.cli.app import app

    sys.stdout.write(render_reference(app))


if __name__ == "__main__":
    main()
