"""Every command in README.md and docs/ runs as written, or is marked as an excerpt.

The rule is the one docs/index.md states ("Commands in these pages"). For each page (README.md
and every docs/**/*.md but docs/reference/cli.md, generated from --help) the fenced shell blocks
(```bash, ```sh, ```shell, ```console) and the hidden `<!-- test: ... -->` steps run in order,
as written, in one bash shell (`set -e -o pipefail`: cd and exports carry over):

- in a scratch folder holding copies of the repository's `blueprints/` and `examples/`, as in a
  clone of it, with a fresh HOME and PCLI_HOME, `pcli` on PATH (this venv's), stdin not a
  terminal, a git identity, and AWS on the test run's moto server (AWS_ENDPOINT_URL, reset for
  each page). A page that runs `pcli sandbox start` uses that sandbox instead (stopped afterwards,
  whatever happened) and runs in the background while the other pages run;
- a bash block fails at its first failing command. A console block's `$ ` commands must exit 0,
  unless the output shown under one has an `Error:` line or the next command is `echo $?`; the
  output shown under a command must be what it prints (stdout and stderr together, trailing
  spaces ignored; a `...` line stands for any lines, `...` within a line for any text);
- `<!-- file: PATH -->` on the line before a fence writes the block to PATH (the text asks the
  reader to save it); `<!-- excerpt: REASON -->` there leaves the block out;
- the examples of a command's --help that a page is about run after it (HELP_EXAMPLES_AFTER).

A failure names the page, the line of the command and of its block, and the output. A second test
checks that nothing escapes: every marker has its reason, every console block has a command, no
command hides in a ```text or unlabeled block, and no block is in a shell the harness does not
run. These tests replace tests/cli/test_docs_upgrade.py and test_docs_upgrade_code.py: the two
upgrade how-tos now run here, with their outputs, exit codes and the help examples they checked.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
GENERATED = {"docs/reference/cli.md"}  # written from --help; its examples run with their commands
RUN = {"bash", "sh", "shell", "console"}
NOT_RUN_SHELLS = {"zsh", "fish", "powershell", "ps1", "bat", "cmd", "shell-session", "sh-session"}
PROMPTED = re.compile(r"\s*(\$ |pcli\s)")  # a command line, wherever it is written
# The examples of these commands' help (docs/reference/cli.md) run after the page, in its state.
HELP_EXAMPLES_AFTER = {
    "docs/how-to/upgrade.md": "pcli upgrade",
    "docs/how-to/upgrade-code.md": "pcli svc upgrade-code",
}
CLONE = ("blueprints", "examples")  # the folders of the repository a page may start from
TOOLS = ("git", "jq", "aws")  # outside tools the pages use; a page needing a missing one is skipped
PAGE_TIMEOUT = 300
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing answers

MARKER = re.compile(r"\s*<!--\s*(excerpt|file)\b(.*?)-->\s*$")
HIDDEN = re.compile(r"\s*<!--\s*test\b(.*)$")
# A backtick fence's info string holds no backtick (CommonMark): "```` ```sh ````" is inline code.
FENCE = re.compile(
    r"(?P<indent>\s*)(?:(?P<ticks>`{3,})(?=[^`]*$)|(?P<tildes>~{3,}))\s*(?P<lang>\S*)"
)

# moto has no CloudFormation model for AWS::CodeBuild::Project (the starter's pipeline): the
# server in this process warns while pages deploy services.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning"
)


def all_pages() -> list[str]:
    found = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
    names = [path.relative_to(REPO).as_posix() for path in found]
    return [name for name in names if name not in GENERATED]


# ---------------------------------------------------------------------------------------------
# Reading a page


@dataclass(frozen=True)
class Fence:
    line: int  # of the opening fence, from 1
    lang: str
    body: tuple[str, ...]
    excerpt: str | None = None  # the reason, when marked
    file: str | None = None  # where to write it, when marked


@dataclass(frozen=True)
class Hidden:
    line: int  # of `<!-- test: ...`
    what: str
    body: tuple[str, ...]


@dataclass
class Page:
    name: str
    items: list[Fence | Hidden] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def runs(self) -> list[Fence | Hidden]:
        return [item for item in self.items if runs(item)]


def runs(item: Fence | Hidden) -> bool:
    if isinstance(item, Hidden):
        return True
    return item.excerpt is None and (item.file is not None or item.lang in RUN)


def read_page(name: str) -> Page:
    page = Page(name)
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    marked: tuple[str, str] | None = None
    index = 0
    while index < len(lines):
        line, where = lines[index], f"{name}:{index + 1}"
        if hidden := HIDDEN.match(line):
            index = read_hidden(page, lines, index, hidden[1])
            continue
        if marker := MARKER.match(line):
            kind, rest = marker[1], marker[2].strip()
            value = rest[1:].strip() if rest.startswith(":") else ""
            if not value:
                wanted = "a reason" if kind == "excerpt" else "a path"
                page.problems.append(f"{where}: <!-- {kind}: ... --> needs {wanted}")
            if index + 1 >= len(lines) or not FENCE.match(lines[index + 1]):
                page.problems.append(f"{where}: <!-- {kind}: --> goes on the line before a fence")
            marked = (kind, value)
            index += 1
            continue
        if fence := FENCE.match(line):
            mark = fence["ticks"] or fence["tildes"]
            close = re.compile(rf"\s*{re.escape(mark[0])}{{{len(mark)},}}\s*$")
            end = next((k for k in range(index + 1, len(lines)) if close.match(lines[k])), None)
            if end is None:
                page.problems.append(f"{where}: the fence is never closed")
                end = len(lines)
            width = len(fence["indent"])
            body = tuple(
                text[min(width, len(text) - len(text.lstrip())) :]
                for text in lines[index + 1 : end]
            )
            kind, value = marked or ("", "")
            page.items.append(
                Fence(
                    index + 1,
                    fence["lang"].lower(),
                    body,
                    excerpt=(value or "?") if kind == "excerpt" else None,
                    file=(value or None) if kind == "file" else None,
                )
            )
            marked = None
            index = end + 1
            continue
        index += 1
    return page


def read_hidden(page: Page, lines: list[str], index: int, rest: str) -> int:
    """A `<!-- test: WHAT` line, the commands, a `-->` line; returns the index after it."""
    where = f"{page.name}:{index + 1}"
    what = rest.strip()[1:].strip() if rest.strip().startswith(":") else ""
    if not what or what.endswith("-->"):
        page.problems.append(f"{where}: write <!-- test: WHAT, then the commands, then -->")
    end = next((k for k in range(index + 1, len(lines)) if lines[k].strip() == "-->"), None)
    if end is None:
        page.problems.append(f"{where}: <!-- test: is never closed by a --> line")
        return len(lines)
    page.items.append(Hidden(index + 1, what, tuple(lines[index + 1 : end])))
    return end + 1


def escapes(page: Page) -> list[str]:
    """Blocks that would neither run nor say why."""
    problems = list(page.problems)
    for item in page.items:
        if not isinstance(item, Fence) or item.excerpt is not None or item.file is not None:
            continue
        where = f"{page.name}:{item.line}"
        if item.lang in NOT_RUN_SHELLS:
            problems.append(f"{where}: a ```{item.lang} block is never run: make it ```bash")
        elif item.lang == "console" and not console_commands(item):
            problems.append(f"{where}: a console block without a `$ ` command")
        elif item.lang not in RUN and PROMPTED.match(next(iter(item.body), "")):
            problems.append(f"{where}: commands in a ```{item.lang or '(no language)'} block")
    return problems


# ---------------------------------------------------------------------------------------------
# Console blocks


@dataclass(frozen=True)
class Command:
    line: int  # of its `$ ` line
    text: str  # continuation lines joined with their newlines
    shown: tuple[str, ...]  # the output written under it
    may_fail: bool


def console_commands(block: Fence) -> list[Command]:
    starts = [k for k, text in enumerate(block.body) if text.startswith("$ ")]
    found: list[tuple[int, list[str], list[str]]] = []
    for position, start in enumerate(starts):
        stop = starts[position + 1] if position + 1 < len(starts) else len(block.body)
        command = [block.body[start][2:]]
        k = start + 1
        while command[-1].endswith("\\") and k < stop:
            command.append(block.body[k])
            k += 1
        found.append((block.line + 1 + start, command, list(block.body[k:stop])))
    commands = []
    for position, (line, command, shown) in enumerate(found):
        following = found[position + 1][1][0].strip() if position + 1 < len(found) else ""
        errors = any(text.startswith("Error:") for text in shown)
        may_fail = errors or following == "echo $?"
        commands.append(Command(line, "\n".join(command), tuple(shown), may_fail))
    return commands


def normalized(lines: list[str] | tuple[str, ...]) -> list[str]:
    return "\n".join(line.rstrip() for line in lines).strip("\n").split("\n")


def output_matches(shown: list[str], actual: list[str]) -> bool:
    """doctest's ELLIPSIS by lines: a `...` line is any lines (or none), in a line any text."""
    patterns = [
        None if line.strip() == "..." else re.compile(".*?".join(map(re.escape, line.split("..."))))
        for line in shown
    ]
    reachable = {0}  # positions in `actual` the patterns so far can end at
    for pattern in patterns:
        if pattern is None:
            reachable = set(range(min(reachable), len(actual) + 1)) if reachable else set()
        else:
            reachable = {
                j + 1 for j in reachable if j < len(actual) and pattern.fullmatch(actual[j])
            }
    return len(actual) in reachable


