"""Fleet: status, plan, apply and upgrade of 200 service instances over 10 environments.

One run starts its own sandbox server (`python -m protoncli.sandbox.server`'s code, in a process
of its own on a free port, with PCLI_HOME in a temporary folder, so the user's sandbox is never
touched) and puts benchmarks/deploy.py's counting proxy in front of it: every AWS call of every
side goes through the proxy, which counts it by service and action (the signature's credential
scope, then X-Amz-Target, Action= or the path). pcli runs as a subprocess
(`.venv/bin/pcli`) with AWS_ENDPOINT_URL at the proxy, as `--sandbox` would point it at moto.

The fleet: a workspace (`pcli init`), a registry with a tiny environment blueprint (one
AWS::SNS::Topic) and a tiny service blueprint (one AWS::SQS::Queue per instance, rendered with
its environment's outputs; no pipeline), both published at 1.0; M environments (default 10) and
ceil(N / M) services whose N instances (default 200) go one per environment in turn. The specs
are written with `env create` / `svc create --no-deploy`, then:

1. `pcli apply --yes --concurrency C` deploys the fleet (N + M stacks), next to a bare boto3
   script creating the same templates (read back from pcli's stacks) in another region;
2. `pcli status --json` and `pcli plan --json`, R runs each after a warm-up, interleaved: wall
   time (plan against status) and AWS calls (against ceil(stacks / page size) + 5);
3. U times (default 3): the next minor version of both blueprints is published (1.1, 1.2, ...;
   each changes a property in each template) and `pcli upgrade --all --yes --concurrency C`
   moves every spec and deploys it, then the bare script updates its own fleet, in the other
   region, to the same templates (read back from pcli's stacks after the upgrade). The ratio is
   the median of the U ratios of an upgrade to the bare update run right after it: the machine
   is shared, its speed drifts, and one run of each says little.

The bare script does what `aws cloudformation deploy` does for each stack (CreateChangeSet,
wait, ExecuteChangeSet, wait) in a thread pool of C, environments first, then instances (the
instances render with their environment's outputs), with the tags pcli's stacks carry (the
workspace tag renamed), so both sides make the same stacks. Its fleet is the same size in its own
region, so moto holds as many stacks behind each side's calls, and the two never share a stack.

The server is the sandbox's own, with its corrections to moto (sandbox/motofix.py). One matters
here: moto's server lists its own package folder on every request, under the lock every request
takes; the correction lists it once. Both sides gain the same per call, so the figures measure
more of each client and less of the server than before it.

Prints two tables (timings with ratios, AWS calls) with the goal beside each figure and PASS or
OVER; exits 0 whatever the figures (benchmarks never fail CI), non-zero only when a command it
runs fails.

Usage: .venv/bin/python benchmarks/fleet.py [--instances N] [--environments M] [--repeat R]
       [--upgrades U] [--concurrency C]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import CallCounter, CountingProxy, child_env  # benchmarks/deploy.py, beside this

ROOT = Path(__file__).resolve().parents[1]
PCLI = ROOT / ".venv" / "bin" / "pcli"
PYTHON = sys.executable
WORKSPACE_NAME = "fleet"
REGION = "us-east-1"  # pcli's fleet
BARE_REGION = "us-west-2"  # the bare script's fleet
ENV_BLUEPRINT = "tiny-env"
SVC_BLUEPRINT = "tiny-svc"
MOTO_PAGE_SIZE = 50  # moto 5's DescribeStacks page (moto/cloudformation/responses.py)
AWS_PAGE_SIZE = 100
CALL_SLACK = 5  # DESIGN.md: ceil(stacks / page size) + 5
PLAN_GOAL = 1.5  # plan within 1.5x of status
UPGRADE_GOAL = 1.3  # pcli upgrade within 1.3x of the bare script
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
ENV_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "FleetEnvironmentInput"
  types:
    FleetEnvironmentInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
"""
SVC_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "FleetServiceInput"
  types:
    FleetServiceInput:
      type: object
      properties:
        retention:
          type: integer
          default: 345600
"""
ENV_TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: "{{ environment.inputs.team }} %s"
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
      MessageRetentionPeriod: {{ service_instance.inputs.retention }}
      VisibilityTimeout: %s
Outputs:
  QueueUrl:
    Value: !Ref Queue
  EnvironmentTopic:
    Value: "{{ environment.outputs.TopicArn }}"
"""

# The sandbox server, with its corrections to moto (see the module's docstring).
SERVER_SCRIPT = """
import sys
from protoncli.sandbox import server

sys.exit(server.main(sys.argv[1:]))
"""

