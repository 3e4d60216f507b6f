"""Terraform: `pcli env deploy` of the Terraform starter next to `terraform apply` by hand.

One run starts its own sandbox server (benchmarks/fleet.py's `sandbox_server`: the sandbox's own
code in a process of its own on a free port, PCLI_HOME in a temporary folder, so the user's
sandbox is never touched). Terraform takes the AWS provider from a filesystem mirror (default
/opt/tf-plugins) through a CLI config file of the run's own (TF_CLI_CONFIG_FILE), for pcli's
Terraform and the reference alike; without `terraform` on PATH or the mirror, the run says so
and exits 0.

A workspace (`pcli init`) gets environment `dev` of the Terraform starter (`tf-vpc-env`), made
with `pcli env create --yes` (not timed). Each run then moves the spec's `log_retention_days`
to the other of 14 and 30 (an in-place update of the environment's log group), so every run
changes something:

1. `pcli env deploy dev --yes` (pcli renders the folder, then terraform plan -json, show -json
   and apply -json of the plan, and records the state in S3; `terraform init` only when the
   configuration or backend changed, the outputs from the apply's own report), next to
   the reference: the folder pcli rendered for the same value, copied to a folder of its own
   whose backend config names another state key (initialised and applied once at set-up, so
   both sides start each run from the same state), where `terraform apply -auto-approve` runs
   by hand with the same credentials, endpoint and region. pcli shows the plan before it
   applies, so the fair reference also pays `terraform plan -out=p` and `terraform show -json
   p` (timed in the reference's folder before its apply): the goal is pcli within 1.1x of
   plan + show + apply. The raw ratio (against the apply alone) is reported too, and the
   reference's `terraform init -reconfigure` and `terraform output -json` as figures (what a
   run that initialises every time and asks for the outputs apart would add). N runs
   (default 5) after a warm-up, the sides' order alternated; a ratio is the median of the
   runs' ratios (the machine is shared, its speed drifts).
2. With `provisioning: pull-request` and `provisioning_repository:` (a local bare git
   repository, its `main` seeded with one commit) in pcli.yaml, `pcli env deploy dev --yes`
   commits the rendered folder on a new branch and pushes it: its wall time, the pushed branch
   checked after each run. Each run gives the spec a `vpc_cidr` of its own (10.K.0.0/16), so
   each is a deployment of its own. A pending pull request blocks the
   next deploy, so each run is closed with `pcli notify --deployment-id ID --status
   SUCCEEDED`, the id read from the branch's `.proton/deployment-metadata.json` (not timed).
   P runs (default 5) after a warm-up.

Prints the Terraform and provider versions and the CPU count, then one table with the goal,
PASS or OVER; exits 0 whatever the figures, non-zero only when a command it runs fails.

With --tiny, both kinds of run deploy a blueprint of Terraform's built-in `terraform_data`
instead (no provider, no waits; its `label` alternated, or one of its own per pull request):
the figures then say little, but every step runs in seconds (the smoke test's mode).

Usage: .venv/bin/python benchmarks/terraform.py [--repeat N] [--pr-repeat P] [--mirror DIR]
       [--tiny]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deploy import child_env  # benchmarks/deploy.py, beside this
from fleet import (  # benchmarks/fleet.py, beside this
    PCLI,
    REGION,
    Sample,
    children_cpu,
    process_cpu,
    run,
    sandbox_server,
    verdict,
)

WORKSPACE_NAME = "tfbench"
ENVIRONMENT = "dev"
PROVIDER = "registry.terraform.io/hashicorp/aws"
DEFAULT_MIRROR = Path("/opt/tf-plugins")
DEPLOY_GOAL = 1.1  # pcli within 1.1x of terraform plan + show -json + apply
BACKEND_CONFIG = "pcli.s3.tfbackend"  # the backend config pcli writes in its work folder
TERRAFORM_OWN = (".terraform", ".terraform.lock.hcl", "pcli.tfplan", "p", BACKEND_CONFIG)
REFERENCE_KEY = f"reference/{ENVIRONMENT}/terraform.tfstate"
REFERENCE_NAME = f"reference-{ENVIRONMENT}"  # the reference's resources' names: not pcli's
TFVARS = "proton.auto.tfvars.json"
METADATA = ".proton/deployment-metadata.json"
# What pcli gives every terraform it runs (provision/terraform.py); the reference gets it too.
TF_AUTOMATION = {"TF_IN_AUTOMATION": "1", "TF_INPUT": "0", "CHECKPOINT_DISABLE": "1"}
CLI_CONFIG = """\
provider_installation {
  filesystem_mirror {
    path    = "%s"
    include = ["%s"]
  }
  direct {
    exclude = ["%s"]
  }
}
"""


@dataclass(frozen=True)
class Subject:
    """What the runs deploy: a blueprint, the input each deploy run alternates (an in-place
    update), and the input each pull-request run gives a value of its own."""

    blueprint: str
    key: str
    values: tuple[object, object]
    change: str  # what a run changes, in words
    pr_key: str
    pr_value: Callable[[int], object]
    files: dict[str, str] = field(default_factory=dict)  # a bundle to publish first


STARTER = Subject(
    "tf-vpc-env",
    "log_retention_days",
    (14, 30),
    "an in-place update of the log group",
    "vpc_cidr",
    lambda k: f'"10.{k + 1}.0.0/16"',
)
# --tiny (the smoke test): Terraform's built-in terraform_data, no provider and no waits, so
# the set-up takes seconds instead of the minute the starter's VPC and subnets take.
TINY = Subject(
    "tf-tiny-env",
    "label",
    ("a", "b"),
    "an in-place update of a terraform_data",
    "label",
    lambda k: f"pr-{k}",
    {
        "schema/schema.yaml": (
            'schema:\n  format: {openapi: "3.0.0"}\n  environment_input_type: TinyInput\n'
            "  types:\n    TinyInput:\n      type: object\n      properties:\n"
            '        label: {type: string, default: "a"}\n'
        ),
        "infrastructure/manifest.yaml": (
            'infrastructure:\n  templates:\n    - file: "*"\n      rendering_engine: hcl\n'
            "      template_language: terraform\n"
        ),
        "infrastructure/main.tf": (
            'resource "terraform_data" "label" {\n  input = var.environment.inputs.label\n}\n\n'
            'output "label" {\n  value = terraform_data.label.output\n}\n'
        ),
    },
)


@dataclass(frozen=True)
class Bench:
    home: Path
    workspace: Path
    sandbox_url: str
    cli_config: Path
    subject: Subject = STARTER

    def child_env(self) -> dict[str, str]:
        """benchmarks/deploy.py's clean environment (dummy credentials, AWS_ENDPOINT_URL at the
        sandbox), plain progress lines, the provider from the mirror."""
        return child_env(
            self.home,
            self.sandbox_url,
            REGION,
            CI="1",
            AWS_REGION=REGION,
            TF_CLI_CONFIG_FILE=str(self.cli_config),
        )

    def terraform_env(self) -> dict[str, str]:
        """The reference's environment: the same credentials, endpoint, region and CLI config
        as pcli's Terraform, with the variables pcli sets for it."""
        return {**self.child_env(), **TF_AUTOMATION}

    def pcli(self, *args: str) -> list[str]:
        return [str(PCLI), "--workspace", str(self.workspace), *args]


