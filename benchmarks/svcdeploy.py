"""Service deploy: `pcli svc deploy` of one service with 50 instances over 5 environments.

One run starts its own sandbox server and counting proxy (as benchmarks/fleet.py does, with
its code: the sandbox's server in a process of its own, PCLI_HOME in a temporary folder) and
builds a workspace with fleet.py's tiny blueprints (an environment of one AWS::SNS::Topic; a
service of one AWS::SQS::Queue per instance, rendered with its environment's topic ARN; no
pipeline). `pcli apply` deploys the M environments (default 5); then one service, `web`, gets
N instances (default 50), one per environment in turn, written with `svc create --no-deploy`.
What is measured, with pcli as a subprocess (`.venv/bin/pcli`, AWS_ENDPOINT_URL at the proxy):

1. `pcli svc deploy web --yes`: N new stacks;
2. U times (default 3): the next minor version of both blueprints is published (each changes a
   property of each template), the service's spec is moved to it (its `version:` line), and
   `pcli svc deploy web --yes` updates the N stacks.

Each run is followed by a bare boto3 script (benchmarks/fleet.py's) deploying the same
templates (read back from pcli's stacks, neither timed nor counted) with the same concurrency
(4, pcli's default) to a copy of the service in another region, as `aws cloudformation deploy`
would per stack: CreateChangeSet, wait, ExecuteChangeSet, wait.

AWS calls are the goal here: `aws cloudformation deploy` makes 5 per stack (DescribeStacks,
CreateChangeSet, DescribeChangeSet, ExecuteChangeSet, DescribeStacks); pcli's goal is at most
5 per stack plus a constant per run. The constant is what a run makes beyond 5 per stack
(total - 5 x stacks); its goal is the bulk read's pages (ceil(stacks listed / 50) on moto,
/ 100 on AWS) + 5, the slack DESIGN.md gives `pcli status`. DescribeStacks is counted in two
kinds: by name (`DescribeStacks`) and pages of the whole region (`DescribeStacks(all)`).
Wall time is reported next to the bare script's (the ratio of runs made side by side), no goal.

Prints a table of timings and one of calls with the goal, PASS or OVER; exits 0 whatever the
figures, non-zero only when a command it runs fails.

Usage: .venv/bin/python benchmarks/svcdeploy.py [--instances N] [--environments M]
       [--updates U]
"""

from __future__ import annotations

import argparse
import http.client
import math
import re
import statistics
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from deploy import CountingProxy, call_name  # benchmarks/deploy.py, beside this
from fleet import (  # benchmarks/fleet.py, beside this
    BARE_REGION,
    ENV_BLUEPRINT,
    MOTO_PAGE_SIZE,
    PCLI,
    REGION,
    SVC_BLUEPRINT,
    WORKSPACE_NAME,
    Bench,
    Meter,
    Sample,
    bare_deploy,
    by_action,
    paired_ratio,
    publish,
    read_templates,
    run,
    sandbox_server,
    stacks_in,
    verdict,
)

SERVICE = "web"
CONCURRENCY = 4  # pcli's default (svc deploy has no flag for it); the bare script's too
AWS_CLI_CALLS = 5  # `aws cloudformation deploy` per stack
CALL_SLACK = 5  # beyond the bulk read's pages, as DESIGN.md's status budget
VERSION_LINE = re.compile(r"^version: .*$", re.MULTILINE)


def describe_kind(method: str, path: str, headers: http.client.HTTPMessage, body: bytes) -> str:
    """deploy.call_name, with DescribeStacks of one stack (by name or id) told apart from a
    page of every stack of the region."""
    name = call_name(method, path, headers, body)
    if name == "cloudformation:DescribeStacks" and b"StackName" not in body:
        return "cloudformation:DescribeStacks(all)"
    return name


@dataclass(frozen=True)
class Layout:
    instances: int
    environments: int

    def environment_names(self) -> list[str]:
        return [f"env{k:02d}" for k in range(self.environments)]

    def instance_pairs(self) -> list[tuple[str, str]]:
        """(instance, environment): instance k goes to environment k mod M."""
        envs = self.environment_names()
        return [(f"i{k:03d}", envs[k % self.environments]) for k in range(self.instances)]


@dataclass
class Results:
    layout: Layout
    stacks_listed: int = 0
    create: Sample = field(default_factory=lambda: Sample("pcli svc deploy"))
    bare_create: Sample = field(default_factory=lambda: Sample("bare boto3 create"))
    update: Sample = field(default_factory=lambda: Sample("pcli svc deploy"))
    bare_update: Sample = field(default_factory=lambda: Sample("bare boto3 update"))


def build_workspace(bench: Bench, root: Path, layout: Layout) -> None:
    """`pcli init`, both blueprints at 1.0, the environments deployed (`pcli apply`), the
    service's spec written (not deployed)."""
    env = bench.child_env()
    run([str(PCLI), "init", str(bench.workspace), "--name", WORKSPACE_NAME], env)
    publish(bench, root / "bundles", "1.0")
    for name in layout.environment_names():
        create = ["env", "create", name, "-b", ENV_BLUEPRINT, "--region", REGION, "--no-deploy"]
        run(bench.pcli(*create), env)
    run(bench.pcli("apply", "--yes"), env)
    pairs = [arg for name, where in layout.instance_pairs() for arg in ("-i", f"{name}={where}")]
    run(bench.pcli("svc", "create", SERVICE, "-b", SVC_BLUEPRINT, *pairs, "--no-deploy"), env)


def move_spec(bench: Bench, version: str) -> None:
    """Pin the service's spec to `version` (what `pcli upgrade` writes, without deploying)."""
    spec = bench.workspace / "services" / f"{SERVICE}.yaml"
    text = spec.read_text(encoding="utf-8")
    moved, count = VERSION_LINE.subn(f'version: "{version}"', text, count=1)
    if count != 1:
        raise SystemExit(f"{spec}: no `version:` line to move to {version}")
    spec.write_text(moved, encoding="utf-8")


