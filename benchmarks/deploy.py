"""Deploy speed: `pcli env deploy` of a starter environment next to `aws cloudformation deploy`.

One run starts its own sandbox with pcli's manager (PCLI_HOME in a temporary folder, so the
user's sandbox is never touched), puts a small counting HTTP proxy in front of it, and measures
the median of N repetitions, each on a fresh environment or stack (moto cannot delete the
vpc-ecs-env stack, so nothing is reused):

- the command line: `pcli env deploy devK --yes` as a subprocess, next to the awscli's
  `aws cloudformation deploy` of the same rendered template (or, without `aws` on PATH, a
  `python -c` botocore script: CreateChangeSet, waiter, ExecuteChangeSet, waiter), so both sides
  pay process start-up;
- the same command with PCLI_NO_CACHE=1 (every input validated again, as on a fresh CI runner)
  next to its own awscli runs;
- the work alone: pcli's engine in-process (`deploy_environment` with a fresh Project) next to
  the same botocore calls in-process (fresh session and client).

Every side goes through the proxy, which counts the AWS calls by service and action. Prints a
table (median and min wall ms, calls, ratio pcli/reference) and whether pcli is slower.

Usage: .venv/bin/python benchmarks/deploy.py [--repeat N]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import BinaryIO, Self

ROOT = Path(__file__).resolve().parents[1]
PCLI = ROOT / ".venv" / "bin" / "pcli"
PYTHON = sys.executable
BLUEPRINT = "vpc-ecs-env"
WORKSPACE_NAME = "bench"
REGION = "us-east-1"
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
}
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/")

# The reference without the awscli: the calls `aws cloudformation deploy` makes for a new stack.
BOTOCORE_SCRIPT = """
import sys, botocore.session
template_file, stack, endpoint, region = sys.argv[1:5]
client = botocore.session.Session().create_client(
    "cloudformation", region_name=region, endpoint_url=endpoint,
    aws_access_key_id="testing", aws_secret_access_key="testing")
with open(template_file, encoding="utf-8") as f:
    body = f.read()
created = client.create_change_set(
    StackName=stack, ChangeSetName="deploy-1", ChangeSetType="CREATE", TemplateBody=body,
    Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"])
client.get_waiter("change_set_create_complete").wait(
    ChangeSetName=created["Id"], WaiterConfig={"Delay": 1})
client.execute_change_set(ChangeSetName=created["Id"])
client.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1})
"""


# --- the counting proxy ---------------------------------------------------------------------


class CallCounter:
    """AWS calls seen by the proxy, by "service:Action"."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()

    def add(self, action: str) -> None:
        with self._lock:
            self._calls[action] += 1

    def take(self) -> Counter[str]:
        """The calls counted since the last take (and start counting afresh)."""
        with self._lock:
            calls, self._calls = self._calls, Counter()
        return calls


def call_name(method: str, path: str, headers: http.client.HTTPMessage, body: bytes) -> str:
    """The call as "service:Action": the signature scope, then X-Amz-Target, Action= or path."""
    scope = CREDENTIAL_SCOPE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}"
    url = urllib.parse.urlsplit(path)
    form = urllib.parse.parse_qs(url.query)
    if "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        form.update(urllib.parse.parse_qs(body.decode("utf-8", "replace")))
    if "Action" in form:
        return f"{service}:{form['Action'][0]}"
    if "/operation/" in url.path:  # the rpc-v2-cbor protocol
        return f"{service}:{url.path.rsplit('/', 1)[-1]}"
    return f"{service}:{method}"  # REST services (S3): the HTTP method is all there is


def read_body(stream: BinaryIO, headers: http.client.HTTPMessage) -> bytes:
    """The request body, whether sent with a Content-Length or in chunks."""
    if headers.get("Transfer-Encoding", "").lower() != "chunked":
        return stream.read(int(headers.get("Content-Length") or 0))
    chunks = []
    while size := int(stream.readline().split(b";")[0], 16):
        chunks.append(stream.read(size))
        stream.readline()
    while stream.readline() not in {b"\r\n", b"\n", b""}:
        pass  # trailers
    return b"".join(chunks)


CallNamer = Callable[[str, str, http.client.HTTPMessage, bytes], str]


def make_proxy_handler(
    upstream: str, counter: CallCounter, namer: CallNamer = call_name
) -> type[BaseHTTPRequestHandler]:
    """A handler that counts each request by `namer`'s name for it, then forwards it."""
    target = urllib.parse.urlsplit(upstream)

    class ForwardingHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as botocore expects
        disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms)
        upstream: http.client.HTTPConnection | None = None

        def forward(self) -> None:
            body = read_body(self.rfile, self.headers)
            counter.add(namer(self.command, self.path, self.headers, body))
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            if self.upstream is None:
                self.upstream = http.client.HTTPConnection(target.netloc, timeout=120)
            self.upstream.request(self.command, self.path, body=body, headers=headers)
            response = self.upstream.getresponse()
            data = response.read()
            self.send_response(response.status, response.reason)
            for name, value in response.getheaders():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def finish(self) -> None:
            super().finish()
            if self.upstream is not None:
                self.upstream.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = forward  # noqa: N815 - http.server names

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
            pass

    return ForwardingHandler