# ---------------------------------------------------------------------------------------------
# One bash script per page

PRELUDE = """\
set -eE -o pipefail
__docs_fail() {
  [ -e "$DOCS_STATE/failed" ] || printf '%s %s %s\\n' "$1" "$2" "${3:-}" >"$DOCS_STATE/failed"
  exit 97
}
trap '__docs_fail $? $LINENO' ERR
__docs_status() { return "$1"; }
__docs_check() {  # script line, exit code, ok|fail
  if [ "$2" != 0 ] && [ "$3" = ok ]; then __docs_fail "$2" "$1" "exit $2"; fi
  if [ "$2" = 0 ] && [ "$3" = fail ]; then
    __docs_fail 0 "$1" "exit 0, but the page shows it failing"
  fi
  return 0
}
__docs_rc=0
"""


@dataclass
class Script:
    page: str
    lines: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)  # per script line: page:line (block at ...)
    commands: dict[int, Command] = field(default_factory=dict)  # by script line

    def add(self, text: str, where: str) -> None:
        for line in text.split("\n"):
            self.lines.append(line)
            self.where.append(where)

    def header(self, label: str) -> None:
        self.add(f"printf '\\n==> %s\\n' {quote(label)}", label)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def build_script(page: Page) -> Script:
    script = Script(page.name)
    script.add(PRELUDE, f"{page.name}: the harness's prelude")
    for item in page.runs:
        block = f"{page.name}:{item.line}"
        if isinstance(item, Hidden):
            script.header(f"{block} (hidden: {item.what})")
            add_lines(script, page.name, item, "hidden step")
        elif item.file is not None:
            script.header(f"{block} (written to {item.file})")
            body = "\n".join([*item.body, "__DOCS_EOF__"])
            path = quote(item.file)
            write = f"mkdir -p \"$(dirname {path})\"\ncat >{path} <<'__DOCS_EOF__'\n{body}"
            script.add(write, f"{block} (written to {item.file})")
        elif item.lang == "console":
            script.header(block)
            for command in console_commands(item):
                where = f"{page.name}:{command.line} (block at line {item.line})"
                add_command(script, command, where)
        else:
            script.header(block)
            add_lines(script, page.name, item, "block")
    if page.name in HELP_EXAMPLES_AFTER:
        path = HELP_EXAMPLES_AFTER[page.name]
        label = f"the examples of `{path} --help` (docs/reference/cli.md), after {page.name}"
        script.header(label)
        for example in help_examples(path):
            script.add(example, label)
    return script


