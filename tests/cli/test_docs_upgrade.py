"""docs/how-to/upgrade.md runs as written: every `$ pcli ...` line of its console blocks that is
not marked `<!-- excerpt -->`, in the workspace folder, in order, with the publishing its text
describes done in between; the output it shows is the output pcli prints (lines compared
without trailing spaces). The examples of `pcli upgrade --help` run as well."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from tests.cli.test_docs_upgrade_code import (
    console_commands,
    help_examples,
    step_runner,
)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "upgrade.md"

# moto has no CloudFormation model for AWS::CodeBuild::Project (the starter's pipeline): it warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning"
)


def test_the_upgrade_how_to_runs_as_written(pcli, cli, tmp_path, starters_dir, monkeypatch):
    page = PAGE.read_text(encoding="utf-8")
    steps = console_commands(page)
    assert [command for command, _ in steps] == [
        "pcli env create dev -b vpc-ecs-env --yes",
        "pcli svc create web -b fargate-web-svc -i web-dev=dev --yes",
        "pcli upgrade --all --plan",
        "pcli upgrade dev --yes",
        "pcli upgrade dev --major --plan",
    ]
    workspace = cli.workspace
    monkeypatch.chdir(workspace)

    run = step_runner(pcli, steps)

    run(0)
    run(1)
    # What the page says happened next: vpc-ecs-env 1.1 and 2.0 published.
    bundle = tmp_path / "vpc-ecs-env"
    shutil.copytree(starters_dir / "vpc-ecs-env" / "v1", bundle)
    template = bundle / "infrastructure" / "cloudformation.yaml"
    template.write_text(template.read_text() + "# 1.1\n")
    assert pcli("blueprint", "publish", str(bundle)).exit_code == 0
    template.write_text(template.read_text() + "# 2.0\n")
    assert pcli("blueprint", "publish", str(bundle), "--major").exit_code == 0

    run(2)
    run(3)
    assert 'version: "1.1"' in (workspace / "environments" / "dev.yaml").read_text()
    run(4, exit_code=2)

    examples = help_examples("pcli upgrade")
    assert examples == [
        "pcli upgrade --all --plan",
        "pcli upgrade dev --yes",
        "pcli upgrade --blueprint fargate-web-svc --param owner=team-a --yes --json",
    ]
    for example in examples:
        result = pcli(*shlex.split(example)[1:])
        assert result.exit_code == 0, result.output
