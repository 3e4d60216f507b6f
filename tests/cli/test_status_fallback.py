"""`pcli status` when the endpoint fails the bulk DescribeStacks of a region: the stacks are read
one by one (ListStacks, then DescribeStacks per stack), what can be read is shown, and the stacks
that cannot be read are problems (exit 1).

Faults are injected by a WSGI middleware in front of moto's own application, served on a port
of its own: moto's backends are process-wide, so it serves the stacks the tests deploy through
the session's moto server.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import boto3
import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "schemas"
ENV_STACK = "pcli-demo-env-one"
API_STACK = "pcli-demo-svc-api-api-a"

ERROR_PAGE = (
    500,
    "text/html",
    (
        b"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"
        b"<h1>Internal Server Error</h1>\n"
    ),
)


def _aws_error(status: int, code: str, message: str) -> tuple[int, str, bytes]:
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{message}</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
    )
    return status, "text/xml", body.encode()


INTERNAL_FAILURE = _aws_error(500, "InternalFailure", "An internal error occurred")
TEMPLATE_ERROR = _aws_error(
    400, "ValidationError", "Template error: instance of Fn::GetAtt references undefined resource"
)
THROTTLED = _aws_error(400, "Throttling", "Rate exceeded")
DENIED = _aws_error(403, "AccessDenied", "not authorized to perform: DescribeStacks")

Rule = Callable[[dict[str, str]], tuple[int, str, bytes] | None]


class FaultInjector:
    """WSGI middleware: each CloudFormation call goes through the rules; the first that answers
    (status, content type, body) is the answer, else moto answers."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.rules: list[Rule] = []
        self.calls: list[dict[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = {key: values[0] for key, values in parse_qs(body.decode(errors="replace")).items()}
        with self.lock:
            self.calls.append(params)
            answer = next((a for rule in self.rules if (a := rule(params)) is not None), None)
        if answer is None:
            return self.app(environ, start_response)
        status, content_type, payload = answer
        start_response(
            f"{status} Injected",
            [("Content-Type", content_type), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    def actions(self) -> list[str]:
        return [call.get("Action", "?") for call in self.calls]


@pytest.fixture(scope="module")
def fault_server() -> Iterator[tuple[str, FaultInjector]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    injector = FaultInjector(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", 0, injector, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", injector
    finally:
        server.shutdown()
        thread.join()


def bulk_read(answer: tuple[int, str, bytes]) -> Rule:
    """A DescribeStacks of every stack (no StackName) answers `answer`."""
    return lambda p: (
        answer if p.get("Action") == "DescribeStacks" and "StackName" not in p else None
    )


def read_of(stack: str, answer: tuple[int, str, bytes]) -> Rule:
    """A DescribeStacks of `stack` (by name, or by an id naming it) answers `answer`."""

    def rule(p: dict[str, str]) -> tuple[int, str, bytes] | None:
        asked = p.get("StackName", "")
        if p.get("Action") == "DescribeStacks" and stack in (asked, _name_in_id(asked)):
            return answer
        return None

    return rule


def _name_in_id(stack_id: str) -> str:
    return stack_id.split(":stack/", 1)[1].split("/", 1)[0] if ":stack/" in stack_id else ""


TINY_ENV = {
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "Input"
  types:
    Input:
      type: object
      properties:
        retention:
          type: integer
          default: 7
""",
    "infrastructure/manifest.yaml": """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
""",
    "infrastructure/cloudformation.yaml": """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: {{ environment.inputs.retention }}
Outputs:
  LogGroupArn:
    Value: !GetAtt Logs.Arn
  LogGroupName:
    Value: !Ref Logs
""",
}
TINY_SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "Input"
  types:
    Input:
      type: object
      properties:
        size:
          type: integer
          default: 1
""",
    "instance_infrastructure/manifest.yaml": TINY_ENV["infrastructure/manifest.yaml"],
    "instance_infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: "{{ environment.outputs.LogGroupName }}"
""",
}


def ok(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def deployed(cli, tmp_path, write_files, moto_url):
    """Environment one (a log group) and service api with instance api-a in it, deployed."""
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "one", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=one", "--yes"))
    return cli


class Faulty:
    """The workspace's `pcli`, talking to the fault-injecting server, and its injector."""

    def __init__(self, cli: Callable[..., Any], injector: FaultInjector) -> None:
        self.cli, self.injector = cli, injector

    def fail(self, *rules: Rule) -> None:
        self.injector.rules.extend(rules)

    def actions(self) -> list[str]:
        """The CloudFormation calls made (the S3 listing of provisioned state aside)."""
        return [action for action in self.injector.actions() if action != "?"]


@pytest.fixture
def faulty(fault_server, deployed, monkeypatch) -> Faulty:
    """From here on pcli talks to the fault-injecting server, with no retries (a fault shows
    at once)."""
    url, injector = fault_server
    injector.rules.clear()
    injector.calls.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return Faulty(deployed, injector)


def rows_of(stdout: str) -> dict[str, list[str]]:
    """The status table's rows by item name: [kind, env, blueprint, stack status, ..., state]."""
    found = {}
    for line in stdout.splitlines()[2:]:
        cells = line.split()
        if cells and cells[0] in {"environment", "instance", "pipeline", "component"}:
            found[cells[1]] = [cells[0], *cells[2:]]
    return found


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (ERROR_PAGE, "an error page instead of an AWS response"),
        (INTERNAL_FAILURE, "InternalFailure: An internal error occurred"),
        (TEMPLATE_ERROR, "ValidationError: Template error: instance of Fn::GetAtt references"),
    ],
)
def test_a_failed_bulk_read_shows_what_each_stack_read_finds_and_the_stacks_it_cannot(
    faulty, answer, words
):
    faulty.fail(bulk_read(answer), read_of(ENV_STACK, answer))

    result = faulty.cli("status")

    assert result.exit_code == 1
    rows = rows_of(result.stdout)
    assert list(rows) == ["api/api-a"]  # environment one is left out: its stack is unknown
    assert rows["api/api-a"][3] == "CREATE_COMPLETE"
    assert rows["api/api-a"][-1] == "up-to-date"  # not pending: its environment is unknown
    assert result.stdout.splitlines()[-1] == (
        "1 item(s): 1 up to date, 0 behind minor, 0 behind major, 0 failed, 0 pending, 0 orphaned"
    )
    stderr = result.stderr.splitlines()
    assert stderr[0].startswith(
        f"Warning: DescribeStacks of every stack in us-east-1 failed ({words}"
    )
    assert stderr[0].endswith("); its stacks were read one by one")
    assert stderr[1].startswith(
        f"Warning: could not read stack {ENV_STACK} in us-east-1 (CREATE_COMPLETE): "
        f"DescribeStacks answered {words}"
    )
    assert stderr[2:] == [
        "Error: 1 stack(s) could not be read; the report above leaves them out",
        (
            "Hint: wait for the endpoint's fault to pass (it failed to describe the stacks named "
            "above), then run the command again"
        ),
    ]
    actions = faulty.actions()
    assert actions[:2] == ["DescribeStacks", "ListStacks"]
    assert sorted(actions[2:]) == ["DescribeStacks"] * 2  # the environment, the instance


def test_status_json_names_the_stacks_it_cannot_read_as_problems(faulty):
    faulty.fail(bulk_read(ERROR_PAGE), read_of(ENV_STACK, INTERNAL_FAILURE))

    result = faulty.cli("status", "--json")

    assert result.exit_code == 1
    document = json.loads(result.stdout)
    _check_schema(document, "status")
    assert [(r["kind"], r["name"]) for r in document["resources"]] == [
        ("service-instance", "api/api-a")
    ]
    assert document["problems"] == [
        {
            "stack_name": ENV_STACK,
            "region": "us-east-1",
            "stack_status": "CREATE_COMPLETE",
            "message": "DescribeStacks answered InternalFailure: An internal error occurred",
        }
    ]


def test_plan_neither_creates_nor_updates_for_a_stack_it_cannot_read(faulty):
    """The unread environment is not taken for undeployed (a create), and what renders with
    its outputs is not taken for changed (an update)."""
    faulty.fail(bulk_read(ERROR_PAGE), read_of(ENV_STACK, ERROR_PAGE))

    result = faulty.cli("plan", "--json")

    assert result.exit_code == 1
    items = json.loads(result.stdout)["items"]
    assert [(i["kind"], i["name"], i["action"]) for i in items] == [
        ("service-instance", "api/api-a", "none")
    ]
    assert result.stderr.splitlines()[-2] == (
        "Error: 1 stack(s) could not be read; the report above leaves them out"
    )


def test_apply_does_nothing_while_a_stack_cannot_be_read(faulty, deployed):
    """Even with something to do elsewhere: the plan is made from a part of the truth."""
    ok(deployed("env", "create", "two", "-b", "tiny-env", "--no-deploy"))
    faulty.fail(bulk_read(ERROR_PAGE), read_of(ENV_STACK, ERROR_PAGE))

    result = faulty.cli("apply", "--yes")

    assert result.exit_code == 1, result.output
    assert "could not read stack" in result.stderr
    assert "CreateChangeSet" not in faulty.actions()


def test_env_delete_is_refused_while_a_stack_of_its_region_cannot_be_read(faulty):
    """The unread stack may be an instance of the environment: its tags are unknown."""
    faulty.fail(bulk_read(ERROR_PAGE), read_of(API_STACK, ERROR_PAGE))

    result = faulty.cli("env", "delete", "one", "--yes")

    assert result.exit_code == 2, result.output
    assert f"stack {API_STACK} (CREATE_COMPLETE): could not be read" in result.stderr
    assert "DeleteStack" not in faulty.actions()


def test_when_each_stack_reads_well_status_is_whole_and_says_how_it_read_them(faulty):
    faulty.fail(bulk_read(ERROR_PAGE))

    result = faulty.cli("status")

    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert sorted(rows) == ["api/api-a", "one"]
    assert all(row[3] == "CREATE_COMPLETE" and row[-1] == "up-to-date" for row in rows.values())
    assert result.stderr == (
        "Warning: DescribeStacks of every stack in us-east-1 failed (an error page instead of "
        "an AWS response); its stacks were read one by one\n"
    )
    assert faulty.actions()[:2] == ["DescribeStacks", "ListStacks"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (
            THROTTLED,
            (
                "Error: DescribeStacks failed for all stacks: AWS is throttling requests "
                "(Throttling: Rate exceeded), still after retries"
            ),
        ),
        (
            DENIED,
            (
                "Error: DescribeStacks failed for all stacks: access denied (not authorized to "
                "perform: DescribeStacks)"
            ),
        ),
    ],
)
def test_throttling_and_denied_access_stay_errors(faulty, answer, error):
    faulty.fail(bulk_read(answer))

    result = faulty.cli("status")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == error
    assert faulty.actions() == ["DescribeStacks"]  # nothing read one by one


def test_status_reads_a_stack_whose_log_group_retention_changed(deployed, cloudformation):
    """The field report: changing a log group's retention made every later status fail (moto
    dropped the log group from the stack; each DescribeStacks then failed on its outputs)."""
    spec = deployed.workspace / "environments" / "one.yaml"
    spec.write_text(spec.read_text().replace("spec: {}", "spec:\n  retention: 30", 1))
    ok(deployed("env", "deploy", "one", "--yes"))

    result = ok(deployed("status"))

    rows = rows_of(result.stdout)
    assert (rows["one"][3], rows["one"][-1]) == ("UPDATE_COMPLETE", "up-to-date")
    assert result.stderr == ""
    (stack,) = cloudformation.describe_stacks(StackName=ENV_STACK)["Stacks"]
    name = next(o["OutputValue"] for o in stack["Outputs"] if o["OutputKey"] == "LogGroupName")
    logs = boto3.client(
        "logs", endpoint_url=cloudformation.meta.endpoint_url, region_name="us-east-1"
    )
    (group,) = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    assert group["retentionInDays"] == 30


def _check_schema(document: Any, name: str) -> None:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in SCHEMAS.glob("*.schema.json")
    )
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    errors = [
        e.message for e in Draft202012Validator(schema, registry=registry).iter_errors(document)
    ]
    assert errors == []
