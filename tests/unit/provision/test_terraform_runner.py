"""The Terraform runner against a real terraform (offline: `terraform_data` and the local
backend), and its parsing on literal JSON lines."""

from __future__ import annotations

import shutil
import threading
import time
from datetime import UTC
from pathlib import Path

import pytest

from protoncli.deploy.model import StackEvent
from protoncli.errors import ExitCode, PcliError, UsageError
from protoncli.provision.terraform import (
    TERRAFORM_VERSIONS,
    Terraform,
    TerraformFailedError,
    TerraformInterruptedError,
    TerraformLockedError,
    TerraformRun,
    _version_of,
    find_terraform,
)
from protoncli.provision.terraform_json import (
    Outcome,
    failed_provider,
    hook_event,
    is_provider_failure,
    parse_diagnostic,
    parse_line,
    parse_lock_info,
    parse_timestamp,
    plan_from_show,
    resource_type_of,
    string_outputs,
)

pytestmark = [
    pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed"),
    pytest.mark.terraform,
]

CONFIG = """
variable "a_input" {
  default = "one"
}
variable "b_trigger" {
  default = "first"
}
resource "terraform_data" "a" {
  input = var.a_input
}
resource "terraform_data" "b" {
  input            = "fixed"
  triggers_replace = [var.b_trigger]
}
output "name" {
  value = terraform_data.a.output
}
output "port" {
  value = 80
}
output "enabled" {
  value = true
}
output "token" {
  value     = "s3cret"
  sensitive = true
}
output "zones" {
  value = ["a", "b"]
}
"""

SLOW = """
resource "terraform_data" "slow" {
  input = "x"
  provisioner "local-exec" {
    command = "sleep 30"
  }
}
"""


class Recorder:
    def __init__(self) -> None:
        self.events: list[StackEvent] = []
        self.lines: list[str] = []


def make_run(
    workdir: Path,
    recorder: Recorder | None = None,
    cancel: threading.Event | None = None,
    **config: str,
) -> TerraformRun:
    recorder = recorder or Recorder()
    if config:
        (workdir / "main.tf").write_text(config.get("main", CONFIG))
        (workdir / "terraform.tfvars").write_text(
            "".join(f'{k} = "{v}"\n' for k, v in config.items() if k != "main")
        )
    return TerraformRun(
        find_terraform(),
        workdir,
        env={},
        on_event=recorder.events.append,
        on_line=recorder.lines.append,
        cancel=cancel,
    )


@pytest.fixture
def applied(tmp_path: Path) -> tuple[TerraformRun, Recorder]:
    """CONFIG initialised, planned and applied in tmp_path."""
    recorder = Recorder()
    run = make_run(tmp_path, recorder, main=CONFIG)
    run.init(None)
    run.plan()
    run.apply()
    return run, recorder


