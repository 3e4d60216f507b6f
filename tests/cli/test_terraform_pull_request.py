"""Terraform by pull request (Proton's self-managed provisioning), against a real moto server and
real git repositories: the rendered folder is committed on a branch of the provisioning
repository, the item waits, and `pcli notify` records how the team's automation ended.

No Terraform runs here: the pull request is what pcli makes; applying it is the automation's.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ENV_STACK = "pcli-demo-env-dev"
TF_OUTPUTS = {
    "vpc_id": {"sensitive": False, "type": "string", "value": "vpc-0abc"},
    "public_subnet_ids": {"sensitive": False, "type": "string", "value": "subnet-1,subnet-2"},
    "subnet_count": {"sensitive": False, "type": "number", "value": 2},
}


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


@pytest.fixture
def by_pull_request(cli, repository: Path):
    """The workspace provisions Terraform by pull request into `repository`."""
    settings = cli.workspace / "pcli.yaml"
    settings.write_text(
        settings.read_text()
        + f"provisioning: pull-request\nprovisioning_repository:\n  url: {repository}\n"
        "  branch: main\n"
    )
    return cli


def metadata_on(repository: Path, branch: str, folder: str = "dev") -> dict:
    text = git("show", f"{branch}:{folder}/.proton/deployment-metadata.json", cwd=repository)
    return json.loads(text)


def branches(repository: Path) -> list[str]:
    listed = git("for-each-ref", "--format=%(refname:short)", "refs/heads", cwd=repository)
    return sorted(listed.split())


def status_row(cli) -> dict:
    result = cli("status", "--json")
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)["resources"]
    return row


def test_a_deploy_commits_the_folder_on_a_branch_and_waits_for_notify(
    by_pull_request, repository, tmp_path
):
    cli = by_pull_request

    created = cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes")

    assert created.exit_code == 0, created.output
    (branch,) = [name for name in branches(repository) if name != "main"]
    assert branch.startswith(f"pcli/{ENV_STACK}-")
    assert f"branch {branch} pushed to {repository}" in created.output
    files = git("ls-tree", "-r", "--name-only", branch, cwd=repository).split()
    assert "dev/main.tf" in files
    assert "dev/proton.auto.tfvars.json" in files
    metadata = metadata_on(repository, branch)
    assert metadata["isResourceDeleted"] is False
    deployment = metadata["deploymentId"]
    row = status_row(cli)
    assert row["stack_status"] == "CREATE_IN_PROGRESS"
    assert row["provisioning"] == "terraform (pull request)"
    assert f"pcli notify --deployment-id {deployment}" in row["status_reason"]
    assert json.loads(cli("env", "outputs", "dev", "--json").stdout) == {}  # none yet

    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(TF_OUTPUTS))
    notified = cli(
        "notify", "--deployment-id", deployment, "--status", "SUCCEEDED", "--outputs", str(outputs)
    )

    assert notified.exit_code == 0, notified.output
    assert f"{ENV_STACK}: SUCCEEDED (deployment {deployment})" in notified.stdout
    row = status_row(cli)
    assert row["stack_status"] == "CREATE_COMPLETE"
    assert row["version_status"] == "up-to-date"
    history = json.loads(cli("env", "history", "dev", "--json").stdout)
    (record,) = history["records"]
    assert (record["deployment_id"], record["status"]) == (deployment, "CREATE_COMPLETE")
    assert not row["pending"]
    shown = cli("env", "outputs", "dev", "--json")
    assert json.loads(shown.stdout) == {
        "vpc_id": "vpc-0abc",
        "public_subnet_ids": "subnet-1,subnet-2",
        "subnet_count": "2",
    }
    rollback = cli("env", "rollback", "dev", "--yes")
    assert rollback.exit_code == 2
    assert "is provisioned by terraform (pull request): pcli rolls back stacks only" in (
        rollback.output
    )
    again = cli("env", "deploy", "dev", "--yes")
    assert again.exit_code == 0, again.output
    assert "No changes" in again.output
    assert len(branches(repository)) == 2  # nothing new to commit


def test_a_second_deploy_is_refused_while_the_pull_request_waits(by_pull_request):
    cli = by_pull_request
    assert cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes").exit_code == 0
    spec = cli.workspace / "environments" / "dev.yaml"
    spec.write_text(spec.read_text().replace("spec: {}", "spec:\n  public_subnet_count: 3"))

    again = cli("env", "deploy", "dev", "--yes")

    assert again.exit_code == 2, again.output
    assert "waits for its pull request" in again.output
    assert "pcli notify --deployment-id" in again.output


def test_notify_refuses_an_unknown_id_a_second_notify_and_bad_outputs(
    by_pull_request, repository, tmp_path
):
    cli = by_pull_request
    assert cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes").exit_code == 0
    (branch,) = [name for name in branches(repository) if name != "main"]
    deployment = metadata_on(repository, branch)["deploymentId"]
    bad = tmp_path / "bad.json"

    unknown = cli("notify", "--deployment-id", "nope", "--status", "SUCCEEDED")
    assert unknown.exit_code == 2
    assert "no deployment nope is known" in unknown.output

    bad.write_text("{not json")
    assert (
        "not valid JSON"
        in cli(
            "notify", "--deployment-id", deployment, "--status", "SUCCEEDED", "--outputs", str(bad)
        ).output
    )
    bad.write_text(json.dumps({"ids": {"type": ["list", "string"], "value": ["a", "b"]}}))
    listed = cli(
        "notify", "--deployment-id", deployment, "--status", "SUCCEEDED", "--outputs", str(bad)
    )
    assert listed.exit_code == 2
    assert "output 'ids' is a list, not a string" in listed.output
    assert status_row(cli)["stack_status"] == "CREATE_IN_PROGRESS"  # nothing was recorded

    failed = cli(
        "notify",
        "--deployment-id",
        deployment,
        "--status",
        "FAILED",
        "--status-message",
        "apply failed: quota",
    )
    assert failed.exit_code == 0, failed.output
    twice = cli("notify", "--deployment-id", deployment, "--status", "SUCCEEDED")
    assert twice.exit_code == 2
    assert "was notified already: FAILED" in twice.output
    row = status_row(cli)
    assert row["stack_status"] == "CREATE_FAILED"
    assert row["status_reason"] == "apply failed: quota"
    (record,) = json.loads(cli("env", "history", "dev", "--json").stdout)["records"]
    assert (record["status"], record["outcome"]) == ("CREATE_FAILED", "failed")
    assert record["failures"] == ["apply failed: quota"]


def test_a_deletion_commits_the_deleted_flag_and_its_notify_closes_the_item(
    by_pull_request, repository
):
    cli = by_pull_request
    assert cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes").exit_code == 0
    (branch,) = [name for name in branches(repository) if name != "main"]
    created = metadata_on(repository, branch)["deploymentId"]
    assert cli("notify", "--deployment-id", created, "--status", "SUCCEEDED").exit_code == 0

    deleted = cli("env", "delete", "dev", "--yes")

    assert deleted.exit_code == 0, deleted.output
    (deleting,) = [name for name in branches(repository) if name not in ("main", branch)]
    metadata = metadata_on(repository, deleting)
    assert metadata["isResourceDeleted"] is True
    assert status_row(cli)["stack_status"] == "DELETE_IN_PROGRESS"
    closed = cli("notify", "--deployment-id", metadata["deploymentId"], "--status", "SUCCEEDED")
    assert closed.exit_code == 0, closed.output
    assert "deleted" in closed.stdout
    assert json.loads(cli("status", "--json").stdout)["resources"] == []


def test_a_working_clone_with_uncommitted_changes_is_refused(cli, tmp_path, repository):
    clone = tmp_path / "clone"
    git("clone", "-q", str(repository), str(clone), cwd=tmp_path)
    (clone / "README.md").write_text("edited\n")
    settings = cli.workspace / "pcli.yaml"
    settings.write_text(
        settings.read_text() + f"provisioning_repository:\n  url: {clone}\n  branch: main\n"
    )

    refused = cli(
        "env", "create", "dev", "--blueprint", "tf-vpc-env", "--provisioning", "pull-request",
        "--yes",
    )  # fmt: skip

    assert refused.exit_code == 2, refused.output
    assert "uncommitted changes" in refused.output
    assert "README.md" in refused.output


def test_going_back_to_an_earlier_spec_proposes_it_again_on_a_new_branch(
    by_pull_request, repository
):
    cli = by_pull_request
    spec = cli.workspace / "environments" / "dev.yaml"

    def deploy_and_notify() -> str:
        before = set(branches(repository))
        assert cli("env", "deploy", "dev", "--yes").exit_code == 0
        (branch,) = set(branches(repository)) - before
        deployment = metadata_on(repository, branch)["deploymentId"]
        notified = cli("notify", "--deployment-id", deployment, "--status", "SUCCEEDED")
        assert notified.exit_code == 0, notified.output
        return deployment

    assert cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--no-deploy").exit_code == 0
    plain = spec.read_text()
    first = deploy_and_notify()
    spec.write_text(plain.replace("spec: {}", "spec:\n  public_subnet_count: 3"))
    second = deploy_and_notify()
    spec.write_text(plain)
    third = deploy_and_notify()

    assert first != second
    assert third == first  # the same spec is the same deployment, proposed once more
    assert len(branches(repository)) == 4  # main and one branch per proposal
    assert status_row(cli)["stack_status"] == "UPDATE_COMPLETE"


def test_an_environment_names_its_own_repository_and_a_service_renders_with_its_outputs(
    by_pull_request, repository, tmp_path, cloudformation
):
    cli = by_pull_request
    own = tmp_path / "prod-provisioning.git"
    git("clone", "-q", "--bare", str(repository), str(own), cwd=tmp_path)
    assert cli("env", "create", "prod", "--blueprint", "tf-vpc-env", "--no-deploy").exit_code == 0
    spec = cli.workspace / "environments" / "prod.yaml"
    spec.write_text(f"provisioning_repository: {own}#main\n" + spec.read_text())

    deployed = cli("env", "deploy", "prod", "--yes")

    assert deployed.exit_code == 0, deployed.output
    assert branches(repository) == ["main"]  # the workspace's repository is left alone
    (branch,) = [name for name in branches(own) if name != "main"]
    deployment = metadata_on(own, branch, "prod")["deploymentId"]
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"LogGroupName": {"value": "/pcli/prod", "type": "string"}}))
    notified = cli(
        "notify", "--deployment-id", deployment, "--status", "SUCCEEDED", "--outputs", str(outputs)
    )
    assert notified.exit_code == 0, notified.output
    created = cli(
        "svc", "create", "api", "--blueprint", "lambda-api-svc", "--instance", "api-prod=prod",
        "--yes",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    template = cloudformation.get_template(StackName="pcli-demo-svc-api-api-prod")
    assert "/pcli/prod" in json.dumps(template["TemplateBody"])


def test_notify_takes_outputs_inline_as_aws_sample_workflow_passes_them(
    by_pull_request, repository
):
    cli = by_pull_request
    assert cli("env", "create", "dev", "--blueprint", "tf-vpc-env", "--yes").exit_code == 0
    (branch,) = [name for name in branches(repository) if name != "main"]
    deployment = metadata_on(repository, branch)["deploymentId"]
    inline = json.dumps([{"key": "vpc_id", "valueString": "vpc-9"}])

    notified = cli(
        "notify", "--region", "us-east-1", "--resource-arn",
        "arn:aws:pcli:us-east-1:123456789012:environment/dev",
        "--deployment-id", deployment, "--status", "SUCCEEDED", "--outputs", inline, "--json",
    )  # fmt: skip

    assert notified.exit_code == 0, notified.output
    assert json.loads(notified.stdout)["outputs"] == {"vpc_id": "vpc-9"}
    elsewhere = cli(
        "notify", "--resource-arn", "arn:aws:pcli:us-east-1:210987654321:environment/dev",
        "--deployment-id", deployment, "--status", "SUCCEEDED",
    )  # fmt: skip
    assert elsewhere.exit_code == 2
    assert "of account 210987654321, but the credentials are of account 123456789012" in (
        elsewhere.output
    )