@dataclass
class Results:
    terraform_version: str = "?"
    provider_version: str = "?"
    pcli_deploy: Sample = field(default_factory=lambda: Sample("pcli env deploy"))
    apply: Sample = field(default_factory=lambda: Sample("terraform apply -auto-approve"))
    plan: Sample = field(default_factory=lambda: Sample("terraform plan -out=p"))
    show: Sample = field(default_factory=lambda: Sample("terraform show -json p"))
    init: Sample = field(default_factory=lambda: Sample("terraform init -reconfigure"))
    output: Sample = field(default_factory=lambda: Sample("terraform output -json"))
    pull_request: Sample = field(default_factory=lambda: Sample("pcli env deploy, pull request"))
    branches: list[str] = field(default_factory=list)

    def samples(self) -> list[Sample]:
        return [self.pcli_deploy, self.apply, self.plan, self.show, self.init, self.output]


# --- measuring ------------------------------------------------------------------------------


def timed(
    sample: Sample, args: list[str], env: dict[str, str], server_pid: int, cwd: Path | None = None
) -> str:
    """Run the command once; record its wall time and the CPU time of it (its children
    included: pcli's terraform) and of the sandbox server. Its output."""
    server_before, client_before = process_cpu(server_pid), children_cpu()
    start = time.perf_counter()
    done = run(args, env) if cwd is None else run_in(args, env, cwd)
    sample.seconds.append(time.perf_counter() - start)
    sample.client_cpu.append(children_cpu() - client_before)
    server_after = process_cpu(server_pid)
    known = server_before is not None and server_after is not None
    sample.server_cpu.append(server_after - server_before if known else None)  # type: ignore[operator]
    return done.stdout + done.stderr


