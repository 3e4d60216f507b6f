"""The Jinja environment CloudFormation templates render in, and its error messages.

Proton renders with Python Jinja; pcli does the same in a `SandboxedEnvironment` with Jinja's
default whitespace rules (`trim_blocks`, `lstrip_blocks` and `keep_trailing_newline` off, which
official templates rely on), autoescape off, strict undefined, and Proton's filters.

Values render as Python renders them: numbers as `80`, booleans as `True`/`False` (both read as
booleans by YAML), lists as Python lists. Every failure becomes a `RenderError` naming the
template file and line; no Jinja traceback reaches a user.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import cache, lru_cache
from typing import Any, cast

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from protoncli.errors import ExitCode, RenderError
from protoncli.render.filters import FILTERS, FilterError
from protoncli.render.namespaces import Namespace
from protoncli.render.prepass import add_indent_filters

SANDBOX_HINT = "templates can read their parameters, not Python internals"
_UNSAFE_ATTRIBUTE = re.compile(r"attribute '([^']+)'")
_RESOLVE_REFERENCE = re.compile(r"(?<!['\"])\{\{-?\s*resolve:[^}\n]*\}\}")


class EmptyValueError(RenderError):
    """A template read a value that is empty and must be given (a service's repository field
    in a pipeline): a usage error, since the fix is a flag or a spec header key."""

    exit_code = ExitCode.USAGE


class PathDict(dict[str, Any]):
    """A namespace mapping that knows its dotted path, so undefined keys can be named in full.

    Keys listed in `empty` (dotted path -> hint) are left out: they read as undefined, and
    reading one raises `EmptyReferenceError`."""

    __slots__ = ("_pcli_empty", "_pcli_hints", "_pcli_path")

    def __init__(
        self,
        data: Mapping[str, Any],
        path: str,
        hints: Mapping[str, str],
        empty: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(data)
        self._pcli_path = path
        self._pcli_hints = hints
        self._pcli_empty = empty or {}


class PlaceholderDict(PathDict):
    """Outputs when rendering without deployed resources: missing keys read "placeholder-<key>"."""

    __slots__ = ()

    def __missing__(self, key: str) -> str:
        return placeholder_for(key)


_PLACEHOLDER_SHAPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("securitygroup",), "sg-{hex}"),
    (("subnet",), "subnet-{hex}"),
    (("vpcid",), "vpc-{hex}"),
    (("cidr",), "10.0.0.0/16"),
    (("url", "uri", "endpoint"), "https://placeholder.example.com/{key}"),
)


def placeholder_for(key: str) -> str:
    """A stand-in output value shaped like what its name suggests, so linters accept it.

    `VpcId` -> `vpc-<17 hex digits>`, `...SubnetId` -> `subnet-...`, `...SecurityGroupId` ->
    `sg-...` (the digits derive from the key, so two outputs never share a value), `...Arn` ->
    an ARN, `...Url` -> an https URL, `...Cidr` -> a CIDR block, anything else ->
    `placeholder-<key>`.
    """
    folded = key.lower().replace("_", "").replace("-", "")
    digits = hashlib.sha256(key.encode("utf-8")).hexdigest()[:17]
    if folded.endswith("arn"):
        return f"arn:aws:iam::000000000000:policy/placeholder-{key}"
    for fragments, shape in _PLACEHOLDER_SHAPES:
        if any(fragment in folded for fragment in fragments):
            return shape.format(hex=digits, key=key)
    return f"placeholder-{key}"


class UndefinedReferenceError(UndefinedError):
    """An undefined reference, with its full dotted path and what to do about it."""

    def __init__(self, path: str, hint: str | None, *, top_level: bool) -> None:
        super().__init__(f"'{path}' is undefined")
        self.path = path
        self.hint = hint
        self.top_level = top_level


class EmptyReferenceError(UndefinedError):
    """A reference to a value that is empty and must be given before the template renders."""

    def __init__(self, path: str, hint: str) -> None:
        super().__init__(f"'{path}' is empty")
        self.path = path
        self.hint = hint


class SandboxRefusalError(SecurityError):
    def __init__(self, message: str, attribute: str | None) -> None:
        super().__init__(message)
        self.attribute = attribute


def _child_path(parent: str, name: Any) -> str:
    if isinstance(name, int):
        return f"{parent}[{name}]"
    return f"{parent}.{name}" if parent else str(name)


def _hint_for(path: str, parent: str, name: Any, hints: Mapping[str, str]) -> str | None:
    hint = hints.get(path) or hints.get(parent)
    return None if hint is None else hint.replace("{key}", str(name))


def _error_factory(obj: Any, name: Any, exc: type[Exception]) -> Callable[[str], Exception]:
    """Build the exception an undefined value raises when used (path and hint included)."""

    def make(message: str) -> Exception:
        dunder = isinstance(name, str) and name.startswith("__")
        if issubclass(exc, SecurityError) or dunder:
            # A `__dunder__` name is never a parameter: reaching for one (e.g. through the `attr`
            # filter, which turns the sandbox's refusal into an undefined) is an escape attempt.
            return SandboxRefusalError(message, name if isinstance(name, str) else None)
        if obj is missing and isinstance(name, str):
            return UndefinedReferenceError(name, None, top_level=True)
        if isinstance(obj, PathDict):
            parent = obj._pcli_path  # noqa: SLF001 - PathDict keeps its path private from templates
            path = _child_path(parent, name)
            hints = obj._pcli_hints  # noqa: SLF001 - same
            empty = obj._pcli_empty  # noqa: SLF001 - same
            if path in empty:
                return EmptyReferenceError(path, empty[path])
            return UndefinedReferenceError(
                path, _hint_for(path, parent, name, hints), top_level=False
            )
        return exc(message)

    return make


class PcliUndefined(StrictUndefined):
    """Strict undefined whose error names the full dotted path (`environment.outputs.VpcId`)."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = UndefinedError,
    ) -> None:
        factory = _error_factory(obj, name, exc)
        super().__init__(hint, obj, name, cast("type[TemplateRuntimeError]", factory))
        _LAST_UNDEFINED.set(self)


