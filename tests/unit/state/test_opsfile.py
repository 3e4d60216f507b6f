"""proton-ops.yaml: found in the workspace, read strictly with file:line in every problem, checked
against what the workspace declares, and asked which instances follow a branch."""

from __future__ import annotations

from pathlib import Path

import pytest

from protoncli.errors import ExitCode, UsageError
from protoncli.state.opsfile import (
    check_against,
    find_ops_file,
    read_ops_file,
    unknown_branch_error,
)

PROTON_EXAMPLE = """\
# ./configuration/proton-ops.yaml
sync:
  services:
      frontend-svc:
          alpha:
              branch: dev
              spec: ./frontend-svc/test/frontend-spec.yaml
          gamma:
              branch: pre-prod
              spec: ./frontend-svc/pre-prod/frontend-spec.yaml
"""

TWO_SERVICES = """\
sync:
  services:
    api:
      api-dev:
        branch: dev
      api-prod:
        branch: main
    web:
      web-dev:
        branch: dev
      web-prod:
        branch: main
        spec: specs/web-prod.yaml
"""


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _problem(tmp_path: Path, text: str) -> UsageError:
    path = _write(tmp_path / "proton-ops.yaml", text)
    with pytest.raises(UsageError) as caught:
        read_ops_file(path)
    assert caught.value.exit_code == ExitCode.USAGE
    return caught.value


# --- finding the file -------------------------------------------------------------------------


def test_no_ops_file_is_none(tmp_path):
    _write(tmp_path / "services" / "proton-ops.yaml", PROTON_EXAMPLE)  # not a known location
    assert find_ops_file(tmp_path) is None


@pytest.mark.parametrize(
    "location",
    ["proton-ops.yaml", "configuration/proton-ops.yaml", ".proton/proton-ops.yaml"],
)
def test_the_file_is_found_at_each_known_location(tmp_path, location):
    _write(tmp_path / location, PROTON_EXAMPLE)
    assert find_ops_file(tmp_path) == tmp_path / location


def test_a_folder_with_the_file_name_is_not_the_file(tmp_path):
    (tmp_path / "proton-ops.yaml").mkdir()
    assert find_ops_file(tmp_path) is None


def test_two_ops_files_are_a_usage_error_naming_both(tmp_path):
    _write(tmp_path / "proton-ops.yaml", PROTON_EXAMPLE)
    _write(tmp_path / ".proton" / "proton-ops.yaml", PROTON_EXAMPLE)
    with pytest.raises(UsageError) as caught:
        find_ops_file(tmp_path)
    assert caught.value.message == (
        f"2 service sync files in the workspace: {tmp_path / 'proton-ops.yaml'}, "
        f"{tmp_path / '.proton' / 'proton-ops.yaml'}"
    )
    assert caught.value.hint is not None
    assert "keep one" in caught.value.hint


# --- reading it -------------------------------------------------------------------------------


def test_protons_documented_example_reads(tmp_path):
    path = _write(tmp_path / "configuration" / "proton-ops.yaml", PROTON_EXAMPLE)
    ops = read_ops_file(path)
    assert ops.path == path
    assert [service.name for service in ops.services] == ["frontend-svc"]
    alpha, gamma = ops.entries
    assert (alpha.service, alpha.instance, alpha.branch, alpha.line) == (
        "frontend-svc",
        "alpha",
        "dev",
        5,
    )
    assert (gamma.instance, gamma.branch, gamma.line) == ("gamma", "pre-prod", 8)
    assert ops.branches() == ("dev", "pre-prod")
    assert ops.instances_for("dev") == (("frontend-svc", "alpha"),)
    assert ops.instances_for("pre-prod") == (("frontend-svc", "gamma"),)


def test_the_spec_path_is_recorded_as_written_and_against_the_files_folder(tmp_path):
    path = _write(tmp_path / "configuration" / "proton-ops.yaml", PROTON_EXAMPLE)
    alpha = read_ops_file(path).entry("frontend-svc", "alpha")
    assert alpha is not None
    assert alpha.spec == "./frontend-svc/test/frontend-spec.yaml"
    assert alpha.spec_path == tmp_path / "configuration" / "frontend-svc/test/frontend-spec.yaml"
    assert not alpha.spec_path.exists()  # accepted without being read


