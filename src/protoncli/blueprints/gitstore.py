"""A team registry in a git repository, in Proton's template-sync layout.

The repository's branch holds `<name>/v<major>/` (the files of the latest minor of each major,
as template sync reads them) and `pcli-registry.json` (the index, blueprints/remote.py). Each
version is a commit on the branch and a tag `<name>@<major>.<minor>` on it; a version's files
are read from its tag, so older minors stay readable after the folder moves on.

pcli works in a bare clone in its cache (no working tree is ever checked out): a commit is made
from a scratch folder with a private git index file, then pushed, branch and tag together
(`git push --atomic`, never forced). A push refused because the branch moved or the tag exists
means another publisher came first (`IndexChanged`): the registry reads again and retries.
Authentication is git's own (SSH keys, credential helpers); pcli runs `git` with
`GIT_TERMINAL_PROMPT=0`, so it never waits for a password.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli.blueprints.versions import registry_lock
from protoncli.errors import RegistryError

if TYPE_CHECKING:
    from protoncli.blueprints.location import RemoteLocation
    from protoncli.blueprints.remote import NewVersion
    from protoncli.blueprints.versions import VersionInfo

INDEX_FILE = "pcli-registry.json"
DEFAULT_BRANCH = "main"
REMOTE = "origin"
_BRANCH_KEY = "pcli.branch"
_IDENTITY = {"name": "pcli", "email": "pcli@localhost"}
_GIT_OPTIONS = ("-c", "core.autocrlf=false", "-c", "core.safecrlf=false")


def tag_of(info: VersionInfo) -> str:
    return f"{info.name}@{info.version}"


class GitStore:
    """The git side of a team registry (the `Store` of blueprints/remote.py)."""

    def __init__(self, location: RemoteLocation, clone: Path) -> None:
        self.url = location.url
        self._repository = location.repository
        self._branch = location.branch
        self._clone = clone

    # -- the Store protocol --------------------------------------------------------------------

    def read_index(self) -> tuple[bytes | None, str | None]:
        with self._locked("reading"):
            branch = self._ensure_clone()
            self._git(
                "fetch",
                "--quiet",
                "--prune",
                "--force",
                REMOTE,
                f"+refs/heads/{branch}:refs/remotes/{REMOTE}/{branch}",
                "+refs/tags/*:refs/tags/*",
                what="fetch",
                missing_branch_ok=True,
            )
            head = self._commit_of(f"refs/remotes/{REMOTE}/{branch}")
            if head is None:
                return None, None
            shown = self._git("cat-file", "-e", f"{head}:{INDEX_FILE}", check=False)
            if shown.returncode != 0:
                return None, head
            return self._git("cat-file", "blob", f"{head}:{INDEX_FILE}").stdout, head

    def fetch(self, info: VersionInfo, scratch: Path) -> Path:
        tag = tag_of(info)
        with self._locked(f"reading {tag}"):
            self._ensure_clone()
            tree = f"refs/tags/{tag}:{info.name}/v{info.major}"
            if self._git("cat-file", "-e", tree, check=False).returncode != 0:
                raise RegistryError(
                    f"blueprint {info.ref}: tag {tag} or its folder {info.name}/v{info.major} "
                    f"is missing from {self.url}",
                    hint="ask the registry's owners to restore the tag (git push origin TAG)",
                )
            archive = scratch / "bundle.tar"
            archive.write_bytes(self._git("archive", "--format=tar", tree).stdout)
            return archive

    def commit(self, index: bytes, token: str | None, added: NewVersion | None, what: str) -> None:
        with self._locked(what):
            branch = self._ensure_clone()
            commit = self._new_commit(index, token, added, what)
            refs = [f"{commit}:refs/heads/{branch}"]
            if added is not None:
                refs.append(f"{commit}:refs/tags/{tag_of(added.info)}")
            pushed = self._git(
                "push", "--atomic", "--porcelain", REMOTE, *refs, check=False, what="push"
            )
            if pushed.returncode == 0:
                return
            if any(line.startswith(b"!") for line in pushed.stdout.splitlines()):
                from protoncli.blueprints.remote import IndexChanged

                raise IndexChanged(what)
            raise self._failed("push", pushed)

    # -- making a commit ------------------------------------------------------------------------

    def _new_commit(
        self, index: bytes, token: str | None, added: NewVersion | None, what: str
    ) -> str:
        """A commit of `token`'s tree with `added`'s folder replaced and the new index."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="pcli-git-") as scratch:
            tree = Path(scratch) / "tree"
            tree.mkdir()
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            work = ("--work-tree", str(tree))
            if token is None:
                self._git(*work, "read-tree", "--empty", env=env)
            else:
                self._git(*work, "read-tree", token, env=env)
            paths = [INDEX_FILE]
            if added is not None:
                folder = f"{added.name}/v{added.info.major}"
                self._git(
                    *work, "rm", "--cached", "-r", "-q", "--ignore-unmatch", "--", folder, env=env
                )
                _write_files(tree / folder, added.files)
                paths.append(folder)
            (tree / INDEX_FILE).write_bytes(index)
            self._git(*work, "add", "--force", "--", *paths, env=env)
            written = self._git(*work, "write-tree", env=env).stdout.decode().strip()
            parents = ("-p", token) if token else ()
            message = f"pcli: {what}"
            made = self._git("commit-tree", written, *parents, "-m", message, env=self._identity())
            return made.stdout.decode().strip()

    def _identity(self) -> dict[str, str]:
        """The user's git identity; pcli's own where the user has none configured."""
        env = {}
        for key, fallback in _IDENTITY.items():
            if self._git("config", f"user.{key}", check=False).returncode != 0:
                for role in ("AUTHOR", "COMMITTER"):
                    env[f"GIT_{role}_{key.upper()}"] = fallback
        return env

    # -- the clone ----------------------------------------------------------------------------

    def _ensure_clone(self) -> str:
        """The bare clone exists, its remote is the registry; returns the branch."""
        if not (self._clone / "HEAD").is_file():
            self._clone.parent.mkdir(parents=True, exist_ok=True)
            self._git_at(None, "init", "--quiet", "--bare", str(self._clone))
            self._git("remote", "add", REMOTE, self._repository)
        if self._branch is not None:
            return self._branch
        known = self._git("config", _BRANCH_KEY, check=False)
        if known.returncode == 0 and known.stdout.strip():
            self._branch = known.stdout.decode().strip()
            return self._branch
        self._branch = self._remote_default_branch()
        self._git("config", _BRANCH_KEY, self._branch)
        return self._branch

    def _remote_default_branch(self) -> str:
        """The branch the registry's HEAD names; `main` in an empty repository."""
        answer = self._git("ls-remote", "--symref", REMOTE, "HEAD", what="ls-remote")
        for line in answer.stdout.decode("utf-8", "replace").splitlines():
            ref, _, name = line.partition("\t")
            if ref.startswith("ref: refs/heads/") and name == "HEAD":
                return ref.removeprefix("ref: refs/heads/")
        return DEFAULT_BRANCH

    def _commit_of(self, ref: str) -> str | None:
        found = self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return found.stdout.decode().strip() if found.returncode == 0 else None

    def _locked(self, purpose: str) -> AbstractContextManager[None]:
        return registry_lock(
            self._clone.parent / ".git.lock", f"{purpose} in the clone of {self.url}"
        )

    # -- running git --------------------------------------------------------------------------

    def _git(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        what: str | None = None,
        missing_branch_ok: bool = False,
    ) -> subprocess.CompletedProcess[bytes]:
        done = self._git_at(self._clone, *args, env=env)
        if (
            done.returncode != 0
            and missing_branch_ok
            and b"couldn't find remote ref" in (done.stderr)
        ):
            return done  # an empty repository: no branch yet
        if check and done.returncode != 0:
            raise self._failed(what or args[0], done)
        return done

    def _git_at(
        self, git_dir: Path | None, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["git", *_GIT_OPTIONS]
        if git_dir is not None:
            command += ["--git-dir", str(git_dir)]
        environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
        try:
            return subprocess.run(
                [*command, *args], capture_output=True, env=environment, check=False
            )
        except FileNotFoundError as exc:
            raise RegistryError(
                f"registry {self.url}: git is not installed (a git registry needs it)",
                hint="install git, or use a folder or s3:// registry",
            ) from exc

    def _failed(self, action: str, done: subprocess.CompletedProcess[bytes]) -> RegistryError:
        said = _last_lines(done.stderr or done.stdout)
        return RegistryError(
            f"registry {self.url}: git {action} failed: {said}",
            hint="check the URL and your access to the repository (git ls-remote URL)",
        )


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    from protoncli.blueprints.versions import write_bundle_files

    folder.parent.mkdir(parents=True, exist_ok=True)
    write_bundle_files(folder, files)


def _last_lines(raw: bytes) -> str:
    lines = [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]
    return " / ".join(lines[-2:]) or "no message"
