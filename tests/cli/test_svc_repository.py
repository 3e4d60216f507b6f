"""A service's source repository (`svc create --repository/--branch/--connection-arn`): kept in
the spec header, defaulted from the --scaffold folder's git, checked for shape, and read by the
pipeline as service.repository_id / branch_name / repository_connection_arn."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

ARN = "arn:aws:codeconnections:us-east-1:111111111111:connection/0f1e2d3c-aaaa-bbbb"
SOURCE = ("--repository", "acme/web", "--branch", "main", "--connection-arn", ARN)

# moto has no CloudFormation model for AWS::CodeBuild::Project (the starter's pipeline): it warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS..CodeBuild..Project but:UserWarning"
)


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def header(cli, name):
    return yaml.safe_load((cli.workspace / "services" / f"{name}.yaml").read_text())


def stacks(cloudformation):
    return {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}


def git(folder, *args):
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


@pytest.fixture
def dev(cli):
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--yes"))


def test_the_source_flags_reach_the_spec_header_and_the_pipeline(cli, dev, cloudformation):
    args = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev")
    ok(cli(*args, *SOURCE, "--yes"))
    spec = header(cli, "web")
    assert list(spec)[:5] == [
        "blueprint",
        "version",
        "repository_id",
        "branch_name",
        "repository_connection_arn",
    ]
    assert (spec["repository_id"], spec["branch_name"]) == ("acme/web", "main")
    assert spec["repository_connection_arn"] == ARN
    template = cloudformation.get_template(StackName="pcli-demo-pipeline-web")["TemplateBody"]
    assert 'Location: "https://github.com/acme/web.git"' in template
    assert 'SourceVersion: "main"' in template
    assert f'Resource: "{ARN}"' in template


def test_a_pipeline_reading_an_empty_source_is_a_usage_error_before_any_deploy(
    cli, dev, cloudformation
):
    before = stacks(cloudformation)
    result = cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev", "--yes")
    assert result.exit_code == 2, result.output
    assert (
        "pipeline_infrastructure/cloudformation.yaml:92: 'service.repository_id' "
        "is empty, and the template reads it"
    ) in result.stderr
    assert "--repository OWNER/NAME --branch BRANCH --connection-arn ARN" in result.stderr
    assert "Traceback" not in result.output
    assert stacks(cloudformation) == before  # neither the instance nor the pipeline


@pytest.mark.parametrize(
    ("flag", "value", "shape"),
    [
        ("--repository", "acme", "expected OWNER/NAME"),
        ("--repository", "acme/web.git", "expected OWNER/NAME"),
        ("--branch", "feature..x", "expected a git branch name"),
        ("--branch", "has space", "expected a git branch name"),
        ("--connection-arn", "arn:aws:iam::111111111111:role/x", "expected arn:aws:codeconn"),
    ],
)
def test_a_source_flag_of_the_wrong_shape_is_a_usage_error(cli, dev, flag, value, shape):
    args = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev", "--no-deploy")
    result = cli(*args, flag, value)
    assert result.exit_code == 2, result.output
    assert f"Error: {flag} {value!r}: {shape}" in result.stderr
    assert not (cli.workspace / "services" / "web.yaml").exists()


def test_the_source_defaults_to_the_scaffold_folders_git_remote_and_branch(cli, dev, tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    git(app, "init", "--quiet")
    git(app, "checkout", "--quiet", "-b", "release/1.x")
    git(app, "remote", "add", "origin", "git@github.com:acme/shop.git")
    args = ("svc", "create", "shop", "-b", "fargate-web-svc", "-i", "shop-dev=dev")
    ok(cli(*args, "--scaffold", str(app), "--connection-arn", ARN, "--no-deploy"))
    spec = header(cli, "shop")
    assert (spec["repository_id"], spec["branch_name"]) == ("acme/shop", "release/1.x")
    # Flags win over git.
    git(app, "remote", "set-url", "origin", "https://gitlab.com/acme/store.git")
    args = ("svc", "create", "store", "-b", "fargate-web-svc", "-i", "store-dev=dev")
    ok(cli(*args, "--scaffold", str(app / "sub"), "--branch", "main", "--no-deploy"))
    spec = header(cli, "store")
    assert (spec["repository_id"], spec["branch_name"]) == ("acme/store", "main")
    assert "repository_connection_arn" not in spec


def test_a_spec_header_of_the_wrong_shape_is_refused_before_any_deploy(cli, dev, cloudformation):
    args = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev")
    ok(cli(*args, *SOURCE, "--no-deploy"))
    path = cli.workspace / "services" / "web.yaml"
    path.write_text(path.read_text().replace("branch_name: main", "branch_name: main.lock"))
    before = stacks(cloudformation)
    result = cli("svc", "deploy", "web", "--yes")
    assert result.exit_code == 2, result.output
    assert f"{path}:4: branch_name 'main.lock' is not a git branch name" in result.stderr
    assert stacks(cloudformation) == before


def test_a_changed_source_makes_the_pipeline_pending_and_only_the_pipeline(cli, dev):
    args = ("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev")
    ok(cli(*args, *SOURCE, "--yes"))

    def actions():
        items = json.loads(ok(cli("plan", "--json")).stdout)["items"]
        return {(item["kind"], item["name"]): item["action"] for item in items}

    assert set(actions().values()) == {"none"}
    path = cli.workspace / "services" / "web.yaml"
    path.write_text(path.read_text().replace("branch_name: main", "branch_name: release"))

    assert actions() == {
        ("environment", "dev"): "none",
        ("service-instance", "web/web-dev"): "none",
        ("pipeline", "web"): "update",
    }


def test_source_flags_for_a_blueprint_without_a_pipeline_are_refused(cli, dev):
    args = ("svc", "create", "api", "-b", "lambda-api-svc", "-i", "api-dev=dev", "--no-deploy")
    result = cli(*args, "--repository", "acme/api", "--branch", "main")
    assert result.exit_code == 2, result.output
    assert (
        "Error: blueprint lambda-api-svc@1.0 has no pipeline: --repository, --branch is not used"
    ) in result.stderr
    assert not (cli.workspace / "services" / "api.yaml").exists()


def test_apply_refuses_a_pipeline_without_its_source_before_any_deploy(cli, dev, cloudformation):
    ok(cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev", "--no-deploy"))
    before = stacks(cloudformation)
    result = cli("apply", "--yes")
    # apply reports each item's failure (exit 3, its per-item contract); nothing deployed.
    assert result.exit_code == 3, result.output
    assert "Apply finished with 2 failed" in result.stderr
    assert "'service.repository_id' is empty," in result.output
    assert stacks(cloudformation) == before