def fake_terraform(folder: Path, output: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "terraform"
    script.write_text(f"#!/bin/sh\necho '{output}'\n")
    script.chmod(0o755)
    return script


# --- finding terraform ----------------------------------------------------------------------


def test_finds_the_installed_terraform():
    found = find_terraform()
    assert isinstance(found, Terraform)
    assert Path(found.path).name == "terraform"
    assert found.version.startswith("1.")
    before = _version_of.cache_info().hits
    assert find_terraform() == found
    assert _version_of.cache_info().hits == before + 1  # asked once per binary


def test_an_old_terraform_named_by_pcli_terraform_is_refused(tmp_path):
    script = fake_terraform(tmp_path / "old", '{"terraform_version":"1.5.7"}')
    with pytest.raises(PcliError) as caught:
        find_terraform({"PCLI_TERRAFORM": str(script), "PATH": ""})
    assert "1.5.7" in caught.value.message
    assert TERRAFORM_VERSIONS in caught.value.message
    assert "PCLI_TERRAFORM" in (caught.value.hint or "")


def test_an_old_terraform_on_path_is_refused(tmp_path):
    fake_terraform(tmp_path / "bin", '{"terraform_version":"1.5.7"}')
    with pytest.raises(PcliError, match=r"version 1\.5\.7; pcli needs Terraform >= 1\.10\.0"):
        find_terraform({"PATH": str(tmp_path / "bin")})


def test_a_terraform_2_is_refused(tmp_path):
    fake_terraform(tmp_path / "two", '{"terraform_version":"2.0.0"}')
    with pytest.raises(PcliError, match=r"2\.0\.0"):
        find_terraform({"PATH": str(tmp_path / "two")})


def test_a_terraform_that_gives_no_version_is_refused(tmp_path):
    fake_terraform(tmp_path / "odd", "not json")
    with pytest.raises(PcliError, match="cannot tell the version of terraform"):
        find_terraform({"PATH": str(tmp_path / "odd")})


def test_missing_terraform_says_how_to_install_it(tmp_path):
    with pytest.raises(PcliError) as caught:
        find_terraform({"PATH": str(tmp_path)})
    assert caught.value.message.startswith("terraform is not installed (pcli needs Terraform")
    assert TERRAFORM_VERSIONS in caught.value.message
    assert "https://developer.hashicorp.com/terraform/install" in (caught.value.hint or "")


def test_pcli_terraform_naming_nothing_is_refused(tmp_path):
    with pytest.raises(PcliError, match=r"PCLI_TERRAFORM names .*nothing-here"):
        find_terraform({"PCLI_TERRAFORM": str(tmp_path / "nothing-here"), "PATH": ""})


# --- init, plan, apply ----------------------------------------------------------------------


def test_init_and_plan_give_add_changes(tmp_path):
    recorder = Recorder()
    run = make_run(tmp_path, recorder, main=CONFIG)
    run.init(None)
    plan = run.plan()
    assert plan.has_changes
    assert plan.summary == "Plan: 2 to add, 0 to change, 0 to destroy."
    rows = {(c.action, c.logical_id, c.resource_type, c.replacement) for c in plan.changes}
    assert rows == {
        ("Add", "terraform_data.a", "terraform_data", None),
        ("Add", "terraform_data.b", "terraform_data", None),
    }
    assert (tmp_path / "pcli.tfplan").is_file()
    assert "terraform_data.a: Plan to create" in recorder.lines
    assert not recorder.events


def test_apply_streams_events_per_resource(applied):
    _, recorder = applied
    by_resource: dict[str, list[StackEvent]] = {}
    for event in recorder.events:
        by_resource.setdefault(event.logical_id, []).append(event)
    assert set(by_resource) == {"terraform_data.a", "terraform_data.b"}
    for events in by_resource.values():
        assert [e.status for e in events] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
        assert {e.resource_type for e in events} == {"terraform_data"}
        assert events[1].physical_id
        assert events[0].physical_id is None
        assert all(e.timestamp.tzinfo is UTC for e in events)
    assert [e.event_id for e in recorder.events] == ["1", "2", "3", "4"]
    assert any(line.startswith("Apply complete!") for line in recorder.lines)


def test_a_plan_with_nothing_to_do(applied):
    run, _ = applied
    plan = run.plan()
    assert not plan.has_changes
    assert plan.changes == ()
    assert plan.summary == "No changes."


def test_input_change_modifies_and_trigger_change_replaces(applied, tmp_path):
    run, recorder = applied
    (tmp_path / "terraform.tfvars").write_text('a_input = "two"\nb_trigger = "second"\n')
    plan = run.plan()
    assert plan.has_changes
    rows = {c.logical_id: (c.action, c.replacement) for c in plan.changes}
    # terraform_data updates `input` in place; `triggers_replace` replaces it
    assert rows == {"terraform_data.a": ("Modify", "False"), "terraform_data.b": ("Modify", "True")}
    recorder.events.clear()
    run.apply()
    statuses = {(e.logical_id, e.status) for e in recorder.events}
    assert ("terraform_data.a", "UPDATE_COMPLETE") in statuses
    # Terraform applies a replacement as a delete and a create (create first with
    # create_before_destroy), each reported as it is
    assert ("terraform_data.b", "DELETE_COMPLETE") in statuses
    assert ("terraform_data.b", "CREATE_COMPLETE") in statuses


def test_an_output_only_change_has_changes_without_rows(applied, tmp_path):
    run, _ = applied
    with (tmp_path / "main.tf").open("a") as config:
        config.write('output "extra" {\n  value = "x"\n}\n')
    plan = run.plan()
    assert plan.has_changes
    assert plan.changes == ()


def test_outputs_and_string_outputs(applied):
    run, _ = applied
    raw = run.outputs()
    assert raw == {
        "name": "one",
        "port": 80,
        "enabled": True,
        "token": "s3cret",
        "zones": ["a", "b"],
    }
    with pytest.raises(UsageError) as caught:
        string_outputs(raw)
    assert "zones" in caught.value.message
    assert "list" in caught.value.message
    assert "jsonencode" in (caught.value.hint or "")
    del raw["zones"]
    assert string_outputs(raw) == {
        "name": "one",
        "port": "80",
        "enabled": "true",
        "token": "s3cret",
    }


def test_outputs_of_an_empty_state(tmp_path):
    run = make_run(tmp_path, main=CONFIG)
    run.init(None)
    assert run.outputs() == {}


def test_destroy_plan_removes_everything(applied):
    run, recorder = applied
    plan = run.destroy_plan()
    assert {(c.action, c.logical_id) for c in plan.changes} == {
        ("Remove", "terraform_data.a"),
        ("Remove", "terraform_data.b"),
    }
    recorder.events.clear()
    run.apply()
    assert {e.status for e in recorder.events} == {"DELETE_IN_PROGRESS", "DELETE_COMPLETE"}
    assert run.outputs() == {}


# --- failures -------------------------------------------------------------------------------

FAILING = """
resource "terraform_data" "good" {
  input = "ok"
}
resource "terraform_data" "bad" {
  input = "x"
  provisioner "local-exec" {
    command = "echo broken; exit 3"
  }
}
"""


def test_a_failing_apply_names_the_resource(tmp_path):
    recorder = Recorder()
    run = make_run(tmp_path, recorder, main=FAILING)
    run.init(None)
    run.plan()
    with pytest.raises(TerraformFailedError) as caught:
        run.apply()
    error = caught.value
    assert error.exit_code == ExitCode.DEPLOY_FAILED
    assert error.message == "terraform apply failed: 1 resource(s) failed"
    assert [f.logical_id for f in error.failures] == ["terraform_data.bad"]
    assert error.failures[0].status == "CREATE_FAILED"
    assert error.failures[0].resource_type == "terraform_data"
    assert "exit status 3" in (error.failures[0].reason or "")
    assert error.details[0].startswith(
        "terraform_data.bad (terraform_data): local-exec provisioner error: "
    )
    statuses = {(e.logical_id, e.status) for e in recorder.events}
    assert ("terraform_data.bad", "CREATE_FAILED") in statuses
    assert ("terraform_data.good", "CREATE_COMPLETE") in statuses


def test_a_failing_precondition_fails_the_plan(tmp_path):
    config = """
variable "ok" {
  default = false
}
resource "terraform_data" "checked" {
  input = "x"
  lifecycle {
    precondition {
      condition     = var.ok
      error_message = "ok must be true."
    }
  }
}
"""
    run = make_run(tmp_path, main=config)
    run.init(None)
    with pytest.raises(TerraformFailedError) as caught:
        run.plan()
    assert "terraform plan failed" in caught.value.message
    assert caught.value.message == "terraform plan failed: Resource precondition failed"
    assert caught.value.details == [
        (
            'main.tf line 9, in resource "terraform_data" "checked": '
            "Resource precondition failed: ok must be true."
        )
    ]


def test_an_invalid_configuration_fails_init_quoting_the_error(tmp_path):
    run = make_run(tmp_path, main='resource "terraform_data" "x" {\n  input =\n}\n')
    with pytest.raises(PcliError) as caught:
        run.init(None)
    assert "terraform init failed in" in caught.value.message
    assert "Invalid expression" in caught.value.message


def test_a_provider_that_cannot_be_installed_suggests_a_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    cli_config = tmp_path / "cli.tfrc"
    cli_config.write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
    )
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(cli_config))
    work = tmp_path / "work"
    work.mkdir()
    config = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'
    run = make_run(work, main=config)
    with pytest.raises(PcliError) as caught:
        run.init(None)
    assert "could not install hashicorp/aws" in caught.value.message
    assert "Failed to query available provider packages" in caught.value.message
    hint = caught.value.hint or ""
    assert "filesystem_mirror" in hint
    assert "TF_CLI_CONFIG_FILE" in hint
    assert "terraform providers mirror" in hint


