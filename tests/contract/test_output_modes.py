"""--quiet, --color, NO_COLOR, a terminal or not, and CI, as a user sees them.

In-process runs write to pipes; the terminal cases run .venv/bin/pcli in a real pty (pexpect).
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest

from protoncli.cli.progress import QuietView, make_view
from protoncli.cli.progress_live import LiveView
from protoncli.cli.progress_ndjson import NdjsonView

PCLI = str(Path(sys.executable).with_name("pcli"))
ESC = "\x1b"
COLOUR = re.compile(r"\x1b\[[0-9;]*3[0-7]m|\x1b\[[0-9;]*38;")  # a foreground colour
BOLD = "\x1b[1m"
REDRAW = "\x1b[2K"  # erase line: the live view redrawing itself
STACK = "pcli-demo-env-dev"


def run_in_terminal(*args: str, env: dict[str, str] | None = None, answer: str | None = None):
    """Run pcli in a pty; answer its one question if given; return (exit code, output)."""
    environment = {**os.environ, "TERM": "xterm", **(env or {})}
    for key in [k for k, v in environment.items() if v is None]:
        del environment[key]
    child = pexpect.spawn(
        PCLI, list(args), env=environment, encoding="utf-8", timeout=30, dimensions=(40, 120)
    )
    seen = ""
    if answer is not None:
        child.expect(r"\[y/N\]")
        seen = child.before + child.after
        child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, seen + child.before


@pytest.fixture
def dev(cli, tiny, registry):
    """Environment dev written (not deployed); the flags that point a subprocess at it."""
    created = cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy")
    assert created.exit_code == 0, created.output
    return ["--registry", str(registry), "--workspace", str(cli.workspace)]


# --- --quiet -------------------------------------------------------------------------------------


def test_quiet_deploy_prints_only_its_outcome(cli, tiny):
    result = cli("-q", "env", "create", "dev", "-b", "tiny-env", "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr == f"Deployed environment dev: CREATE_COMPLETE ({STACK}).\n"


def test_quiet_keeps_results_json_and_errors(cli, tiny):
    assert cli("-q", "env", "create", "dev", "-b", "tiny-env", "--yes").exit_code == 0

    listed = cli("-q", "env", "list")
    streamed = cli("-q", "env", "deploy", "dev", "--yes", "--json")
    missing = cli("-q", "env", "show", "prod")

    assert listed.stdout.split()[:2] == ["KIND", "NAME"]
    assert "CREATE_COMPLETE" in listed.stdout
    assert streamed.stdout.splitlines()[0].startswith('{"type": "version"')
    assert streamed.stdout.splitlines()[-1].startswith('{"type": "result"')
    assert missing.exit_code == 2
    assert missing.stderr.startswith("Error: no environment named 'prod'")


def test_quiet_keeps_warnings(pcli, tmp_path):
    spec = tmp_path / "dev.yaml"
    spec.write_text("proton: EnvironmentSpec\nspec:\n  log_retention_days: 14\nextra: 1\n")

    rendered = pcli("-q", "blueprint", "render", "vpc-ecs-env", "--spec", str(spec),
                    "-o", str(tmp_path / "out"))  # fmt: skip

    assert rendered.exit_code == 0, rendered.output
    assert rendered.stderr.startswith("Warning: ")
    assert rendered.stdout.startswith(f"Rendered environment dev -> {tmp_path / 'out' / 'dev'}/")


def test_quiet_status_of_an_empty_workspace_says_nothing(cli):
    result = cli("--quiet", "status")

    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert "Nothing declared" in cli("status").stderr


def test_quiet_without_yes_points_at_the_changes_it_did_not_show(cli, tiny):
    result = cli("-q", "env", "create", "dev", "-b", "tiny-env")

    assert result.exit_code == 2
    assert "ACTION" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        "Hint: review the changes without --quiet, then run: pcli env deploy dev --yes; the "
        "spec file is kept: the same `pcli env create dev` command, run again, continues with "
        "it and deploys it"
    )


def test_quiet_in_a_terminal_still_shows_the_changes_it_asks_about(dev):
    code, text = run_in_terminal("-q", *dev, "env", "deploy", "dev", answer="y")

    assert code == 0, text
    before_question = text.split("Deploy these changes?")[0]
    assert re.search(r"Add\s+Topic\s+AWS::SNS::Topic", before_question)
    assert "CREATE_IN_PROGRESS" not in text
    assert REDRAW not in text
    assert text.rstrip().endswith(f"Deployed environment dev: CREATE_COMPLETE ({STACK}).")


# --- colour ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env", "coloured"),
    [
        ([], {}, False),
        (["--color", "always"], {}, True),
        (["--color", "always"], {"NO_COLOR": "1"}, True),
        (["--color", "never"], {}, False),
        (["--color", "auto"], {}, False),
    ],
    ids=["pipe", "always", "always-beats-NO_COLOR", "never", "auto-pipe"],
)
def test_colour_on_a_pipe(pcli, flags, env, coloured):
    result = pcli(*flags, "blueprint", "list", env=env)

    assert result.exit_code == 0, result.output
    assert (ESC in result.stdout) is coloured


@pytest.mark.parametrize(
    ("flags", "env", "bold", "colours"),
    [
        ([], {"NO_COLOR": None}, True, True),
        ([], {"NO_COLOR": "1"}, True, False),
        (["--color", "never"], {"NO_COLOR": None}, False, False),
    ],
    ids=["terminal", "terminal-NO_COLOR", "terminal-never"],
)
def test_colour_of_the_live_view(dev, flags, env, bold, colours):
    code, text = run_in_terminal(*flags, *dev, "env", "deploy", "dev", "--yes", env=env)

    assert code == 0, text
    assert "CREATE_COMPLETE" in text
    assert (BOLD in text) is bold
    assert bool(COLOUR.search(text)) is colours


# --- live view, plain lines, CI ---------------------------------------------------------------


def test_a_terminal_gets_the_live_view(dev):
    code, text = run_in_terminal(*dev, "env", "deploy", "dev", "--yes")

    assert code == 0, text
    assert REDRAW in text
    assert "environment dev (pcli-demo-env-dev)" in text


def test_ci_in_a_terminal_gets_one_plain_line_per_state_change(dev):
    code, text = run_in_terminal(*dev, "env", "deploy", "dev", "--yes", env={"CI": "true"})

    assert code == 0, text
    assert REDRAW not in text
    assert ESC not in text
    lines = [line for line in text.replace("\r", "").splitlines() if line.startswith(f"{STACK}  ")]
    assert lines[0] == f"{STACK}  Planning environment dev"
    done = f"{STACK}  environment dev: CREATE_COMPLETE in "
    assert sum(line.startswith(done) for line in lines) == 1, lines
    assert len(lines) == len(set(lines)), "a state change is printed once"


def test_a_pipe_gets_plain_lines(cli, tiny):
    result = cli("env", "create", "dev", "-b", "tiny-env", "--yes")

    assert result.exit_code == 0, result.output
    assert ESC not in result.stderr
    assert f"{STACK}  Planning environment dev" in result.stderr.splitlines()


# --- the view each mode picks, and --debug ------------------------------------------------------


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_quiet_picks_no_view_but_json_wins_over_quiet():
    assert isinstance(
        make_view(json_mode=False, command="c", stream=TerminalStream(), quiet=True), QuietView
    )
    assert isinstance(
        make_view(json_mode=True, command="c", stream=TerminalStream(), quiet=True), NdjsonView
    )


@pytest.mark.parametrize(("color", "escapes"), [("never", False), ("auto", True)])
def test_the_live_view_follows_the_colour_mode(monkeypatch, color, escapes):
    monkeypatch.delenv("NO_COLOR")
    stream = TerminalStream()
    view = make_view(json_mode=False, command="c", stream=stream, color=color)
    assert isinstance(view, LiveView)

    view.note("[bold]plain text[/bold]")
    view.console.print("[red]red[/red]")

    assert "[bold]plain text[/bold]" in stream.getvalue()
    assert (ESC in stream.getvalue()) is escapes


def test_debug_adds_the_traceback_to_an_error(cli):
    plain = cli("env", "show", "prod")
    debug = cli("--debug", "env", "show", "prod")

    assert plain.exit_code == debug.exit_code == 2
    assert "Traceback" not in plain.stderr
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.splitlines()[-1] == plain.stderr.splitlines()[-1]
