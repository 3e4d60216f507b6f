"""`pcli blueprint lint`, as a user runs it. cfn-lint takes ~0.4 s a template: each starter once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from protoncli.cli.app import app

CFN_CHECKS = "structure, schema, proton-api, render, cfn-lint"
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
        ("vpc-ecs-env", 1, f"{CFN_CHECKS}, guardrails"),
        ("fargate-web-svc", 2, f"{CFN_CHECKS}, guardrails"),
        ("sqs-queue-component", 1, "structure, proton-api, render, cfn-lint, guardrails"),
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
    assert summary.startswith(
        f"{PASSED}; 6 file(s) rendered; checks: structure, schema, proton-api, render"
    )
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
        f"Lint failed: 1 error(s), 0 warning(s); 1 file(s) rendered; checks: {CFN_CHECKS}, "
        "guardrails."
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
        "checks": ["structure", "schema", "proton-api", "render", "cfn-lint", "guardrails"],
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
            " proton-api, render."
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
            "Hint: did you mean 'vpc-ecs-env'? known blueprints: external-env, fargate-web-svc,"
            " lambda-api-svc, sqs-queue-component, tf-vpc-env, vpc-ecs-env"
        ),
    ]


def test_lint_of_a_missing_path_is_a_usage_error(pcli, tmp_path):
    missing = tmp_path / "nowhere"
    result = pcli("blueprint", "lint", str(missing))
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == f"Error: {missing}: no such bundle folder or archive"


# Bundles written after the patterns of AWS's public Proton service samples, linted with no spec:
# every input and output they need is a placeholder (tests/data/lint/<name>).
CLEAN_BUNDLES = {
    "fargate-web": (2, ""),
    "lambda-api": (2, ""),
    "scheduled-job": (1, ""),
    "sqs-worker": (1, ""),
    "ec2-nlb": (1, ""),
    "apprunner-web": (
        1,
        (
            "WARNING lint-env/lint-svc-lint-instance/cloudformation.yaml:4: Mapping 'Size' is"
            " defined but not used\n"
        ),
    ),
    "network-env": (
        1,
        (
            "INFO    lint-env/cloudformation.yaml:36: Avoid hardcoding availability zones"
            " 'us-east-1a' (the value is lint's placeholder for environment.inputs.zones)\n"
            "INFO    lint-env/cloudformation.yaml:49: Avoid hardcoding availability zones"
            " 'us-east-1b' (the value is lint's placeholder for environment.inputs.zones)\n"
        ),
    ),
    "crud-api": (
        1,
        (
            "WARNING instance_infrastructure/cloudformation.yaml:7: input 'code_uri' is optional"
            " and has no default, but the template reads it without `is defined` or"
            " `| default(...)`: a spec that leaves it out fails to render (lint rendered it with a"
            " placeholder)\n"
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CLEAN_BUNDLES))
def test_lint_without_a_spec_passes_bundles_shaped_like_aws_samples(pcli, data_dir, name):
    bundle = data_dir / "lint" / name
    files, findings = CLEAN_BUNDLES[name]
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 0, result.output
    warnings = findings.count("WARNING")
    assert result.stdout == (
        f"INFO    {bundle}: no spec/spec.yaml: rendered with defaults and placeholders\n"
        f"{findings}"
        f"Lint passed: 0 error(s), {warnings} warning(s); {files} file(s) rendered;"
        f" checks: {CFN_CHECKS}.\n"
    )
    assert result.stderr == ""


def test_lint_makes_up_the_inputs_of_a_component(pcli, data_dir):
    result = pcli("blueprint", "lint", str(data_dir / "lint" / "queue-component"))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"{PASSED}; 1 file(s) rendered; checks: structure, proton-api, render, cfn-lint.\n"
    )


def test_lint_keeps_the_templates_own_mistakes_errors_next_to_placeholders(pcli, data_dir):
    result = pcli("blueprint", "lint", str(data_dir / "lint" / "broken-web"))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        (
            "ERROR   lint-env/lint-svc-lint-instance/cloudformation.yaml:8: Additional properties"
            " are not allowed ('VpcIdd' was unexpected. Did you mean 'VpcId'?)"
        ),
        (
            "ERROR   lint-env/lint-svc-lint-instance/cloudformation.yaml:13: 'HTTPX' is not one of"
            " ['GENEVE', 'HTTP', 'HTTPS', 'QUIC', 'TCP', 'TCP_QUIC', 'TCP_UDP', 'TLS', 'UDP']"
        ),
        (
            "ERROR   lint-env/lint-svc-lint-instance/cloudformation.yaml:18:"
            " 'subnet-aa568414dc5df0d1a' is not of type 'array'"
        ),
        f"Lint failed: 3 error(s), 0 warning(s); 1 file(s) rendered; checks: {CFN_CHECKS}.",
    ]


def test_lint_counts_what_cfn_lint_says_about_a_default(pcli, data_dir):
    """A default is the bundle's own value, not a placeholder: a retired runtime stays an error."""
    result = pcli("blueprint", "lint", str(data_dir / "lint" / "retired-runtime"))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[1].startswith(
        "ERROR   lint-env/lint-svc-lint-instance/cloudformation.yaml:16: Runtime 'nodejs12.x'"
        " was deprecated on"
    )
    assert "placeholder" not in lines[1]
    assert lines[2].startswith("Lint failed: 1 error(s), 0 warning(s)")