def test_an_entry_without_spec_has_none(tmp_path):
    ops = read_ops_file(_write(tmp_path / "proton-ops.yaml", TWO_SERVICES))
    entry = ops.entry("api", "api-dev")
    assert entry is not None
    assert (entry.spec, entry.spec_path) == (None, None)
    assert ops.entry("api", "nope") is None


def test_instances_for_a_branch_across_services_in_file_order(tmp_path):
    ops = read_ops_file(_write(tmp_path / "proton-ops.yaml", TWO_SERVICES))
    assert ops.instances_for("dev") == (("api", "api-dev"), ("web", "web-dev"))
    assert ops.instances_for("main") == (("api", "api-prod"), ("web", "web-prod"))
    assert ops.branches() == ("dev", "main")


def test_a_branch_no_entry_maps_selects_nothing(tmp_path):
    ops = read_ops_file(_write(tmp_path / "proton-ops.yaml", TWO_SERVICES))
    assert ops.instances_for("feature/x") == ()
    assert ops.instances_for("Dev") == ()  # branch names are case-sensitive, as in git


def test_a_branch_with_a_slash_reads(tmp_path):
    text = "sync:\n  services:\n    api:\n      api-dev:\n        branch: release/2024-10\n"
    ops = read_ops_file(_write(tmp_path / "proton-ops.yaml", text))
    assert ops.instances_for("release/2024-10") == (("api", "api-dev"),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "proton-ops.yaml: expected a top-level 'sync:' mapping"),
        ("- a\n- b\n", "proton-ops.yaml: expected a top-level 'sync:' mapping"),
        ("other: 1\n", "proton-ops.yaml:1: expected a top-level 'sync:' mapping"),
        ("sync: yes\n", "proton-ops.yaml:1: expected a top-level 'sync:' mapping"),
        (
            "sync:\n  services: {}\n",
            "proton-ops.yaml:2: 'services:' must map service names to their instances",
        ),
        (
            "sync:\n  services:\n    api:\n",
            (
                "proton-ops.yaml:3: service 'api': expected a mapping of instance names to "
                "{branch: BRANCH}; a service with no instance syncs nothing"
            ),
        ),
        (
            "sync:\n  services:\n    api:\n      api-dev: dev\n",
            "proton-ops.yaml:4: instance 'api/api-dev': expected {branch: BRANCH}",
        ),
        (
            "sync:\n  services:\n    api:\n      api-dev:\n        spec: a.yaml\n",
            "proton-ops.yaml:4: instance 'api/api-dev': 'branch:' is missing or empty",
        ),
        (
            "sync:\n  services:\n    api:\n      api-dev:\n        branch:\n",
            "proton-ops.yaml:5: instance 'api/api-dev': 'branch:' is missing or empty",
        ),
        (
            "sync:\n  services:\n    api:\n      api-dev:\n        branch: 2024\n",
            (
                "proton-ops.yaml:5: instance 'api/api-dev': branch must be non-empty text, "
                "not 2024 (put it in quotes)"
            ),
        ),
        (
            (
                "sync:\n  services:\n    api:\n      api-dev:\n        branch: dev\n"
                "        spec: [a]\n"
            ),
            (
                "proton-ops.yaml:6: instance 'api/api-dev': spec must be non-empty text, "
                "not ['a'] (put it in quotes)"
            ),
        ),
        (
            (
                "sync:\n  services:\n    api:\n      api-dev:\n        branch: dev\n"
                "        brnach: x\n"
            ),
            (
                "proton-ops.yaml:6: unknown key 'brnach' (did you mean 'branch'?); "
                "expected branch, spec"
            ),
        ),
        (
            "sync:\n  service:\n    api: {}\n",
            "proton-ops.yaml:2: 'services:' must map service names to their instances",
        ),
        (
            "sync:\n  services:\n    my api:\n      api-dev:\n        branch: dev\n",
            "proton-ops.yaml:3: service name 'my api': must match",
        ),
        (
            "sync:\n  services:\n    api:\n      -dev:\n        branch: dev\n",
            "proton-ops.yaml:4: instance name '-dev': must match",
        ),
    ],
)
def test_each_problem_names_the_file_and_line(tmp_path, text, expected):
    error = _problem(tmp_path, text)
    shown = "\n".join([error.message, *error.details])
    assert f"{tmp_path}/{expected}" in shown
    assert error.hint is not None
    assert "sync: {services: {SERVICE: {INSTANCE: {branch: BRANCH" in error.hint