# --- interruption and locks -----------------------------------------------------------------


def start_slow_apply(
    workdir: Path, cancel: threading.Event
) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    """An apply of SLOW running in a thread; the event is set once the resource started."""
    started = threading.Event()
    raised: list[BaseException] = []

    def on_event(event: StackEvent) -> None:
        if event.status == "CREATE_IN_PROGRESS":
            started.set()

    run = make_run(workdir, main=SLOW)
    run.on_event = on_event
    run.cancel = cancel
    run.init(None)
    run.plan()

    def target() -> None:
        try:
            run.apply()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            raised.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, started, raised


def test_cancel_stops_terraform_and_releases_its_lock(tmp_path):
    cancel = threading.Event()
    thread, started, raised = start_slow_apply(tmp_path, cancel)
    assert started.wait(20)
    began = time.monotonic()
    threading.Timer(0.5, cancel.set).start()
    thread.join(40)
    assert time.monotonic() - began < 15
    assert len(raised) == 1
    error = raised[0]
    assert isinstance(error, TerraformInterruptedError)
    assert error.exit_code == ExitCode.INTERRUPTED
    assert "terraform apply was stopped" in error.message
    assert "released its state lock" in error.message
    assert not (tmp_path / ".terraform.tfstate.lock.info").exists()
    make_run(tmp_path).plan()  # the state is not locked
    with pytest.raises(TerraformInterruptedError, match="was not started"):
        make_run(tmp_path, cancel=cancel).plan()