# What `aws cloudformation deploy` does per stack, in a thread pool, one wave after another.
BARE_SCRIPT = """
import json, sys
from concurrent.futures import ThreadPoolExecutor
import boto3
from botocore.config import Config

job = json.load(open(sys.argv[1], encoding="utf-8"))
client = boto3.session.Session().client(
    "cloudformation", region_name=job["region"], endpoint_url=job["endpoint"],
    config=Config(max_pool_connections=job["concurrency"] + 2))
kind = job["change_set_type"]
done_waiter = "stack_create_complete" if kind == "CREATE" else "stack_update_complete"

def deploy(stack):
    with open(stack["template"], encoding="utf-8") as f:
        body = f.read()
    created = client.create_change_set(
        StackName=stack["name"], ChangeSetName=job["change_set_name"], ChangeSetType=kind,
        TemplateBody=body, Capabilities=job["capabilities"], Tags=stack["tags"])
    client.get_waiter("change_set_create_complete").wait(
        ChangeSetName=created["Id"], WaiterConfig={"Delay": 1})
    client.execute_change_set(ChangeSetName=created["Id"])
    client.get_waiter(done_waiter).wait(StackName=created["StackId"], WaiterConfig={"Delay": 1})

with ThreadPoolExecutor(max_workers=job["concurrency"]) as pool:
    for wave in job["waves"]:
        list(pool.map(deploy, wave))
"""


# --- the fleet ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    instances: int
    environments: int

    def environment_names(self) -> list[str]:
        return [f"env{k:02d}" for k in range(self.environments)]

    def services(self) -> dict[str, list[tuple[str, str]]]:
        """Service name -> its (instance, environment) pairs: instance k goes to environment
        k mod M, service k div M, so each service has one instance per environment."""
        envs = self.environment_names()
        services: dict[str, list[tuple[str, str]]] = {}
        for k in range(self.instances):
            service = f"svc{k // self.environments:02d}"
            env = envs[k % self.environments]
            services.setdefault(service, []).append((f"{service}-{env}", env))
        return services

    @property
    def stacks(self) -> int:
        return self.instances + self.environments


@dataclass(frozen=True)
class Bench:
    home: Path
    workspace: Path
    proxy_url: str
    sandbox_url: str

    def child_env(self) -> dict[str, str]:
        """benchmarks/deploy.py's clean environment, with plain progress lines, never a prompt."""
        return child_env(self.home, self.proxy_url, REGION, CI="1")

    def pcli(self, *args: str) -> list[str]:
        return [str(PCLI), "--workspace", str(self.workspace), *args]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        shown = " ".join(a if len(a) < 80 else a[:40] + "..." for a in args)
        said = (done.stdout + done.stderr).splitlines()[-40:]  # the end says what failed
        raise SystemExit(f"failed ({done.returncode}): {shown}\n" + "\n".join(said))
    return done


