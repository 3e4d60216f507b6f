"""Publishing rendered Terraform files to a provisioning repository, with real git in tmp_path."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from protoncli.errors import PcliError, UsageError
from protoncli.provision.repository import (
    ProvisioningRepository,
    PublishedBranch,
    branch_name_for,
    publish,
    pull_request_hint,
)

FILES = {"main.tf": 'resource "null_resource" "x" {}\n', ".proton/deployment-metadata.json": "{}"}


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def git_isolated(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("GIT_CONFIG_GLOBAL", raising=False)
    for key in ("NAME", "EMAIL"):
        for role in ("AUTHOR", "COMMITTER"):
            monkeypatch.delenv(f"GIT_{role}_{key}", raising=False)


@pytest.fixture
def working(tmp_path) -> Path:
    """A non-bare repository with one commit on main (README and an old folder's file)."""
    repo = tmp_path / "working"
    repo.mkdir()
    git(repo, "init", "--quiet", "--initial-branch=main")
    git(repo, "config", "user.name", "Tester")
    git(repo, "config", "user.email", "tester@example.com")
    (repo / "README.md").write_text("provisioning\n")
    (repo / "env" / "dev").mkdir(parents=True)
    (repo / "env" / "dev" / "old.tf").write_text("# old\n")
    git(repo, "add", ".")
    git(repo, "commit", "--quiet", "-m", "initial")
    return repo


@pytest.fixture
def bare(tmp_path, working) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(working), str(remote))
    return remote


def run(repo: Path | str, tmp_path: Path, **overrides):
    arguments = {
        "work_root": tmp_path / "cache",
        "folder": "env/dev",
        "files": FILES,
        "deleted": False,
        "branch_name": "pcli/dev-12345678",
        "message": "Deploy dev\n\nrendered by pcli",
    }
    arguments.update(overrides)
    return publish(ProvisioningRepository(str(repo)), **arguments)


def files_at(repo: Path, ref: str, folder: str = "env/dev") -> set[str]:
    listed = git(repo, "ls-tree", "-r", "--name-only", ref, "--", folder)
    return set(listed.splitlines())


def test_publish_into_bare_repository(tmp_path, bare):
    main = git(bare, "rev-parse", "main")
    published = run(bare, tmp_path)
    assert published.changed
    assert published.base == "main"
    assert published.branch == "pcli/dev-12345678"
    assert published.pull_request is None
    assert git(bare, "rev-parse", published.branch) == published.commit
    assert git(bare, "rev-parse", f"{published.commit}^") == main
    assert git(bare, "rev-list", "--count", f"main..{published.branch}") == "1"
    assert files_at(bare, published.branch) == {
        "env/dev/main.tf",
        "env/dev/.proton/deployment-metadata.json",
    }  # the old file is gone: the folder's content is replaced
    assert git(bare, "show", f"{published.branch}:README.md") == "provisioning"
    assert git(bare, "log", "-1", "--format=%s|%an <%ae>", published.branch) == (
        "Deploy dev|pcli <pcli@localhost>"
    )
    assert git(bare, "rev-parse", "main") == main


def test_same_files_again_is_unchanged(tmp_path, bare):
    first = run(bare, tmp_path)
    again = run(bare, tmp_path)
    assert not again.changed
    assert again.commit == first.commit
    assert git(bare, "rev-parse", first.branch) == first.commit


def test_files_already_on_the_base_make_no_branch(tmp_path, bare):
    first = run(bare, tmp_path)
    git(bare, "update-ref", "refs/heads/main", first.commit)  # the pull request was merged
    again = run(bare, tmp_path, branch_name="pcli/dev-abcdef12")
    assert not again.changed
    assert again.commit == first.commit
    assert not git(bare, "branch", "--list", "pcli/dev-abcdef12")


def test_removed_file_disappears_from_the_folder(tmp_path, bare):
    run(bare, tmp_path)
    fewer = {"main.tf": FILES["main.tf"]}
    again = run(bare, tmp_path, files=fewer, branch_name="pcli/dev-22222222")
    assert again.changed
    assert files_at(bare, again.branch) == {"env/dev/main.tf"}


