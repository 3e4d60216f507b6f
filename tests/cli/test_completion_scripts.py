"""`pcli --show-completion` / `--install-completion` and the scripts run in real shells.

bash splits a line at every character of COMP_WORDBREAKS (`@`, `=` and `:` among them) and
replaces only the text after the last one; zsh and fish keep `team-env@1.` and `web-dev=` whole.
Here each shell runs pcli's script: bash with the COMP_* variables set as bash sets them (and once
in a terminal, pressing Tab), zsh in a terminal, fish with `complete -C`. zsh and fish are
skipped where they are not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pexpect
import pytest

from protoncli.cli.completion_shells import DEFAULT_WORDBREAKS, line_from_words, split_line

PCLI = Path(sys.executable).with_name("pcli")
STARTERS = Path(__file__).resolve().parents[2] / "blueprints"
# Typer's switch that makes both options take the shell as a value instead of detecting it.
NAMED_SHELL = {"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
TIMEOUT = 30
needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")


def pcli(*args, cwd=None, **env):
    return subprocess.run(
        [str(PCLI), *args],
        cwd=cwd,
        env=os.environ | env,
        capture_output=True,
        text=True,
        check=False,
    )


def shell_env(home: Path) -> dict[str, str]:
    """This environment with `pcli` first on PATH, pcli's home in `home`, no completion or AWS
    variables."""
    dropped = ("PCLI_", "_PCLI", "_TYPER", "AWS_", "COMP_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped) and k != "CI"}
    path = f"{PCLI.parent}{os.pathsep}{os.environ['PATH']}"
    return env | {"PCLI_HOME": str(home), "NO_COLOR": "1", "PATH": path, "LC_ALL": "C.UTF-8"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(workspace, pcli home, scripts folder): environments dev and prod, a registry with the
    starters and team-env 1.0 and 1.1, a file `pcli.yaml` in the workspace to tempt file
    completion, and each shell's script written by `pcli --show-completion`."""
    base = tmp_path_factory.mktemp("scripts")
    home = base / "home"
    env = shell_env(home)
    root = base / "ws"

    def setup(*args: str) -> None:
        proc = subprocess.run(
            [str(PCLI), *args], cwd=root, env=env, capture_output=True, text=True, check=False
        )
        assert proc.returncode == 0, proc.stderr

    root.mkdir()
    setup("init", str(root), "--name", "demo", "--region", "eu-west-1")
    bundle = base / "team-env"
    shutil.copytree(STARTERS / "vpc-ecs-env" / "v1", bundle)
    template = bundle / "infrastructure" / "cloudformation.yaml"
    for number in range(2):
        template.write_text(template.read_text() + f"# change {number}\n")
        setup("blueprint", "publish", str(bundle), "--name", "team-env")
    for name in ("dev", "prod"):
        setup("env", "create", name, "-b", "vpc-ecs-env", "--no-deploy")
    scripts = base / "scripts"
    scripts.mkdir()
    for shell in ("bash", "zsh", "fish"):
        shown = pcli("--show-completion", shell, **NAMED_SHELL)
        assert shown.returncode == 0, shown.stderr
        (scripts / shell).write_text(shown.stdout)
    return root, home, scripts


# --- the scripts pcli prints and installs ------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("bash", '_PCLI_COMPLETE=complete_bash "$1"'),
        ("zsh", "_PCLI_COMPLETE=complete_zsh pcli"),
        ("fish", "env _PCLI_COMPLETE=complete_fish _TYPER_COMPLETE_FISH_ACTION=get-args"),
    ],
)
def test_show_completion_prints_the_script_of_each_shell(shell, expected):
    result = pcli("--show-completion", shell, **NAMED_SHELL)

    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


def test_the_bash_script_sends_the_line_and_its_word_breaks_not_the_split_words():
    script = pcli("--show-completion", "bash", **NAMED_SHELL).stdout

    assert 'COMP_LINE="${COMP_LINE:0:COMP_POINT}"' in script
    assert 'COMP_WORDBREAKS="$COMP_WORDBREAKS"' in script
    assert "COMP_WORDS" not in script


