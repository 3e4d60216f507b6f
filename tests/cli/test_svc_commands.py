"""`pcli svc ...` against a real moto server: create (in parallel, outputs flowing env → instance
→ pipeline), deploy, list, show, outputs, delete, scaffold, cancel.

Every command runs the real app in-process; stdin is not a terminal, so deploying needs --yes.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.cli.progress import PlainView

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
TINY_ENV = {
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  environment_input_type: "TinyEnvironmentInput"
  types:
    TinyEnvironmentInput:
      type: object
      properties:
        team:
          type: string
          default: "core"
""",
    "infrastructure/manifest.yaml": MANIFEST,
    "infrastructure/cloudformation.yaml": """\
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: "{{ environment.name }}-{{ environment.inputs.team }}"
Outputs:
  TopicArn:
    Value: !Ref Topic
""",
}
TINY_SVC = {
    ".template-registration.yaml": "compatible_environments:\n  - tiny-env:1\n",
    "schema/schema.yaml": """\
schema:
  format:
    openapi: "3.0.0"
  service_input_type: "TinyServiceInput"
  pipeline_input_type: "TinyPipelineInput"
  types:
    TinyServiceInput:
      type: object
      required: [owner]
      properties:
        owner:
          type: string
        retention:
          type: integer
          default: 60
    TinyPipelineInput:
      type: object
      properties:
        stage:
          type: string
          default: "test"
""",
    "instance_infrastructure/manifest.yaml": MANIFEST,
    "instance_infrastructure/cloudformation.yaml": """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: "{{ service.name }}-{{ service_instance.name }}"
      MessageRetentionPeriod: {{ service_instance.inputs.retention }}
Outputs:
  QueueUrl:
    Value: !Ref Queue
  EnvironmentTopic:
    Value: "{{ environment.outputs.TopicArn }}"
  Owner:
    Value: "{{ service_instance.inputs.owner }}"
""",
    "pipeline_infrastructure/manifest.yaml": MANIFEST,
    "pipeline_infrastructure/cloudformation.yaml": """\
Resources:
  Summary:
    Type: AWS::SSM::Parameter
    Properties:
      Name: "/{{ service.name }}/{{ pipeline.inputs.stage }}"
      Type: String
      Value: "{% for si in service_instances %}{{ si.name }}={{ si.outputs.QueueUrl }};{% endfor %}"
Outputs:
  Instances:
    Value: "{{ service_instances | map(attribute='name') | join(',') }}"
""",
}


@pytest.fixture
def tiny(cli, tmp_path, write_files):
    """tiny-env (a topic) and tiny-svc (a queue per instance, a pipeline listing them)."""
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        bundle = write_files(tmp_path / name, files)
        published = cli("blueprint", "publish", str(bundle), "--name", name)
        assert published.exit_code == 0, published.output


DIGESTS_AND_IDS = (
    "spec-digest",
    "inputs-digest",
    "bundle-digest",
    "context-digest",
    "deployment-id",
)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def stacks(cloudformation):
    return {s["StackName"]: s for s in cloudformation.describe_stacks()["Stacks"]}


def outputs_of(stack):
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def template_of(cloudformation, stack):
    return cloudformation.get_template(StackName=stack)["TemplateBody"]


def summary_lines(result):
    """What a command says at its end: the lines that are not progress (stack lines, tables)."""
    return [
        line
        for line in result.stderr.splitlines()
        if not line.startswith(("pcli-demo-", " ")) and line
    ]


@pytest.fixture
def api(cli, tiny):
    """Service api of tiny-svc: instances api-a (environment one) and api-b (two), deployed."""
    for env in ("one", "two"):
        ok(cli("env", "create", env, "-b", "tiny-env", "--yes"))
    ok(
        cli(
            "svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=one", "-i", "api-b=two",
            "-p", "owner=ops", "--yes",
        )
    )  # fmt: skip
    return "api"


# --- create -------------------------------------------------------------------------------------


