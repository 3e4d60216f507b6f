"""Golden signals: `pcli svc logs` of 10,000 events and `pcli svc status` of a 20-instance service.

One run starts its own sandbox server and counting proxy (benchmarks/fleet.py's code: the
sandbox's server in a process of its own, PCLI_HOME in a temporary folder) and builds a
workspace (`pcli init`) with fleet.py's tiny environment blueprint (one AWS::SNS::Topic) and
service blueprints written here, then `pcli env create dev --yes`. Every AWS call of every side
goes through the proxy, which counts it by service and action. pcli runs as a subprocess
(`.venv/bin/pcli`) with AWS_ENDPOINT_URL at the proxy.

1. Logs. A service `api` with one instance, `api-dev`, whose stack has two AWS::Logs::LogGroup
   resources (/bench/api/api-dev/app and /access). E events (default 10,000), half in each
   group, are written with boto3 put_log_events in batches of 1,000, straight to the sandbox
   server (setup: neither timed nor counted), in the last few minutes. Measured, R runs of each
   side (default 5) after a warm-up, the sides' order alternated, each printing to a pipe:
   - `pcli svc logs api --since 1h` (it finds the groups in the stack's resources);
   - the reference: `aws logs filter-log-events --log-group-name G --start-time T` (the awscli
     beside sys.executable, which follows every page and prints JSON), once per group (it takes
     one group per run), T an hour before the run; its time is the two runs' sum.
   Both sides must print every event (checked). Goal: pcli within 1.0x of the reference (the
   median of the ratios of runs made side by side).
2. Status. Two services of N instances each (default 20), all in `dev`: `small`, whose
   instance stacks hold an SQS queue, two log groups, an IAM role and one Lambda function
   (inline ZipFile code), and `large`, the same with three Lambda functions. Measured, R runs of
   `pcli svc status NAME` of each after a warm-up: wall time and AWS calls by action. Goal (the
   issue's): the health reads are independent of the number of resources per instance and bulk
   per account and region where an API allows, so the calls other than those AWS offers no
   bulk read for must be the same for `small` and `large`: PASS when they are, OVER when
   `large` makes more. Left out of the comparison (and shown): the per-stack reads of its
   resources (ListStackResources, DescribeStackResources: CloudFormation reads them one stack
   at a time) and Lambda's GetFunction, one per function (ListFunctions, the bulk read, leaves
   out State and LastUpdateStatus, which the health check reads); pcli makes those side by
   side.
3. Guardrails. In this process: the rules of every starter that carries some (vpc-ecs-env,
   fargate-web-svc, sqs-queue-component: four rules in four Guard files) joined in one rule
   set, run on rendered templates as the deploy gate runs them (deploy/guardrails.py: parse the
   template's text, then every rule file through Guard's engine), on a template of starter size
   (a dozen resources) and on one of 200 resources (security groups, buckets, log groups and
   queues, some breaking a rule). Measured: the median of R x 20 checks of each after a
   warm-up. Goal (the issue's): at most 50 ms per rendered template.

Prints the CPU count, then a table of timings and one of calls with the goal beside each figure
and PASS or OVER; exits 0 whatever the figures, non-zero only when a command it runs fails.

Usage: .venv/bin/python benchmarks/golden.py [--events E] [--instances N] [--repeat R]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import CallCounter, CountingProxy, call_name  # benchmarks/deploy.py, beside this
from fleet import (  # benchmarks/fleet.py, beside this
    ENV_BLUEPRINT,
    ENV_SCHEMA,
    ENV_TEMPLATE,
    MANIFEST,
    PCLI,
    PYTHON,
    REGION,
    SVC_SCHEMA,
    WORKSPACE_NAME,
    Bench,
    Sample,
    by_action,
    children_cpu,
    paired_ratio,
    process_cpu,
    run,
    sandbox_server,
    verdict,
    write_bundle,
)

AWS = Path(PYTHON).parent / "aws"  # the awscli of the venv, beside sys.executable
ENVIRONMENT = "dev"
LOGS_SERVICE = "api"
LOGS_INSTANCE = "api-dev"
LOGS_BLUEPRINT = "logs-svc"
LOG_GROUPS = [f"/bench/{LOGS_SERVICE}/{LOGS_INSTANCE}/{part}" for part in ("app", "access")]
BATCH = 1000  # events per put_log_events
SINCE = "1h"
SINCE_MS = 3600 * 1000
LOGS_GOAL = 1.0  # pcli svc logs within 1.0x of the awscli
GUARDRAILS_GOAL_MS = 50.0  # per rendered template
GUARDED_STARTERS = ("vpc-ecs-env", "fargate-web-svc", "sqs-queue-component")
CHECKS_PER_RUN = 20
SIZES = {"small": 1, "large": 3}  # service -> Lambda functions per instance
# Reads AWS has no bulk form of: a stack's resources, a function's state (not in ListFunctions)
PER_RESOURCE = {
    "cloudformation:ListStackResources",
    "cloudformation:DescribeStackResources",
    "lambda:GetFunction",
}
LAMBDA_FUNCTION_PATH = re.compile(r"^/\d{4}-\d{2}-\d{2}/functions/[^/?]+/?(\?|$)")
HEALTH_LINE = re.compile(r"^\S+: (healthy|unhealthy|unknown|not deployed)\b", re.MULTILINE)

LOGS_TEMPLATE = """\
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/bench/{{ service.name }}/{{ service_instance.name }}/app"
      RetentionInDays: 7
  AccessLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/bench/{{ service.name }}/{{ service_instance.name }}/access"
      RetentionInDays: 7
