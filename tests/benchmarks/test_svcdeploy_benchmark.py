"""benchmarks/svcdeploy.py at a tiny size, so its setup (workspace, blueprints, environments,
the service, sandbox, counting proxy, bare script) cannot rot. Checks what it prints, never how
fast anything was."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "svcdeploy.py"


@pytest.mark.slow
def test_the_svc_deploy_benchmark_runs_at_a_tiny_size_and_prints_its_tables():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--instances", "4", "--environments", "2", "--updates", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "service web: 4 instances over 2 environments in us-east-1 (no pipeline)" in out
    lines = out.splitlines()
    for row in ("pcli svc deploy, 4 new ", "pcli svc deploy, 4 updated ", "bare boto3 "):
        assert any(line.startswith(row) for line in lines), out
    # Each side made one change set per stack; pcli read the region once, in bulk, and each
    # stack once by name (followed to its end): five calls per stack and a constant.
    assert sum("CreateChangeSet 4," in line for line in lines) == 4, out
    pcli_calls = [line for line in lines if line.startswith("pcli svc deploy, 4 ") and "<=" in line]
    assert len(pcli_calls) == 2, out
    for line in pcli_calls:
        assert "DescribeStacks 4, DescribeStacks(all) 1," in line, out
        assert "s3:PUT 4" in line, out
    assert "ceil(6/50) + 5 = 6" in out
    assert all(" PASS" in line or " OVER" in line for line in pcli_calls), out
