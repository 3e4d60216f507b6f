"""`pcli blueprint sync` and `pcli blueprint render`, as a user runs them.

Bundles are copies of the starter blueprints in tmp_path; each test has its own registry.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from protoncli.cli.app import app
from protoncli.yamlio import parse_yaml

SERVICE_SPEC = """\
proton: ServiceSpec
pipeline:
  unit_test_command: "pytest -q"
instances:
  - name: web-dev
    environment: dev
    spec:
      port: 8080
  - name: web-prod
    environment: prod
    spec:
      desired_count: 3
"""

ENVIRONMENT_OUTPUTS = (
    "VpcId",
    "ClusterName",
    "PublicSubnetOneId",
    "PublicSubnetTwoId",
    "LogGroupName",
    "LoadBalancerSecurityGroupId",
)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "reg"


@pytest.fixture
def pcli(registry: Path):
    """Run `pcli --registry <tmp>/reg ARGS...` in-process and return the result."""

    def run(*args: str):
        return CliRunner().invoke(app, ["--registry", str(registry), *args])

    return run


def cloudformation(path: Path) -> dict:
    return parse_yaml(path.read_text(), str(path), ValueError, cloudformation=True)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def service_context(tmp_path: Path) -> Path:
    """A context file with the outputs of environments dev and prod and the service's repository."""
    environments = {
        env: {
            "account_id": account,
            "outputs": {key: f"{key.lower()}-{env}" for key in ENVIRONMENT_OUTPUTS},
        }
        for env, account in (("dev", "111111111111"), ("prod", "222222222222"))
    }
    context = {
        "environments": environments,
        "service": {
            "branch_name": "main",
            "repository_id": "acme/web",
            "repository_connection_arn": (
                "arn:aws:codestar-connections:us-east-1:111111111111:connection/abc"
            ),
        },
        "deployment_id": "fixed-id",
    }
    return write(tmp_path / "context.yaml", yaml.safe_dump(context))


# -- sync ---------------------------------------------------------------------------------------


@pytest.fixture
def templates(tmp_path: Path, starters_dir: Path) -> Path:
    """A template-sync layout: team-env/v1, team-svc/v1, and team-fn/v1 without its registration."""
    root = tmp_path / "templates"
    for name, starter in (
        ("team-env", "vpc-ecs-env"),
        ("team-svc", "fargate-web-svc"),
        ("team-fn", "lambda-api-svc"),
    ):
        shutil.copytree(starters_dir / starter / "v1", root / name / "v1")
    (root / "team-fn" / "v1" / ".template-registration.yaml").unlink()
    return root


def test_sync_reports_created_and_failed_folders_and_exits_1(pcli, templates):
    result = pcli("blueprint", "sync", str(templates))
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert rows[0] == ["NAME", "FOLDER", "ACTION", "VERSION", "REASON"]
    assert rows[2] == ["team-env", "v1", "created", "1.0"]
    assert rows[3][:4] == ["team-fn", "v1", "failed", "-"]
    assert "a service blueprint needs" in " ".join(result.stdout.split())
    assert rows[-1] == ["team-svc", "v1", "created", "1.0"]
    assert result.stderr == (
        f"Error: {templates}: 1 of 3 template folder(s) failed to sync\n"
        "Hint: fix the folders listed as failed, then run the sync again\n"
    )


def test_sync_again_leaves_unchanged_folders_and_creates_fixed_ones(pcli, templates, starters_dir):
    pcli("blueprint", "sync", str(templates))
    shutil.copy(
        starters_dir / "lambda-api-svc" / "v1" / ".template-registration.yaml",
        templates / "team-fn" / "v1",
    )
    env_template = templates / "team-env" / "v1" / "infrastructure" / "cloudformation.yaml"
    env_template.write_text(env_template.read_text() + "# changed\n")

    result = pcli("blueprint", "sync", str(templates))
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    assert rows[2:] == [
        ["team-env", "v1", "created", "1.1"],
        ["team-fn", "v1", "created", "1.0"],
        ["team-svc", "v1", "unchanged", "1.0"],
    ]
    assert result.stderr == ""
    statuses = json.loads(pcli("blueprint", "versions", "team-env", "--json").stdout)["versions"]
    assert [(v["version"], v["status"]) for v in statuses] == [("1.0", "DRAFT"), ("1.1", "DRAFT")]


