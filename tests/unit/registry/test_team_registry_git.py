"""A team registry in a git repository (real git, local bare repositories): template-sync
layout, a tag per version, publishers racing, a tag moved to other content."""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import bundle_digest, load_bundle
from protoncli.blueprints.gitstore import GitStore
from protoncli.blueprints.location import open_location, parse_remote
from protoncli.blueprints.remote import RemoteRegistry
from protoncli.errors import RegistryError


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture
def origin(tmp_path: Path) -> Path:
    repository = tmp_path / "blueprints.git"
    git("init", "--quiet", "--bare", str(repository))
    return repository


def team_registry(origin: Path, cache: Path | None = None) -> RemoteRegistry:
    url = f"git+file://{origin}"
    if cache is None:
        registry = open_location(url)
        assert isinstance(registry, RemoteRegistry)
        return registry
    return RemoteRegistry(GitStore(parse_remote(url), cache / ".repository.git"), cache)


def files_at(origin: Path, ref: str) -> list[str]:
    return git("--git-dir", str(origin), "ls-tree", "-r", "--name-only", ref).split()


def test_publish_commits_template_sync_folders_and_tags_each_version(origin, bundles, tmp_path):
    first = bundles.environment("v1", description="one")
    second = bundles.environment("v2", description="two")
    publisher = team_registry(origin)

    assert publisher.publish(first, name="network").version.version == "1.0"
    assert publisher.publish(second, name="network").version.version == "1.1"
    third = bundles.environment("v3", description="three")
    assert publisher.publish(third, name="network", major=2).version.version == "2.0"

    assert git("--git-dir", str(origin), "tag").split() == [
        "network@1.0",
        "network@1.1",
        "network@2.0",
    ]
    assert files_at(origin, "main") == [
        "network/v1/infrastructure/cloudformation.yaml",
        "network/v1/infrastructure/manifest.yaml",
        "network/v1/schema/schema.yaml",
        "network/v2/infrastructure/cloudformation.yaml",
        "network/v2/infrastructure/manifest.yaml",
        "network/v2/schema/schema.yaml",
        "pcli-registry.json",
    ]
    log = git("--git-dir", str(origin), "log", "--format=%s", "main").splitlines()
    assert log == [
        "pcli: publish network@2.0",
        "pcli: publish network@1.1",
        "pcli: publish network@1.0",
    ]
    # The v1 folder holds the latest minor; 1.0 stays readable from its tag.
    reader = team_registry(origin, tmp_path / "reader")
    digests = {v.version: v.digest for v in reader.versions("network")}
    assert bundle_digest(reader.load(reader.get("network", "1.0"))) == digests["1.0"]
    assert digests["1.0"] == bundle_digest(load_bundle(first))
    assert digests["1.1"] == bundle_digest(load_bundle(second))

    fourth = bundles.environment("v4", description="four")
    assert (
        publisher.publish(fourth, name="network", draft=True, major=True).version.version == "3.0"
    )
    publisher.promote("network", "3.0")
    index = json.loads(git("--git-dir", str(origin), "show", "main:pcli-registry.json"))
    assert index["blueprints"]["network"]["3.0"]["status"] == "PUBLISHED"
    assert team_registry(origin, tmp_path / "late").get("network").version == "3.0"


def test_the_repository_default_branch_is_used(tmp_path, bundles):
    origin = tmp_path / "legacy.git"
    git("init", "--quiet", "--bare", "--initial-branch=trunk", str(origin))
    seed = tmp_path / "seed"
    git("clone", "--quiet", str(origin), str(seed))
    (seed / "README.md").write_text("templates\n")
    git("add", "README.md", cwd=seed)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start", cwd=seed)
    git("push", "--quiet", "origin", "trunk", cwd=seed)

    team_registry(origin).publish(bundles.environment(), name="network")

    assert "pcli-registry.json" in files_at(origin, "trunk")
    assert "README.md" in files_at(origin, "trunk")  # the branch's own files are kept
    assert git("--git-dir", str(origin), "branch").split() == ["*", "trunk"]


def test_two_publishers_pushing_at_once_both_land_with_distinct_versions(origin, bundles, tmp_path):
    team_registry(origin).publish(bundles.environment("base", description="base"), name="net")
    both_read = threading.Barrier(2, timeout=30)
    publishers = [team_registry(origin, tmp_path / f"machine-{k}") for k in range(2)]
    for publisher in publishers:
        read = publisher.store.read_index
        calls: list[int] = []

        def read_then_wait(read=read, calls=calls):
            answer = read()
            calls.append(1)
            if len(calls) == 1:
                both_read.wait()  # both decide on the same commit; one push is refused
            return answer

        publisher.store.read_index = read_then_wait
    sources = [bundles.environment(f"edit-{k}", description=f"edit {k}") for k in range(2)]
    results: list = [None, None]

    def publish(k: int) -> None:
        results[k] = publishers[k].publish(sources[k], name="net")

    threads = [threading.Thread(target=publish, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.version.version for r in results) == ["1.1", "1.2"]
    assert git("--git-dir", str(origin), "tag").split() == ["net@1.0", "net@1.1", "net@1.2"]
    index = json.loads(git("--git-dir", str(origin), "show", "main:pcli-registry.json"))
    assert {v: r["digest"] for v, r in index["blueprints"]["net"].items()} == {
        "1.0": bundle_digest(load_bundle(bundles.base / "base")),
        **{r.version.version: r.version.digest for r in results},
    }


def test_a_tag_moved_to_other_content_is_refused_naming_the_version(origin, bundles, tmp_path):
    team_registry(origin).publish(bundles.environment(), name="network")
    work = tmp_path / "work"
    git("clone", "--quiet", "--branch", "main", str(origin), str(work))
    (work / "network" / "v1" / "README.md").write_text("# changed behind pcli's back\n")
    git("add", "-A", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "edit", cwd=work)
    git("tag", "--force", "network@1.0", cwd=work)
    git("push", "--quiet", "--force", "origin", "refs/tags/network@1.0", cwd=work)

    reader = team_registry(origin, tmp_path / "reader")
    with pytest.raises(RegistryError) as caught:
        reader.load(reader.get("network", "1.0"))

    assert caught.value.message.startswith(
        f"blueprint network@1.0 in git+file://{origin} changed after it was published"
    )


def test_an_unreachable_repository_is_one_clear_error(tmp_path):
    registry = team_registry(tmp_path / "nowhere.git")

    with pytest.raises(RegistryError) as caught:
        registry.names()

    assert caught.value.message.startswith(f"registry git+file://{tmp_path}/nowhere.git: git ")
    assert caught.value.hint == (
        "check the URL and your access to the repository (git ls-remote URL)"
    )
