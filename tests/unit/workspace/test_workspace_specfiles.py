"""Spec files: new files in Proton's shape, edits that keep the user's comments, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from protoncli.errors import InputError, UsageError
from protoncli.specs.model import EnvironmentSpec, ServiceSpec
from protoncli.workspace.specfiles import (
    add_instance,
    environment_document,
    find_instance,
    read_spec,
    remove_instance,
    service_document,
    set_header,
    update_spec,
    write_new_spec,
)

SERVICE_TEXT = """\
# The api service. Owned by team-a.
---
blueprint: fargate-web-svc   # pinned by the platform team
version: '1.0'
proton: ServiceSpec

pipeline:
  unit_test_command: make test   # runs in CodeBuild
  verbose: yes

# One instance per environment.
instances:
  - name: api-dev
    environment: dev
    spec:
      port: 8080
      desired_count: 1   # small
      window: 1:20

  # production
  - name: api-prod
    environment: prod
    spec: {port: 8080, desired_count: 3}

# end of file
"""

SERVICE_AFTER_EDIT = """\
# The api service. Owned by team-a.
---
blueprint: fargate-web-svc   # pinned by the platform team
version: '1.1'
proton: ServiceSpec

pipeline:
  unit_test_command: make test   # runs in CodeBuild
  verbose: yes
  notify: "on"

# One instance per environment.
instances:
  - name: api-dev
    environment: dev
    spec:
      port: 8080
      desired_count: 1   # small
      window: 1:20
      health_check_path: /health

  # production
  - name: api-prod
    environment: prod
    spec: {port: 8080, desired_count: 3}
  - name: api-stage
    environment: stage
    spec:
      port: 80
      mode: "no"

