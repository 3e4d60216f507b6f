"""Files read once while they do not change: what a long run asks for again and again (an
environment's spec for every instance in it, a blueprint's version records for every stack)
is parsed the first time only, and again when the file changes (another inode, size or
modification time; pcli's own writes replace files, so each write is a new inode)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

T = TypeVar("T")


class FileCache:
    """What `load(path)` made of each file, kept with the file's stamp when it was read.
    Kept by path alone: one cache reads each file with one loader (a spec file as a spec,
    never also as text)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, tuple[tuple[int, int, int], Any]] = {}

    def read(self, path: Path, load: Callable[[Path], T]) -> T:
        """`load(path)`, or what it gave before if the file has not changed since. `load`'s
        errors are not kept: a file that failed is read again next time."""
        try:
            stat = path.stat()
        except OSError:
            return load(path)  # the loader says what is wrong with it
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            known = self._files.get(path)
        if known is not None and known[0] == stamp:
            return cast("T", known[1])
        value = load(path)
        with self._lock:
            self._files[path] = (stamp, value)
        return value
