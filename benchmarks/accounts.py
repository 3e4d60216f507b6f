"""Accounts: status of 5 accounts x 2 regions x 40 stacks against 1 account x 1 region x 400.

One run starts its own sandbox server and counting proxy (benchmarks/fleet.py's `sandbox_server`
and benchmarks/deploy.py's `CountingProxy`: the sandbox's server code in a process of its own on
a free port, PCLI_HOME in a temporary folder) and builds two workspaces of the same fleet, laid
out two ways, with fleet.py's tiny blueprints (an environment of one AWS::SNS::Topic, a service
of one AWS::SQS::Queue per instance, no pipelines), published once at 1.0:

- single: every stack in the caller's own account (moto's 123456789012) and one region,
  us-east-1: A x R x S stacks (default 5 x 2 x 40 = 400);
- accounts: A named accounts (`pcli account add acctK --id KKKKKKKKKKKK --role-arn
  arn:aws:iam::KKKKKKKKKKKK:role/pcli-deploy`; moto's STS puts what assumed credentials make
  into the role's account) x R regions (us-west-2, us-east-1, ...), S stacks in each
  account-region. pcli.yaml's region is us-west-2; no environment lives in the caller's own
  account, but status reads pcli.yaml's region there too (for orphans): one more, empty, page.

Each workspace has one environment per account-region (the single one: as many environments, all
in us-east-1) and S - 1 services of one instance per environment, so both hold the same
environments, services and instances, and their spec files differ by `account:` and `region:`.
Environments are written with `env create --region R [--account NAME] --no-deploy`, services
with pcli's own `create_service` in-process (no AWS call), and each workspace is deployed with
`pcli apply --yes --concurrency C` (one run each, reported, no goal).

What is measured: `pcli status --json` of each workspace as a subprocess through the proxy, R
runs each (default 7) after a warm-up, interleaved; wall time (the ratio accounts / single is the
median of the ratios of runs made side by side: the machine is shared and its speed drifts;
goal <= 1.5x) and AWS calls by action (goal: for each account and region read, ceil(stacks
there / page size) DescribeStacks pages, at least one, plus one AssumeRole per named account;
the stacks per place are read straight from the server, not counted). Then, in the same run,
benchmarks/registries.py's `measure` (publish and read of a version through an S3 and a git
registry against the folder registry) on the same sandbox server.

Prints the tables with the goal beside each figure and PASS or OVER; exits 0 whatever the
figures (benchmarks never fail CI), non-zero only when a command it runs fails.

Usage: .venv/bin/python benchmarks/accounts.py [--accounts A] [--regions R] [--stacks S]
       [--repeat N] [--registry-repeat N] [--concurrency C]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import CountingProxy  # benchmarks/deploy.py, beside this
from fleet import (  # benchmarks/fleet.py, beside this
    ENV_BLUEPRINT,
    MOTO_PAGE_SIZE,
    PCLI,
    SVC_BLUEPRINT,
    Bench,
    Meter,
    Sample,
    all_stacks,
    by_action,
    call_range,
    paired_ratio,
    publish,
    run,
    sandbox_server,
    verdict,
)
from registries import measure  # benchmarks/registries.py, beside this
from registries import print_report as print_registries
from status import in_process  # benchmarks/status.py, beside this

SINGLE_REGION = "us-east-1"
HOME_REGION = "us-west-2"  # the accounts workspace's pcli.yaml region: none of single's stacks
REGIONS = (HOME_REGION, "us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")
MAX_ACCOUNTS = 9  # ids 111111111111 ... 999999999999
WALL_GOAL = 1.5  # accounts' status within 1.5x of single's
ROLE_NAME = "pcli-deploy"
SANDBOX_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@dataclass(frozen=True)
class Layout:
    accounts: int
    regions: int
    per_place: int  # stacks in each account-region: one environment, the rest instances

    def account_names(self) -> list[str]:
        return [f"acct{k}" for k in range(1, self.accounts + 1)]

    @staticmethod
    def account_id(name: str) -> str:
        return name.removeprefix("acct") * 12

    def role_arn(self, name: str) -> str:
        return f"arn:aws:iam::{self.account_id(name)}:role/{ROLE_NAME}"

    def places(self) -> list[tuple[str, str]]:
        """The accounts workspace's (account, region) pairs, one environment each."""
        return [(a, r) for a in self.account_names() for r in REGIONS[: self.regions]]

    def environment_names(self) -> list[str]:
        return [f"env{k:02d}" for k in range(len(self.places()))]

    def services(self) -> dict[str, list[tuple[str, str]]]:
        """Service name -> its (instance, environment) pairs: one instance per environment."""
        return {
            service: [(f"{service}-{env}", env) for env in self.environment_names()]
            for service in (f"svc{k:02d}" for k in range(self.per_place - 1))
        }

    @property
    def stacks(self) -> int:
        return self.accounts * self.regions * self.per_place