def test_sync_of_an_incompatible_change_lists_each_reason_and_a_new_major_folder(pcli, templates):
    shutil.rmtree(templates / "team-fn")
    shutil.rmtree(templates / "team-svc")
    pcli("blueprint", "sync", str(templates))
    schema = templates / "team-env" / "v1" / "schema" / "schema.yaml"
    schema.write_text(
        schema.read_text().replace(
            "type: integer\n          default: 30", 'type: string\n          default: "30"'
        )
    )

    result = pcli("blueprint", "sync", str(templates), "--json")
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)["entries"]
    assert entry["action"] == "failed"
    assert entry["reason"] == (
        "team-env 1.1: schema is not backward compatible with 1.0, so it cannot be a new minor"
        " version; put it in a new v2 folder"
    )
    assert entry["details"] == [
        "VpcEcsEnvironmentInput.log_retention_days: type changed from integer to string"
    ]
    human = pcli("blueprint", "sync", str(templates))
    assert (
        "  team-env/v1: VpcEcsEnvironmentInput.log_retention_days: type changed from integer"
        " to string\n" in human.stderr
    )

    shutil.move(templates / "team-env" / "v1", templates / "team-env" / "v2")
    moved = pcli("blueprint", "sync", str(templates))
    assert moved.exit_code == 0
    assert ["team-env", "v2", "created", "2.0"] in [
        line.split() for line in moved.stdout.splitlines()
    ]


