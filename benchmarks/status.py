"""Status: `pcli status` of 1,000 stacks as a table, next to `aws cloudformation describe-stacks`.

One run starts its own sandbox server and counting proxy (benchmarks/fleet.py's code: the
sandbox's server in a process of its own, PCLI_HOME in a temporary folder) and builds a
workspace of N stacks (default 1,000) in one region: M environments (default 10) of fleet.py's
tiny environment blueprint, and N - M service instances of its tiny service blueprint, ten per
service (one per environment), no pipelines. Every item is declared by a spec file and deployed.

How the stacks are made (setup, neither timed nor counted): the environments with `pcli apply`;
the services' spec files with pcli's own `create_service`, in-process; the instance stacks with
one boto3 CreateStack each, straight to the sandbox server, carrying the template and the
`pcli:*` tags pcli's own `service_requests` renders for them. So status sees N stacks of its
workspace exactly as `pcli svc deploy` would have left them (up to date, every digest
matching), at one call per stack instead of a deploy's five and its deployment record.

What is measured, R runs of each side (default 5) after a warm-up, interleaved, each as a
subprocess whose output goes to a pipe (and is read whole), with NO_COLOR=1:

- `pcli status`: the terminal table (KIND, NAME, ENV, BLUEPRINT, STACK, DEPLOYED, STATE) and
  its summary line; to a pipe with NO_COLOR it is the plain table, laid out 200 columns wide;
- the reference: `aws cloudformation describe-stacks` of the same account and region (the
  awscli, which follows every page and prints the JSON; without `aws` on PATH, a botocore
  script making the same paginated calls and printing the same JSON).

Both go through the proxy, which counts the AWS calls. Prints the median and minimum wall time
of each side, the median of the ratios of runs made side by side, the goal (pcli within 1.0x)
with PASS or OVER, and the calls of each side; exits 0 whatever the figures, non-zero only
when a command it runs fails.

Usage: .venv/bin/python benchmarks/status.py [--stacks N] [--environments M] [--repeat R]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy import CountingProxy, awscli_path, child_env  # benchmarks/deploy.py, beside this
from fleet import (  # benchmarks/fleet.py, beside this
    CAPABILITIES,
    ENV_BLUEPRINT,
    MOTO_PAGE_SIZE,
    PCLI,
    PYTHON,
    REGION,
    SVC_BLUEPRINT,
    WORKSPACE_NAME,
    Bench,
    Meter,
    Sample,
    all_stacks,
    by_action,
    call_range,
    cloudformation,
    paired_ratio,
    publish,
    run,
    sandbox_server,
    verdict,
)

if TYPE_CHECKING:
    from protoncli.deploy.project import Project

GOAL = 1.0  # pcli status within 1.0x of describe-stacks
PER_SERVICE = 10  # instances per service (at most one per environment)

# The reference without the awscli: the calls `aws cloudformation describe-stacks` makes (every
# page), and the JSON it prints.
BOTOCORE_SCRIPT = """
import json, sys, botocore.session
endpoint, region = sys.argv[1:3]
client = botocore.session.Session().create_client(
    "cloudformation", region_name=region, endpoint_url=endpoint)
stacks = [s for page in client.get_paginator("describe_stacks").paginate() for s in page["Stacks"]]
sys.stdout.write(json.dumps({"Stacks": stacks}, indent=4, default=str) + "\\n")
"""


@dataclass(frozen=True)
class Layout:
    stacks: int
    environments: int

    def environment_names(self) -> list[str]:
        return [f"env{k:02d}" for k in range(self.environments)]

    def services(self) -> dict[str, list[tuple[str, str]]]:
        """Service name -> its (instance, environment) pairs: N - M instances, PER_SERVICE (or
        M, when fewer) per service, one per environment in turn."""
        envs = self.environment_names()
        per_service = min(PER_SERVICE, self.environments)
        services: dict[str, list[tuple[str, str]]] = {}
        for k in range(self.stacks - self.environments):
            service = f"svc{k // per_service:03d}"
            env = envs[k % self.environments]
            services.setdefault(service, []).append((f"{service}-{env}", env))
        return services


@dataclass
class Results:
    layout: Layout
    reference_label: str
    listed: int = 0
    status: Sample = field(default_factory=lambda: Sample("pcli status"))
    reference: Sample = field(default_factory=lambda: Sample("describe-stacks"))
    status_items: str = ""  # pcli status's summary line
    reference_stacks: int = 0  # stacks in the reference's JSON


# --- the fleet ------------------------------------------------------------------------------


def build_fleet(bench: Bench, root: Path, layout: Layout) -> None:
    """The workspace, its environments deployed by pcli, its instances' stacks made directly."""
    env = bench.child_env()
    run([str(PCLI), "init", str(bench.workspace), "--name", WORKSPACE_NAME], env)
    publish(bench, root / "bundles", "1.0")
    for name in layout.environment_names():
        create = ["env", "create", name, "-b", ENV_BLUEPRINT, "--region", REGION, "--no-deploy"]
        run(bench.pcli(*create), env)
    run(bench.pcli("apply", "--yes"), env)
    with in_process(bench) as project:
        create_specs(project, layout)
        create_instance_stacks(bench, project, layout)


@contextlib.contextmanager
def in_process(bench: Bench) -> Iterator[Project]:
    """A pcli Project in this process on the bench's workspace and registry, its AWS calls
    straight to the sandbox server (neither through the proxy nor counted)."""
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.starters import open_registry
    from protoncli.config import registry_path
    from protoncli.deploy.project import AwsSettings, Project
    from protoncli.workspace.model import find_workspace

    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(child_env(bench.home, bench.sandbox_url, REGION))
    try:
        yield Project(
            find_workspace(explicit=bench.workspace),
            open_registry(registry_path()),
            SessionFactory(),
            AwsSettings(endpoint_url=bench.sandbox_url),
        )
    finally:
        os.environ.clear()
        os.environ.update(saved)


