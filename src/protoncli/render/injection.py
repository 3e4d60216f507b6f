"""Refuse input values that would change the structure of a rendered YAML or JSON template.

Inputs are pasted into templates as text, as Proton does, so a value holding a quote and a line
break could close the scalar it lands in and add keys or whole resources. The rule pcli applies:

    A string input value is refused when the template it lands in, read as YAML, has another
    structure with the value than with a plain word (`pcliValue0`) in its place.

"Structure" is the sequence of YAML events: documents, mappings, sequences, scalars, aliases,
with their anchors and tags. A value may change what a scalar *reads* (a number-like text in a
plain scalar, escapes in a double-quoted one), as under Proton, but never how many nodes there
are, where they sit, or which tag (`!Ref`, `!GetAtt`, ...) or anchor they carry.

How it is checked, in one render:
- Every string input (and every string in an array input) is handed to Jinja as a `str` subclass
  whose text, when Jinja writes it out, is wrapped in two markers no template or value holds
  (private-use characters around a random nonce). Template logic sees the plain value, so
  `{% if %}` branches are the same as in an ordinary render.
- The marked output gives two texts: the real render (markers removed) and a *sentinel* render
  where each landed value is replaced by `pcliValue<N>`. Both are parsed to YAML events.
- The sentinel render shows the template's own structure. When it does not parse, the template
  itself is broken and the ordinary error (which masks secret values) reports it. When it parses
  and a value, put back on its own, changes the events or stops the text from parsing, that
  input is refused with an `InputError` that names it and the line, never its value.
- Values of only letters, digits and `_.@+=/-` (and `:` not followed by a blank or the end) read
  the same in every YAML context and are not parsed again; most renders stop there.
- A value that reaches the output through a filter that builds a new string from it (`upper`,
  `trim`, `indent`, `tojson`, slicing) is not tracked: such filters already decide its form, and
  the rendered template is still checked as a whole.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from protoncli.errors import InputError, PcliError
from protoncli.render.namespaces import Namespace

SENTINEL = "pcliValue"
_SAFE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+=/-]*(?::(?! )[A-Za-z0-9_.@+=/-]+)*")
_DOC = "docs/reference/specs-and-inputs.md"
_FAST_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


# The markers' nonce: drawn once per process (no value in a spec can hold it), so the pattern
# that finds them is compiled once, not per render.
_NONCE = uuid.uuid4().hex[:12]
_MARKERS = re.compile(f"\ue000{_NONCE}:(\\d+)\ue001|\ue002{_NONCE}\ue003")


@dataclass
class Landings:
    """The string inputs handed to a render, each with the template path that reads it."""

    paths: list[str] = field(default_factory=list)  # index -> "environment.inputs.name"
    values: list[str] = field(default_factory=list)  # index -> the value

    def start(self, index: int) -> str:
        return f"\ue000{_NONCE}:{index}\ue001"

    @property
    def end(self) -> str:
        return f"\ue002{_NONCE}\ue003"

    def pattern(self) -> re.Pattern[str]:
        return _MARKERS

    def scrub(self, error: PcliError) -> PcliError:
        """`error` with any marker removed from its message, hint and details."""
        pattern = self.pattern()
        error.message = pattern.sub("", error.message)
        error.args = (error.message, *error.args[1:])
        error.hint = pattern.sub("", error.hint) if error.hint is not None else None
        error.details = [pattern.sub("", detail) for detail in error.details]
        return error


class _Tracked(str):
    """A string input: itself for template logic, wrapped in markers when written out."""

    __slots__ = ("_marks",)

    _marks: tuple[str, str]

    def __str__(self) -> str:
        start, end = self._marks
        return f"{start}{str.__str__(self)}{end}"

    def __format__(self, spec: str) -> str:
        # f-strings in filters and messages get the plain value; only Jinja's output is marked.
        return format(str.__str__(self), spec)


def _tracked(value: str, landings: Landings, path: str) -> _Tracked:
    index = len(landings.paths)
    landings.paths.append(path)
    landings.values.append(value)
    tracked = _Tracked(value)
    tracked._marks = (landings.start(index), landings.end)  # noqa: SLF001 - set once, here
    return tracked


def track_inputs(namespace: Namespace) -> tuple[Namespace, Landings]:
    """The namespace with every string under an `inputs` mapping tracked, and the landings."""
    landings = Landings()
    values = {
        key: _track(value, key, landings, inside=False) for key, value in namespace.values.items()
    }
    return replace(namespace, values=values), landings


def _track(value: Any, path: str, landings: Landings, *, inside: bool) -> Any:
    if isinstance(value, str):
        return _tracked(value, landings, path) if inside else value
    if isinstance(value, Mapping):
        return {
            key: _track(item, f"{path}.{key}", landings, inside=inside or key == "inputs")
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _track(item, f"{path}[{index}]", landings, inside=inside)
            for index, item in enumerate(value)
        ]
    return value


@dataclass(frozen=True)
class _Span:
    index: int
    begin: int  # in the marked text, at the start marker
    end: int  # in the marked text, after the end marker
    text: str  # what landed between the markers (markers inside removed)


def _spans(marked: str, landings: Landings) -> list[_Span]:
    """The outermost marked spans, in order (a tracked value written inside another, through
    a filter such as `replace`, belongs to the outer one)."""
    spans: list[_Span] = []
    stack: list[tuple[int, int]] = []
    pattern = landings.pattern()
    for found in pattern.finditer(marked):
        if found.group(1) is not None:
            stack.append((int(found.group(1)), found.start()))
        elif stack:
            index, begin = stack.pop()
            if not stack:
                inner = pattern.sub("", marked[begin : found.end()])
                spans.append(_Span(index, begin, found.end(), inner))
    return spans


def _assemble(marked: str, spans: list[_Span], shown: set[int], landings: Landings) -> str:
    """The text with the spans of `shown` as they landed and every other span a sentinel."""
    parts: list[str] = []
    position = 0
    for number, span in enumerate(spans):
        parts.append(marked[position : span.begin])
        parts.append(span.text if number in shown else f"{SENTINEL}{number}")
        position = span.end
    parts.append(marked[position:])
    return landings.pattern().sub("", "".join(parts))


def _shape(text: str) -> list[tuple[str, str | None, str | None]] | None:
    """The YAML events of `text` without scalar values; None when it does not parse."""
    try:
        return [
            (type(event).__name__, getattr(event, "anchor", None), getattr(event, "tag", None))
            for event in yaml.parse(text, Loader=_FAST_LOADER)
        ]
    except yaml.YAMLError:
        return None


def strip_markers(marked: str, landings: Landings) -> str:
    """The render as it is without tracking."""
    return landings.pattern().sub("", marked)


def check_structure(marked: str, landings: Landings, out_path: str, template: str) -> str:
    """The real render of `marked`; `InputError` when a landed value changes its structure."""
    spans = _spans(marked, landings)
    suspects = [number for number, span in enumerate(spans) if not _SAFE.fullmatch(span.text)]
    if not suspects:
        return strip_markers(marked, landings)
    expected = _shape(_assemble(marked, spans, set(), landings))
    if expected is None:  # the template is broken whatever the values: reported as such
        return strip_markers(marked, landings)
    refused: dict[str, int] = {}
    for number in suspects:
        if _shape(_assemble(marked, spans, {number}, landings)) != expected:
            refused.setdefault(
                landings.paths[spans[number].index], _line(marked, spans, number, landings)
            )
    if not refused and _shape(strip_markers(marked, landings)) != expected:
        for number in suspects:  # only together do they change it: name them all
            refused.setdefault(
                landings.paths[spans[number].index], _line(marked, spans, number, landings)
            )
    if refused:
        raise _refusal(refused, landings, out_path, template)
    return strip_markers(marked, landings)


def _line(marked: str, spans: list[_Span], number: int, landings: Landings) -> int:
    """The line a span starts on when every value before it is a sentinel (as the template
    lays it out, whatever earlier values hold)."""
    before = _assemble(marked[: spans[number].begin], spans[:number], set(), landings)
    return before.count("\n") + 1


def _refusal(
    refused: dict[str, int], landings: Landings, out_path: str, template: str
) -> InputError:
    values = dict(zip(landings.paths, landings.values, strict=True))
    hint = (
        "change the value: line breaks and quotes that close the text around it cannot be "
        f"pasted into a template (see {_DOC}, 'Values that change a template')"
    )
    if len(refused) == 1:
        ((path, line),) = refused.items()
        return InputError(
            f"input '{_input_name(path)}' ({path}): the value would change the YAML structure "
            f"of {out_path} (rendered from {template}) at line {line}: {_why(values[path])}",
            hint=hint,
        )
    return InputError(
        f"{out_path}: {len(refused)} input values would change the YAML structure of the "
        f"template (rendered from {template})",
        hint=hint,
        details=[
            f"input '{_input_name(path)}' ({path}), line {line}: {_why(values[path])}"
            for path, line in refused.items()
        ],
    )


def _input_name(path: str) -> str:
    name = path.rpartition(".inputs.")[2]
    return re.sub(r"\[\d+\]$", "", name)


def _why(value: str) -> str:
    """What about a value breaks the text around it, without quoting the value."""
    holds = [
        what
        for what, marks in (("a line break", "\n\r"), ("a quote", "'\""))
        if any(mark in value for mark in marks)
    ]
    if holds:
        return "it holds " + " and ".join(holds)
    if value[:1] in ("!", "&", "*"):
        return f"it starts with '{value[0]}' (a YAML tag, anchor or alias)"
    return "it holds characters YAML reads as structure (such as ': ', ' #', ',', '[', '{')"
