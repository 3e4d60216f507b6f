"""Rendered output of the test bundles against golden files, byte for byte.

Refresh the golden files with `PCLI_REFRESH_GOLDEN=1 pytest tests/unit/render` (read at import
time, before the test isolation clears PCLI_* variables), then review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.render.context import load_context
from protoncli.render.engine import render_bundle
from protoncli.render.writer import write_result
from protoncli.specs.io import load_spec

DATA = Path(__file__).resolve().parents[2] / "data" / "render"
GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "render"
REFRESH = os.environ.get("PCLI_REFRESH_GOLDEN") == "1"

# case -> (bundle, spec or None, resource name, context)
CASES = {
    "env-cfn": ("env-cfn", "env.yaml", "prod", "context.yaml"),
    "svc-cfn": ("svc-cfn", "svc.yaml", "api", "context.yaml"),
    "component-cfn-attached": ("component-cfn", "svc.yaml", "queue", "component-context.yaml"),
    "component-cfn-detached": ("component-cfn", None, "queue", "detached-context.yaml"),
    "env-tf": ("env-tf", "env.yaml", "prod", "context.yaml"),
    "svc-tf": ("svc-tf", "svc.yaml", "api", "context.yaml"),
    "component-tf": ("component-tf", "svc.yaml", "queue", "component-context.yaml"),
    "env-codebuild": ("env-codebuild", "env.yaml", "prod", "context.yaml"),
}


def _tree(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def render_case(case: str, out: Path) -> list[Path]:
    bundle, spec, name, context = CASES[case]
    result = render_bundle(
        load_bundle(DATA / bundle),
        load_spec(DATA / "specs" / spec) if spec else None,
        name=name,
        context=load_context(DATA / "specs" / context),
        blueprint_name=bundle,
        blueprint_version="2.3",
    )
    return write_result(result, out)


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_files_match_golden(case, tmp_path):
    out = tmp_path / "out"
    render_case(case, out)
    golden = GOLDEN / case
    if REFRESH:
        shutil.rmtree(golden, ignore_errors=True)
        shutil.copytree(out, golden)
    assert golden.is_dir(), f"no golden files for {case}: run with PCLI_REFRESH_GOLDEN=1"
    actual, expected = _tree(out), _tree(golden)
    assert sorted(actual) == sorted(expected), "missing or extra files"
    for path, data in expected.items():
        assert actual[path] == data, f"{case}/{path} differs from its golden file"
