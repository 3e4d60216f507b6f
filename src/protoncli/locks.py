"""File locks between pcli processes: one lock file per thing guarded, held with `flock`.

Every read-modify-write of a file that several pcli processes may change at once (the user
config file, a workspace's spec files and component records, a registry's blueprint folder)
runs inside `file_lock` on a lock file beside what it guards, and reads the file again inside
the lock. A lock another process holds is waited for, up to a bounded time; then a `LockError`
names the lock file and the process holding it.

The lock dies with its process (the kernel drops an `flock` when the file is closed), so a
crashed pcli never leaves a lock behind; the lock files themselves stay and are empty while
nobody holds them.

Within one process the locks are re-entrant: a function holding the workspace lock may call
one that takes it again. Threads of one process exclude each other like processes do.

`workspace_lock` is the workspace-wide lock (`.pcli/lock` under the workspace root); the
`.pcli/` folder ignores itself in git. `deletion_mark` marks one item of a workspace (an
environment) as being deleted, for as long as the deletion runs, without holding the
workspace-wide lock through it; `deleting_holder` tells whether such a deletion runs.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.workspace.model import Workspace

DEFAULT_TIMEOUT = 60.0
_FIRST_DELAY = 0.01
_MAX_DELAY = 0.25
STATE_FOLDER = ".pcli"
WORKSPACE_LOCK = "lock"
DELETING_FOLDER = "deleting"


class LockError(PcliError):
    """A lock that another process held for longer than pcli waits, or that cannot be made."""


@dataclass
class _Held:
    """A lock this process holds (or is acquiring): its thread lock, depth and open file."""

    thread_lock: threading.RLock = field(default_factory=threading.RLock)
    depth: int = 0
    handle: IO[str] | None = None


_held: dict[Path, _Held] = {}
_held_guard = threading.Lock()


def _entry(path: Path) -> _Held:
    with _held_guard:
        return _held.setdefault(path, _Held())


@contextmanager
def file_lock(
    path: Path,
    purpose: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    error: type[PcliError] = LockError,
    hint: str | None = None,
) -> Iterator[None]:
    """Hold an exclusive lock on the lock file `path` (created, with its folders, as needed).

    `purpose` says what this process does under the lock ("pcli config set output"); it is
    written into the lock file so that a process that waits too long can say who holds it.
    A lock file that cannot be created raises `error` (with `hint`); one held by another process
    for more than `timeout` seconds raises `LockError`.
    """
    key = path.absolute()
    entry = _entry(key)
    deadline = time.monotonic() + timeout
    if not entry.thread_lock.acquire(timeout=max(timeout, 0.0)):
        raise _timed_out(key, timeout)
    try:
        if entry.depth == 0:
            entry.handle = _acquire(
                key, purpose, deadline=deadline, timeout=timeout, error=error, hint=hint
            )
        entry.depth += 1
        try:
            yield
        finally:
            entry.depth -= 1
            if entry.depth == 0 and entry.handle is not None:
                _release(entry.handle)
                entry.handle = None
    finally:
        entry.thread_lock.release()


def _acquire(
    path: Path,
    purpose: str,
    *,
    deadline: float,
    timeout: float,
    error: type[PcliError],
    hint: str | None,
) -> IO[str]:
    handle = _open(path, error, hint)
    delay = _FIRST_DELAY
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _timed_out(path, timeout) from None
                time.sleep(delay)
                delay = min(delay * 2, _MAX_DELAY)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()} {purpose}\n")
        handle.flush()
    except BaseException:
        handle.close()
        raise
    return handle


def _release(handle: IO[str]) -> None:
    try:
        handle.seek(0)
        handle.truncate()  # nobody holds it now: no stale holder shows in a later message
        handle.flush()
    finally:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        handle.close()


def _open(path: Path, error: type[PcliError], hint: str | None) -> IO[str]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise error(
            f"{path}: cannot create the lock file: {exc.strerror}",
            hint=hint or f"check that {path.parent} exists and can be written",
        ) from exc


def _timed_out(path: Path, timeout: float) -> LockError:
    holder = _holder_text(path)
    return LockError(
        f"{path}: still locked after {timeout:g} seconds, by {holder}",
        hint="wait for that command to finish, then run this one again",
    )


def _holder_text(path: Path) -> str:
    """ "process 1234 (pcli config set output)" from the lock file, or a plain description."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    pid, _, purpose = text.partition(" ")
    if not pid.isdigit():
        return "another process"
    return f"process {pid} ({purpose})" if purpose else f"process {pid}"


