"""benchmarks/liveview.py at a tiny size, so its setup (workspace, blueprints, sandbox, the
pseudo-terminal and the pipe) cannot rot. Checks what it prints, never how fast anything was."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "liveview.py"
ROW = r"\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d$"  # seconds, cpu seconds, KB written


@pytest.mark.slow
def test_the_live_view_benchmark_runs_at_a_tiny_size_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--instances", "3", "--environments", "2", "--repeat", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=180,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("svc deploy of 3 instances (3 stacks of 3 resources, over 2 ")
    assert "a 80x24 pseudo-terminal" in lines[1]
    assert any(re.match(r"terminal \(live view\)" + ROW, line) for line in lines), done.stdout
    assert any(re.match(r"pipe \(plain lines\)" + ROW, line) for line in lines), done.stdout
    verdicts = [line for line in lines if line.startswith("terminal / pipe: ")]
    assert len(verdicts) == 1, done.stdout
    assert re.search(
        r"\d+\.\d\dx \(median of paired runs\)  goal <= 1\.2x  (PASS|OVER)$", verdicts[0]
    )
