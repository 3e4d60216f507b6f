"""Live view: `pcli svc deploy` of 50 instances in a terminal (the live view) next to a pipe.

One run starts its own sandbox server (benchmarks/fleet.py's: the sandbox's server code in a
process of its own on a free port, with PCLI_HOME in a temporary folder, so the user's sandbox
is never touched). It builds a workspace (`pcli init`), a tiny environment blueprint (one
AWS::SNS::Topic) and a service blueprint of three resources per instance (two AWS::SQS::Queue,
an AWS::SNS::Topic; no pipeline), both published at 1.0; M environments (default 5), deployed,
and one service whose N instances (default 50) go round the environments.

Each run writes the service's spec with a new value of one input for every instance, then runs
`pcli svc deploy api --yes`, which updates the N stacks (a change set each, shown, executed and
followed) as a subprocess, in one of two ways:

- **terminal**: in a pseudo-terminal of 80 x 24 (`--columns`, `--rows`), stdin, stdout and
  stderr on it, TERM=xterm-256color, neither CI nor NO_COLOR set: the live view, in colour, as a
  person sees it. A thread reads the terminal as fast as it is written, as a terminal does;
- **pipe**: stdout and stderr to pipes, stdin from /dev/null: plain lines, as in CI or a log.

The first run of each side is a warm-up (the first one creates the stacks); then R runs of each
(default 5), interleaved, the order swapped every round. The ratio is the median of the R ratios
of a terminal run to the pipe run beside it: the machine is shared and its speed drifts. Beside
the wall time: the CPU seconds of pcli's process and the bytes it wrote (to the terminal, or to
both pipes).

Prints a table with the goal (the terminal within 1.2x of the pipe) and PASS or OVER; exits 0
whatever the figures (benchmarks never fail CI), non-zero only when a command it runs fails.

Usage: .venv/bin/python benchmarks/liveview.py [--instances N] [--environments M] [--repeat R]
       [--rows ROWS] [--columns COLUMNS]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import tempfile
import termios
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from deploy import child_env  # benchmarks/deploy.py, beside this
from fleet import (  # benchmarks/fleet.py, beside this
    ENV_SCHEMA,
    ENV_TEMPLATE,
    MANIFEST,
    children_cpu,
    paired_ratio,
    run,
    sandbox_server,
    write_bundle,
)

ROOT = Path(__file__).resolve().parents[1]
PCLI = ROOT / ".venv" / "bin" / "pcli"
REGION = "us-east-1"
WORKSPACE_NAME = "live"
SERVICE = "api"
ENV_BLUEPRINT = "tiny-env"
SVC_BLUEPRINT = "three-svc"
GOAL = 1.2  # the terminal within 1.2x of the pipe

SVC_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "LiveServiceInput"
  types:
    LiveServiceInput:
      type: object
      properties:
        retention:
          type: integer
          default: 60
"""
SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
      MessageRetentionPeriod: {{ service_instance.inputs.retention }}
  DeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}-dlq"
      MessageRetentionPeriod: {{ service_instance.inputs.retention }}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: "{{ service_instance.name }} {{ service_instance.inputs.retention }}"
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""


# --- the workspace --------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    instances: int
    environments: int

    def environment_names(self) -> list[str]:
        return [f"env{k:02d}" for k in range(self.environments)]

    def instances_by_name(self) -> list[tuple[str, str]]:
        """(instance, environment): instance k goes to environment k mod M."""
        envs = self.environment_names()
        return [(f"i{k:03d}", envs[k % self.environments]) for k in range(self.instances)]


@dataclass(frozen=True)
class Bench:
    home: Path
    workspace: Path
    sandbox_url: str

    def env(self) -> dict[str, str]:
        """benchmarks/deploy.py's clean environment (never CI: the pipe is what makes plain
        lines), at the sandbox directly."""
        env = child_env(self.home, self.sandbox_url, REGION)
        for name in ("CI", "COLUMNS", "LINES"):
            env.pop(name, None)
        return env

    def pcli(self, *args: str) -> list[str]:
        return [str(PCLI), "--workspace", str(self.workspace), *args]

    @property
    def spec(self) -> Path:
        return self.workspace / "services" / f"{SERVICE}.yaml"


def build_workspace(bench: Bench, root: Path, sizes: Sizes) -> None:
    """`pcli init`, both blueprints at 1.0, the environments deployed, the service's spec."""
    env = bench.env()
    run([str(PCLI), "init", str(bench.workspace), "--name", WORKSPACE_NAME], env)
    env_bundle = write_bundle(
        root / ENV_BLUEPRINT,
        {
            "schema/schema.yaml": ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": ENV_TEMPLATE % "v1.0",
        },
    )
    svc_bundle = write_bundle(
        root / SVC_BLUEPRINT,
        {
            ".template-registration.yaml": f"compatible_environments:\n  - {ENV_BLUEPRINT}:1\n",
            "schema/schema.yaml": SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": SVC_TEMPLATE,
        },
    )
    for name, bundle in ((ENV_BLUEPRINT, env_bundle), (SVC_BLUEPRINT, svc_bundle)):
        run(bench.pcli("blueprint", "publish", str(bundle), "--name", name), env)
    for name in sizes.environment_names():
        create = ["env", "create", name, "-b", ENV_BLUEPRINT, "--region", REGION, "--yes"]
        run(bench.pcli(*create), env)
    pairs = [arg for name, where in sizes.instances_by_name() for arg in ("-i", f"{name}={where}")]
    run(bench.pcli("svc", "create", SERVICE, "-b", SVC_BLUEPRINT, *pairs, "--no-deploy"), env)