def test_lint_reports_an_input_the_schema_does_not_declare(pcli, data_dir):
    bundle = data_dir / "lint" / "undeclared-input"
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        (
            f"ERROR   {bundle}: instance_infrastructure/cloudformation.yaml:7:"
            " 'service_instance.inputs.queue_name' is undefined"
        ),
        (
            "Lint failed: 1 error(s), 0 warning(s); 0 file(s) rendered; checks: structure, schema,"
            " proton-api, render."
        ),
    ]


ODD_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "OddInput"
  types:
    OddInput:
      type: object
      properties:
        count:
          type: number
"""
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
QUEUE = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n"
ODD_TEMPLATES = {
    "recursive macro": "{% macro f() %}{{ f() }}{% endmacro %}Resources: {{ f() }}",
    "undefined into range": QUEUE + "      DelaySeconds: {{ range(service_instance.inputs.x) }}",
    "undefined into join": "Resources: {{ '-'.join([service_instance.inputs.x]) }}",
    "lookup keyed by an output": QUEUE
    + "      QueueName: {{ {'a': 'b'}[environment.outputs.Flavor] | tojson }}",
    "item past the end of a split output": QUEUE
    + "      QueueName: {{ environment.outputs.Names.split(',')[7] }}",
    "optional input compared": "Resources: {{ service_instance.inputs.count > 3 }}",
    "recursive alias": "Resources: &a\n  Q: *a",
    "deep nesting": "Resources: {{ '[' * 5000 }}{{ ']' * 5000 }}",
    "include": "{% include 'other.yaml' %}",
    "division by zero": "Resources: {{ 1 // 0 }}",
    "sandbox escape": "Resources: {{ ''.__class__.__mro__ }}",
    "range past the sandbox's limit": "Resources: {{ range(10**9) | list | length }}",
    "syntax error": "Resources: {% if %}",
    "a list, not a template": "- a\n- b",
    "empty Resources": "Resources:",
    "Resources a number": "Resources: 5",
    "whole outputs mapping": "Resources: {{ environment.outputs | dictsort }}",
    "method of the outputs": "Resources: {{ environment.outputs.items() | list }}",
    "component that is not there": QUEUE
    + "      QueueName: {{ service_instance.components.extra.outputs.Name }}",
    "empty file": "",
}


def write_bundle(root: Path, template: str, schema: str = ODD_SCHEMA) -> Path:
    """A one-instance service bundle with `template` as its CloudFormation file."""
    (root / "schema").mkdir(parents=True)
    (root / "schema" / "schema.yaml").write_text(schema)
    (root / "instance_infrastructure").mkdir()
    (root / "instance_infrastructure" / "manifest.yaml").write_text(MANIFEST)
    (root / "instance_infrastructure" / "cloudformation.yaml").write_text(template)
    return root


@pytest.mark.parametrize("template", list(ODD_TEMPLATES.values()), ids=list(ODD_TEMPLATES))
def test_no_bundle_ends_lint_in_an_internal_error(pcli, tmp_path, template):
    bundle = write_bundle(tmp_path / "odd", template)
    result = pcli("blueprint", "lint", str(bundle), "--json")
    assert result.exit_code in (0, 1), result.output
    assert result.stderr == ""
    report = json.loads(result.stdout)
    for finding in report["findings"]:
        assert finding["message"], finding
        assert "PcliUndefined" not in finding["message"]
        assert "Traceback" not in finding["message"]
    assert report["ok"] is (result.exit_code == 0)


def test_a_lookup_keyed_by_a_made_up_output_is_a_warning_naming_it(pcli, tmp_path):
    bundle = write_bundle(tmp_path / "lookup", ODD_TEMPLATES["lookup keyed by an output"])
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        (
            f"WARNING {bundle}: instance_infrastructure/cloudformation.yaml:5: 'dict object' has no"
            " attribute 'placeholder-flavor' (caused by lint's placeholder for"
            " environment.outputs.Flavor, not by the bundle)"
        ),
        (
            "Lint passed: 0 error(s), 1 warning(s); 0 file(s) rendered; checks: structure, schema,"
            " proton-api, render."
        ),
    ]


def test_lint_attaches_a_component_and_makes_up_repository_fields_the_template_reads(
    pcli, tmp_path
):
    bundle = write_bundle(
        tmp_path / "reads",
        QUEUE
        + "      QueueName: '{{ service_instance.components.default.name }}'\n"
        + "      Tags:\n"
        + "        - Key: repository\n"
        + "          Value: '{{ service.repository_id }}@{{ service.branch_name }}'\n",
    )
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        (
            "INFO    instance_infrastructure/cloudformation.yaml:5: rendered with a component"
            " attached: the template reads service_instance.components.default.name"
        ),
        f"{PASSED}; 1 file(s) rendered; checks: {CFN_CHECKS}.",
    ]


def test_a_made_up_input_its_schema_refuses_is_a_warning(pcli, tmp_path):
    schema = ODD_SCHEMA.replace(
        "        count:\n          type: number\n",
        "        code:\n          type: string\n          pattern: '^(?=.*[A-Z])[a-z]+$'\n"
        "      required: [code]\n",
    )
    bundle = write_bundle(
        tmp_path / "refused",
        QUEUE + "      QueueName: '{{ service_instance.inputs.code }}'\n",
        schema,
    )
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        (
            f"WARNING {bundle}: <placeholders>: instance 'lint-instance', input 'code':"
            " 'placeholder-code' does not match the pattern ^(?=.*[A-Z])[a-z]+$ (caused by lint's"
            " placeholder for service_instance.inputs.code, not by the bundle)"
        ),
        (
            "Lint passed: 0 error(s), 1 warning(s); 0 file(s) rendered; checks: structure, schema,"
            " proton-api, render."
        ),
    ]


def test_cfn_lint_crashing_on_a_template_is_an_error_finding(pcli, starters_dir, monkeypatch):
    def crash(*_args, **_kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("cfnlint.api.lint", crash)
    result = pcli("blueprint", "lint", str(starters_dir / "sqs-queue-component" / "v1"))
    assert result.exit_code == 1
    assert result.stdout == (
        "ERROR   lint-env/lint-component/cloudformation.yaml: cfn-lint stopped with an"
        " unexpected RecursionError: maximum recursion depth exceeded\n"
        "Lint failed: 1 error(s), 0 warning(s); 1 file(s) rendered; checks: structure,"
        " proton-api, render, cfn-lint, guardrails.\n"
    )


def test_a_terraform_that_does_not_run_is_an_error_finding(
    pcli, starters_dir, tmp_path, monkeypatch
):
    fake = tmp_path / "bin" / "terraform"
    fake.parent.mkdir()
    fake.write_bytes(b"\x00\x01\x02 not a program")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    bundle = starters_dir / "tf-vpc-env" / "v1"
    result = pcli("blueprint", "lint", str(bundle))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    prefix = f"ERROR   {bundle}: terraform-fmt stopped with an unexpected OSError"
    assert next(line for line in lines if line.startswith("ERROR")).startswith(prefix)
    assert lines[-1].startswith("Lint failed: 1 error(s)")