def instance_wave(bench: Bench, folder: Path) -> list[list[dict[str, object]]]:
    """The templates and tags of pcli's instance stacks, as the bare script's one wave."""
    _, instances = read_templates(bench, folder)
    return [instances]


def benchmark(root: Path, layout: Layout, updates: int) -> Results:
    results = Results(layout)
    with (
        sandbox_server(root) as (sandbox_url, pid),
        CountingProxy(sandbox_url, namer=describe_kind) as proxy,
    ):
        bench = Bench(root / "home", root / "ws", proxy.url, sandbox_url)
        env = bench.child_env()
        meter = Meter(proxy.counter, pid)
        build_workspace(bench, root, layout)
        deploy = bench.pcli("svc", "deploy", SERVICE, "--yes")

        meter.timed(results.create, deploy, env)
        job = root / "create.json"
        wave = instance_wave(bench, root / "templates-1.0")
        meter.timed(results.bare_create, bare_deploy(bench, wave, "CREATE", CONCURRENCY, job), env)
        results.stacks_listed = stacks_in(bench, REGION)

        for minor in range(1, updates + 1):
            version = f"1.{minor}"
            publish(bench, root / "bundles", version)
            move_spec(bench, version)
            meter.timed(results.update, deploy, env)
            wave = instance_wave(bench, root / f"templates-{version}")
            job = root / f"update-{minor}.json"
            update = bare_deploy(bench, wave, "UPDATE", CONCURRENCY, job)
            meter.timed(results.bare_update, update, env)
    return results


# --- reporting ------------------------------------------------------------------------------


def constant_goal(results: Results) -> int:
    return math.ceil(results.stacks_listed / MOTO_PAGE_SIZE) + CALL_SLACK


def print_timings(results: Results) -> None:
    n = results.layout.instances
    rows = [
        (f"pcli svc deploy, {n} new", results.create, results.bare_create),
        (f"pcli svc deploy, {n} updated", results.update, results.bare_update),
    ]
    header = (
        f"{'timing':<32} {'s':>6} {'cpu s':>11}   {'reference':<18} {'s':>6} {'cpu s':>11} "
        f"{'ratio':>6}  goal"
    )
    print(header)
    print("-" * len(header))
    for label, mine, reference in rows:
        ratio = paired_ratio(mine, reference)
        print(
            f"{label:<32} {mine.median:>6.2f} {mine.cpu():>11}   {reference.label:<18} "
            f"{reference.median:>6.2f} {reference.cpu():>11} {ratio:>5.2f}x  (report)"
        )
    print("cpu s: CPU seconds of the command's process + of the sandbox server (medians)")


def print_calls(results: Results) -> None:
    n = results.layout.instances
    goal = constant_goal(results)
    listed = results.stacks_listed
    print(
        f"\nAWS calls, counted on the wire by the proxy, against `aws cloudformation deploy`'s "
        f"{AWS_CLI_CALLS} per stack; constant = total - {AWS_CLI_CALLS} x stacks; "
        f"{listed} stacks listed in {REGION}, goal for the constant: the bulk read's pages + "
        f"{CALL_SLACK} = ceil({listed}/{MOTO_PAGE_SIZE}) + {CALL_SLACK} = {goal}"
    )
    header = (
        f"{'calls':<32} {'total':>6} {'/stack':>7} {'constant':>9}  {'goal':<6} "
        f"{'verdict':<8} by action"
    )
    print(header)
    print("-" * len(header))
    rows = [
        (f"pcli svc deploy, {n} new", results.create, True),
        ("bare boto3 create", results.bare_create, False),
        (f"pcli svc deploy, {n} updated", results.update, True),
        ("bare boto3 update", results.bare_update, False),
    ]
    for label, sample, judged in rows:
        total = sample.most_calls
        constant = total - AWS_CLI_CALLS * n
        shown_goal, said = (f"<= {goal}", verdict(constant <= goal)) if judged else ("-", "")
        print(
            f"{label:<32} {total:>6} {total / n:>7.2f} {constant:>9}  {shown_goal:<6} "
            f"{said:<8} {by_action(most(sample))}"
        )


def most(sample: Sample) -> Counter[str]:
    """The calls of the sample's run that made the most."""
    return max(sample.calls, key=lambda calls: sum(calls.values()))


def print_report(results: Results) -> None:
    layout = results.layout
    print(
        f"service {SERVICE}: {layout.instances} instances over {layout.environments} "
        f"environments in {REGION} (no pipeline), concurrency {CONCURRENCY}; the bare "
        f"script's copy in {BARE_REGION}"
    )
    print(
        f"a first deploy (one run of each side), then {len(results.update.seconds)} update(s) "
        f"(1.0 -> 1.1 -> ..., each beside its bare update; the median of the paired ratios)\n"
    )
    print_timings(results)
    print_calls(results)
    per_update = statistics.median(sum(c.values()) for c in results.update.calls)
    print(f"\nmedian calls of an update run: {per_update:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50, help="service instances (50)")
    parser.add_argument("--environments", type=int, default=5, help="environments (5)")
    parser.add_argument("--updates", type=int, default=3, help="updates, each beside its bare one")
    args = parser.parse_args()
    if min(args.instances, args.environments, args.updates) < 1:
        parser.error("every size must be at least 1")
    layout = Layout(args.instances, args.environments)
    with tempfile.TemporaryDirectory(prefix="pcli-svcdeploy-bench-") as root:
        results = benchmark(Path(root), layout, args.updates)
    print_report(results)


if __name__ == "__main__":
    main()
