"""`pcli env create` and `pcli svc create` asking in a real terminal: `.venv/bin/pcli` runs as a
subprocess in a pty (pexpect) and the test types the answers a person would.

Covered: a full `env create` deployed to moto (blueprint, version, each input, summary, change
set), an invalid answer refused with its reason and corrected, Ctrl-C keeping the answers for
the next run, `svc create` choosing compatible environments, and no prompt when `CI` is set.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

PCLI = Path(sys.executable).with_name("pcli")
TIMEOUT = 30
CLEAR_LINE = "\x15"  # Ctrl-U: delete what was typed
ENTER = "\r"
DOWN = "\x1b[B"
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TEAM_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: TeamInput
  types:
    TeamInput:
      type: object
      required: [team, size]
      properties:
        team: {type: string, title: Team, description: "Who owns it", pattern: "^[a-z]+$"}
        size: {type: integer, title: Size, minimum: 1, maximum: 5}
        tier: {type: string, title: Tier, enum: [small, large], default: small}
        public: {type: boolean, title: Public, default: false}
"""
TEMPLATE = """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ environment.name }}-{{ environment.inputs.team }}"
Outputs:
  TopicArn:
    Value: !Ref Topic
"""
WEB_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: WebInput
  types:
    WebInput:
      type: object
      required: [owner]
      properties:
        owner: {type: string, title: Owner}
"""


def shown(*words):
    """A pattern for words drawn next to each other, whatever styling sits between them."""
    return r"(?:\x1b\[[0-9;?]*[A-Za-z]|\s)*".join(re.escape(word) for word in words)


pytestmark = pytest.mark.skipif(not PCLI.exists(), reason="needs the installed pcli script")


def write_bundle(folder, files):
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def workspace(pcli, registry, tmp_path):
    """A workspace (demo) with team-env 1.0 and 1.1 published in the test's registry."""
    root = tmp_path / "ws"
    assert pcli("init", str(root), "--name", "demo").exit_code == 0
    team = write_bundle(
        tmp_path / "team-env",
        {
            "schema/schema.yaml": TEAM_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": TEMPLATE,
        },
    )
    assert pcli("blueprint", "publish", str(team), "--name", "team-env").exit_code == 0
    (team / "infrastructure" / "cloudformation.yaml").write_text(TEMPLATE + "# 1.1\n")
    assert pcli("blueprint", "publish", str(team), "--name", "team-env").exit_code == 0
    return root


@pytest.fixture
def terminal(registry, workspace):
    """Start `pcli --registry REG ARGS...` in a 40x120 xterm pty inside the workspace."""
    started = []

    def spawn(*args, **extra_env):
        env = {**os.environ, "TERM": "xterm", **extra_env}
        child = pexpect.spawn(
            str(PCLI),
            ["--registry", str(registry), *args],
            cwd=str(workspace),
            env=env,
            dimensions=(40, 120),
            encoding="utf-8",
            timeout=TIMEOUT,
        )
        child.logfile_read = io.StringIO()  # the whole transcript, for assertions
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


def spec(workspace, name):
    return yaml.safe_load((workspace / "environments" / f"{name}.yaml").read_text())


def test_a_full_env_create_asks_everything_shows_a_summary_and_deploys(
    terminal, workspace, moto_url
):
    child = terminal("env", "create")

    child.expect("Environment name")
    child.send("dev" + ENTER)
    child.expect("Environment blueprint")
    child.send("team-env")  # type to filter the list
    child.expect("team-env")
    child.send(ENTER)
    child.expect("Version of team-env")
    child.expect(r"1\.1 \(recommended\)")
    child.send(DOWN + ENTER)  # 1.0
    child.expect("Who owns it")
    child.expect(r"Team \(team\)")
    child.send("core" + ENTER)
    child.expect(r"Size \(size\)")
    child.send("3" + ENTER)
    child.expect(r"Tier \(tier\)")
    child.send(ENTER)  # the default, small
    child.expect(r"Public \(public\)")
    child.send("y")
    child.expect(r"Environment dev, to be written to .*dev\.yaml:")
    child.expect(r"blueprint: +team-env@1\.0")
    child.expect(r"team: +core")
    child.expect(r"tier: +small")
    child.expect("Continue with these answers?")
    child.send(ENTER)
    child.expect(r"Deploy these changes\?")
    child.send("y" + ENTER)
    child.expect(r"Deployed environment dev: CREATE_COMPLETE \(pcli-demo-env-dev\)")

    assert finish(child) == 0
    assert spec(workspace, "dev") == {
        "blueprint": "team-env",
        "version": "1.0",
        "region": "us-east-1",
        "proton": "EnvironmentSpec",
        "spec": {"team": "core", "size": 3, "tier": "small", "public": True},
    }