Outputs:
  AppLogGroup:
    Value: !Ref AppLogs
"""
HEALTH_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/bench/{{ service.name }}/{{ service_instance.name }}/app"
  AccessLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/bench/{{ service.name }}/{{ service_instance.name }}/access"
  FunctionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
%s
Outputs:
  QueueUrl:
    Value: !Ref Queue
"""
FUNCTION = """\
  Function%d:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt FunctionRole.Arn
      Code:
        ZipFile: |
          def handler(event, context):
              return {"statusCode": 200, "body": "ok"}
"""


def registration() -> str:
    return f"compatible_environments:\n  - {ENV_BLUEPRINT}:1\n"


def service_bundle(folder: Path, template: str) -> Path:
    return write_bundle(
        folder,
        {
            ".template-registration.yaml": registration(),
            "schema/schema.yaml": SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": template,
        },
    )


def bundles(root: Path) -> dict[str, Path]:
    """Blueprint name -> its bundle: the environment, the logs service, and one health
    service per size (`health-1fn`, `health-3fn`)."""
    env = {
        "schema/schema.yaml": ENV_SCHEMA,
        "infrastructure/manifest.yaml": MANIFEST,
        "infrastructure/cloudformation.yaml": ENV_TEMPLATE % "v1.0",
    }
    found = {
        ENV_BLUEPRINT: write_bundle(root / ENV_BLUEPRINT, env),
        LOGS_BLUEPRINT: service_bundle(root / LOGS_BLUEPRINT, LOGS_TEMPLATE),
    }
    for functions in sorted(set(SIZES.values())):
        name = health_blueprint(functions)
        body = HEALTH_TEMPLATE % "".join(FUNCTION % k for k in range(functions))
        found[name] = service_bundle(root / name, body)
    return found


def health_blueprint(functions: int) -> str:
    return f"health-{functions}fn"


def instance_names(service: str, instances: int) -> list[str]:
    return [f"{service}-{k:02d}" for k in range(instances)]


def build_workspace(bench: Bench, root: Path, instances: int) -> None:
    """`pcli init`, the blueprints published, `dev` and every service deployed."""
    env = bench.child_env()
    run([str(PCLI), "init", str(bench.workspace), "--name", WORKSPACE_NAME], env)
    for name, bundle in bundles(root / "bundles").items():
        run(bench.pcli("blueprint", "publish", str(bundle), "--name", name), env)
    create_env = ["env", "create", ENVIRONMENT, "-b", ENV_BLUEPRINT, "--region", REGION]
    run(bench.pcli(*create_env, "--yes"), env)
    pair = f"{LOGS_INSTANCE}={ENVIRONMENT}"
    run(bench.pcli("svc", "create", LOGS_SERVICE, "-b", LOGS_BLUEPRINT, "-i", pair, "--yes"), env)
    for service, functions in SIZES.items():
        pairs = [
            arg
            for name in instance_names(service, instances)
            for arg in ("-i", f"{name}={ENVIRONMENT}")
        ]
        blueprint = health_blueprint(functions)
        run(bench.pcli("svc", "create", service, "-b", blueprint, *pairs, "--yes"), env)


