"""Scaffolding source code from a service blueprint's skeleton/ folder."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.blueprints.model import Bundle
from protoncli.errors import RenderError, UsageError
from protoncli.workspace.ci_workflow import DeployStage, SourceWorkflow
from protoncli.workspace.scaffold import scaffold

LOGO = b"\x89PNG\r\n\x1a\n\0{{ not a template }}"
SKELETON = {
    "app/{{ service.name }}.py": (
        'SERVICE = "{{ service.name }}"\nPORT = {{ service_instance.inputs.port }}\n'
    ),
    "Dockerfile": "EXPOSE {{ service_instance.inputs.port }}",
    "INSTANCES.md": "{% for item in service_instances %}- {{ item.name }}\n{% endfor %}",
    "static/logo.png": LOGO,
}
INSTANCES = {"api-dev": {"port": 8080}, "api-prod": {"port": 80}}


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
def bundle(tmp_path: Path, starters_dir: Path) -> Bundle:
    return make_bundle(tmp_path / "bundle-1.0", starters_dir, SKELETON)


def run(bundle: Bundle, target: Path, version: str = "1.0", **options):
    return scaffold(
        bundle,
        target,
        service="api",
        instances=INSTANCES,
        blueprint="fargate-web-svc",
        version=version,
        **options,
    )


def in_dev(service: str) -> SourceWorkflow:
    """The source workflow of `service` with one instance, SERVICE-dev, in dev (the starter's
    skeleton declares one)."""
    stage = DeployStage("dev", "us-east-1", None, (f"{service}-dev",))
    return SourceWorkflow(service, "us-east-1", (stage,))


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_scaffold_renders_names_and_contents_and_records_what_it_wrote(bundle, tmp_path):
    target = tmp_path / "src"

    result = run(bundle, target)

    assert result.created == ("Dockerfile", "INSTANCES.md", "app/api.py", "static/logo.png")
    assert listing(target) == [
        ".pcli-scaffold.json",
        "Dockerfile",
        "INSTANCES.md",
        "app/api.py",
        "static/logo.png",
    ]
    assert (target / "app" / "api.py").read_text() == 'SERVICE = "api"\nPORT = 8080\n'
    assert (target / "Dockerfile").read_text() == "EXPOSE 8080"
    assert (target / "INSTANCES.md").read_text() == "- api-dev\n- api-prod\n"
    assert (target / "static" / "logo.png").read_bytes() == LOGO
    record = json.loads((target / ".pcli-scaffold.json").read_text())
    assert record == {
        "blueprint": "fargate-web-svc",
        "version": "1.0",
        "service": "api",
        "files": {
            "Dockerfile": sha(b"EXPOSE 8080"),
            "INSTANCES.md": sha(b"- api-dev\n- api-prod\n"),
            "app/api.py": sha(b'SERVICE = "api"\nPORT = 8080\n'),
            "static/logo.png": sha(LOGO),
        },
    }


def test_second_run_finds_everything_unchanged_and_writes_nothing(bundle, tmp_path):
    target = tmp_path / "src"
    run(bundle, target)
    stamps = {path: (target / path).stat().st_mtime_ns for path in listing(target)}

    result = run(bundle, target)

    assert result.created == result.updated == ()
    assert result.unchanged == ("Dockerfile", "INSTANCES.md", "app/api.py", "static/logo.png")
    assert {path: (target / path).stat().st_mtime_ns for path in listing(target)} == stamps


def test_a_changed_file_is_refused_and_nothing_is_written(bundle, tmp_path, starters_dir):
    target = tmp_path / "src"
    run(bundle, target)
    (target / "app" / "api.py").write_text("print('my own code')\n")
    (target / "Dockerfile").unlink()
    before = {path: (target / path).read_bytes() for path in listing(target)}

    with pytest.raises(UsageError) as caught:
        run(bundle, target)

    assert caught.value.message == (
        f"{target}: 1 file(s) differ from what pcli would write; nothing was written"
    )
    assert caught.value.details == ["app/api.py: changed since pcli wrote it"]
    assert {path: (target / path).read_bytes() for path in listing(target)} == before


def test_a_file_pcli_did_not_write_is_refused_unless_identical(bundle, tmp_path):
    target = tmp_path / "src"
    target.mkdir()
    (target / "Dockerfile").write_text("FROM scratch\n")
    (target / "INSTANCES.md").write_text("- api-dev\n- api-prod\n")

    with pytest.raises(UsageError) as caught:
        run(bundle, target)
    assert caught.value.details == ["Dockerfile: exists, and pcli did not write it"]
    assert listing(target) == ["Dockerfile", "INSTANCES.md"]

    (target / "Dockerfile").unlink()
    result = run(bundle, target)
    assert result.unchanged == ("INSTANCES.md",)
    assert result.created == ("Dockerfile", "app/api.py", "static/logo.png")


def test_upgrade_updates_the_files_the_user_left_alone(bundle, tmp_path, starters_dir):
    target = tmp_path / "src"
    run(bundle, target)
    (target / "INSTANCES.md").write_text("- api-dev\n- api-prod\n- kept by hand\n")
    newer = dict(SKELETON, Dockerfile="EXPOSE {{ service_instance.inputs.port }}\nUSER app\n")
    newer["INSTANCES.md"] = "- api-dev\n- api-prod\n- kept by hand\n"
    upgraded = make_bundle(tmp_path / "bundle-1.1", starters_dir, newer)

    result = run(upgraded, target, version="1.1")

    assert result.updated == ("Dockerfile",)
    assert result.unchanged == ("INSTANCES.md", "app/api.py", "static/logo.png")
    assert (target / "Dockerfile").read_text() == "EXPOSE 8080\nUSER app\n"
    record = json.loads((target / ".pcli-scaffold.json").read_text())
    assert record["version"] == "1.1"
    assert record["files"]["Dockerfile"] == sha(b"EXPOSE 8080\nUSER app\n")


def test_dry_run_reports_refusals_without_raising_or_writing(bundle, tmp_path):
    target = tmp_path / "src"
    target.mkdir()
    (target / "Dockerfile").write_text("FROM scratch\n")

    result = run(bundle, target, dry_run=True)

    assert result.refused == ("Dockerfile",)
    assert result.created == ("INSTANCES.md", "app/api.py", "static/logo.png")
    assert listing(target) == ["Dockerfile"]


def test_a_file_name_that_renders_outside_the_folder_is_an_error(tmp_path, starters_dir):
    skeleton = {"{{ service_instance.inputs.folder }}/notes.txt": "hi\n"}
    bundle = make_bundle(tmp_path / "bundle", starters_dir, skeleton)

    with pytest.raises(RenderError) as caught:
        scaffold(
            bundle,
            tmp_path / "src",
            service="api",
            instances={"api-dev": {"folder": ".."}},
            blueprint="svc",
            version="1.0",
        )

    assert caught.value.message == (
        "skeleton/{{ service_instance.inputs.folder }}/notes.txt: the file name renders to "
        "'../notes.txt', which is not a path inside the folder being scaffolded"
    )
    assert not (tmp_path / "src").exists()
    assert not (tmp_path / "notes.txt").exists()


def test_an_undefined_input_names_the_skeleton_file_and_line(tmp_path, starters_dir):
    skeleton = {"Dockerfile": "FROM python\nEXPOSE {{ service_instance.inputs.prot }}\n"}
    bundle = make_bundle(tmp_path / "bundle", starters_dir, skeleton)

    with pytest.raises(RenderError) as caught:
        run(bundle, tmp_path / "src")

    assert caught.value.message == (
        "skeleton/Dockerfile:2: 'service_instance.inputs.prot' is undefined"
    )
    assert caught.value.hint is not None
    assert caught.value.hint.startswith("the service instance 'api-dev' has no input 'prot'")


def test_a_blueprint_without_skeleton_cannot_scaffold(tmp_path, starters_dir):
    bundle = load_bundle(starters_dir / "lambda-api-svc" / "v1")

    with pytest.raises(UsageError) as caught:
        scaffold(
            bundle,
            tmp_path / "src",
            service="api",
            instances={},
            blueprint="lambda-api-svc",
            version="1.0",
        )

    assert caught.value.message == (
        "blueprint lambda-api-svc@1.0 has no skeleton/ folder to scaffold from"
    )


def test_a_folder_scaffolded_for_another_service_is_refused(bundle, tmp_path):
    target = tmp_path / "src"
    run(bundle, target)

    with pytest.raises(UsageError) as caught:
        scaffold(
            bundle,
            target,
            service="web",
            instances=INSTANCES,
            blueprint="fargate-web-svc",
            version="1.0",
        )

    assert caught.value.message == f"{target}: holds the scaffold of the service 'api', not 'web'"


def test_starter_skeleton_scaffolds_with_a_trailing_newline(tmp_path, starters_dir):
    bundle = load_bundle(starters_dir / "fargate-web-svc" / "v1")

    run(bundle, tmp_path / "src", ci=lambda: in_dev("api"))

    dockerfile = (tmp_path / "src" / "Dockerfile").read_text()
    assert "EXPOSE 8080\n" in dockerfile
    assert dockerfile.endswith('CMD ["python", "app/api.py"]\n')
    assert (tmp_path / "src" / "app" / "api.py").is_file()


def test_inputs_the_spec_leaves_out_take_the_schema_defaults(tmp_path, starters_dir):
    bundle = load_bundle(starters_dir / "fargate-web-svc" / "v1")

    result = scaffold(
        bundle,
        tmp_path / "src",
        service="web",
        instances={"web-dev": {}},
        blueprint="fargate-web-svc",
        version="1.0",
        ci=lambda: in_dev("web"),
    )

    assert "EXPOSE 80\n" in (tmp_path / "src" / "Dockerfile").read_text()
    assert result.summary() == "3 created"
    again = scaffold(
        bundle,
        tmp_path / "src",
        service="web",
        instances={"web-dev": {"port": 8080}},
        blueprint="fargate-web-svc",
        version="1.0",
        ci=lambda: in_dev("web"),
    )
    assert again.summary() == "2 updated, 1 unchanged"  # Dockerfile and app/web.py use the port
