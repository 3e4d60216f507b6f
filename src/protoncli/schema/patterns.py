"""A schema's `pattern` in words, for the hint of a question and for validation errors.

People who create an environment should not have to read regular expressions. `describe`
puts the common shapes into words; for any other pattern it gives None, and the pattern is
shown as written.

Described, when the pattern is anchored (`^...$`):

- one character class, repeated: `^[a-z0-9-]+$` is "lower-case letters, digits and '-' only",
  `^[A-Z]{3}$` "exactly 3 upper-case letters";
- a first character, then characters of a wider class (and perhaps a last one):
  `^[a-z][a-z0-9-]*$` is "lower-case letters, digits and '-', starting with a letter";
  `^[a-z]([a-z0-9-]*[a-z0-9])?$` adds "and ending with a letter or digit";
- literal alternatives in a group: `^(dev|staging|prod)$` is "one of 'dev', 'staging' or
  'prod'";
- any other sequence of classes, literals and such alternatives, in order:
  `^[a-z]{2}-[0-9]+$` is "2 lower-case letters, then '-', then digits", and an optional group
  `(-[a-z]+)?` "optionally '-' followed by lower-case letters";
- an address range pattern (see `schema.cidr`): "an IPv4 address range (CIDR) such as
  10.0.0.0/16, with a prefix from /16 to /24".

Not described (shown as written): unanchored patterns, negated classes, backreferences,
lookarounds, repeated groups other than optional literals.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from protoncli.schema.cidr import EXAMPLE, IPV4_BITS, cidr_pattern

_CLASS_ESCAPES = {
    "d": string.digits,
    "w": string.ascii_letters + string.digits + "_",
    "s": " \t\n\r\f\v",
}
_SPECIAL = set(".^$*+?()[]{}|\\")
_WHITESPACE = set(" \t\n\r\f\v")
_RUN = 3  # consecutive letters or digits shown as a range ("letters a-f")
_FRAMED_MOST = 3  # first character, body, last character


class _Unsupported(Exception):  # noqa: N818 - internal control flow, never leaves this module
    """A pattern outside the shapes put into words."""


@dataclass(frozen=True)
class _Chars:
    """A set of characters: a class, an escape such as \\d, or one literal character."""

    chars: frozenset[str]

    @property
    def literal(self) -> str | None:
        return next(iter(self.chars)) if len(self.chars) == 1 else None


@dataclass(frozen=True)
class _Any:
    """`.`: any character."""


@dataclass(frozen=True)
class _Choice:
    """A group of literal alternatives: `(dev|prod)`."""

    options: tuple[str, ...]


@dataclass(frozen=True)
class _Group:
    """A group holding one sequence: `([a-z0-9-]*[a-z0-9])`."""

    items: tuple[_Item, ...]


@dataclass(frozen=True)
class _Item:
    atom: _Chars | _Any | _Choice | _Group
    low: int = 1
    high: int | None = 1  # None: no upper bound

    @property
    def once(self) -> bool:
        return (self.low, self.high) == (1, 1)


# --- reading a pattern --------------------------------------------------------------------------


class _Reader:
    """A recursive-descent reader of the subset of regular expressions described here."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _Unsupported
        self.at += 1
        return char

    def alternatives(self) -> list[tuple[_Item, ...]]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.take()
            branches.append(self.sequence())
        return branches

    def sequence(self) -> tuple[_Item, ...]:
        items: list[_Item] = []
        while self.peek() not in ("", "|", ")"):
            atom = self.atom()
            low, high = self.quantifier()
            items.append(_Item(atom, low, high))
        return tuple(items)

    def atom(self) -> _Chars | _Any | _Choice | _Group:
        char = self.take()
        if char == "[":
            return _Chars(self.char_class())
        if char == "(":
            return self.group()
        if char == "\\":
            return _Chars(self.escape(in_class=False))
        if char == ".":
            return _Any()
        if char in _SPECIAL:
            raise _Unsupported
        return _Chars(frozenset(char))

    def group(self) -> _Choice | _Group:
        if self.peek() == "?":
            self.take()
            if self.take() != ":":
                raise _Unsupported  # lookarounds, named groups
        branches = self.alternatives()
        if self.take() != ")":
            raise _Unsupported
        if len(branches) == 1:
            return _Group(branches[0])
        options = tuple(_literal_text(branch) for branch in branches)
        return _Choice(options)

    def escape(self, *, in_class: bool) -> frozenset[str]:
        char = self.take()
        if char in _CLASS_ESCAPES:
            return frozenset(_CLASS_ESCAPES[char])
        if char.isalnum():
            raise _Unsupported  # \b, \D, \1, \x41, ...
        if not in_class and char not in _SPECIAL and char not in "-/":
            raise _Unsupported
        return frozenset(char)

    def char_class(self) -> frozenset[str]:
        if self.peek() == "^":
            raise _Unsupported  # a negated class
        chars: set[str] = set()
        first = True
        while first or self.peek() != "]":
            first = False
            char = self.take()
            if char == "\\":
                chars |= self.escape(in_class=True)
                continue
            if self.peek() == "-" and self.text[self.at + 1 : self.at + 2] not in ("]", ""):
                self.take()
                end = self.take()
                if end == "\\" or ord(end) < ord(char):
                    raise _Unsupported
                chars |= {chr(code) for code in range(ord(char), ord(end) + 1)}
            else:
                chars.add(char)
        self.take()
        return frozenset(chars)

    def quantifier(self) -> tuple[int, int | None]:
        char = self.peek()
        bounds: tuple[int, int | None] = (1, 1)
        if char == "*":
            bounds = (0, None)
        elif char == "+":
            bounds = (1, None)
        elif char == "?":
            bounds = (0, 1)
        elif char == "{":
            return self.counted()
        else:
            return bounds
        self.take()
        if self.peek() == "?":
            self.take()  # lazy: the same values match
        return bounds

    def counted(self) -> tuple[int, int | None]:
        end = self.text.find("}", self.at)
        if end < 0:
            raise _Unsupported
        inside = self.text[self.at + 1 : end]
        match = re.fullmatch(r"([0-9]+)(,([0-9]*))?", inside)
        if match is None:
            raise _Unsupported
        self.at = end + 1
        low = int(match.group(1))
        if match.group(2) is None:
            return low, low
        return low, int(match.group(3)) if match.group(3) else None


