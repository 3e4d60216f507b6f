"""The CloudFormation starter blueprints render with pcli, lint clean and deploy to moto.

Every template is rendered by pcli's own renderer (`render_bundle`) from the bundle as
`load_bundle` reads it and the bundle's sample spec. Deployments go through change sets to a
moto server: the environment first, then the component and service instances with the
environment's (and component's) real outputs, as pcli's deploy chain passes them on.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import jinja2
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from jinja2.sandbox import SandboxedEnvironment
from moto.cloudformation.models import cloudformation_backends
from moto.server import ThreadedMotoServer
from tests.unit.workspace.test_ci_workflow import actionlint  # noqa: F401 - a fixture

from protoncli.blueprints.bundle import load_bundle
from protoncli.blueprints.model import Bundle
from protoncli.render.engine import render_bundle
from protoncli.render.model import ComponentTarget, EnvironmentFacts, InstanceFacts, RenderContext
from protoncli.specs.io import parse_spec
from protoncli.specs.model import EnvironmentSpec, InstanceSpec, ServiceSpec
from protoncli.workspace.ci_workflow import DeployStage, SourceWorkflow, source_workflow_text
from protoncli.workspace.scaffold import CiDeclaration, ci_declaration, render_for_service
from protoncli.yamlio import CloudFormationLoader

REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
REPOSITORY = {
    "branch_name": "main",
    "repository_id": "acme/web",
    "repository_connection_arn": (
        "arn:aws:codeconnections:us-east-1:123456789012:connection/0a1b2c3d-1111-2222-3333-444455556666"
    ),
}
PLACEHOLDER_ENV_OUTPUTS = {
    "VpcId": "vpc-0123456789abcdef0",
    "VpcCidr": "10.0.0.0/16",
    "PublicSubnetOneId": "subnet-0123456789abcdef1",
    "PublicSubnetTwoId": "subnet-0123456789abcdef2",
    "ClusterName": "dev-cluster",
    "ClusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/dev-cluster",
    "LogGroupName": "dev-logs",
    "LogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:dev-logs",
    "LoadBalancerSecurityGroupId": "sg-0123456789abcdef0",
}
QUEUE_OUTPUTS = {
    "QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/dev-web-web-dev-jobs",
    "QueueAccessPolicyArn": "arn:aws:iam::123456789012:policy/jobs-QueueAccessPolicy-X1",
}

logging.getLogger("werkzeug").setLevel(logging.ERROR)


# --- rendering with pcli ------------------------------------------------------------------------


def starter(starters: Path, name: str) -> Bundle:
    return load_bundle(starters / name / "v1")


def sample_spec(bundle: Bundle) -> EnvironmentSpec | ServiceSpec:
    text = bundle.sample_spec()
    assert text is not None
    return parse_spec(text, f"{bundle.root}/spec/spec.yaml")


def facts(
    env_outputs: Mapping[str, str] = PLACEHOLDER_ENV_OUTPUTS,
    component_outputs: Mapping[str, Mapping[str, str]] | None = None,
    component: ComponentTarget | None = None,
) -> RenderContext:
    """Render context: environments `dev` and `prod` with these outputs, components by instance."""
    environment = EnvironmentFacts(account_id=MOTO_ACCOUNT, outputs=env_outputs)
    return RenderContext(
        environments={"dev": environment, "prod": environment},
        service=REPOSITORY,
        instances={
            name: InstanceFacts(component_outputs=outputs)
            for name, outputs in (component_outputs or {}).items()
        },
        component=component,
    )


def render_templates(
    bundle: Bundle, spec: EnvironmentSpec | ServiceSpec | None, name: str, context: RenderContext
) -> dict[str, str]:
    """Rendered CloudFormation by resource (`kind` and `kind:name`); rendering gives no warnings."""
    result = render_bundle(bundle, spec, name=name, context=context)
    assert result.warnings == ()
    templates = {}
    for resource in result.resources:
        text = resource.files["cloudformation.yaml"]
        templates[resource.kind] = text
        templates[f"{resource.kind}:{resource.name}"] = text
    return templates


def with_instance_inputs(spec: ServiceSpec, **inputs: Any) -> ServiceSpec:
    first = spec.instances[0]
    changed = dataclasses.replace(first, inputs={**first.inputs, **inputs})
    return dataclasses.replace(spec, instances=(changed, *spec.instances[1:]))


def parse_template(text: str) -> dict[str, Any]:
    parsed = yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    assert isinstance(parsed, dict)
    return parsed


def sample_templates(starters: Path) -> dict[str, str]:
    """Each CloudFormation template rendered from the sample specs (components attached)."""
    templates: dict[str, str] = {}
    env = starter(starters, "vpc-ecs-env")
    templates["vpc-ecs-env"] = render_templates(env, sample_spec(env), "dev", facts())[
        "environment"
    ]
    queues = {"web-dev": QUEUE_OUTPUTS, "api-dev": QUEUE_OUTPUTS}
    for name, service in (("fargate-web-svc", "web"), ("lambda-api-svc", "api")):
        bundle = starter(starters, name)
        rendered = render_templates(
            bundle, sample_spec(bundle), service, facts(component_outputs=queues)
        )
        templates[f"{name} instance"] = rendered["service-instance"]
        if "pipeline" in rendered:
            templates[f"{name} pipeline"] = rendered["pipeline"]
    web = sample_spec(starter(starters, "fargate-web-svc"))
    target = ComponentTarget("dev", "web", "web-dev")
    component = starter(starters, "sqs-queue-component")
    templates["sqs-queue-component"] = render_templates(
        component, web, "jobs", facts(component=target)
    )["component"]
    return templates


SAMPLE_TEMPLATES = [
    "vpc-ecs-env",
    "fargate-web-svc instance",
    "fargate-web-svc pipeline",
    "lambda-api-svc instance",
    "sqs-queue-component",
]


# --- rendered templates: YAML, cfn-lint and what they contain -----------------------------------


@pytest.mark.parametrize("template", SAMPLE_TEMPLATES)
def test_sample_spec_renders_to_cloudformation_that_cfn_lint_accepts(starters_dir, template):
    text = sample_templates(starters_dir)[template]

    parsed = parse_template(text)
    assert parsed["Resources"]
    assert parsed["Outputs"]
    findings = [
        f"{m.rule.id} line {m.linenumber}: {m.message}"
        for m in lint(text, config=ManualArgs(regions=[REGION]))
    ]
    assert findings == []


# The starters that carry guardrails (guardrails/), and the rules each carries.
STARTER_RULES = {
    "vpc-ecs-env": ("log_group_retention_set", "no_public_admin_ingress"),
    "fargate-web-svc": ("s3_bucket_encrypted",),
    "sqs-queue-component": ("sqs_queue_encrypted",),
    "lambda-api-svc": (),
}


@pytest.mark.parametrize("template", SAMPLE_TEMPLATES)
def test_sample_templates_keep_their_starters_guardrails(starters_dir, template):
    from protoncli.guardrails.check import check_template
    from protoncli.guardrails.rules import bundle_rules

    name = template.split()[0]
    rules = bundle_rules(starter(starters_dir, name))
    assert rules.names() == STARTER_RULES[name]
    parsed = parse_template(sample_templates(starters_dir)[template])
    assert [violation.line() for violation in check_template(rules, parsed)] == []


def test_component_outputs_reach_the_container_and_the_task_role(starters_dir):
    bundle = starter(starters_dir, "fargate-web-svc")
    spec = sample_spec(bundle)

    attached = render_templates(
        bundle, spec, "web", facts(component_outputs={"web-dev": QUEUE_OUTPUTS})
    )
    alone = render_templates(bundle, spec, "web", facts())

    resources = parse_template(attached["service-instance"])["Resources"]
    container = resources["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]
    assert container["Environment"] == [
        {"Name": "PORT", "Value": "80"},
        {"Name": "PCLI_SERVICE", "Value": "web"},
        {"Name": "QueueUrl", "Value": QUEUE_OUTPUTS["QueueUrl"]},
        {"Name": "QueueAccessPolicyArn", "Value": QUEUE_OUTPUTS["QueueAccessPolicyArn"]},
    ]
    assert resources["TaskRole"]["Properties"]["ManagedPolicyArns"] == [
        {"Ref": "TaskBasePolicy"},
        QUEUE_OUTPUTS["QueueAccessPolicyArn"],
    ]
    plain = parse_template(alone["service-instance"])["Resources"]
    assert len(plain["TaskDefinition"]["Properties"]["ContainerDefinitions"][0]["Environment"]) == 2
    assert plain["TaskRole"]["Properties"]["ManagedPolicyArns"] == [{"Ref": "TaskBasePolicy"}]


def test_lambda_gets_component_variables_and_the_optional_concurrency_only_when_given(
    starters_dir,
):
    bundle = starter(starters_dir, "lambda-api-svc")
    spec = sample_spec(bundle)
    assert isinstance(spec, ServiceSpec)

    given = render_templates(
        bundle,
        with_instance_inputs(spec, reserved_concurrency=5),
        "api",
        facts(component_outputs={"api-dev": QUEUE_OUTPUTS}),
    )
    omitted = render_templates(bundle, spec, "api", facts())

    function = parse_template(given["service-instance"])["Resources"]["Function"]["Properties"]
    bare = parse_template(omitted["service-instance"])["Resources"]["Function"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 5
    assert "ReservedConcurrentExecutions" not in bare
    assert function["Runtime"] == "python3.13"
    assert function["Environment"]["Variables"]["QueueUrl"] == QUEUE_OUTPUTS["QueueUrl"]
    assert set(bare["Environment"]["Variables"]) == {"GREETING", "PCLI_SERVICE", "PCLI_INSTANCE"}


def two_instance_spec(starters: Path) -> ServiceSpec:
    spec = sample_spec(starter(starters, "fargate-web-svc"))
    assert isinstance(spec, ServiceSpec)
    prod = InstanceSpec(name="web-prod", environment="prod", inputs={})
    return dataclasses.replace(spec, instances=(*spec.instances, prod))


def test_pipeline_deploys_each_instance_in_spec_order(starters_dir):
    bundle = starter(starters_dir, "fargate-web-svc")

    rendered = render_templates(bundle, two_instance_spec(starters_dir), "web", facts())

    project = parse_template(rendered["pipeline"])["Resources"]["BuildProject"]["Properties"]
    buildspec = yaml.safe_load(project["Source"]["BuildSpec"])
    assert buildspec["phases"]["build"]["commands"][1:] == [
        "pcli svc deploy web --instance web-dev --yes --json",
        "pcli svc deploy web --instance web-prod --yes --json",
    ]
    assert buildspec["phases"]["pre_build"]["commands"] == ["python -m compileall -q app"]
    assert project["Environment"]["EnvironmentVariables"][1:] == [
        {"Name": "PCLI_INSTANCE_1", "Value": "dev/web-dev"},
        {"Name": "PCLI_INSTANCE_2", "Value": "prod/web-prod"},
    ]
    assert project["Source"]["Auth"]["Resource"] == REPOSITORY["repository_connection_arn"]


def test_pipeline_relies_on_jinja_default_whitespace(starters_dir):
    template = starters_dir / "fargate-web-svc/v1/pipeline_infrastructure/cloudformation.yaml"
    inputs = ("build_image", "compute_type", "unit_test_command", "deploy_policy_arn")
    namespace = {
        "pipeline": {"inputs": dict.fromkeys(inputs, "x")},
        "service": {"name": "web", **REPOSITORY},
        "service_instances": [
            {"name": name, "environment": {"name": "dev"}} for name in ("web-a", "web-b")
        ],
    }

    def render_with(trim_blocks: bool) -> str:
        env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, trim_blocks=trim_blocks)
        return env.from_string(template.read_text(encoding="utf-8")).render(**namespace)

    assert parse_template(render_with(trim_blocks=False))["Resources"]["BuildProject"]
    with pytest.raises(yaml.YAMLError):
        parse_template(render_with(trim_blocks=True))


def test_pipeline_without_a_connection_leaves_out_the_connection(starters_dir):
    bundle = starter(starters_dir, "fargate-web-svc")
    context = dataclasses.replace(facts(), service={"branch_name": "main", "repository_id": "a/b"})

    rendered = render_templates(bundle, sample_spec(bundle), "web", context)

    resources = parse_template(rendered["pipeline"])["Resources"]
    assert "Auth" not in resources["BuildProject"]["Properties"]["Source"]
    assert "UseConnection" not in json.dumps(resources["BuildRole"])


@pytest.mark.parametrize(
    ("names", "queue"),
    [
        (("dev", "web", "web-dev"), "dev-web-web-dev-jobs"),
        (("e" * 60, "s" * 40, "i" * 40), "e" * 60 + "-" + "s" * 10 + "-jobs"),
    ],
)
def test_queue_names_fit_sqs_and_keep_the_component_name(starters_dir, names, queue):
    environment, service, instance = names
    spec = ServiceSpec(instances=(InstanceSpec(instance, environment, {}),))
    context = facts(component=ComponentTarget(environment, service, instance))

    text = render_templates(starter(starters_dir, "sqs-queue-component"), spec, "jobs", context)

    resources = parse_template(text["component"])["Resources"]
    assert resources["Queue"]["Properties"]["QueueName"] == queue
    assert resources["DeadLetterQueue"]["Properties"]["QueueName"] == f"{queue}-dlq"
    assert len(f"{queue}-dlq") <= 80


def test_detached_component_is_named_after_environment_and_component(starters_dir):
    context = facts(component=ComponentTarget("dev"))

    text = render_templates(starter(starters_dir, "sqs-queue-component"), None, "jobs", context)

    resources = parse_template(text["component"])["Resources"]
    assert resources["Queue"]["Properties"]["QueueName"] == "dev-jobs"


def starter_workflow(service: str) -> SourceWorkflow:
    """`service` with web-dev in dev and web-prod in prod (eu-west-1), as a workspace gives."""
    stages = (
        DeployStage("dev", "us-east-1", None, ("web-dev",)),
        DeployStage("prod", "eu-west-1", None, ("web-prod",)),
    )
    return SourceWorkflow(service, "us-east-1", stages)


def test_skeleton_renders_names_and_declares_the_generated_workflow(starters_dir):
    bundle = starter(starters_dir, "fargate-web-svc")
    instances = {"web-dev": {"port": 8080}, "web-prod": {}}

    rendered = render_for_service(bundle, "web", instances, ci=lambda: starter_workflow("web"))

    assert ci_declaration(bundle) == CiDeclaration("github-actions", "image")
    assert sorted(rendered) == [".github/workflows/deploy.yml", "Dockerfile", "app/web.py"]
    text = rendered[".github/workflows/deploy.yml"].decode()
    flow = dataclasses.replace(starter_workflow("web"), image_parameter="image")
    assert text == source_workflow_text(flow)  # what pcli ci generate --source prints
    jobs = yaml.safe_load(text)["jobs"]
    assert list(jobs) == ["build", "plan", "image", "deploy-dev", "deploy-prod"]
    assert jobs["deploy-prod"]["environment"] == "prod"
    assert jobs["deploy-prod"]["steps"][-2]["run"] == (
        'pcli --workspace workspace svc deploy web --instance web-prod --param "image=$IMAGE" --yes'
    )
    dockerfile, app = rendered["Dockerfile"].decode(), rendered["app/web.py"].decode()
    assert "EXPOSE 8080" in dockerfile.splitlines()
    assert 'CMD ["python", "app/web.py"]' in dockerfile
    compile(app, "app/web.py", "exec")
    assert 'SERVICE_NAME = "web"' in app


def test_the_starters_scaffolded_workflow_passes_actionlint(
    starters_dir,
    actionlint,  # noqa: F811
    tmp_path,
):
    bundle = starter(starters_dir, "fargate-web-svc")
    rendered = render_for_service(
        bundle, "web", {"web-dev": {}, "web-prod": {}}, ci=lambda: starter_workflow("web")
    )
    path = tmp_path / "deploy.yml"
    path.write_bytes(rendered[".github/workflows/deploy.yml"])
    assert actionlint(path) == []


# --- deploying to moto --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def cloudformation(moto_url: str) -> Any:
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")  # noqa: S310 - local moto
    with urllib.request.urlopen(request) as response:  # noqa: S310 - local moto
        response.read()
    return aws_client("cloudformation", moto_url)


def aws_client(service: str, url: str) -> Any:
    """A client of the moto server; credentials are the test environment's dummy ones."""
    return boto3.client(service, endpoint_url=url, region_name=REGION)


