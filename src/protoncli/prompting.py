"""Questions pcli asks in a terminal, and the interview of a blueprint's inputs.

The core never prompts by itself: it builds `Question`s and hands them to the `Prompter` it is
given (the CLI's is built on questionary; tests script one). A `None` prompter means pcli
cannot ask here, and whatever is missing becomes an error instead.

How an input is asked, by its schema:

- `format: password` (secret): a password question, never pre-filled, never echoed;
- `enum`: a choice among the listed values;
- boolean: yes or no (a choice that can also be left unset when the input is optional and has
  no default);
- number and integer: text converted and checked against the bounds;
- string: text checked against pattern and lengths;
- array: a checkbox when its items have an `enum`, otherwise entries one by one.

Every typed answer is checked as it is typed with the schema (`value_problems`), and the reason
it is refused is shown; a `pattern` is said in words in the hint and in that reason
(`schema.patterns`). An answer is also checked with the values given or answered before it
where the check is certain (an address range against the VPC's and the other subnets',
`schema.cidr`). Leaving an answer empty leaves an input unset (its default applies) unless it
is required and has no default.

A choice of a select question may be `disabled` (a reason): it is shown with the reason and
cannot be chosen. A `heading` is shown before its question (before the first question of each
service instance and of the pipeline).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Final, Literal, Protocol

from protoncli.schema.model import InputDef, InputType
from protoncli.specs.resolve import ConversionError, convert_scalar

QuestionKind = Literal[
    "text", "integer", "number", "confirm", "select", "checkbox", "list", "password"
]
TEXT_KINDS: Final = ("text", "integer", "number", "password")
SECRET_SHOWN: Final = "******"  # noqa: S105 - how a secret is shown, not a password
NEEDED: Final = "a value is needed"


class _Unset(Enum):
    """The answer "leave it unset" (and "no default")."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset.UNSET


@dataclass(frozen=True)
class Choice:
    """One answer of a select or checkbox question."""

    value: Any
    title: str
    description: str | None = None
    disabled: str | None = None  # why it cannot be chosen (shown beside it)


def _nothing_wrong(_answer: Any) -> str | None:
    return None


def _as_typed(text: str) -> Any:
    return text


@dataclass(frozen=True)
class Question:
    """One question, whatever asks it.

    `key` names what the answer is for ("name", "blueprint", "inputs.port",
    "instances.web-dev.inputs.port"). `default` is what is pre-filled or pre-selected (UNSET:
    nothing). For text kinds and list entries, `check_text` gives the reason a typed text is
    refused (None: accepted) and `convert` turns an accepted text into the answer; for
    checkbox and list answers, `check_answer` judges the whole list; for a select answer, the
    choice (a disabled choice is refused with its reason). `heading` is shown before the
    question (the instance or pipeline the questions that follow are about).
    """

    key: str
    kind: QuestionKind
    message: str
    help: str | None = None
    default: Any = UNSET
    choices: tuple[Choice, ...] = ()
    check_text: Callable[[str], str | None] = _nothing_wrong
    convert: Callable[[str], Any] = _as_typed
    check_answer: Callable[[Any], str | None] = _nothing_wrong
    optional: bool = False  # an empty text answer means UNSET
    heading: str | None = None

    def validate(self, text: str) -> str | None:
        """Why `text` is refused as an answer (or a list entry), or None when it is accepted."""
        return self.check_text(text)

    def answer(self, text: str) -> Any:
        """The answer an accepted `text` stands for (UNSET for an empty optional answer)."""
        if self.optional and not text.strip() and self.kind != "list":
            return UNSET
        return self.convert(text)

    @property
    def default_text(self) -> str:
        """The default as it is pre-filled in a text question ("" when there is none)."""
        return "" if self.default is UNSET else shown_value(self.default)


class Prompter(Protocol):
    """Asks questions in a terminal. Ctrl-C raises KeyboardInterrupt."""

    def ask(self, question: Question) -> Any:
        """The answer, typed for the kind: text and password → str, integer → int, number →
        int or float, confirm → bool, select → a choice's value, checkbox and list → a list;
        UNSET when an optional text question is left empty."""
        ...

    def show_summary(self, title: str, rows: Sequence[tuple[str, str]]) -> bool:
        """Show the answers before anything is written; True to go on (it may ask)."""
        ...


class InterviewInterrupted(KeyboardInterrupt):
    """Ctrl-C during questions; `kept` says where the answers given so far are kept."""

    def __init__(self, kept: str | None = None, command: str | None = None) -> None:
        super().__init__()
        self.kept = kept
        self.command = command


# --- values as shown --------------------------------------------------------------------------