def create_specs(project: Project, layout: Layout) -> None:
    """Every service's spec file, written by pcli's `create_service` (no deploy)."""
    from protoncli.deploy.service_create import create_service

    for service, pairs in layout.services().items():
        create_service(project, service, SVC_BLUEPRINT, instances=pairs)


def create_instance_stacks(bench: Bench, project: Project, layout: Layout) -> None:
    """One CreateStack per instance, with the template and tags pcli renders for it."""
    from protoncli.deploy.services import service_requests
    from protoncli.state.declared import read_service

    client = cloudformation(bench.sandbox_url, REGION)
    for stack in all_stacks(client):  # the environments' outputs, read once for every render
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        project.known_outputs[(REGION, stack["StackName"])] = outputs
    jobs: list[dict[str, Any]] = []
    for service in layout.services():
        requests, _, _ = service_requests(
            project, read_service(project, service), with_pipeline=False
        )
        for _region, request in requests.values():
            jobs.append(
                {
                    "StackName": request.stack_name,
                    "TemplateBody": request.template_body,
                    "Tags": [{"Key": k, "Value": v} for k, v in request.tags.items()],
                    "Capabilities": list(CAPABILITIES),
                }
            )

    for job in jobs:  # one at a time: moto's CreateStack answers some concurrent ones with 500
        client.create_stack(**job)


# --- measuring ------------------------------------------------------------------------------


def reference_command(bench: Bench) -> tuple[str, list[str]]:
    """The reference's label and command line."""
    aws = awscli_path()
    if aws is None:
        return "botocore describe_stacks", [PYTHON, "-c", BOTOCORE_SCRIPT, bench.proxy_url, REGION]
    args = [aws, "cloudformation", "describe-stacks", "--region", REGION]
    return "aws cloudformation describe-stacks", [
        *args,
        "--endpoint-url",
        bench.proxy_url,
        "--output",
        "json",
    ]


def benchmark(root: Path, layout: Layout, repeat: int) -> Results:
    with sandbox_server(root) as (sandbox_url, pid), CountingProxy(sandbox_url) as proxy:
        bench = Bench(root / "home", root / "ws", proxy.url, sandbox_url)
        build_fleet(bench, root, layout)
        env = bench.child_env()
        env.pop("CI", None)  # a table, as a person runs it (CI only makes progress plain)
        label, reference = reference_command(bench)
        results = Results(layout, label)
        results.reference.label = label
        results.listed = len(all_stacks(cloudformation(sandbox_url, REGION)))
        status = bench.pcli("status")

        # The warm-up, also a check of what each side prints.
        said = run(status, env).stdout.strip().splitlines()
        results.status_items = said[-1] if said else ""
        results.reference_stacks = len(json.loads(run(reference, env).stdout)["Stacks"])
        meter = Meter(proxy.counter, pid)
        for k in range(repeat):
            pair = [(results.status, status), (results.reference, reference)]
            for sample, command in pair if k % 2 else reversed(pair):
                meter.timed(sample, command, env)
    return results


# --- reporting ------------------------------------------------------------------------------


def print_report(results: Results) -> None:
    layout = results.layout
    services = len(layout.services())
    print(
        f"status: {layout.stacks} stacks in {REGION}: {layout.environments} environments and "
        f"{layout.stacks - layout.environments} service instances ({services} services, no "
        f"pipelines), every one declared and deployed; {results.listed} stacks listed"
    )
    print(
        "pcli status prints its table to a pipe with NO_COLOR=1 (the plain table, 200 columns); "
        f"the reference is `{results.reference_label}` (JSON)"
    )
    print(
        f"{len(results.status.seconds)} runs of each after a warm-up, interleaved; ratio: the "
        "median of the ratios of runs made side by side\n"
    )
    header = f"{'side':<36} {'median s':>8} {'min s':>6} {'cpu s':>11} {'calls':>6}  by action"
    print(header)
    print("-" * len(header))
    for sample in (results.status, results.reference):
        print(
            f"{sample.label:<36} {sample.median:>8.2f} {min(sample.seconds):>6.2f} "
            f"{sample.cpu():>11} {call_range(sample):>6}  {by_action(sample.calls[-1])}"
        )
    print("cpu s: CPU seconds of the command's process + of the sandbox server (medians)")
    ratio = paired_ratio(results.status, results.reference)
    print(
        f"\npcli status / {results.reference_label}: {ratio:.2f}x  goal <= {GOAL}x  "
        f"{verdict(ratio <= GOAL)}"
    )
    budget = -(-results.listed // MOTO_PAGE_SIZE) + 5
    most = results.status.most_calls
    print(
        f"pcli status AWS calls: {most}  goal ceil({results.listed}/{MOTO_PAGE_SIZE}) + 5 = "
        f"{budget}  {verdict(most <= budget)}"
    )
    print(f"pcli status said: {results.status_items}")
    print(f"{results.reference_label} printed {results.reference_stacks} stacks")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=1000, help="stacks in all (1000)")
    parser.add_argument("--environments", type=int, default=10, help="environments (10)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side (5)")
    args = parser.parse_args()
    if min(args.environments, args.repeat) < 1 or args.stacks <= args.environments:
        parser.error("sizes must be at least 1, and the stacks more than the environments")
    layout = Layout(args.stacks, args.environments)
    with tempfile.TemporaryDirectory(prefix="pcli-status-bench-") as root:
        results = benchmark(Path(root), layout, args.repeat)
    print_report(results)


if __name__ == "__main__":
    main()