# end of file
"""


def files_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


# --- new spec files -----------------------------------------------------------------------------


def test_new_environment_spec_has_header_keys_first_and_reads_back(tmp_path):
    path = tmp_path / "environments" / "dev.yaml"
    document = environment_document(
        blueprint="vpc-ecs-env",
        version="1.0",
        region="eu-west-1",
        inputs={"vpc_cidr": "10.0.0.0/16", "enable_flow_logs": "yes", "max_azs": 2},
    )

    write_new_spec(path, document)

    assert path.read_text() == (
        "blueprint: vpc-ecs-env\n"
        'version: "1.0"\n'
        "region: eu-west-1\n"
        "proton: EnvironmentSpec\n"
        "spec:\n"
        "  vpc_cidr: 10.0.0.0/16\n"
        '  enable_flow_logs: "yes"\n'
        "  max_azs: 2\n"
    )
    spec, warnings = read_spec(path)
    assert isinstance(spec, EnvironmentSpec)
    assert spec.header == {"blueprint": "vpc-ecs-env", "version": "1.0", "region": "eu-west-1"}
    assert spec.inputs == {"vpc_cidr": "10.0.0.0/16", "enable_flow_logs": "yes", "max_azs": 2}
    assert warnings == []
    assert files_in(path.parent) == ["dev.yaml"]


def test_new_service_spec_lists_instances_and_pipeline_as_proton_does(tmp_path):
    path = tmp_path / "api.yaml"
    document = service_document(
        blueprint="fargate-web-svc",
        version="1.2",
        instances=[("api-dev", "dev", {"port": 8080}), ("api-prod", "prod", {})],
        pipeline={"unit_test_command": "make test"},
    )

    write_new_spec(path, document)

    assert path.read_text() == (
        "blueprint: fargate-web-svc\n"
        'version: "1.2"\n'
        "proton: ServiceSpec\n"
        "pipeline:\n"
        "  unit_test_command: make test\n"
        "instances:\n"
        "  - name: api-dev\n"
        "    environment: dev\n"
        "    spec:\n"
        "      port: 8080\n"
        "  - name: api-prod\n"
        "    environment: prod\n"
    )
    spec, _ = read_spec(path)
    assert isinstance(spec, ServiceSpec)
    assert [(i.name, i.environment, dict(i.inputs)) for i in spec.instances] == [
        ("api-dev", "dev", {"port": 8080}),
        ("api-prod", "prod", {}),
    ]


def test_new_spec_refuses_an_existing_file(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text("# mine\n")
    document = environment_document(blueprint="e", version="1.0", region=None, inputs={})

    with pytest.raises(UsageError) as caught:
        write_new_spec(path, document)

    assert caught.value.message == f"{path}: already exists"
    assert path.read_text() == "# mine\n"
    write_new_spec(path, document, overwrite=True)
    assert path.read_text().startswith("blueprint: e\n")


def test_new_spec_that_is_not_a_valid_spec_is_not_written(tmp_path):
    path = tmp_path / "api.yaml"
    document = service_document(
        blueprint="svc", version="1.0", instances=[("bad name", "dev", {})], pipeline=None
    )

    with pytest.raises(InputError) as caught:
        write_new_spec(path, document)

    assert "instance name 'bad name' is not a valid Proton name" in caught.value.message
    assert caught.value.message.startswith("the new spec would be invalid: ")
    assert caught.value.message.endswith("(nothing written)")
    assert files_in(tmp_path) == []


# --- editing ------------------------------------------------------------------------------------


def edit_everything(document):
    set_header(document, "version", "1.1")
    document["pipeline"]["notify"] = "on"
    find_instance(document, "api-dev")["spec"]["health_check_path"] = "/health"
    add_instance(document, "api-stage", "stage", {"port": 80, "mode": "no"})


def test_update_keeps_comments_order_and_quoting(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SERVICE_TEXT)

    update_spec(path, edit_everything)

    assert path.read_text() == SERVICE_AFTER_EDIT
    assert files_in(tmp_path) == ["api.yaml"]


def test_edited_values_read_back_as_written_by_yaml_1_1(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SERVICE_TEXT)

    update_spec(path, edit_everything)

    data = yaml.safe_load(path.read_text())
    assert data["pipeline"]["verbose"] is True  # untouched: still what the user wrote
    assert data["pipeline"]["notify"] == "on"
    assert data["instances"][0]["spec"]["window"] == 80  # YAML 1.1 sexagesimal, untouched
    assert data["instances"][2]["spec"] == {"port": 80, "mode": "no"}
    spec, _ = read_spec(path)
    assert isinstance(spec, ServiceSpec)
    assert spec.header["version"] == "1.1"


def test_update_without_changes_leaves_the_text_as_it_was(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SERVICE_TEXT)

    update_spec(path, lambda _document: None)

    assert path.read_text() == SERVICE_TEXT


def test_removing_the_last_instance_keeps_the_comments_that_follow_it(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SERVICE_TEXT)

    update_spec(path, lambda document: remove_instance(document, "api-prod"))

    text = path.read_text()
    assert "api-prod" not in text
    assert "# production" not in text
    assert text.endswith("      window: 1:20\n\n# end of file\n")


def test_header_keys_are_added_in_header_order(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_text(
        "# imported from Proton\nproton: EnvironmentSpec\nspec:\n  vpc_cidr: 10.0.0.0/16\n"
    )

    def pin(document):
        set_header(document, "version", "2.0")
        set_header(document, "blueprint", "vpc-ecs-env")

    update_spec(path, pin)

    assert path.read_text() == (
        "# imported from Proton\n"
        "blueprint: vpc-ecs-env\n"
        'version: "2.0"\n'
        "proton: EnvironmentSpec\n"
        "spec:\n"
        "  vpc_cidr: 10.0.0.0/16\n"
    )


def test_update_keeps_the_file_s_own_indentation(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(
        "proton: ServiceSpec\n"
        "instances:\n"
        "- name: api-dev\n"
        "  environment: dev\n"
        "  spec:\n"
        "    port: 8080\n"
    )

    update_spec(path, lambda d: add_instance(d, "api-prod", "prod", {"port": 80}))

    assert path.read_text() == (
        "proton: ServiceSpec\n"
        "instances:\n"
        "- name: api-dev\n"
        "  environment: dev\n"
        "  spec:\n"
        "    port: 8080\n"
        "- name: api-prod\n"
        "  environment: prod\n"
        "  spec:\n"
        "    port: 80\n"
    )


def test_an_edit_that_breaks_the_spec_is_refused_and_the_file_kept(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SERVICE_TEXT)

    with pytest.raises(InputError) as caught:
        update_spec(path, lambda d: d.__setitem__("instances", "none"))

    assert caught.value.message == (
        f"the edited spec would be invalid: {path}:12: instances must be a list of "
        f"{{name, environment, spec}} entries ({path} is unchanged)"
    )
    assert path.read_text() == SERVICE_TEXT
    assert files_in(tmp_path) == ["api.yaml"]


def test_a_spec_that_is_already_broken_is_not_edited(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text("proton: ServiceSpec\ninstances:\n  - name: api\n")

    with pytest.raises(InputError) as caught:
        update_spec(path, lambda d: set_header(d, "version", "1.0"))

    assert caught.value.message == f"{path}:3: instance 'api' has no environment"
    assert path.read_text() == "proton: ServiceSpec\ninstances:\n  - name: api\n"


def test_adding_an_instance_twice_is_refused(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(SERVICE_TEXT)

    with pytest.raises(UsageError) as caught:
        update_spec(path, lambda d: add_instance(d, "api-dev", "dev", {}))

    assert caught.value.message == "service instance 'api-dev' already exists in the spec"
    assert path.read_text() == SERVICE_TEXT


def test_first_instance_goes_into_an_empty_instances_key(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text("proton: ServiceSpec\ninstances:\n")

    update_spec(path, lambda d: add_instance(d, "api-dev", "dev", {}))

    assert path.read_text() == (
        "proton: ServiceSpec\ninstances:\n  - name: api-dev\n    environment: dev\n"
    )


def test_windows_line_ends_are_kept(tmp_path):
    path = tmp_path / "dev.yaml"
    path.write_bytes(b"# dev\r\nversion: '1.0'\r\nproton: EnvironmentSpec\r\nspec:\r\n  a: 1\r\n")

    update_spec(path, lambda d: set_header(d, "version", "1.1"))

    assert path.read_bytes() == (
        b"# dev\r\nversion: '1.1'\r\nproton: EnvironmentSpec\r\nspec:\r\n  a: 1\r\n"
    )


def test_four_space_indentation_is_kept(tmp_path):
    path = tmp_path / "api.yaml"
    path.write_text(
        "proton: ServiceSpec\n"
        "pipeline:\n"
        "    unit_test_command: make test\n"
        "instances:\n"
        "    -   name: api-dev\n"
        "        environment: dev\n"
    )

    update_spec(path, lambda d: add_instance(d, "api-prod", "prod", {"port": 80}))

    assert path.read_text() == (
        "proton: ServiceSpec\n"
        "pipeline:\n"
        "    unit_test_command: make test\n"
        "instances:\n"
        "    -   name: api-dev\n"
        "        environment: dev\n"
        "    -   name: api-prod\n"
        "        environment: prod\n"
        "        spec:\n"
        "            port: 80\n"
    )
