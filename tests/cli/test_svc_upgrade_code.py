"""`pcli svc upgrade-code DIR`: code scaffolded by `svc create --scaffold` follows the blueprint
to a new version, merging the user's changes (real registry, real git, real files).

fargate-web-svc 1.0 is the starter; 1.1 (published here) changes the Dockerfile's CMD line and
the first line of the app's docstring, and adds a README."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from protoncli.workspace.scaffold_upgrade import Action, Outcome

CMD_1_0 = 'CMD ["python", "app/web.py"]'
CMD_1_1 = 'CMD ["python", "-u", "app/web.py"]'


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def rows(stdout: str) -> list[list[str]]:
    """The words of each row of a table, its header first (the rule under it left out)."""
    lines = [line.split() for line in stdout.splitlines() if line.strip()]
    return [words for words in lines if not set("".join(words)) <= {"─"}]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def code(cli, tmp_path, starters_dir) -> Path:
    """The service web scaffolded from fargate-web-svc 1.0 into web-src; 1.1 published and the
    spec moved to it (as `pcli upgrade` will do)."""
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy"))
    folder = tmp_path / "web-src"
    create = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev")
    ok(cli(*create, "--scaffold", str(folder), "--no-deploy"))
    bundle = tmp_path / "fargate-web-svc-1.1"
    shutil.copytree(starters_dir / "fargate-web-svc" / "v1", bundle)
    skeleton = bundle / "skeleton"
    replace_in(skeleton / "Dockerfile", 'CMD ["python",', 'CMD ["python", "-u",')
    replace_in(skeleton / "app" / "{{ service.name }}.py", "a small HTTP", "a tiny HTTP")
    (skeleton / "README.md").write_text("# {{ service.name }}\n")
    published = ok(cli("blueprint", "publish", str(bundle), "--name", "fargate-web-svc"))
    assert "1.1" in published.output
    replace_in(cli.workspace / "services" / "web.yaml", 'version: "1.0"', 'version: "1.1"')
    return folder


def edit_app_elsewhere(folder: Path) -> None:
    """A change of the user's far from the blueprint's change to the same file."""
    replace_in(folder / "app" / "web.py", '"QueueName")', '"QueueName", "TopicArn")')


def test_a_change_elsewhere_in_a_file_is_merged_and_the_record_moves(cli, code):
    edit_app_elsewhere(code)

    result = ok(cli("svc", "upgrade-code", str(code)))

    assert rows(result.stdout) == [
        ["FILE", "ACTION", "NOTE"],
        [".github/workflows/deploy.yml", "unchanged"],
        ["Dockerfile", "updated"],
        ["README.md", "added"],
        ["app/web.py", "merged"],
    ]
    assert result.stderr == (
        f"Upgraded {code} from fargate-web-svc@1.0 to 1.1: 1 unchanged, 1 added, 1 updated, "
        "1 merged.\n"
    )
    app = (code / "app" / "web.py").read_text()
    assert app.startswith('"""web: a tiny HTTP service')  # the blueprint's change
    assert '"QueueName", "TopicArn")' in app  # the user's
    assert CMD_1_1 in (code / "Dockerfile").read_text()
    assert (code / "README.md").read_text() == "# web\n"
    record = json.loads((code / ".pcli-scaffold.json").read_text())
    assert (record["blueprint"], record["version"], record["service"]) == (
        "fargate-web-svc",
        "1.1",
        "web",
    )
    assert sorted(record["files"]) == [
        ".github/workflows/deploy.yml",
        "Dockerfile",
        "README.md",
        "app/web.py",
    ]

    again = ok(cli("svc", "upgrade-code", str(code)))
    assert "4 unchanged" in again.stderr


