"""pcli's own options typed after the command (`pcli status --sandbox`): the error says where
they go (exit 2), and an option the command does not know at all keeps click's message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from protoncli.errors import ExitCode

PCLI = str(Path(sys.executable).with_name("pcli"))


def pcli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PCLI, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize(
    ("args", "option", "example"),
    [
        (["status", "--sandbox"], "--sandbox", "`pcli --sandbox status ...`"),
        (["env", "list", "-q"], "-q", "`pcli -q env list ...`"),
        (["env", "deploy", "dev", "--read-timeout", "3"], "--read-timeout", "`pcli --read-timeout"),
        (["svc", "list", "--profile", "ops"], "--profile", "`pcli --profile"),
    ],
)
def test_a_root_option_after_the_command_is_pointed_before_it(args, option, example):
    done = pcli(*args)

    assert done.returncode == ExitCode.USAGE
    text = " ".join(done.stderr.replace("│", " ").split())
    assert f"{option} is an option of pcli itself" in text
    assert example in text


def test_an_option_nobody_has_keeps_its_own_message():
    done = pcli("status", "--bogus")

    assert done.returncode == ExitCode.USAGE
    assert "No such option: --bogus" in done.stderr
