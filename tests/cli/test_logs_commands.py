"""`pcli svc logs` and `pcli env logs` against a real moto server: log groups found in the stacks'
resources (log groups, ECS task definitions' awslogs-group), events merged by time, NDJSON,
--follow polling with backoff, and the errors."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator

from protoncli.deploy.project import Project, Stopped

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
ENV = {
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "EnvInput"
  types:
    EnvInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
""",
    "infrastructure/manifest.yaml": MANIFEST,
    "infrastructure/cloudformation.yaml": """\
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/env/{{ environment.name }}"
""",
}
# A service schema of one optional input: what the logs and health services need, no more.
SIZE_SVC_SCHEMA = """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "SvcInput"
  types:
    SvcInput:
      type: object
      properties:
        size:
          type: string
          default: "small"
"""
SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - log-env:1\n",
    "schema/schema.yaml": SIZE_SVC_SCHEMA,
    "instance_infrastructure/manifest.yaml": MANIFEST,
    "instance_infrastructure/cloudformation.yaml": """\
Resources:
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: "/app/{{ service_instance.name }}"
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: "{{ service_instance.name }}"
      ContainerDefinitions:
        - Name: web
          Image: nginx
          Memory: 128
          LogConfiguration:
            LogDriver: awslogs
            Options:
              awslogs-group: "/ecs/{{ service_instance.name }}"
              awslogs-region: us-east-1
              awslogs-stream-prefix: web
""",
}
SCHEMA = Path(__file__).resolve().parents[2] / "docs/reference/schemas/logs-event.schema.json"


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def logs_client(moto_url):
    return boto3.client("logs", endpoint_url=moto_url, region_name="us-east-1")


