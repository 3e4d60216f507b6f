"""Start-up speed: `pcli --help`, a completion request and `pcli --version` next to the floor.

The floor is a bare Typer app's `--help` (a group with two commands, written to a temporary
file and run with the same interpreter): what any Typer CLI pays to start. Each command runs as
a fresh process, as a shell runs it (`.venv/bin/pcli`, the console script); the completion
request is the one bash makes for `pcli env deploy <TAB>`, in a temporary workspace with two
environments so it reads real spec files. Prints the median and minimum wall time of N runs
(after warm-up runs) and each median's ratio to the floor's.

Budget (DESIGN.md): within 1.3x of the bare Typer app's --help.

Usage: .venv/bin/python benchmarks/startup.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PCLI = Path(sys.executable).with_name("pcli")
BUDGET = 1.3
WARM_UP = 3
BARE_APP = '''
import typer

app = typer.Typer(help="A bare Typer app: the floor of a Typer CLI's start-up.")


@app.command()
def hello(name: str = typer.Argument(..., help="Who to greet.")) -> None:
    """Say hello."""
    print(f"hello {name}")


@app.command()
def bye(loud: bool = typer.Option(False, "--loud", help="Shout.")) -> None:
    """Say goodbye."""
    print("BYE" if loud else "bye")


if __name__ == "__main__":
    app()
'''


@dataclass(frozen=True)
class Case:
    label: str
    argv: list[str]
    env: dict[str, str]


@dataclass(frozen=True)
class Timing:
    label: str
    median_ms: float
    min_ms: float


def make_workspace(root: Path) -> Path:
    """A workspace with two environments, so completion has spec files to read."""
    workspace = root / "ws"
    (workspace / "environments").mkdir(parents=True)
    (workspace / "pcli.yaml").write_text("name: bench\nregion: us-east-1\n", encoding="utf-8")
    for name in ("dev", "prod"):
        spec = 'blueprint: vpc-ecs-env\nversion: "1.0"\nproton: EnvironmentSpec\nspec: {}\n'
        (workspace / "environments" / f"{name}.yaml").write_text(spec, encoding="utf-8")
    return workspace


def cases(root: Path) -> list[Case]:
    bare = root / "bare_typer_app.py"
    bare.write_text(BARE_APP, encoding="utf-8")
    home = {"PCLI_HOME": str(root / "home")}
    complete = {
        **home,
        "_PCLI_COMPLETE": "complete_bash",
        "COMP_WORDS": "pcli env deploy ",
        "COMP_CWORD": "3",
    }
    return [
        Case("bare Typer app --help (floor)", [sys.executable, str(bare), "--help"], {}),
        Case("pcli --help", [str(PCLI), "--help"], home),
        Case("pcli env deploy <TAB>", [str(PCLI)], complete),
        Case("pcli --version", [str(PCLI), "--version"], home),
    ]


def run_once(case: Case, cwd: Path) -> float:
    env = {**os.environ, **case.env}
    start = time.perf_counter()
    proc = subprocess.run(case.argv, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"{case.label} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed


def measure(all_cases: list[Case], cwd: Path, repeat: int) -> list[Timing]:
    """Interleave the cases run by run, so a slower moment of the machine hits them all."""
    samples: dict[str, list[float]] = {case.label: [] for case in all_cases}
    for round_ in range(WARM_UP + repeat):
        for case in all_cases:
            elapsed = run_once(case, cwd)
            if round_ >= WARM_UP:
                samples[case.label].append(elapsed)
    return [Timing(label, statistics.median(s), min(s)) for label, s in samples.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21, help="measured runs per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pcli-startup-") as folder:
        root = Path(folder)
        workspace = make_workspace(root)
        timings = measure(cases(root), workspace, args.repeat)
    floor = timings[0].median_ms
    print(f"{'command':<32}  {'median ms':>9}  {'min ms':>7}  {'ratio':>6}")
    for timing in timings:
        ratio = timing.median_ms / floor
        print(
            f"{timing.label:<32}  {timing.median_ms:>9.1f}  {timing.min_ms:>7.1f}  {ratio:>5.2f}x"
        )
    worst = max(t.median_ms / floor for t in timings[1:])
    verdict = "within" if worst <= BUDGET else "OVER"
    print(
        f"Budget (DESIGN.md): pcli within {BUDGET}x of the floor: {verdict} (worst {worst:.2f}x)."
    )
    print(f"Medians of {args.repeat} runs after {WARM_UP} warm-up rounds; {sys.executable}.")


if __name__ == "__main__":
    main()
