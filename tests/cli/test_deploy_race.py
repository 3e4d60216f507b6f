"""Two real `pcli env deploy` processes on one stack, against the moto server.

The first runs in a terminal (pexpect) and stops at its change set's question; the second,
started meanwhile with `--yes`, does not wait for that question to be answered (a change set
in review is no operation on the stack): it deploys. When the first is then told yes, its change
set is gone (executing the second's dropped it): it ends with a clear error saying nothing was
changed by it, and the stack stays as the second deployed it.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

PCLI = Path(sys.executable).with_name("pcli")
STACK = "pcli-demo-env-dev"

pytestmark = pytest.mark.skipif(not PCLI.exists(), reason="needs the installed pcli script")


def test_the_first_deploy_to_execute_wins_and_the_overtaken_one_changes_nothing(
    cli, registry, cloudformation
):
    created = cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy")
    assert created.exit_code == 0, created.output
    args = ["--registry", str(registry), "--workspace", str(cli.workspace), "env", "deploy", "dev"]
    first = pexpect.spawn(
        str(PCLI),
        args,
        env={**os.environ, "TERM": "xterm"},
        dimensions=(40, 120),
        encoding="utf-8",
        timeout=60,
    )
    first.logfile_read = io.StringIO()
    try:
        first.expect(r"Deploy these changes\?")
        (waiting,) = cloudformation.list_change_sets(StackName=STACK)["Summaries"]
        assert waiting["ExecutionStatus"] == "AVAILABLE"

        second = subprocess.run(
            [str(PCLI), *args, "--yes"], capture_output=True, text=True, timeout=120, check=False
        )

        assert second.returncode == 0, second.stderr
        assert "Deployed environment dev: CREATE_COMPLETE (pcli-demo-env-dev)" in second.stderr
        deployed = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        assert deployed["StackStatus"] == "CREATE_COMPLETE"
        left = cloudformation.list_change_sets(StackName=STACK)["Summaries"]
        assert waiting["ChangeSetName"] not in [s["ChangeSetName"] for s in left]  # dropped

        first.send("y\r")
        first.expect(pexpect.EOF)
    finally:
        first.close(force=True)
    shown = first.logfile_read.getvalue()
    assert first.exitstatus == 1, shown
    assert f"Error: stack {STACK} (environment dev): this run's change set " in shown
    assert "no longer exists" in shown or "can no longer be executed" in shown
    assert "nothing was changed by this run" in shown
    assert "Hint: look at the stack now (pcli status)" in shown
    for raw in ("ChangeSetNotFound", "ValidationError", "InvalidChangeSetStatus", "Traceback"):
        assert raw not in shown
    assert "Deployed environment dev" not in shown
    stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert (stack["StackId"], stack.get("LastUpdatedTime")) == (
        deployed["StackId"],
        deployed.get("LastUpdatedTime"),
    )