def run_in(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = (done.stdout + done.stderr).splitlines()[-40:]
        raise SystemExit(
            f"failed ({done.returncode}) in {cwd}: {' '.join(args)}\n" + "\n".join(said)
        )
    return done


def drop_last(*samples: Sample) -> None:
    """Forget the last run (a warm-up)."""
    for sample in samples:
        for values in (sample.seconds, sample.client_cpu, sample.server_cpu):
            values.pop()


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): git {' '.join(args)}\n{done.stderr}")
    return done.stdout


# --- set-up ---------------------------------------------------------------------------------


def missing_tools(mirror: Path) -> str | None:
    """Why the benchmark cannot run here, or None."""
    if shutil.which("terraform") is None:
        return "terraform is not on PATH"
    provider = mirror / PROVIDER
    if not provider.is_dir() or not any(provider.iterdir()):
        return f"no provider mirror of {PROVIDER} under {mirror}"
    if shutil.which("git") is None:
        return "git is not on PATH"
    return None


def spec_file(bench: Bench) -> Path:
    return bench.workspace / "environments" / f"{ENVIRONMENT}.yaml"


def set_input(bench: Bench, key: str, value: object) -> None:
    """The environment's spec with `key: value` (its line changed, or added under `spec:`)."""
    spec = spec_file(bench)
    text = spec.read_text(encoding="utf-8")
    line = re.compile(rf"^(\s*{key}:\s*)\S+\s*$", re.MULTILINE)
    moved, count = line.subn(rf"\g<1>{value}", text, count=1)
    if count == 0 and "\nspec:\n" in text:  # pcli leaves out an input at its default
        moved, count = text.replace("\nspec:\n", f"\nspec:\n  {key}: {value}\n", 1), 1
    if count != 1:
        raise SystemExit(f"{spec}: no `{key}:` line\n{text}")
    spec.write_text(moved, encoding="utf-8")


def work_folder(bench: Bench) -> Path:
    """pcli's work folder of the environment (state/provisioned/<ws>/<account>/<region>/<stack>)."""
    found = sorted((bench.home / "state" / "provisioned").glob(f"{WORKSPACE_NAME}/*/{REGION}/*"))
    if len(found) != 1:
        raise SystemExit(f"expected one pcli work folder, found {[str(f) for f in found]}")
    return found[0]


def snapshot(folder: Path, into: Path) -> Path:
    """The rendered files of pcli's work folder (not Terraform's own files nor the backend)."""
    shutil.copytree(folder, into, ignore=lambda _d, names: [n for n in names if n in TERRAFORM_OWN])
    return into