class EventLog:
    """Wraps the plain progress view: records which thread reported what, and holds each
    instance's first event until both instances have started (a barrier that only parallel
    deploys pass; one at a time, the first would wait in vain)."""

    def __init__(self, monkeypatch, instance_stacks):
        self.records: list[tuple[str, str, str]] = []
        self.instance_stacks = set(instance_stacks)
        self.both_started = threading.Barrier(len(instance_stacks), timeout=10)
        on_event = PlainView.on_event

        def recording(view, event):
            self.records.append((threading.current_thread().name, event.kind, event.stack_name))
            if event.kind == "start" and event.stack_name in self.instance_stacks:
                self.both_started.wait()
            on_event(view, event)

        monkeypatch.setattr(PlainView, "on_event", recording)

    def threads(self, stack):
        return {thread for thread, _, name in self.records if name == stack}

    def position(self, kind, stack):
        return next(i for i, (_, k, name) in enumerate(self.records) if (k, name) == (kind, stack))


# moto has no CloudFormation model for AWS::CodeBuild::Project (the starter's pipeline): it warns.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning")
def test_svc_create_deploys_instances_in_parallel_with_environment_outputs_then_the_pipeline(
    cli, cloudformation, monkeypatch
):
    for env in ("dev", "prod"):
        ok(cli("env", "create", env, "-b", "vpc-ecs-env", "--yes"))
    dev_stack, prod_stack = "pcli-demo-svc-web-web-dev", "pcli-demo-svc-web-web-prod"
    log = EventLog(monkeypatch, [dev_stack, prod_stack])

    result = cli(
        "svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev",
        "-i", "web-prod=prod", "-p", "port=8080", "--pipeline-param", "unit_test_command=make",
        "--repository", "acme/web", "--branch", "main", "--yes",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "pipeline inputs are ignored" not in result.output  # the blueprint has one
    spec = cli.workspace / "services" / "web.yaml"
    assert summary_lines(result) == [
        f"Wrote {spec} (fargate-web-svc@1.0).",
        f"Deployed service instance web/web-dev: CREATE_COMPLETE ({dev_stack}).",
        f"Deployed service instance web/web-prod: CREATE_COMPLETE ({prod_stack}).",
        "Deployed pipeline of web: CREATE_COMPLETE (pcli-demo-pipeline-web).",
    ]
    dev_threads, prod_threads = log.threads(dev_stack), log.threads(prod_stack)
    assert len(dev_threads) == len(prod_threads) == 1
    assert dev_threads != prod_threads
    assert all(thread.startswith("pcli-deploy") for thread in dev_threads | prod_threads)
    pipeline_start = log.position("start", "pcli-demo-pipeline-web")
    assert log.position("done", dev_stack) < pipeline_start
    assert log.position("done", prod_stack) < pipeline_start
    found = stacks(cloudformation)
    for env, stack in (("dev", dev_stack), ("prod", prod_stack)):
        env_outputs = outputs_of(found[f"pcli-demo-env-{env}"])
        template = template_of(cloudformation, stack)
        assert f'VpcId: "{env_outputs["VpcId"]}"' in template
        assert f'Cluster: "{env_outputs["ClusterName"]}"' in template
        assert "Port: 8080" in template
        tags = {t["Key"]: t["Value"] for t in found[stack]["Tags"]}
        assert {k: v for k, v in tags.items() if k.partition(":")[2] not in DIGESTS_AND_IDS} == {
            "pcli:workspace": "demo",
            "pcli:kind": "service-instance",
            "pcli:environment": env,
            "pcli:service": "web",
            "pcli:instance": f"web-{env}",
            "pcli:blueprint": "fargate-web-svc",
            "pcli:version": "1.0",
        }
    pipeline_tags = {t["Key"]: t["Value"] for t in found["pcli-demo-pipeline-web"]["Tags"]}
    assert pipeline_tags["pcli:kind"] == "pipeline"
    assert pipeline_tags["pcli:service"] == "web"
    assert "pcli:instance" not in pipeline_tags


def test_svc_create_flows_outputs_from_environment_to_instance_to_pipeline(
    cli, api, cloudformation
):
    found = stacks(cloudformation)
    a = outputs_of(found["pcli-demo-svc-api-api-a"])
    b = outputs_of(found["pcli-demo-svc-api-api-b"])
    assert a["EnvironmentTopic"] == outputs_of(found["pcli-demo-env-one"])["TopicArn"]
    assert b["EnvironmentTopic"] == outputs_of(found["pcli-demo-env-two"])["TopicArn"]
    assert a["QueueUrl"].endswith("/api-api-a")
    pipeline = template_of(cloudformation, "pcli-demo-pipeline-api")
    assert f'Value: "api-a={a["QueueUrl"]};api-b={b["QueueUrl"]};"' in pipeline
    assert outputs_of(found["pcli-demo-pipeline-api"]) == {"Instances": "api-a,api-b"}


def test_svc_create_refuses_an_environment_the_blueprint_is_not_compatible_with(cli, tiny):
    ok(cli("env", "create", "one", "-b", "tiny-env", "--no-deploy"))

    result = cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-one=one", "--yes")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: environment 'one' runs tiny-env:1, which service blueprint fargate-web-svc@1.0 "
        "does not list as compatible (compatible: vpc-ecs-env:1)\n"
        "Hint: pick an environment created from a compatible blueprint\n"
    )
    assert not (cli.workspace / "services" / "web.yaml").exists()