def write_events(sandbox_url: str, events: int) -> None:
    """`events` events, half in each log group (one stream each), over the last few minutes,
    in batches of BATCH. Straight to the server: neither timed nor counted."""
    import boto3

    logs = boto3.session.Session().client(
        "logs",
        region_name=REGION,
        endpoint_url=sandbox_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - the sandbox's dummy credentials
    )
    start = int(time.time() * 1000) - 5 * 60 * 1000
    for g, group in enumerate(LOG_GROUPS):
        stream = f"bench/app/{g:04d}"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        mine = range(g, events, len(LOG_GROUPS))  # event k goes to group k mod 2
        batch: list[dict[str, Any]] = []
        for k in mine:
            message = f"GET /items/{k} 200 {k % 97}ms request_id={k:08x} user_agent=bench"
            batch.append({"timestamp": start + k * 20, "message": message})
            if len(batch) == BATCH:
                logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)
                batch = []
        if batch:
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


def lambda_named(method: str, path: str, headers: http.client.HTTPMessage, body: bytes) -> str:
    """deploy.call_name, with Lambda's GET of one function (a REST call: the proxy sees only
    its method) named GetFunction."""
    name = call_name(method, path, headers, body)
    if name == "lambda:GET" and LAMBDA_FUNCTION_PATH.match(path):
        return "lambda:GetFunction"
    return name


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    """fleet.py's Meter, for a side of one or more commands run one after the other (their
    times summed), each allowed some exit codes; returns what each printed."""

    counter: CallCounter
    server_pid: int

    def timed(
        self,
        sample: Sample,
        commands: list[list[str]],
        env: dict[str, str],
        codes: tuple[int, ...] = (0,),
    ) -> list[str]:
        self.counter.take()
        server_before, client_before = process_cpu(self.server_pid), children_cpu()
        printed: list[str] = []
        start = time.perf_counter()
        for args in commands:
            done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
            if done.returncode not in codes:
                said = (done.stdout + done.stderr).splitlines()[-40:]
                raise SystemExit(
                    f"failed ({done.returncode}): {' '.join(args)}\n" + "\n".join(said)
                )
            printed.append(done.stdout)
        sample.seconds.append(time.perf_counter() - start)
        sample.client_cpu.append(children_cpu() - client_before)
        server_after = process_cpu(self.server_pid)
        if server_before is None or server_after is None:
            sample.server_cpu.append(None)
        else:
            sample.server_cpu.append(server_after - server_before)
        sample.calls.append(self.counter.take())
        return printed

    @staticmethod
    def drop_last(sample: Sample) -> None:
        """Forget the last run (a warm-up)."""
        for values in (sample.seconds, sample.client_cpu, sample.server_cpu, sample.calls):
            values.pop()


def reference_commands() -> list[list[str]]:
    """`aws logs filter-log-events` of each group, from an hour before now."""
    start = str(int(time.time() * 1000) - SINCE_MS)
    return [
        [str(AWS), "logs", "filter-log-events", "--log-group-name", group, "--start-time", start]
        for group in LOG_GROUPS
    ]


def reference_events(printed: list[str]) -> int:
    return sum(len(json.loads(text)["events"]) for text in printed)


@dataclass
class Results:
    events: int
    instances: int
    logs: Sample = field(default_factory=lambda: Sample(f"pcli svc logs {LOGS_SERVICE}"))
    reference: Sample = field(default_factory=lambda: Sample("aws logs filter-log-events x2"))
    pcli_events: list[int] = field(default_factory=list)
    reference_events: list[int] = field(default_factory=list)
    status: dict[str, Sample] = field(default_factory=dict)
    status_said: dict[str, str] = field(default_factory=dict)
    guardrails: dict[str, list[float]] = field(default_factory=dict)  # template -> ms per check
    guardrail_rules: tuple[str, ...] = ()
    guardrail_violations: dict[str, int] = field(default_factory=dict)