def add_lines(script: Script, page: str, item: Fence | Hidden, kind: str) -> None:
    for offset, text in enumerate(item.body, start=1):
        script.add(text, f"{page}:{item.line + offset} ({kind} at line {item.line})")


def add_command(script: Script, command: Command, where: str) -> None:
    first = len(script.lines) + 2
    out = f'"$DOCS_STATE/out/{first}"'
    script.add('{ __docs_status "$__docs_rc"', where)
    script.add(command.text, where)
    script.add(f"}} >{out} 2>&1 && __docs_rc=0 || __docs_rc=$?", where)
    script.add(f"cat {out}", where)
    script.add(f'__docs_check {first} "$__docs_rc" {"fail" if command.may_fail else "ok"}', where)
    script.commands[first] = command


def help_examples(path: str) -> list[str]:
    from protoncli.cli.app import app
    from protoncli.cli.reference import examples_of, walk

    (command,) = [command for command, ctx in walk(app) if ctx.command_path == path]
    return examples_of(command)


# ---------------------------------------------------------------------------------------------
# Running a page


def base_env() -> dict[str, str]:
    """This process's variables but the ones that would change what a page does."""
    left_out = ("AWS_", "PCLI_", "GIT_", "XDG_", "PYTEST_", "VIRTUAL_ENV")
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(left_out) and key not in {"CI", "FORCE_COLOR", "TERM_PROGRAM"}
    }


