"""The live view in a real 80 x 24 terminal: `.venv/bin/pcli` runs in a pseudo-terminal
(pexpect) against the moto server, and what it wrote is replayed on a small screen
(tests/cli/test_live_view_screen.py) to see what a person sees and can scroll back to.

Covered: a deploy of more stacks than the terminal has rows stays within 80 x 24 and is redrawn
in place; nothing is drawn before the confirmation is answered; Ctrl-C at the question ends on
a fresh line saying nothing was deployed (exit 130), also when the question is asked on a worker
thread (several instances), and says a deployment goes on only when one was started; Ctrl-C
at the delete question says nothing was deleted.
"""

from __future__ import annotations

import io
import os
import re
import sys
from pathlib import Path

import pexpect
import pytest
from tests.cli.test_live_view_screen import screen_of
from tests.conftest import REPO_ROOT

PCLI = Path(sys.executable).with_name("pcli")
TIMEOUT = 30
ROWS, COLUMNS = 24, 80
QUESTION = "Deploy these changes? [y/N]: "
TITLE = re.compile(r"^service instance api/i(\d+) \(")
MORE = re.compile(r"^… and (\d+) more \((\d+) done\)$")
MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
SVC_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: ThreeInput
  types:
    ThreeInput:
      type: object
      properties:
        retention: {type: integer, default: 60}
"""
SVC_TEMPLATE = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
  DeadLetterQueue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}-dlq"
  Topic:
    Type: AWS::SNS::Topic
"""

pytestmark = pytest.mark.skipif(not PCLI.exists(), reason="needs the installed pcli script")


@pytest.fixture
def workspace(cli, registry, write_files, cloudformation):
    """Environment dev deployed (tiny-env), qa declared; three-svc published (three resources
    per instance, no pipeline). Returns the root flags that point pcli at them."""
    bundle = write_files(
        "three-svc",
        {
            ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
            "schema/schema.yaml": SVC_SCHEMA,
            "instance_infrastructure/manifest.yaml": MANIFEST,
            "instance_infrastructure/cloudformation.yaml": SVC_TEMPLATE,
        },
    )
    tiny_env = REPO_ROOT / "tests" / "contract" / "bundles" / "tiny-env"
    for args in (
        ("blueprint", "publish", str(tiny_env), "--name", "tiny-env"),
        ("blueprint", "publish", str(bundle), "--name", "three-svc"),
        ("env", "create", "dev", "-b", "tiny-env", "--yes"),
        ("env", "create", "qa", "-b", "tiny-env", "--no-deploy"),
    ):
        done = cli(*args)
        assert done.exit_code == 0, done.output
    return ["--registry", str(registry), "--workspace", str(cli.workspace)]


def service(cli, instances: int) -> None:
    pairs = [arg for k in range(instances) for arg in ("-i", f"i{k:02d}=dev")]
    done = cli("svc", "create", "api", "-b", "three-svc", *pairs, "--no-deploy")
    assert done.exit_code == 0, done.output


@pytest.fixture
def terminal():
    """Start `pcli ARGS...` in an 80 x 24 xterm pty; `.transcript` holds all it wrote."""
    started = []

    def spawn(*args: str) -> pexpect.spawn:
        # A terminal's own size, not a COLUMNS the tests set for in-process runs.
        env = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "CI"}}
        child = pexpect.spawn(
            str(PCLI), list(args), env={**env, "TERM": "xterm"}, dimensions=(ROWS, COLUMNS),
            encoding="utf-8", timeout=TIMEOUT,
        )  # fmt: skip
        child.logfile_read = io.StringIO()
        started.append(child)
        return child

    yield spawn
    for child in started:
        if child.isalive():
            child.terminate(force=True)


def ended(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus)


def seen(child: pexpect.spawn) -> list[str]:
    """Everything a person can read now: the scrollback, then the screen."""
    screen = screen_of(child.logfile_read.getvalue(), ROWS, COLUMNS)
    assert screen.wraps == 0, "a line was wider than the terminal"
    return screen.history


def stacks(cloudformation) -> set[str]:
    return {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}


def test_a_deploy_of_more_stacks_than_rows_stays_within_80x24(cli, workspace, terminal):
    service(cli, 25)
    child = terminal(*workspace, "svc", "deploy", "api", "--yes")

    assert ended(child) == 0
    lines = seen(child)
    outcome = next(k for k, line in enumerate(lines) if line.startswith("Deployed service"))
    drawn = [int(m.group(1)) for line in lines if (m := TITLE.match(line))]
    more = MORE.match(lines[outcome - 1])

    assert more is not None, lines[outcome - 5 : outcome + 1]
    assert len(drawn) == len(set(drawn))  # redrawn in place: no copies in the scrollback
    assert len(drawn) + int(more.group(1)) == 25
    assert more.group(1) == more.group(2)  # all done
    assert lines[outcome:] == [
        f"Deployed service instance api/i{k:02d}: CREATE_COMPLETE (pcli-demo-svc-api-i{k:02d})."
        for k in range(25)
    ]


