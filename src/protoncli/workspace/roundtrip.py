"""Edit YAML text in place with ruamel.yaml's round-trip mode, keeping what a person wrote.

Comments, blank lines, key order, flow or block style, indentation and the quoting of every
value an edit does not touch survive. Three things ruamel.yaml does not do on its own are done
here:

- Comments and `---` before the document, and comments after it, are kept as text around it.
- A comment (or blank line) that follows the last value of a block sits, for ruamel.yaml, on that
  value; a key or list item added to the block would land below the comment. Each such comment is
  moved to stand before the entry that follows it in the file, where it stays whatever is added.
- pcli reads YAML with PyYAML (YAML 1.1); ruamel.yaml writes YAML 1.2, and the two disagree on
  plain scalars such as `yes`, `on` or `1:20`. A value an edit adds is quoted when YAML 1.1 would
  read it as anything but the text it is; a plain value already in the file is written back as it
  was.

ruamel.yaml is imported inside the functions: only commands that edit specs pay for it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from protoncli.workspace.model import reads_as_text
from protoncli.yamlio import parse_yaml

NEW_FILE_INDENT = (2, 4, 2)  # mapping, sequence, dash offset: `instances:\n  - name: ...`
_WIDTH = 4096  # never fold long values onto several lines
_HEAD_LINE = re.compile(r"[ \t]*(#.*)?|%.*|---([ \t]+#.*)?[ \t]*")
_TAIL_LINE = re.compile(r"[ \t]*(#.*)?")


class RoundTripError(Exception):
    """YAML that ruamel.yaml cannot load; `line` is 1-based in the whole text, 0 when unknown."""

    def __init__(self, problem: str, line: int) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def edit_yaml_text(text: str, changes: Callable[[Any], None]) -> str:
    """The text after `changes` edited its document (a `CommentedMap` for a mapping).

    The document holds values as ruamel.yaml reads them (YAML 1.2: `yes` is text there); read
    values with PyYAML, edit them here.
    """
    head, body, tail = _split_text(text)
    indent = guess_indent(body)
    document = _load(body, first_line=head.count("\n") + 1)
    _keep_plain_values(document)
    _attach_comments_forward(document, None)
    changes(document)
    _quote_ambiguous(document)
    return head + _dump(document, indent) + tail


def dump_new_yaml(document: Mapping[str, Any]) -> str:
    """YAML text of plain data in Proton's style, with ambiguous text quoted."""
    return _dump(_prepare_new(document), NEW_FILE_INDENT)


def double_quoted(value: str) -> Any:
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    return DoubleQuotedScalarString(value)


# ---------------------------------------------------------------------------------------------
# Text around the document


def _split_text(text: str) -> tuple[str, str, str]:
    """(head, body, tail): comments and `---` before the document, the document, comments after.

    The head runs to the last `---` among the leading comment, blank and directive lines (with no
    `---`, ruamel.yaml keeps leading comments itself). The tail is the trailing comment and blank
    lines, unless they belong to the document (a literal block ending in `#` lines).
    """
    lines = text.splitlines(keepends=True)
    cut = 0
    for index, line in enumerate(lines):
        bare = line.rstrip("\r\n")
        if _HEAD_LINE.fullmatch(bare) is None:
            break
        if bare.startswith("---"):
            cut = index + 1
    end = len(lines)
    while end > cut and _TAIL_LINE.fullmatch(lines[end - 1].rstrip("\r\n")):
        end -= 1
    head, body, tail = "".join(lines[:cut]), "".join(lines[cut:end]), "".join(lines[end:])
    if tail and body and not body.endswith("\n"):
        body += "\n"
    if tail and _same_data(body, body + tail) is False:
        return head, body + tail, ""
    return head, body, tail


def _same_data(first: str, second: str) -> bool | None:
    """Whether two texts hold the same data (None when either does not parse)."""
    try:
        return bool(
            parse_yaml(first, "<yaml>", ValueError) == parse_yaml(second, "<yaml>", ValueError)
        )
    except ValueError:
        return None


def guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the text uses them.

    The first nested mapping gives the mapping indent; the first block sequence gives the
    columns of its dash and of the item's content, relative to the parent key. Without one of
    them, Proton's style: 2, and the dash 2 columns in with the content 2 further.
    """
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    parent: tuple[int, bool] | None = None  # (key column, opens a nested block)
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        column = len(raw) - len(raw.lstrip(" "))
        is_item = stripped == "-" or stripped.startswith("- ")
        if parent is not None and parent[1] and column >= parent[0]:
            if is_item and sequence is None:  # a dash may stand in its parent key's column
                sequence = (_content_column(raw) - parent[0], column - parent[0])
            elif not is_item and mapping is None and column > parent[0]:
                mapping = column - parent[0]
        if mapping is not None and sequence is not None:
            break
        parent = (_content_column(raw), stripped.split(" #", 1)[0].rstrip().endswith(":"))
    mapping = mapping or NEW_FILE_INDENT[0]
    sequence_indent, offset = sequence or (mapping + 2, mapping)
    return mapping, sequence_indent, offset


def _content_column(raw: str) -> int:
    """The column of a line's content after its indentation and any `- ` dashes."""
    column = len(raw) - len(raw.lstrip(" "))
    rest = raw[column:]
    while rest == "-" or rest.startswith("- "):
        after = rest[1:].lstrip(" ")
        column += len(rest) - len(after)
        rest = after
    return column


