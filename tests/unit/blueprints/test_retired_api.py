"""Calls to the retired AWS Proton API in a bundle's files: each is named, with what replaces it."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from protoncli.blueprints.retired import REPLACEMENTS, proton_calls
from protoncli.cli.app import app


def test_every_call_is_found_with_its_file_line_and_replacement():
    files = {
        "pipeline_infrastructure/cloudformation.yaml": (
            b"commands:\n"
            b"  - aws proton update-service-instance --name x --deployment-type CURRENT_VERSION\n"
            b"  - echo done && aws  proton notify-resource-deployment-status-change --arn y\n"
        ),
        "README.md": b"Use `aws proton create-service` no more.\n",
        "logo.png": b"\x89PNG\xff\xfe aws proton update-service",  # not text
        "schema/schema.yaml": b"aws-proton: no call here\n",
    }

    calls = list(proton_calls(files))

    assert [(c.path, c.line, c.command) for c in calls] == [
        ("README.md", 1, "create-service"),
        ("pipeline_infrastructure/cloudformation.yaml", 2, "update-service-instance"),
        (
            "pipeline_infrastructure/cloudformation.yaml",
            3,
            "notify-resource-deployment-status-change",
        ),
    ]
    assert "pcli svc deploy SERVICE --instance INSTANCE --yes" in calls[1].message
    assert "the AWS Proton API is retired" in calls[1].message
    assert calls[2].replacement == REPLACEMENTS["notify-resource-deployment-status-change"]
    assert "pcli --help" in calls[0].replacement  # no specific replacement: the general one


def test_lint_warns_where_a_pipeline_calls_aws_proton(tmp_path, starters_dir):
    bundle = tmp_path / "svc"
    shutil.copytree(starters_dir / "fargate-web-svc" / "v1", bundle)
    template = bundle / "pipeline_infrastructure" / "cloudformation.yaml"
    text = template.read_text()
    old = "                - pcli svc deploy {{ service.name }} --instance"
    assert old in text
    template.write_text(
        text.replace(
            old,
            "                - aws proton update-service-instance --name {{ service.name }}\n"
            + old,
        )
    )
    line = (
        template.read_text()
        .splitlines()
        .index("                - aws proton update-service-instance --name {{ service.name }}")
    )

    result = CliRunner().invoke(
        app, ["--registry", str(tmp_path / "reg"), "blueprint", "lint", str(bundle), "--json"]
    )

    document = json.loads(result.stdout)
    found = [f for f in document["findings"] if f["check"] == "proton-api"]
    assert found == [
        {
            "severity": "warning",
            "check": "proton-api",
            "message": found[0]["message"],
            "location": f"pipeline_infrastructure/cloudformation.yaml:{line + 1}",
            "code": None,
        }
    ]
    assert "aws proton update-service-instance" in found[0]["message"]
    assert "proton-api" in document["checks"]
    assert result.exit_code == 0, result.output  # a warning: the bundle still lints