def deploy(cloudformation: Any, stack: str, template: str) -> dict[str, str]:
    """Create the stack through a change set, as pcli does, and return its outputs."""
    cloudformation.create_change_set(
        StackName=stack,
        ChangeSetName="create",
        ChangeSetType="CREATE",
        TemplateBody=template,
        Capabilities=CAPABILITIES,
    )
    cloudformation.execute_change_set(StackName=stack, ChangeSetName="create")
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    assert described["StackStatus"] == "CREATE_COMPLETE"
    if "Outputs" not in described:
        # moto 5.2 never reads the Outputs of a template that arrived through a CREATE change
        # set; resolve them against the created resources as moto's own UpdateStack does.
        moto_stack = next(
            s for s in cloudformation_backends[MOTO_ACCOUNT][REGION].stacks.values()
            if s.name == stack
        )  # fmt: skip
        moto_stack._parse_template()
        moto_stack.output_map = moto_stack._create_output_map()
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    outputs = {item["OutputKey"]: item.get("OutputValue", "") for item in described["Outputs"]}
    assert sorted(outputs) == sorted(parse_template(template)["Outputs"])
    assert all(isinstance(v, str) and v for v in outputs.values()), outputs
    return outputs


def logical_ids(cloudformation: Any, stack: str) -> list[str]:
    summaries = cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]
    return sorted(item["LogicalResourceId"] for item in summaries)