@dataclass
class CountingProxy:
    upstream: str
    counter: CallCounter = field(default_factory=CallCounter)
    namer: CallNamer = call_name  # how a request is named in the counts
    _server: ThreadingHTTPServer | None = None

    def __enter__(self) -> Self:
        handler = make_proxy_handler(self.upstream, self.counter, self.namer)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"


# --- the sides ------------------------------------------------------------------------------


@dataclass
class Side:
    """One way of deploying: `run(k)` deploys repetition k (0 is the untimed warm-up)."""

    label: str
    run: Callable[[int], None]
    samples: list[float] = field(default_factory=list)
    calls: list[Counter[str]] = field(default_factory=list)


def child_env(home: Path, proxy_url: str, region: str, **extra: str) -> dict[str, str]:
    """A clean environment for a benchmark's subprocesses: PCLI_HOME at `home`, dummy
    credentials, every AWS call to the proxy, no AWS config files of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PCLI_"))}
    env.update(
        PCLI_HOME=str(home),
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - the sandbox's dummy credentials
        AWS_DEFAULT_REGION=region,
        AWS_ENDPOINT_URL=proxy_url,
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        NO_COLOR="1",
        **extra,
    )
    return env


@dataclass(frozen=True)
class Setup:
    home: Path
    workspace: Path
    template: Path
    proxy_url: str

    def child_env(self) -> dict[str, str]:
        return child_env(self.home, self.proxy_url, REGION)


def run_command(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(args)}\n{done.stderr}")


def pcli(setup: Setup, *args: str) -> list[str]:
    return [str(PCLI), "--workspace", str(setup.workspace), *args]


def env_name(prefix: str, k: int) -> str:
    """The environment or stack of repetition k; k = 0 is the warm-up."""
    return f"{prefix}{k}"


def pcli_cli_side(setup: Setup, *, cold: bool = False) -> Side:
    """`pcli env deploy`; `cold`: with PCLI_NO_CACHE=1, as on a fresh CI runner (every input
    validated with jsonschema again)."""
    env = setup.child_env()
    if cold:
        env["PCLI_NO_CACHE"] = "1"
    prefix = "cold" if cold else "dev"

    def run(k: int) -> None:
        run_command(pcli(setup, "env", "deploy", env_name(prefix, k), "--yes"), env)

    return Side("pcli env deploy, no cache" if cold else "pcli env deploy", run)


def awscli_path() -> str | None:
    """The `aws` executable; a pyenv shim is resolved to the script it runs (the shim's own
    start-up is no part of the awscli)."""
    found = shutil.which("aws")
    if found and "/shims/" in found and shutil.which("pyenv"):
        real = subprocess.run(
            ["pyenv", "which", "aws"], capture_output=True, text=True, check=False
        ).stdout.strip()
        return real or found
    return found


def reference_cli_side(setup: Setup, prefix: str = "ref-") -> Side:
    aws = awscli_path()
    if aws is None:

        def run_botocore(k: int) -> None:
            stack = env_name(prefix, k)
            args = [PYTHON, "-c", BOTOCORE_SCRIPT, str(setup.template), stack, setup.proxy_url]
            run_command([*args, REGION], setup.child_env())

        return Side("botocore script", run_botocore)

    def run_awscli(k: int) -> None:
        args = [aws, "cloudformation", "deploy", "--template-file", str(setup.template)]
        args += ["--stack-name", env_name(prefix, k), "--endpoint-url", setup.proxy_url]
        args += ["--region", REGION, "--capabilities", *CAPABILITIES]
        run_command([*args, "--no-fail-on-empty-changeset"], setup.child_env())

    return Side("aws cloudformation deploy", run_awscli)


def pcli_engine_side(setup: Setup) -> Side:
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.registry import Registry
    from protoncli.config import registry_path
    from protoncli.deploy.environments import deploy_environment
    from protoncli.deploy.model import DeployHooks
    from protoncli.deploy.project import AwsSettings, Project
    from protoncli.workspace.model import find_workspace

    def run(k: int) -> None:
        project = Project(
            find_workspace(explicit=setup.workspace),
            Registry(registry_path()),
            SessionFactory(),
            AwsSettings(endpoint_url=setup.proxy_url),
        )
        deploy_environment(
            project, env_name("ip", k), DeployHooks(lambda _e: None, lambda _changes: True)
        )

    return Side("pcli engine (in-process)", run)


def botocore_engine_side(setup: Setup) -> Side:
    import botocore.session

    def run(k: int) -> None:
        stack = env_name("refip-", k)
        client = botocore.session.Session().create_client(
            "cloudformation",
            region_name=REGION,
            endpoint_url=setup.proxy_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 - the sandbox's dummy credentials
        )
        created = client.create_change_set(
            StackName=stack,
            ChangeSetName="deploy-1",
            ChangeSetType="CREATE",
            TemplateBody=setup.template.read_text(encoding="utf-8"),
            Capabilities=list(CAPABILITIES),
        )
        client.get_waiter("change_set_create_complete").wait(
            ChangeSetName=created["Id"], WaiterConfig={"Delay": 1}
        )
        client.execute_change_set(ChangeSetName=created["Id"])
        client.get_waiter("stack_create_complete").wait(StackName=stack, WaiterConfig={"Delay": 1})

    return Side("botocore calls (in-process)", run)


# --- measuring and reporting ----------------------------------------------------------------


def prepare_workspace(root: Path, home: Path, repeat: int) -> tuple[Path, Path]:
    """A workspace with environments dev0..devN and ip0..ipN created but not deployed (0 is the
    warm-up), and the template pcli renders for dev1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PCLI_"))}
    env["PCLI_HOME"] = str(home)
    run_command([str(PCLI), "init", str(root / "ws"), "--name", WORKSPACE_NAME], env)
    setup = Setup(home, root / "ws", Path(), "")
    for prefix in ("dev", "cold", "ip"):
        for k in range(repeat + 1):
            name = env_name(prefix, k)
            run_command(pcli(setup, "env", "create", name, "-b", BLUEPRINT, "--no-deploy"), env)
    spec = root / "ws" / "environments" / "dev1.yaml"
    out = root / "rendered"
    render = ["blueprint", "render", BLUEPRINT, "--name", "dev1", "-o", str(out)]
    run_command(pcli(setup, *render, "--spec", str(spec)), env)
    return root / "ws", out / "dev1" / "cloudformation.yaml"