def holder(path: Path) -> str | None:
    """Who holds the lock file `path` right now ("process 1234 (...)"), or None when nobody
    else does. Never waits."""
    key = path.absolute()
    entry = _held.get(key)
    if entry is not None and entry.depth > 0:
        return None  # this process holds it
    try:
        handle = key.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_text(key)
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    return None


def lock_file_beside(path: Path) -> Path:
    """The lock file that guards `path`: `.NAME.lock` in the same folder."""
    return path.with_name(f".{path.name}.lock")


# ---------------------------------------------------------------------------------------------
# Workspaces


def _root(workspace: Workspace | Path) -> Path:
    return workspace if isinstance(workspace, Path) else workspace.root


def state_folder(workspace: Workspace | Path) -> Path:
    """`.pcli/` under the workspace root, created with a `.gitignore` that ignores all of it."""
    folder = _root(workspace) / STATE_FOLDER
    ignore = folder / ".gitignore"
    if not ignore.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        ignore.write_text("# pcli's lock files: local to this clone, never committed\n*\n")
    return folder


def workspace_lock_file(workspace: Workspace | Path) -> Path:
    """`.pcli/lock` of the workspace (its folder made, git-ignored, when missing)."""
    return state_folder(workspace) / WORKSPACE_LOCK


@contextmanager
def workspace_lock(
    workspace: Workspace | Path, purpose: str, *, timeout: float = DEFAULT_TIMEOUT
) -> Iterator[None]:
    """Hold the workspace-wide lock: what pcli checks in the workspace stays true until it has
    written what it decided (a spec, a component) or removed what it checked may go."""
    with file_lock(workspace_lock_file(workspace), purpose, timeout=timeout):
        yield


def deletion_lock_file(workspace: Workspace | Path, kind: str, name: str) -> Path:
    return _root(workspace) / STATE_FOLDER / DELETING_FOLDER / f"{kind}-{name}.lock"


@contextmanager
def deletion_mark(
    workspace: Workspace | Path, kind: str, name: str, purpose: str
) -> Iterator[None]:
    """Mark `kind` `name` as being deleted while the block runs; take it under the workspace
    lock. A second deletion of the same item is refused at once, naming the first."""
    path = deletion_lock_file(workspace, kind, name)
    state_folder(workspace)
    running = holder(path)
    if running is not None:
        raise LockError(
            f"{kind} {name!r} is already being deleted by {running}",
            hint="wait for that deletion to finish",
        )
    with file_lock(path, purpose, timeout=0):
        yield


def deleting_holder(workspace: Workspace | Path, kind: str, name: str) -> str | None:
    """Who is deleting `kind` `name` right now, or None. Ask it under the workspace lock."""
    return holder(deletion_lock_file(workspace, kind, name))


def require_not_deleting(workspace: Workspace | Path, kind: str, name: str) -> None:
    """Refuse to put anything into `kind` `name` while a deletion of it runs; ask it under the
    workspace lock, held until what is put there is written."""
    running = deleting_holder(workspace, kind, name)
    if running is not None:
        raise LockError(
            f"{kind} {name!r} is being deleted by {running}; nothing was written",
            hint=f"wait for the deletion to finish, then choose another {kind}",
        )
