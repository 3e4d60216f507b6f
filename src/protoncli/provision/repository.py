"""Self-managed provisioning: a resource's Terraform files go to a provisioning repository as a
branch, and a pull request asks the team's CI to apply them (Proton's pull-request flow).

`publish` works in a bare clone under `work_root` (pcli's cache), one per repository URL, under a
file lock so that publishes sharing a cache wait for each other. The user's own clone is only
read (`git status`: uncommitted changes are refused) and pushed to, on a branch not checked out.
The commit is made without a working tree (a scratch folder and a private index: the base's tree
with `folder/` replaced). Nothing is committed when that tree is the base's, or the branch's
already (a re-run): `changed` is then False. An existing branch with other content is never
forced. git runs with `GIT_TERMINAL_PROMPT=0`, standard input closed and a timeout. `gh` opens
the pull request when it is installed and signed in and the repository is on github.com.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

from protoncli.errors import PcliError, UsageError

GIT_TIMEOUT = 120.0
LOCK_TIMEOUT = 600.0
_BASE_REF = "refs/pcli/base"
_BRANCH_REF = "refs/pcli/branch"
_FALLBACK_AUTHOR = ("pcli", "pcli@localhost")
_GIT_OPTIONS = ("-c", "core.autocrlf=false", "-c", "core.safecrlf=false")
_NETWORK_HINT = "check the URL, the network and your credentials (git ls-remote URL)"
_SHOWN_CHANGES = 10
_GITHUB = re.compile(
    r"^(?:https://(?:[^@/]+@)?github\.com/|ssh://(?:[^@/]+@)?github\.com(?::\d+)?/"
    r"|(?:[^@/:]+@)?github\.com:)(?P<owner>[^/]+)/(?P<repo>[^/]+?)(?:\.git)?/?$"
)
_SCP_LIKE = re.compile(r"^[^/]+:")
_Done = subprocess.CompletedProcess[bytes]


@dataclass(frozen=True)
class ProvisioningRepository:
    """Where a resource's Terraform files are committed: a local path (absolute, or `file://`)
    or a remote git URL (https, ssh, `user@host:path`), and the base branch of pull requests."""

    url: str
    branch: str = "main"


@dataclass(frozen=True)
class PublishedBranch:
    """What `publish` did. `changed` False: nothing to review (the branch already held these
    files, and was left as it was, or the base branch does and no branch was made); `commit` is
    then that branch's or the base's head. `pull_request` is the URL `gh` printed, if it ran."""

    url: str
    base: str
    branch: str
    commit: str
    changed: bool
    pull_request: str | None = None


def branch_name_for(item: str, deployment_id: str) -> str:
    """`pcli/<item>-<first 8 characters of the id>`, both made safe for git's ref rules."""
    name = _ref_safe(item[:60]) or "item"
    short = _ref_safe(deployment_id[:8])
    return f"pcli/{name}-{short}" if short else f"pcli/{name}"


def _ref_safe(text: str) -> str:
    safe = re.sub(r"-{2,}", "-", re.sub(r"\.{2,}", ".", re.sub(r"[^A-Za-z0-9_.-]+", "-", text)))
    return safe.strip("-.").removesuffix(".lock").strip("-.")


def pull_request_hint(published: PublishedBranch) -> str:
    """What the user opens to ask for the deployment: the pull request, or how to make one."""
    if published.pull_request:
        return f"review and merge the pull request {published.pull_request}"
    github = _GITHUB.match(published.url)
    if github is not None:
        compare = (
            f"https://github.com/{github['owner']}/{github['repo']}/compare/"
            f"{quote(published.base, safe='/')}...{quote(published.branch, safe='/')}?expand=1"
        )
        return f"open a pull request of {published.branch} into {published.base}: {compare}"
    return (
        f"open a pull request (merge request) of {published.branch} into {published.base} "
        f"in {_shown(published.url)}"
    )