def test_svc_create_lists_missing_inputs_and_needs_deployed_environments(cli, tiny):
    ok(cli("env", "create", "one", "-b", "tiny-env", "--no-deploy"))

    missing = cli("svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=one", "--no-deploy")

    assert missing.exit_code == 2
    assert missing.stderr == (
        "Error: service 'api': 1 required input(s) missing: owner\n"
        "  service api: instance 'api-a', input 'owner' is required (type string)\n"
        "Hint: give them with --param owner=VALUE (or in a spec file with --spec FILE)\n"
    )
    not_deployed = cli("svc", "create", "api", "-b", "tiny-svc", "-i", "api-a=one", "-p", "owner=x")

    assert not_deployed.exit_code == 2
    assert not_deployed.stderr == (
        "Error: environment 'one' is not deployed\nHint: deploy it first: pcli env deploy one\n"
    )
    assert not (cli.workspace / "services" / "api.yaml").exists()


# --- deploy -------------------------------------------------------------------------------------


def test_svc_deploy_one_instance_leaves_the_others_alone(cli, api, cloudformation):
    spec = cli.workspace / "services" / "api.yaml"
    spec.write_text(spec.read_text().replace("owner: ops", "owner: dev-team", 1))

    result = cli("svc", "deploy", "api", "-i", "api-b", "--yes")

    assert result.exit_code == 0, result.output
    assert "pcli-demo-svc-api-api-a" not in result.stderr
    assert summary_lines(result) == [
        "No changes: service instance api/api-b is up to date.",
        "No changes: pipeline of api is up to date.",
    ]
    found = stacks(cloudformation)
    assert outputs_of(found["pcli-demo-svc-api-api-a"])["Owner"] == "ops"

    changed = cli("svc", "deploy", "api", "-i", "api-a", "--yes", "--json")

    assert changed.exit_code == 0, changed.output
    records = [json.loads(line) for line in changed.stdout.splitlines()]
    assert records[0]["command"] == "svc deploy"
    assert [(r["stack"], r["status"]) for r in records[-1]["resources"]] == [
        ("pcli-demo-svc-api-api-a", "UPDATE_COMPLETE"),
        ("pcli-demo-pipeline-api", "NO_CHANGES"),
    ]
    assert outputs_of(stacks(cloudformation)["pcli-demo-svc-api-api-a"])["Owner"] == "dev-team"


def test_svc_deploy_env_deploys_only_the_instances_in_that_environment(cli, api, cloudformation):
    spec = cli.workspace / "services" / "api.yaml"
    spec.write_text(spec.read_text().replace("owner: ops", "owner: dev-team"))

    result = cli("svc", "deploy", "api", "--env", "two", "--yes")

    assert result.exit_code == 0, result.output
    assert "pcli-demo-svc-api-api-a" not in result.stderr
    found = stacks(cloudformation)
    assert outputs_of(found["pcli-demo-svc-api-api-b"])["Owner"] == "dev-team"
    assert outputs_of(found["pcli-demo-svc-api-api-a"])["Owner"] == "ops"