def shown_value(value: Any, *, secret: bool = False) -> str:
    """A value as a summary or a pre-filled answer shows it (secrets as ******)."""
    if secret:
        return SECRET_SHOWN
    if value is UNSET or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(shown_value(item) for item in value)
    return str(value)


def summary_rows(
    input_type: InputType, values: Mapping[str, Any], *, prefix: str = ""
) -> list[tuple[str, str]]:
    """(label, value) of each input in schema order: given values, else the defaults."""
    rows = []
    for item in input_type.inputs:
        if item.name in values:
            shown = shown_value(values[item.name], secret=item.secret)
            rows.append((f"{prefix}{item.name}", shown))
        elif item.has_default:
            shown = shown_value(item.default, secret=item.secret)
            rows.append((f"{prefix}{item.name}", f"{shown} (default)"))
    return rows


# --- conversions ------------------------------------------------------------------------------


def _convert_scalar(kind: str, text: str) -> Any:
    """The typed text as a value of the input's type (the same reading as --param)."""
    try:
        return convert_scalar(kind, text)
    except ConversionError as exc:
        raise _NotConvertibleError(f"expected {exc}") from None


class _NotConvertibleError(ValueError):
    """A typed text that does not read as the expected type; the argument says what fits."""


Related = Callable[[Any], list[str]]  # problems of a value with the other inputs' values


def _no_relation(_value: Any) -> list[str]:
    return []


def _problems(
    prop: Mapping[str, Any], value: Any, *, secret: bool, related: Related = _no_relation
) -> str | None:
    from protoncli.schema.validate import value_problems

    found = value_problems(prop, value, secret=secret, remember=False)
    if not found:
        found = related(value)
    return "; ".join(found) if found else None


def _typed_checker(
    kind: str,
    prop: Mapping[str, Any],
    *,
    secret: bool,
    optional: bool,
    related: Related = _no_relation,
) -> Callable[[str], str | None]:
    """The reason a typed text is refused: empty when needed, not the type, against the schema,
    then with the other inputs (`related`)."""

    def check(text: str) -> str | None:
        if not text.strip():
            return None if optional else NEEDED
        try:
            value = _convert_scalar(kind, text)
        except _NotConvertibleError as exc:
            return str(exc)
        return _problems(prop, value, secret=secret, related=related)

    return check


# --- questions for inputs ---------------------------------------------------------------------


def input_question(
    item: InputDef, *, key: str, default: Any = UNSET, related: Related = _no_relation
) -> Question:
    """The question for one input. `default` (a draft's or another instance's answer) is
    pre-filled instead of the schema's default when it fits the question; `related` gives the
    problems of an answer with the values of the other inputs."""
    prop: Mapping[str, Any] = dict(item.raw or {"type": item.type})
    optional = not item.required or item.has_default
    prefill = default if default is not UNSET else (item.default if item.has_default else UNSET)
    base = Question(
        key=key, kind="text", message=_message(item), help=_help(item), optional=optional
    )
    if item.secret:
        check = _typed_checker("string", prop, secret=True, optional=optional)
        return replace(base, kind="password", check_text=check)
    if item.enum is not None:
        return _select_question(item, base, prefill, optional=optional)
    if item.type == "boolean":
        return _boolean_question(base, prefill, has_default=item.has_default, optional=optional)
    if item.type == "array":
        return _array_question(prop, base, prefill, related)
    kind: QuestionKind = "integer" if item.type == "integer" else "text"
    if item.type == "number":
        kind = "number"
    check = _typed_checker(item.type, prop, secret=False, optional=optional, related=related)
    return replace(
        base,
        kind=kind,
        default=prefill,
        check_text=check,
        convert=lambda text: _convert_scalar(item.type, text),
    )


def _message(item: InputDef) -> str:
    return f"{item.title} ({item.name})" if item.title else item.name


def _help(item: InputDef) -> str | None:
    parts = [item.description.strip()] if item.description else []
    parts += [words for words in (_shape(item.raw or {}), _limits(item.raw or {})) if words]
    return "; ".join(parts) or None


def _shape(prop: Mapping[str, Any]) -> str | None:
    """The property's `pattern` (or its items') in words, else as written."""
    from protoncli.schema.patterns import pattern_hint

    pattern = prop.get("pattern")
    if isinstance(pattern, str):
        return pattern_hint(pattern)
    items = prop.get("items")
    if isinstance(items, Mapping) and isinstance(items.get("pattern"), str):
        return f"each entry: {pattern_hint(items['pattern'])}"
    return None


def _limits(prop: Mapping[str, Any]) -> str:
    """The bounds of a property in words ("at least 1, at most 10")."""
    words = {
        "minimum": "at least {}",
        "maximum": "at most {}",
        "minLength": "at least {} characters",
        "maxLength": "at most {} characters",
        "minItems": "at least {} entries",
        "maxItems": "at most {} entries",
    }
    return ", ".join(text.format(prop[key]) for key, text in words.items() if key in prop)


