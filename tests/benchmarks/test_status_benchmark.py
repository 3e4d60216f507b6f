"""benchmarks/status.py at a tiny size, so its setup (workspace, blueprints, spec files, stacks
made with pcli's tags, sandbox, counting proxy, the reference) cannot rot. Checks what it
prints, never how fast anything was."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "status.py"


@pytest.mark.slow
def test_the_status_benchmark_runs_at_a_tiny_size_and_prints_its_figures():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--stacks", "12", "--environments", "2", "--repeat", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "status: 12 stacks in us-east-1: 2 environments and 10 service instances" in out
    # Every stack made for the benchmark is one status sees as its workspace's, up to date.
    assert "pcli status said: 12 item(s): 12 up to date, 0 behind minor" in out
    assert " printed 12 stacks" in out
    lines = out.splitlines()
    # Both sides read the region in one page; pcli also lists the provisioned state of items
    # that are no stack (Terraform, CodeBuild) in the region's bucket, and made no other call.
    sides = [line.split("  ")[0] for line in lines if line.endswith(" 1  DescribeStacks 1")]
    assert len(sides) == 1, out
    assert sides[0] in ("aws cloudformation describe-stacks", "botocore describe_stacks"), out
    ours = [line for line in lines if line.endswith(" 2  DescribeStacks 1, s3:GET 1")]
    assert [line.split("  ")[0] for line in ours] == ["pcli status"], out
    verdicts = [line for line in lines if "  goal " in line]
    assert len(verdicts) == 2, out
    assert all(line.endswith((" PASS", " OVER")) for line in verdicts), out
