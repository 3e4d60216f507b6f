"""YAML and JSON reading with positions, CloudFormation's short-form tags, and atomic writes.

Every loader here turns a parse failure into a `PcliError` subclass chosen by the caller, with the
file and line in the message, so no YAML traceback ever reaches a user.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml


class MarkedDict(dict[str, Any]):
    """A mapping that remembers the line (1-based) of each key in its source file."""

    line: int = 0
    key_lines: dict[str, int]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines = {}

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


def line_of(mapping: Any, key: str) -> int:
    """The line of `key` in a `MarkedDict`, or 0 for a mapping that carries no lines."""
    return mapping.line_of(key) if isinstance(mapping, MarkedDict) else 0


def _construct_marked_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> MarkedDict:
    loader.flatten_mapping(node)
    result = MarkedDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str):
            key = str(key)
        if key in result.key_lines:  # YAML forbids it; PyYAML would keep the last silently
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key '{key}' (also on line {result.key_lines[key]}): "
                "keep one of the two",
                key_node.start_mark,
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


def _loader_family(base: type[yaml.SafeLoader]) -> dict[str, type[yaml.SafeLoader]]:
    """The three loaders pcli uses (plain, marked, CloudFormation) on one parser base."""
    marked: type[yaml.SafeLoader] = type("MarkedLoader", (base,), {})
    marked.add_constructor(
        yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_marked_mapping
    )
    cloudformation: type[yaml.SafeLoader] = type("CloudFormationLoader", (base,), {})
    cloudformation.add_multi_constructor("!", _construct_intrinsic)
    return {"plain": base, "marked": marked, "cloudformation": cloudformation}


# libyaml's parser (shipped in PyYAML's wheels) is many times faster than the pure Python one and
# parses first; its error messages differ, so a failing document is parsed again with the Python
# parser, whose messages (and line numbers) are the ones pcli reports.
_PYTHON_LOADERS = _loader_family(yaml.SafeLoader)
_FAST_LOADERS = _loader_family(getattr(yaml, "CSafeLoader", yaml.SafeLoader))
CloudFormationLoader = _PYTHON_LOADERS["cloudformation"]


def _yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return None if mark is None else int(mark.line) + 1


def _describe_yaml_error(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    parts = [str(p) for p in (context, problem) if p]
    return ", ".join(parts) if parts else str(exc).splitlines()[0]


def parse_yaml(
    text: str,
    source: str,
    error: type[Exception],
    *,
    marked: bool = False,
    cloudformation: bool = False,
) -> Any:
    """Parse YAML text; raise `error(message)` naming `source:line` on failure.

    `marked=True` returns `MarkedDict`s (line numbers per key). `cloudformation=True` accepts
    CloudFormation's short-form tags.
    """
    flavour = "cloudformation" if cloudformation else ("marked" if marked else "plain")
    try:
        return yaml.load(text, Loader=_FAST_LOADERS[flavour])  # noqa: S506 - SafeLoader family
    except yaml.YAMLError:
        pass
    except RecursionError as exc:
        raise error(f"{source}: invalid YAML: nested too deeply to be read") from exc
    try:
        return yaml.load(text, Loader=_PYTHON_LOADERS[flavour])  # noqa: S506 - SafeLoader family
    except RecursionError as exc:
        raise error(f"{source}: invalid YAML: nested too deeply to be read") from exc
    except yaml.YAMLError as exc:
        line = _yaml_error_line(exc)
        where = f"{source}:{line}" if line else source
        raise error(f"{where}: invalid YAML: {_describe_yaml_error(exc)}") from exc


def parse_json(text: str, source: str, error: type[Exception]) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{source}:{exc.lineno}: invalid JSON: {exc.msg}") from exc


def read_text(path: Path, error: type[Exception]) -> str:
    """Read a UTF-8 text file, turning OS and decoding errors into `error`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error(f"{path}: file not found") from exc
    except IsADirectoryError as exc:
        raise error(f"{path}: is a directory, expected a file") from exc
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from exc


def atomic_write(path: Path, data: str | bytes, *, shared: bool = False) -> None:
    """Write a file so that readers see either the old content or the new, never a mix.

    The file is private to its owner (0600), as the temporary file it comes from, unless
    `shared`: then it has the permissions the user's umask gives a new file (a registry a
    team reads)."""
    tmp = _written_temporary(path, data)
    try:
        if shared:
            tmp.chmod(0o666 & ~current_umask())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's umask, read without changing it where Linux tells it (/proc), else set
    and restored at once."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_create(path: Path, data: str | bytes) -> None:
    """Create a new file, whole or not at all; `FileExistsError` when `path` already exists.

    The content is written to a temporary file that is then hard-linked to `path`: the link
    fails if anything is there, so of several processes creating one path at once exactly one
    succeeds and nothing is overwritten. On a file system without hard links the file is
    created with O_EXCL instead (still exclusive; a reader may then see it half written).
    """
    tmp = _written_temporary(path, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:
        _create_exclusively(path, tmp.read_bytes())
    finally:
        tmp.unlink(missing_ok=True)


def _create_exclusively(path: Path, raw: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(raw)
        handle.flush()
        os.fsync(handle.fileno())


def _written_temporary(path: Path, data: str | bytes) -> Path:
    """A temporary file beside `path` holding `data`, flushed to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(raw)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)
