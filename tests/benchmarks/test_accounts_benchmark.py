"""benchmarks/accounts.py at a tiny size, so its setup (two workspaces, named accounts assumed
through the sandbox's STS, environments spread over accounts and regions, counting proxy, the
registries' part) cannot rot. Checks what it prints, never how fast anything was."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "accounts.py"
TINY = ["--accounts", "2", "--regions", "2", "--stacks", "2", "--repeat", "1"]


@pytest.mark.slow
def test_the_accounts_benchmark_runs_at_a_tiny_size_and_prints_its_tables():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *TINY, "--registry-repeat", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=240,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert lines[0].startswith("accounts: the same 8 stacks (4 environments, 4 service instances")
    assert "single:   1 account (the caller's own, 123456789012) x 1 region (us-east-1)" in out
    assert "accounts: 2 named accounts (111111111111 ... 222222222222, roles " in out
    assert "x 2 regions (us-west-2, us-east-1) x 2 stacks" in out
    for row in ("single: pcli status --json ", "accounts: pcli status --json "):
        assert sum(line.startswith(row) for line in lines) == 2, out  # timings, then calls
    for row in ("single: pcli apply, 8 new ", "accounts: pcli apply, 8 new "):
        assert sum(line.startswith(row) for line in lines) == 2, out

    # The budgets: one page of the single region; four account-regions and the caller's own
    # (empty) home region, a page each, and one AssumeRole per account.
    assert "single: DescribeStacks pages: 1 x max(1, ceil(8/50)) = 1; goal 1" in out
    assert (
        "accounts: DescribeStacks pages: 4 x max(1, ceil(2/50)) + 1 x max(1, ceil(0/50)) = 5; "
        "AssumeRole: 2 (one per named account); goal 7"
    ) in out
    calls = [line for line in lines if re.match(r"^\w+: pcli status --json +\d+ +<= ", line)]
    assert len(calls) == 2, out
    assert "sts:AssumeRole 2" in calls[1], out
    goals = [line for line in lines if "<= " in line]
    assert len(goals) == 3, out  # the wall-time ratio and the two call budgets
    assert all(" PASS" in line or " OVER" in line for line in goals), out

    # Both workspaces were deployed in full and status saw every item where it lives.
    assert (
        "  single: 8 items, 8 up to date, 0 pending, 0 orphaned; accounts own; regions us-east-1"
        in out
    )
    assert (
        "  accounts: 8 items, 8 up to date, 0 pending, 0 orphaned; accounts acct1, acct2; "
        "regions us-east-1, us-west-2"
    ) in out

    # The registries' table, from benchmarks/registries.py's measure, in the same run.
    assert "team registries against the folder registry: " in out
    for row in ("publish, S3 ", "read (empty cache), S3 ", "read (cached), git "):
        assert any(line.startswith(row) for line in lines), out
