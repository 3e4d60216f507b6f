"""Reading bundles from disk safely: archive extraction, the bundle root, the files under it.

Every member is checked before anything is written: no absolute paths, no `..`, no devices or
FIFOs, no duplicate names, nothing stored under a symbolic link, and links only to targets inside
the bundle. Extraction then runs through Python's `data` extraction filter as a second guard and
counts the bytes it writes. On any failure the extracted files are removed again.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from protoncli.blueprints.limits import MAX_BUNDLE_BYTES, bundle_too_large, check_bundle_size
from protoncli.blueprints.model import (
    INFRASTRUCTURE,
    INSTANCE_INFRASTRUCTURE,
    MANIFEST,
    PIPELINE_INFRASTRUCTURE,
)
from protoncli.errors import BundleError

# Far more than any real bundle holds (Proton's limit is 5 MB); bounds the work done on headers.
MAX_ARCHIVE_MEMBERS = 10_000
# Symbolic links followed while resolving one link target, as the Linux kernel allows.
_MAX_LINK_HOPS = 40

_NOISE_FOLDERS = frozenset({".git", "__pycache__", "__MACOSX"})
_ROOT_FOLDERS = ("schema", INFRASTRUCTURE, INSTANCE_INFRASTRUCTURE, PIPELINE_INFRASTRUCTURE)
_ROOT_HELP = "a bundle root holds schema/ (environment or service) or manifest.yaml (component)"
_CORRUPT = "not a gzip-compressed tar archive"
_ARCHIVE_ERRORS = (tarfile.TarError, EOFError, zlib.error)


def is_os_noise(path: str) -> bool:
    """Whether a relative POSIX path is operating-system or tool noise, not bundle content.

    Noise: anything inside a `.git/`, `__pycache__/` or `__MACOSX/` folder, `.DS_Store`, macOS
    AppleDouble files (`._*`) and compiled Python (`*.pyc`).
    """
    parts = PurePosixPath(path).parts
    if not parts:
        return False
    name = parts[-1]
    return (
        any(part in _NOISE_FOLDERS for part in parts)
        or name == ".DS_Store"
        or name.startswith("._")
        or name.endswith(".pyc")
    )


def extract_bundle_archive(archive: Path, target: Path) -> Path:
    """Extract `archive` into `target` (empty or absent) and return the bundle root inside it.

    Raises `BundleError` naming the archive (and member) for anything unsafe, corrupt or larger
    than Proton's 5 MB bundle limit; nothing is left in `target` after a failure.
    """
    label = str(archive)
    created = _prepare_target(target)
    try:
        with _open_archive(archive, label) as tar:
            members = _checked_members(tar, label)
            _extract_members(tar, members, target, label)
        return find_bundle_root(target, label)
    except BaseException:
        _remove_extracted(target, remove_target=created)
        raise


def find_bundle_root(directory: Path, label: str) -> Path:
    """The bundle root: `directory` itself, or the one wrapper folder inside it that is a root.

    Wrapper folders are what `tar -zcvf env.tar.gz environment/` makes. Files beside the wrapper
    folder are not part of the bundle. Deeper nesting, or several candidate roots, is an error
    that says what was found.
    """
    if _is_bundle_root(directory):
        return directory
    entries = sorted(
        (entry for entry in directory.iterdir() if not is_os_noise(entry.name)),
        key=lambda entry: entry.name,
    )
    folders = [entry for entry in entries if entry.is_dir()]
    candidates = [folder for folder in folders if _is_bundle_root(folder)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        names = ", ".join(f"{folder.name}/" for folder in candidates)
        raise BundleError(
            f"{label}: several bundle roots found ({names}); expected one bundle",
            hint="give one bundle folder or archive at a time",
        )
    nested = [
        f"{folder.name}/{inner.name}/"
        for folder in folders
        for inner in sorted(folder.iterdir())
        if inner.is_dir() and _is_bundle_root(inner)
    ]
    if nested:
        raise BundleError(
            f"{label}: bundle root nested too deeply ({', '.join(nested)}); "
            "expected it at the top or inside one wrapper folder",
            hint=f"point pcli at {nested[0]} itself, or archive that folder",
        )
    found = ", ".join(entry.name + ("/" if entry.is_dir() else "") for entry in entries)
    raise BundleError(
        f"{label}: no template bundle found at the top or inside one wrapper folder "
        f"(found: {found or 'nothing'}); {_ROOT_HELP}"
    )


def read_bundle_files(root: Path, label: Callable[[str], str], bundle: str) -> dict[str, bytes]:
    """Every file under `root` (relative POSIX path → bytes), a `.git/` folder left out.

    Symbolic links are followed when they stay inside `root`; one that leaves it, a broken one,
    a link loop, or a device, FIFO or socket is a `BundleError`. `label(path)` names a file and
    `bundle` the bundle in messages. The total size is checked against Proton's 5 MB limit
    before anything is read.
    """
    found: list[tuple[str, Path, int]] = []
    real_root = Path(os.path.realpath(root))
    _collect(root, "", frozenset({real_root}), (real_root, label), found)
    check_bundle_size(bundle, sum(size for *_, size in found))
    files: dict[str, bytes] = {}
    for rel, path, _ in found:
        try:
            files[rel] = path.read_bytes()
        except OSError as exc:
            raise BundleError(f"{label(rel)}: cannot read: {exc.strerror}") from exc
    return files


def _collect(
    folder: Path,
    rel: str,
    ancestors: frozenset[Path],
    context: tuple[Path, Callable[[str], str]],
    found: list[tuple[str, Path, int]],
) -> None:
    real_root, label = context
    with os.scandir(folder) as scan:
        entries = sorted(scan, key=lambda entry: entry.name)
    for entry in entries:
        rel_path = f"{rel}{entry.name}"
        if entry.name == ".git":
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            path = _followed_link(path, label(rel_path), real_root)
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            real = Path(os.path.realpath(path))
            if real in ancestors:
                raise BundleError(f"{label(rel_path)}: symbolic link loop (leads to a parent)")
            _collect(path, f"{rel_path}/", ancestors | {real}, context, found)
        elif stat.S_ISREG(status.st_mode):
            found.append((rel_path, path, status.st_size))
        else:
            raise BundleError(
                f"{label(rel_path)}: not a regular file or folder (a device, FIFO or socket)"
            )


def _followed_link(path: Path, where: str, real_root: Path) -> Path:
    link = str(path.readlink())
    real = Path(os.path.realpath(path))
    if not real.is_relative_to(real_root):
        raise BundleError(
            f"{where}: symbolic link to '{link}' leads outside the bundle",
            hint="copy the file into the bundle instead of linking to it",
        )
    if not real.exists():
        raise BundleError(f"{where}: broken symbolic link to '{link}'")
    return real


def _is_bundle_root(directory: Path) -> bool:
    return (directory / MANIFEST).is_file() or any(
        (directory / name).is_dir() for name in _ROOT_FOLDERS
    )


def _prepare_target(target: Path) -> bool:
    """Make sure `target` is an empty folder; return whether it was created here."""
    if target.exists() or target.is_symlink():
        if not target.is_dir() or any(target.iterdir()):
            raise BundleError(f"{target}: the folder to extract into must be empty or absent")
        return False
    target.mkdir(parents=True)
    return True


def _remove_extracted(target: Path, *, remove_target: bool) -> None:
    if remove_target:
        shutil.rmtree(target, ignore_errors=True)
        return
    for entry in target.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)


def _open_archive(archive: Path, label: str) -> tarfile.TarFile:
    try:
        return tarfile.open(archive, mode="r:*")
    except FileNotFoundError as exc:
        raise BundleError(f"{label}: file not found") from exc
    except (*_ARCHIVE_ERRORS, OSError) as exc:
        raise BundleError(
            f"{label}: {_CORRUPT}",
            hint="make one with: tar -czf bundle.tar.gz <bundle folder>/",
        ) from exc


def _checked_members(tar: tarfile.TarFile, label: str) -> list[tarfile.TarInfo]:
    """Read every header and check each member; extract nothing yet."""
    members: dict[str, tarfile.TarInfo] = {}
    total = 0
    try:
        for member in tar:
            if len(members) >= MAX_ARCHIVE_MEMBERS:
                raise BundleError(
                    f"{label}: more than {MAX_ARCHIVE_MEMBERS:,} members; "
                    "this is not a template bundle"
                )
            name = _checked_name(member, label)
            if name is None:
                continue
            if name in members and member.isdir() and members[name].isdir():
                continue  # a folder listed twice (`tar czf x.tgz env env/schema`) is harmless
            if name in members:
                raise BundleError(f"{label}: member '{member.name}' appears twice in the archive")
            members[name] = member
            total += _declared_size(member, members)
            if total > MAX_BUNDLE_BYTES:
                raise bundle_too_large(label, total, at_least=True)
    except (*_ARCHIVE_ERRORS, OSError) as exc:
        raise BundleError(f"{label}: {_CORRUPT} (it is corrupt or truncated)") from exc
    _check_links(members, label)
    return list(members.values())


def _declared_size(member: tarfile.TarInfo, members: dict[str, tarfile.TarInfo]) -> int:
    """Bytes a member adds to the bundle; a hard link adds its target's size again."""
    if member.isreg():
        return member.size
    if member.islnk():
        target = members.get(_normalized(member.linkname))
        return target.size if target is not None else 0
    return 0