def test_sync_json_document(pcli, templates):
    result = pcli("blueprint", "sync", str(templates), "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["root"] == str(templates)
    assert document["ok"] is False
    assert [
        {k: e[k] for k in ("name", "folder", "path", "action", "version", "details")}
        for e in document["entries"]
    ] == [
        {
            "name": name,
            "folder": "v1",
            "path": str(templates / name / "v1"),
            "action": action,
            "version": version,
            "details": [],
        }
        for name, action, version in (
            ("team-env", "created", "1.0"),
            ("team-fn", "failed", None),
            ("team-svc", "created", "1.0"),
        )
    ]
    assert [e["reason"] is None for e in document["entries"]] == [True, False, True]


def test_sync_of_a_folder_without_the_layout_is_a_usage_error(pcli, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = pcli("blueprint", "sync", str(empty))
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {empty}: no template-sync folders (<name>/v<N>/) found\n"
        "Hint: lay blueprints out as <name>/v1/, <name>/v2/, ... (v<N> is the major version)\n"
    )


# -- render -------------------------------------------------------------------------------------


def test_render_environment_with_its_sample_spec(pcli, starters_dir, tmp_path):
    bundle = starters_dir / "vpc-ecs-env" / "v1"
    spec = tmp_path / "dev.yaml"
    shutil.copy(bundle / "spec" / "spec.yaml", spec)
    out = tmp_path / "out"

    result = pcli("blueprint", "render", str(bundle), "--spec", str(spec), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Rendered environment dev -> {out}/dev/\n  cloudformation.yaml\n"
    assert result.stderr == ""
    template = cloudformation(out / "dev" / "cloudformation.yaml")
    assert template["Resources"]["VPC"]["Properties"]["CidrBlock"] == "10.0.0.0/16"
    assert template["Resources"]["LogGroup"]["Properties"]["RetentionInDays"] == 14
    assert "VpcId" in template["Outputs"]
    assert sorted(p.name for p in out.rglob("*") if p.is_file()) == ["cloudformation.yaml"]


def test_render_service_instances_and_pipeline_with_a_context(pcli, tmp_path):
    spec = write(tmp_path / "web.yaml", SERVICE_SPEC)
    out = tmp_path / "out"
    args = ("--spec", str(spec), "-o", str(out), "--context", str(service_context(tmp_path)))

    result = pcli("blueprint", "render", "fargate-web-svc", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"Rendered service-instance web-dev -> {out}/dev/web-web-dev/\n  cloudformation.yaml\n"
        f"Rendered service-instance web-prod -> {out}/prod/web-web-prod/\n  cloudformation.yaml\n"
        f"Rendered pipeline web -> {out}/web/pipeline/\n  cloudformation.yaml\n"
    )
    dev = (out / "dev" / "web-web-dev" / "cloudformation.yaml").read_text()
    prod = (out / "prod" / "web-web-prod" / "cloudformation.yaml").read_text()
    pipeline = (out / "web" / "pipeline" / "cloudformation.yaml").read_text()
    assert "Port: 8080" in dev
    assert "Port: 8080" not in prod
    assert "DesiredCount: 3" in prod
    assert '"vpcid-prod"' in prod
    assert '"vpcid-dev"' in dev
    assert '"pytest -q"' in pipeline
    assert "web-dev" in pipeline
    assert "web-prod" in pipeline
    assert "acme/web" in pipeline
    for path in (out / "dev", out / "prod", out / "web"):
        for file in path.rglob("*.yaml"):
            assert "Resources" in cloudformation(file)


def test_render_service_without_the_outputs_it_reads_names_the_missing_output(pcli, tmp_path):
    spec = write(tmp_path / "web.yaml", SERVICE_SPEC)
    result = pcli("blueprint", "render", "fargate-web-svc", "-s", str(spec), "-o", str(tmp_path))
    assert result.exit_code == 1
    first, *_ = result.stderr.splitlines()
    assert first.startswith("Error: instance_infrastructure/cloudformation.yaml:")
    assert "'environment.outputs." in first
    assert "is undefined" in first
    assert "--context" in result.stderr


def test_render_attached_component_with_its_service_spec(pcli, tmp_path):
    spec = write(tmp_path / "web.yaml", SERVICE_SPEC)
    context = write(
        tmp_path / "component.yaml",
        "environments:\n  dev: {account_id: '111111111111'}\n"
        "component: {environment: dev, service: web, instance: web-dev}\n",
    )
    out = tmp_path / "out"
    result = pcli(
        "blueprint", "render", "sqs-queue-component", "-s", str(spec), "-o", str(out),
        "-n", "queue", "-c", str(context),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Rendered component queue -> {out}/dev/queue/\n  cloudformation.yaml\n"
    template = cloudformation(out / "dev" / "queue" / "cloudformation.yaml")
    assert template["Resources"]["Queue"]["Properties"]["QueueName"] == "dev-web-web-dev-queue"


def test_render_component_without_a_target_says_what_to_add(pcli, tmp_path):
    result = pcli("blueprint", "render", "sqs-queue-component", "-o", str(tmp_path), "-n", "queue")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: component 'queue': the context does not say where it goes\n"
        "Hint: give component: {environment: ENV, service: SVC, instance: INST} in --context\n"
    )


def test_render_terraform_environment(pcli, starters_dir, tmp_path):
    bundle = starters_dir / "tf-vpc-env" / "v1"
    out = tmp_path / "out"
    result = pcli(
        "blueprint", "render", str(bundle), "-s", str(bundle / "spec" / "spec.yaml"),
        "-o", str(out), "-n", "dev",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"Rendered environment dev -> {out}/dev/"
    env_dir = out / "dev"
    assert sorted(str(p.relative_to(env_dir)) for p in env_dir.rglob("*") if p.is_file()) == [
        ".proton/deployment-metadata.json",
        "main.tf",
        "outputs.tf",
        "proton.auto.tfvars.json",
        "proton.environment.variables.tf",
        "versions.tf",
    ]
    tfvars = json.loads((env_dir / "proton.auto.tfvars.json").read_text())
    assert tfvars["environment"]["name"] == "dev"
    assert tfvars["environment"]["inputs"]["vpc_cidr"] == "10.20.0.0/16"
    assert tfvars["proton_tags"]["pcli:environment"] == "dev"
    metadata = json.loads((env_dir / ".proton" / "deployment-metadata.json").read_text())
    assert metadata["resourceMetadata"]["arn"] == (
        "arn:aws:pcli:us-east-1:000000000000:environment/dev"
    )
    assert 'variable "environment"' in (env_dir / "proton.environment.variables.tf").read_text()


def test_render_name_at_version_from_the_registry_as_json(pcli, starters_dir, tmp_path):
    spec = starters_dir / "vpc-ecs-env" / "v1" / "spec" / "spec.yaml"
    context = write(tmp_path / "ctx.yaml", "deployment_id: fixed\nflavour: mint\n")
    out = tmp_path / "out"
    result = pcli(
        "blueprint", "render", "vpc-ecs-env@1.0", "-s", str(spec), "-o", str(out), "-n", "dev",
        "-c", str(context), "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "output_dir": str(out),
        "resources": [
            {
                "kind": "environment",
                "name": "dev",
                "environment": "dev",
                "folder": "dev",
                "provisioning": "cloudformation",
                "identifier": "arn:aws:pcli:us-east-1:000000000000:environment/dev",
                "files": ["cloudformation.yaml"],
            }
        ],
        "files": [str(out / "dev" / "cloudformation.yaml")],
        "warnings": [f"{context}:2: unknown key 'flavour' (ignored)"],
    }
    assert result.stderr == ""


def test_render_warnings_go_to_stderr(pcli, starters_dir, tmp_path):
    spec = starters_dir / "vpc-ecs-env" / "v1" / "spec" / "spec.yaml"
    context = write(tmp_path / "ctx.yaml", "flavour: mint\n")
    result = pcli(
        "blueprint", "render", "vpc-ecs-env", "-s", str(spec), "-o", str(tmp_path / "out"),
        "-n", "dev", "-c", str(context),
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr == f"Warning: {context}:1: unknown key 'flavour' (ignored)\n"
    assert result.stdout.startswith("Rendered environment dev -> ")


def test_render_a_tarball_bundle(pcli, starters_dir, tmp_path):
    archive = tmp_path / "env.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(starters_dir / "vpc-ecs-env" / "v1", arcname="env")
    spec = starters_dir / "vpc-ecs-env" / "v1" / "spec" / "spec.yaml"
    out = tmp_path / "out"

    result = pcli("blueprint", "render", str(archive), "-s", str(spec), "-o", str(out), "-n", "qa")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Rendered environment qa -> {out}/qa/\n  cloudformation.yaml\n"
    assert cloudformation(out / "qa" / "cloudformation.yaml")["Resources"]["VPC"]


def test_render_lists_every_missing_required_input(pcli, starters_dir, tmp_path):
    bundle = tmp_path / "env"
    shutil.copytree(starters_dir / "vpc-ecs-env" / "v1", bundle)
    schema = bundle / "schema" / "schema.yaml"
    schema.write_text(
        schema.read_text().replace(
            "      properties:\n",
            "      required: [owner, cost_center]\n      properties:\n"
            "        owner:\n          type: string\n"
            "        cost_center:\n          type: string\n",
            1,
        )
    )
    spec = write(
        tmp_path / "dev.yaml", "proton: EnvironmentSpec\nspec:\n  log_retention_days: 14\n"
    )
    out = tmp_path / "out"

    result = pcli("blueprint", "render", str(bundle), "-s", str(spec), "-o", str(out))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[:3] == [
        f"Error: {spec}: 2 inputs are not valid",
        f"  {spec}: input 'owner' is required (type string)",
        f"  {spec}: input 'cost_center' is required (type string)",
    ]
    assert result.stderr.splitlines()[3].startswith("Hint: see the blueprint's inputs with: ")
    assert not out.exists()


WRONG_KIND = {
    "vpc-ecs-env": (
        SERVICE_SPEC,
        "a ServiceSpec was given for an environment blueprint",
        "Hint: give a spec that starts with `proton: EnvironmentSpec`",
    ),
    "lambda-api-svc": (
        "proton: EnvironmentSpec\nspec: {}\n",
        "an EnvironmentSpec was given for a service blueprint",
        "Hint: give a spec that starts with `proton: ServiceSpec`",
    ),
}


@pytest.mark.parametrize("bundle", sorted(WRONG_KIND))
def test_render_with_a_spec_of_the_wrong_kind(pcli, tmp_path, bundle):
    spec_text, message, hint = WRONG_KIND[bundle]
    spec = write(tmp_path / "wrong.yaml", spec_text)
    out = tmp_path / "out"
    result = pcli("blueprint", "render", bundle, "-s", str(spec), "-o", str(out))
    assert result.exit_code == 2
    error, hint_line = result.stderr.splitlines()
    assert error.startswith("Error: ")
    assert error.endswith(message)
    assert hint_line == hint
    assert result.stdout == ""
    assert not out.exists()


def test_render_without_spec_or_name(pcli, tmp_path):
    result = pcli("blueprint", "render", "vpc-ecs-env", "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: --name is required when no --spec is given\nHint: add --name NAME\n"
    )


def test_render_of_a_missing_bundle_path(pcli, tmp_path):
    missing = tmp_path / "nowhere" / "v1"
    result = pcli("blueprint", "render", str(missing), "-o", str(tmp_path / "out"), "-n", "dev")
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {missing}: no such bundle folder or archive\n"
        "Hint: give a bundle folder, a .tar.gz archive of one, or NAME[@VERSION]\n"
    )


def test_render_of_an_unknown_blueprint_suggests_a_close_name(pcli, registry, tmp_path):
    result = pcli("blueprint", "render", "fargate-web", "-o", str(tmp_path / "out"), "-n", "x")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: blueprint 'fargate-web' not found in registry {registry}",
        (
            "Hint: did you mean 'fargate-web-svc'? known blueprints: external-env,"
            " fargate-web-svc, lambda-api-svc, sqs-queue-component, tf-vpc-env, vpc-ecs-env"
        ),
    ]