def write_bundle(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def bundles(root: Path, version: str) -> dict[str, Path]:
    """The two blueprints' bundles at `version` ("1.0", "1.1", ...: each minor version changes
    one property of each template)."""
    minor = int(version.split(".")[1])
    env = {
        "schema/schema.yaml": ENV_SCHEMA,
        "infrastructure/manifest.yaml": MANIFEST,
        "infrastructure/cloudformation.yaml": ENV_TEMPLATE % f"v{version}",
    }
    svc = {
        ".template-registration.yaml": f"compatible_environments:\n  - {ENV_BLUEPRINT}:1\n",
        "schema/schema.yaml": SVC_SCHEMA,
        "instance_infrastructure/manifest.yaml": MANIFEST,
        "instance_infrastructure/cloudformation.yaml": SVC_TEMPLATE % (30 + 15 * minor),
    }
    return {
        ENV_BLUEPRINT: write_bundle(root / f"{ENV_BLUEPRINT}-{version}", env),
        SVC_BLUEPRINT: write_bundle(root / f"{SVC_BLUEPRINT}-{version}", svc),
    }


def publish(bench: Bench, root: Path, version: str) -> None:
    for name, bundle in bundles(root, version).items():
        run(bench.pcli("blueprint", "publish", str(bundle), "--name", name), bench.child_env())


def build_workspace(bench: Bench, root: Path, sizes: Sizes) -> None:
    """`pcli init`, both blueprints at 1.0, every spec written (nothing deployed yet)."""
    env = bench.child_env()
    run([str(PCLI), "init", str(bench.workspace), "--name", WORKSPACE_NAME], env)
    publish(bench, root / "bundles", "1.0")
    for name in sizes.environment_names():
        create = ["env", "create", name, "-b", ENV_BLUEPRINT, "--region", REGION, "--no-deploy"]
        run(bench.pcli(*create), env)
    for service, instances in sizes.services().items():
        pairs = [arg for name, environment in instances for arg in ("-i", f"{name}={environment}")]
        run(bench.pcli("svc", "create", service, "-b", SVC_BLUEPRINT, *pairs, "--no-deploy"), env)


# --- reading the fleet back ----------------------------------------------------------------


def cloudformation(endpoint: str, region: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "cloudformation",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the sandbox's dummy credentials
    )


def all_stacks(client: Any) -> list[dict[str, Any]]:
    return [
        stack
        for page in client.get_paginator("describe_stacks").paginate()
        for stack in page["Stacks"]
    ]


def read_templates(bench: Bench, folder: Path) -> list[list[dict[str, Any]]]:
    """pcli's stacks' templates (written to `folder`) and tags, as the bare script's waves:
    environments, then everything else. Read from moto directly, so no call is counted."""
    client = cloudformation(bench.sandbox_url, REGION)
    folder.mkdir(parents=True, exist_ok=True)
    environments: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    for stack in all_stacks(client):
        tags = {tag["Key"]: tag["Value"] for tag in stack.get("Tags", [])}
        if tags.get("pcli:workspace") != WORKSPACE_NAME:
            continue
        body = client.get_template(StackName=stack["StackName"])["TemplateBody"]
        if not isinstance(body, str):  # botocore parses a JSON template into a dict
            body = json.dumps(body)
        path = folder / f"{stack['StackName']}.template"
        path.write_text(body, encoding="utf-8")
        wave = environments if tags.get("pcli:kind") == "environment" else others
        wave.append({"name": stack["StackName"], "template": str(path), "tags": stack["Tags"]})
    return [sorted(w, key=lambda s: s["name"]) for w in (environments, others)]


def stacks_in(bench: Bench, region: str) -> int:
    """How many stacks DescribeStacks lists in the region (what its pages hold)."""
    return len(all_stacks(cloudformation(bench.sandbox_url, region)))


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One measured command: per run, the wall time, the CPU time of the command's process and
    of the sandbox server (seconds; the server's None where /proc is missing), the AWS calls."""

    label: str
    seconds: list[float] = field(default_factory=list)
    client_cpu: list[float] = field(default_factory=list)
    server_cpu: list[float | None] = field(default_factory=list)
    calls: list[Counter[str]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    def cpu(self) -> str:
        """Median CPU seconds of the command and the server, as "client + server"."""
        client = statistics.median(self.client_cpu)
        known = [s for s in self.server_cpu if s is not None]
        server = f"{statistics.median(known):.1f}" if known else "?"
        return f"{client:.1f} + {server}"

    @property
    def most_calls(self) -> int:
        return max(sum(c.values()) for c in self.calls)


def process_cpu(pid: int) -> float | None:
    """CPU seconds (user + system) process `pid` has used; None without /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Meter:
    counter: CallCounter
    server_pid: int

    def timed(self, sample: Sample, args: list[str], env: dict[str, str]) -> None:
        """Run the command once; record its wall time, CPU times and AWS calls."""
        self.counter.take()
        server_before, client_before = process_cpu(self.server_pid), children_cpu()
        start = time.perf_counter()
        run(args, env)
        sample.seconds.append(time.perf_counter() - start)
        sample.client_cpu.append(children_cpu() - client_before)
        server_after = process_cpu(self.server_pid)
        if server_before is None or server_after is None:
            sample.server_cpu.append(None)
        else:
            sample.server_cpu.append(server_after - server_before)
        sample.calls.append(self.counter.take())

    @staticmethod
    def drop_last(sample: Sample) -> None:
        """Forget the last run (a warm-up)."""
        for values in (sample.seconds, sample.client_cpu, sample.server_cpu, sample.calls):
            values.pop()


def bare_deploy(
    bench: Bench, waves: list[list[dict[str, Any]]], kind: str, concurrency: int, job: Path
) -> list[str]:
    """The command line of the bare script deploying `waves` to BARE_REGION, its change sets
    named after the job's file ("bare-create", "bare-update-1", ...). Its stacks carry pcli's
    tags but name another workspace, so no pcli command ever counts them as its own."""
    renamed = [
        [
            dict(
                stack,
                name=stack["name"].replace("pcli-", "bare-", 1),
                tags=[_bare_tag(tag) for tag in stack["tags"]],
            )
            for stack in wave
        ]
        for wave in waves
    ]
    document = {
        "region": BARE_REGION,
        "endpoint": bench.proxy_url,
        "concurrency": concurrency,
        "change_set_type": kind,
        "change_set_name": f"bare-{job.stem}",
        "capabilities": list(CAPABILITIES),
        "waves": renamed,
    }
    job.write_text(json.dumps(document), encoding="utf-8")
    return [PYTHON, "-c", BARE_SCRIPT, str(job)]


def _bare_tag(tag: dict[str, str]) -> dict[str, str]:
    if tag["Key"] == "pcli:workspace":
        return {"Key": tag["Key"], "Value": f"bare-{tag['Value']}"}
    return tag


@dataclass
class Results:
    sizes: Sizes
    concurrency: int
    stacks_listed: int = 0
    apply: Sample = field(default_factory=lambda: Sample("pcli apply"))
    bare_create: Sample = field(default_factory=lambda: Sample("bare boto3 create"))
    status: Sample = field(default_factory=lambda: Sample("pcli status --json"))
    plan: Sample = field(default_factory=lambda: Sample("pcli plan --json"))
    upgrade: Sample = field(default_factory=lambda: Sample("pcli upgrade --all"))
    bare_update: Sample = field(default_factory=lambda: Sample("bare boto3 update"))


@contextlib.contextmanager
def sandbox_server(root: Path) -> Iterator[tuple[str, int]]:
    """A private sandbox server process (see SERVER_SCRIPT): its URL and pid. Stopped on
    leaving."""
    ready = root / "server.ready.json"
    with (root / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [PYTHON, "-c", SERVER_SCRIPT, "--port", "0", "--ready-file", str(ready)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                log_text = (root / "server.log").read_text(encoding="utf-8", errors="replace")
                raise SystemExit(f"the sandbox server did not start\n{log_text}")
            time.sleep(0.05)
        yield str(json.loads(ready.read_text(encoding="utf-8"))["url"]), process.pid
    finally:
        process.terminate()  # the server stops on SIGTERM
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def benchmark(root: Path, sizes: Sizes, repeat: int, upgrades: int, concurrency: int) -> Results:
    home = root / "home"
    results = Results(sizes, concurrency)
    with sandbox_server(root) as (sandbox_url, pid), CountingProxy(sandbox_url) as proxy:
        bench = Bench(home, root / "ws", proxy.url, sandbox_url)
        env = bench.child_env()
        meter = Meter(proxy.counter, pid)
        build_workspace(bench, root, sizes)
        deploy = ["--yes", "--concurrency", str(concurrency)]

        meter.timed(results.apply, bench.pcli("apply", *deploy), env)
        waves = read_templates(bench, root / "templates-1.0")
        create = bare_deploy(bench, waves, "CREATE", concurrency, root / "create.json")
        meter.timed(results.bare_create, create, env)

        results.stacks_listed = stacks_in(bench, REGION)
        for k in range(repeat + 1):  # k = 0 is the warm-up
            pair = (results.status, results.plan)
            for sample in pair if k % 2 else reversed(pair):
                command = "status" if sample is results.status else "plan"
                meter.timed(sample, bench.pcli(command, "--json"), env)
                if k == 0:
                    meter.drop_last(sample)

        for minor in range(1, upgrades + 1):  # 1.0 -> 1.1 -> 1.2 ..., each side in turn
            version = f"1.{minor}"
            publish(bench, root / "bundles", version)
            meter.timed(results.upgrade, bench.pcli("upgrade", "--all", *deploy), env)
            waves = read_templates(bench, root / f"templates-{version}")
            job = root / f"update-{minor}.json"
            update = bare_deploy(bench, waves, "UPDATE", concurrency, job)
            meter.timed(results.bare_update, update, env)
    return results


# --- reporting ------------------------------------------------------------------------------


def verdict(within: bool) -> str:
    return "PASS" if within else "OVER"


def by_action(calls: Counter[str]) -> str:
    """ "Action count, ..."; CloudFormation's actions by name alone, others with their service."""
    named = {name.removeprefix("cloudformation:"): count for name, count in calls.items()}
    return ", ".join(f"{name} {count}" for name, count in sorted(named.items()))


def call_range(sample: Sample) -> str:
    totals = sorted(sum(c.values()) for c in sample.calls)
    return str(totals[0]) if totals[0] == totals[-1] else f"{totals[0]}-{totals[-1]}"


def paired_ratio(mine: Sample, reference: Sample) -> float:
    """The median of the ratios of runs made side by side (run k of each): the machine is
    shared and its speed drifts over a minute, which a ratio of two medians would take in."""
    pairs = zip(mine.seconds, reference.seconds, strict=True)
    return statistics.median(one / other for one, other in pairs)


def print_report(results: Results) -> None:
    sizes, c = results.sizes, results.concurrency
    services = len(sizes.services())
    print(
        f"fleet: {sizes.instances} service instances ({services} services, no pipelines) over "
        f"{sizes.environments} environments = {sizes.stacks} stacks in {REGION}; "
        f"the bare script's fleet in {BARE_REGION}"
    )
    print(
        f"status and plan: median of {len(results.status.seconds)} runs each after a warm-up, "
        f"interleaved; apply and its bare script: one run each; upgrades: median of "
        f"{len(results.upgrade.seconds)} (1.0 -> 1.1 -> ..., each beside its bare update); "
        f"concurrency {c}\n"
    )

    plan_ratio = paired_ratio(results.plan, results.status)
    apply_ratio = paired_ratio(results.apply, results.bare_create)
    upgrade_ratio = paired_ratio(results.upgrade, results.bare_update)
    rows = [
        ("pcli plan --json", results.plan, "pcli status --json", results.status, plan_ratio,
         f"<= {PLAN_GOAL}x", verdict(plan_ratio <= PLAN_GOAL)),
        (f"pcli apply, {sizes.stacks} new", results.apply, "bare boto3 create",
         results.bare_create, apply_ratio, "-", "(report)"),
        (f"{results.upgrade.label}, {sizes.stacks}", results.upgrade, "bare boto3 update",
         results.bare_update, upgrade_ratio, f"<= {UPGRADE_GOAL}x",
         verdict(upgrade_ratio <= UPGRADE_GOAL)),
    ]  # fmt: skip
    header = (
        f"{'timing':<32} {'s':>6} {'cpu s':>11}   {'reference':<18} {'s':>6} {'cpu s':>11} "
        f"{'ratio':>6}  {'goal':<7} verdict"
    )
    print(header)
    print("-" * len(header))
    for label, mine, ref_label, ref, ratio, goal, said in rows:
        print(
            f"{label:<32} {mine.median:>6.2f} {mine.cpu():>11}   {ref_label:<18} "
            f"{ref.median:>6.2f} {ref.cpu():>11} {ratio:>5.2f}x  {goal:<7} {said}"
        )
    print("cpu s: CPU seconds of the command's process + of the sandbox server (medians)")

    listed = results.stacks_listed
    budget = math.ceil(listed / MOTO_PAGE_SIZE) + CALL_SLACK
    print(
        f"\nAWS calls, counted on the wire by the proxy; {listed} stacks listed in {REGION}, "
        f"DescribeStacks page size {MOTO_PAGE_SIZE} on moto ({AWS_PAGE_SIZE} on AWS): "
        f"goal ceil({listed}/{MOTO_PAGE_SIZE}) + {CALL_SLACK} = {budget}"
    )
    header = f"{'calls':<40} {'total':>7} {'/stack':>7}  {'goal':<7} {'verdict':<8} by action"
    print(header)
    print("-" * len(header))
    for sample in (results.status, results.plan):
        print(
            f"{sample.label:<40} {call_range(sample):>7} {'-':>7}  {'<= ' + str(budget):<7} "
            f"{verdict(sample.most_calls <= budget):<8} {by_action(sample.calls[-1])}"
        )
    for sample in (results.apply, results.bare_create, results.upgrade, results.bare_update):
        total = sample.most_calls
        print(
            f"{sample.label:<40} {total:>7} {total / sizes.stacks:>7.1f}  {'-':<7} {'':<8} "
            f"{by_action(sample.calls[-1])}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=200, help="service instances (200)")
    parser.add_argument("--environments", type=int, default=10, help="environments (10)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of status and plan (5)")
    parser.add_argument(
        "--upgrades", type=int, default=3, help="upgrades, each beside its bare update (3)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="stacks at once (8)")
    args = parser.parse_args()
    if min(args.instances, args.environments, args.repeat, args.upgrades, args.concurrency) < 1:
        parser.error("every size must be at least 1")
    sizes = Sizes(args.instances, args.environments)
    with tempfile.TemporaryDirectory(prefix="pcli-fleet-bench-") as root:
        results = benchmark(Path(root), sizes, args.repeat, args.upgrades, args.concurrency)
    print_report(results)


if __name__ == "__main__":
    main()