def load_rendered(reference: Path, rendered: Path) -> None:
    """The reference's folder holds `rendered`'s files, its Terraform files and backend kept,
    and the environment's name changed (the names of what it makes: its own log group)."""
    for entry in reference.iterdir():
        if entry.name in TERRAFORM_OWN:
            continue
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    shutil.copytree(rendered, reference, dirs_exist_ok=True)
    tfvars = reference / TFVARS
    document = json.loads(tfvars.read_text(encoding="utf-8"))
    document["environment"]["name"] = REFERENCE_NAME
    tfvars.write_text(json.dumps(document, indent=2), encoding="utf-8")


def make_reference(folder: Path, rendered: Path, reference: Path) -> None:
    """A copy of pcli's work folder whose backend keeps its state under another key."""
    reference.mkdir()
    load_rendered(reference, rendered)
    backend = (folder / BACKEND_CONFIG).read_text(encoding="utf-8")
    moved, count = re.subn(r'(?m)^key = ".*"$', f'key = "{REFERENCE_KEY}"', backend)
    if count != 1:
        raise SystemExit(f"{folder / BACKEND_CONFIG}: no `key = ...` line\n{backend}")
    (reference / BACKEND_CONFIG).write_text(moved, encoding="utf-8")


def versions(reference: Path, env: dict[str, str], results: Results) -> None:
    said = json.loads(run_in(["terraform", "version", "-json"], env, reference).stdout)
    results.terraform_version = said.get("terraform_version", "?")
    results.provider_version = said.get("provider_selections", {}).get(PROVIDER, "?")


def make_provisioning_repository(root: Path) -> Path:
    """A bare repository whose `main` holds one commit."""
    bare, seed = root / "provisioning.git", root / "provisioning-seed"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    git("init", "--quiet", "--initial-branch=main", str(seed))
    (seed / "README.md").write_text("Terraform folders pcli publishes.\n", encoding="utf-8")
    identity = ("-c", "user.name=bench", "-c", "user.email=bench@localhost")
    git("add", "README.md", cwd=seed)
    git(*identity, "commit", "--quiet", "-m", "first commit", cwd=seed)
    git("push", "--quiet", str(bare), "main", cwd=seed)
    return bare


def pcli_branches(bare: Path) -> set[str]:
    listed = git(
        "--git-dir", str(bare), "for-each-ref", "--format=%(refname:short)", "refs/heads/pcli/"
    )
    return set(listed.split())


def deployment_id(bare: Path, branch: str) -> str:
    files = git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", branch).split()
    found = [name for name in files if name.endswith(METADATA)]
    if len(found) != 1:
        raise SystemExit(f"branch {branch}: expected one {METADATA}, found {found}")
    document = json.loads(git("--git-dir", str(bare), "show", f"{branch}:{found[0]}"))
    return str(document["deploymentId"])


# --- the runs -------------------------------------------------------------------------------