@pytest.fixture
def deployed(cli, tmp_path, write_files, logs_client):
    """Environments one and two (log-env), service web with web-a (one) and web-b (two)."""
    for name, files in (("log-env", ENV), ("log-svc", SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    for env in ("one", "two"):
        ok(cli("env", "create", env, "-b", "log-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "log-svc", "-i", "web-a=one", "-i", "web-b=two", "--yes"))
    # moto's task definition does not create its awslogs group; the ECS agent would.
    for instance in ("web-a", "web-b"):
        logs_client.create_log_group(logGroupName=f"/ecs/{instance}")
    return "web"


def now_ms() -> int:
    return int(time.time() * 1000)


def put(logs_client, group, stream, *events):
    """`events`: (timestamp ms, message) pairs."""
    try:
        logs_client.create_log_stream(logGroupName=group, logStreamName=stream)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise
    logs_client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": t, "message": m} for t, m in events],
    )


def stamp(ms: int) -> str:
    from datetime import UTC, datetime

    when = datetime.fromtimestamp(ms / 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def test_svc_logs_merges_every_group_of_every_instance_by_time(cli, deployed, logs_client):
    base = now_ms() - 60_000
    put(logs_client, "/app/web-a", "main", (base + 1, "a first"), (base + 30, "a third"))
    put(logs_client, "/ecs/web-b", "web/web/0123456789abcdef", (base + 20, "b ecs second"))
    put(logs_client, "/app/web-b", "main", (base - 3_600_000, "too old"))

    result = ok(cli("svc", "logs", "web"))

    assert result.stdout.splitlines() == [
        f"{stamp(base + 1)} web-a:web-a/main a first",
        f"{stamp(base + 20)} web-b:web-b/0123456789ab b ecs second",
        f"{stamp(base + 30)} web-a:web-a/main a third",
    ]


def test_svc_logs_json_is_one_object_per_event_and_filters(cli, deployed, logs_client):
    base = now_ms() - 60_000
    put(logs_client, "/ecs/web-a", "web/web/task1", (base, "ERROR boom"), (base + 5, "fine"))
    put(logs_client, "/app/web-b", "main", (base + 9, "ERROR other instance"))

    result = ok(cli("svc", "logs", "web", "-i", "web-a", "--json", "--filter", "ERROR"))

    records = [json.loads(line) for line in result.stdout.splitlines()]
    validator = Draft202012Validator(json.loads(SCHEMA.read_text()))
    for record in records:
        validator.validate(record)
    assert [(r["instance"], r["log_group"], r["log_stream"], r["message"]) for r in records] == [
        ("web-a", "/ecs/web-a", "web/web/task1", "ERROR boom")
    ]
    assert records[0]["timestamp"].endswith("+00:00")


def test_svc_logs_since_reads_older_events(cli, deployed, logs_client):
    old = now_ms() - 2 * 3_600_000
    put(logs_client, "/app/web-a", "main", (old, "two hours ago"))

    assert ok(cli("svc", "logs", "web")).stdout == ""
    assert "two hours ago" in ok(cli("svc", "logs", "web", "--since", "3h")).stdout
    assert ok(cli("svc", "logs", "web", "--since", stamp(old + 1))).stdout == ""


def test_svc_logs_follow_polls_with_backoff_until_interrupted(
    cli, deployed, logs_client, monkeypatch
):
    base = now_ms() - 1000
    put(logs_client, "/app/web-a", "main", (base, "before"))
    waits = []

    def sleep(_project, seconds):
        waits.append(seconds)
        if len(waits) == 1:  # a new event, and one at the same millisecond as the last read
            put(logs_client, "/app/web-a", "main", (base, "same millisecond"), (base + 1, "new"))
        if len(waits) == 5:
            raise Stopped

    monkeypatch.setattr(Project, "sleep", sleep)
    result = cli("svc", "logs", "web", "--follow", "--json")

    assert result.exit_code == 130
    messages = [json.loads(line)["message"] for line in result.stdout.splitlines()]
    assert messages == ["before", "same millisecond", "new"]
    assert waits == [1.0, 1.0, 2.0, 4.0, 5.0]
    assert result.stderr == "\n"


def test_env_logs_reads_the_environment_stack(cli, deployed, logs_client):
    base = now_ms() - 1000
    put(logs_client, "/env/one", "s", (base, "env event"))

    result = ok(cli("env", "logs", "one", "--json"))

    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {
            "timestamp": json.loads(result.stdout)["timestamp"],
            "instance": None,
            "log_group": "/env/one",
            "log_stream": "s",
            "message": "env event",
        }
    ]


def test_svc_logs_of_an_unknown_service_or_instance_names_the_known_ones(cli, deployed):
    result = cli("svc", "logs", "web", "-i", "web-c")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: service 'web' has no instance 'web-c'\nHint: its instances: web-a, web-b\n"
    )
    result = cli("svc", "logs", "nope")
    assert result.exit_code == 2
    assert "web" in result.stderr


def test_svc_logs_of_a_service_not_deployed_says_so(cli, deployed, cloudformation):
    cloudformation.delete_stack(StackName="pcli-demo-svc-web-web-b")

    result = cli("svc", "logs", "web", "-i", "web-b")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: not deployed: service instance web/web-b (stack pcli-demo-svc-web-web-b)\n"
        "Hint: deploy it first: pcli svc deploy web -i web-b --yes\n"
    )
    both = ok(cli("svc", "logs", "web"))
    assert "Note: service instance web/web-b is not deployed" in both.stderr


def test_no_log_groups_is_a_note(cli, tmp_path, write_files):
    env = dict(ENV)
    env["infrastructure/cloudformation.yaml"] = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
    ok(cli("blueprint", "publish", str(write_files(tmp_path / "bare", env)), "--name", "bare"))
    ok(cli("env", "create", "dev", "-b", "bare", "--yes"))

    result = ok(cli("env", "logs", "dev"))
    assert result.stdout == ""
    assert result.stderr == "No log groups found in the stacks' resources: nothing to show.\n"


def test_bad_since_is_a_usage_error(cli, deployed):
    result = cli("svc", "logs", "web", "--since", "yesterday")
    assert result.exit_code == 2
    assert "--since 'yesterday'" in result.stderr
