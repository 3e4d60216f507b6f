"""benchmarks/terraform.py at a tiny size (--tiny: a terraform_data blueprint, one run each),
so its setup (sandbox, provider mirror, workspace, the reference's folder, the provisioning
repository) cannot rot. Checks what it prints, never how fast anything was. Skipped without
terraform or the provider mirror."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT

SCRIPT = REPO_ROOT / "benchmarks" / "terraform.py"
MIRROR = Path("/opt/tf-plugins/registry.terraform.io/hashicorp/aws")


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("terraform") is None or not MIRROR.is_dir(),
    reason="needs terraform and the AWS provider's mirror in /opt/tf-plugins",
)
def test_the_terraform_benchmark_runs_at_a_tiny_size_and_prints_its_table():
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repeat", "1", "--pr-repeat", "1", "--tiny"],
        capture_output=True,
        text=True,
        env=dict(os.environ),  # the isolated environment of conftest: PCLI_HOME under tmp
        timeout=900,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert lines[0].startswith("Terraform 1."), out
    assert "provider hashicorp/aws " in lines[0], out
    assert "CPUs" in lines[0], out
    rows = [line for line in lines if line.startswith("pcli env deploy ")]
    assert any("terraform apply -auto-approve" in row and "(report)" in row for row in rows), out
    fair = [row for row in rows if "plan -out=p + show -json p + apply" in row]
    assert len(fair) == 1, out
    assert "<= 1.1x" in fair[0], out
    assert fair[0].endswith((" PASS", " OVER")), out
    assert any(line.startswith("pcli env deploy, pull request ") for line in lines), out
    pushed = next(line for line in lines if line.startswith("branches pushed: "))
    assert pushed.count("pcli/pcli-tfbench-env-dev-") == 2, out  # the warm-up's and the run's
