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

`source_workflow` is the same for one service's *source* repository (`source_workflow_text`):
pcli runs from a checkout of the workspace repository beside the source one. On a pull request,
`build` builds the image without pushing it and `plan` runs `pcli plan --check SERVICE`; on a
push to main, `image` builds and pushes the image once, then one job per environment of the
service's instances (the same order and GitHub environments) runs `pcli svc deploy SERVICE
--instance I --param IMAGE_INPUT=IMAGE` for its instances. A service without an image (no image
input) has no `build` and no `image` job, and its deploy jobs deploy the spec as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
HEAD_KEYS = ("name", "on", "permissions", "defaults")  # a workflow's keys before its jobs


@dataclass(frozen=True)
class DeployStage:
    """One deploy job: an environment, its region and its account (None: the caller's own);
    in a source workflow, the service's instances in it, in spec order."""

    environment: str
    region: str
    account: Account | None = None
    instances: tuple[str, ...] = ()


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


@dataclass(frozen=True)
class SourceWorkflow:
    """The workflow of one service's source repository."""

    service: str
    region: str  # the workspace's region (the plan and image jobs')
    stages: tuple[DeployStage, ...]
    image_parameter: str | None = None  # the input the built image goes to; None: no image

    @property
    def name(self) -> str:
        return f"deploy {self.service}"


def ci_workflow(project: Project, service: str | None = None) -> CiWorkflow:
    """What the workflow deploys: the service `service`, or every service of the workspace.

    Usage errors: a workspace with no service, an unknown service, a service with no instance.
    """
    from protoncli.state.declared import read_service

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
            raise _no_instances(record.name, record.path)
        order += [i.environment for i in record.spec.instances if i.environment not in order]
    if service is None:  # the whole workspace: environments no instance lives in come last
        order += [name for name in workspace.environments() if name not in order]
    if not order:
        raise UsageError(
            "no service of the workspace has an instance: the workflow would deploy nothing",
            hint="add an instance under `instances:` in a file of services/",
        )
    return CiWorkflow(
        workspace=workspace.name,
        region=project.region_for(None),
        services=tuple(record.name for record in records),
        service=service,
        stages=tuple(_stage(project, name) for name in order),
        pipelines=any(record.spec.pipeline is not None for record in records),
    )


def _no_instances(service: str, path: Path) -> UsageError:
    return UsageError(
        f"service {service} has no instances: the workflow would deploy nothing",
        hint=f"add an instance under `instances:` in {path}",
    )


def source_workflow(
    project: Project,
    service: str,
    instances: Sequence[tuple[str, str]] | None = None,
    *,
    image_parameter: str | None = None,
) -> SourceWorkflow:
    """The source repository's workflow of `service`: one deploy stage per environment of its
    `instances` ((instance, environment) pairs, default: its spec's), in the order they first
    appear there, as `ci_workflow` orders them.

    Usage errors: an unknown service; one with no instance in its spec (with `instances` given,
    as when a service is being created, none is allowed: the workflow then only builds).
    """
    from protoncli.state.declared import read_service

    if instances is None:
        record = read_service(project, service)
        instances = [(i.name, i.environment) for i in record.spec.instances]
        if not instances:
            raise _no_instances(service, record.path)
    by_environment: dict[str, list[str]] = {}
    for instance, environment in instances:
        by_environment.setdefault(environment, []).append(instance)
    return SourceWorkflow(
        service=service,
        region=project.region_for(None),
        stages=tuple(_stage(project, name, tuple(names)) for name, names in by_environment.items()),
        image_parameter=image_parameter,
    )


def _stage(project: Project, name: str, instances: tuple[str, ...] = ()) -> DeployStage:
    from protoncli.state.declared import read_environment

    environment = read_environment(project, name)
    account = project.account(environment.account) if environment.account else None
    return DeployStage(name, environment.region, account, instances)


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


Step = dict[str, Any]
CHECKOUT: Step = {"name": "Check out", "uses": "actions/checkout@v4"}
# A source repository's jobs: the source, and beside it the workspace pcli runs from.
SOURCE_CHECKOUT: tuple[Step, ...] = (
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
)
ON_PUSH = "github.event_name == 'push'"
# pull requests from forks get no OIDC token: plan the repository's own only
ON_OWN_PULL_REQUEST = (
    "github.event_name == 'pull_request' && "
    "github.event.pull_request.head.repo.full_name == github.repository"
)
IMAGE = "${{ vars.PCLI_IMAGE_REPOSITORY }}:${{ github.sha }}"


def _setup(
    role: str, region: str, checkout: tuple[Step, ...] = (CHECKOUT,), *, pcli: bool = True
) -> list[Step]:
    """Check out, install pcli (unless not `pcli`), and take `role` through GitHub's OIDC."""
    install: list[Step] = [
        {"uses": "actions/setup-python@v5", "with": {"python-version": PYTHON}},
        {"name": "Install pcli", "run": "python -m pip install protoncli"},
    ]
    return [
        *checkout,
        *(install if pcli else []),
        {
            "name": "AWS credentials (OIDC)",
            "uses": "aws-actions/configure-aws-credentials@v4",
            "with": {"role-to-assume": role, "aws-region": region},
        },
    ]


def _job(steps: list[Step], **extra: Any) -> dict[str, Any]:
    """A job on ubuntu-latest that may ask for an OIDC token: `extra` (if, needs, environment,
    …) first, then `steps`."""
    return {
        **extra,
        "runs-on": "ubuntu-latest",
        "permissions": {"id-token": "write", "contents": "read"},
        "steps": steps,
    }


def _plan_job(run: str, region: str, checkout: tuple[Step, ...]) -> dict[str, Any]:
    """Pull requests (the repository's own): `run` (pcli plan --check) with the plan role."""
    role = "${{ vars.PCLI_PLAN_ROLE_ARN }}"
    return _job(
        [*_setup(role, region, checkout), {"name": "Plan", "run": run}],
        **{
            "if": ON_OWN_PULL_REQUEST,
            "concurrency": {
                "group": "${{ github.workflow }}-plan-${{ github.ref }}",
                "cancel-in-progress": True,
            },
        },
    )


def _needs(*jobs: str | None) -> dict[str, Any]:
    named = [job for job in jobs if job is not None]
    if not named:
        return {}
    return {"needs": named[0] if len(named) == 1 else named}


def _deploy_job(
    stage: DeployStage,
    steps: list[Step],
    *,
    needs: dict[str, Any],
    checkout: tuple[Step, ...] = (CHECKOUT,),
    env: dict[str, str] | None = None,
    working_directory: str | None = None,
) -> dict[str, Any]:
    """One environment's job: in its GitHub environment (approval, vars.AWS_ROLE_ARN), one
    deploy of it at a time, `steps` then the post-deploy test."""
    test: Step = {
        "name": "Post-deploy test",
        "run": f"if [ -x {POST_DEPLOY_TEST} ]; then {POST_DEPLOY_TEST} {stage.environment}; fi",
    }
    if working_directory is not None:
        test["working-directory"] = working_directory
    extra: dict[str, Any] = {"if": ON_PUSH, **needs, "environment": stage.environment}
    extra["concurrency"] = {
        "group": f"pcli-deploy-{stage.environment}",
        "cancel-in-progress": False,
    }
    if env:
        extra["env"] = env
    setup = _setup("${{ vars.AWS_ROLE_ARN }}", stage.region, checkout)
    return _job([*setup, *steps, test], **extra)


def _workflow(name: str, jobs: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "on": {"pull_request": {"branches": [BRANCH]}, "push": {"branches": [BRANCH]}},
        "permissions": {"contents": "read"},
        "defaults": {"run": {"shell": "bash"}},
        "jobs": jobs,
    }


def workflow_document(flow: CiWorkflow) -> dict[str, Any]:
    """The GitHub Actions workflow as a dict, in the order it is written."""
    names = _names(flow)
    plan = f"pcli plan --check{names} || test $? -eq 4"
    jobs: dict[str, Any] = {"plan": _plan_job(plan, flow.region, (CHECKOUT,))}
    previous: str | None = None
    for stage in flow.stages:
        apply = {"name": "Apply", "run": f"pcli apply{names} --yes --env {stage.environment}"}
        jobs[job_id(stage)] = _deploy_job(stage, [apply], needs=_needs(previous))
        previous = job_id(stage)
    if flow.pipelines:
        extra = {"if": ON_PUSH, **_needs(previous)}
        extra["concurrency"] = {"group": "pcli-deploy-pipelines", "cancel-in-progress": False}
        role = "${{ vars.PCLI_DEPLOY_ROLE_ARN }}"
        steps = [{"name": "Apply the pipelines", "run": f"pcli apply{names} --yes"}]
        jobs["pipelines"] = _job([*_setup(role, flow.region), *steps], **extra)
    return _workflow(flow.name, jobs)


def source_workflow_document(flow: SourceWorkflow) -> dict[str, Any]:
    """The source repository's workflow as a dict, in the order it is written."""
    pcli = "pcli --workspace workspace"
    jobs: dict[str, Any] = {}
    image = flow.image_parameter is not None
    if image:
        build: Step = {
            "name": "Build the image",
            "working-directory": "source",
            "run": f"docker build -t {flow.service} .",
        }
        jobs["build"] = {
            "if": "github.event_name == 'pull_request'",
            "runs-on": "ubuntu-latest",
            "steps": [SOURCE_CHECKOUT[0], build],
        }
    plan = f"{pcli} plan --check {flow.service} || test $? -eq 4"
    jobs["plan"] = _plan_job(plan, flow.region, SOURCE_CHECKOUT)
    if image:
        role = "${{ vars.PCLI_IMAGE_ROLE_ARN }}"
        push = [
            {"name": "Log in to Amazon ECR", "uses": "aws-actions/amazon-ecr-login@v2"},
            {"name": "Build the image", "run": 'docker build -t "$IMAGE" .'},
            {"name": "Push the image", "run": 'docker push "$IMAGE"'},
            {
                "id": "pushed",
                "name": "Hand its name on",
                "run": 'echo "image=$IMAGE" >> "$GITHUB_OUTPUT"',
            },
        ]
        jobs["image"] = _job(
            [*_setup(role, flow.region, (CHECKOUT,), pcli=False), *push],
            **{
                "if": ON_PUSH,
                "env": {"IMAGE": IMAGE},
                "outputs": {"image": "${{ steps.pushed.outputs.image }}"},
            },
        )
    previous: str | None = None
    for stage in flow.stages:
        param = f' --param "{flow.image_parameter}=$IMAGE"' if image else ""
        deploys = [
            {
                "name": f"Deploy {instance}",
                "run": f"{pcli} svc deploy {flow.service} --instance {instance}{param} --yes",
            }
            for instance in stage.instances
        ]
        jobs[job_id(stage)] = _deploy_job(
            stage,
            deploys,
            needs=_needs("image" if image else None, previous),
            checkout=SOURCE_CHECKOUT,
            env={"IMAGE": "${{ needs.image.outputs.image }}"} if image else None,
            working_directory="source",
        )
        previous = job_id(stage)
    return _workflow(flow.name, jobs)


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
        _dump({key: document[key] for key in HEAD_KEYS}),
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
    parts += _stage_parts(flow.stages, jobs)
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


def _stage_parts(stages: Sequence[DeployStage], jobs: Mapping[str, Any]) -> list[str]:
    """Each stage's deploy job with the comment that says its environment, role and account."""
    parts: list[str] = []
    for stage in stages:
        job = {job_id(stage): jobs[job_id(stage)]}
        parts += ["\n", _comment(_stage_comment(stage), 2), _dump(job, 2)]
    return parts


def source_workflow_text(flow: SourceWorkflow) -> str:
    """The source repository's workflow as YAML, with comments on its variables and roles."""
    document = source_workflow_document(flow)
    jobs = document["jobs"]
    command = f"pcli ci generate github-actions --service {flow.service} --source"
    head = [
        f"Builds and deploys the service {flow.service} from its source repository. Written by",
        f"`pcli svc create --scaffold` or `{command}`;",
        "run that again (with --force) after adding instances or environments.",
        "",
        "pcli runs from a checkout of the workspace repository (pcli.yaml, the spec files) beside",
        "this one: `--workspace workspace`. Repository variable PCLI_WORKSPACE_REPOSITORY: its",
        "OWNER/NAME; secret PCLI_WORKSPACE_TOKEN: a token that can read it, when it is private.",
        "",
    ]
    if flow.image_parameter is not None:
        head += [
            "Pull requests: `build` builds the image without pushing it; `plan` shows what the",
            "workspace would change for the service (exit 4, changes pending, passes: the check",
            "fails on errors only).",
            f"Pushes to {BRANCH}: `image` builds the image once and pushes it to",
            "vars.PCLI_IMAGE_REPOSITORY (an ECR repository URI) with vars.PCLI_IMAGE_ROLE_ARN (a",
            "role that may push there); then one job per environment deploys it, each after the",
            f"one before, with `pcli svc deploy --param {flow.image_parameter}=IMAGE`. The spec",
            "is not edited: commit the image to the service's spec file to keep it (until then",
            "`pcli plan` shows the instances as deployed with --param).",
        ]
    else:
        head += [
            "Pull requests: `plan` shows what the workspace would change for the service (exit 4,",
            "changes pending, passes: the check fails on errors only).",
            f"Pushes to {BRANCH}: one job per environment deploys the service's instances there",
            "as their spec says (`pcli svc deploy`), each after the one before.",
        ]
    parts = [_comment(head), _dump({key: document[key] for key in HEAD_KEYS}), "jobs:\n"]
    if "build" in jobs:
        parts += [_dump({"build": jobs["build"]}, 2), "\n"]
    parts += [
        _comment(
            [
                "vars.PCLI_PLAN_ROLE_ARN: a read-only role (a repository variable), as in the",
                "workspace repository's workflow.",
            ],
            2,
        ),
        _dump({"plan": jobs["plan"]}, 2),
    ]
    if "image" in jobs:
        parts += ["\n", _dump({"image": jobs["image"]}, 2)]
    parts += _stage_parts(flow.stages, jobs)
    return "".join(parts)