def _normalized(name: str) -> str:
    return "/".join(part for part in name.split("/") if part not in {"", "."})


def _checked_name(member: tarfile.TarInfo, label: str) -> str | None:
    """The member's normalized path, or None for the archive's own root folder (`./`)."""
    raw = member.name
    if raw.startswith("/"):
        raise BundleError(
            f"{label}: member '{raw}' has an absolute path; it would be written outside the bundle"
        )
    parts = [part for part in raw.split("/") if part not in {"", "."}]
    if ".." in parts:
        raise BundleError(f"{label}: member '{raw}' would be written outside the bundle")
    if not (member.isreg() or member.isdir() or member.issym() or member.islnk()):
        raise BundleError(
            f"{label}: member '{raw}' is a {_special_kind(member)}; "
            "a bundle holds only files, folders and links"
        )
    if not parts:
        if not member.isdir():
            raise BundleError(f"{label}: member '{raw}' has no file name")
        return None
    return "/".join(parts)


def _special_kind(member: tarfile.TarInfo) -> str:
    if member.ischr():
        return "character device"
    if member.isblk():
        return "block device"
    if member.isfifo():
        return "FIFO (named pipe)"
    return "special file"


def _check_links(members: dict[str, tarfile.TarInfo], label: str) -> None:
    symlinks = {name: m.linkname for name, m in members.items() if m.issym()}
    for name, member in members.items():
        parts = name.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth])
            if folder in symlinks:
                raise BundleError(
                    f"{label}: member '{member.name}' is stored under '{folder}', "
                    "which is a symbolic link"
                )
        if member.issym():
            parent = parts[:-1]
            if _resolve_inside(parent, member.linkname, symlinks) is None:
                raise BundleError(
                    f"{label}: member '{member.name}' is a link to '{member.linkname}', "
                    "outside the bundle"
                )
        elif member.islnk():
            target = members.get(_normalized(member.linkname))
            if target is None or not target.isreg() or member.linkname.startswith("/"):
                raise BundleError(
                    f"{label}: member '{member.name}' is a hard link to '{member.linkname}', "
                    "which is not a file inside the bundle"
                )


