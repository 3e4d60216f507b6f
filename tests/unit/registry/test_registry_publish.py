"""Publishing, listing, resolving and promoting versions in a directory registry."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tarfile
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import bundle_digest, load_bundle
from protoncli.blueprints.model import Kind
from protoncli.blueprints.registry import Registry, VersionStatus, default_blueprint_name
from protoncli.errors import NotFoundError, RegistryError, UsageError


def test_first_publish_registers_1_0_published_and_recommended(registry, bundles):
    source = bundles.environment("network")

    result = registry.publish(source, description="shared VPC")

    info = result.version
    assert result.created
    assert (info.name, info.version, info.kind) == ("network", "1.0", Kind.ENVIRONMENT)
    assert info.status is VersionStatus.PUBLISHED
    assert info.recommended
    assert info.digest == bundle_digest(load_bundle(source))
    record = json.loads((registry.root / "network" / "1.0" / "version.json").read_text())
    assert record["name"] == "network"
    assert record["version"] == "1.0"
    assert record["kind"] == "environment"
    assert record["status"] == "PUBLISHED"
    assert record["digest"] == info.digest
    assert record["description"] == "shared VPC"
    assert record["provisioning"] == "cloudformation"
    assert record["has_pipeline"] is False
    assert record["published_at"] == record["created_at"]


def test_published_bundle_files_are_a_read_only_copy(registry, bundles):
    source = bundles.environment("network")
    info = registry.publish(source).version

    copied = registry.bundle_dir(info) / "infrastructure" / "cloudformation.yaml"
    assert copied.read_text() == (source / "infrastructure" / "cloudformation.yaml").read_text()
    assert not os.access(copied, os.W_OK) or os.geteuid() == 0
    assert stat.S_IMODE(copied.stat().st_mode) == 0o444
    assert registry.load(info).kind is Kind.ENVIRONMENT
    assert bundle_digest(registry.load(info)) == info.digest


def test_next_publish_is_the_next_minor_and_major_starts_a_new_major(registry, bundles):
    registry.publish(bundles.environment("network", description="one"))
    second = registry.publish(bundles.environment("network", description="two")).version
    third = registry.publish(bundles.environment("network", description="three"), major=True)
    fourth = registry.publish(bundles.environment("network", description="four")).version

    assert second.version == "1.1"
    assert third.version.version == "2.0"
    assert fourth.version == "2.1"
    assert [v.version for v in registry.versions("network")] == ["1.0", "1.1", "2.0", "2.1"]


def test_major_number_adds_to_that_major_or_starts_it(registry, bundles):
    registry.publish(bundles.environment("network", description="one"))
    registry.publish(bundles.environment("network", description="two"), major=True)

    into_one = registry.publish(bundles.environment("network", description="three"), major=1)
    new_five = registry.publish(bundles.environment("network", description="four"), major=5)

    assert into_one.version.version == "1.1"
    assert new_five.version.version == "5.0"


def test_versions_sort_numerically(registry, bundles):
    for number in range(11):
        registry.publish(bundles.environment("network", description=f"change {number}"))

    listed = [v.version for v in registry.versions("network")]

    assert listed[-3:] == ["1.8", "1.9", "1.10"]
    assert registry.get("network").version == "1.10"


def test_draft_is_not_recommended_until_promoted(registry, bundles):
    registry.publish(bundles.environment("network", description="one"))
    draft = registry.publish(bundles.environment("network", description="two"), draft=True)

    assert draft.version.status is VersionStatus.DRAFT
    assert draft.version.published_at is None
    assert not draft.version.recommended
    assert registry.get("network").version == "1.0"
    (summary,) = registry.blueprints()
    assert (summary.recommended, summary.latest, summary.version_count) == ("1.0", "1.1", 2)

    promoted = registry.promote("network", "1.1")

    assert promoted.status is VersionStatus.PUBLISHED
    assert promoted.recommended
    assert promoted.published_at is not None
    assert registry.get("network").version == "1.1"
    record = json.loads((registry.root / "network" / "1.1" / "version.json").read_text())
    assert record["status"] == "PUBLISHED"


def test_promoting_a_published_version_changes_nothing(registry, bundles):
    info = registry.publish(bundles.environment("network")).version
    path = registry.root / "network" / "1.0" / "version.json"
    before = path.read_text()

    again = registry.promote("network", "1.0")

    assert again.status is VersionStatus.PUBLISHED
    assert again.published_at == info.published_at
    assert again.recommended
    assert path.read_text() == before


def test_identical_content_returns_the_existing_version_whatever_the_flags(registry, bundles):
    source = bundles.environment("network")
    first = registry.publish(source).version
    copy = shutil.copytree(source, bundles.base / "elsewhere" / "network")

    for flags in ({}, {"major": True}, {"draft": True}, {"major": 3}):
        result = registry.publish(copy, **flags)
        assert not result.created
        assert result.version.version == "1.0"
        assert result.version.digest == first.digest
        assert "1.0 has identical content" in result.reasons[0]
    assert [v.version for v in registry.versions("network")] == ["1.0"]


def test_publishing_another_kind_under_a_name_is_refused(registry, bundles):
    registry.publish(bundles.environment("shared"))

    with pytest.raises(RegistryError) as caught:
        registry.publish(bundles.service("svc"), name="shared")

    assert caught.value.message == (
        "blueprint 'shared' is an environment blueprint (since 1.0); "
        "cannot publish a service bundle under that name"
    )
    assert "--name" in (caught.value.hint or "")
    assert [v.version for v in registry.versions("shared")] == ["1.0"]


def test_name_comes_from_the_folder_or_its_parent_for_a_major_folder(registry, bundles):
    plain = registry.publish(bundles.environment("plain-env")).version
    synced = registry.publish(bundles.environment("synced-env/v1")).version
    named = registry.publish(bundles.environment("whatever"), name="chosen").version

    assert (plain.name, synced.name, named.name) == ("plain-env", "synced-env", "chosen")


def test_tarball_name_is_its_wrapper_folder_else_its_stem(tmp_path, registry, bundles):
    source = bundles.environment("wrapped-env")
    wrapped = tmp_path / "upload.tar.gz"
    with tarfile.open(wrapped, "w:gz") as archive:
        archive.add(source, arcname="wrapped-env")
    flat = tmp_path / "flat-env.tgz"
    with tarfile.open(flat, "w:gz") as archive:
        for child in source.iterdir():
            archive.add(child, arcname=child.name)

    assert default_blueprint_name(wrapped) == "wrapped-env"
    assert default_blueprint_name(flat) == "flat-env"
    assert registry.publish(wrapped).version.name == "wrapped-env"


def test_an_invalid_name_is_refused(registry, bundles):
    with pytest.raises(UsageError) as caught:
        registry.publish(bundles.environment("network"), name="bad name!")

    assert "'bad name!'" in caught.value.message
    assert not (registry.root / "bad name!").exists()


def test_resolve_accepts_name_name_at_version_and_name_at_major(registry, bundles):
    registry.publish(bundles.environment("network", description="one"))
    registry.publish(bundles.environment("network", description="two"))
    registry.publish(bundles.environment("network", description="three"), draft=True)
    registry.publish(bundles.environment("network", description="four"), major=True)
    registry.publish(bundles.environment("network", description="five"), major=2, draft=True)

    assert registry.resolve("network").version == "2.0"
    assert registry.resolve("network@1").version == "1.1"
    assert registry.resolve("network@1.2").version == "1.2"
    assert registry.resolve("network@1.2").status is VersionStatus.DRAFT
    assert registry.resolve("network@2").version == "2.0"


def test_resolve_explains_missing_majors_and_drafts_only(registry, bundles):
    registry.publish(bundles.environment("network", description="one"))
    registry.publish(bundles.environment("network", description="two"), major=True, draft=True)

    with pytest.raises(NotFoundError) as no_major:
        registry.resolve("network@7")
    with pytest.raises(NotFoundError) as drafts_only:
        registry.resolve("network@2")
    with pytest.raises(UsageError) as empty:
        registry.resolve("network@")

    assert no_major.value.message == "major version 7 of 'network' does not exist"
    assert no_major.value.hint == "known major versions: 1, 2"
    assert drafts_only.value.message == "major version 2 of 'network' has no published version"
    assert "drafts: 2.0" in (drafts_only.value.hint or "")
    assert "NAME@MAJOR.MINOR" in (empty.value.hint or "")


def test_a_blueprint_with_only_drafts_has_no_recommended_version(registry, bundles):
    registry.publish(bundles.environment("network"), draft=True)

    (summary,) = registry.blueprints()
    assert summary.recommended is None
    with pytest.raises(NotFoundError) as caught:
        registry.get("network")

    assert caught.value.message == "blueprint 'network' has no published version"


def test_unknown_name_suggests_close_matches(registry, bundles):
    registry.publish(bundles.environment("network"))
    registry.publish(bundles.service("web-service"))

    with pytest.raises(NotFoundError) as caught:
        registry.resolve("netwrk")

    assert caught.value.message == f"blueprint 'netwrk' not found in registry {registry.root}"
    assert caught.value.hint == "did you mean 'network'? known blueprints: network, web-service"


def test_unknown_name_in_an_empty_registry(registry):
    with pytest.raises(NotFoundError) as caught:
        registry.versions("anything")

    assert "empty" in (caught.value.hint or "")
    assert registry.blueprints() == []


def test_unknown_version_lists_the_known_ones(registry, bundles):
    registry.publish(bundles.environment("network", description="one"))
    registry.publish(bundles.environment("network", description="two"), draft=True)

    with pytest.raises(NotFoundError) as caught:
        registry.get("network", "1.5")
    with pytest.raises(UsageError) as malformed:
        registry.get("network", "one")

    assert caught.value.message == "blueprint 'network' has no version 1.5"
    assert caught.value.hint is not None
    assert caught.value.hint.endswith("known versions: 1.0, 1.1 (draft)")
    assert "'one'" in malformed.value.message


def test_a_corrupt_version_record_names_the_file(registry, bundles):
    registry.publish(bundles.environment("network"))
    record = registry.root / "network" / "1.0" / "version.json"
    record.write_text('{"name": "network", "version": "1.0"}')

    with pytest.raises(RegistryError) as missing_key:
        registry.versions("network")
    record.write_text("{not json")
    with pytest.raises(RegistryError) as bad_json:
        registry.blueprints()

    assert missing_key.value.message.startswith(f"{record}: corrupt version record")
    assert "kind" in missing_key.value.message
    assert bad_json.value.message.startswith(f"{record}:1: invalid JSON")


def test_blueprints_lists_each_with_kind_and_versions(registry, bundles):
    registry.publish(bundles.service("web"), description="web service")
    registry.publish(bundles.environment("network"))

    listed = registry.blueprints()

    assert [(b.name, b.kind, b.latest) for b in listed] == [
        ("network", Kind.ENVIRONMENT, "1.0"),
        ("web", Kind.SERVICE, "1.0"),
    ]
    assert listed[1].description == "web service"
    web = registry.get("web")
    assert [str(env) for env in web.compatible_environments] == ["network:1"]
    assert web.to_dict()["compatible_environments"] == ["network:1"]


def test_default_registry_follows_pcli_registry_then_pcli_home(tmp_path, monkeypatch):
    assert Registry.default().root == Path(os.environ["PCLI_HOME"]) / "data" / "registry"

    monkeypatch.setenv("PCLI_REGISTRY", str(tmp_path / "shared-registry"))

    assert Registry.default().root == tmp_path / "shared-registry"


def test_names_that_are_not_blueprint_names_never_reach_the_file_system(registry, bundles):
    registry.publish(bundles.environment("network"))

    with pytest.raises(UsageError) as caught:
        registry.versions("../network")
    with pytest.raises(UsageError):
        registry.promote("../network", "1.0")

    assert "blueprint name '../network'" in caught.value.message


def test_promoting_an_unknown_version_lists_the_known_ones(registry, bundles):
    registry.publish(bundles.environment("network"))

    with pytest.raises(NotFoundError) as caught:
        registry.promote("network", "1.1")

    assert caught.value.message == "blueprint 'network' has no version 1.1"
    assert caught.value.hint == "did you mean '1.0'? known versions: 1.0"


def test_a_folder_holding_one_wrapper_folder_is_named_after_the_wrapper(registry, bundles):
    bundles.environment("upload/shared-vpc")

    assert registry.publish(bundles.base / "upload").version.name == "shared-vpc"