def test_a_conflict_is_refused_with_nothing_written_and_markers_only_on_request(cli, code):
    edit_app_elsewhere(code)
    replace_in(code / "Dockerfile", CMD_1_0, 'CMD ["python", "app/web.py", "--debug"]')
    before = snapshot(code)

    refused = cli("svc", "upgrade-code", str(code))

    assert refused.exit_code == 1
    assert ["Dockerfile", "conflict", "1", "conflicting", "change"] in rows(refused.stdout)
    assert refused.stderr == (
        f"Error: {code}: 1 file(s) conflict with the changes of fargate-web-svc@1.1; "
        "nothing was written\n"
        "  Dockerfile: 1 conflicting change\n"
        "Hint: change those files by hand and run the command again, or write the conflicts "
        "into them with --conflicts markers (commit your work first)\n"
    )
    assert snapshot(code) == before

    marked = ok(cli("svc", "upgrade-code", str(code), "--conflicts", "markers", "--json"))

    document = json.loads(marked.stdout)
    assert {k: v for k, v in document.items() if k != "files"} == {
        "folder": str(code),
        "service": "web",
        "blueprint": "fargate-web-svc",
        "from_version": "1.0",
        "to_version": "1.1",
        "outcome": "applied",
        "conflicts": "markers",
        "counts": {
            "unchanged": 1,
            "added": 1,
            "updated": 0,
            "merged": 1,
            "removed": 0,
            "conflict": 1,
        },
        "warnings": [],
    }
    assert document["files"][1] == {
        "path": "Dockerfile",
        "action": "conflict",
        "note": "1 conflicting change",
        "markers": True,
    }
    assert marked.stderr.endswith(
        "Warning: 1 file(s) conflict: Dockerfile; resolve the <<<<<<< markers (or compare with "
        "your last commit), then commit\n"
    )
    dockerfile = (code / "Dockerfile").read_text()
    assert (
        "<<<<<<< yours: Dockerfile\n"
        'CMD ["python", "app/web.py", "--debug"]\n'
        "||||||| fargate-web-svc@1.0\n"
        f"{CMD_1_0}\n"
        "=======\n"
        f"{CMD_1_1}\n"
        ">>>>>>> fargate-web-svc@1.1\n"
    ) in dockerfile
    assert '"QueueName", "TopicArn")' in (code / "app" / "web.py").read_text()
    assert json.loads((code / ".pcli-scaffold.json").read_text())["version"] == "1.1"
    assert sorted(snapshot(code)) == sorted([*before, "README.md"])  # no stray files


def test_a_dry_run_shows_the_plan_and_writes_nothing(cli, code):
    replace_in(code / "Dockerfile", CMD_1_0, 'CMD ["python", "app/web.py", "--debug"]')
    before = snapshot(code)

    result = ok(cli("svc", "upgrade-code", str(code), "--dry-run"))

    assert rows(result.stdout)[1:] == [
        [".github/workflows/deploy.yml", "unchanged"],
        ["Dockerfile", "conflict", "1", "conflicting", "change"],
        ["README.md", "added"],
        ["app/web.py", "updated"],
    ]
    assert result.stderr == (
        f"Dry run: upgrading {code} from fargate-web-svc@1.0 to 1.1 would give 1 unchanged, "
        "1 added, 1 updated, 1 conflict.\n"
        "1 file(s) conflict: without --conflicts markers, nothing is written.\n"
    )
    assert snapshot(code) == before


def test_to_names_a_version_that_must_be_in_the_registry(cli, code):
    before = snapshot(code)

    missing = cli("svc", "upgrade-code", str(code), "--to", "1.7")
    back = ok(cli("svc", "upgrade-code", str(code), "--to", "1.0", "--json"))

    assert missing.exit_code == 2
    assert missing.stderr.startswith("Error: blueprint 'fargate-web-svc' has no version 1.7\n")
    assert json.loads(back.stdout)["counts"]["unchanged"] == 3
    assert snapshot(code) == before


def test_a_folder_pcli_did_not_scaffold_and_a_bad_conflicts_choice_are_usage_errors(cli, tmp_path):
    bad_choice = cli("svc", "upgrade-code", str(tmp_path), "--conflicts", "theirs")
    no_record = cli("svc", "upgrade-code", str(tmp_path))

    assert bad_choice.exit_code == 2
    assert bad_choice.stderr.startswith(
        "Error: --conflicts 'theirs': expected one of refuse, markers\n"
    )
    assert no_record.exit_code == 2
    assert no_record.stderr.startswith(
        f"Error: {tmp_path}: no .pcli-scaffold.json here, so pcli did not scaffold this folder\n"
    )


def test_upgrade_scaffold_finds_the_services_folders_in_the_workspace(cli, code, registry):
    """The entry point `pcli upgrade` calls once it moved a service's spec to a new version."""
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.registry import Registry
    from protoncli.deploy.code_upgrade import upgrade_scaffold
    from protoncli.deploy.project import Project
    from protoncli.errors import UsageError
    from protoncli.workspace.model import find_workspace

    inside = cli.workspace / "apps" / "web"
    shutil.move(code, inside)
    edit_app_elsewhere(inside)
    project = Project(find_workspace(explicit=cli.workspace), Registry(registry), SessionFactory())

    planned = upgrade_scaffold(project, "web", "1.1", dry_run=True)
    assert [(r.target, r.outcome, r.paths(Action.MERGED)) for r in planned] == [
        (inside, Outcome.DRY_RUN, ("app/web.py",))
    ]
    assert json.loads((inside / ".pcli-scaffold.json").read_text())["version"] == "1.0"
    assert upgrade_scaffold(project, "other", "1.1") == ()

    (done,) = upgrade_scaffold(project, "web", "1.1")
    assert done.outcome is Outcome.APPLIED
    assert json.loads((inside / ".pcli-scaffold.json").read_text())["version"] == "1.1"
    with pytest.raises(UsageError) as caught:
        upgrade_scaffold(project, "api", "1.1", folders=[inside])
    assert caught.value.message == f"{inside}: holds the scaffold of the service 'web', not 'api'"
