"""Registry files follow the user's umask (a team's shared folder is readable by the team), and
the spellings of the `registry` setting: a folder, s3://, a git URL."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from protoncli.blueprints.location import GIT, S3, cache_folder, is_remote, parse_remote
from protoncli.blueprints.registry import Registry
from protoncli.blueprints.starters import open_registry
from protoncli.config import resolve_settings
from protoncli.errors import ExitCode, UsageError


@pytest.fixture
def team_umask() -> Iterator[None]:
    """umask 027: the group reads what is written, others get nothing."""
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_folder_registry_files_follow_the_umask_and_bundle_files_stay_read_only(
    tmp_path, bundles, team_umask
):
    registry = Registry(tmp_path / "shared")
    info = registry.publish(bundles.environment(), name="network", draft=True).version
    folder = tmp_path / "shared" / "network" / "1.0"

    assert mode(folder) == 0o750
    assert mode(folder / "version.json") == 0o640
    assert mode(folder / "bundle" / "schema") == 0o750
    assert mode(folder / "bundle" / "schema" / "schema.yaml") == 0o440  # read-only, group reads

    registry.promote("network", info.version)  # rewrites version.json
    assert mode(folder / "version.json") == 0o640


def test_with_the_usual_umask_bundle_files_are_readable_by_all(tmp_path, bundles):
    old = os.umask(0o022)
    try:
        Registry(tmp_path / "reg").publish(bundles.environment(), name="network")
    finally:
        os.umask(old)

    bundle = tmp_path / "reg" / "network" / "1.0" / "bundle"
    assert mode(bundle / "schema" / "schema.yaml") == 0o444
    assert mode(bundle.parent) == 0o755


def test_the_starters_marker_follows_the_umask(tmp_path, starters_dir, team_umask):
    open_registry(tmp_path / "reg", starters_dir)

    assert mode(tmp_path / "reg" / ".starters.json") == 0o640


@pytest.mark.parametrize(
    ("text", "kind", "where"),
    [
        ("s3://team-blueprints", S3, ("team-blueprints", "")),
        ("s3://team-blueprints/platform/", S3, ("team-blueprints", "platform")),
        ("git+file:///srv/git/blueprints.git", GIT, ("file:///srv/git/blueprints.git", None)),
        (
            "git+https://git.example.com/org/bp.git#release",
            GIT,
            ("https://git.example.com/org/bp.git", "release"),
        ),
        (
            "git+ssh://git@git.example.com/org/bp.git",
            GIT,
            ("ssh://git@git.example.com/org/bp.git", None),
        ),
        ("git@github.com:org/blueprints.git", GIT, ("git@github.com:org/blueprints.git", None)),
    ],
)
def test_team_registry_spellings(text, kind, where):
    location = parse_remote(text)

    assert is_remote(text)
    assert location.kind == kind
    if kind == S3:
        assert (location.bucket, location.prefix) == where
    else:
        assert (location.repository, location.branch) == where
    assert location.cache == cache_folder(text)
    assert location.cache.parent == Path(os.environ["PCLI_HOME"]) / "cache" / "registries"


@pytest.mark.parametrize("text", ["/srv/registry", "registry", "~/reg", "./s3:", "C:/x"])
def test_folders_are_not_team_registries(text):
    assert not is_remote(text)


def test_a_workspace_registry_url_is_kept_as_written_and_a_bad_one_is_a_usage_error(
    tmp_path, monkeypatch
):
    (tmp_path / "pcli.yaml").write_text("name: demo\nregistry: s3://team-blueprints/platform\n")
    assert resolve_settings(workspace=tmp_path).registry == "s3://team-blueprints/platform"
    monkeypatch.setenv("PCLI_REGISTRY", "git@github.com:org/blueprints.git")
    assert resolve_settings(workspace=tmp_path).registry == "git@github.com:org/blueprints.git"

    monkeypatch.setenv("PCLI_REGISTRY", "s3://Bad_Bucket/x")
    with pytest.raises(UsageError) as caught:
        resolve_settings(workspace=tmp_path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.message == (
        "PCLI_REGISTRY: registry 's3://Bad_Bucket/x': 'Bad_Bucket' is not an S3 bucket name"
    )
