"""pcli's completion scripts and the classes that answer them (bash, zsh, fish, PowerShell).

Typer's own bash script hands pcli the words bash split the line into, and bash splits at every
character of COMP_WORDBREAKS, `@` and `=` included: `team-env@1.` reaches pcli as `team-env`,
`@`, `1.`, and whatever pcli answers replaces only the text after the break. pcli's script
sends the line itself (up to the cursor) and COMP_WORDBREAKS instead; pcli splits the line as a
shell does, completes whole words (`team-env@1.1`, `web-dev=dev`) as for zsh and fish, and gives
bash only the part it replaces (`@1.1`, `dev`) — readline keeps an `@` in that part, `=` not.
pcli's exit status tells the script what to do when it prints nothing: 0 offer nothing, 1 let
bash complete file names (a path is expected, or a completer without NO_FILES found nothing).
zsh gets `_files` or nothing in the same cases, and fish's `is-args` question 1 or 0.

Scripts installed by older pcli versions (Typer's, with COMP_WORDS) keep working: the words
bash split apart are joined again, as nothing pcli takes is a lone `@` or `=`.

`use_pcli_shells()` puts these in place of Typer's; it runs once the root command is built
(building it registers Typer's classes).
"""

from __future__ import annotations

import os
import sys
from typing import NamedTuple

from typer import _completion_classes as typer_shells
from typer import _completion_shared as typer_scripts
from typer._click.shell_completion import (
    CompletionItem,
    ShellComplete,
    _resolve_context,
    _resolve_incomplete,
    add_completion_class,
    split_arg_string,
)

WORDS = "pcli.completion.words"  # ctx.meta: the words typed before the one being completed
NO_FILES = "pcli.completion.no-files"  # ctx.meta: set by a completer whose value is never a file

# bash's COMP_WORDBREAKS when the user has not changed it, and readline's special prefixes as
# bash sets them: break characters that stay in the text a completion replaces.
DEFAULT_WORDBREAKS = " \t\n\"'@><=;|&(:"
_KEPT_BREAKS = "$@"
_BLANKS = " \t\n"
_FILE_TYPES = ("file", "dir")

BASH_SCRIPT = """
%(complete_func)s() {
    local reply status
    reply=$(env COMP_LINE="${COMP_LINE:0:COMP_POINT}" COMP_WORDBREAKS="$COMP_WORDBREAKS" \\
                %(autocomplete_var)s=complete_bash "$1" 2>/dev/null)
    status=$?
    COMPREPLY=()
    if [[ -n $reply ]]; then
        mapfile -t COMPREPLY <<< "$reply"
    fi
    if (( status != 0 )); then
        compopt -o default
    elif [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace
    fi
    return 0
}

complete -o nosort -F %(complete_func)s %(prog_name)s
"""


class SplitLine(NamedTuple):
    """A command line cut at the cursor, as bash reads it for completion (a NamedTuple: pcli
    loads this module on every start, and a dataclass costs more to create)."""

    words: list[str]  # the complete words, unquoted
    current: str  # the word being completed, unquoted
    kept: int  # how much of `current` bash keeps: the text after it is what a candidate replaces


def split_line(line: str, wordbreaks: str = DEFAULT_WORDBREAKS) -> SplitLine:
    """Words of `line` (quotes and backslashes as a shell reads them) and, in the last one, where
    the text bash replaces begins: after its last break character not quoted (`=` in
    `web-dev=p`), at it for `@` and `$`, after an opening quote still open."""
    words: list[str] = []
    current: list[str] = []
    started = False
    kept = kept_before_quote = 0
    quote = ""
    index = 0
    while index < len(line):
        char = line[index]
        index += 1
        if quote:
            if char == quote:
                quote, kept = "", kept_before_quote
            elif char == "\\" and quote == '"' and line[index : index + 1] in ('"', "\\", "$", "`"):
                current.append(line[index])
                index += 1
            else:
                current.append(char)
        elif char == "\\":
            current.append(line[index : index + 1])
            index += 1
            started = True
        elif char in _BLANKS:
            if started:
                words.append("".join(current))
            current, started, kept = [], False, 0
        elif char in "'\"":
            quote, started, kept_before_quote, kept = char, True, kept, len(current)
        else:
            if char in wordbreaks and char not in _BLANKS:
                kept = len(current) + (0 if char in _KEPT_BREAKS else 1)
            current.append(char)
            started = True
    return SplitLine(words, "".join(current), kept)


