"""A skeleton that declares `.pcli-ci.yaml` gets the generated source workflow as
`.github/workflows/deploy.yml` (the one `pcli ci generate github-actions --source` prints), not a
template; a malformed declaration is a usage error (exit 2) that says how to write it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tests.unit.workspace.test_ci_workflow import (
    Lint,
    actionlint,  # noqa: F401 - a fixture
    write_workspace,
)
from tests.unit.workspace.test_workspace_scaffold import listing, make_bundle

from protoncli.blueprints.model import Bundle
from protoncli.deploy.project import Project
from protoncli.errors import UsageError
from protoncli.workspace.ci_workflow import SourceWorkflow, source_workflow, source_workflow_text
from protoncli.workspace.scaffold import (
    CI_FILE,
    CI_WORKFLOW,
    CiDeclaration,
    ci_declaration,
    render_for_service,
    scaffold,
)

DECLARATION = "workflow: github-actions\nimage_parameter: image\n"
SKELETON = {"Dockerfile": "EXPOSE {{ service_instance.inputs.port }}\n", CI_FILE: DECLARATION}
INSTANCES = {"web-dev": {"port": 8080}, "web-staging": {}, "web-prod": {}}
PLACED = [("web-dev", "dev"), ("web-staging", "staging"), ("web-prod", "prod")]


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return write_workspace(tmp_path / "ws", {"web": PLACED})


def declaring(tmp_path: Path, starters_dir: Path, declaration: str | None = DECLARATION) -> Bundle:
    skeleton = dict(SKELETON)
    if declaration is None:
        del skeleton[CI_FILE]
    else:
        skeleton[CI_FILE] = declaration
    return make_bundle(tmp_path / "bundle", starters_dir, skeleton)


def test_the_scaffold_writes_the_generated_workflow_instead_of_the_declaration(
    tmp_path: Path, starters_dir: Path, project: Project
) -> None:
    bundle = declaring(tmp_path, starters_dir)
    target = tmp_path / "web-src"

    def ci() -> SourceWorkflow:
        return source_workflow(project, "web", PLACED)

    result = scaffold(
        bundle,
        target,
        service="web",
        instances=INSTANCES,
        blueprint="fargate-web-svc",
        version="1.0",
        ci=ci,
    )

    assert result.created == (CI_WORKFLOW, "Dockerfile")
    assert listing(target) == [".github/workflows/deploy.yml", ".pcli-scaffold.json", "Dockerfile"]
    text = (target / CI_WORKFLOW).read_text()
    assert text == source_workflow_text(source_workflow(project, "web", image_parameter="image"))
    jobs = yaml.safe_load(text)["jobs"]
    assert list(jobs) == ["build", "plan", "image", "deploy-dev", "deploy-staging", "deploy-prod"]
    assert jobs["deploy-prod"]["steps"][-2]["run"] == (
        'pcli --workspace workspace svc deploy web --instance web-prod --param "image=$IMAGE" --yes'
    )
    # the same render again: unchanged, as `svc upgrade-code` needs
    again = render_for_service(bundle, "web", INSTANCES, ci=ci)
    assert again[CI_WORKFLOW] == text.encode()
    assert CI_FILE not in again


def test_without_an_image_parameter_the_workflow_deploys_the_spec(
    tmp_path: Path, starters_dir: Path, project: Project
) -> None:
    bundle = declaring(tmp_path, starters_dir, "workflow: github-actions\n")
    assert ci_declaration(bundle) == CiDeclaration("github-actions", None)
    rendered = render_for_service(
        bundle, "web", INSTANCES, ci=lambda: source_workflow(project, "web", PLACED)
    )
    jobs = yaml.safe_load(rendered[CI_WORKFLOW])["jobs"]
    assert list(jobs) == ["plan", "deploy-dev", "deploy-staging", "deploy-prod"]


def test_a_skeleton_without_a_declaration_renders_as_before(
    tmp_path: Path, starters_dir: Path
) -> None:
    bundle = declaring(tmp_path, starters_dir, None)
    assert ci_declaration(bundle) is None
    assert sorted(render_for_service(bundle, "web", INSTANCES)) == ["Dockerfile"]


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("- github-actions\n", "expected a mapping, found list"),
        ("", "expected a mapping, found nothing"),
        ("workflow: [github-actions\n", "invalid YAML"),
        ("workflow: gitlab\n", "workflow must be github-actions, not 'gitlab'"),
        ("image_parameter: image\n", "workflow must be github-actions, and it is missing"),
        (
            "workflow: github-actions\nimage: image\npath: x.yml\n",
            "unknown key(s) image, path (it takes workflow, image_parameter)",
        ),
        (
            "workflow: github-actions\nimage_parameter: img\n",
            (
                "image_parameter 'img' is not an input of the blueprint's service schema "
                "(its inputs: image, port, desired_count, task_size, health_check_path)"
            ),
        ),
        ("workflow: github-actions\nimage_parameter: [image]\n", "image_parameter ['image']"),
    ],
)
def test_a_malformed_declaration_is_a_usage_error_that_shows_the_form(
    tmp_path: Path, starters_dir: Path, declaration: str, message: str
) -> None:
    bundle = declaring(tmp_path, starters_dir, declaration)
    with pytest.raises(UsageError) as raised:
        render_for_service(bundle, "web", INSTANCES)
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith(f"skeleton/{CI_FILE}"), str(raised.value)
    assert message in str(raised.value)
    assert raised.value.hint
    assert not (tmp_path / "web-src").exists()


def test_a_skeleton_with_its_own_deploy_yml_and_a_declaration_is_refused(
    tmp_path: Path, starters_dir: Path
) -> None:
    skeleton = {**SKELETON, CI_WORKFLOW: "name: mine\n"}
    bundle = make_bundle(tmp_path / "bundle", starters_dir, skeleton)
    with pytest.raises(UsageError, match=f"pcli writes {CI_WORKFLOW} from it") as raised:
        render_for_service(bundle, "web", INSTANCES)
    assert raised.value.exit_code == 2


def test_the_scaffolded_workflow_passes_actionlint(
    actionlint: Lint,  # noqa: F811
    tmp_path: Path,
    starters_dir: Path,
    project: Project,
) -> None:
    target = tmp_path / "web-src"
    scaffold(
        declaring(tmp_path, starters_dir),
        target,
        service="web",
        instances=INSTANCES,
        blueprint="fargate-web-svc",
        version="1.0",
        ci=lambda: source_workflow(project, "web", PLACED),
    )
    assert actionlint(target / CI_WORKFLOW) == []