# ---------------------------------------------------------------------------------------------
# Loading and dumping


def _handler(indent: tuple[int, int, int]) -> Any:
    from ruamel.yaml import YAML

    handler = YAML(typ="rt")
    handler.preserve_quotes = True
    handler.width = _WIDTH
    mapping, sequence, offset = indent
    handler.indent(mapping=mapping, sequence=sequence, offset=offset)
    return handler


def _load(body: str, *, first_line: int) -> Any:
    from ruamel.yaml.error import YAMLError

    try:
        return _handler(NEW_FILE_INDENT).load(body)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RoundTripError(str(problem), 0 if mark is None else mark.line + first_line) from exc


def _dump(document: Any, indent: tuple[int, int, int]) -> str:
    buffer = io.StringIO()
    _handler(indent).dump(document, buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# YAML 1.1 / 1.2 scalars


def _children(node: Any) -> list[tuple[Any, Any]]:
    if isinstance(node, MutableMapping):
        return list(node.items())
    if isinstance(node, list):
        return list(enumerate(node))
    return []


def _wrap_non_text(node: Any, wrap: Callable[[str], Any]) -> None:
    """Replace, at any depth, each plain `str` that YAML 1.1 reads as non-text by `wrap(it)`."""
    for key, value in _children(node):
        if type(value) is str and not reads_as_text(value):
            node[key] = wrap(value)
        else:
            _wrap_non_text(value, wrap)


def _keep_plain_values(node: Any) -> None:
    """Mark plain scalars that YAML 1.1 reads as non-text, so they are written back plain."""
    from ruamel.yaml.scalarstring import PlainScalarString

    _wrap_non_text(node, PlainScalarString)


def _quote_ambiguous(node: Any) -> None:
    """Quote new text values that YAML 1.1 would read as something else (`on`, `1:20`)."""
    _wrap_non_text(node, double_quoted)


def _prepare_new(value: Any) -> Any:
    """A copy made of plain dicts and lists, with ambiguous text quoted."""
    if isinstance(value, Mapping):
        return {str(key): _prepare_new(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_prepare_new(item) for item in value]
    if type(value) is str and not reads_as_text(value):
        return double_quoted(value)
    return value


# ---------------------------------------------------------------------------------------------
# Comments


def _is_block(value: Any) -> bool:
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    return (
        isinstance(value, CommentedMap | CommentedSeq)
        and len(value) > 0
        and not value.fa.flow_style()
    )


def _attach_comments_forward(node: Any, following: tuple[Any, Any] | None) -> None:
    """Move the comment lines after each value to stand before the entry that follows it.

    `following` is the (container, key or index) of the entry after `node`'s block, None at
    the end of the document (where comments stay put).
    """
    keys = [key for key, _ in _children(node)]
    for position, key in enumerate(keys):
        after = (node, keys[position + 1]) if position + 1 < len(keys) else following
        value = node[key]
        if _is_block(value):
            _attach_comments_forward(value, after)
        elif after is not None:
            _move_trailing_lines(node, key, after)


def _move_trailing_lines(node: Any, key: Any, after: tuple[Any, Any]) -> None:
    """Split a value's comment into its end-of-line part and the lines below; move the latter."""
    from ruamel.yaml.comments import CommentedMap

    slot = 2 if isinstance(node, CommentedMap) else 0
    entry = node.ca.items.get(key)
    token = entry[slot] if entry is not None and len(entry) > slot else None
    if token is None:
        return
    first, newline, rest = token.value.partition("\n")
    if not newline or not rest:
        return
    if first.strip():
        token.value = first + "\n"
    else:
        entry[slot] = None
    container, next_key = after
    _prepend_comment_lines(container, next_key, rest.splitlines())


def _prepend_comment_lines(container: Any, key: Any, lines: list[str]) -> None:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    tokens = []
    for line in lines:
        text = line.lstrip(" ")
        column = len(line) - len(text) if text else 0
        tokens.append(CommentToken(text + "\n", CommentMark(column)))
    size = 4 if isinstance(container, CommentedMap) else 2
    entry = container.ca.items.setdefault(key, [None] * size)
    entry[1] = tokens + list(entry[1] or [])
