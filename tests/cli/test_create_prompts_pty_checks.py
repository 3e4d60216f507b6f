"""What `pcli env create` / `pcli svc create` show and refuse while asking in a real terminal:
`.venv/bin/pcli` in a pty (pexpect), a person's keys typed.

Covered: a blueprint pcli cannot deploy (an environment with no infrastructure of its own)
listed last with its reason and refused when picked
anyway (typing filters the list down to it); a subnet range outside the VPC's refused at its
question, with a hint in words; headings before each instance's questions and the pipeline's.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
from tests.unit.prompting.test_create_choices_and_checks import MANAGED_REASON, MANAGED_SCHEMA

PCLI = Path(sys.executable).with_name("pcli")
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 30
ENTER = "\r"
CLEAR_LINE = "\x15"
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TEMPLATE = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
WEB_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: WebInput
  pipeline_input_type: PipelineInput
  types:
    WebInput:
      type: object
      required: [owner]
      properties:
        owner: {type: string, title: Owner}
    PipelineInput:
      type: object
      properties:
        stage: {type: string, title: Stage, default: test}
"""

pytestmark = pytest.mark.skipif(not PCLI.exists(), reason="needs the installed pcli script")


def shown(*words):
    """A pattern for words drawn next to each other, whatever styling sits between them."""
    return r"(?:\x1b\[[0-9;?]*[A-Za-z]|\s)*".join(re.escape(word) for word in words)


@pytest.fixture
def workspace(pcli, tmp_path):
    """A workspace (demo) with the vpc-ecs-env and tf-vpc-env starters published, and
    managed-env: an environment with no infrastructure of its own (schema/ only, provisioned
    elsewhere), which pcli cannot deploy."""
    root = tmp_path / "ws"
    assert pcli("init", str(root), "--name", "demo").exit_code == 0
    for name in ("vpc-ecs-env", "tf-vpc-env"):
        bundle = REPO / "blueprints" / name / "v1"
        assert pcli("blueprint", "publish", str(bundle), "--name", name).exit_code == 0
    managed = tmp_path / "managed-env"
    (managed / "schema").mkdir(parents=True)
    (managed / "schema" / "schema.yaml").write_text(MANAGED_SCHEMA)
    published = pcli("blueprint", "publish", str(managed), "--name", "managed-env")
    assert published.exit_code == 0, published.output
    return root


@pytest.fixture
def terminal(registry, workspace):
    started = []

    def spawn(*args):
        env = {**os.environ, "TERM": "xterm"}
        child = pexpect.spawn(
            str(PCLI),
            ["--registry", str(registry), *args],
            cwd=str(workspace),
            env=env,
            dimensions=(40, 120),
            encoding="utf-8",
            timeout=TIMEOUT,
        )
        child.logfile_read = io.StringIO()
        started.append(child)
        return child

    yield spawn
    for child in started:
        if child.isalive():
            child.terminate(force=True)


def finish(child):
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def test_a_blueprint_pcli_cannot_deploy_is_listed_last_with_why_and_refused(terminal):
    child = terminal("env", "create", "dev")

    child.expect("Environment blueprint")
    child.expect(shown("»", "tf-vpc-env"))  # Terraform: offered like any other, first
    child.expect(shown("vpc-ecs-env"))
    child.expect(shown(f"- managed-env ({MANAGED_REASON})"))
    child.send("managed")  # typing filters the list down to it
    child.expect("managed")
    child.send(ENTER)
    child.expect(shown(f"managed-env: {MANAGED_REASON};"))
    child.expect("choose another")
    child.expect("Environment blueprint")
    child.sendcontrol("c")

    assert finish(child) == 130


def test_a_subnet_outside_the_vpc_is_refused_at_its_question(terminal, workspace):
    child = terminal("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy")

    child.expect(
        shown("an IPv4 address range (CIDR) such as 10.0.0.0/16, with a prefix from /16 to /24")
    )
    child.expect(r"VPC CIDR block \(vpc_cidr\)")
    child.send(CLEAR_LINE + "10.1.0.0/16" + ENTER)
    child.expect(r"First public subnet CIDR block")
    child.send(CLEAR_LINE + "10.1.0.0/24" + ENTER)
    child.expect(r"Second public subnet CIDR block")
    child.send(ENTER)  # the default, 10.0.1.0/24: not inside 10.1.0.0/16
    child.expect(shown("'10.0.1.0/24' is not inside the VPC's range 10.1.0.0/16"))
    child.send(CLEAR_LINE + "10.1.1.0/24" + ENTER)
    child.expect(r"Load balancer ingress CIDR block")
    child.send(ENTER)
    child.expect(r"Log retention")
    child.send(ENTER)
    child.expect(r"Container Insights")
    child.send(ENTER)
    child.expect("Continue with these answers?")
    child.send(ENTER)
    child.expect("Wrote ")

    assert finish(child) == 0
    text = (workspace / "environments" / "dev.yaml").read_text()
    assert "public_subnet_two_cidr: 10.1.1.0/24" in text


def test_each_instance_and_the_pipeline_get_a_heading(pcli, terminal, workspace, tmp_path):
    web = tmp_path / "web-svc"
    files = {
        ".template-registration.yaml": "compatible_environments:\n  - vpc-ecs-env:1\n",
        "schema/schema.yaml": WEB_SCHEMA,
        "instance_infrastructure/manifest.yaml": MANIFEST,
        "instance_infrastructure/cloudformation.yaml": TEMPLATE,
        "pipeline_infrastructure/manifest.yaml": MANIFEST,
        "pipeline_infrastructure/cloudformation.yaml": TEMPLATE,
    }
    for name, text in files.items():
        (web / name).parent.mkdir(parents=True, exist_ok=True)
        (web / name).write_text(text)
    ws = ("--workspace", str(workspace))
    assert pcli(*ws, "blueprint", "publish", str(web), "--name", "web-svc").exit_code == 0
    for env in ("dev", "prod"):
        assert pcli(*ws, "env", "create", env, "-b", "vpc-ecs-env", "--no-deploy").exit_code == 0

    child = terminal(
        "svc", "create", "web", "-b", "web-svc", "-i", "web-dev=dev", "-i", "web-prod=prod",
        "--no-deploy",
    )  # fmt: skip

    child.expect(r"Instance web-dev \(environment dev\)")
    child.expect(r"Owner \(owner\)")
    child.send("ops" + ENTER)
    child.expect(r"Instance web-prod \(environment prod\)")
    child.expect(r"Owner \(owner\)")
    child.send(ENTER)  # the first instance's answer, pre-filled
    child.expect("Pipeline")
    child.expect(r"Stage \(stage\)")
    child.send(ENTER)
    child.expect("Continue with these answers?")
    child.send(ENTER)
    child.expect("Wrote ")

    assert finish(child) == 0