def publish(
    repo: ProvisioningRepository,
    *,
    work_root: Path,
    folder: str,
    files: Mapping[str, str | bytes],
    deleted: bool,
    branch_name: str,
    message: str,
    author: tuple[str, str] | None = None,
) -> PublishedBranch:
    """Commit `files` as the whole content of `folder/` on a new branch `branch_name` made from
    `repo.branch`, push it to `repo.url` and open a pull request where `gh` can.

    `deleted` says the files ask for the resource's deletion (their deployment metadata says
    so); they are written all the same, as Proton does, and the pull request says it."""
    from protoncli.locks import file_lock

    local = _local_path(repo.url)
    _check_ref(repo.branch, "base branch")
    _check_ref(branch_name, "branch")
    if not message.strip():
        raise UsageError("the commit message of a provisioning branch is empty")
    prefix = _check_path(folder, "folder")
    contents = _checked_files(files, folder)
    if local is not None:
        _refuse_uncommitted(local)
    key = hashlib.sha256(repo.url.encode()).hexdigest()[:16]
    clone = work_root / f"{key}.git"
    lock = work_root / f".{key}.lock"
    purpose = f"publishing {branch_name} to {_shown(repo.url)}"
    hint = f"check that {work_root} exists and can be written"
    result = partial(PublishedBranch, repo.url, repo.branch, branch_name)
    with file_lock(lock, purpose, timeout=LOCK_TIMEOUT, error=PcliError, hint=hint):
        git = _Git(clone, repo.url)
        git.ensure_clone()
        base, existing = git.fetch(repo.branch, branch_name)
        tree = git.tree_with(base, prefix, contents)
        if existing is not None and git.tree_of(existing) == tree:
            return result(existing, changed=False)  # a re-run: the branch holds these files
        if git.tree_of(base) == tree:
            return result(base, changed=False)  # nothing to review: no branch is made
        if existing is not None and not git.is_ancestor(existing, base):
            raise _branch_taken(repo, branch_name, "it has other commits")
        commit = git.commit(tree, base, message, _identity(local, author))
        refused = git.push(commit, branch_name)
        if refused is not None:
            _, now = git.fetch(repo.branch, branch_name)
            if now is not None and git.tree_of(now) == tree:
                return result(now, changed=False)  # another run pushed the same files first
            raise _branch_taken(repo, branch_name, refused)
        opened = _open_pull_request(clone, repo, branch_name, message, folder, deleted=deleted)
    return result(commit, changed=True, pull_request=opened)


def _branch_taken(repo: ProvisioningRepository, branch: str, why: str) -> PcliError:
    return PcliError(
        f"provisioning repository {_shown(repo.url)}: branch {branch} cannot be pushed "
        f"({why}); nothing was pushed",
        hint="publish under a new deployment id, or delete that branch if it is abandoned",
    )


def _local_path(url: str) -> Path | None:
    """The folder of a local repository URL; None for a remote one."""
    if url.startswith("file://"):
        return Path(unquote(url.removeprefix("file://")))
    if url.startswith("/"):
        return Path(url)
    if "://" in url or _SCP_LIKE.match(url):
        return None
    raise UsageError(
        f"provisioning repository {url!r} is neither an absolute path nor a git URL",
        hint="give an absolute path, a file:// URL, or an https://, ssh:// or user@host:path URL",
    )


def _check_ref(name: str, what: str) -> None:
    done = _run(["git", "check-ref-format", "--branch", name], what="check-ref-format")
    if done.returncode != 0 or name.startswith("-"):
        raise UsageError(f"{what} {name!r} is not a valid git branch name")


def _check_path(path: str, what: str) -> PurePosixPath:
    bad = {"", ".", "..", ".git"}
    if path.startswith("/") or "\\" in path or any(part in bad for part in path.split("/")):
        raise UsageError(
            f"{what} {path!r} is not a relative path inside the provisioning folder",
            hint="use relative POSIX paths without '.', '..' or empty parts",
        )
    return PurePosixPath(path)


def _checked_files(files: Mapping[str, str | bytes], folder: str) -> dict[str, bytes]:
    contents = {}
    for path, data in files.items():
        _check_path(path, f"file of {folder}:")
        contents[path] = data.encode("utf-8") if isinstance(data, str) else data
    parents = {str(parent) for path in contents for parent in PurePosixPath(path).parents}
    clash = sorted(parents & contents.keys())
    if clash:
        raise UsageError(f"file of {folder}: {clash[0]!r} is both a file and a folder")
    return contents