def deploy_runs(bench: Bench, root: Path, pid: int, repeat: int, results: Results) -> None:
    env, tf_env = bench.child_env(), bench.terraform_env()
    run([str(PCLI), "init", str(bench.workspace), "--name", WORKSPACE_NAME], env)
    subject = bench.subject
    if subject.files:
        bundle = root / subject.blueprint
        for name, text in subject.files.items():
            (bundle / name).parent.mkdir(parents=True, exist_ok=True)
            (bundle / name).write_text(text, encoding="utf-8")
        run(bench.pcli("blueprint", "publish", str(bundle), "--name", subject.blueprint), env)
    first = subject.values[0]
    create = [
        "env",
        "create",
        ENVIRONMENT,
        "-b",
        subject.blueprint,
        "--param",
        f"{subject.key}={first}",
    ]
    run(bench.pcli(*create, "--yes"), env)
    folder = work_folder(bench)
    rendered = {first: snapshot(folder, root / f"rendered-{first}")}
    reference = root / "reference"
    make_reference(folder, rendered[first], reference)
    backend = f"-backend-config={BACKEND_CONFIG}"
    run_in(["terraform", "init", "-input=false", backend], tf_env, reference)
    run_in(["terraform", "apply", "-input=false", "-auto-approve"], tf_env, reference)
    versions(reference, tf_env, results)

    def pcli_side(days: object) -> None:
        said = timed(
            results.pcli_deploy, bench.pcli("env", "deploy", ENVIRONMENT, "--yes"), env, pid
        )
        if "No changes" in said:
            raise SystemExit(f"pcli env deploy changed nothing ({subject.key} {days})\n{said}")
        if days not in rendered:
            rendered[days] = snapshot(folder, root / f"rendered-{days}")

    def reference_side(days: object) -> None:
        load_rendered(reference, rendered[days])
        tf = ["terraform"]
        timed(
            results.init,
            [*tf, "init", "-input=false", "-reconfigure", backend],
            tf_env,
            pid,
            reference,
        )
        timed(results.plan, [*tf, "plan", "-input=false", "-out=p"], tf_env, pid, reference)
        timed(results.show, [*tf, "show", "-json", "p"], tf_env, pid, reference)
        said = timed(
            results.apply, [*tf, "apply", "-input=false", "-auto-approve"], tf_env, pid, reference
        )
        if "0 added, 1 changed, 0 destroyed" not in said:
            raise SystemExit(f"the reference's apply did not make {subject.change} only\n{said}")
        timed(results.output, [*tf, "output", "-json"], tf_env, pid, reference)

    for k in range(repeat + 1):  # k = 0 is the warm-up (pcli first: it renders the new value)
        days = subject.values[(k + 1) % 2]
        set_input(bench, subject.key, days)
        sides = (pcli_side, reference_side) if k % 2 == 0 else (reference_side, pcli_side)
        for side in sides:
            side(days)
        if k == 0:
            drop_last(*results.samples())


def pull_request_runs(bench: Bench, root: Path, pid: int, repeat: int, results: Results) -> None:
    env = bench.child_env()
    bare = make_provisioning_repository(root)
    settings = bench.workspace / "pcli.yaml"
    added = (
        f"\nprovisioning: pull-request\nprovisioning_repository:\n  url: {bare}\n  branch: main\n"
    )
    settings.write_text(settings.read_text(encoding="utf-8") + added, encoding="utf-8")
    for k in range(repeat + 1):  # k = 0 is the warm-up
        # A CIDR of its own per run: a spec pcli deployed before has the same deployment id
        # (deploy/rendering.py), so it would name a branch already pushed.
        set_input(bench, bench.subject.pr_key, bench.subject.pr_value(k))
        before = pcli_branches(bare)
        timed(results.pull_request, bench.pcli("env", "deploy", ENVIRONMENT, "--yes"), env, pid)
        new = sorted(pcli_branches(bare) - before)
        if len(new) != 1:
            raise SystemExit(f"expected one new branch in {bare} after run {k}, found {new}")
        results.branches += new
        notify = ["notify", "--deployment-id", deployment_id(bare, new[0]), "--status", "SUCCEEDED"]
        run(bench.pcli(*notify), env)
        if k == 0:
            drop_last(results.pull_request)


def benchmark(root: Path, mirror: Path, repeat: int, pr_repeat: int, subject: Subject) -> Results:
    cli_config = root / "cli.tfrc"
    cli_config.write_text(CLI_CONFIG % (mirror, PROVIDER, PROVIDER), encoding="utf-8")
    results = Results()
    with sandbox_server(root) as (sandbox_url, pid):
        bench = Bench(root / "home", root / "ws", sandbox_url, cli_config, subject)
        deploy_runs(bench, root, pid, repeat, results)
        pull_request_runs(bench, root, pid, pr_repeat, results)
    return results


# --- reporting ------------------------------------------------------------------------------


def ratios(mine: Sample, *reference: Sample) -> float:
    """The median of run k's ratios of `mine` to the sum of the references' run k."""
    sums = [sum(values) for values in zip(*(r.seconds for r in reference), strict=True)]
    return statistics.median(a / b for a, b in zip(mine.seconds, sums, strict=True))


def summed(*samples: Sample) -> float:
    return statistics.median(
        sum(values) for values in zip(*(s.seconds for s in samples), strict=True)
    )