# The undefined value the running render made last. Python code that an undefined value reaches
# without calling one of its methods (`tojson`'s JSON encoder, `range`, `str.join`) raises a
# TypeError that names only its class ("Object of type PcliUndefined is not JSON serializable");
# the render reports such an error as this value's own undefined error, which names its path.
_LAST_UNDEFINED: ContextVar[PcliUndefined | None] = ContextVar("pcli_last_undefined", default=None)


@cache
def environment() -> SandboxedEnvironment:
    """The one Jinja environment of the process."""
    env = SandboxedEnvironment(
        undefined=PcliUndefined,
        autoescape=False,
        trim_blocks=False,
        lstrip_blocks=False,
        keep_trailing_newline=False,
    )
    env.filters.update(FILTERS)
    return env


@lru_cache(maxsize=256)
def _compile(source: str, filename: str) -> Template:
    """The template of `source` with its indentation filters added (`prepass`): both done
    once per text, however many instances render it."""
    env = environment()
    code = env.compile(add_indent_filters(source), name=filename, filename=filename)
    return env.template_class.from_code(env, code, env.make_globals(None))


def wrap(value: Any, path: str, namespace: Namespace) -> Any:
    """Turn the namespace's plain dicts into `PathDict`s (recursively)."""
    if isinstance(value, Mapping):
        cls = PlaceholderDict if path in namespace.placeholders else PathDict
        items = {
            key: wrap(item, _child_path(path, key), namespace)
            for key, item in value.items()
            if _child_path(path, key) not in namespace.empty
        }
        return cls(items, path, namespace.hints, namespace.empty)
    if isinstance(value, list):
        return [wrap(item, _child_path(path, index), namespace) for index, item in enumerate(value)]
    return value


