"""Several processes editing one spec file at once: every edit lands, none is lost."""

from __future__ import annotations

import subprocess
import sys

import yaml

from protoncli.workspace.model import init_workspace

EDITOR = """\
import sys
import time
from pathlib import Path

from protoncli.workspace.specfiles import update_spec

path, start, key = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
while not start.exists():
    time.sleep(0.001)
for round in range(5):
    update_spec(path, lambda document: document["spec"].__setitem__(f"{key}_{round}", round))
"""

SPEC = """\
# the dev environment
blueprint: vpc-ecs-env
version: "1.0"
proton: EnvironmentSpec
spec:
  log_retention_days: 14
"""


def test_concurrent_edits_of_one_spec_all_land(tmp_path):
    workspace = init_workspace(tmp_path / "ws", name="demo", region="us-east-1", registry=None)
    path = workspace.environment_spec("dev")
    path.write_text(SPEC)
    start = tmp_path / "start"
    keys = [f"editor{n}" for n in range(6)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", EDITOR, str(path), str(start), key],
            stderr=subprocess.PIPE,
            text=True,
        )
        for key in keys
    ]
    start.touch()
    for process in processes:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr

    text = path.read_text()
    assert text.startswith("# the dev environment\n")
    inputs = yaml.safe_load(text)["spec"]
    expected = {f"{key}_{n}": n for key in keys for n in range(5)}
    assert inputs == {"log_retention_days": 14, **expected}
