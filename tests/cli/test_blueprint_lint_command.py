"""`pcli blueprint lint`, as a user runs it. cfn-lint takes ~0.4 s a template: each starter once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protoncli.cli.app import app

CFN_CHECKS = "structure, schema, render, cfn-lint"
PASSED = "Lint passed: 0 error(s), 0 warning(s)"


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "reg"


@pytest.fixture
def pcli(registry: Path):
    """Run `pcli --registry <tmp>/reg ARGS...` in-process and return the result."""

    def run(*args: str):
        return CliRunner().invoke(app, ["--registry", str(registry), *args])

    return run


@pytest.fixture
def env_copy(tmp_path: Path, starters_dir: Path) -> Path:
    bundle = tmp_path / "env"
    shutil.copytree(starters_dir / "vpc-ecs-env" / "v1", bundle)
    return bundle


def edit_template(bundle: Path, old: str, new: str) -> None:
    """Replace the first `old` in the bundle's CloudFormation template."""
    path = bundle / "infrastructure" / "cloudformation.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("starter", "files", "checks"),
    [
        ("vpc-ecs-env", 1, CFN_CHECKS),
        ("fargate-web-svc", 2, CFN_CHECKS),
        ("sqs-queue-component", 1, "structure, render, cfn-lint"),
    ],
)
def test_lint_passes_on_cloudformation_starters(pcli, starters_dir, starter, files, checks):
    bundle = starters_dir / starter / "v1"
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 0, result.output
    summary = f"{PASSED}; {files} file(s) rendered; checks: {checks}.\n"
    sample = f"INFO    {bundle}: rendered with spec/spec.yaml\n"
    has_sample = (bundle / "spec" / "spec.yaml").is_file()
    assert result.stdout == (sample if has_sample else "") + summary
    assert result.stderr == ""


def test_lint_passes_on_a_starter_from_the_registry(pcli):
    result = pcli("blueprint", "lint", "lambda-api-svc@1.0")
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "INFO    lambda-api-svc@1.0: rendered with spec/spec.yaml\n"
        f"{PASSED}; 1 file(s) rendered; checks: {CFN_CHECKS}.\n"
    )


def test_lint_passes_on_the_terraform_starter(pcli, starters_dir):
    result = pcli("blueprint", "lint", str(starters_dir / "tf-vpc-env" / "v1"))
    assert result.exit_code == 0, result.output
    summary = result.stdout.splitlines()[-1]
    assert summary.startswith(f"{PASSED}; 6 file(s) rendered; checks: structure, schema, render")
    if shutil.which("terraform"):
        assert summary.endswith(", terraform-fmt.")
    else:
        assert "INFO    terraform not found: fmt check skipped" in result.stdout


def test_lint_shows_cfn_lint_errors_and_exits_1(pcli, env_copy):
    edit_template(env_copy, "AWS::EC2::VPC\n", "AWS::EC2::VPCX\n")

    result = pcli("blueprint", "lint", str(env_copy))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"INFO    {env_copy}: rendered with spec/spec.yaml"
    assert lines[1].startswith("ERROR   lint-env/cloudformation.yaml:6: ")
    assert lines[1].endswith("Resource type 'AWS::EC2::VPCX' does not exist in 'us-east-1'")
    assert lines[2] == (
        f"Lint failed: 1 error(s), 0 warning(s); 1 file(s) rendered; checks: {CFN_CHECKS}."
    )
    assert "Traceback" not in result.output


def test_lint_json_document(pcli, env_copy):
    edit_template(env_copy, "AWS::EC2::VPC\n", "AWS::EC2::VPCX\n")

    result = pcli("blueprint", "lint", str(env_copy), "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "target": str(env_copy),
        "ok": False,
        "errors": 1,
        "warnings": 0,
        "checks": ["structure", "schema", "render", "cfn-lint"],
        "rendered_files": ["lint-env/cloudformation.yaml"],
        "findings": [
            {
                "severity": "info",
                "check": "spec",
                "message": "rendered with spec/spec.yaml",
                "location": None,
                "code": None,
            },
            {
                "severity": "error",
                "check": "cfn-lint",
                "message": "Resource type 'AWS::EC2::VPCX' does not exist in 'us-east-1'",
                "location": "lint-env/cloudformation.yaml:6",
                "code": "E3006",
            },
        ],
    }


def test_lint_reports_a_template_that_does_not_render(pcli, env_copy):
    edit_template(env_copy, "environment.inputs.vpc_cidr", "environment.inputs.nope")
    result = pcli("blueprint", "lint", str(env_copy))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        (
            f"ERROR   {env_copy}: infrastructure/cloudformation.yaml:8: 'environment.inputs.nope'"
            " is undefined"
        ),
        (
            "Lint failed: 1 error(s), 0 warning(s); 0 file(s) rendered; checks: structure, schema,"
            " render."
        ),
    ]


def test_lint_reports_a_bundle_that_does_not_load(pcli, env_copy):
    (env_copy / "infrastructure" / "manifest.yaml").unlink()
    result = pcli("blueprint", "lint", str(env_copy))
    assert result.exit_code == 1
    assert result.stdout == (
        f"ERROR   {env_copy}/infrastructure: missing manifest.yaml\n"
        "Lint failed: 1 error(s), 0 warning(s); 0 file(s) rendered; checks: structure.\n"
    )


def test_lint_of_an_unknown_blueprint_is_a_usage_error_with_a_hint(pcli, registry):
    result = pcli("blueprint", "lint", "vpc-ecs")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: blueprint 'vpc-ecs' not found in registry {registry}",
        (
            "Hint: did you mean 'vpc-ecs-env'? known blueprints: fargate-web-svc, lambda-api-svc,"
            " sqs-queue-component, tf-vpc-env, vpc-ecs-env"
        ),
    ]


def test_lint_of_a_missing_path_is_a_usage_error(pcli, tmp_path):
    missing = tmp_path / "nowhere"
    result = pcli("blueprint", "lint", str(missing))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"Error: {missing}: no such bundle folder or archive"