def test_deleted_keeps_the_given_files(tmp_path, bare):
    flagged = {**FILES, ".proton/deployment-metadata.json": '{"isResourceDeleted": true}'}
    published = run(bare, tmp_path, files=flagged, deleted=True)
    shown = git(bare, "show", f"{published.branch}:env/dev/.proton/deployment-metadata.json")
    assert "isResourceDeleted" in shown
    assert "env/dev/main.tf" in files_at(bare, published.branch)


def test_author_given_and_from_config(tmp_path, bare, working):
    published = run(bare, tmp_path, author=("Ada", "ada@example.com"))
    assert git(bare, "log", "-1", "--format=%an <%ae>|%cn", published.branch) == (
        "Ada <ada@example.com>|Ada"
    )
    local = run(working, tmp_path, branch_name="pcli/dev-33333333")
    assert git(working, "log", "-1", "--format=%an <%ae>", local.branch) == (
        "Tester <tester@example.com>"
    )


def test_working_repository_is_left_untouched(tmp_path, working):
    head = git(working, "rev-parse", "HEAD")
    for url in (str(working), f"file://{working}"):
        published = run(url, tmp_path, branch_name=f"pcli/dev-{len(url)}")
        assert published.changed
        assert git(working, "rev-parse", published.branch) == published.commit
    assert git(working, "rev-parse", "HEAD") == head
    assert git(working, "symbolic-ref", "HEAD") == "refs/heads/main"
    assert git(working, "status", "--porcelain") == ""
    assert (working / "env" / "dev" / "old.tf").is_file()
    assert not (working / "env" / "dev" / "main.tf").exists()


def test_uncommitted_changes_are_refused(tmp_path, working):
    (working / "README.md").write_text("changed\n")
    (working / "new.txt").write_text("new\n")
    with pytest.raises(UsageError) as caught:
        run(working, tmp_path)
    assert "uncommitted changes" in caught.value.message
    assert str(working) in caught.value.message
    assert "README.md" in caught.value.details
    assert "new.txt" in caught.value.details
    assert caught.value.hint == "commit or stash them, then run again"
    assert not git(working, "branch", "--list", "pcli/*")


@pytest.mark.parametrize("url", ["file:///nonexistent/x.git", "https://127.0.0.1:9/x.git"])
def test_unreachable_repository(tmp_path, bare, url):
    with pytest.raises(PcliError) as caught:
        run(url, tmp_path)
    assert url in caught.value.message
    assert "fatal:" in caught.value.message
    assert "credentials" in (caught.value.hint or "")
    assert run(bare, tmp_path).changed  # the cache still works


def test_missing_base_branch(tmp_path, bare):
    with pytest.raises(PcliError) as caught:
        publish(
            ProvisioningRepository(str(bare), branch="release"),
            work_root=tmp_path / "cache",
            folder="env/dev",
            files=FILES,
            deleted=False,
            branch_name="pcli/dev-12345678",
            message="Deploy",
        )
    assert "has no branch release" in caught.value.message
    assert str(bare) in caught.value.message
    assert not git(bare, "branch", "--list", "pcli/*")


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("env/dev", "../escape.tf"),
        ("env/dev", "/etc/passwd"),
        ("env/dev", "a/../../b.tf"),
        ("env/dev", ".git/config"),
        ("env/dev", "a//b.tf"),
        ("../env", "main.tf"),
        ("", "main.tf"),
        ("/abs", "main.tf"),
    ],
)
def test_escaping_paths_are_refused(tmp_path, bare, folder, name):
    with pytest.raises(UsageError):
        run(bare, tmp_path, folder=folder, files={name: "x"})
    assert not git(bare, "branch", "--list", "pcli/*")


def test_bad_branch_and_relative_url_are_refused(tmp_path, bare):
    with pytest.raises(UsageError):
        run(bare, tmp_path, branch_name="bad..name")
    with pytest.raises(UsageError):
        run("relative/repo", tmp_path)


def test_branch_with_other_commits_is_not_forced(tmp_path, bare):
    run(bare, tmp_path)
    with pytest.raises(PcliError) as caught:
        run(bare, tmp_path, files={"other.tf": "x"})
    assert "pcli/dev-12345678" in caught.value.message
    assert "nothing was pushed" in caught.value.message


