"""CodeBuild inputs and project properties; writing results safely."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import RenderError
from protoncli.render.context import load_context
from protoncli.render.engine import render_bundle
from protoncli.render.model import RenderContext, RenderedResource, RenderResult
from protoncli.render.writer import relative_paths, write_result
from protoncli.specs.io import load_spec, parse_spec

DATA = Path(__file__).resolve().parents[2] / "data" / "render"


def codebuild_result():
    return render_bundle(
        load_bundle(DATA / "env-codebuild"),
        load_spec(DATA / "specs/env.yaml"),
        name="prod",
        context=load_context(DATA / "specs/context.yaml"),
    )


def test_codebuild_inputs_file_holds_the_namespace_with_native_values():
    (resource,) = codebuild_result().resources
    assert resource.provisioning == "codebuild"
    assert json.loads(resource.files["proton-inputs.json"]) == {
        "environment": {
            "name": "prod",
            "account_id": "111111111111",
            "inputs": {
                "vpc_cidr": "10.1.0.0/16",
                "az_count": 2,
                "flow_logs": False,
                "zones": ["a", "b"],
            },
        }
    }


def test_codebuild_project_properties_are_rendered():
    (resource,) = codebuild_result().resources
    manifest = yaml.safe_load(resource.files["manifest.yaml"])
    settings = manifest["infrastructure"]["templates"][0]["settings"]
    assert settings["project_properties"] == {
        "VpcConfig": {
            "VpcId": "10.1.0.0/16",
            "Subnets": ["a", "b"],
            "Description": "zones of prod: a b",
        }
    }
    assert settings["provision"] == ["npm ci", "npm run deploy"]


def test_codebuild_copies_the_folder_sources_text_and_binary():
    (resource,) = codebuild_result().resources
    assert (
        resource.files["src/app.ts"]
        == (DATA / "env-codebuild/infrastructure/src/app.ts").read_text()
    )
    assert resource.files["package.json"].startswith('{"name": "network"')
    assert resource.binary_files == {
        "logo.png": (DATA / "env-codebuild/infrastructure/logo.png").read_bytes()
    }


def test_codebuild_project_property_errors_name_the_manifest_line(tmp_path):
    root = tmp_path / "cb"
    (root / "schema").mkdir(parents=True)
    (root / "infrastructure").mkdir()
    (root / "schema/schema.yaml").write_text(
        (DATA / "env-codebuild/schema/schema.yaml").read_text(), encoding="utf-8"
    )
    (root / "infrastructure/manifest.yaml").write_text(
        "infrastructure:\n"
        "  templates:\n"
        "    - rendering_engine: codebuild\n"
        "      settings:\n"
        "        provision: [make]\n"
        "        project_properties:\n"
        "          VpcConfig:\n"
        '            VpcId: "{{ environment.inputs.vpc_id }}"\n',
        encoding="utf-8",
    )
    spec = parse_spec("proton: EnvironmentSpec\nspec: {}\n", "env.yaml")
    with pytest.raises(RenderError) as error:
        render_bundle(load_bundle(root), spec, name="prod", context=RenderContext())
    assert error.value.message == (
        "infrastructure/manifest.yaml:8: 'environment.inputs.vpc_id' is undefined"
    )


def test_write_result_writes_every_file_and_returns_the_paths(tmp_path):
    result = codebuild_result()
    written = write_result(result, tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        "prod/logo.png",
        "prod/manifest.yaml",
        "prod/package.json",
        "prod/proton-inputs.json",
        "prod/src/app.ts",
    ]
    assert (out / "prod/logo.png").read_bytes() == result.resources[0].binary_files["logo.png"]
    assert (out / "prod/src/app.ts").read_text() == result.resources[0].files["src/app.ts"]


def resource(folder: str, files: dict[str, str]) -> RenderedResource:
    return RenderedResource("environment", "e", folder, "cloudformation", "arn", files)


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("../escape", "a.yaml"),
        ("prod", "../../escape.yaml"),
        ("/abs", "a.yaml"),
        ("prod", "..\\escape.yaml"),
    ],
)
def test_write_result_refuses_paths_that_leave_the_output_folder(tmp_path, folder, name):
    result = RenderResult((resource("ok", {"a.yaml": "x"}), resource(folder, {name: "x"})))
    out = tmp_path / "out"
    with pytest.raises(RenderError) as error:
        write_result(result, out)
    assert error.value.message.startswith("refusing to write")
    assert not out.exists()  # nothing at all was written, not even the valid resource


@pytest.mark.parametrize(
    ("folder", "name"),
    [("../escape", "a.yaml"), ("prod", "../../escape.yaml"), ("/abs", "a.yaml")],
)
def test_a_deploy_render_refuses_the_same_names_without_writing(folder, name):
    """Deploys render in memory: the names are checked all the same."""
    result = RenderResult((resource("ok", {"a.yaml": "x"}), resource(folder, {name: "x"})))
    with pytest.raises(RenderError, match="refusing to write"):
        relative_paths(result)
    assert relative_paths(RenderResult((resource("ok", {"a.yaml": "x"}),))) == [("ok/a.yaml", "x")]


def test_write_result_refuses_a_symlink_pointing_outside(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (out / "prod").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(RenderError) as error:
        write_result(RenderResult((resource("prod", {"a.yaml": "x"}),)), out)
    assert "outside" in error.value.message
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_failed_render_writes_nothing(tmp_path):
    spec = parse_spec("proton: EnvironmentSpec\nspec: {}\n", "env.yaml")
    out = tmp_path / "out"
    bundle = load_bundle(DATA / "env-cfn")
    context = RenderContext()
    result = render_bundle(bundle, spec, name="prod", context=context)
    write_result(result, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    broken = tmp_path / "broken"
    (broken / "schema").mkdir(parents=True)
    (broken / "infrastructure").mkdir()
    (broken / "schema/schema.yaml").write_bytes((DATA / "env-cfn/schema/schema.yaml").read_bytes())
    (broken / "infrastructure/manifest.yaml").write_bytes(
        (DATA / "env-cfn/infrastructure/manifest.yaml").read_bytes()
    )
    (broken / "infrastructure/cloudformation.yaml").write_text(
        "Resources: {{ ''.__class__ }}\n", encoding="utf-8"
    )
    with pytest.raises(RenderError):
        write_result(render_bundle(load_bundle(broken), spec, name="prod", context=context), out)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