def _template_line(exc: BaseException, filename: str) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _syntax_error(exc: TemplateSyntaxError, source: str, where: str) -> RenderError:
    lines = source.splitlines()
    text = lines[exc.lineno - 1] if 0 < exc.lineno <= len(lines) else ""
    reference = _RESOLVE_REFERENCE.search(text)
    if reference is not None:
        ref = reference.group(0)
        return RenderError(
            f"{where}: unescaped CloudFormation dynamic reference {ref}: "
            "Jinja reads '{{' as the start of an expression",
            hint=(
                f"escape it for Jinja: {{{{ '{ref}' }}}}, "
                "or wrap it in {% raw %}...{% endraw %}"
            ),
        )
    return RenderError(f"{where}: Jinja syntax error: {exc.message}")


def _root_hint(name: str, namespace: Namespace) -> str:
    hint = namespace.hints.get(name)
    if hint is not None:
        return hint.replace("{key}", name)
    names = ", ".join(sorted(namespace.values))
    return f"this template can use: {names}"


def _sandbox_error(exc: SecurityError, where: str) -> RenderError:
    attribute = exc.attribute if isinstance(exc, SandboxRefusalError) else None
    if attribute is None:
        found = _UNSAFE_ATTRIBUTE.search(str(exc))
        attribute = found.group(1) if found else None
    if attribute is None:
        return RenderError(
            f"{where}: the template tried something the sandbox refuses: {exc}", hint=SANDBOX_HINT
        )
    return RenderError(
        f"{where}: the template tried to reach '{attribute}', which the sandbox refuses",
        hint=SANDBOX_HINT,
    )


def _undefined_behind(exc: Exception) -> Exception | None:
    """The undefined error of the value behind a TypeError about an undefined value, if any."""
    undefined = _LAST_UNDEFINED.get()
    if not isinstance(exc, TypeError) or undefined is None:
        return None
    if PcliUndefined.__name__ not in str(exc):
        return None
    try:
        undefined._fail_with_undefined_error()  # noqa: SLF001 - raises the error naming its path
    except (UndefinedError, SecurityError) as named:
        return named
    return None


def _reference_error(
    exc: EmptyReferenceError | UndefinedReferenceError, where: str, namespace: Namespace
) -> RenderError:
    if isinstance(exc, EmptyReferenceError):
        return EmptyValueError(
            f"{where}: '{exc.path}' is empty, and the template reads it", hint=exc.hint
        )
    hint = _root_hint(exc.path, namespace) if exc.top_level else exc.hint
    return RenderError(f"{where}: '{exc.path}' is undefined", hint=hint)


def _runtime_error(exc: Exception, where: str, namespace: Namespace) -> RenderError:
    behind = _undefined_behind(exc)
    if behind is not None:
        return _runtime_error(behind, where, namespace)
    if isinstance(exc, EmptyReferenceError | UndefinedReferenceError):
        return _reference_error(exc, where, namespace)
    if isinstance(exc, SecurityError):
        return _sandbox_error(exc, where)
    if isinstance(exc, FilterError):
        return RenderError(f"{where}: {exc.message}", hint=exc.hint)
    if isinstance(exc, UndefinedError):
        return RenderError(f"{where}: {exc.message}")
    return RenderError(f"{where}: template error: {exc}")


def render_text(source: str, filename: str, namespace: Namespace, *, line_offset: int = 0) -> str:
    """Render one template text; raise `RenderError` naming `filename:line` on any failure.

    `line_offset` is added to template line numbers (for templates embedded in a larger file).
    """
    try:
        template = _compile(source, filename)
    except TemplateSyntaxError as exc:
        raise _syntax_error(exc, source, f"{filename}:{exc.lineno + line_offset}") from exc
    variables = {key: wrap(value, key, namespace) for key, value in namespace.values.items()}
    token = _LAST_UNDEFINED.set(None)
    try:
        return template.render(variables)
    except (
        TemplateError,
        FilterError,
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,
        AttributeError,
    ) as exc:
        line = _template_line(exc, filename)
        where = filename if line is None else f"{filename}:{line + line_offset}"
        raise _runtime_error(exc, where, namespace) from exc
    except RecursionError as exc:  # a macro that calls itself, or a loop of includes
        raise RenderError(
            f"{filename}: the template calls itself without end (Python's recursion limit "
            "was reached)",
            hint="look for a macro that calls itself, or calls that nest too deeply",
        ) from exc
    finally:
        _LAST_UNDEFINED.reset(token)
