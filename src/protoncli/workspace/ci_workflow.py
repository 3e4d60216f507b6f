"""A CI workflow that plans pull requests and deploys merges, environment by environment.

`ci_workflow` reads what the workspace declares (its service specs, their environments and the
accounts of pcli.yaml) into a `CiWorkflow`; `workflow_document` makes the GitHub Actions
workflow of it as a dict, and `workflow_text` as YAML with comments that say which GitHub
environment, role and account each job uses. Nothing here prints or talks to AWS.

The workflow:

- on a pull request, a job `plan` runs `pcli plan --check`; exit 4 (changes pending) passes,
  so the check shows what merging changes without blocking the merge;
- on a push to main, one job per environment, in the order the environments first appear in
  the service specs' `instances:` (dev, then staging, then prod), each needing the one before
  and each in the GitHub environment of the same name (its reviewers approve the deploy, its
  `AWS_ROLE_ARN` variable is the role of the account it deploys into); then, when a chosen
  service has a pipeline, a job `pipelines` that applies what is left (the pipelines).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from protoncli.errors import UsageError
from protoncli.yamlio import atomic_write

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.workspace.accounts import Account

WORKFLOWS = Path(".github") / "workflows"
BRANCH = "main"
PYTHON = "3.11"
POST_DEPLOY_TEST = "./ci/post-deploy-test"


@dataclass(frozen=True)
class DeployStage:
    """One deploy job: an environment, its region and its account (None: the caller's own)."""

    environment: str
    region: str
    account: Account | None = None


@dataclass(frozen=True)
class CiWorkflow:
    workspace: str  # pcli.yaml's name
    region: str  # the workspace's region (the plan job's)
    services: tuple[str, ...]  # the chosen services
    service: str | None  # --service, None for the whole workspace
    stages: tuple[DeployStage, ...]
    pipelines: bool  # whether a chosen service has a pipeline

    @property
    def name(self) -> str:
        return f"pcli {self.service}" if self.service else "pcli"


def ci_workflow(project: Project, service: str | None = None) -> CiWorkflow:
    """What the workflow deploys: the service `service`, or every service of the workspace.

    Usage errors: a workspace with no service, an unknown service, a service with no instance.
    """
    from protoncli.state.declared import read_environment, read_service

    workspace = project.workspace
    names = [service] if service is not None else workspace.services()
    if not names:
        raise UsageError(
            f"no services in the workspace {workspace.root}: the workflow would deploy nothing",
            hint="create one first: pcli svc create NAME -b BLUEPRINT -i INSTANCE=ENV",
        )
    records = [read_service(project, name) for name in names]
    order: list[str] = []
    for record in records:
        if service is not None and not record.spec.instances:
            raise UsageError(
                f"service {record.name} has no instances: the workflow would deploy nothing",
                hint=f"add an instance under `instances:` in {record.path}",
            )
        order += [i.environment for i in record.spec.instances if i.environment not in order]
    if service is None:  # the whole workspace: environments no instance lives in come last
        order += [name for name in workspace.environments() if name not in order]
    if not order:
        raise UsageError(
            "no service of the workspace has an instance: the workflow would deploy nothing",
            hint="add an instance under `instances:` in a file of services/",
        )
    stages = []
    for name in order:
        environment = read_environment(project, name)
        account = project.account(environment.account) if environment.account else None
        stages.append(DeployStage(name, environment.region, account))
    return CiWorkflow(
        workspace=workspace.name,
        region=project.region_for(None),
        services=tuple(record.name for record in records),
        service=service,
        stages=tuple(stages),
        pipelines=any(record.spec.pipeline is not None for record in records),
    )


def default_output(root: Path, service: str | None) -> Path:
    """`.github/workflows/pcli.yml` (or `pcli-SERVICE.yml`) under the workspace root."""
    return root / WORKFLOWS / (f"pcli-{service}.yml" if service else "pcli.yml")


def write_workflow(path: Path, text: str, *, force: bool) -> None:
    """Write the workflow; an existing file is a usage error unless `force`."""
    if path.exists() and not force:
        raise UsageError(
            f"{path}: already exists",
            hint="pass --force to replace it, or --output PATH to write elsewhere",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, text, shared=True)


def job_id(stage: DeployStage) -> str:
    return f"deploy-{stage.environment}"


def _names(flow: CiWorkflow) -> str:
    """The NAME arguments that restrict plan and apply to the chosen service."""
    return f" {flow.service}" if flow.service else ""


def _setup(role: str, region: str) -> list[dict[str, Any]]:
    return [
        {"name": "Check out", "uses": "actions/checkout@v4"},
        {"uses": "actions/setup-python@v5", "with": {"python-version": PYTHON}},
        {"name": "Install pcli", "run": "python -m pip install protoncli"},
        {
            "name": "AWS credentials (OIDC)",
            "uses": "aws-actions/configure-aws-credentials@v4",
            "with": {"role-to-assume": role, "aws-region": region},
        },
    ]


def _job(role: str, region: str, steps: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        **extra,
        "runs-on": "ubuntu-latest",
        "permissions": {"id-token": "write", "contents": "read"},
        "steps": [*_setup(role, region), *steps],
    }


def workflow_document(flow: CiWorkflow) -> dict[str, Any]:
    """The GitHub Actions workflow as a dict, in the order it is written."""
    names = _names(flow)
    jobs: dict[str, Any] = {
        "plan": _job(
            "${{ vars.PCLI_PLAN_ROLE_ARN }}",
            flow.region,
            [{"name": "Plan", "run": f"pcli plan --check{names} || test $? -eq 4"}],
            **{
                # pull requests from forks get no OIDC token: plan the repository's own only
                "if": "github.event_name == 'pull_request' && "
                "github.event.pull_request.head.repo.full_name == github.repository",
                "concurrency": {
                    "group": "${{ github.workflow }}-plan-${{ github.ref }}",
                    "cancel-in-progress": True,
                },
            },
        )
    }
    previous: str | None = None
    for stage in flow.stages:
        extra: dict[str, Any] = {"if": "github.event_name == 'push'"}
        if previous is not None:
            extra["needs"] = previous
        extra["environment"] = stage.environment
        extra["concurrency"] = {
            "group": f"pcli-deploy-{stage.environment}",
            "cancel-in-progress": False,
        }
        test = f"if [ -x {POST_DEPLOY_TEST} ]; then {POST_DEPLOY_TEST} {stage.environment}; fi"
        steps = [
            {"name": "Apply", "run": f"pcli apply{names} --yes --env {stage.environment}"},
            {"name": "Post-deploy test", "run": test},
        ]
        jobs[job_id(stage)] = _job("${{ vars.AWS_ROLE_ARN }}", stage.region, steps, **extra)
        previous = job_id(stage)
    if flow.pipelines:
        extra = {"if": "github.event_name == 'push'", "needs": previous}
        extra["concurrency"] = {"group": "pcli-deploy-pipelines", "cancel-in-progress": False}
        steps = [{"name": "Apply the pipelines", "run": f"pcli apply{names} --yes"}]
        jobs["pipelines"] = _job("${{ vars.PCLI_DEPLOY_ROLE_ARN }}", flow.region, steps, **extra)
    return {
        "name": flow.name,
        "on": {"pull_request": {"branches": [BRANCH]}, "push": {"branches": [BRANCH]}},
        "permissions": {"contents": "read"},
        "defaults": {"run": {"shell": "bash"}},
        "jobs": jobs,
    }


def _dump(value: Any, indent: int = 0) -> str:
    text = yaml.safe_dump(value, sort_keys=False, width=1000, default_flow_style=False)
    pad = " " * indent
    return "".join(pad + line if line.strip() else line for line in text.splitlines(keepends=True))


def _comment(lines: list[str], indent: int = 0) -> str:
    pad = " " * indent
    return "".join(f"{pad}# {line}".rstrip() + "\n" for line in lines)


def _stage_comment(stage: DeployStage) -> list[str]:
    lines = [
        (
            f"Environment {stage.environment} (region {stage.region}). The GitHub environment "
            f"{stage.environment!r} gives"
        ),
        "the approval (its required reviewers) and vars.AWS_ROLE_ARN, the OIDC role the job",
        "deploys with: one role per account, the same for environments in the same account.",
    ]
    account = stage.account
    if account is None:
        lines.append("No `account:` in its spec: its stacks go into that role's own account.")
    else:
        lines += [
            (
                f"Its spec says `account: {account.name}`: pcli.yaml's account {account.name} "
                f"({account.id}). pcli assumes"
            ),
            f"{account.role_arn} itself from the job's credentials, so the job's role",
            "must be allowed to assume it (`pcli account policy` prints what that role needs).",
        ]
    return lines


def workflow_text(flow: CiWorkflow) -> str:
    """The workflow as YAML, with comments on its roles, environments and exit codes."""
    document = workflow_document(flow)
    jobs = document["jobs"]
    scope = f"service {flow.service}" if flow.service else f"workspace {flow.workspace}"
    command = "pcli ci generate github-actions" + (
        f" --service {flow.service}" if flow.service else ""
    )
    parts = [
        _comment(
            [
                f"Plans and deploys the {scope}. Written by `{command}`;",
                "run it again (with --force) after adding services or environments.",
                "",
                "Pull requests: `plan` shows what merging would change. pcli plan --check exits 4",
                "when changes are pending; `|| test $? -eq 4` lets that pass, so the check fails",
                "only on errors. Drop it to block merges while changes are pending.",
                f"Pushes to {BRANCH}: one job per environment, each after the one before.",
            ]
        ),
        _dump({key: document[key] for key in ("name", "on", "permissions", "defaults")}),
        "jobs:\n",
        _comment(
            [
                "vars.PCLI_PLAN_ROLE_ARN: a read-only role (a repository variable). With accounts",
                "in pcli.yaml it must be allowed to assume their roles, which pcli assumes to read",
                "their stacks.",
            ],
            2,
        ),
        _dump({"plan": jobs["plan"]}, 2),
    ]
    for stage in flow.stages:
        job = {job_id(stage): jobs[job_id(stage)]}
        parts += ["\n", _comment(_stage_comment(stage), 2), _dump(job, 2)]
    if "pipelines" in jobs:
        parts += [
            "\n",
            _comment(
                [
                    "Pipelines belong to no environment: once every environment is deployed,",
                    "apply what is left with vars.PCLI_DEPLOY_ROLE_ARN (a repository variable),",
                    "a role of the account pcli deploys into without `account:`.",
                ],
                2,
            ),
            _dump({"pipelines": jobs["pipelines"]}, 2),
        ]
    return "".join(parts)