def _literal_text(items: tuple[_Item, ...]) -> str:
    """The text a sequence of single literal characters stands for."""
    text = ""
    for item in items:
        literal = item.atom.literal if isinstance(item.atom, _Chars) else None
        if literal is None or not item.once:
            raise _Unsupported
        text += literal
    return text


# --- words --------------------------------------------------------------------------------------


def _quoted(text: str) -> str:
    return f'"{text}"' if "'" in text else f"'{text}'"


def _nouns(chars: frozenset[str], *, plain_letters: bool = False) -> list[tuple[str, str]]:
    """(singular, plural) nouns naming `chars`: letters, digits, runs, spaces, characters.

    `plain_letters` says "letter" for lower-case or upper-case letters alone (where the
    context already said which)."""
    lower, upper = set(string.ascii_lowercase), set(string.ascii_uppercase)
    digits = set(string.digits)
    rest = set(chars)
    nouns: list[tuple[str, str]] = []
    if lower | upper <= rest:
        nouns.append(("letter", "letters"))
        rest -= lower | upper
    for letters, case in ((lower, "lower-case "), (upper, "upper-case ")):
        if letters <= rest:
            word = "" if plain_letters else case
            nouns.append((f"{word}letter", f"{word}letters"))
            rest -= letters
    if digits <= rest:
        nouns.append(("digit", "digits"))
        rest -= digits
    for run in _runs(rest):
        kind = "digit" if run[0].isdigit() else "letter"
        nouns.append((f"{kind} {run[0]}-{run[-1]}", f"{kind}s {run[0]}-{run[-1]}"))
        rest -= set(run)
    if rest >= _WHITESPACE:
        nouns.append(("whitespace character", "whitespace"))
        rest -= _WHITESPACE
    if " " in rest:
        nouns.append(("space", "spaces"))
        rest.discard(" ")
    if rest - set(string.printable):
        raise _Unsupported
    nouns += [(_quoted(char), _quoted(char)) for char in sorted(rest)]
    return nouns