def _select_question(item: InputDef, base: Question, prefill: Any, *, optional: bool) -> Question:
    values = list(item.enum or ())
    choices = [Choice(value, shown_value(value)) for value in values]
    if optional and not item.has_default:
        choices.insert(0, Choice(UNSET, "(leave unset)"))
    if not any(_same(prefill, value) for value in values):
        prefill = item.default if item.has_default else choices[0].value
    return replace(base, kind="select", default=prefill, choices=tuple(choices))


def _same(left: Any, right: Any) -> bool:
    """Equal and of the same kind (True is not 1)."""
    return type(left) is type(right) and left == right


def _boolean_question(
    base: Question, prefill: Any, *, has_default: bool, optional: bool
) -> Question:
    if optional and not has_default and not isinstance(prefill, bool):
        choices = (
            Choice(UNSET, "(leave unset)"),
            Choice(value=True, title="yes"),
            Choice(value=False, title="no"),
        )
        return replace(base, kind="select", default=UNSET, choices=choices)
    default = prefill if isinstance(prefill, bool) else False
    return replace(base, kind="confirm", default=default)


def _array_question(
    prop: Mapping[str, Any], base: Question, prefill: Any, related: Related
) -> Question:
    items = prop.get("items")
    items = dict(items) if isinstance(items, Mapping) else {"type": "string"}
    item_type = str(items.get("type", "string"))
    default = list(prefill) if isinstance(prefill, list | tuple) else UNSET

    def check_list(values: Any) -> str | None:
        return _problems(prop, list(values), secret=False, related=related)

    if isinstance(items.get("enum"), list):
        choices = tuple(Choice(value, shown_value(value)) for value in items["enum"])
        return replace(
            base, kind="checkbox", default=default, choices=choices, check_answer=check_list
        )

    def check_entry(text: str) -> str | None:
        if not text.strip():
            return None  # an empty entry ends the list
        try:
            value = _convert_scalar(item_type, text)
        except _NotConvertibleError as exc:
            return str(exc)
        return _problems(items, value, secret=False)

    return replace(
        base,
        kind="list",
        default=default,
        check_text=check_entry,
        convert=lambda text: _convert_scalar(item_type, text),
        check_answer=check_list,
    )


# --- interviews -------------------------------------------------------------------------------

OnAnswer = Callable[[InputDef, Any], None]


def ask_inputs(
    input_type: InputType,
    given: Iterable[str],
    prompter: Prompter,
    *,
    key: str,
    defaults: Mapping[str, Any] | None = None,
    on_answer: OnAnswer | None = None,
    known: Mapping[str, Any] | None = None,
    heading: str | None = None,
) -> dict[str, Any]:
    """Ask, in schema order, every input whose name is not in `given`; return the answers.

    `defaults` are answers to pre-fill (from a draft, or another instance); `on_answer` is
    called after each answer (to keep it in a draft). Inputs left unset are not in the result.
    `known` holds the values given for the inputs not asked: each answer is checked with them
    and with the answers before it (an input left unset counts with its default). `heading` is
    shown before the first question.
    """
    skipped = set(given)
    settled = dict(known or {})
    answers: dict[str, Any] = {}
    for item in input_type.inputs:
        if item.name in skipped:
            continue
        prefill = (defaults or {}).get(item.name, UNSET)
        related = _relation(input_type, settled, item.name)
        question = input_question(item, key=f"{key}.{item.name}", default=prefill, related=related)
        if heading is not None:
            question, heading = replace(question, heading=heading), None
        value = prompter.ask(question)
        if on_answer is not None:
            on_answer(item, value)
        if value is not UNSET:
            answers[item.name] = settled[item.name] = value
        elif item.has_default:
            settled[item.name] = item.default
    return answers


def _relation(input_type: InputType, settled: Mapping[str, Any], name: str) -> Related:
    """The problems of an answer to input `name` with the values settled before it."""

    def related(value: Any) -> list[str]:
        from protoncli.schema.cidr import answer_range_problems

        return answer_range_problems(input_type, {**settled, name: value}, name)

    return related


def text_question(
    key: str,
    message: str,
    *,
    check: Callable[[str], str | None],
    default: str | None = None,
    help: str | None = None,  # noqa: A002 - the field's name in Question
) -> Question:
    """A plain text question (a name) whose answer is checked by `check`."""

    def checked(text: str) -> str | None:
        return NEEDED if not text.strip() else check(text.strip())

    return Question(
        key=key,
        kind="text",
        message=message,
        help=help,
        default=default or UNSET,
        check_text=checked,
        convert=str.strip,
    )
