"""Template sync: `<name>/v<N>/` folders become DRAFT versions of major N."""

from __future__ import annotations

import pytest

from protoncli.blueprints.registry import VersionStatus
from protoncli.blueprints.sync import SyncAction, find_template_folders, sync_directory
from protoncli.errors import NotFoundError


def _actions(report):
    return [(e.name, e.major_folder, e.action.value, e.version) for e in report.entries]


def test_first_sync_creates_major_one_drafts(registry, bundles):
    bundles.environment("network/v1")
    bundles.service("web/v1")

    report = sync_directory(registry, bundles.base)

    assert _actions(report) == [
        ("network", "v1", "created", "1.0"),
        ("web", "v1", "created", "1.0"),
    ]
    assert report.ok
    assert [info.status for info in registry.versions("network")] == [VersionStatus.DRAFT]
    assert registry.get("web", "1.0").status is VersionStatus.DRAFT


def test_unchanged_folders_create_nothing(registry, bundles):
    bundles.environment("network/v1")
    sync_directory(registry, bundles.base)

    report = sync_directory(registry, bundles.base)

    assert _actions(report) == [("network", "v1", "unchanged", "1.0")]
    assert [info.version for info in registry.versions("network")] == ["1.0"]


def test_a_changed_folder_becomes_a_new_draft_minor_and_a_new_folder_a_new_major(registry, bundles):
    bundles.environment("network/v1")
    sync_directory(registry, bundles.base)
    bundles.environment("network/v1", description="network v1, second commit")
    bundles.environment("network/v2", description="network v2")

    report = sync_directory(registry, bundles.base)

    assert _actions(report) == [
        ("network", "v1", "created", "1.1"),
        ("network", "v2", "created", "2.0"),
    ]
    assert registry.get("network", "1.1").status is VersionStatus.DRAFT


def test_an_incompatible_change_fails_that_blueprint_only(registry, bundles):
    bundles.environment("network/v1")
    bundles.service("web/v1")
    sync_directory(registry, bundles.base)
    bundles.environment("network/v1", description="second commit")
    bundles.service("web/v1", properties={"port": {"type": "number", "default": 80}})

    report = sync_directory(registry, bundles.base)

    network, web = report.entries
    assert (network.action, network.version) == (SyncAction.CREATED, "1.1")
    assert web.action is SyncAction.FAILED
    assert web.version is None
    assert web.reason == (
        "web 1.1: schema is not backward compatible with 1.0, so it cannot be a new minor "
        "version; put it in a new v2 folder"
    )
    assert web.details == ("WebInput.size: input removed",)
    assert not report.ok
    assert report.failed == [web]


def test_a_service_without_registration_file_fails(registry, bundles):
    bundles.service("web/v1", registration=None)
    bundles.service("legacy/v1", registration=".compatible-envs")

    report = sync_directory(registry, bundles.base)

    legacy, web = report.entries
    assert legacy.action is SyncAction.CREATED
    assert web.action is SyncAction.FAILED
    assert web.reason == (
        f"{bundles.base / 'web' / 'v1'}: a service blueprint needs .template-registration.yaml "
        "(its compatible environments) for template sync"
    )
    assert registry.names() == ["legacy"]


def test_a_broken_bundle_is_reported_and_the_others_sync(registry, bundles):
    bundles.environment("network/v1")
    broken = bundles.base / "broken" / "v1"
    broken.mkdir(parents=True)
    (broken / "README.md").write_text("not a bundle\n")

    report = sync_directory(registry, bundles.base)

    broken_entry, network = report.entries
    assert broken_entry.action is SyncAction.FAILED
    assert broken_entry.reason
    assert network.action is SyncAction.CREATED


def test_the_root_may_be_one_blueprint_folder(registry, bundles):
    bundles.environment("network/v1")

    report = sync_directory(registry, bundles.base / "network")

    assert _actions(report) == [("network", "v1", "created", "1.0")]


def test_nested_repository_layouts_are_found_and_a_repeated_name_is_reported(registry, bundles):
    bundles.environment("environment-templates/network/v1")
    bundles.service("service-templates/web/v1")
    bundles.environment("zz-copies/network/v1", description="a copy")

    folders = find_template_folders(bundles.base)
    report = sync_directory(registry, bundles.base)

    assert [(f.name, f.major) for f in folders] == [("network", 1), ("web", 1), ("network", 1)]
    assert _actions(report) == [
        ("network", "v1", "created", "1.0"),
        ("network", "v1", "failed", None),
        ("web", "v1", "created", "1.0"),
    ]
    assert report.entries[1].reason == (
        "another folder named 'network' was synced: "
        f"{bundles.base / 'environment-templates' / 'network'}"
    )


def test_a_folder_without_template_sync_layout_is_an_error(registry, tmp_path):
    (tmp_path / "empty" / "docs").mkdir(parents=True)

    with pytest.raises(NotFoundError) as caught:
        sync_directory(registry, tmp_path / "empty")
    with pytest.raises(NotFoundError) as missing:
        sync_directory(registry, tmp_path / "nowhere")

    assert caught.value.message == (
        f"{tmp_path / 'empty'}: no template-sync folders (<name>/v<N>/) found"
    )
    assert missing.value.message == f"{tmp_path / 'nowhere'}: no such folder"


def test_a_new_major_folder_starts_its_major_even_with_the_same_content(registry, bundles):
    bundles.environment("network/v1")
    sync_directory(registry, bundles.base)
    bundles.environment("network/v2")

    report = sync_directory(registry, bundles.base)

    assert _actions(report) == [
        ("network", "v1", "unchanged", "1.0"),
        ("network", "v2", "created", "2.0"),
    ]


def test_a_folder_reverted_to_older_content_makes_a_new_minor(registry, bundles):
    bundles.environment("network/v1", description="first")
    sync_directory(registry, bundles.base)
    bundles.environment("network/v1", description="second")
    sync_directory(registry, bundles.base)
    bundles.environment("network/v1", description="first")

    report = sync_directory(registry, bundles.base)

    assert _actions(report) == [("network", "v1", "created", "1.2")]
    first, _, reverted = registry.versions("network")
    assert reverted.digest == first.digest