def test_nothing_is_drawn_before_the_question_and_the_deployment_after_it(workspace, terminal):
    child = terminal(*workspace, "env", "deploy", "qa")

    child.expect(re.escape(QUESTION))
    asked = seen(child)
    child.send("y\r")
    assert ended(child) == 0
    lines = seen(child)
    question = lines.index(QUESTION + "y")

    assert asked[-4:] == [
        "Changes to environment qa (pcli-demo-env-qa):",
        "  ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "  Add     Topic       AWS::SNS::Topic  -",
        QUESTION.rstrip(),
    ]
    assert not [line for line in asked if line.startswith("environment qa (")]  # no table yet
    assert lines[question + 1].startswith("environment qa (pcli-demo-env-qa)  CREATE_COMPLETE")
    assert lines[-1] == "Deployed environment qa: CREATE_COMPLETE (pcli-demo-env-qa)."


def test_ctrl_c_at_the_question_says_nothing_was_deployed(workspace, terminal, cloudformation):
    child = terminal(*workspace, "env", "deploy", "qa")

    child.expect(re.escape(QUESTION))
    child.sendintr()

    assert ended(child) == 130
    assert seen(child)[-2:] == [QUESTION + "^C", "Interrupted. Nothing was deployed."]
    assert "pcli-demo-env-qa" not in stacks(cloudformation)


def test_ctrl_c_at_a_question_asked_on_a_worker_thread_ends_at_once(
    cli, workspace, terminal, cloudformation
):
    """Instances deploy side by side, and each asks on its own thread, where Ctrl-C does not
    land: the question still ends, and so does the command."""
    service(cli, 3)
    child = terminal(*workspace, "svc", "deploy", "api")

    child.expect(re.escape(QUESTION))
    child.sendintr()

    assert ended(child) == 130
    assert seen(child)[-2:] == [QUESTION + "^C", "Interrupted. Nothing was deployed."]
    assert not [name for name in stacks(cloudformation) if name.startswith("pcli-demo-svc")]


def test_ctrl_c_after_an_instance_was_confirmed_says_its_deployment_goes_on(
    cli, workspace, terminal
):
    service(cli, 3)
    child = terminal(*workspace, "svc", "deploy", "api")

    child.expect(re.escape(QUESTION))
    child.send("y\r")
    child.expect(re.escape(QUESTION))
    child.sendintr()

    assert ended(child) == 130
    lines = seen(child)
    assert lines[-3:] == [
        QUESTION + "^C",
        "Interrupted. A deployment already started goes on in AWS.",
        "Run the same command again to resume watching it.",
    ]
    # The third instance's change set is shown with its question, which never came.
    assert len([line for line in lines if line.startswith("Changes to")]) == 2


def test_ctrl_c_at_the_delete_question_says_nothing_was_deleted(
    workspace, terminal, cloudformation
):
    child = terminal(*workspace, "env", "delete", "dev")

    child.expect(re.escape("Delete environment dev and its AWS resources? [y/N]: "))
    child.sendintr()

    assert ended(child) == 130
    assert seen(child)[-1] == "Interrupted. Nothing was deleted."
    assert "pcli-demo-env-dev" in stacks(cloudformation)


QUEUE_ENV = {
    "schema/schema.yaml": """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: QueueInput
  types:
    QueueInput:
      type: object
      properties:
        timeout: {type: integer, default: 30}
""",
    "infrastructure/manifest.yaml": MANIFEST,
    "infrastructure/cloudformation.yaml": """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: {{ environment.inputs.timeout }}
""",
}


def test_the_confirmation_of_an_update_shows_the_inputs_changed(
    cli, registry, write_files, terminal
):
    """An update's change set, above its question, says which inputs changed since the stack
    was last deployed (from the deployment record the stack's tag names)."""
    bundle = write_files("queue-env", QUEUE_ENV)
    for args in (
        ("blueprint", "publish", str(bundle), "--name", "queue-env"),
        ("env", "create", "dev", "-b", "queue-env", "--yes"),
    ):
        done = cli(*args)
        assert done.exit_code == 0, done.output
    spec = cli.workspace / "environments" / "dev.yaml"
    spec.write_text(spec.read_text().replace("spec: {}", "spec:\n  timeout: 45"))
    flags = ["--registry", str(registry), "--workspace", str(cli.workspace)]
    child = terminal(*flags, "env", "deploy", "dev")

    child.expect(re.escape(QUESTION))
    asked = seen(child)
    child.send("n\r")

    assert ended(child) == 1
    assert asked[-6:] == [
        "Changes to environment dev (pcli-demo-env-dev):",
        "  Inputs (as last deployed → now):",
        "    timeout: 30 → 45",
        "  ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "  Modify  Queue       AWS::SQS::Queue  -",
        QUESTION.rstrip(),
    ]
