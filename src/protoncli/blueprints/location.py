"""Where a registry lives, as the `registry` setting spells it, and opening it.

- a folder (any path): the folder registry (registry.py);
- `s3://BUCKET` or `s3://BUCKET/PREFIX`: a team registry in S3 (remote.py, aws/registry_bucket.py);
- a git repository: `git+file:///PATH`, `git+https://HOST/PATH`, `git+ssh://[USER@]HOST/PATH`
  or scp-like `USER@HOST:PATH` (as `git clone` takes it), each with an optional `#BRANCH`
  (default: the repository's default branch, `main` in an empty one) (gitstore.py).

A team registry is read through a local cache, one folder per URL under pcli's cache folder.
Only this module's `is_remote` runs when settings are resolved: it imports nothing heavy.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli import paths
from protoncli.errors import UsageError

if TYPE_CHECKING:
    from protoncli.blueprints.registry import Registry

S3 = "s3"
GIT = "git"
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:(?!//)")
_GIT_SCHEMES = ("git+file://", "git+https://", "git+http://", "git+ssh://")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
SPELLINGS = (
    "a folder, s3://BUCKET[/PREFIX], git+file:///PATH, git+https://HOST/PATH, "
    "git+ssh://HOST/PATH or USER@HOST:PATH (a git URL may end with #BRANCH)"
)


def is_remote(text: str) -> bool:
    """Whether the `registry` setting names a team registry (S3 or git), not a folder."""
    value = text.strip()
    return value.startswith(("s3://", *_GIT_SCHEMES)) or bool(_SCP_LIKE.match(value))


@dataclass(frozen=True)
class RemoteLocation:
    """A team registry: its URL as written, and what it says."""

    url: str
    kind: str  # S3 | GIT
    bucket: str = ""  # S3
    prefix: str = ""  # S3: the key prefix, without slashes at either end ("" for none)
    repository: str = ""  # git: what `git clone` takes
    branch: str | None = None  # git: None for the repository's default branch

    @property
    def cache(self) -> Path:
        """The local cache of this registry: a folder registry of its own."""
        return cache_folder(self.url)


def cache_folder(url: str) -> Path:
    """`<cache>/registries/<digest of the URL>`: one folder per team registry."""
    digest = hashlib.sha256(url.strip().encode("utf-8")).hexdigest()[:16]
    return paths.cache_dir() / "registries" / digest


def parse_remote(text: str) -> RemoteLocation:
    """A team registry's URL, checked; a `UsageError` (exit 2) naming what is wrong."""
    url = text.strip()
    if url.startswith("s3://"):
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        if not _BUCKET.match(bucket):
            raise UsageError(
                f"registry {url!r}: {bucket!r} is not an S3 bucket name",
                hint="write s3://BUCKET or s3://BUCKET/PREFIX",
            )
        return RemoteLocation(url, S3, bucket=bucket, prefix=prefix.strip("/"))
    if is_remote(url):
        repository, _, branch = url.partition("#")
        repository = repository.removeprefix("git+")
        if not repository or repository.endswith((":", "://")) or (branch == "" and "#" in url):
            raise UsageError(
                f"registry {url!r}: not a git repository URL", hint=f"write {SPELLINGS}"
            )
        return RemoteLocation(url, GIT, repository=repository, branch=branch or None)
    raise UsageError(f"registry {url!r} is not a team registry URL", hint=f"write {SPELLINGS}")


@dataclass(frozen=True)
class Access:
    """How an S3 registry is reached: pcli's AWS settings (a git registry uses git's own)."""

    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None  # the sandbox's, with --sandbox; else AWS_ENDPOINT_URL
    connect_timeout: float = 5.0
    read_timeout: float = 10.0


def open_location(location: Path | str, access: Access | None = None) -> Registry:
    """The registry at `location` (a folder, or a team registry's URL), not seeded."""
    if isinstance(location, str) and is_remote(location):
        from protoncli.blueprints.remote import open_remote

        return open_remote(parse_remote(location), access or Access())
    from protoncli.blueprints.registry import Registry

    return Registry(Path(location))
