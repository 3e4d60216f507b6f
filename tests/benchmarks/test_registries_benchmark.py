"""benchmarks/registries.py at a tiny size, so its setup (sandbox, bucket, bare repository,
registries) cannot rot. Checks what it prints, never how fast anything was."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "registries.py"
ROW = re.compile(r"^(.+?)\s+(\d+\.\d) +(\d+\.\d) +(\d+\.\d)x$")


@pytest.mark.slow
def test_the_registries_benchmark_runs_at_a_tiny_size_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repeat", "1"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("team registries against the folder registry: ")
    assert "1 runs each after a warm-up" in lines[0]
    rows = [match[1].strip() for line in lines if (match := ROW.match(line))]
    assert rows == [
        "publish, S3",
        "read (empty cache), S3",
        "read (cached), S3",
        "publish, git",
        "read (empty cache), git",
        "read (cached), git",
    ]