def _resolve_inside(parent: list[str], link: str, symlinks: dict[str, str]) -> list[str] | None:
    """Resolve a link target through the archive's own links; None if it leaves the root."""
    if link.startswith("/"):
        return None
    resolved = list(parent)
    pending = list(reversed(link.split("/")))
    hops = 0
    while pending:
        part = pending.pop()
        if part in {"", "."}:
            continue
        if part == "..":
            if not resolved:
                return None
            resolved.pop()
            continue
        inner = symlinks.get("/".join([*resolved, part]))
        if inner is None:
            resolved.append(part)
            continue
        hops += 1
        if hops > _MAX_LINK_HOPS or inner.startswith("/"):
            return None
        pending.extend(reversed(inner.split("/")))
    return resolved


def _extract_members(
    tar: tarfile.TarFile, members: list[tarfile.TarInfo], target: Path, label: str
) -> None:
    """Extract with the `data` filter, counting the bytes actually written."""
    tar.errorlevel = 2
    written = 0
    for member in members:
        try:
            tar.extract(member, target, filter="data")
        except tarfile.FilterError as exc:
            raise BundleError(_filter_message(label, member, exc)) from exc
        except _ARCHIVE_ERRORS as exc:
            raise BundleError(
                f"{label}: {_CORRUPT} (it is corrupt or truncated at member '{member.name}')"
            ) from exc
        except OSError as exc:
            raise BundleError(
                f"{label}: cannot extract member '{member.name}': {exc.strerror or exc}"
            ) from exc
        if member.isreg() or member.islnk():
            written += (target / _normalized(member.name)).lstat().st_size
            if written > MAX_BUNDLE_BYTES:
                raise bundle_too_large(label, written, at_least=True)


def _filter_message(label: str, member: tarfile.TarInfo, exc: tarfile.FilterError) -> str:
    name = member.name
    if isinstance(exc, tarfile.AbsolutePathError):
        return (
            f"{label}: member '{name}' has an absolute path; it would be written outside the bundle"
        )
    if isinstance(exc, tarfile.OutsideDestinationError):
        return f"{label}: member '{name}' would be written outside the bundle"
    if isinstance(exc, tarfile.AbsoluteLinkError | tarfile.LinkOutsideDestinationError):
        return f"{label}: member '{name}' is a link to '{member.linkname}', outside the bundle"
    if isinstance(exc, tarfile.SpecialFileError):
        return (
            f"{label}: member '{name}' is a special file; "
            "a bundle holds only files, folders and links"
        )
    return f"{label}: member '{name}' refused: {exc}"