def test_ctrl_c_in_the_reading_loop_stops_terraform(tmp_path):
    def on_event(event: StackEvent) -> None:
        if event.status == "CREATE_IN_PROGRESS":
            raise KeyboardInterrupt

    run = make_run(tmp_path, main=SLOW)
    run.on_event = on_event
    run.init(None)
    run.plan()
    began = time.monotonic()
    with pytest.raises(TerraformInterruptedError) as caught:
        run.apply()
    assert time.monotonic() - began < 15
    assert caught.value.exit_code == 130


def test_an_error_in_a_callback_stops_terraform(tmp_path):
    def on_event(event: StackEvent) -> None:
        raise RuntimeError("renderer broke")

    run = make_run(tmp_path, main=SLOW)
    run.on_event = on_event
    run.init(None)
    run.plan()
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="renderer broke"):
        run.apply()
    assert time.monotonic() - began < 15


def test_a_held_lock_names_its_holder(tmp_path):
    cancel = threading.Event()
    thread, started, raised = start_slow_apply(tmp_path, cancel)
    try:
        assert started.wait(20)
        with pytest.raises(TerraformLockedError) as caught:
            make_run(tmp_path).plan(lock_timeout="0s")
    finally:
        cancel.set()
        thread.join(40)
    error = caught.value
    assert error.lock is not None
    assert error.lock.who
    assert error.lock.created
    assert error.lock.operation == "OperationTypeApply"
    assert f"locked by {error.lock.who} since {error.lock.created}" in error.message
    assert f"terraform force-unlock {error.lock.lock_id} in {tmp_path}" in (error.hint or "")
    assert isinstance(raised[0], TerraformInterruptedError)


def test_terraform_that_does_not_stop_is_killed(tmp_path, monkeypatch):
    script = tmp_path / "stubborn"
    script.write_text("#!/bin/sh\ntrap '' INT\nsleep 30\n")
    script.chmod(0o755)
    monkeypatch.setattr(TerraformRun, "STOP_GRACE_SECONDS", 1.0)
    cancel = threading.Event()
    run = TerraformRun(
        Terraform(str(script), "1.11.0"), tmp_path, env={}, on_event=print, cancel=cancel
    )
    threading.Timer(0.5, cancel.set).start()
    began = time.monotonic()
    with pytest.raises(TerraformInterruptedError) as caught:
        run.outputs()
    assert time.monotonic() - began < 10
    assert "did not stop in time and was killed; its state lock may be held" in (
        caught.value.message
    )
    assert "terraform force-unlock LOCK_ID" in (caught.value.hint or "")