def _runs(chars: set[str]) -> list[str]:
    """Runs of at least _RUN consecutive letters or digits among `chars`."""
    found = []
    for alphabet in (string.ascii_lowercase, string.ascii_uppercase, string.digits):
        run = ""
        for char in alphabet + " ":
            if char in chars:
                run += char
                continue
            if len(run) >= _RUN:
                found.append(run)
            run = ""
    return found


def _listing(words: list[str], conjunction: str) -> str:
    if len(words) == 1:
        return words[0]
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}"


def _plural(chars: frozenset[str]) -> str:
    return _listing([plural for _, plural in _nouns(chars)], "and")


def _singular(chars: frozenset[str], *, plain_letters: bool = False) -> str:
    nouns = [single for single, _ in _nouns(chars, plain_letters=plain_letters)]
    text = _listing(nouns, "or")
    if text[0] in "'\"":
        return text
    return f"{'an' if text[0] in 'aeiou' else 'a'} {text}"


def _count(low: int, high: int | None, plural: str) -> str:
    if high is None:
        return plural if low <= 1 else f"at least {low} {plural}"
    if low == high:
        return f"{low} {plural}"
    if low == 0:
        return f"up to {high} {plural}"
    return f"{low} to {high} {plural}"


def _item_words(item: _Item) -> str:
    atom = item.atom
    bounds = (item.low, item.high)
    plural: str | None = None
    if isinstance(atom, _Group):
        single = _sequence_words(atom.items, joined=" followed by ")
        if bounds != (0, 1):
            raise _Unsupported  # a repeated group
    elif isinstance(atom, _Choice):
        single = "one of " + _listing([_quoted(option) for option in atom.options], "or")
    elif isinstance(atom, _Any):
        single, plural = "a character", "characters"
    elif atom.literal is not None:
        single = _quoted(atom.literal)
    else:
        single, plural = _singular(atom.chars), _plural(atom.chars)
    if item.once:
        return single
    if bounds == (0, 1):
        return f"optionally {single}"
    if plural is None:
        raise _Unsupported  # a repeated literal or choice
    if bounds == (0, None):
        return f"any number of {plural}"
    return _count(item.low, item.high, plural)


def _merged(items: tuple[_Item, ...]) -> list[_Item | str]:
    """Consecutive single literal characters joined into one literal text."""
    merged: list[_Item | str] = []
    for item in items:
        literal = item.atom.literal if isinstance(item.atom, _Chars) else None
        if literal is not None and item.once:
            if merged and isinstance(merged[-1], str):
                merged[-1] += literal
            else:
                merged.append(literal)
        else:
            merged.append(item)
    return merged


def _sequence_words(items: tuple[_Item, ...], *, joined: str = ", then ") -> str:
    parts = [
        _quoted(part) if isinstance(part, str) else _item_words(part) for part in _merged(items)
    ]
    if not parts:
        raise _Unsupported
    return joined.join(parts)


def _whole_class(item: _Item) -> str | None:
    """One character class repeated: the whole pattern."""
    if not isinstance(item.atom, _Chars) or item.atom.literal is not None:
        return None
    plural = _plural(item.atom.chars)
    bounds = (item.low, item.high)
    if bounds == (1, None):
        return f"{plural} only"
    if bounds == (0, None):
        return f"{plural} only, or nothing"
    if item.low == item.high and item.low > 1:
        return f"exactly {item.low} {plural}"
    return None