@dataclass
class Side:
    """One workspace: its bench, what its status read (places and stacks there), its samples."""

    name: str
    bench: Bench
    status: Sample
    apply: Sample
    listed: dict[tuple[str | None, str], int] = field(default_factory=dict)  # place -> stacks
    assumptions: int = 0  # named accounts whose role status assumes
    said: dict[str, Any] = field(default_factory=dict)  # status --json's summary and accounts

    @property
    def pages(self) -> int:
        return sum(max(1, math.ceil(n / MOTO_PAGE_SIZE)) for n in self.listed.values())

    @property
    def budget(self) -> int:
        return self.pages + self.assumptions


@dataclass
class Results:
    layout: Layout
    concurrency: int
    single: Side
    spread: Side
    own_account: str = ""
    registry_rows: list[Any] = field(default_factory=list)
    registry_repeat: int = 0


# --- the workspaces -------------------------------------------------------------------------


def build_single(bench: Bench, layout: Layout) -> None:
    env = bench.child_env()
    init = ["init", str(bench.workspace), "--name", "single", "--region", SINGLE_REGION]
    run([str(PCLI), *init], env)
    for name in layout.environment_names():
        create = ["env", "create", name, "-b", ENV_BLUEPRINT, "--region", SINGLE_REGION]
        run(bench.pcli(*create, "--no-deploy"), env)
    write_services(bench, layout)


def build_spread(bench: Bench, layout: Layout) -> None:
    env = bench.child_env()
    init = ["init", str(bench.workspace), "--name", "accounts", "--region", HOME_REGION]
    run([str(PCLI), *init], env)
    for account in layout.account_names():
        add = ["--id", layout.account_id(account), "--role-arn", layout.role_arn(account)]
        run(bench.pcli("account", "add", account, *add), env)
    for name, (account, region) in zip(layout.environment_names(), layout.places(), strict=True):
        create = ["env", "create", name, "-b", ENV_BLUEPRINT, "--region", region]
        run(bench.pcli(*create, "--account", account, "--no-deploy"), env)
    write_services(bench, layout)


def write_services(bench: Bench, layout: Layout) -> None:
    """Every service's spec file, by pcli's own `create_service` in-process (no AWS call)."""
    from protoncli.deploy.service_create import create_service

    with in_process(bench) as project:
        for service, pairs in layout.services().items():
            create_service(project, service, SVC_BLUEPRINT, instances=pairs)


# --- what is there, read straight from the server (not counted) -----------------------------


def client(sandbox_url: str, service: str, region: str, role_arn: str | None = None) -> Any:
    import boto3

    keys: dict[str, str] = dict(SANDBOX_KEYS)
    if role_arn is not None:
        sts = boto3.session.Session().client(
            "sts", region_name=region, endpoint_url=sandbox_url, **keys
        )
        got = sts.assume_role(RoleArn=role_arn, RoleSessionName="bench")["Credentials"]
        keys = {
            "aws_access_key_id": got["AccessKeyId"],
            "aws_secret_access_key": got["SecretAccessKey"],
            "aws_session_token": got["SessionToken"],
        }
    session = boto3.session.Session()
    return session.client(service, region_name=region, endpoint_url=sandbox_url, **keys)


def own_account(sandbox_url: str) -> str:
    answer = client(sandbox_url, "sts", SINGLE_REGION).get_caller_identity()
    return str(answer["Account"])


def count_places(sandbox_url: str, layout: Layout, side: Side, spread: bool) -> None:
    """The places `pcli status` reads and the stacks each holds: single's one region; the
    accounts workspace's account-regions and pcli.yaml's region in the caller's own account."""
    places: list[tuple[str | None, str]] = (
        [*layout.places(), (None, HOME_REGION)] if spread else [(None, SINGLE_REGION)]
    )
    for account, region in places:
        role = None if account is None else layout.role_arn(account)
        side.listed[(account, region)] = len(
            all_stacks(client(sandbox_url, "cloudformation", region, role))
        )
    side.assumptions = layout.accounts if spread else 0