def test_an_invalid_answer_is_shown_with_its_reason_and_corrected(terminal, workspace):
    child = terminal("env", "create", "dev", "--blueprint", "team-env", "--no-deploy", "--yes")

    child.expect(r"Team \(team\)")
    child.send("Core" + ENTER)
    child.expect(r"'Core' must be lower-case letters only")
    child.send(CLEAR_LINE + "core" + ENTER)
    child.expect(r"Size \(size\)")
    child.send("9" + ENTER)
    child.expect("9 is greater than the maximum of 5")
    child.send(CLEAR_LINE + "abc" + ENTER)
    child.expect(r"expected a whole number \(integer\)")
    child.send(CLEAR_LINE + "2" + ENTER)
    child.expect(r"Tier \(tier\)")
    child.send(ENTER)
    child.expect(r"Public \(public\)")
    child.send(ENTER)
    child.expect("Wrote ")
    child.expect(r"\(team-env@1\.1, us-east-1\)")

    assert finish(child) == 0
    assert spec(workspace, "dev")["spec"] == {
        "team": "core",
        "size": 2,
        "tier": "small",
        "public": False,
    }


def test_ctrl_c_keeps_the_answers_and_the_next_run_offers_them(terminal, workspace):
    first = terminal("env", "create", "--no-deploy")
    first.expect("Environment name")
    first.send("dev" + ENTER)
    first.expect("Environment blueprint")
    first.send("team-env")
    first.expect("team-env")
    first.send(ENTER)
    first.expect("Version of team-env")
    first.send(DOWN + ENTER)
    first.expect(r"Team \(team\)")
    first.send("core" + ENTER)
    first.expect(r"Size \(size\)")
    first.send("4" + ENTER)
    first.expect(r"Tier \(tier\)")
    first.sendcontrol("c")
    first.expect(r"Interrupted\. Your answers are kept \(.*environment-dev\.yaml\); ")
    first.expect(r"`pcli env create dev` offers them again\.")
    assert finish(first) == 130
    assert not (workspace / "environments" / "dev.yaml").exists()

    second = terminal("env", "create", "dev", "--no-deploy")
    second.expect("Environment blueprint")
    second.send(ENTER)
    second.expect("Version of team-env")
    second.expect(shown("»", "1.0"))  # the kept answer is selected, not the recommended 1.1
    second.send(ENTER)
    second.expect(shown("Team (team)", "core"))  # pre-filled with the kept answer
    second.send(ENTER)
    second.expect(shown("Size (size)", "4"))
    second.send(ENTER)
    second.expect(r"Tier \(tier\)")
    second.send(ENTER)
    second.expect(r"Public \(public\)")
    second.send(ENTER)
    second.expect("Continue with these answers?")
    second.send(ENTER)
    second.expect("Wrote ")

    assert finish(second) == 0
    assert spec(workspace, "dev")["version"] == "1.0"
    assert spec(workspace, "dev")["spec"]["size"] == 4


def test_svc_create_offers_only_compatible_environments(pcli, terminal, workspace, tmp_path):
    web = write_bundle(
        tmp_path / "web-svc",
        {
            ".template-registration.yaml": "compatible_environments:\n  - team-env:1\n",
            "schema/schema.yaml": WEB_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": TEMPLATE,
        },
    )
    ws = ("--workspace", str(workspace))
    assert pcli(*ws, "blueprint", "publish", str(web), "--name", "web-svc").exit_code == 0
    team = ("-b", "team-env", "-p", "team=a", "-p", "size=1", "--no-deploy")
    assert pcli(*ws, "env", "create", "dev", *team).exit_code == 0
    assert pcli(*ws, "env", "create", "lab", "-b", "vpc-ecs-env", "--no-deploy").exit_code == 0

    child = terminal("svc", "create", "web", "-b", "web-svc", "--no-deploy")
    child.expect("Environments to run the service in")
    child.expect("dev")
    child.send(" " + ENTER)  # tick dev, the only one offered
    child.expect(shown("Instance name in dev", "web-dev"))
    child.send(ENTER)
    child.expect(r"Owner \(owner\)")
    child.send("ops" + ENTER)
    child.expect(r"instance web-dev: +in environment dev")
    child.expect("Continue with these answers?")
    child.send(ENTER)
    child.expect("Wrote ")
    child.expect(r"\(web-svc@1\.0\)")

    assert finish(child) == 0
    assert re.search(r"\blab\b", child.logfile_read.getvalue()) is None
    document = yaml.safe_load((workspace / "services" / "web.yaml").read_text())
    assert document["instances"] == [
        {"name": "web-dev", "environment": "dev", "spec": {"owner": "ops"}}
    ]


def test_no_prompt_in_a_terminal_when_ci_is_set(terminal, workspace):
    child = terminal("env", "create", "-b", "team-env", CI="true")

    child.expect(r"Error: new environment: 3 required value\(s\) missing: NAME, team, size")

    assert finish(child) == 2
    assert list((workspace / "environments").iterdir()) == []


def test_no_prompt_in_a_terminal_with_the_commands_own_no_input_flag(terminal, workspace):
    child = terminal("svc", "create", "--no-input")

    child.expect(
        r"Error: new service: 3 required value\(s\) missing: NAME, --blueprint, --instance"
    )

    assert finish(child) == 2
    assert list((workspace / "services").iterdir()) == []