def _framed(items: tuple[_Item, ...]) -> str | None:
    """A first character, characters of a wider class, and perhaps a last character (also in
    an optional group, the DNS label's shape)."""
    if not items or len(items) > _FRAMED_MOST:
        return None
    first, rest = items[0], items[1:]
    if len(rest) == 1 and isinstance(rest[0].atom, _Group):
        inner = rest[0].atom.items
        optional = (rest[0].low, rest[0].high) == (0, 1)
        if optional and len(inner) == _FRAMED_MOST - 1 and inner[0].low == 0:
            return _framed_words(first, inner[0], inner[1], shortest=1)
        return None
    if not rest:
        return None
    last = rest[1] if len(rest) > 1 else None
    shortest = 1 + rest[0].low + (1 if last is not None else 0)
    return _framed_words(first, rest[0], last, shortest=shortest)


def _framed_words(first: _Item, body: _Item, last: _Item | None, *, shortest: int) -> str | None:
    ends = [first] if last is None else [first, last]
    atoms = [item.atom for item in (*ends, body)]
    if not all(isinstance(atom, _Chars) for atom in atoms) or not all(i.once for i in ends):
        return None
    wide = body.atom.chars  # type: ignore[union-attr] # checked above
    if body.once or not all(item.atom.chars <= wide for item in ends):  # type: ignore[union-attr]
        return None
    plain = not (set(string.ascii_lowercase) <= wide and set(string.ascii_uppercase) <= wide)
    text = f"{_plural(wide)}, starting with "
    text += _singular(first.atom.chars, plain_letters=plain)  # type: ignore[union-attr]
    if last is not None:
        text += " and ending with " + _singular(last.atom.chars, plain_letters=plain)  # type: ignore[union-attr]
    longest = None if body.high is None else 1 + body.high + (1 if last is not None else 0)
    if longest is not None:
        return f"{text}, {_count(shortest, longest, 'characters')}"
    return f"{text}, at least {shortest} characters" if shortest > 1 else text


def _cidr_words(pattern: str) -> str | None:
    found = cidr_pattern(pattern)
    if found is None:
        return None
    prefixes = sorted(found.prefixes)
    if not prefixes:
        return "an IPv6 address range (CIDR) such as 2001:db8::/32" if found.ipv6 else None
    version = "an IPv4 or IPv6" if found.ipv6 else "an IPv4"
    text = f"{version} address range (CIDR) such as {EXAMPLE}"
    if prefixes == list(range(IPV4_BITS + 1)):
        return text
    if prefixes == list(range(prefixes[0], prefixes[-1] + 1)):
        return f"{text}, with a prefix from /{prefixes[0]} to /{prefixes[-1]}"
    return f"{text}, with a prefix of " + _listing([f"/{bits}" for bits in prefixes], "or")


@lru_cache(maxsize=512)
def describe(pattern: str) -> str | None:
    """The pattern in words, or None when it is not one of the shapes described."""
    cidr = _cidr_words(pattern)
    if cidr is not None:
        return cidr
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        return None
    try:
        re.compile(pattern)
        reader = _Reader(pattern[1:-1])
        branches = reader.alternatives()
        if reader.peek():
            return None  # an unmatched ")"
        return _branches_words(branches)
    except (_Unsupported, re.error):
        return None


def _branches_words(branches: list[tuple[_Item, ...]]) -> str:
    if len(branches) > 1:
        raise _Unsupported  # ^a|b$ is "starts with a, or ends with b"
    (items,) = branches
    if len(items) == 1 and isinstance(items[0].atom, _Group) and items[0].once:
        items = items[0].atom.items  # ^(...)$
    if len(items) == 1:
        whole = _whole_class(items[0])
        if whole is not None:
            return whole
    return _framed(items) or _sequence_words(items)


def pattern_hint(pattern: str) -> str:
    """What a value must look like, for a question's hint: the words, else the pattern."""
    words = describe(pattern)
    return words if words is not None else f"matching the pattern {pattern}"
