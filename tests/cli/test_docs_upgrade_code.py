"""docs/how-to/upgrade-code.md runs as written: every `$ pcli ...` line of its console blocks, in
the workspace folder, in order, with the changes its text describes made in between; the output
it shows is the output pcli prints (lines compared without trailing spaces), and the conflict it
shows is what the Dockerfile holds. The examples of the command's help run as well.

A console block right after an `<!-- excerpt -->` line is not run (there is none today)."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "how-to" / "upgrade-code.md"
BLOCK = re.compile(r"(?P<excerpt><!-- excerpt -->\n)?```(?P<kind>\w+)\n(?P<body>.*?)```", re.DOTALL)


def step_runner(pcli, steps: list[tuple[str, str]]):
    """`run(step, exit_code=0)`: run a page's step as written; its shown output must match."""

    def run(step: int, exit_code: int = 0) -> None:
        command, shown = steps[step]
        result = pcli(*shlex.split(command)[1:])
        assert result.exit_code == exit_code, result.output
        if shown.strip():
            assert normalized(result.output) == normalized(shown), command

    return run


def console_commands(page: str) -> list[tuple[str, str]]:
    """(command, the output shown under it) for each `$ ` line of the console blocks."""
    found: list[tuple[str, str]] = []
    for block in BLOCK.finditer(page):
        if block["kind"] != "console" or block["excerpt"]:
            continue
        for chunk in re.split(r"^\$ ", block["body"], flags=re.MULTILINE)[1:]:
            command, _, shown = chunk.partition("\n")
            found.append((command, shown))
    return found


def text_blocks(page: str) -> list[str]:
    return [b["body"] for b in BLOCK.finditer(page) if b["kind"] == "text"]


def normalized(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_the_upgrade_code_how_to_runs_as_written(pcli, cli, tmp_path, starters_dir, monkeypatch):
    page = PAGE.read_text(encoding="utf-8")
    steps = console_commands(page)
    assert [command for command, _ in steps] == [
        "pcli env create dev -b vpc-ecs-env --no-deploy",
        "pcli svc create web -b fargate-web-svc -i web-dev=dev --scaffold web-src --no-deploy",
        "pcli svc upgrade-code web-src --dry-run",
        "pcli svc upgrade-code web-src",
        "pcli svc upgrade-code web-src --conflicts markers",
    ]
    workspace = cli.workspace
    monkeypatch.chdir(workspace)

    run = step_runner(pcli, steps)

    run(0)
    run(1)
    # What the page says happened next: your two changes, 1.1 published, the spec moved to it.
    code = workspace / "web-src"
    replace_in(code / "app" / "web.py", '"QueueName")', '"QueueName", "TopicArn")')
    replace_in(code / "Dockerfile", '"app/web.py"]', '"app/web.py", "--debug"]')
    bundle = tmp_path / "fargate-web-svc-1.1"
    shutil.copytree(starters_dir / "fargate-web-svc" / "v1", bundle)
    replace_in(bundle / "skeleton" / "Dockerfile", 'CMD ["python",', 'CMD ["python", "-u",')
    replace_in(bundle / "skeleton" / "app" / "{{ service.name }}.py", "a small", "a tiny")
    (bundle / "skeleton" / "README.md").write_text("# {{ service.name }}\n")
    assert pcli("blueprint", "publish", str(bundle), "--name", "fargate-web-svc").exit_code == 0
    replace_in(workspace / "services" / "web.yaml", 'version: "1.0"', 'version: "1.1"')

    run(2)
    run(3, exit_code=1)
    run(4)

    (conflict,) = [text for text in text_blocks(page) if "<<<<<<<" in text]
    assert conflict in (code / "Dockerfile").read_text()

    # The examples of `pcli svc upgrade-code --help` (and so of docs/reference/cli.md) run too.
    examples = help_examples("pcli svc upgrade-code")
    assert examples == [
        "pcli svc upgrade-code web-src --dry-run",
        "pcli svc upgrade-code web-src --to 1.1 --conflicts markers --json",
    ]
    for example in examples:
        result = pcli(*shlex.split(example)[1:])
        assert result.exit_code == 0, result.output


def help_examples(path: str) -> list[str]:
    from protoncli.cli.app import app
    from protoncli.cli.reference import examples_of, walk

    (command,) = [command for command, ctx in walk(app) if ctx.command_path == path]
    return examples_of(command)
