"""benchmarks/golden.py at a tiny size, so its setup (workspace, blueprints written by it, a
service with two log groups and its events, services of Lambda functions, sandbox, counting
proxy, the awscli reference) cannot rot. Checks what it prints, never how fast anything was."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "golden.py"


@pytest.mark.slow
def test_the_golden_benchmark_runs_at_a_tiny_size_and_prints_its_figures():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--events", "200", "--instances", "3", "--repeat", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert lines[0].startswith("golden: "), out
    assert " CPUs; " in lines[0], out
    assert "logs: 200 events over 2 log groups of api's instance api-dev" in out
    # Both sides printed every event written, in every run.
    assert "events printed per run: pcli [200], awscli [200], written 200: the same" in out

    logs = [line for line in lines if line.startswith("pcli svc logs api --since 1h ")]
    assert len(logs) == 1, out
    assert " aws logs filter-log-events x2 " in logs[0], out
    assert logs[0].endswith(("<= 1.0x  PASS", "<= 1.0x  OVER")), out
    for service in ("small", "large"):
        timed = [
            line
            for line in lines
            if line.startswith(f"pcli svc status {service} ") and line.endswith("   -")
        ]
        assert len(timed) == 1, out

    # Each instance's resources read once; the health reads counted apart from them.
    small = [line for line in lines if line.startswith("pcli svc status small, 3 x 1 fn ")]
    large = [line for line in lines if line.startswith("pcli svc status large, 3 x 3 fn ")]
    assert len(small) == 1, out
    assert len(large) == 1, out
    assert "ListStackResources 3" in small[0], out
    assert "ListStackResources 3" in large[0], out
    assert "lambda:GetFunction" in small[0], out
    assert " == " in large[0], out
    assert any(f" {word} " in large[0] for word in ("PASS", "OVER")), out
    assert "pcli svc status small said: 3 healthy" in out
    assert "pcli svc status large said: 3 healthy" in out
    # pcli reads the stack's resources once, then each group; the awscli each group.
    assert "pcli svc logs api calls: 3: ListStackResources 1, logs:FilterLogEvents 2" in out
    assert "aws logs filter-log-events x2 calls: 2: logs:FilterLogEvents 2" in out
    # The guardrails: the four starter rules on two templates, each breaking some.
    assert "guardrail checks per rendered template: 4 rules (" in out
    small_check = [line for line in lines if line.startswith("starter size, 12 resources ")]
    large_check = [line for line in lines if line.startswith("200 resources ")]
    assert len(small_check) == 1, out
    assert len(large_check) == 1, out
    assert small_check[0].split()[5] == "2", out  # one open SSH port, one plain bucket
    assert large_check[0].split()[3] == "10", out
    assert lines[-1].endswith(("<= 50 ms PASS", "<= 50 ms OVER")), out