# --- measuring ------------------------------------------------------------------------------


def summary_of(output: str) -> dict[str, Any]:
    """status --json's summary, and the accounts and regions its resources name."""
    document = json.loads(output)
    resources = document["resources"]
    return {
        "summary": document["summary"],
        "accounts": sorted({str(r.get("account")) for r in resources}),
        "regions": sorted({str(r.get("region")) for r in resources}),
    }


def benchmark(root: Path, layout: Layout, repeat: int, registry_repeat: int, c: int) -> Results:
    home = root / "home"
    with sandbox_server(root) as (sandbox_url, pid), CountingProxy(sandbox_url) as proxy:
        meter = Meter(proxy.counter, pid)
        single = Side(
            "single",
            Bench(home, root / "single", proxy.url, sandbox_url),
            Sample("single: pcli status --json"),
            Sample(f"single: pcli apply, {layout.stacks} new"),
        )
        spread = Side(
            "accounts",
            Bench(home, root / "accounts", proxy.url, sandbox_url),
            Sample("accounts: pcli status --json"),
            Sample(f"accounts: pcli apply, {layout.stacks} new"),
        )
        results = Results(layout, c, single, spread, registry_repeat=registry_repeat)
        publish(single.bench, root / "bundles", "1.0")  # one registry (PCLI_HOME's) for both
        build_single(single.bench, layout)
        build_spread(spread.bench, layout)
        env = single.bench.child_env()
        for side in (single, spread):
            apply = side.bench.pcli("apply", "--yes", "--concurrency", str(c))
            meter.timed(side.apply, apply, env)

        results.own_account = own_account(sandbox_url)
        count_places(sandbox_url, layout, single, spread=False)
        count_places(sandbox_url, layout, spread, spread=True)
        for side in (single, spread):  # the warm-up, also a look at what status says
            side.said = summary_of(run(side.bench.pcli("status", "--json"), env).stdout)
        for k in range(repeat):
            pair = (single, spread) if k % 2 else (spread, single)
            for side in pair:
                meter.timed(side.status, side.bench.pcli("status", "--json"), env)

        os.environ["PCLI_HOME"] = str(root / "registries-home")  # never the user's caches
        results.registry_rows = measure(sandbox_url, root / "registries", registry_repeat)
    return results


# --- reporting ------------------------------------------------------------------------------


def describe_said(side: Side) -> str:
    summary = side.said["summary"]
    accounts = ", ".join("own" if a == "None" else a for a in side.said["accounts"])
    return (
        f"{side.name}: {summary['total']} items, {summary['up_to_date']} up to date, "
        f"{summary['pending']} pending, {summary['orphaned']} orphaned; accounts {accounts}; "
        f"regions {', '.join(side.said['regions'])}"
    )


def goal_words(side: Side) -> str:
    """How the side's call budget is counted, in words."""
    by_count = Counter(side.listed.values())
    parts = [
        f"{places} x max(1, ceil({stacks}/{MOTO_PAGE_SIZE}))"
        for stacks, places in sorted(by_count.items(), reverse=True)
    ]
    words = f"DescribeStacks pages: {' + '.join(parts)} = {side.pages}"
    if side.assumptions:
        words += f"; AssumeRole: {side.assumptions} (one per named account)"
    return f"{words}; goal {side.budget}"


def print_header(results: Results) -> None:
    layout = results.layout
    envs = len(layout.environment_names())
    services = len(layout.services())
    print(
        f"accounts: the same {layout.stacks} stacks ({envs} environments, "
        f"{layout.stacks - envs} service instances in {services} services, no pipelines) laid "
        "out two ways on one sandbox server"
    )
    print(
        f"  single:   1 account (the caller's own, {results.own_account}) x 1 region "
        f"({SINGLE_REGION}) x {layout.stacks} stacks"
    )
    regions = ", ".join(REGIONS[: layout.regions])
    ids = f"{layout.account_id('acct1')} ... {layout.account_id(f'acct{layout.accounts}')}"
    own = results.spread.listed[(None, HOME_REGION)]
    print(
        f"  accounts: {layout.accounts} named accounts ({ids}, roles "
        f"arn:aws:iam::<id>:role/{ROLE_NAME}) x {layout.regions} regions ({regions}) x "
        f"{layout.per_place} stacks; status also reads pcli.yaml's region ({HOME_REGION}) in "
        f"the caller's own account ({own} stacks there)"
    )
    print(
        f"pcli status --json: median of {len(results.single.status.seconds)} runs each after a "
        "warm-up, interleaved; ratio: the median of the ratios of runs made side by side; "
        f"apply: one run each, concurrency {results.concurrency}\n"
    )