def page_env(tmp_path: Path, endpoint: str, base: dict[str, str]) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    venv_bin = Path(sys.executable).parent
    env = dict(base)
    env.update(
        HOME=str(home),
        PCLI_HOME=str(tmp_path / "pcli-home"),
        NO_COLOR="1",
        COLUMNS="100",  # the width the pages' tables were written at
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's dummy credentials
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        PATH=f"{venv_bin}{os.pathsep}{base.get('PATH', '')}",
        PYTHONUNBUFFERED="1",  # stdout and stderr reach the shared output in the order written
        GIT_AUTHOR_NAME="Docs Test",
        GIT_AUTHOR_EMAIL="docs@example.com",
        GIT_COMMITTER_NAME="Docs Test",
        GIT_COMMITTER_EMAIL="docs@example.com",
        GIT_CONFIG_NOSYSTEM="1",
        DOCS_STATE=str(tmp_path / "state"),
        DOCS_CLONE=str(tmp_path / "clone"),
    )
    return env


@dataclass(frozen=True)
class Outcome:
    output: str
    failed: tuple[int, int, str] | None  # exit code, script line, why


def run_script(script: Script, tmp_path: Path, env: dict[str, str]) -> Outcome:
    clone, state = tmp_path / "clone", tmp_path / "state"
    clone.mkdir()
    for folder in CLONE:
        if (REPO / folder).is_dir():
            shutil.copytree(REPO / folder, clone / folder)
    (state / "out").mkdir(parents=True)
    (state / "page.sh").write_text(script.text(), encoding="utf-8")
    bash = shutil.which("bash") or "/bin/bash"
    with subprocess.Popen(
        [bash, "--noprofile", "--norc", str(state / "page.sh")],
        cwd=clone,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: a timeout ends all it started
    ) as process:
        try:
            output, _ = process.communicate(timeout=PAGE_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            output += f"\n(the page did not finish in {PAGE_TIMEOUT} s)\n".encode()
            (state / "failed").write_text(f"124 {len(script.lines)} timed out\n")
        finally:
            if "sandbox start" in script.text():
                stop_sandbox(env, clone)
    failed = None
    if (state / "failed").exists():
        code, line, *why = (state / "failed").read_text().split(maxsplit=2)
        failed = (int(code), int(line), " ".join(why).strip())
    elif process.returncode != 0:
        failed = (process.returncode, len(script.lines), "the shell ended")
    return Outcome(output.decode("utf-8", errors="replace"), failed)


def stop_sandbox(env: dict[str, str], cwd: Path) -> None:
    """Stop the sandbox a page started, whether the page failed or not; should `pcli sandbox
    stop` fail too, end the server its state file names (checking it is that server)."""
    stop = [str(Path(sys.executable).parent / "pcli"), "sandbox", "stop"]
    subprocess.run(stop, env=env, cwd=cwd, capture_output=True, timeout=60, check=False)
    record = Path(env["PCLI_HOME"]) / "state" / "sandbox.json"
    if not record.exists():
        return
    pid = int(json.loads(record.read_text())["pid"])
    command = Path(f"/proc/{pid}/cmdline")
    if command.exists() and b"protoncli.sandbox.server" in command.read_bytes():
        os.kill(pid, signal.SIGTERM)


def first_problem(script: Script, outcome: Outcome, state: Path) -> str | None:
    """The first thing, in page order, that did not go as the page says."""
    problems: list[tuple[int, str]] = []
    for line, command in script.commands.items():
        printed = state / "out" / str(line)
        if not command.shown or not printed.exists():
            continue
        shown = normalized(command.shown)
        actual = normalized(printed.read_text(errors="replace").splitlines())
        if not output_matches(shown, actual):
            diff = "\n".join(difflib.unified_diff(shown, actual, "shown", "printed", lineterm=""))
            problems.append((line, f"$ {command.text}\nprints other output than shown:\n{diff}"))
    if outcome.failed is not None:
        code, line, why = outcome.failed
        command = script.commands.get(line)
        if command is not None:
            printed = (state / "out" / str(line)).read_text(errors="replace")
            problems.append((line, f"$ {command.text}\n{why}; it printed:\n{printed}"))
        else:
            text = script.lines[line - 1] if 0 < line <= len(script.lines) else ""
            failed_at = f"{text}\nfailed ({why or f'exit {code}'}); the block printed:\n"
            problems.append((line, failed_at + block_output(outcome.output)))
    if not problems:
        return None
    line, message = min(problems)
    return f"{script.where[line - 1]}: {message}"


def block_output(output: str) -> str:
    """What the page printed since its last block began."""
    return output[output.rfind("\n==> ") + 1 :] if "\n==> " in output else output


def missing_tools(page: Page) -> list[str]:
    text = "\n".join("\n".join(item.body) for item in page.runs)
    used = [tool for tool in TOOLS if re.search(rf"(^|[\s|;&(]){tool}\s", text, re.MULTILINE)]
    return [tool for tool in used if shutil.which(tool) is None]


# ---------------------------------------------------------------------------------------------
# The tests


def run_page(page: Page, tmp_path: Path, env: dict[str, str]) -> str | None:
    script = build_script(page)
    outcome = run_script(script, tmp_path, env)
    return first_problem(script, outcome, tmp_path / "state")


def starts_sandbox(page: Page) -> bool:
    return any("pcli sandbox start" in "\n".join(item.body) for item in page.runs)


def pages_with_commands() -> list[str]:
    """The pages with something to run, those with a sandbox of their own last (they run in the
    background meanwhile); test_every_block_runs_or_says_why_not reads every page."""
    pages = [read_page(name) for name in all_pages()]
    return [page.name for page in sorted(pages, key=starts_sandbox) if page.runs]


@pytest.fixture(scope="session")
def sandbox_pages(request, tmp_path_factory) -> Iterator[dict[str, Future[str | None]]]:
    """The selected pages that start a sandbox of their own need no moto server: from the first
    page test on they run in the background, one at a time, each in a folder of its own, while
    the other pages run in the foreground. An AWS call that does not go to their sandbox fails
    (nothing answers at the endpoint they are given)."""
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_the_page_runs_as_written"
    ]
    pages = [read_page(name) for name in selected]
    base = base_env()
    with ThreadPoolExecutor(max_workers=1) as pool:
        futures = {}
        for page in pages:
            if starts_sandbox(page) and not missing_tools(page):
                folder = tmp_path_factory.mktemp("page")
                env = page_env(folder, NOWHERE, base)
                futures[page.name] = pool.submit(run_page, page, folder, env)
        yield futures
        pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("name", pages_with_commands())