@needs_bash
def test_show_completion_detects_the_shell_it_runs_in():
    result = subprocess.run(
        ["bash", "-c", f"{PCLI} --show-completion; exit $?"],  # two commands: bash stays the parent
        env=os.environ,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "complete -o nosort -F _pcli_completion pcli" in result.stdout


def test_install_completion_writes_the_script_and_sources_it_from_bashrc(tmp_path):
    result = pcli("--install-completion", "bash", HOME=str(tmp_path), **NAMED_SHELL)

    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions" / "pcli.sh"
    assert "_PCLI_COMPLETE=complete_bash" in script.read_text()
    assert "COMP_LINE" in script.read_text()
    assert f"source '{script}'" in (tmp_path / ".bashrc").read_text()


# --- bash, called as readline calls it ---------------------------------------------------------


def bash_words(line: str) -> list[str]:
    """COMP_WORDS as bash makes them: blanks separate words, and every run of other
    COMP_WORDBREAKS characters (`@`, `=`, `:`...) is a word of its own."""
    breaks = re.escape(DEFAULT_WORDBREAKS.strip())
    words = re.findall(rf"[^\s{breaks}]+|[{breaks}]+", line)
    return [*words, ""] if not line or line[-1].isspace() else words


def test_bash_words_are_split_at_at_and_equals_signs():
    assert bash_words("pcli blueprint show team-env@1.") == [
        *("pcli", "blueprint", "show", "team-env", "@", "1."),
    ]
    assert bash_words("pcli svc create -i web-dev=") == [
        *("pcli", "svc", "create", "-i", "web-dev", "="),
    ]
    assert bash_words("pcli env deploy ") == ["pcli", "env", "deploy", ""]


BASH_CALL = """
{script}
compopt() {{ printf 'compopt %s\\n' "$*" >&2; }}  # the builtin works only under readline
COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE={line}; COMP_POINT={point}
_pcli_completion pcli "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
complete -p pcli >&2
"""


def bash_complete(site, line: str, script: str | None = None) -> tuple[list[str], list[str]]:
    """(COMPREPLY, what else bash does) when the completion function runs for `line` + Tab:
    "files" when it completes file names instead (`-o default` with no reply), "nospace"
    when it adds no space after the reply."""
    root, home, scripts = site
    words = bash_words(line)
    session = BASH_CALL.format(
        script=script if script is not None else (scripts / "bash").read_text(),
        words=" ".join(_shell_quoted(word) for word in words),
        cword=len(words) - 1,
        line=_shell_quoted(line),
        point=len(line),
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", session],
        cwd=root,
        env=shell_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    replies = [reply for reply in result.stdout.splitlines() if reply]
    options = set()
    for call in result.stderr.splitlines():  # `complete -o default ...` and compopt calls
        for sign, option in re.findall(r"([-+])o (\w+)", call):
            if sign == "-":
                options.add(option)
            else:
                options.discard(option)
    files = "default" in options and not replies
    return replies, [*(["files"] if files else []), *(["nospace"] if "nospace" in options else [])]


def _shell_quoted(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


@needs_bash
def test_the_bash_script_completes_environment_names(site):
    assert bash_complete(site, "pcli env deploy ") == (["dev", "prod"], [])
    assert bash_complete(site, "pcli env deploy p") == (["prod"], [])


@needs_bash
def test_bash_completes_versions_after_name_at_as_the_text_after_the_break(site):
    # readline replaces `@1.` (it keeps an `@` in the text it completes): candidates start there
    assert bash_complete(site, "pcli blueprint show team-env@") == (["@1.1", "@1.0"], [])
    assert bash_complete(site, "pcli blueprint render team-env@1.0") == (["@1.0"], [])
    assert bash_complete(site, "pcli env create qa -b team-env@") == (["@1.1", "@1.0"], [])


@needs_bash
def test_bash_completes_the_environment_of_an_instance_after_the_equals_sign(site):
    assert bash_complete(site, "pcli svc create shop -i shop-dev=") == (["dev", "prod"], [])
    assert bash_complete(site, "pcli svc create shop --instance shop-dev=p") == (["prod"], [])
    assert bash_complete(site, "pcli svc create shop --instance=shop-dev=d") == (["dev"], [])


@needs_bash
def test_bash_never_offers_files_where_a_name_is_expected(site):
    # the workspace holds pcli.yaml: bash's file completion would offer it
    assert bash_complete(site, "pcli svc create shop -i shop-dev=zz") == ([], [])
    assert bash_complete(site, "pcli svc create shop -i pc") == ([], [])
    assert bash_complete(site, "pcli env deploy pc") == ([], [])
    assert bash_complete(site, "pcli env create qa -b vpc-ecs-env -p zz") == ([], [])


@needs_bash
def test_bash_offers_files_where_a_path_is_expected(site):
    assert bash_complete(site, "pcli blueprint render team-env --spec pc") == (
        [],
        ["files"],
    )
    assert bash_complete(site, "pcli blueprint lint ./") == ([], ["files"])


@needs_bash
def test_bash_completes_input_names_with_no_space_after_the_equals_sign(site):
    assert bash_complete(site, "pcli env create qa -b team-env -p log_") == (
        ["log_retention_days="],
        ["nospace"],
    )
    replies, _ = bash_complete(site, "pcli env create qa -b team-env -p log_retention_days=1")
    assert replies == ["1", "14", "180"]


@needs_bash
def test_a_script_written_by_an_older_pcli_gets_whole_words_rejoined(site):
    """Typer's script (`--install-completion` before this pcli) sends the words bash split."""
    from typer._completion_shared import COMPLETION_SCRIPT_BASH

    old = COMPLETION_SCRIPT_BASH % {
        "complete_func": "_pcli_completion",
        "autocomplete_var": "_PCLI_COMPLETE",
        "prog_name": "pcli",
    }

    assert bash_complete(site, "pcli blueprint show team-env@", old) == (["@1.1", "@1.0"], [])
    assert bash_complete(site, "pcli svc create shop -i shop-dev=", old) == (["dev", "prod"], [])


# --- bash in a terminal: Tab pressed, the line read back ----------------------------------------


PROMPT = "pcli-test> "


def tab_in_a_terminal(site, shell: list[str], setup: str, lines: list[str]) -> list[str]:
    """Each line as the shell shows it after typing it and pressing Tab once."""
    root, home, _scripts = site
    env = shell_env(home) | {"TERM": "dumb"}
    child = pexpect.spawn(shell[0], shell[1:], cwd=str(root), env=env, encoding="utf-8")
    child.timeout = TIMEOUT
    try:
        # the prompt, quoted so that the command echoed back does not show it
        child.sendline(f"{setup}; PS1='pcli''-test> '")
        after = []
        for line in lines:
            child.expect_exact(PROMPT)  # the line editor reads keys: type only now
            # Tab, then Ctrl-A and `echo `: the shell prints the line Tab left
            child.send(f"{line}\t\x01echo \r")
            child.expect(r"\r\n(pcli [^\r\n]*?) *\r\n")
            after.append(child.match.group(1))
        return after
    finally:
        child.close(force=True)


@needs_bash
def test_tab_in_bash_completes_name_at_version_and_instance_equals_environment(site):
    _root, _home, scripts = site
    lines = [
        "pcli blueprint show team-env@1.",
        "pcli env create qa -b team-env@",
        "pcli svc create shop -i shop-dev=p",
        "pcli svc create shop -i shop-dev=pc",
        "pcli env create qa -b team-env -p log_retention_days=36",
        "pcli blueprint render team-env --spec pcli.y",
    ]

    after = tab_in_a_terminal(
        site, ["bash", "--norc", "--noprofile", "-i"], f"source {scripts / 'bash'}", lines
    )

    assert after == [
        "pcli blueprint show team-env@1.",  # 1.1 and 1.0: nothing common to add
        "pcli env create qa -b team-env@1.",
        "pcli svc create shop -i shop-dev=prod",
        "pcli svc create shop -i shop-dev=pc",  # no environment starts so: not pcli.yaml
        "pcli env create qa -b team-env -p log_retention_days=365",
        "pcli blueprint render team-env --spec pcli.yaml",
    ]


# --- zsh and fish ------------------------------------------------------------------------------


@needs_zsh
def test_tab_in_zsh_completes_name_at_version_and_instance_equals_environment(site):
    _root, _home, scripts = site
    setup = f"autoload -Uz compinit; compinit -u; source {scripts / 'zsh'}"
    lines = [
        "pcli blueprint show team-env@1.0",
        "pcli svc create shop -i shop-dev=p",
        "pcli svc create shop -i pc",
        "pcli env create qa -b team-env -p log_ret",
        "pcli blueprint render team-env --spec pcli.y",
    ]

    after = tab_in_a_terminal(site, ["zsh", "-f", "-i"], setup, lines)

    assert after == [
        "pcli blueprint show team-env@1.0",
        "pcli svc create shop -i shop-dev=prod",
        "pcli svc create shop -i pc",  # an instance name is new: nothing, not pcli.yaml
        "pcli env create qa -b team-env -p log_retention_days=",
        "pcli blueprint render team-env --spec pcli.yaml",
    ]


def fish_complete(site, line: str) -> list[str]:
    """What fish offers for `line` (`complete -C`: fish's own completion, pcli's script loaded)."""
    root, home, scripts = site
    result = subprocess.run(
        [
            "fish",
            "--no-config",
            "-c",
            f"source {scripts / 'fish'}; complete -C {_shell_quoted(line)}",
        ],
        cwd=root,
        env=shell_env(home),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [candidate.split("\t")[0] for candidate in result.stdout.splitlines()]


@needs_fish
def test_fish_completes_name_at_version_and_instance_equals_environment(site):
    assert fish_complete(site, "pcli blueprint show team-env@") == [  # fish sorts them
        "team-env@1.0",
        "team-env@1.1",
    ]
    assert fish_complete(site, "pcli svc create shop -i shop-dev=") == [
        "shop-dev=dev",
        "shop-dev=prod",
    ]


@needs_fish
def test_fish_offers_files_only_where_a_path_is_expected(site):
    assert fish_complete(site, "pcli svc create shop -i pc") == []
    assert fish_complete(site, "pcli svc create shop -i shop-dev=pc") == []
    assert fish_complete(site, "pcli blueprint render team-env --spec pcli.y") == ["pcli.yaml"]


# --- the line, cut as bash cuts it --------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "words", "current", "replaced"),
    [
        ("pcli env deploy ", ["pcli", "env", "deploy"], "", ""),
        ("pcli blueprint show team-env@1.", ["pcli", "blueprint", "show"], "team-env@1.", "@1."),
        ("pcli svc create -i web-dev=p", ["pcli", "svc", "create", "-i"], "web-dev=p", "p"),
        (
            "pcli svc create --instance=web-dev=",
            ["pcli", "svc", "create"],
            "--instance=web-dev=",
            "",
        ),
        (
            'pcli blueprint show "team-env@1.',
            ["pcli", "blueprint", "show"],
            "team-env@1.",
            "team-env@1.",
        ),
        (
            "pcli blueprint show team-env\\@1",
            ["pcli", "blueprint", "show"],
            "team-env@1",
            "team-env@1",
        ),
        ("pcli 'a b'@c", ["pcli"], "a b@c", "@c"),
        ("pcli x='a b", ["pcli"], "x=a b", "a b"),
    ],
)
def test_the_line_is_split_as_bash_reads_it(line, words, current, replaced):
    split = split_line(line)

    assert (split.words, split.current, split.current[split.kept :]) == (words, current, replaced)


def test_the_words_of_an_older_script_are_joined_where_bash_split_them():
    assert line_from_words("pcli\nblueprint\nshow\nteam-env\n@\n1.", 5) == (
        "pcli blueprint show team-env@1."
    )
    assert line_from_words("pcli\nsvc\ncreate\n-i\nweb-dev\n=", 5) == "pcli svc create -i web-dev="
    assert line_from_words("pcli env deploy ", 3) == "pcli env deploy "
