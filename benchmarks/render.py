"""Rendering speed: pcli's render of a starter service next to a bare Jinja render.

For 1, 10 and 200 instances of the `fargate-web-svc` starter (plus its pipeline), prints the
median milliseconds per instance of `render_bundle` (sandbox, strict undefined, Proton's filters,
YAML parse of every rendered file) and of a bare `jinja2.Environment` rendering the same instance
template with the same namespace and no checks, measured in the same run, and their ratio.

Usage: .venv/bin/python benchmarks/render.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import jinja2

from protoncli.blueprints.bundle import load_bundle
from protoncli.render.engine import render_bundle
from protoncli.render.filters import FILTERS
from protoncli.render.model import EnvironmentFacts, InstanceFacts, RenderContext
from protoncli.specs.model import InstanceSpec, ServiceSpec

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "blueprints" / "fargate-web-svc" / "v1"
ENV_OUTPUTS = {
    "VpcId": "vpc-0a1b2c3d4e5f60718",
    "PublicSubnetOneId": "subnet-0a1b2c3d4e5f60718",
    "PublicSubnetTwoId": "subnet-0a1b2c3d4e5f60719",
    "ClusterName": "dev-cluster",
    "ClusterArn": "arn:aws:ecs:us-east-1:111111111111:cluster/dev-cluster",
    "LogGroupName": "/pcli/dev",
    "LogGroupArn": "arn:aws:logs:us-east-1:111111111111:log-group:/pcli/dev",
    "LoadBalancerSecurityGroupId": "sg-0a1b2c3d4e5f60718",
    "VpcCidr": "10.0.0.0/16",
}
COMPONENT_OUTPUTS = {
    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/111111111111/q",
    "QueueAccessPolicyArn": "arn:aws:iam::111111111111:policy/q-access",
}


def make_spec(count: int) -> ServiceSpec:
    inputs = {"port": 80, "desired_count": 1, "task_size": "x-small", "health_check_path": "/"}
    instances = tuple(InstanceSpec(f"web-{i}", "dev", inputs) for i in range(count))
    return ServiceSpec(instances=instances, pipeline={"unit_test_command": "make test"})


def make_context(count: int) -> RenderContext:
    facts = {
        f"web-{i}": InstanceFacts(outputs={"Url": "https://x"}, component_outputs=COMPONENT_OUTPUTS)
        for i in range(count)
    }
    return RenderContext(
        environments={"dev": EnvironmentFacts("111111111111", ENV_OUTPUTS)},
        instances=facts,
        deployment_id="00000000-0000-0000-0000-000000000000",
    )


def bare_namespace(index: int) -> dict[str, Any]:
    return {
        "environment": {"name": "dev", "account_id": "111111111111", "outputs": ENV_OUTPUTS},
        "service": {"name": "web"},
        "service_instance": {
            "name": f"web-{index}",
            "inputs": {
                "port": 80,
                "desired_count": 1,
                "task_size": "x-small",
                "health_check_path": "/",
            },
            "components": {"default": {"name": "queue", "outputs": COMPONENT_OUTPUTS}},
        },
    }


def time_pcli(count: int, repeat: int) -> float:
    bundle = load_bundle(BUNDLE)
    spec, context = make_spec(count), make_context(count)
    render_bundle(bundle, spec, name="web", context=context)  # warm-up
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        render_bundle(bundle, spec, name="web", context=context)
        samples.append((time.perf_counter() - start) * 1000 / count)
    return statistics.median(samples)


def time_bare(count: int, repeat: int) -> float:
    source = (BUNDLE / "instance_infrastructure" / "cloudformation.yaml").read_text()
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - YAML output, no HTML
    env.filters.update(FILTERS)
    template = env.from_string(source)
    namespaces = [bare_namespace(i) for i in range(count)]
    template.render(namespaces[0])
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for namespace in namespaces:
            template.render(namespace)
        samples.append((time.perf_counter() - start) * 1000 / count)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    print(f"{'instances':>9}  {'pcli ms/inst':>12}  {'bare jinja ms/inst':>18}  {'ratio':>6}")
    for count in (1, 10, 200):
        repeat = args.repeat if count < 200 else max(3, args.repeat // 2)
        pcli_ms = time_pcli(count, repeat)
        bare_ms = time_bare(count, repeat)
        print(f"{count:>9}  {pcli_ms:>12.2f}  {bare_ms:>18.3f}  {pcli_ms / bare_ms:>5.1f}x")
    print("Budget (DESIGN.md): under 20 ms per instance after warm-up. Figures are medians.")


if __name__ == "__main__":
    main()
