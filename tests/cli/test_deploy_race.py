"""Two real `pcli env deploy` processes on one stack, against the moto server.

The first runs in a terminal (pexpect) and stops at its change set's question; the second,
started meanwhile, must not race it: it refuses, naming the waiting change set, and changes
nothing. The first then deploys as if alone.
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


def test_a_second_deploy_refuses_while_the_first_ones_change_set_is_in_review(
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

        second = subprocess.run(
            [str(PCLI), *args, "--yes"], capture_output=True, text=True, timeout=120, check=False
        )

        assert second.returncode == 1, second.stderr
        lines = second.stderr.splitlines()
        assert (
            f"Error: stack {STACK} (environment dev) has a change set of another pcli run "
            f"waiting: {waiting['ChangeSetName']} (CREATE_COMPLETE, created "
        ) in second.stderr
        assert lines[-1].startswith("Hint: let that run finish (or decline it), then deploy")
        assert "ChangeSet" not in second.stderr.replace(waiting["ChangeSetName"], "")
        stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
        assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"  # the second changed nothing

        first.send("y\r")
        first.expect(r"Deployed environment dev: CREATE_COMPLETE \(pcli-demo-env-dev\)")
        first.expect(pexpect.EOF)
    finally:
        first.close(force=True)
    assert first.exitstatus == 0, first.logfile_read.getvalue()
    stack = cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
