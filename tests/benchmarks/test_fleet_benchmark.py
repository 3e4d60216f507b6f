"""benchmarks/fleet.py at a tiny size, so its setup (workspace, blueprints, specs, sandbox,
counting proxy, bare script) cannot rot. Checks what it prints, never how fast anything was."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "fleet.py"


@pytest.mark.slow
def test_the_fleet_benchmark_runs_at_a_tiny_size_and_prints_its_tables():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--instances", "4", "--environments", "2", "--repeat", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "fleet: 4 service instances (2 services, no pipelines) over 2 environments" in out
    lines = out.splitlines()
    upgraded = ("pcli upgrade --all, 6 ", "sed version: 1.1 + pcli apply, 6 ")  # no upgrade yet
    assert any(line.startswith(upgraded) for line in lines), out
    for row in ("pcli plan --json ", "pcli apply, 6 new ", "pcli status --json ", "bare boto3 "):
        assert any(line.startswith(row) for line in lines), out
    # Each deploying side made one change set per stack; every goal has its verdict.
    assert sum("CreateChangeSet 6," in line for line in lines) == 4, out
    assert "ceil(6/50) + 5 = 6" in out
    goals = [line for line in lines if "<= " in line]
    assert len(goals) == 4, out
    assert all(" PASS" in line or " OVER" in line for line in goals), out