def test_a_lock_not_released_on_interruption_is_named(tmp_path):
    run = make_run(tmp_path)
    detail = (
        "Error message: network down\nLock Info:\n  ID:        abc-123\n"
        "  Path:      bucket/key\n  Who:       ci@runner\n  Created:   2026-01-01\n"
    )
    message = {
        "@level": "error",
        "@message": "Error: Error releasing the state lock",
        "type": "diagnostic",
        "diagnostic": {
            "severity": "error",
            "summary": "Error releasing the state lock",
            "detail": detail,
        },
    }
    error = run._interrupted("apply", Outcome(returncode=1, messages=[message]), killed=False)
    assert "could not release its state lock (lock abc-123, held by ci@runner)" in error.message
    assert (
        error.hint == f"if no other run is using it: terraform force-unlock abc-123 in {tmp_path}"
    )
    assert error.lock is not None
    assert error.lock.path == "bucket/key"


# --- parsing, on literal lines --------------------------------------------------------------

RESOURCE = (
    '{"addr":"module.net.aws_vpc.main","module":"module.net","resource":"aws_vpc.main",'
    '"implied_provider":"aws","resource_type":"aws_vpc","resource_name":"main",'
    '"resource_key":null}'
)
APPLY_ERRORED = (
    '{"@level":"info","@message":"module.net.aws_vpc.main: Modifications errored after 2s",'
    '"@module":"terraform.ui","@timestamp":"2026-12-07T07:42:26.521363123Z",'
    f'"hook":{{"resource":{RESOURCE},"action":"replace","elapsed_seconds":2}},'
    '"type":"apply_errored"}'
)
DIAGNOSTIC = (
    '{"@level":"error","@message":"Error: creating VPC","@module":"terraform.ui",'
    '"@timestamp":"2026-12-07T07:42:26.522998Z","diagnostic":{"severity":"error",'
    '"summary":"creating VPC","detail":"UnauthorizedOperation: no\\nsecond line",'
    '"address":"module.net.aws_vpc.main","range":{"filename":"main.tf"}},"type":"diagnostic"}'
)


def test_hook_event_of_an_apply_errored_line():
    message = parse_line(APPLY_ERRORED)
    assert message is not None
    event = hook_event(message, "7")
    assert event is not None
    assert event.event_id == "7"
    assert event.logical_id == "module.net.aws_vpc.main"
    assert event.resource_type == "aws_vpc"
    assert event.status == "UPDATE_FAILED"  # a replacement
    assert event.reason == "module.net.aws_vpc.main: Modifications errored after 2s"
    assert event.physical_id is None
    assert event.timestamp.isoformat() == "2026-12-07T07:42:26.521363+00:00"


def test_hook_event_ignores_other_lines_and_reads():
    assert hook_event({"type": "planned_change"}, "1") is None
    read = {"type": "apply_start", "hook": {"action": "read", "resource": {"addr": "x"}}}
    assert hook_event(read, "1") is None
    assert parse_line("Initializing the backend...") is None
    assert parse_line("{not json") is None


def test_parse_diagnostic_with_an_address():
    message = parse_line(DIAGNOSTIC)
    assert message is not None
    diagnostic = parse_diagnostic(message)
    assert diagnostic is not None
    assert diagnostic.address == "module.net.aws_vpc.main"
    assert diagnostic.text() == "creating VPC: UnauthorizedOperation: no second line"
    assert parse_diagnostic({"type": "log"}) is None


def test_a_failed_apply_outcome_names_the_resource(tmp_path):
    errored = parse_line(APPLY_ERRORED)
    diagnostic = parse_line(DIAGNOSTIC)
    assert errored is not None
    assert diagnostic is not None
    run = make_run(tmp_path)
    event = hook_event(errored, "1")
    assert event is not None
    outcome = Outcome(returncode=1, messages=[errored, diagnostic])
    error = run._failure("apply", outcome, [event], {})
    assert isinstance(error, TerraformFailedError)
    assert error.details == [
        "module.net.aws_vpc.main (aws_vpc): creating VPC: UnauthorizedOperation: no second line"
    ]
    assert error.failures[0].reason == "creating VPC: UnauthorizedOperation: no second line"