def _refuse_uncommitted(path: Path) -> None:
    """A local working clone with changes is refused (a bare one has no working tree)."""
    git = ["git", "--no-optional-locks", "-C", str(path)]
    alone = {"GIT_CEILING_DIRECTORIES": str(path.parent)}  # not a repository around `path`
    bare = _run([*git, "rev-parse", "--is-bare-repository"], env=alone, what="rev-parse")
    if bare.returncode != 0 or bare.stdout.strip() != b"false":
        return  # bare, or not a repository: fetching from it says what is wrong
    status = _run([*git, "status", "--porcelain"], env=alone, what="status")
    changed = [line[3:] for line in status.stdout.decode("utf-8", "replace").splitlines()]
    if status.returncode != 0 or changed:
        raise UsageError(
            f"provisioning repository {path} has uncommitted changes: "
            f"{', '.join(changed[:3]) or _first_error(status.stderr)}",
            details=changed[:_SHOWN_CHANGES],
            hint="commit or stash them, then run again",
        )


# -- git in the bare clone -------------------------------------------------------------------


class _Git:
    def __init__(self, clone: Path, url: str) -> None:
        self.clone = clone
        self.url = url

    def ensure_clone(self) -> None:
        if not (self.clone / "HEAD").is_file():
            self.clone.parent.mkdir(parents=True, exist_ok=True)
            self.run("init", "--quiet", "--bare", what="init")

    def fetch(self, base: str, branch: str) -> tuple[str, str | None]:
        """The heads of `base` and (if it exists) `branch` in the repository, fetched."""
        heads = f"refs/heads/{base}", f"refs/heads/{branch}"
        listed = self.run("ls-remote", "--heads", self.url, *heads, what="ls-remote")
        found = {ref for _, _, ref in (line.partition("\t") for line in _lines(listed.stdout))}
        if heads[0] not in found:
            raise PcliError(
                f"provisioning repository {_shown(self.url)} has no branch {base}",
                hint=f"check the branch name, or push a first commit to {base}",
            )
        self.run("update-ref", "-d", _BRANCH_REF, what="update-ref")
        specs = [f"+{heads[0]}:{_BASE_REF}"]
        if heads[1] in found:
            specs.append(f"+{heads[1]}:{_BRANCH_REF}")
        self.run("fetch", "--quiet", "--no-tags", self.url, *specs, what="fetch")
        return self.rev(_BASE_REF) or "", self.rev(_BRANCH_REF)

    def tree_with(self, base: str, folder: PurePosixPath, files: Mapping[str, bytes]) -> str:
        """The tree of `base` with `folder` holding exactly `files`."""
        with tempfile.TemporaryDirectory(prefix="pcli-provision-") as scratch:
            tree = Path(scratch) / "tree"
            env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
            tree.mkdir()
            work = ("--work-tree", str(tree))
            self.run(*work, "read-tree", base, env=env, what="read-tree")
            rm = ("rm", "--cached", "-r", "-q", "--ignore-unmatch", "--", str(folder))
            self.run(*work, *rm, env=env, what="rm")
            for relative, data in files.items():
                path = tree.joinpath(*folder.parts, *PurePosixPath(relative).parts)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            if files:
                self.run(*work, "add", "--force", "--", str(folder), env=env, what="add")
            return _text(self.run("write-tree", env=env, what="write-tree").stdout)

    def tree_of(self, commit: str) -> str:
        return _text(self.run("rev-parse", f"{commit}^{{tree}}", what="rev-parse").stdout)

    def rev(self, ref: str) -> str | None:
        found = self.run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        return _text(found.stdout) if found.returncode == 0 else None

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.run("merge-base", "--is-ancestor", older, newer, check=False).returncode == 0

    def commit(self, tree: str, parent: str, message: str, identity: dict[str, str]) -> str:
        command = ("commit-tree", tree, "-p", parent, "-F", "-")
        made = self.run(*command, env=identity, stdin=message.encode(), what="commit-tree")
        return _text(made.stdout)

    def push(self, commit: str, branch: str) -> str | None:
        """Push `commit` as `branch`, never forced; why the repository refused it, or None."""
        refspec = f"{commit}:refs/heads/{branch}"
        pushed = self.run("push", "--porcelain", self.url, refspec, check=False)
        if pushed.returncode == 0:
            return None
        refused = [line for line in _lines(pushed.stdout) if line.startswith("!")]
        if refused:
            return refused[0].rpartition("\t")[2].strip("[] ") or "refused"
        raise self.failed("push", pushed)

    def run(self, *args: str, check: bool = True, env: dict[str, str] | None = None,
            stdin: bytes | None = None, what: str | None = None) -> _Done:  # fmt: skip
        command = ["git", *_GIT_OPTIONS, "--git-dir", str(self.clone), *args]
        done = _run(command, env=env, stdin=stdin, what=what or args[0], url=self.url)
        if check and done.returncode != 0:
            raise self.failed(what or args[0], done)
        return done

    def failed(self, action: str, done: _Done) -> PcliError:
        said = _first_error(done.stderr or done.stdout).replace(self.url, _shown(self.url))
        return PcliError(
            f"provisioning repository {_shown(self.url)}: git {action} failed: {said}",
            hint=_NETWORK_HINT,
        )


