"""`pcli --show-completion` / `--install-completion` (Typer's) and the bash script run in bash."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PCLI = Path(sys.executable).with_name("pcli")
# Typer's switch that makes both options take the shell as a value instead of detecting it.
NAMED_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}


def pcli(*args, cwd=None, **env):
    return subprocess.run(
        [str(PCLI), *args],
        cwd=cwd,
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("bash", "_PCLI_COMPLETE=complete_bash $1"),
        ("zsh", "_PCLI_COMPLETE=complete_zsh pcli"),
        ("fish", "env _PCLI_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args"),
    ],
)
def test_show_completion_prints_the_script_of_each_shell(shell, expected):
    result = pcli("--show-completion", shell, **NAMED_SHELL)

    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_show_completion_detects_the_shell_it_runs_in():
    result = subprocess.run(
        ["bash", "-c", f"{PCLI} --show-completion; exit $?"],  # two commands: bash stays the parent
        env=os.environ,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "complete -o default -F _pcli_completion pcli" in result.stdout


def test_install_completion_writes_the_script_and_sources_it_from_bashrc(tmp_path):
    result = pcli("--install-completion", "bash", HOME=str(tmp_path), **NAMED_SHELL)

    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "pcli.sh"
    assert "_PCLI_COMPLETE=complete_bash" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_bash_script_completes_environment_names_in_bash(tmp_path):
    workspace = tmp_path / "ws"
    assert pcli("init", str(workspace), "--region", "eu-west-1").returncode == 0
    for name in ("dev", "prod"):
        spec = workspace / "environments" / f"{name}.yaml"
        spec.write_text('blueprint: vpc-ecs-env\nversion: "1.0"\nproton: EnvironmentSpec\n')
    script = pcli("--show-completion", "bash", **NAMED_SHELL).stdout
    session = (
        f"{script}\n"
        'COMP_WORDS=(pcli env deploy ""); COMP_CWORD=3; _pcli_completion pcli\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )

    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", session],
        cwd=workspace,
        env=os.environ | {"PATH": f"{PCLI.parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["dev", "prod"]