def measure(pairs: list[tuple[Side, Side]], counter: CallCounter, repeat: int) -> None:
    """Warm every side up once, then run repetitions 1..N, interleaving the sides of a pair."""
    for k in range(repeat + 1):
        for pair in pairs:
            for side in pair if k % 2 else reversed(pair):
                counter.take()
                start = time.perf_counter()
                side.run(k)
                elapsed = (time.perf_counter() - start) * 1000
                calls = counter.take()
                if k:
                    side.samples.append(elapsed)
                    side.calls.append(calls)


def describe_calls(side: Side) -> tuple[str, str]:
    """(total, by action) of the calls of the side's last run; a range if the totals varied."""
    totals = sorted(sum(calls.values()) for calls in side.calls)
    total = str(totals[0]) if totals[0] == totals[-1] else f"{totals[0]}-{totals[-1]}"
    by_action = ", ".join(f"{name} {count}" for name, count in sorted(side.calls[-1].items()))
    return total, by_action


def print_table(pairs: list[tuple[Side, Side]]) -> None:
    header = f"{'side':<28} {'median ms':>9} {'min ms':>8} {'ratio':>6} {'calls':>5}  by action"
    print(header)
    print("-" * len(header))
    for pcli_side, reference in pairs:
        ratio = statistics.median(pcli_side.samples) / statistics.median(reference.samples)
        for side in (pcli_side, reference):
            total, by_action = describe_calls(side)
            shown = f"{ratio:>5.2f}x" if side is pcli_side else f"{'1.00x':>6}"
            print(
                f"{side.label:<28} {statistics.median(side.samples):>9.0f} "
                f"{min(side.samples):>8.0f} {shown} {total:>5}  {by_action}"
            )
        print()


def verdict(pcli_side: Side, reference: Side) -> str:
    ratio = statistics.median(pcli_side.samples) / statistics.median(reference.samples)
    if ratio <= 1:
        return f"pcli is no slower ({pcli_side.label} vs {reference.label})"
    return f"pcli is slower by {(ratio - 1) * 100:.0f}% ({pcli_side.label} vs {reference.label})"


def benchmark(root: Path, repeat: int) -> None:
    from protoncli.sandbox import manager

    home = root / "home"
    os.environ["PCLI_HOME"] = str(home)  # the manager keeps its state here, not in the user's
    workspace, template = prepare_workspace(root, home, repeat)
    try:
        sandbox = manager.start()
        assert sandbox.url is not None
        with CountingProxy(sandbox.url) as proxy:
            setup = Setup(home, workspace, template, proxy.url)
            pairs = [
                (pcli_cli_side(setup), reference_cli_side(setup)),
                (pcli_cli_side(setup, cold=True), reference_cli_side(setup, "refcold-")),
                (pcli_engine_side(setup), botocore_engine_side(setup)),
            ]
            measure(pairs, proxy.counter, repeat)
    finally:
        manager.stop()
    print(f"{repeat} repetitions after one warm-up each; ratio = pcli median / reference median")
    print(f"sandbox {sandbox.url}, template {BLUEPRINT} ({template.stat().st_size} bytes)\n")
    print_table(pairs)
    print(verdict(*pairs[0]))
    print(verdict(*pairs[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions per side (default 5)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    with tempfile.TemporaryDirectory(prefix="pcli-deploy-bench-") as root:
        benchmark(Path(root), args.repeat)


if __name__ == "__main__":
    main()
