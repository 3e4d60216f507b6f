"""`pcli svc status` and `pcli status --health` against a real moto server: the starter
fargate-web-svc (an ECS service behind a load balancer target group), a Lambda function with an
alarm, states set through boto3, and a health read the credentials may not make (the
fault-injecting server of test_status_fallback)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from tests.cli.test_component_status_commands import MANIFEST
from tests.cli.test_component_status_commands import TINY_ENV as ENV
from tests.cli.test_logs_commands import SIZE_SVC_SCHEMA
from tests.cli.test_status_fallback import _aws_error, fault_server  # noqa: F401

CONNECTION = "arn:aws:codeconnections:us-east-1:111111111111:connection/abc"
INSTANCE_STACK = "pcli-demo-svc-web-web-dev"
SCHEMAS = Path(__file__).resolve().parents[2] / "docs/reference/schemas"
# moto has no CloudFormation model for the starter's pipeline (AWS::CodeBuild::Project): the
# instance deploys, the pipeline does not; health reads the instance only.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning"
)
FUNCTION_SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - fn-env:1\n",
    "schema/schema.yaml": SIZE_SVC_SCHEMA,
    "instance_infrastructure/manifest.yaml": MANIFEST,
    "instance_infrastructure/cloudformation.yaml": """\
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {Service: lambda.amazonaws.com}
            Action: sts:AssumeRole
  Function:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: "fn-{{ service_instance.name }}"
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: "def handler(event, context):\\n    return 1\\n"
Outputs:
  FunctionName:
    Value: !Ref Function