def deploy_environment(starters: Path, cloudformation: Any) -> tuple[str, dict[str, str]]:
    bundle = starter(starters, "vpc-ecs-env")
    text = render_templates(bundle, sample_spec(bundle), "dev", facts())["environment"]
    return text, deploy(cloudformation, "dev", text)


def test_environment_deploys_with_every_resource_and_output(starters_dir, cloudformation, moto_url):
    template, outputs = deploy_environment(starters_dir, cloudformation)

    assert logical_ids(cloudformation, "dev") == sorted(parse_template(template)["Resources"])
    subnet_ids = [outputs["PublicSubnetOneId"], outputs["PublicSubnetTwoId"]]
    subnets = aws_client("ec2", moto_url).describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    assert sorted(s["CidrBlock"] for s in subnets) == ["10.0.0.0/24", "10.0.1.0/24"]
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    logs = aws_client("logs", moto_url)
    groups = logs.describe_log_groups(logGroupNamePrefix=outputs["LogGroupName"])["logGroups"]
    assert groups[0]["retentionInDays"] == 14
    ecs = aws_client("ecs", moto_url)
    assert (
        ecs.describe_clusters(clusters=[outputs["ClusterArn"]])["clusters"][0]["status"] == "ACTIVE"
    )


def test_component_then_fargate_instance_deploy_with_the_component_wired_in(
    starters_dir, cloudformation, moto_url
):
    _, env_outputs = deploy_environment(starters_dir, cloudformation)
    bundle = starter(starters_dir, "fargate-web-svc")
    spec = sample_spec(bundle)
    component = facts(env_outputs, component=ComponentTarget("dev", "web", "web-dev"))
    queue_text = render_templates(
        starter(starters_dir, "sqs-queue-component"), spec, "jobs", component
    )
    queue = deploy(cloudformation, "dev-jobs", queue_text["component"])

    rendered = render_templates(bundle, spec, "web", facts(env_outputs, {"web-dev": queue}))
    outputs = deploy(cloudformation, "dev-web-web-dev", rendered["service-instance"])

    assert queue["QueueArn"].endswith(":dev-web-web-dev-jobs")
    assert queue["QueueAccessPolicyArn"].startswith(f"arn:aws:iam::{MOTO_ACCOUNT}:policy/")
    assert outputs["ServiceEndpoint"].startswith("http://")
    ecs = aws_client("ecs", moto_url)
    task = ecs.describe_task_definition(taskDefinition=outputs["TaskDefinitionArn"])
    variables = task["taskDefinition"]["containerDefinitions"][0]["environment"]
    assert {"name": "QueueUrl", "value": queue["QueueUrl"]} in variables
    elbv2 = aws_client("elbv2", moto_url)
    balancer = elbv2.describe_load_balancers(LoadBalancerArns=[outputs["LoadBalancerArn"]])
    assert balancer["LoadBalancers"][0]["VpcId"] == env_outputs["VpcId"]