def test_every_problem_of_the_file_is_reported_at_once_in_line_order(tmp_path):
    text = """\
sync:
  services:
    api:
      api-dev:
        branch: 7
      bad name:
        branch: dev
    web:
      web-dev:
        spec: x.yaml
  extra: 1
"""
    error = _problem(tmp_path, text)
    source = tmp_path / "proton-ops.yaml"
    assert error.message == f"{source}: 4 problems"
    assert [detail.split(": ", 1)[0] for detail in error.details] == [
        f"{source}:5",
        f"{source}:6",
        f"{source}:9",
        f"{source}:11",
    ]
    assert "unknown key 'extra'" in error.details[3]


def test_invalid_yaml_is_a_usage_error_with_the_line(tmp_path):
    error = _problem(tmp_path, "sync:\n  services:\n    api: [unclosed\n")
    assert error.message.startswith(f"{tmp_path / 'proton-ops.yaml'}:")
    assert "invalid YAML" in error.message


def test_a_name_longer_than_protons_limit_is_refused(tmp_path):
    name = "a" * 101
    error = _problem(tmp_path, f"sync:\n  services:\n    {name}:\n      x:\n        branch: dev\n")
    assert error.message.startswith(f"{tmp_path / 'proton-ops.yaml'}:3: service name")
    assert "is 101 characters long" in error.message


# --- against the workspace ----------------------------------------------------------------------


def test_names_the_workspace_declares_pass(tmp_path):
    ops = read_ops_file(_write(tmp_path / "proton-ops.yaml", TWO_SERVICES))
    check_against(
        ops, {"api": {"api-dev", "api-prod"}, "web": {"web-dev", "web-prod", "web-qa"}, "db": set()}
    )


def test_every_unknown_service_and_instance_is_listed_in_one_error(tmp_path):
    source = _write(tmp_path / "proton-ops.yaml", TWO_SERVICES)
    ops = read_ops_file(source)
    with pytest.raises(UsageError) as caught:
        check_against(ops, {"api": {"api-dev", "api-staging"}, "webapp": {"webapp-dev"}})
    error = caught.value
    assert error.exit_code == ExitCode.USAGE
    assert error.message == f"{source}: 2 problems"
    assert error.details == [
        (
            f"{source}:6: service 'api' has no instance 'api-prod' (its instances: api-dev, "
            "api-staging)"
        ),
        f"{source}:8: service 'web' is not in the workspace (did you mean 'webapp'?)",
    ]
    assert error.hint is not None
    assert error.hint.startswith("the workspace declares services: api, webapp;")


def test_one_unknown_name_is_the_message_itself(tmp_path):
    source = _write(tmp_path / "proton-ops.yaml", PROTON_EXAMPLE)
    with pytest.raises(UsageError) as caught:
        check_against(read_ops_file(source), {"frontend-svc": {"alpha"}})
    assert caught.value.message == (
        f"{source}:8: service 'frontend-svc' has no instance 'gamma' (its instances: alpha)"
    )
    assert caught.value.details == []


def test_a_long_list_of_declared_names_is_cut_short(tmp_path):
    source = _write(tmp_path / "proton-ops.yaml", PROTON_EXAMPLE)
    declared = {f"svc-{n:02}": {"x"} for n in range(25)}
    with pytest.raises(UsageError) as caught:
        check_against(read_ops_file(source), declared)
    assert caught.value.hint is not None
    assert "svc-19 and 5 more;" in caught.value.hint
    assert "svc-20" not in caught.value.hint


# --- a branch no entry maps ---------------------------------------------------------------------


def test_the_unknown_branch_error_names_the_known_branches(tmp_path):
    source = _write(tmp_path / "proton-ops.yaml", TWO_SERVICES)
    error = unknown_branch_error(read_ops_file(source), "mian")
    assert isinstance(error, UsageError)
    assert error.exit_code == ExitCode.USAGE
    assert error.message == (
        f"{source}: no service instance is mapped to branch 'mian' (did you mean 'main'?)"
    )
    assert error.hint == "branches in the file: dev, main"
