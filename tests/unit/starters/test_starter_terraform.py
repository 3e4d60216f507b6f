"""The Terraform starter (tf-vpc-env) is `terraform fmt` clean and valid.

The bundle is rendered with pcli's renderer (its `.tf` files plus the generated variables file
and tfvars) and Terraform runs on the written folder. Validation needs the AWS provider from a
local filesystem mirror (no registry is reachable); it is skipped where it is missing. That it
applies to moto, with string outputs, is tests/cli/test_terraform_local.py's: pcli applies it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from protoncli.blueprints.bundle import load_bundle
from protoncli.render.engine import render_bundle
from protoncli.render.model import RenderContext
from protoncli.render.writer import write_result
from protoncli.specs.io import parse_spec

TERRAFORM = shutil.which("terraform")
PROVIDER_MIRROR = Path("/opt/tf-plugins")
AWS_PROVIDER = PROVIDER_MIRROR / "registry.terraform.io/hashicorp/aws"
REGION = "us-east-1"

needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")
needs_provider = pytest.mark.skipif(
    TERRAFORM is None or not AWS_PROVIDER.is_dir(),
    reason=f"terraform or the AWS provider mirror ({PROVIDER_MIRROR}) is missing",
)

CLI_CONFIG = f"""\
provider_installation {{
  filesystem_mirror {{
    path    = "{PROVIDER_MIRROR}"
    include = ["registry.terraform.io/hashicorp/aws"]
  }}
  direct {{
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }}
}}
"""

logging.getLogger("werkzeug").setLevel(logging.ERROR)


def infrastructure(starters: Path) -> Path:
    return starters / "tf-vpc-env/v1/infrastructure"


def terraform(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert TERRAFORM is not None
    return subprocess.run(
        [TERRAFORM, *args],
        cwd=cwd,
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@needs_terraform
def test_terraform_files_are_fmt_clean(starters_dir):
    result = terraform(["fmt", "-check", "-recursive", "-diff", "-no-color"], starters_dir)

    assert result.returncode == 0, result.stdout + result.stderr


def test_terraform_files_only_use_variables_that_proton_generates(starters_dir):
    files = sorted(infrastructure(starters_dir).glob("*.tf"))
    text = "\n".join(path.read_text(encoding="utf-8") for path in files)

    assert [path.name for path in files] == ["main.tf", "outputs.tf", "versions.tf"]
    assert 'variable "' not in text
    assert set(re.findall(r"\bvar\.(\w+)", text)) == {"environment", "proton_tags"}
    manifest = yaml.safe_load((infrastructure(starters_dir) / "manifest.yaml").read_text())
    assert manifest["infrastructure"]["templates"] == [
        {"file": "*", "rendering_engine": "hcl", "template_language": "terraform"}
    ]


@pytest.fixture
def initialised(starters_dir: Path, tmp_path: Path) -> Path:
    """The sample spec rendered by pcli and written out, with `terraform init` done."""
    bundle = load_bundle(starters_dir / "tf-vpc-env/v1")
    spec_text = bundle.sample_spec()
    assert spec_text is not None
    result = render_bundle(
        bundle, parse_spec(spec_text, "spec.yaml"), name="dev", context=RenderContext()
    )
    write_result(result, tmp_path / "out")
    work = tmp_path / "out/dev"
    assert sorted(path.name for path in work.glob("*.tf")) == [
        "main.tf", "outputs.tf", "proton.environment.variables.tf", "versions.tf",
    ]  # fmt: skip
    (work / "cli.tfrc").write_text(CLI_CONFIG)
    init = terraform(["init", "-backend=false", "-input=false", "-no-color"], work, cli_env(work))
    assert init.returncode == 0, init.stdout + init.stderr
    return work


def cli_env(work: Path) -> dict[str, str]:
    """Terraform settings that take the AWS provider from the local mirror."""
    return {"TF_CLI_CONFIG_FILE": str(work / "cli.tfrc")}


@needs_provider
def test_terraform_validates_with_the_generated_variables(initialised):
    result = terraform(["validate", "-json", "-no-color"], initialised, cli_env(initialised))

    report = json.loads(result.stdout)
    assert report["valid"], report["diagnostics"]
    assert report["warning_count"] == 0, report["diagnostics"]