@pytest.mark.parametrize("extra_inputs", [{}, {"reserved_concurrency": 2}])
def test_lambda_instance_deploys(starters_dir, cloudformation, moto_url, extra_inputs):
    _, env_outputs = deploy_environment(starters_dir, cloudformation)
    bundle = starter(starters_dir, "lambda-api-svc")
    spec = sample_spec(bundle)
    assert isinstance(spec, ServiceSpec)
    spec = with_instance_inputs(spec, **extra_inputs)

    rendered = render_templates(bundle, spec, "api", facts(env_outputs))
    outputs = deploy(cloudformation, "dev-api-api-dev", rendered["service-instance"])

    function = aws_client("lambda", moto_url).get_function(FunctionName=outputs["FunctionName"])
    assert function["Configuration"]["Runtime"] == "python3.13"
    assert function["Configuration"]["Environment"]["Variables"]["GREETING"] == "Hello from dev"
    endpoint = r"https://\w+\.execute-api\.us-east-1\.amazonaws\.com/live"
    assert re.fullmatch(endpoint, outputs["ApiEndpoint"])
    assert "" not in logical_ids(cloudformation, "dev-api-api-dev")


# moto has no CloudFormation model for AWS::CodeBuild::Project: it warns and keeps a placeholder.
@pytest.mark.filterwarnings("ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning")
def test_pipeline_deploys_its_bucket_and_role(starters_dir, cloudformation, moto_url):
    bundle = starter(starters_dir, "fargate-web-svc")
    rendered = render_templates(bundle, sample_spec(bundle), "web", facts())

    outputs = deploy(cloudformation, "web-pipeline", rendered["pipeline"])

    assert outputs["BuildProjectName"] == "web-pipeline-build"
    buckets = aws_client("s3", moto_url).list_buckets()["Buckets"]
    assert outputs["ArtifactBucketName"] in [b["Name"] for b in buckets]
    role_name = outputs["BuildRoleArn"].rsplit("/", 1)[1]
    role = aws_client("iam", moto_url).get_role(RoleName=role_name)["Role"]
    assert "codebuild.amazonaws.com" in json.dumps(role["AssumeRolePolicyDocument"])
