"""Starter blueprints appear in a registry out of the box, once, and never replace a user's."""

from __future__ import annotations

import json
import shutil

from protoncli.blueprints.registry import Registry, VersionStatus
from protoncli.blueprints.starters import open_registry, seed, starter_names, starters_root


def _starters(bundles):
    bundles.environment("starters/vpc-env/v1")
    bundles.service("starters/web-svc/v1")
    return bundles.base / "starters"


def test_a_fresh_registry_shows_the_starters_as_published_1_0(tmp_path, bundles):
    registry = open_registry(tmp_path / "registry", _starters(bundles))

    listed = registry.blueprints()

    assert [(b.name, b.recommended) for b in listed] == [("vpc-env", "1.0"), ("web-svc", "1.0")]
    assert registry.resolve("web-svc@1").status is VersionStatus.PUBLISHED
    marker = json.loads((registry.root / ".starters.json").read_text())
    assert marker["starters"]["vpc-env"]["action"] == "seeded"
    assert marker["starters"]["vpc-env"]["version"] == "1.0"
    assert marker["starters"]["vpc-env"]["digest"] == registry.get("vpc-env").digest


def test_an_opened_registry_resolves_a_starter(tmp_path, bundles):
    registry = open_registry(tmp_path / "registry", _starters(bundles))

    assert registry.resolve("vpc-env").version == "1.0"


def test_starters_are_seeded_once(tmp_path, bundles):
    starters = _starters(bundles)
    open_registry(tmp_path / "registry", starters).blueprints()
    shutil.rmtree(tmp_path / "registry" / "vpc-env")

    listed = open_registry(tmp_path / "registry", starters).blueprints()

    assert [b.name for b in listed] == ["web-svc"]


def test_a_users_blueprint_of_a_starter_name_is_kept(tmp_path, bundles):
    starters = _starters(bundles)
    user = Registry(tmp_path / "registry")
    own = user.publish(bundles.service("mine/web-svc", description="our own"), draft=True)

    listed = open_registry(tmp_path / "registry", starters).blueprints()

    assert [(b.name, b.latest, b.recommended) for b in listed] == [
        ("vpc-env", "1.0", "1.0"),
        ("web-svc", "1.0", None),
    ]
    assert user.get("web-svc", "1.0").digest == own.version.digest
    marker = json.loads((tmp_path / "registry" / ".starters.json").read_text())
    assert marker["starters"]["web-svc"]["action"] == "skipped"


def test_a_starter_added_later_is_seeded_on_the_next_read(tmp_path, bundles):
    starters = _starters(bundles)
    open_registry(tmp_path / "registry", starters).blueprints()
    bundles.environment("starters/tf-env/v1")

    listed = open_registry(tmp_path / "registry", starters).blueprints()

    assert [b.name for b in listed] == ["tf-env", "vpc-env", "web-svc"]


def test_a_broken_starter_does_not_stop_the_others(tmp_path, bundles):
    starters = _starters(bundles)
    (starters / "broken" / "v1").mkdir(parents=True)
    (starters / "broken" / "v1" / "README.md").write_text("no bundle here\n")
    registry = open_registry(tmp_path / "registry", starters)

    listed = registry.blueprints()

    assert [b.name for b in listed] == ["vpc-env", "web-svc"]
    marker = json.loads((registry.root / ".starters.json").read_text())
    assert marker["starters"]["broken"]["action"] == "failed"
    assert marker["starters"]["broken"]["reason"]


def test_seed_reports_what_it_did(tmp_path, bundles):
    starters = _starters(bundles)
    registry = Registry(tmp_path / "registry")
    registry.publish(bundles.environment("mine/vpc-env", description="ours"))

    entries = seed(registry, starters)

    assert [(e.name, e.action, e.version) for e in entries] == [
        ("vpc-env", "skipped", None),
        ("web-svc", "seeded", "1.0"),
    ]
    assert registry.blueprints()[0].name == "vpc-env"


def test_a_registry_opened_without_starters_never_seeds(tmp_path, bundles):
    _starters(bundles)
    registry = Registry(tmp_path / "registry")

    assert registry.blueprints() == []
    assert registry.names() == []
    assert not (tmp_path / "registry" / ".starters.json").exists()


def test_the_repository_starters_are_found_and_seed_cleanly(tmp_path, starters_dir):
    assert starters_root() == starters_dir
    names = starter_names()
    assert names, f"no starter blueprints under {starters_dir}"

    registry = open_registry(tmp_path / "registry")
    listed = {b.name: b for b in registry.blueprints()}

    marker = json.loads((registry.root / ".starters.json").read_text())
    problems = {n: e["reason"] for n, e in marker["starters"].items() if e["action"] != "seeded"}
    assert problems == {}
    assert sorted(listed) == names
    assert all(info.recommended == "1.0" for info in listed.values())