def benchmark(root: Path, events: int, instances: int, repeat: int) -> Results:
    results = Results(events, instances)
    with (
        sandbox_server(root) as (sandbox_url, pid),
        CountingProxy(sandbox_url, namer=lambda_named) as proxy,
    ):
        bench = Bench(root / "home", root / "ws", proxy.url, sandbox_url)
        env = bench.child_env()
        meter = Meter(proxy.counter, pid)
        build_workspace(bench, root, instances)
        write_events(sandbox_url, events)

        logs = bench.pcli("svc", "logs", LOGS_SERVICE, "--since", SINCE)
        for k in range(repeat + 1):  # k = 0 is the warm-up
            pair = (results.logs, results.reference)
            for sample in pair if k % 2 else reversed(pair):
                if sample is results.logs:
                    printed = meter.timed(sample, [logs], env)
                    results.pcli_events.append(len(printed[0].splitlines()))
                else:
                    printed = meter.timed(sample, reference_commands(), env)
                    results.reference_events.append(reference_events(printed))
                if k == 0:
                    meter.drop_last(sample)

        for service in SIZES:
            results.status[service] = Sample(f"pcli svc status {service}")
        for k in range(repeat + 1):
            order = list(SIZES) if k % 2 else list(reversed(SIZES))
            for service in order:
                sample = results.status[service]
                command = bench.pcli("svc", "status", service)
                printed = meter.timed(sample, [command], env, codes=(0, 1))
                said = Counter(HEALTH_LINE.findall(printed[0]))
                results.status_said[service] = ", ".join(
                    f"{count} {word}" for word, count in sorted(said.items())
                )
                if k == 0:
                    meter.drop_last(sample)
    measure_guardrails(results, repeat)
    return results


# --- guardrails -------------------------------------------------------------------------------


def guarded_template(resources: int) -> str:
    """A rendered template of `resources` resources, a quarter of each kind the rules read;
    every tenth security group opens SSH to the internet and every tenth bucket is plain."""
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:"]
    for n in range(resources):
        kind = n % 4
        if kind == 0:
            cidr = "0.0.0.0/0" if n % 40 == 0 else "10.0.0.0/8"
            lines += [
                f"  Group{n}:",
                "    Type: AWS::EC2::SecurityGroup",
                "    Properties:",
                f"      GroupDescription: group {n}",
                "      VpcId: !Ref Vpc",
                "      SecurityGroupIngress:",
                "        - {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}",
                f"        - {{IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: {cidr}}}",
            ]
        elif kind == 1:
            lines += [f"  Bucket{n}:", "    Type: AWS::S3::Bucket"]
            if n % 40 != 1:
                lines += [
                    "    Properties:",
                    "      BucketEncryption:",
                    "        ServerSideEncryptionConfiguration:",
                    "          - ServerSideEncryptionByDefault: {SSEAlgorithm: AES256}",
                ]
        elif kind == 2:
            lines += [
                f"  Logs{n}:",
                "    Type: AWS::Logs::LogGroup",
                "    Properties:",
                f"      LogGroupName: !Sub /app/${{AWS::StackName}}/{n}",
                "      RetentionInDays: 30",
            ]
        else:
            lines += [
                f"  Queue{n}:",
                "    Type: AWS::SQS::Queue",
                "    Properties: {SqsManagedSseEnabled: true, VisibilityTimeout: 60}",
            ]
    return "\n".join(lines) + "\n"


def measure_guardrails(results: Results, repeat: int) -> None:
    """Time the deploy gate's work (parse + every rule file) per template, in this process."""
    from protoncli.blueprints.bundle import load_bundle
    from protoncli.errors import RenderError
    from protoncli.guardrails.check import check_template
    from protoncli.guardrails.rules import RuleSet, bundle_rules
    from protoncli.yamlio import parse_yaml

    starters = Path(__file__).resolve().parent.parent / "blueprints"
    rules = RuleSet()
    for name in GUARDED_STARTERS:
        rules = rules.joined(bundle_rules(load_bundle(starters / name / "v1")))
    results.guardrail_rules = rules.names()
    templates = {"starter size, 12 resources": guarded_template(12),
                 "200 resources": guarded_template(200)}  # fmt: skip
    for label, text in templates.items():
        timings: list[float] = []
        for k in range(repeat + 1):
            start = time.perf_counter()
            for _ in range(CHECKS_PER_RUN):
                found = check_template(
                    rules, parse_yaml(text, label, RenderError, cloudformation=True)
                )
            if k:  # k = 0 is the warm-up
                timings.append((time.perf_counter() - start) * 1000 / CHECKS_PER_RUN)
        results.guardrails[label] = timings
        results.guardrail_violations[label] = len(found)


# --- reporting ------------------------------------------------------------------------------


def health_reads(calls: Counter[str]) -> Counter[str]:
    """The bulk calls: all but the reads AWS has no bulk form of (PER_RESOURCE)."""
    return Counter({name: count for name, count in calls.items() if name not in PER_RESOURCE})


def most(sample: Sample) -> Counter[str]:
    """The calls of the sample's run that made the most."""
    return max(sample.calls, key=lambda calls: sum(calls.values()))


