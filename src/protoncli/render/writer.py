"""Writing a `RenderResult` to disk: every file atomically, none outside the output folder.

Rendering happens first and completely (`render_bundle` raises before anything is written), and
every path is checked before the first write, so a failure leaves the output folder untouched.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from protoncli.errors import RenderError
from protoncli.render.model import RenderResult
from protoncli.yamlio import atomic_write


def relative_paths(result: RenderResult) -> list[tuple[str, str | bytes]]:
    """Every rendered file as (path relative to an output folder, contents), each path checked
    to stay inside the folder it is written to (a name with `..`, `\\` or a leading `/` is
    refused). Deploys check their renders with this alone: they write nothing."""
    planned: list[tuple[str, str | bytes]] = []
    for resource in result.resources:
        contents: dict[str, str | bytes] = {**resource.binary_files, **resource.files}
        for name, data in contents.items():
            relative = f"{resource.folder}/{name}" if resource.folder else name
            _check_relative(relative)
            planned.append((relative, data))
    return planned


def _check_relative(relative: str) -> PurePosixPath:
    pure = PurePosixPath(relative)
    if pure.is_absolute() or not relative or ".." in pure.parts or "\\" in relative:
        raise RenderError(
            f"refusing to write {relative!r}: it would leave the output folder",
            hint="resource and file names may not hold '..', '\\' or start with '/'",
        )
    return pure


def _target(out_dir: Path, relative: str) -> Path:
    """The absolute path of `relative` under `out_dir`; refuse anything that would leave it."""
    pure = _check_relative(relative)
    root = out_dir.resolve()
    path = (root / pure).resolve()
    if not path.is_relative_to(root) or path == root:
        raise RenderError(
            f"refusing to write {relative!r}: it resolves to {path}, outside {root}",
            hint="a symbolic link in the output folder points elsewhere; remove it",
        )
    return path


def _check_writable(out_dir: Path, path: Path) -> None:
    """Refuse before any write if something on `path` that must be a folder is a file."""
    if path.is_dir():
        raise RenderError(
            f"cannot write {path}: a folder of that name is in the way",
            hint=f"remove it or choose another --output-dir than {out_dir}",
        )
    root = out_dir.resolve()
    for parent in reversed(path.parents):
        if not parent.is_relative_to(root.parent):
            continue
        if parent.exists() and not parent.is_dir():
            raise RenderError(
                f"cannot write {path}: {parent} is a file, not a folder",
                hint=f"remove it or choose another --output-dir than {out_dir}",
            )


def write_result(result: RenderResult, out_dir: Path) -> list[Path]:
    """Write every rendered file under `out_dir`; return the paths written, in order."""
    planned = [(_target(out_dir, relative), data) for relative, data in relative_paths(result)]
    for path, _ in planned:
        _check_writable(out_dir, path)
    written: list[Path] = []
    for path, data in planned:
        atomic_write(path, data)
        written.append(path)
    return written
