"""The provisioning workflow of docs/how-to/terraform.md, its shell steps run as a GitHub runner
runs them: after a merge of the pull request pcli made, the `folders` job finds the changed
folder, the `terraform` job reads its deployment metadata, runs terraform init and apply there,
and reports with `pcli notify`. The `uses:` steps (checkout, credentials, setup-terraform) are
what a runner does for us here: a clone, the sandbox's credentials, the terraform on PATH.

The blueprint is Terraform's built-in terraform_data (no provider, no download).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.cli.test_terraform_pull_request import branches, git

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "how-to" / "terraform.md"
TERRAFORM = shutil.which("terraform")

pytestmark = [
    pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed"),
    pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed"),
]

SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: LabelInput
  types:
    LabelInput:
      type: object
      properties:
        label: {type: string, default: "first"}
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: "*"
      rendering_engine: hcl
      template_language: terraform
"""
MAIN = """\
resource "terraform_data" "label" {
  input = var.environment.inputs.label
}

output "label" {
  value = terraform_data.label.output
}
"""
EXPRESSION = re.compile(r"\$\{\{\s*([^}]*?)\s*\}\}")


def documented_workflow() -> dict[str, Any]:
    """The YAML block of the page's section on the automation."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split("### The automation", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    document = yaml.safe_load(block)
    assert isinstance(document, dict)
    return document


def expand(script: str, context: Mapping[str, str]) -> str:
    """`${{ ... }}` as Actions expands it, for the expressions the workflow uses."""

    def value(found: re.Match[str]) -> str:
        expression = found.group(1)
        assert expression in context, f"the test does not know ${{{{ {expression} }}}}"
        return context[expression]

    return EXPRESSION.sub(value, script)


def run_step(
    step: Mapping[str, Any], cwd: Path, context: Mapping[str, str], env: Mapping[str, str]
) -> dict[str, str]:
    """One `run:` step in bash (as Actions runs it: -e, -o pipefail); its GITHUB_OUTPUT."""
    outputs = cwd / ".github-output"
    outputs.write_text("")
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"], context)],
        cwd=cwd,
        env={**env, "GITHUB_OUTPUT": str(outputs)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{step.get('name', step['run'])}: {done.stdout}{done.stderr}"
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    outputs.unlink()
    return found


def test_the_documented_workflow_applies_the_merged_folder_and_notifies(
    cli, write_files, tmp_path: Path, repository: Path, moto_url: str
) -> None:
    bundle = write_files(
        "tf-label-env",
        {"schema/schema.yaml": SCHEMA, "infrastructure/manifest.yaml": MANIFEST,
         "infrastructure/main.tf": MAIN},
    )  # fmt: skip
    assert cli("blueprint", "publish", str(bundle)).exit_code == 0
    settings = cli.workspace / "pcli.yaml"
    settings.write_text(
        settings.read_text()
        + f"provisioning: pull-request\nprovisioning_repository:\n  url: {repository}\n"
        "  branch: main\n"
    )
    created = cli("env", "create", "dev", "--blueprint", "tf-label-env", "--yes")
    assert created.exit_code == 0, created.output
    (branch,) = [name for name in branches(repository) if name != "main"]

    # The pull request is merged; the workflow runs on the push to main.
    runner = tmp_path / "runner"
    git("clone", "-q", str(repository), str(runner), cwd=tmp_path)
    git("merge", "-q", "--no-ff", "-m", "merge the pull request", f"origin/{branch}", cwd=runner)

    workflow = documented_workflow()
    jobs = workflow["jobs"]
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TF_IN_AUTOMATION": "1",
    }
    github = {
        "github.server_url": "https://github.com",
        "github.repository": "team/provisioning",
        "github.run_id": "1",
    }
    (changed,) = [s for s in jobs["folders"]["steps"] if s.get("id") == "changed"]
    folders = json.loads(run_step(changed, runner, github, env)["folders"])
    assert folders == ["dev"]

    steps = jobs["terraform"]["steps"]
    folder = runner / expand(
        jobs["terraform"]["defaults"]["run"]["working-directory"], {"matrix.folder": "dev"}
    )
    context = dict(github)
    for step in steps:
        if "uses" in step or step["run"].startswith("pip install"):
            continue  # the runner's own work: done above (clone, PATH, credentials)
        if step.get("if", "success()") != "success()":
            continue  # the failure step: nothing failed
        said = run_step(step, folder, context, env)
        if step.get("id"):
            context.update({f"steps.{step['id']}.outputs.{k}": v for k, v in said.items()})

    assert context["steps.meta.outputs.region"] == "us-east-1"
    assert context["steps.meta.outputs.deleted"] == "false"
    status = json.loads(cli("status", "--json").stdout)
    (row,) = status["resources"]
    assert (row["stack_status"], row["pending"]) == ("CREATE_COMPLETE", False)
    outputs = json.loads(cli("env", "outputs", "dev", "--json").stdout)
    assert outputs == {"label": "first"}