def print_timings(results: Results) -> None:
    single, spread = results.single, results.spread
    ratio = paired_ratio(spread.status, single.status)
    rows = [
        (single.status, "1.00x", "-", ""),
        (spread.status, f"{ratio:.2f}x", f"<= {WALL_GOAL}x", verdict(ratio <= WALL_GOAL)),
        (single.apply, "-", "-", "(report)"),
        (spread.apply, f"{spread.apply.median / single.apply.median:.2f}x", "-", "(report)"),
    ]
    header = f"{'timing':<36} {'s':>6} {'cpu s':>11} {'ratio':>6}  {'goal':<7} verdict"
    print(header)
    print("-" * len(header))
    for sample, shown, goal, said in rows:
        print(
            f"{sample.label:<36} {sample.median:>6.2f} {sample.cpu():>11} {shown:>6}  "
            f"{goal:<7} {said}"
        )
    print("cpu s: CPU seconds of the command's process + of the sandbox server (medians)")


def print_calls(results: Results) -> None:
    single, spread = results.single, results.spread
    print(
        f"\nAWS calls, counted on the wire by the proxy; DescribeStacks page size "
        f"{MOTO_PAGE_SIZE} on moto (100 on AWS); stacks per place read straight from the server"
    )
    for side in (single, spread):
        print(f"  {side.name}: {goal_words(side)}")
    header = f"{'calls':<36} {'total':>7}  {'goal':<7} {'verdict':<8} by action"
    print(header)
    print("-" * len(header))
    for side in (single, spread):
        sample = side.status
        print(
            f"{sample.label:<36} {call_range(sample):>7}  {'<= ' + str(side.budget):<7} "
            f"{verdict(sample.most_calls <= side.budget):<8} {by_action(sample.calls[-1])}"
        )
    for side in (single, spread):
        sample = side.apply
        print(f"{sample.label:<36} {sample.most_calls:>7}  {'-':<7} {'':<8} ", end="")
        print(by_action(sample.calls[-1]))
    print("\nstatus said (the warm-up run):")
    for side in (single, spread):
        print(f"  {describe_said(side)}")


def print_report(results: Results) -> None:
    print_header(results)
    print_timings(results)
    print_calls(results)
    print()
    print_registries(results.registry_rows, results.registry_repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=5, help="named accounts (5, at most 9)")
    parser.add_argument(
        "--regions", type=int, default=2, help=f"regions per account (2, at most {len(REGIONS)})"
    )
    parser.add_argument(
        "--stacks", type=int, default=40, help="stacks per account and region (40, at least 2)"
    )
    parser.add_argument("--repeat", type=int, default=7, help="runs of each status (7)")
    parser.add_argument(
        "--registry-repeat", type=int, default=20, help="runs of each registry operation (20)"
    )
    parser.add_argument("--concurrency", type=int, default=8, help="apply's stacks at once (8)")
    args = parser.parse_args()
    if not 1 <= args.accounts <= MAX_ACCOUNTS or not 1 <= args.regions <= len(REGIONS):
        parser.error(f"--accounts goes from 1 to {MAX_ACCOUNTS}, --regions to {len(REGIONS)}")
    if args.stacks < 2 or min(args.repeat, args.registry_repeat, args.concurrency) < 1:
        parser.error("--stacks must be at least 2, the others at least 1")
    layout = Layout(args.accounts, args.regions, args.stacks)
    with tempfile.TemporaryDirectory(prefix="pcli-accounts-bench-") as root:
        results = benchmark(Path(root), layout, args.repeat, args.registry_repeat, args.concurrency)
    print_report(results)


if __name__ == "__main__":
    main()