def line_from_words(words: str, cword: int) -> str:
    """The line up to the cursor rebuilt from COMP_WORDS (older scripts send only those): a word
    made of break characters alone (`@`, `=`, `:`) was split off its neighbours by bash."""
    split = split_arg_string(words)[: cword + 1]
    split += [""] * (cword + 1 - len(split))
    line = ""
    glued = False
    for position, word in enumerate(split):
        breaks_only = bool(word) and all(c in DEFAULT_WORDBREAKS for c in word)
        if position and not (glued or breaks_only):
            line += " "
        line += word if breaks_only else _quoted(word)
        glued = breaks_only
    return line


def _quoted(word: str) -> str:
    """`word` as a shell would have to type it for it to stay one word, with no break in it."""
    if all(c.isalnum() or c in "%_-+,./~" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


# ---------------------------------------------------------------------------------------------
# What every shell asks


class _WholeWords(ShellComplete):
    """Click's `get_completions`, plus: the typed words are left in ctx.meta for completers that
    read the line; `--option=value` keeps its `--option=` in every candidate; and `files` says
    whether the shell's file names fit instead: nothing offered, the completer did not set
    NO_FILES (a path parameter's "file" marker counts as nothing offered)."""

    files = False

    def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
        ctx = _resolve_context(self.cli, self.ctx_args, self.prog_name, args)
        ctx.meta[WORDS] = list(args)
        target, rest = _resolve_incomplete(ctx, list(args), incomplete)
        prefix = incomplete[: len(incomplete) - len(rest)] if incomplete.endswith(rest) else ""
        items = [
            CompletionItem(prefix + item.value, type=item.type, help=item.help)
            for item in target.shell_complete(ctx, rest)
            if item.type not in _FILE_TYPES
        ]
        self.files = not items and not ctx.meta.get(NO_FILES, False)
        return items


class BashComplete(_WholeWords, typer_shells.BashComplete):
    source_template = BASH_SCRIPT
    kept = 0

    def get_completion_args(self) -> tuple[list[str], str]:
        if "COMP_LINE" in os.environ:  # pcli's script: the line up to the cursor
            line = os.environ["COMP_LINE"]
            breaks = os.environ.get("COMP_WORDBREAKS") or DEFAULT_WORDBREAKS
        else:  # a script written by an older pcli (Typer's): the words bash split
            line = line_from_words(os.environ["COMP_WORDS"], int(os.environ["COMP_CWORD"]))
            breaks = DEFAULT_WORDBREAKS
        split = split_line(line, breaks)
        self.kept = split.kept
        return split.words[1:], split.current

    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        if self.files and "COMP_LINE" in os.environ:
            sys.exit(1)  # the script lets bash complete file names
        kept = incomplete[: self.kept]
        return "\n".join(item.value[len(kept) :] for item in items if item.value.startswith(kept))


class ZshComplete(_WholeWords, typer_shells.ZshComplete):
    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        if items and all(item.value.endswith("=") for item in items):
            return _zsh_unfinished(items)
        if items:
            listed = "\n".join(self.format_completion(item) for item in items)
            return f"_arguments '*: :(({listed}))'"
        return "_files" if self.files else ""


def _zsh_unfinished(items: list[CompletionItem]) -> str:
    """`KEY=` candidates for zsh, offered with no space after them: the value comes next."""

    def quoted(text: str) -> str:
        return "'" + text.replace("'", "'\\''") + "'"

    described = " ".join(
        quoted(item.value.replace(":", "\\:") + (f":{item.help}" if item.help else ""))
        for item in items
    )
    return f"local -a _pcli_items=({described}); _describe -t values value _pcli_items -S ''"


class FishComplete(_WholeWords, typer_shells.FishComplete):
    def complete(self) -> str:
        args, incomplete = self.get_completion_args()
        items = self.get_completions(args, incomplete)
        if os.environ.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
            sys.exit(1 if self.files else 0)  # 1: fish completes file names instead
        return "\n".join(self.format_completion(item) for item in items)


class PowerShellComplete(_WholeWords, typer_shells.PowerShellComplete):
    pass


def use_pcli_shells() -> None:
    """Answer completion requests and print scripts with pcli's classes instead of Typer's."""
    shells: dict[str, type[ShellComplete]] = {
        "bash": BashComplete,
        "zsh": ZshComplete,
        "fish": FishComplete,
        "powershell": PowerShellComplete,
        "pwsh": PowerShellComplete,
    }
    for name, shell in shells.items():
        add_completion_class(shell, name)
    typer_scripts._completion_scripts["bash"] = BASH_SCRIPT  # noqa: SLF001 - Typer reads scripts only there