""",
}


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def client(service: str, url: str):
    return boto3.client(service, endpoint_url=url, region_name="us-east-1")


def valid(text: str, schema: str) -> dict:
    """The document, validated against the schema (and the schemas it refers to)."""
    document = json.loads(text)
    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text())))
        for path in SCHEMAS.glob("*.schema.json")
    ]
    schema_text = json.loads((SCHEMAS / f"{schema}.schema.json").read_text())
    Draft202012Validator(schema_text, registry=Registry().with_resources(resources)).validate(
        document
    )
    return document


@pytest.fixture
def web(cli, cloudformation):
    """The starter: environment dev (vpc-ecs-env), service web (fargate-web-svc) with web-dev."""
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--yes"))
    cli(
        "svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev",
        "--repository", "acme/web", "--branch", "main", "--connection-arn", CONNECTION, "--yes",
    )  # fmt: skip
    resources = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=INSTANCE_STACK)[
            "StackResourceSummaries"
        ]
    }
    return cli, resources


def make_healthy(url: str, resources: dict[str, str]) -> None:
    """Tasks running (moto counts them as running once the desired count is set) and one
    registered target."""
    service = resources["Service"]
    client("ecs", url).update_service(
        cluster=service.split("/")[1], service=service, desiredCount=1
    )
    client("elbv2", url).register_targets(
        TargetGroupArn=resources["TargetGroup"], Targets=[{"Id": "10.0.1.17", "Port": 8080}]
    )


def test_a_new_ecs_service_without_tasks_or_targets_is_unhealthy(web):
    cli, _resources = web

    result = cli("svc", "status", "web")

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "web-dev: unhealthy"
    assert lines[1].startswith("  URL: http://")
    assert "desired 1, running 0, pending 1" in result.stdout
    assert "no targets registered" in result.stdout
    assert result.stderr == (
        "Error: service web: web-dev unhealthy\nHint: see the checks above for what is not "
        "healthy\n"
    )


def test_running_tasks_and_healthy_targets_are_healthy_until_an_alarm_fires(web, moto_url):
    cli, resources = web
    make_healthy(moto_url, resources)

    healthy = ok(cli("svc", "status", "web", "--json"))

    document = valid(healthy.stdout, "svc-status")
    (instance,) = document["instances"]
    assert instance["health"] == "healthy"
    assert instance["url"].startswith("http://")
    assert [(c["what"].split()[0], c["health"]) for c in instance["checks"]] == [
        ("ECS", "healthy"),
        ("target", "healthy"),
    ]
    # moto keeps the deployment's rollout state of before the update
    assert instance["checks"][0]["detail"] == "desired 1, running 1, pending 0; rollout in progress"
    assert instance["checks"][1]["detail"] == "1 healthy"

    cloudwatch = client("cloudwatch", moto_url)
    group = resources["TargetGroup"].split(":")[-1]
    cloudwatch.put_metric_alarm(
        AlarmName="web-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=[{"Name": "TargetGroup", "Value": group}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    cloudwatch.put_metric_alarm(  # another resource's alarm: not this service's
        AlarmName="elsewhere",
        Namespace="AWS/SQS",
        MetricName="ApproximateAgeOfOldestMessage",
        Dimensions=[{"Name": "QueueName", "Value": "other"}],
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    for name in ("web-5xx", "elsewhere"):
        cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5xx seen")

    alarmed = cli("svc", "status", "web", "-i", "web-dev")

    assert alarmed.exit_code == 1
    assert "alarm web-5xx" in alarmed.stdout
    assert "elsewhere" not in alarmed.stdout
    assert alarmed.stdout.splitlines()[0] == "web-dev: unhealthy"


@pytest.fixture
def functions(cli, tmp_path, write_files, moto_url):
    """Environment one (fn-env) and service api (fn-svc: a Lambda function, no URL output)
    with instance api-one, and an alarm on the function's errors (moto's CloudFormation cannot
    make one)."""
    for name, files in (("fn-env", ENV), ("fn-svc", FUNCTION_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "one", "-b", "fn-env", "--yes"))
    ok(cli("svc", "create", "api", "-b", "fn-svc", "-i", "api-one=one", "--yes"))
    client("cloudwatch", moto_url).put_metric_alarm(
        AlarmName="errors-api-one",
        Namespace="AWS/Lambda",
        MetricName="Errors",
        Dimensions=[{"Name": "FunctionName", "Value": "fn-api-one"}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    return cli


def test_a_function_is_judged_by_state_errors_throttles_and_its_alarm(functions, moto_url):
    cli = functions

    fine = ok(cli("svc", "status", "api", "--json"))
    (instance,) = valid(fine.stdout, "svc-status")["instances"]
    assert instance["url"] is None
    assert instance["checks"] == [
        {
            "what": "Lambda function fn-api-one",
            "health": "healthy",
            "detail": "Active, last update Successful; last hour: 0 errors, 0 throttles",
            "missing_permission": None,
        }
    ]
    assert "URL: - (no output is an http(s) URL)" in ok(cli("svc", "status", "api")).stdout

    cloudwatch = client("cloudwatch", moto_url)
    cloudwatch.put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": "fn-api-one"}],
                "Timestamp": datetime.now(UTC),
                "Value": value,
            }
            for metric, value in (("Errors", 3), ("Throttles", 1))
        ],
    )
    cloudwatch.set_alarm_state(
        AlarmName="errors-api-one", StateValue="ALARM", StateReason="3 errors"
    )

    failing = cli("svc", "status", "api", "--json")

    assert failing.exit_code == 1
    checks = valid(failing.stdout, "svc-status")["instances"][0]["checks"]
    assert [(c["what"], c["health"], c["detail"]) for c in checks] == [
        (
            "Lambda function fn-api-one",
            "unhealthy",
            "Active, last update Successful; last hour: 3 errors, 1 throttles",
        ),
        ("alarm errors-api-one", "unhealthy", "3 errors"),
    ]


def test_status_health_adds_a_column_and_a_field_only_when_asked(web, moto_url, monkeypatch):
    cli, resources = web
    make_healthy(moto_url, resources)

    plain = json.loads(ok(cli("status", "--json")).stdout)
    assert all("health" not in row for row in plain["resources"])

    asked = ok(cli("status", "--health", "--json"))
    valid(asked.stdout, "status")
    health = {row["kind"]: row["health"] for row in json.loads(asked.stdout)["resources"]}
    assert health == {"environment": None, "service-instance": "healthy", "pipeline": None}

    monkeypatch.setenv("COLUMNS", "140")  # the table is wider by a column
    table = [line for line in ok(cli("status", "--health")).stdout.splitlines() if line.strip()]
    assert table[0].split()[-2:] == ["HEALTH", "STATE"]
    at = table[0].index("HEALTH")
    assert [line[at:].split()[0] for line in table[2:5]] == ["-", "healthy", "-"]


DENIED = _aws_error(
    403,
    "AccessDenied",
    "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
    "elasticloadbalancing:DescribeTargetHealth",
)


def test_a_denied_health_read_is_unknown_and_names_the_permission(
    web,
    moto_url,
    fault_server,  # noqa: F811 - the fixture imported above
    monkeypatch,
):
    cli, resources = web
    make_healthy(moto_url, resources)
    url, injector = fault_server
    injector.rules[:] = [lambda p: DENIED if p.get("Action") == "DescribeTargetHealth" else None]
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    result = cli("svc", "status", "web", "--json")

    assert result.exit_code == 1
    (instance,) = valid(result.stdout, "svc-status")["instances"]
    assert instance["health"] == "unknown"
    target = instance["checks"][1]
    assert target["health"] == "unknown"
    assert target["missing_permission"] == "elasticloadbalancing:DescribeTargetHealth"
    assert target["detail"] == "access denied: needs elasticloadbalancing:DescribeTargetHealth"
    assert result.stderr == (
        "Error: service web: web-dev unknown\n"
        "Hint: the credentials in use lack elasticloadbalancing:DescribeTargetHealth: add them "
        "to their policy (or use a profile or role that has them) to see the whole health\n"
    )


def test_unknown_instance_and_undeployed_instance(web, cloudformation):
    cli, _resources = web
    unknown = cli("svc", "status", "web", "-i", "nope")
    assert unknown.exit_code == 2
    assert unknown.stderr == (
        "Error: service 'web' has no instance 'nope'\nHint: its instances: web-dev\n"
    )

    cloudformation.delete_stack(StackName=INSTANCE_STACK)
    gone = cli("svc", "status", "web")
    assert gone.exit_code == 1
    assert gone.stdout == "web-dev: unknown\n  not deployed\n"
    assert gone.stderr == (
        "Error: service web: web-dev unknown\nHint: deploy it first: pcli svc deploy web --yes\n"
    )


def test_graph_health_draws_each_instance_border_by_its_verdict(web, moto_url):
    cli, resources = web

    sick = ok(cli("graph", "--health"))
    make_healthy(moto_url, resources)
    well = ok(cli("graph", "--health", "--format", "dot"))
    plain = ok(cli("graph"))

    node = "service_instance__web_web_dev"
    assert "web/web-dev<br/>fargate-web-svc@1.0<br/>unhealthy" in sick.stdout
    assert f"  style {node} stroke:#b71c1c,stroke-width:3px" in sick.stdout.splitlines()
    (line,) = [ln for ln in well.stdout.splitlines() if ln.strip().startswith(f"{node} [")]
    assert 'label="web/web-dev\\nfargate-web-svc@1.0\\nhealthy"' in line
    assert 'color="#2e7d32", penwidth=3' in line
    assert "style " not in plain.stdout
    assert "healthy" not in plain.stdout