def _run(command: list[str], *, what: str, env: dict[str, str] | None = None,
         stdin: bytes | None = None, url: str | None = None,
         cwd: Path | None = None) -> _Done:  # fmt: skip
    """git (or gh) with prompts off, standard input closed unless given, and a timeout."""
    prompts_off = {"GIT_TERMINAL_PROMPT": "0", "GCM_INTERACTIVE": "never"}
    environment = {**os.environ, **prompts_off, **(env or {})}
    where = f" for {_shown(url)}" if url else ""
    given = stdin or b""
    try:
        return subprocess.run(
            command, cwd=cwd, input=given, capture_output=True, env=environment,
            timeout=GIT_TIMEOUT, check=False,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise PcliError(
            f"{command[0]} is not installed (self-managed provisioning needs it)",
            hint=f"install {command[0]} and run again",
        ) from exc
    except subprocess.TimeoutExpired as exc:
        raise PcliError(
            f"{command[0]} {what}{where} did not finish in {GIT_TIMEOUT:g} seconds",
            hint=_NETWORK_HINT,
        ) from exc


def _identity(local: Path | None, author: tuple[str, str] | None) -> dict[str, str]:
    """Author and committer: `author`, else git's configuration, else pcli's own."""
    env: dict[str, str] = {}
    for index, key in enumerate(("name", "email")):
        value = author[index] if author else None
        if value is None:
            place = ("-C", str(local)) if local is not None and local.is_dir() else ()
            found = _run(["git", *place, "config", f"user.{key}"], what="config")
            value = _text(found.stdout) if found.returncode == 0 else ""
            value = value or _FALLBACK_AUTHOR[index]
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_{key.upper()}"] = value
    return env


def _open_pull_request(clone: Path, repo: ProvisioningRepository, branch: str, message: str,
                       folder: str, *, deleted: bool) -> str | None:  # fmt: skip
    """The URL of the pull request `gh` opened; None without gh, sign-in or a GitHub URL."""
    github = _GITHUB.match(repo.url)
    gh = shutil.which("gh")
    if github is None or gh is None:
        return None
    title, _, rest = message.strip().partition("\n")
    action = "delete the resource" if deleted else "apply them"
    body = rest.strip() or (
        f"pcli published the Terraform files of {folder}/. Merging lets the provisioning "
        f"pipeline {action} and report the outcome."
    )
    target = f"github.com/{github['owner']}/{github['repo']}"
    where = ("--repo", target, "--base", repo.branch, "--head", branch)
    try:  # the branch is pushed whatever happens here: pull_request_hint says what to open
        if _run([gh, "auth", "status", "--hostname", "github.com"], what="auth").returncode:
            return None
        command = [gh, "pr", "create", *where, "--title", title, "--body", body]
        opened = _run(command, what="pr create", cwd=clone, env={"GH_PROMPT_DISABLED": "1"})
    except PcliError:
        return None
    urls = [line for line in _lines(opened.stdout) if line.startswith("https://")]
    return urls[-1] if urls and opened.returncode == 0 else None


def _lines(raw: bytes) -> list[str]:
    return [line.strip() for line in raw.decode("utf-8", "replace").splitlines() if line.strip()]


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").strip()


def _first_error(raw: bytes) -> str:
    lines = _lines(raw)
    errors = [line for line in lines if line.startswith(("fatal:", "error:", "remote:"))]
    return (errors or lines or ["no message"])[0]


def _shown(url: str) -> str:
    """`url` without a password or token in it."""
    return re.sub(r"^([a-z+]+://[^/@:]+):[^/@]*@", r"\1:***@", url)