def write_spec(bench: Bench, sizes: Sizes, retention: int) -> None:
    """The service's spec with `retention` for every instance: each of its stacks changes."""
    lines = [f"blueprint: {SVC_BLUEPRINT}", 'version: "1.0"', "proton: ServiceSpec", "instances:"]
    for name, where in sizes.instances_by_name():
        lines += [f"  - name: {name}", f"    environment: {where}", "    spec:"]
        lines.append(f"      retention: {retention}")
    bench.spec.write_text("\n".join(lines) + "\n", encoding="utf-8")


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One way of running the deploy: per run, wall and CPU seconds, bytes written."""

    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    written: list[int] = field(default_factory=list)

    def drop_last(self) -> None:
        for values in (self.seconds, self.cpu, self.written):
            values.pop()


def in_terminal(args: list[str], env: dict[str, str], rows: int, columns: int) -> int:
    """Run `args` in a pseudo-terminal of `rows` x `columns`; the bytes it wrote there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**env, "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)  # a person's terminal, in colour
    written = 0

    def drain() -> None:  # read as a terminal does, so pcli never waits on a full buffer
        nonlocal written
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the last process holding the terminal has ended
                return
            if not chunk:
                return
            written += len(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        process = subprocess.Popen(
            args, stdin=follower, stdout=follower, stderr=follower, env=env, start_new_session=True
        )
    finally:
        os.close(follower)
    code = process.wait()
    reader.join(timeout=30)
    os.close(leader)
    if code != 0:
        raise SystemExit(f"failed ({code}) in a terminal: {' '.join(args)}")
    return written


def to_pipes(args: list[str], env: dict[str, str]) -> int:
    """Run `args` with stdout and stderr to pipes; the bytes it wrote there."""
    done = subprocess.run(args, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False)
    if done.returncode != 0:
        said = (done.stdout + done.stderr).decode("utf-8", "replace").splitlines()[-40:]
        raise SystemExit(f"failed ({done.returncode}): {' '.join(args)}\n" + "\n".join(said))
    return len(done.stdout) + len(done.stderr)


@dataclass
class Results:
    sizes: Sizes
    rows: int
    columns: int
    terminal: Sample = field(default_factory=lambda: Sample("terminal (live view)"))
    pipe: Sample = field(default_factory=lambda: Sample("pipe (plain lines)"))


def benchmark(root: Path, sizes: Sizes, repeat: int, rows: int, columns: int) -> Results:
    results = Results(sizes, rows, columns)
    with sandbox_server(root) as (sandbox_url, _pid):
        bench = Bench(root / "home", root / "ws", sandbox_url)
        build_workspace(bench, root, sizes)
        deploy = bench.pcli("svc", "deploy", SERVICE, "--yes")
        retention = 60
        for k in range(repeat + 1):  # k = 0 is the warm-up, whose first run creates the stacks
            sides = (results.terminal, results.pipe)
            for sample in sides if k % 2 == 0 else reversed(sides):
                retention += 1
                write_spec(bench, sizes, retention)
                env = bench.env()
                before, start = children_cpu(), time.perf_counter()
                if sample is results.terminal:
                    written = in_terminal(deploy, env, rows, columns)
                else:
                    written = to_pipes(deploy, env)
                sample.seconds.append(time.perf_counter() - start)
                sample.cpu.append(children_cpu() - before)
                sample.written.append(written)
                if k == 0:
                    sample.drop_last()
    return results


# --- reporting ------------------------------------------------------------------------------


def print_report(results: Results) -> None:
    sizes = results.sizes
    print(
        f"svc deploy of {sizes.instances} instances ({sizes.instances} stacks of 3 resources, "
        f"over {sizes.environments} environments), --yes, each run an update of every stack"
    )
    print(
        f"terminal: a {results.columns}x{results.rows} pseudo-terminal, in colour; pipe: plain "
        f"lines; median of {len(results.pipe.seconds)} runs each after a warm-up, interleaved\n"
    )
    header = f"{'side':<24} {'s':>6} {'cpu s':>6} {'KB written':>11}"
    print(header)
    print("-" * len(header))
    for sample in (results.terminal, results.pipe):
        print(
            f"{sample.label:<24} {statistics.median(sample.seconds):>6.2f} "
            f"{statistics.median(sample.cpu):>6.2f} "
            f"{statistics.median(sample.written) / 1024:>11.1f}"
        )
    ratio = paired_ratio(results.terminal, results.pipe)
    verdict = "PASS" if ratio <= GOAL else "OVER"
    print(f"\nterminal / pipe: {ratio:.2f}x (median of paired runs)  goal <= {GOAL}x  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50, help="service instances (50)")
    parser.add_argument("--environments", type=int, default=5, help="environments (5)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side (5)")
    parser.add_argument("--rows", type=int, default=24, help="terminal rows (24)")
    parser.add_argument("--columns", type=int, default=80, help="terminal columns (80)")
    args = parser.parse_args()
    sizes = (args.instances, args.environments, args.repeat, args.rows, args.columns)
    if min(sizes) < 1:
        parser.error("every size must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pcli-liveview-bench-") as root:
        results = benchmark(
            Path(root), Sizes(args.instances, args.environments), args.repeat, args.rows,
            args.columns,
        )  # fmt: skip
    print_report(results)


if __name__ == "__main__":
    main()
