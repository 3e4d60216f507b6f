"""A workspace or config folder that cannot be written, a full disk: a clear error naming the
path (never "internal error"), and nothing deleted in AWS that could not then leave the
workspace. The folders are real read-only or tiny tmpfs mounts (skipped where pcli's tests
may not mount)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def mount(folder: Path, *options: str) -> None:
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")


@pytest.fixture
def mounts() -> Iterator[list[Path]]:
    mounted: list[Path] = []
    yield mounted
    for folder in reversed(mounted):
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_config_set_in_a_read_only_folder_names_it(pcli, tmp_path, monkeypatch, mounts):
    home = tmp_path / "home"
    home.mkdir()
    mount(home, "ro", "size=64k")
    mounts.append(home)
    monkeypatch.setenv("PCLI_HOME", str(home))

    result = pcli("config", "set", "output", "json")

    assert result.exit_code == 1, result.output
    assert "internal error" not in result.stderr
    assert "Read-only file system" in result.stderr
    assert str(home) in result.stderr
    assert "Hint:" in result.stderr


def test_a_full_disk_is_named_not_a_bug(pcli, tmp_path, starters_dir, mounts):
    small = tmp_path / "small"
    small.mkdir()
    mount(small, "size=64k")
    mounts.append(small)
    with pytest.raises(OSError, match="No space left"):  # fill it up
        (small / "filler").write_bytes(b"x" * 1024 * 1024)

    result = pcli("blueprint", "render", "vpc-ecs-env", "--name", "dev", "--output-dir", str(small))

    assert result.exit_code == 1, result.output
    assert "internal error" not in result.stderr
    assert "No space left on device" in result.stderr


def test_svc_delete_in_a_read_only_workspace_deletes_nothing(
    cli, tmp_path, write_files, cloudformation, mounts
):
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes"))
    services = cli.workspace / "services"
    kept = services.with_name("kept-services")
    services.rename(kept)
    services.mkdir()
    mount(services, "size=1m")
    mounts.append(services)
    (services / "web.yaml").write_bytes((kept / "web.yaml").read_bytes())
    subprocess.run(["mount", "-o", "remount,ro", str(services)], check=True)

    result = cli("svc", "delete", "web", "--yes")

    assert result.exit_code == 1, result.output
    assert "cannot be written" in result.stderr
    assert "nothing was deleted" in result.stderr
    names = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert {"pcli-demo-svc-web-web-dev", "pcli-demo-pipeline-web"} <= names