def test_the_page_runs_as_written(name, request, tmp_path, sandbox_pages):
    page = read_page(name)
    if missing := missing_tools(page):
        pytest.skip(f"needs {', '.join(missing)} on PATH")
    if name in sandbox_pages:
        problem = sandbox_pages[name].result(timeout=2 * PAGE_TIMEOUT)
    else:
        moto_url = request.getfixturevalue("moto_url")
        problem = run_page(page, tmp_path, page_env(tmp_path, moto_url, base_env()))
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def test_every_block_runs_or_says_why_not():
    problems = [problem for name in all_pages() for problem in escapes(read_page(name))]
    assert problems == []


def test_the_harness_reads_markers_and_console_blocks(tmp_path, monkeypatch):
    page = tmp_path / "page.md"
    page.write_text(
        "<!-- excerpt: needs a browser -->\n```bash\nopen https://example.com\n```\n"
        "<!-- excerpt -->\n```bash\nfalse\n```\n"
        "<!-- file: a/b.yaml -->\n```yaml\nx: 1\n```\n"
        "<!-- test: make a file\ntouch made\n-->\n"
        "```console\n$ cat a/b.yaml \\\n    made\nx: 1\n$ false\nError: no\n$ echo $?\n1\n```\n"
        "```text\n$ pcli status\n```\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "REPO", tmp_path)
    read = read_page("page.md")
    assert [type(item).__name__ for item in read.items] == [
        "Fence", "Fence", "Fence", "Hidden", "Fence", "Fence",
    ]  # fmt: skip
    assert read.items[0].excerpt == "needs a browser"
    assert read.items[2].file == "a/b.yaml"
    assert escapes(read) == [
        "page.md:5: <!-- excerpt: ... --> needs a reason",
        "page.md:25: commands in a ```text block",
    ]
    (first, second, third) = console_commands(read.items[4])
    assert (first.line, first.text, first.shown, first.may_fail) == (
        17, "cat a/b.yaml \\\n    made", ("x: 1",), False,
    )  # fmt: skip
    assert second.may_fail
    assert not third.may_fail
    assert output_matches(["a", "...", "c ... e"], ["a", "x", "y", "c d e"])
    assert output_matches(["...", "b"], ["b"])
    assert not output_matches(["a", "b"], ["a", "b", "c"])


def test_a_failure_names_the_page_the_block_the_command_and_its_output(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "page.md").write_text(
        "```bash\necho one\nfalse\necho never\n```\n```console\n$ echo two\ntwo\n```\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sys.modules[__name__], "REPO", repo)
    script = build_script(read_page("page.md"))
    outcome = run_script(script, tmp_path, page_env(tmp_path, NOWHERE, base_env()))
    problem = first_problem(script, outcome, tmp_path / "state")
    assert problem == (
        "page.md:3 (block at line 1): false\n"
        "failed (exit 1); the block printed:\n==> page.md:1\none\n"
    )