def print_report(results: Results, repeat: int, pr_repeat: int, subject: Subject) -> None:
    print(
        f"Terraform {results.terraform_version}, provider hashicorp/aws "
        f"{results.provider_version} (filesystem mirror); {os.cpu_count()} CPUs; "
        f"the sandbox (moto) at AWS_ENDPOINT_URL"
    )
    print(
        f"{subject.blueprint} environment {ENVIRONMENT} in {REGION}: each run moves "
        f"{subject.key} {subject.values[0]} <-> {subject.values[1]} ({subject.change}); "
        f"deploys: median of {repeat} runs after a warm-up, the sides' order alternated; "
        f"pull requests: median of {pr_repeat} after a warm-up; ratio: median of the runs' "
        "ratios\n"
    )
    mine = results.pcli_deploy
    raw = ratios(mine, results.apply)
    fair = ratios(mine, results.plan, results.show, results.apply)
    fair_seconds = summed(results.plan, results.show, results.apply)
    header = (
        f"{'timing':<30} {'s':>6} {'cpu s':>11}   {'reference':<34} {'s':>6} {'ratio':>6}  "
        f"{'goal':<7} verdict"
    )
    print(header)
    print("-" * len(header))
    rows = [
        (mine.label, mine, results.apply.label, results.apply.median, raw, "-", "(report)"),
        (mine.label, mine, "plan -out=p + show -json p + apply", fair_seconds, fair,
         f"<= {DEPLOY_GOAL}x", verdict(fair <= DEPLOY_GOAL)),
    ]  # fmt: skip
    for label, sample, ref_label, ref_seconds, ratio, goal, said in rows:
        print(
            f"{label:<30} {sample.median:>6.2f} {sample.cpu():>11}   {ref_label:<34} "
            f"{ref_seconds:>6.2f} {ratio:>5.2f}x  {goal:<7} {said}"
        )
    pr = results.pull_request
    print(
        f"{pr.label:<30} {pr.median:>6.2f} {pr.cpu():>11}   {'(deploy to the pushed branch)':<34} "
        f"{'-':>6} {'-':>6}   {'-':<7} (report)"
    )
    print("\nthe reference's steps, in its folder (median s, cpu s):")
    for sample in (results.init, results.plan, results.show, results.apply, results.output):
        print(f"  {sample.label:<36} {sample.median:>6.2f} {sample.cpu():>11}")
    pcli_steps = summed(results.init, results.plan, results.show, results.apply, results.output)
    print(
        f"  {'init + plan + show + apply + output':<36} {pcli_steps:>6.2f}   "
        "(a run that initialises and asks for outputs every time)"
    )
    print("cpu s: CPU seconds of the command's process (its terraform included) + of the sandbox")
    for sample in (mine, results.apply, pr):
        shown = ", ".join(f"{seconds:.1f}" for seconds in sample.seconds)
        print(f"runs of {sample.label} (s): {shown}")
    print(f"branches pushed: {', '.join(results.branches)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each deploy side (5)")
    parser.add_argument("--pr-repeat", type=int, default=5, help="deploys by pull request (5)")
    parser.add_argument(
        "--mirror", type=Path, default=DEFAULT_MIRROR, help=f"provider mirror ({DEFAULT_MIRROR})"
    )
    parser.add_argument(
        "--tiny",
        action="store_true",
        help="a blueprint of terraform_data only (no provider, no waits): the smoke test's",
    )
    args = parser.parse_args()
    subject = TINY if args.tiny else STARTER
    if min(args.repeat, args.pr_repeat) < 1:
        parser.error("--repeat and --pr-repeat must be at least 1")
    problem = missing_tools(args.mirror)
    if problem is not None:
        print(f"benchmarks/terraform.py: skipped: {problem}")
        return
    with tempfile.TemporaryDirectory(prefix="pcli-terraform-bench-") as root:
        results = benchmark(Path(root), args.mirror.resolve(), args.repeat, args.pr_repeat, subject)
    print_report(results, args.repeat, args.pr_repeat, subject)


if __name__ == "__main__":
    main()
