"""Strings a regular expression matches: placeholder values for inputs with a `pattern`.

Schemas use a small part of regular-expression syntax: literals and escapes, character classes
and ranges, `.`, groups (capturing, non-capturing, named), alternatives, the quantifiers `*`, `+`,
`?` and `{m,n}`, anchors, and now and then a lookahead. `pattern_examples` reads that subset with
a small recursive-descent parser and writes strings from it, preferring lower-case letters, then
digits (`1` before `0`, so numbers have no leading zero), taking the first alternative of inner
groups and the fewest repetitions first; each string is kept only when Python's `re` finds the
pattern in it (JSON Schema's `pattern` is a search, not a full match). Anything it cannot read
(a malformed pattern, an unsupported construct) yields nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_PREFERRED = "abcdefghijklmnopqrstuvwxyz123456789" + "0ABCDEFGHIJKLMNOPQRSTUVWXYZ-_.:/ "
_PRINTABLE = _PREFERRED + "".join(
    chr(code) for code in range(33, 127) if chr(code) not in _PREFERRED
)
_CLASS_ESCAPES = {
    "d": "0123456789",
    "w": "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_",
    "s": " ",
}
_CHAR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}


@dataclass(frozen=True)
class _Chars:
    options: str  # allowed characters, preferred first


@dataclass(frozen=True)
class _Repeat:
    node: _Node
    low: int
    high: int | None


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Node, ...]


@dataclass(frozen=True)
class _Alt:
    branches: tuple[_Seq, ...]


_Node = _Chars | _Repeat | _Seq | _Alt


class _PatternError(ValueError):
    pass


class _Parser:
    """A recursive-descent reader of the regular-expression subset schemas use."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _PatternError("unexpected end of pattern")
        self.pos += 1
        return char

    def alternation(self) -> _Alt:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return _Alt(tuple(branches))

    def sequence(self) -> _Seq:
        items: list[_Node] = []
        while self.peek() and self.peek() not in "|)":
            items.append(self.quantified(self.atom()))
        return _Seq(tuple(items))

    def atom(self) -> _Node:
        char = self.take()
        if char == "(":
            return self.group()
        if char == "[":
            return self.char_class()
        if char == ".":
            return _Chars(_PREFERRED.strip())
        if char in "^$":
            return _Seq(())
        if char == "\\":
            return self.escape()
        return _Chars(char)

    def group(self) -> _Node:
        skip = False
        if self.text.startswith("?", self.pos):
            head = self.text[self.pos : self.pos + 4]
            if head.startswith(("?=", "?!", "?<=", "?<!", "?#")):
                skip = True
                self.pos += 3 if head.startswith(("?<=", "?<!")) else 2
            elif head.startswith(("?P<", "?<")):
                self.pos = self.text.index(">", self.pos) + 1
            elif head.startswith("?P="):
                self.pos = self.text.index(")", self.pos)
                skip = True
            else:
                found = re.match(r"\?[a-zA-Z-]*(:|\))", self.text[self.pos :])
                if found is None:
                    raise _PatternError("unknown group")
                self.pos += found.end() - (1 if found.group(1) == ")" else 0)
        inner = self.alternation()
        if self.take() != ")":
            raise _PatternError("unclosed group")
        return _Seq(()) if skip else inner

    def escape(self) -> _Node:
        char = self.take()
        if char in _CLASS_ESCAPES:
            return _Chars(_ordered(set(_CLASS_ESCAPES[char])))
        if char in "DWS":
            excluded = set(_CLASS_ESCAPES[char.lower()])
            return _Chars(_ordered(set(_PRINTABLE) - excluded))
        if char in "bBAZz" or char.isdigit():
            return _Seq(())  # anchors, word boundaries and back-references add nothing
        return _Chars(self.literal_escape(char))

    def literal_escape(self, char: str) -> str:
        if char in _CHAR_ESCAPES:
            return _CHAR_ESCAPES[char]
        if char in "xu":
            width = 2 if char == "x" else 4
            digits = self.text[self.pos : self.pos + width]
            self.pos += width
            return chr(int(digits, 16))
        return char

    def char_class(self) -> _Chars:
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        allowed: set[str] = set()
        first = True
        while first or self.peek() != "]":
            first = False
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped in _CLASS_ESCAPES:
                    allowed |= set(_CLASS_ESCAPES[escaped])
                    continue
                char = self.literal_escape(escaped)
            if self.peek() == "-" and self.text[self.pos + 1 : self.pos + 2] not in ("]", ""):
                self.pos += 1
                end = self.take()
                if end == "\\":
                    end = self.literal_escape(self.take())
                allowed |= {chr(code) for code in range(ord(char), ord(end) + 1)}
            else:
                allowed.add(char)
        self.pos += 1
        if negated:
            allowed = set(_PRINTABLE) - allowed
        if not allowed:
            raise _PatternError("empty character class")
        return _Chars(_ordered(allowed))

    def quantified(self, node: _Node) -> _Node:
        char = self.peek()
        bounds: tuple[int, int | None] | None = None
        if char and char in "*+?":
            self.pos += 1
            bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[char]
        elif char == "{":
            found = re.match(r"\{(\d*)(,?)(\d*)\}", self.text[self.pos :])
            if found is not None and (found.group(1) or found.group(3)):
                self.pos += found.end()
                low = int(found.group(1) or 0)
                high = int(found.group(3)) if found.group(3) else None
                bounds = (low, high if found.group(2) else low)
        if bounds is None:
            return node
        if self.peek() and self.peek() in "?+":  # lazy or possessive: the same strings
            self.pos += 1
        return _Repeat(node, bounds[0], bounds[1])


def _ordered(chars: set[str]) -> str:
    preferred = [char for char in _PRINTABLE if char in chars]
    rest = sorted(chars - set(preferred))
    return "".join(preferred + rest)


def _emit(node: _Node, extra: int) -> str:
    if isinstance(node, _Chars):
        return node.options[0]
    if isinstance(node, _Seq):
        return "".join(_emit(item, extra) for item in node.items)
    if isinstance(node, _Alt):
        return _emit(node.branches[0], extra)
    count = node.low + extra if node.high is None else min(node.high, node.low + extra)
    return _emit(node.node, extra) * count


def pattern_examples(
    pattern: str, *, min_length: int = 0, max_length: int | None = None
) -> Iterator[str]:
    """Strings that `pattern` matches (searched, as JSON Schema does), shortest first."""
    try:
        compiled = re.compile(pattern)
        tree = _Parser(pattern).alternation()
    except (re.error, _PatternError, ValueError):
        return
    seen: set[str] = set()
    for branch in tree.branches:
        for extra in (0, 1, 2, 4, 8, 16, 32, 64):
            text = _emit(branch, extra)
            if len(text) < min_length:
                padded = text + "a" * (min_length - len(text))
                text = padded if compiled.search(padded) else text
            fits = len(text) >= min_length and (max_length is None or len(text) <= max_length)
            if fits and text not in seen and compiled.search(text):
                seen.add(text)
                yield text