def test_svc_deploy_env_without_an_instance_there_names_where_the_service_runs(cli, api):
    result = cli("svc", "deploy", "api", "--env", "prod", "--yes")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: service 'api' has no instance in 'prod'\nHint: its instances run in: one, two\n"
    )
    both = cli("svc", "deploy", "api", "-i", "api-a", "--env", "two", "--yes")
    assert both.exit_code == 2
    assert "has no instance in 'two' among the instances named" in both.stderr


def test_svc_deploy_of_an_unknown_instance_names_the_known_ones(cli, api):
    result = cli("svc", "deploy", "api", "-i", "api-c", "--yes")

    assert result.exit_code == 2
    assert result.stderr == (
        "Error: service 'api' has no instance 'api-c'\nHint: its instances: api-a, api-b\n"
    )


def test_svc_deploy_without_yes_names_the_command_that_deploys(cli, api):
    spec = cli.workspace / "services" / "api.yaml"
    spec.write_text(spec.read_text().replace("owner: ops", "owner: dev-team", 1))

    result = cli("svc", "deploy", "api", "-i", "api-a")

    assert result.exit_code == 2
    assert result.stderr.endswith(
        "Hint: review the changes above, then run: pcli svc deploy api -i api-a --yes\n"
    )


# --- list, show, outputs ------------------------------------------------------------------------


def test_svc_list_show_and_outputs_in_words_and_json(cli, api, cloudformation):
    found = stacks(cloudformation)
    a = outputs_of(found["pcli-demo-svc-api-api-a"])

    listed = ok(cli("svc", "list"))
    rows = [line.split() for line in listed.stdout.splitlines() if line.strip()]
    assert [row[:5] for row in rows[2:]] == [
        ["instance", "api/api-a", "one", "tiny-svc@1.0", "CREATE_COMPLETE"],
        ["instance", "api/api-b", "two", "tiny-svc@1.0", "CREATE_COMPLETE"],
        ["pipeline", "api", "-", "tiny-svc@1.0", "CREATE_COMPLETE"],
    ]
    services = json.loads(ok(cli("svc", "list", "--json")).stdout)["services"]
    assert [(s["kind"], s["name"], s["stack_name"]) for s in services] == [
        ("service-instance", "api/api-a", "pcli-demo-svc-api-api-a"),
        ("service-instance", "api/api-b", "pcli-demo-svc-api-api-b"),
        ("pipeline", "api", "pcli-demo-pipeline-api"),
    ]

    shown = ok(cli("svc", "show", "api"))
    assert shown.stdout.splitlines()[:3] == [
        "Service:   api",
        "Blueprint: tiny-svc@1.0",
        f"Spec:      {cli.workspace / 'services' / 'api.yaml'}",
    ]
    assert ["api-a", "QueueUrl", a["QueueUrl"]] in [
        line.split() for line in shown.stdout.splitlines()
    ]
    document = json.loads(ok(cli("svc", "show", "api", "--json")).stdout)
    assert (document["name"], document["blueprint"], document["version"]) == (
        "api",
        "tiny-svc",
        "1.0",
    )
    assert [r["name"] for r in document["resources"]] == ["api/api-a", "api/api-b", "api"]
    assert document["outputs"]["api-a"] == a

    values = json.loads(ok(cli("svc", "outputs", "api", "--json")).stdout)
    assert sorted(values) == ["api-a", "api-b", "pipeline"]
    assert values["pipeline"] == outputs_of(found["pcli-demo-pipeline-api"])
    words = [line.split() for line in ok(cli("svc", "outputs", "api")).stdout.splitlines()]
    assert ["api-b", "Owner", "ops"] in words


# --- delete -------------------------------------------------------------------------------------


