"""Questions in a terminal with questionary: the `Prompter` the create commands hand the core.

questionary (and prompt_toolkit) are imported when the first question is asked, never on the
way to `--help`. Questions are drawn on stderr when it is a terminal, so `--json` output on
stdout stays clean. Ctrl-C raises KeyboardInterrupt (`unsafe_ask`; `ask` would swallow it).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import typer

from protoncli.cli import output
from protoncli.cli.state import app_state, interactive
from protoncli.errors import ExitCode, PcliError
from protoncli.prompting import UNSET, InterviewInterrupted, Prompter, Question, shown_value

if TYPE_CHECKING:
    from types import ModuleType

T = TypeVar("T")
QMARK = "?"


def _questionary() -> ModuleType:
    import questionary

    return questionary


def _terminal() -> TextIO | None:
    """The stream questions are drawn on: stderr when it is a terminal, else stdout."""
    if sys.stderr.isatty():
        return sys.stderr
    return sys.stdout if sys.stdout.isatty() else None


class QuestionaryPrompter:
    """Asks `Question`s with questionary; `assume_yes` skips the confirmation of the summary."""

    def __init__(self, *, assume_yes: bool = False) -> None:
        self.assume_yes = assume_yes
        self._stream = _terminal()

    def _io(self) -> dict[str, Any]:
        if self._stream is None:
            return {}
        from prompt_toolkit.output import create_output

        return {"output": create_output(stdout=self._stream)}

    def _say(self, text: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(text + "\n")
        stream.flush()

    def ask(self, question: Question) -> Any:
        if question.heading:
            self._say(f"\n{question.heading}")
        if question.help:
            self._say(f"  {question.help}")
        asking: dict[str, Callable[[Question], Any]] = {
            "confirm": self._confirm,
            "select": self._select,
            "checkbox": self._checkbox,
            "list": self._list,
        }
        return asking.get(question.kind, self._text)(question)

    def show_summary(self, title: str, rows: Sequence[tuple[str, str]]) -> bool:
        width = max((len(label) for label, _ in rows), default=0)
        lines = ["", title, *(f"  {label + ':':<{width + 1}} {value}" for label, value in rows)]
        self._say("\n".join([*lines, ""]))
        if self.assume_yes:
            return True
        confirm = _questionary().confirm("Continue with these answers?", default=True, **self._io())
        return bool(confirm.unsafe_ask())

    def _validator(self, question: Question) -> Callable[[str], bool | str]:
        def validate(text: str) -> bool | str:
            reason = question.validate(text)
            return True if reason is None else reason

        return validate

    def _text(self, question: Question) -> Any:
        questionary = _questionary()
        if question.kind == "password":
            prompt = questionary.password(
                question.message, validate=self._validator(question), qmark=QMARK, **self._io()
            )
        else:
            prompt = questionary.text(
                question.message,
                default=question.default_text,
                validate=self._validator(question),
                qmark=QMARK,
                **self._io(),
            )
        return question.answer(str(prompt.unsafe_ask()))

    def _confirm(self, question: Question) -> bool:
        prompt = _questionary().confirm(
            question.message, default=bool(question.default), qmark=QMARK, **self._io()
        )
        return bool(prompt.unsafe_ask())

    def _select(self, question: Question) -> Any:
        """A choice among the question's; a disabled one is shown with its reason. questionary
        still returns one when typing filtered the list down to it: it is refused with its
        reason and the question asked again."""
        questionary = _questionary()
        choices = [
            questionary.Choice(
                title=choice.title,
                value=index,
                description=choice.description,
                disabled=choice.disabled,
            )
            for index, choice in enumerate(question.choices)
        ]
        default = next(
            (
                c
                for c, choice in zip(choices, question.choices, strict=True)
                if _same(choice.value, question.default) and not choice.disabled
            ),
            None,
        )
        while True:
            prompt = questionary.select(
                question.message,
                choices=choices,
                default=default,
                qmark=QMARK,
                use_search_filter=True,  # typing narrows a long list of blueprints or values
                use_jk_keys=False,
                instruction="(arrow keys, or type to filter)",
                **self._io(),
            )
            chosen = question.choices[int(prompt.unsafe_ask())]
            reason = chosen.disabled or question.check_answer(chosen.value)
            if reason is None:
                return chosen.value
            self._say(f"  {chosen.title}: {reason}; choose another")

    def _checkbox(self, question: Question) -> list[Any]:
        questionary = _questionary()
        checked = question.default if isinstance(question.default, list) else []
        choices = [
            questionary.Choice(
                title=choice.title,
                value=index,
                description=choice.description,
                checked=any(_same(choice.value, value) for value in checked),
            )
            for index, choice in enumerate(question.choices)
        ]

        def values(indexes: Sequence[int]) -> list[Any]:
            return [question.choices[index].value for index in indexes]

        def validate(indexes: list[int]) -> bool | str:
            reason = question.check_answer(values(indexes))
            return True if reason is None else reason

        prompt = questionary.checkbox(
            question.message, choices=choices, validate=validate, qmark=QMARK, **self._io()
        )
        return values(prompt.unsafe_ask())

    def _list(self, question: Question) -> Any:
        """Entries one by one, an empty one ending the list; the default can be kept at once."""
        questionary = _questionary()
        if isinstance(question.default, list):
            shown = shown_value(question.default) or "an empty list"
            keep = questionary.confirm(
                f"{question.message}: keep {shown}?", default=True, **self._io()
            )
            if keep.unsafe_ask():
                return list(question.default)
        while True:
            entries: list[Any] = []
            while True:
                prompt = questionary.text(
                    f"{question.message}, entry {len(entries) + 1} (empty to finish)",
                    validate=self._validator(question),
                    qmark=QMARK,
                    **self._io(),
                )
                text = str(prompt.unsafe_ask())
                if not text.strip():
                    break
                entries.append(question.answer(text))
            if not entries and question.optional:
                return UNSET
            reason = question.check_answer(entries)
            if reason is None:
                return entries
            self._say(f"  {reason}; enter the list again")


def _same(left: Any, right: Any) -> bool:
    return type(left) is type(right) and left == right


def create_asking(
    ctx: typer.Context,
    create: Callable[[Prompter], T],
    *,
    yes: bool,
    no_input: bool,
) -> T | None:
    """Run `create` with questions when pcli may ask (a terminal, no CI, no --no-input, the
    command's own --no-input included); None when it may not, and the caller creates without
    asking. Ctrl-C during the questions ends the command (130) saying where the answers given
    so far are kept."""
    if no_input:
        app_state(ctx).give_flag("no_input", value=True)
    if not interactive(ctx):
        return None
    try:
        return create(QuestionaryPrompter(assume_yes=yes))
    except InterviewInterrupted as stop:
        if stop.kept:
            output.note(
                f"\nInterrupted. Your answers are kept ({stop.kept}); "
                f"`{stop.command}` offers them again."
            )
        else:
            output.note("\nInterrupted. Nothing was written.")
        raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


@contextmanager
def create_again_hint(kind: str, kept: Sequence[str]) -> Iterator[None]:
    """A create's failure once its spec file was written (or continued with: `kept` names the
    environment or service then) says in its hint that the same create, run again, continues
    with that spec file."""
    try:
        yield
    except PcliError as error:
        if kept:
            from protoncli.deploy.resume import create_again

            again = create_again(kind, kept[0])
            error.hint = f"{error.hint}; {again}" if error.hint else again
        raise
