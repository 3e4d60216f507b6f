"""A pass over template source, before Jinja, that makes multi-line filter results line up.

Proton indents the continuation lines of `proton_cfn_*` list and mapping filters to the column
where the expression's `{{` starts. A Jinja filter cannot know that column, so each `{{ ... }}`
expression that uses one of those filters is rewritten to `{{ (...) | _pcli_indent(COLUMN) }}`.
Newlines are never added or removed, so template line numbers in messages stay right.
Comments and `{% raw %}` blocks are skipped; string literals inside tags are respected.
"""

from __future__ import annotations

import re

from protoncli.render.filters import INDENT_FILTER, MULTILINE_FILTERS

_OPEN = re.compile(r"\{[{%#]")
_RAW_START = re.compile(r"\{%[-+]?\s*raw\s*[-+]?%\}")
_RAW_END = re.compile(r"\{%[-+]?\s*endraw\s*[-+]?%\}")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.DOTALL)
_MULTILINE_FILTER = re.compile(r"\|\s*(?:" + "|".join(MULTILINE_FILTERS) + r")\b")
_WHITESPACE_CONTROL = "-+"


def _tag_end(source: str, start: int, closer: str) -> int:
    """Index of `closer` after `start`, outside string literals; -1 when there is none."""
    index = start
    quote = ""
    while index < len(source):
        char = source[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif source.startswith(closer, index):
            return index
        index += 1
    return -1


def _column(source: str, index: int) -> int:
    return index - (source.rfind("\n", 0, index) + 1)


def _with_indent(body: str, column: int) -> str:
    """`body` of a `{{ ... }}` expression with the indentation filter applied to all of it."""
    lead = 1 if body[:1] in _WHITESPACE_CONTROL and body[:1] else 0
    trail = 1 if len(body) > lead and body[-1] in _WHITESPACE_CONTROL else 0
    inner = body[lead : len(body) - trail]
    return f"{body[:lead]} ({inner}) | {INDENT_FILTER}({column}) {body[len(body) - trail :]}"


def add_indent_filters(source: str) -> str:
    """Return `source` with the indentation filter added where a multi-line filter is used."""
    pieces: list[str] = []
    done = 0
    position = 0
    while (found := _OPEN.search(source, position)) is not None:
        start = found.start()
        kind = source[start + 1]
        if kind == "%" and (raw := _RAW_START.match(source, start)) is not None:
            end_raw = _RAW_END.search(source, raw.end())
            if end_raw is None:
                break
            position = end_raw.end()
            continue
        closer = {"{": "}}", "%": "%}", "#": "#}"}[kind]
        end = (
            source.find(closer, found.end())
            if kind == "#"
            else _tag_end(source, found.end(), closer)
        )
        if end < 0:
            break
        position = end + 2
        if kind != "{":
            continue
        body = source[found.end() : end]
        if _MULTILINE_FILTER.search(_STRING.sub("''", body)):
            pieces += [source[done : found.end()], _with_indent(body, _column(source, start))]
            done = end
    pieces.append(source[done:])
    return "".join(pieces)