def test_svc_delete_removes_pipeline_components_instances_and_the_spec(
    cli, api, cloudformation, starters_dir
):
    component = starters_dir / "sqs-queue-component" / "v1"
    ok(cli("component", "create", "jobs", "--service", "api", "--instance", "api-a",
           "--bundle", str(component), "--yes"))  # fmt: skip
    assert "pcli-demo-comp-jobs" in stacks(cloudformation)

    refused = cli("svc", "delete", "api")
    assert refused.exit_code == 2
    assert "pcli-demo-pipeline-api" in stacks(cloudformation)

    result = cli("svc", "delete", "api", "--yes")

    assert result.exit_code == 0, result.output
    assert summary_lines(result) == [
        "Deleted pipeline of api (pcli-demo-pipeline-api).",
        "Deleted component jobs (pcli-demo-comp-jobs).",
        "Deleted service instance api/api-a (pcli-demo-svc-api-api-a).",
        "Deleted service instance api/api-b (pcli-demo-svc-api-api-b).",
    ]
    assert sorted(stacks(cloudformation)) == ["pcli-demo-env-one", "pcli-demo-env-two"]
    assert not (cli.workspace / "services" / "api.yaml").exists()
    assert not (cli.workspace / "components" / "jobs").exists()
    status = json.loads(ok(cli("status", "--json")).stdout)["resources"]
    assert [r["kind"] for r in status] == ["environment", "environment"]


# --- scaffold -----------------------------------------------------------------------------------


def test_svc_create_scaffold_writes_the_skeleton_and_refuses_to_overwrite_a_change(cli, tmp_path):
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy"))
    target = tmp_path / "web-src"
    args = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev", "-p", "port=8080")

    first = ok(cli(*args, "--scaffold", str(target), "--no-deploy"))

    assert f"Scaffolded {target}: 3 created." in first.stderr
    files = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert files == [
        ".github/workflows/deploy.yml",
        ".pcli-scaffold.json",
        "Dockerfile",
        "app/web.py",
    ]
    assert "EXPOSE 8080" in (target / "Dockerfile").read_text()
    workflow = (target / ".github/workflows/deploy.yml").read_text()
    # the workflow `pcli ci generate github-actions --service web --source` prints
    generated = ok(cli("ci", "generate", "github-actions", "-s", "web", "--source")).stdout
    assert workflow == generated
    assert (
        'run: pcli --workspace workspace svc deploy web --instance web-dev --param "image=$IMAGE" '
        "--yes\n"
    ) in workflow
    record = json.loads((target / ".pcli-scaffold.json").read_text())
    assert (record["blueprint"], record["version"], record["service"]) == (
        "fargate-web-svc",
        "1.0",
        "web",
    )
    (target / "Dockerfile").write_text("FROM scratch\n")
    ok(cli("svc", "delete", "web", "--yes"))

    second = cli(*args, "--scaffold", str(target), "--no-deploy")

    assert second.exit_code == 2
    assert second.stderr == (
        f"Error: {target}: 1 file(s) differ from what pcli would write; nothing was written\n"
        "  Dockerfile: changed since pcli wrote it\n"
        "Hint: keep your version elsewhere and delete the file, or scaffold into another folder\n"
    )
    assert (target / "Dockerfile").read_text() == "FROM scratch\n"
    assert not (cli.workspace / "services" / "web.yaml").exists()


# --- deploy --cancel ----------------------------------------------------------------------------


def test_svc_deploy_cancel_cancels_only_the_update_in_progress(cli, api, monkeypatch):
    cancelled: list[str] = []
    describe = CloudFormationGateway.describe

    def fake_describe(gateway, name):
        info = describe(gateway, name)
        if info is None or info.name != "pcli-demo-svc-api-api-b":
            return info
        status = "UPDATE_ROLLBACK_COMPLETE" if cancelled else "UPDATE_IN_PROGRESS"
        return replace(info, status=status)

    monkeypatch.setattr(CloudFormationGateway, "describe", fake_describe)
    monkeypatch.setattr(
        CloudFormationGateway, "cancel_update", lambda _gateway, name: cancelled.append(name)
    )
    started = time.monotonic()

    result = cli("svc", "deploy", "api", "--cancel", "--yes")

    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 10
    assert cancelled == ["pcli-demo-svc-api-api-b"]
    assert summary_lines(result) == [
        (
            "Nothing to cancel: no update is in progress on service instance api/api-a "
            "(pcli-demo-svc-api-api-a is CREATE_COMPLETE)."
        ),
        (
            "Cancelled the update of service instance api/api-b: it runs its previous version "
            "again (UPDATE_ROLLBACK_COMPLETE, pcli-demo-svc-api-api-b)."
        ),
        (
            "Nothing to cancel: no update is in progress on pipeline of api "
            "(pcli-demo-pipeline-api is CREATE_COMPLETE)."
        ),
    ]
