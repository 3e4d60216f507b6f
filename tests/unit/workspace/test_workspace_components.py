"""Components in a workspace: the bundle copied into components/<name>/ and its record."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import InputError, NotFoundError, UsageError
from protoncli.workspace.model import Workspace, init_workspace
from protoncli.workspace.specfiles import ComponentRecord, read_component, write_component


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return init_workspace(tmp_path / "ws", name="team", region="us-east-1", registry=None)


@pytest.fixture
def component_bundle(tmp_path: Path, starters_dir: Path) -> Path:
    bundle = tmp_path / "queue-bundle"
    shutil.copytree(starters_dir / "sqs-queue-component" / "v1", bundle)
    (bundle / ".DS_Store").write_bytes(b"\0noise")
    return bundle


def test_component_round_trip(workspace, component_bundle):
    folder = write_component(
        workspace,
        "queue",
        bundle_dir=component_bundle,
        service="api",
        instance="api-dev",
        environment="dev",
    )

    assert folder == workspace.root / "components" / "queue"
    assert (folder / "component.yaml").read_text() == (
        "# pcli component record: the service instance this component is attached to.\n"
        "service: api\n"
        "instance: api-dev\n"
        "environment: dev\n"
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "cloudformation.yaml",
        "component.yaml",
        "guardrails",  # the starter's rules travel with its copy: deploys check them
        "manifest.yaml",
    ]
    assert (folder / "cloudformation.yaml").read_bytes() == (
        component_bundle / "cloudformation.yaml"
    ).read_bytes()
    assert read_component(workspace, "queue") == ComponentRecord(
        "queue", "api", "api-dev", "dev", folder
    )
    assert workspace.components() == ["queue"]
    assert load_bundle(folder).kind == "component"
    assert sorted(p.name for p in folder.parent.iterdir()) == ["queue"]


def test_existing_component_is_replaced_only_when_asked(workspace, component_bundle):
    options = {"bundle_dir": component_bundle, "service": "api", "instance": "api-dev"}
    write_component(workspace, "queue", environment="dev", **options)

    with pytest.raises(UsageError) as caught:
        write_component(workspace, "queue", environment="prod", **options)
    assert caught.value.message == (
        f"component 'queue' already exists: {workspace.root / 'components' / 'queue'}"
    )

    (component_bundle / "README.md").unlink()
    write_component(workspace, "queue", environment="prod", replace=True, **options)
    folder = workspace.component_dir("queue")
    assert read_component(workspace, "queue").environment == "prod"
    assert not (folder / "README.md").exists()
    assert sorted(p.name for p in folder.parent.iterdir()) == ["queue"]


def test_a_service_instance_takes_one_component(workspace, component_bundle):
    options = {"bundle_dir": component_bundle, "environment": "dev"}
    write_component(workspace, "queue", service="api", instance="api-dev", **options)

    with pytest.raises(UsageError) as caught:
        write_component(workspace, "cache", service="api", instance="api-dev", **options)

    assert caught.value.message == "service instance api/api-dev already has the component 'queue'"
    assert workspace.components() == ["queue"]


def test_a_service_bundle_is_not_a_component(workspace, starters_dir):
    bundle = starters_dir / "fargate-web-svc" / "v1"

    with pytest.raises(UsageError) as caught:
        write_component(
            workspace,
            "queue",
            bundle_dir=bundle,
            service="api",
            instance="api-dev",
            environment="dev",
        )

    assert caught.value.message == f"{bundle}: is a service bundle, not a component bundle"
    assert not workspace.component_dir("queue").exists()


def test_a_bundle_file_named_like_the_record_is_refused(workspace, component_bundle):
    (component_bundle / "component.yaml").write_text("Resources: {}\n")

    with pytest.raises(UsageError) as caught:
        write_component(
            workspace,
            "queue",
            bundle_dir=component_bundle,
            service="api",
            instance="api-dev",
            environment="dev",
        )

    assert caught.value.message.startswith(f"{component_bundle}: has a file named component.yaml")


def test_unknown_component_suggests_a_close_name(workspace, component_bundle):
    write_component(
        workspace,
        "queue",
        bundle_dir=component_bundle,
        service="api",
        instance="api-dev",
        environment="dev",
    )

    with pytest.raises(NotFoundError) as caught:
        read_component(workspace, "queu")

    assert caught.value.message == (
        f"no component named 'queu' in {workspace.root / 'components'} (did you mean 'queue'?)"
    )


def test_bad_component_record_names_file_and_line(workspace):
    folder = workspace.root / "components" / "queue"
    folder.mkdir()
    (folder / "component.yaml").write_text("environment: dev\nservice: 42\ninstance: api-dev\n")

    with pytest.raises(InputError) as caught:
        read_component(workspace, "queue")

    assert caught.value.message == f"{folder / 'component.yaml'}:2: service must be text, not 42"


def test_component_record_without_instance_is_an_error(workspace):
    folder = workspace.root / "components" / "queue"
    folder.mkdir()
    (folder / "component.yaml").write_text("service: api\nenvironment: dev\n")

    with pytest.raises(InputError) as caught:
        read_component(workspace, "queue")

    assert caught.value.message == f"{folder / 'component.yaml'}: missing 'instance:'"