def test_a_diagnostic_for_a_resource_not_started_is_a_failure(tmp_path):
    diagnostic = parse_line(DIAGNOSTIC)
    assert diagnostic is not None
    error = make_run(tmp_path)._failure("plan", Outcome(returncode=1, messages=[diagnostic]))
    assert isinstance(error, TerraformFailedError)
    assert error.failures[0].logical_id == "module.net.aws_vpc.main"
    assert error.failures[0].resource_type == "aws_vpc"
    assert error.failures[0].status == "UPDATE_FAILED"


def test_parse_lock_info():
    detail = (
        "Error message: resource temporarily unavailable\nLock Info:\n"
        "  ID:        70fca67f-df4e-05f3-a0e0-09e4f3dd7f22\n  Path:      terraform.tfstate\n"
        "  Operation: OperationTypeApply\n  Who:       root@vm\n  Version:   1.11.4\n"
        "  Created:   2026-12-07 07:42:29.144987922 +0000 UTC\n  Info:      \n\n\n"
        "Terraform acquires a state lock to protect the state"
    )
    lock = parse_lock_info(detail)
    assert lock is not None
    assert lock.lock_id == "70fca67f-df4e-05f3-a0e0-09e4f3dd7f22"
    assert lock.who == "root@vm"
    assert lock.path == "terraform.tfstate"
    assert lock.created == "2026-12-07 07:42:29.144987922 +0000 UTC"
    assert parse_lock_info("no lock here") is None


def test_failed_provider_names_it():
    text = (
        "Error: Failed to query available provider packages\n\n"
        "Could not retrieve the list of available versions for provider hashicorp/aws:\n"
        "could not connect to registry.terraform.io: failed to request discovery\n"
    )
    assert is_provider_failure(text)
    assert failed_provider(text) == "hashicorp/aws"
    installing = (
        "Error: Failed to install provider\n\nError while installing hashicorp/random v3.6.0"
    )
    assert failed_provider(installing) == "hashicorp/random"
    assert not is_provider_failure("Error: Unsupported argument")


def test_plan_from_show_maps_actions():
    document = {
        "resource_changes": [
            {"address": "a.x", "type": "a", "change": {"actions": ["create"]}},
            {"address": "b.x", "type": "b", "change": {"actions": ["update"]}},
            {"address": "c.x", "type": "c", "change": {"actions": ["delete"]}},
            {"address": "d.x", "type": "d", "change": {"actions": ["delete", "create"]}},
            {"address": "e.x", "type": "e", "change": {"actions": ["create", "delete"]}},
            {"address": "f.x", "type": "f", "change": {"actions": ["no-op"]}},
            {"address": "data.g.x", "type": "g", "change": {"actions": ["read"]}},
        ],
        "output_changes": {"o": {"actions": ["no-op"]}},
    }
    plan = plan_from_show(document, "Plan: 1 to add, 3 to change, 1 to destroy.")
    assert [(c.action, c.logical_id, c.replacement) for c in plan.changes] == [
        ("Add", "a.x", None),
        ("Modify", "b.x", "False"),
        ("Remove", "c.x", None),
        ("Modify", "d.x", "True"),
        ("Modify", "e.x", "True"),
    ]
    assert plan.has_changes
    outputs_only = plan_from_show({"output_changes": {"o": {"actions": ["create"]}}}, "x")
    assert outputs_only.has_changes
    assert outputs_only.changes == ()
    assert plan_from_show({}, "Plan: 0 to add").summary == "No changes."


def test_string_outputs_refuse_maps_and_null():
    with pytest.raises(UsageError, match="output config is a map"):
        string_outputs({"config": {"a": 1}})
    with pytest.raises(UsageError, match="output missing is a null"):
        string_outputs({"missing": None})
    assert string_outputs({"ratio": 0.5, "off": False}) == {"ratio": "0.5", "off": "false"}


def test_small_helpers():
    assert resource_type_of('module.a.module.b.aws_s3_bucket.logs["x"]') == "aws_s3_bucket"
    assert resource_type_of("data.aws_region.current") == "aws_region"
    assert resource_type_of("oops") == ""
    assert parse_timestamp("2026-12-07T07:42:26Z").tzinfo is UTC
    assert parse_timestamp(None).tzinfo is UTC