def print_report(results: Results) -> None:
    n = results.instances
    print(
        f"golden: {os.cpu_count()} CPUs; the sandbox (moto) behind a counting proxy at "
        f"AWS_ENDPOINT_URL; environment {ENVIRONMENT} in {REGION}"
    )
    print(
        f"logs: {results.events} events over 2 log groups of {LOGS_SERVICE}'s instance "
        f"{LOGS_INSTANCE}, to a pipe; the reference runs once per group (times summed)"
    )
    described = ", ".join(
        f"{service} ({n} instances, {functions} Lambda function(s) each)"
        for service, functions in SIZES.items()
    )
    print(f"status: {described}; every stack also holds a queue, two log groups and a role")
    print(
        f"{len(results.logs.seconds)} runs of each after a warm-up, interleaved; ratio: the "
        "median of the ratios of runs made side by side\n"
    )

    ratio = paired_ratio(results.logs, results.reference)
    header = (
        f"{'timing':<36} {'s':>6} {'cpu s':>11}   {'reference':<30} {'s':>6} {'ratio':>6}  "
        f"{'goal':<8} verdict"
    )
    print(header)
    print("-" * len(header))
    print(
        f"{results.logs.label + ' --since ' + SINCE:<36} {results.logs.median:>6.2f} "
        f"{results.logs.cpu():>11}   {results.reference.label:<30} "
        f"{results.reference.median:>6.2f} {ratio:>5.2f}x  {'<= ' + str(LOGS_GOAL) + 'x':<8} "
        f"{verdict(ratio <= LOGS_GOAL)}"
    )
    for service in SIZES:
        sample = results.status[service]
        print(f"{sample.label:<36} {sample.median:>6.2f} {sample.cpu():>11}   -")
    print("cpu s: CPU seconds of the command's process + of the sandbox server (medians)")

    same = set(results.pcli_events) == set(results.reference_events) == {results.events}
    print(
        f"\nevents printed per run: pcli {sorted(set(results.pcli_events))}, awscli "
        f"{sorted(set(results.reference_events))}, written {results.events}: "
        f"{'the same' if same else 'DIFFERENT'}"
    )

    reads = {
        service: sum(health_reads(most(results.status[service])).values()) for service in SIZES
    }
    print(
        "\nAWS calls of pcli svc status, counted on the wire by the proxy; bulk: every call but "
        "ListStackResources / DescribeStackResources (one per stack) and lambda:GetFunction (one "
        "per function: ListFunctions leaves out State and LastUpdateStatus); goal: the same bulk "
        f"reads at {SIZES['small']} and {SIZES['large']} Lambda function(s) per instance"
    )
    header = f"{'calls':<36} {'total':>6} {'bulk':>7}  {'goal':<12} {'verdict':<8} by action"
    print(header)
    print("-" * len(header))
    baseline = reads["small"]
    for service, functions in SIZES.items():
        sample = results.status[service]
        label = f"{sample.label}, {n} x {functions} fn"
        goal, said = ("-", "") if service == "small" else (
            f"== {baseline}", verdict(reads[service] <= baseline))  # fmt: skip
        print(
            f"{label:<36} {sum(most(sample).values()):>6} {reads[service]:>7}  {goal:<12} "
            f"{said:<8} {by_action(most(sample))}"
        )
    for service in SIZES:
        print(f"pcli svc status {service} said: {results.status_said[service]}")
    for sample in (results.logs, results.reference):
        print(f"{sample.label} calls: {sum(most(sample).values())}: {by_action(most(sample))}")
    print(
        f"\nguardrail checks per rendered template: {len(results.guardrail_rules)} rules "
        f"({', '.join(results.guardrail_rules)}), parse + Guard, in process"
    )
    header = f"{'template':<36} {'ms':>6} {'violations':>10}  {'goal':<8} verdict"
    print(header)
    print("-" * len(header))
    for label, timings in results.guardrails.items():
        median = statistics.median(timings)
        print(
            f"{label:<36} {median:>6.2f} {results.guardrail_violations[label]:>10}  "
            f"{'<= ' + str(int(GUARDRAILS_GOAL_MS)) + ' ms':<8} "
            f"{verdict(median <= GUARDRAILS_GOAL_MS)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10000, help="log events (10000)")
    parser.add_argument("--instances", type=int, default=20, help="instances per service (20)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each side (5)")
    args = parser.parse_args()
    if min(args.events, args.instances, args.repeat) < 1:
        parser.error("every size must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pcli-golden-bench-") as root:
        results = benchmark(Path(root), args.events, args.instances, args.repeat)
    print_report(results)


if __name__ == "__main__":
    main()