@pytest.mark.parametrize(
    ("item", "deployment_id"),
    [
        ("my-service", "0123456789abcdef"),
        ("Service Instance/prod", "abc"),
        ("..weird..name.lock", "x.lock-1234"),
        ("trailing.lock.", "ab.lock."),
        ("@{ref}~^:?*[\\", "-id"),
        ("", ""),
    ],
)
def test_branch_name_for_is_a_valid_ref(tmp_path, item, deployment_id):
    name = branch_name_for(item, deployment_id)
    assert name.startswith("pcli/")
    git(tmp_path, "check-ref-format", "--branch", name)


def test_branch_name_for_shape():
    assert branch_name_for("frontend", "0123456789abcdef") == "pcli/frontend-01234567"


def test_two_threads_publish_into_one_cache(tmp_path, bare):
    results: dict[str, PublishedBranch] = {}
    errors: list[BaseException] = []

    def one(item: str) -> None:
        try:
            results[item] = run(
                bare, tmp_path, folder=f"env/{item}", branch_name=branch_name_for(item, "1234abcd")
            )
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(item,)) for item in ("alpha", "beta")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    for item in ("alpha", "beta"):
        assert git(bare, "rev-parse", f"pcli/{item}-1234abcd") == results[item].commit
        assert f"env/{item}/main.tf" in files_at(bare, results[item].commit, f"env/{item}")


def test_pull_request_hint():
    def hint(url: str) -> str:
        return pull_request_hint(PublishedBranch(url, "main", "pcli/x-1", "c0ffee", changed=True))

    compare = "https://github.com/acme/infra/compare/main...pcli/x-1?expand=1"
    assert compare in hint("https://github.com/acme/infra.git")
    assert compare in hint("git@github.com:acme/infra.git")
    assert compare in hint("ssh://git@github.com/acme/infra")
    other = hint("https://gitlab.example.com/acme/infra.git")
    assert other == (
        "open a pull request (merge request) of pcli/x-1 into main in "
        "https://gitlab.example.com/acme/infra.git"
    )
    assert "***" in hint("https://user:secret@gitlab.example.com/acme/infra.git")


def test_no_gh_means_no_pull_request(tmp_path, bare, monkeypatch):
    # a GitHub URL that git reaches through a rewrite to the bare repository
    git(tmp_path, "config", "--global", f"url.{bare}.insteadOf", "https://github.com/acme/infra")
    only_git = tmp_path / "bin"
    only_git.mkdir()
    real_git = shutil.which("git")
    assert real_git is not None
    (only_git / "git").symlink_to(real_git)
    monkeypatch.setenv("PATH", str(only_git))
    published = run("https://github.com/acme/infra", tmp_path)
    assert published.changed
    assert published.pull_request is None
    assert git(bare, "rev-parse", published.branch) == published.commit
    assert "compare/main...pcli/dev-12345678" in pull_request_hint(published)
    assert os.environ["PATH"] == str(only_git)


FAKE_GH = """\
#!/bin/sh
# A stand-in for the GitHub CLI: signed in (or not, per GH_FAKE_SIGNED_IN), it records each call
# and opens pull request 7.
echo "$@" >> "$GH_FAKE_LOG"
if [ "$1" = auth ]; then
  [ "$GH_FAKE_SIGNED_IN" = yes ] && exit 0 || exit 1
fi
if [ "$1 $2" = "pr create" ]; then
  echo "Creating pull request for $6 into $8 in acme/infra"
  echo "https://github.com/acme/infra/pull/7"
fi
"""


@pytest.mark.parametrize("signed_in", [True, False])
def test_gh_opens_the_pull_request_when_signed_in(tmp_path, bare, monkeypatch, signed_in):
    git(tmp_path, "config", "--global", f"url.{bare}.insteadOf", "https://github.com/acme/infra")
    tools = tmp_path / "tools"
    tools.mkdir()
    gh = tools / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(0o755)
    log = tmp_path / "gh.log"
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GH_FAKE_LOG", str(log))
    monkeypatch.setenv("GH_FAKE_SIGNED_IN", "yes" if signed_in else "no")

    published = run("https://github.com/acme/infra", tmp_path)

    calls = log.read_text().splitlines()
    assert calls[0] == "auth status --hostname github.com"
    if not signed_in:
        assert published.pull_request is None
        assert calls == ["auth status --hostname github.com"]
        return
    assert published.pull_request == "https://github.com/acme/infra/pull/7"
    (created,) = calls[1:]
    assert created.startswith(
        f"pr create --repo github.com/acme/infra --base main --head {published.branch} --title "
    )
