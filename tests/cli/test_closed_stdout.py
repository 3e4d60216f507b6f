"""A reader that goes away (`pcli ... | head -1`) never stops a command: the deployment
finishes, the exit code is the command's, and no traceback or BrokenPipeError is shown."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
from tests.cli.test_component_status_commands import TINY_ENV

PCLI = str(Path(sys.executable).with_name("pcli"))


def test_a_deploy_piped_into_head_goes_on_to_the_end(
    cli, registry, tmp_path, write_files, moto_url
):
    bundle = write_files(tmp_path / "env", TINY_ENV)
    published = cli("blueprint", "publish", str(bundle), "--name", "tiny-env")
    assert published.exit_code == 0, published.output
    flags = ["--registry", str(registry), "--workspace", str(cli.workspace)]
    env = {**os.environ, "CI": "1"}
    read, write = os.pipe()
    with subprocess.Popen(
        [PCLI, *flags, "env", "create", "dev", "-b", "tiny-env", "--yes", "--json"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        os.close(write)
        with os.fdopen(read) as reader:
            first = reader.readline()  # then the reader goes away, as `head -1` does
        _, stderr = process.communicate(timeout=60)

    assert '"type": "version"' in first
    assert process.returncode == 0, stderr
    assert "BrokenPipeError" not in stderr
    assert "Traceback" not in stderr
    client = boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")
    (stack,) = client.describe_stacks(StackName="pcli-demo-env-dev")["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
