"""Every GitHub Actions workflow shown in docs/ (a ```yaml block with `on:` and `jobs:`, an
excerpt the commands test leaves out) passes actionlint, as the workflows pcli generates do;
among them the one of docs/how-to/terraform.md's provisioning automation."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.docs.test_docs_commands import REPO, Fence, all_pages, read_page
from tests.unit.workspace.test_ci_workflow import (
    Lint,
    actionlint,  # noqa: F401 - a fixture
)

TERRAFORM = "docs/how-to/terraform.md"
AUTOMATION = "### The automation: a workflow that applies merged folders and calls `pcli notify`"


def is_workflow(fence: Fence) -> bool:
    if fence.lang not in {"yaml", "yml"}:
        return False
    try:
        document = yaml.safe_load("\n".join(fence.body))
    except yaml.YAMLError:
        return False
    # YAML 1.1 reads the key `on` as True
    return (
        isinstance(document, dict) and "jobs" in document and (True in document or "on" in document)
    )


def workflows() -> list[tuple[str, int]]:
    """(page, line of the fence) of every workflow in the docs."""
    return [
        (name, item.line)
        for name in all_pages()
        for item in read_page(name).items
        if isinstance(item, Fence) and is_workflow(item)
    ]


def fence_at(name: str, line: int) -> Fence:
    (fence,) = [i for i in read_page(name).items if isinstance(i, Fence) and i.line == line]
    return fence


def test_the_terraform_automation_workflow_is_among_them() -> None:
    lines = (REPO / TERRAFORM).read_text(encoding="utf-8").splitlines()
    heading = lines.index(AUTOMATION) + 1
    after = sorted(line for name, line in workflows() if name == TERRAFORM and line > heading)
    assert after, f"no workflow after {AUTOMATION!r} in {TERRAFORM}"
    fence = fence_at(TERRAFORM, after[0])
    assert fence.excerpt is not None  # marked as an excerpt: the commands test leaves it out
    assert "pcli notify" in "\n".join(fence.body)


@pytest.mark.parametrize(("name", "line"), workflows(), ids=str)
def test_a_documented_workflow_passes_actionlint(
    actionlint: Lint,  # noqa: F811
    tmp_path: Path,
    name: str,
    line: int,
) -> None:
    path = tmp_path / "workflow.yml"
    path.write_text("\n".join(fence_at(name, line).body) + "\n")
    problems = [
        f"{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in actionlint(path)
    ]
    assert problems == [], f"{name}:{line}: the workflow's lines, from its first"
