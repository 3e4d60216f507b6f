"""Upgrading scaffolded code to another blueprint version: a real 3-way merge with real git."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.blueprints.model import Bundle
from protoncli.errors import PcliError, UsageError
from protoncli.workspace.scaffold import read_record, scaffold
from protoncli.workspace.scaffold_upgrade import (
    ConflictMode,
    Outcome,
    find_scaffolds,
    upgrade_scaffold_files,
)

LOGO = b"\x89PNG\r\n\x1a\n\0logo-1"
APP = """\
SERVICE = "{{ service.name }}"
PORT = {{ service_instance.inputs.port }}


def greet():
    return "hello"


def main():
    print(greet())
"""
DOCKERFILE = """\
FROM python:3.12
WORKDIR /srv
EXPOSE {{ service_instance.inputs.port }}
CMD ["python", "app.py"]
"""
V1 = {
    "app.py": APP,
    "Dockerfile": DOCKERFILE,
    "docs/old-notes.md": "notes\n",
    "static/logo.png": LOGO,
}
V2 = {
    "app.py": APP.replace('SERVICE = "', '# generated from the blueprint\nSERVICE = "'),
    "Dockerfile": DOCKERFILE.replace('"app.py"]', '"-u", "app.py"]'),
    "static/logo.png": b"\x89PNG\r\n\x1a\n\0logo-2",
    "README.md": "# {{ service.name }}\n",
}
INSTANCES = {"api-dev": {"port": 8080}}


def make_bundle(root: Path, starters_dir: Path, skeleton: dict[str, str | bytes]) -> Bundle:
    shutil.copytree(starters_dir / "fargate-web-svc" / "v1", root)
    shutil.rmtree(root / "skeleton")
    for name, content in skeleton.items():
        path = root / "skeleton" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return load_bundle(root)


@pytest.fixture
def old(tmp_path: Path, starters_dir: Path) -> Bundle:
    return make_bundle(tmp_path / "bundle-1.0", starters_dir, V1)


@pytest.fixture
def new(tmp_path: Path, starters_dir: Path) -> Bundle:
    return make_bundle(tmp_path / "bundle-1.1", starters_dir, V2)


@pytest.fixture
def target(tmp_path: Path, old: Bundle) -> Path:
    folder = tmp_path / "src"
    scaffold(old, folder, service="api", instances=INSTANCES, blueprint="web-svc", version="1.0")
    return folder


def upgrade(target: Path, old: Bundle | None, new: Bundle, **options):
    return upgrade_scaffold_files(
        read_record(target),
        old=old,
        new=new,
        instances=options.pop("instances", INSTANCES),
        blueprint="web-svc",
        version="1.1",
        **options,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def actions(result) -> dict[str, str]:
    return {change.path: str(change.action) for change in result.files}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_untouched_files_are_replaced_added_and_removed_and_the_record_moves(target, old, new):
    result = upgrade(target, old, new)

    assert result.outcome is Outcome.APPLIED
    assert actions(result) == {
        "Dockerfile": "updated",
        "README.md": "added",
        "app.py": "updated",
        "docs/old-notes.md": "removed",
        "static/logo.png": "updated",
    }
    assert result.summary() == "1 added, 3 updated, 1 removed"
    assert sorted(snapshot(target)) == [
        ".pcli-scaffold.json",
        "Dockerfile",
        "README.md",
        "app.py",
        "static/logo.png",
    ]
    assert not (target / "docs").exists()  # the folder the removal emptied goes too
    assert (target / "README.md").read_text() == "# api\n"
    assert (target / "static/logo.png").read_bytes() == V2["static/logo.png"]
    record = json.loads((target / ".pcli-scaffold.json").read_text())
    assert (record["blueprint"], record["version"], record["service"]) == ("web-svc", "1.1", "api")
    assert record["files"] == {
        path: sha((target / path).read_bytes())
        for path in ("Dockerfile", "README.md", "app.py", "static/logo.png")
    }


def test_a_change_of_the_users_elsewhere_in_the_file_is_merged(target, old, new):
    edit(target / "app.py", 'return "hello"', 'return "hello, world"')

    result = upgrade(target, old, new)

    assert actions(result)["app.py"] == "merged"
    assert (target / "app.py").read_text() == (
        "# generated from the blueprint\n"
        'SERVICE = "api"\nPORT = 8080\n\n\n'
        'def greet():\n    return "hello, world"\n\n\n'
        "def main():\n    print(greet())\n"
    )
    record = json.loads((target / ".pcli-scaffold.json").read_text())
    # The record holds the new render's digest, so the merged file never looks untouched.
    assert record["files"]["app.py"] != sha((target / "app.py").read_bytes())


def test_a_conflict_refuses_the_whole_upgrade_and_writes_nothing(target, old, new):
    edit(target / "app.py", 'return "hello"', 'return "hello, world"')
    edit(target / "Dockerfile", '"app.py"]', '"app.py", "--verbose"]')
    before = snapshot(target)

    result = upgrade(target, old, new)

    assert result.outcome is Outcome.REFUSED
    assert actions(result)["Dockerfile"] == "conflict"
    assert actions(result)["app.py"] == "merged"
    assert [(c.path, c.note, c.markers) for c in result.conflicts] == [
        ("Dockerfile", "1 conflicting change", True)
    ]
    assert snapshot(target) == before


def test_conflict_markers_are_written_only_when_asked(target, old, new):
    edit(target / "Dockerfile", '"app.py"]', '"app.py", "--verbose"]')

    result = upgrade(target, old, new, conflicts=ConflictMode.MARKERS)

    assert result.outcome is Outcome.APPLIED
    assert (target / "Dockerfile").read_text() == (
        "FROM python:3.12\n"
        "WORKDIR /srv\n"
        "EXPOSE 8080\n"
        "<<<<<<< yours: Dockerfile\n"
        'CMD ["python", "app.py", "--verbose"]\n'
        "||||||| web-svc@1.0\n"
        'CMD ["python", "app.py"]\n'
        "=======\n"
        'CMD ["python", "-u", "app.py"]\n'
        ">>>>>>> web-svc@1.1\n"
    )
    assert json.loads((target / ".pcli-scaffold.json").read_text())["version"] == "1.1"
    assert not [p for p in snapshot(target) if p.endswith((".rej", ".orig", ".tmp"))]


def test_a_dry_run_reports_everything_and_writes_nothing(target, old, new):
    edit(target / "Dockerfile", '"app.py"]', '"app.py", "--verbose"]')
    before = snapshot(target)

    result = upgrade(target, old, new, dry_run=True, conflicts=ConflictMode.MARKERS)

    assert result.outcome is Outcome.DRY_RUN
    assert actions(result)["Dockerfile"] == "conflict"
    assert actions(result)["README.md"] == "added"
    assert snapshot(target) == before


def test_a_changed_binary_file_is_a_conflict_without_markers_and_is_kept(target, old, new):
    (target / "static/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0my logo")

    refused = upgrade(target, old, new)
    applied = upgrade(target, old, new, conflicts=ConflictMode.MARKERS)

    assert [(c.path, c.markers) for c in refused.conflicts] == [("static/logo.png", False)]
    assert refused.conflicts[0].note == "a binary file you and the new version both changed"
    assert applied.outcome is Outcome.APPLIED
    assert (target / "static/logo.png").read_bytes() == b"\x89PNG\r\n\x1a\n\0my logo"


def test_a_removed_file_the_user_changed_is_kept_as_a_conflict(target, old, new):
    (target / "docs/old-notes.md").write_text("notes\nmine\n")

    result = upgrade(target, old, new, conflicts=ConflictMode.MARKERS)

    assert [(c.path, c.note) for c in result.conflicts] == [
        ("docs/old-notes.md", "the new version removes it, and you changed it")
    ]
    assert (target / "docs/old-notes.md").read_text() == "notes\nmine\n"


def test_an_added_file_is_refused_over_a_different_file_and_unchanged_over_the_same(
    target, old, new
):
    (target / "README.md").write_text("# my own readme\n")
    refused = upgrade(target, old, new)
    assert [(c.path, c.note) for c in refused.conflicts] == [
        ("README.md", "exists, and the new version adds a different file")
    ]

    (target / "README.md").write_text("# api\n")
    assert actions(upgrade(target, old, new))["README.md"] == "unchanged"


def test_a_file_the_user_deleted_stays_deleted_and_conflicts_when_the_blueprint_changed_it(
    target, old, tmp_path, starters_dir
):
    (target / "Dockerfile").unlink()
    (target / "app.py").unlink()
    only_app_changes = make_bundle(tmp_path / "b", starters_dir, {**V1, "app.py": V2["app.py"]})

    result = upgrade(target, old, only_app_changes, conflicts=ConflictMode.MARKERS)

    assert [(c.path, c.note) for c in result.conflicts] == [
        ("app.py", "you deleted it, and the new version changes it")
    ]
    assert actions(result)["Dockerfile"] == "unchanged"
    assert not (target / "Dockerfile").exists()
    assert not (target / "app.py").exists()


def test_a_gone_version_is_an_error_when_a_file_was_changed(target, new):
    (target / "Dockerfile").write_text("FROM scratch\n")
    before = snapshot(target)

    with pytest.raises(PcliError) as caught:
        upgrade(target, None, new)

    assert caught.value.message == (
        f"blueprint web-svc@1.0, which {target} was scaffolded from, is not in the registry "
        "any more; merging your changes needs its render"
    )
    assert caught.value.details == ["Dockerfile: changed since pcli wrote it"]
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("publish web-svc@1.0 to the registry again")
    assert snapshot(target) == before


def test_with_the_version_gone_an_untouched_folder_is_replaced(tmp_path, old, new):
    folder = tmp_path / "clean"
    scaffold(old, folder, service="api", instances=INSTANCES, blueprint="web-svc", version="1.0")

    result = upgrade(folder, None, new)

    assert result.outcome is Outcome.APPLIED
    assert actions(result)["Dockerfile"] == "updated"
    assert actions(result)["docs/old-notes.md"] == "removed"
    assert "-u" in (folder / "Dockerfile").read_text()


def test_an_untouched_file_takes_the_new_inputs_even_when_they_changed(target, old, new):
    edit(target / "app.py", 'return "hello"', 'return "hello, world"')

    result = upgrade(target, old, new, instances={"api-dev": {"port": 9090}})

    assert actions(result)["Dockerfile"] == "updated"
    assert "EXPOSE 9090\n" in (target / "Dockerfile").read_text()
    warning = (
        "app.py: the render of web-svc@1.0 with today's inputs differs from what pcli wrote "
        "(the inputs changed since?); your changes were merged against it"
    )
    assert result.warnings == (warning,)


def test_without_git_a_merge_is_a_clear_error_but_a_replace_still_works(
    target, old, new, tmp_path, monkeypatch
):
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    edit(target / "app.py", 'return "hello"', 'return "hello, world"')

    with pytest.raises(PcliError) as caught:
        upgrade(target, old, new)
    assert caught.value.message == (
        "git is needed to merge your changes with the blueprint's, and it is not on PATH"
    )

    edit(target / "app.py", 'return "hello, world"', 'return "hello"')
    assert upgrade(target, old, new).outcome is Outcome.APPLIED


def test_a_new_version_without_skeleton_is_refused(target, old, starters_dir):
    bare = load_bundle(starters_dir / "lambda-api-svc" / "v1")

    with pytest.raises(UsageError) as caught:
        upgrade(target, old, bare)

    assert caught.value.message == "blueprint web-svc@1.1 has no skeleton/ folder to upgrade to"


def test_a_folder_without_record_is_not_a_scaffold(tmp_path):
    with pytest.raises(UsageError) as caught:
        read_record(tmp_path)

    assert caught.value.message == (
        f"{tmp_path}: no .pcli-scaffold.json here, so pcli did not scaffold this folder"
    )


def test_find_scaffolds_lists_the_folders_of_one_service(tmp_path, old):
    for folder, service in (("a/api", "api"), ("b", "web"), ("c/api-2", "api"), (".hid", "api")):
        scaffold(
            old,
            tmp_path / folder,
            service=service,
            instances=INSTANCES,
            blueprint="w",
            version="1.0",
        )

    assert find_scaffolds(tmp_path, "api") == [tmp_path / "a/api", tmp_path / "c/api-2"]


def test_the_upgrade_modules_never_import_cli_libraries():
    code = (
        "import sys, protoncli.workspace.scaffold_upgrade, protoncli.deploy.code_upgrade\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'typer', 'rich', 'click'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "[]"
