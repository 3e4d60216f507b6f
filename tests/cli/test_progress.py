"""Deployment progress views: one scripted event stream shown live, as plain lines, as NDJSON."""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console

from protoncli import __version__
from protoncli.cli.progress import (
    PlainView,
    ProgressView,
    change_set_lines,
    change_set_table,
    format_elapsed,
    make_view,
    summarize_failures,
)
from protoncli.cli.progress_live import LiveView
from protoncli.cli.progress_ndjson import NdjsonView
from protoncli.deploy.model import Change, DeployEvent, DeployResult, StackEvent
from protoncli.errors import DeployError

T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
ROLE_REASON = 'Policy "arn:aws:iam::aws:policy/Nope" does not exist [Role] [bold]'
ESC = "\x1b"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class TerminalStream(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def stack_event(
    logical_id: str, resource_type: str, status: str, seconds: float, reason: str | None = None
) -> StackEvent:
    return StackEvent(
        event_id=f"{logical_id}-{status}-{seconds}",
        timestamp=T0 + timedelta(seconds=seconds),
        logical_id=logical_id,
        resource_type=resource_type,
        status=status,
        reason=reason,
    )


def resource(stack: str, description: str, event: StackEvent) -> DeployEvent:
    return DeployEvent("resource", stack, description, event=event)


def cluster_event(status: str, seconds: float) -> StackEvent:
    return stack_event("Cluster", "AWS::ECS::Cluster", status, seconds)


def env_script() -> list[DeployEvent]:
    """dev-env: a successful update with a repeated in-progress event."""
    name, what = "dev-env", "environment dev"
    changes = (
        Change("Add", "Vpc", "AWS::EC2::VPC", None),
        Change("Add", "Subnet", "AWS::EC2::Subnet", None),
        Change("Modify", "Cluster", "AWS::ECS::Cluster", "True"),
    )
    stack = "AWS::CloudFormation::Stack"
    return [
        DeployEvent("start", name, what),
        DeployEvent("changes", name, what, changes=changes),
        resource(name, what, stack_event(name, stack, "UPDATE_IN_PROGRESS", 0)),
        resource(name, what, stack_event("Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", 0)),
        resource(
            name,
            what,
            stack_event("Vpc", "AWS::EC2::VPC", "CREATE_IN_PROGRESS", 0.5, "Resource creation"),
        ),
        resource(name, what, stack_event("Vpc", "AWS::EC2::VPC", "CREATE_COMPLETE", 2.1)),
        resource(name, what, stack_event("Subnet", "AWS::EC2::Subnet", "CREATE_IN_PROGRESS", 3)),
        resource(name, what, stack_event("Subnet", "AWS::EC2::Subnet", "CREATE_COMPLETE", 75)),
        resource(name, what, cluster_event("UPDATE_IN_PROGRESS", 76)),
        resource(name, what, cluster_event("UPDATE_COMPLETE", 79)),
        resource(name, what, stack_event(name, stack, "UPDATE_COMPLETE", 80)),
        DeployEvent("done", name, what, status="UPDATE_COMPLETE"),
    ]


def role_failure() -> StackEvent:
    return stack_event("Role", "AWS::IAM::Role", "CREATE_FAILED", 4, ROLE_REASON)


def queue_cancelled() -> StackEvent:
    return stack_event(
        "Queue", "AWS::SQS::Queue", "CREATE_FAILED", 4.5, "Resource creation cancelled"
    )


def svc_script() -> list[DeployEvent]:
    """dev-api: a create that fails on one resource and rolls back."""
    name, what = "dev-api", "service api in dev"
    changes = (
        Change("Add", "Queue", "AWS::SQS::Queue", None),
        Change("Add", "Role", "AWS::IAM::Role", None),
    )
    stack = "AWS::CloudFormation::Stack"
    return [
        DeployEvent("start", name, what),
        DeployEvent("waiting", name, what, message="UPDATE_IN_PROGRESS on dev-api, waiting"),
        DeployEvent("changes", name, what, changes=changes),
        resource(name, what, stack_event("Queue", "AWS::SQS::Queue", "CREATE_IN_PROGRESS", 1)),
        resource(name, what, stack_event("Role", "AWS::IAM::Role", "CREATE_IN_PROGRESS", 1)),
        resource(name, what, role_failure()),
        resource(name, what, queue_cancelled()),
        resource(
            name,
            what,
            stack_event(name, stack, "ROLLBACK_IN_PROGRESS", 5, "The following failed: [Role]"),
        ),
        DeployEvent(
            "failed",
            name,
            what,
            status="ROLLBACK_COMPLETE",
            failures=(role_failure(), queue_cancelled()),
        ),
    ]


def feed_in_parallel(view: ProgressView, *scripts: Sequence[DeployEvent]) -> None:
    """Feed each script from its own thread, in lock-step so the stacks interleave."""
    steps = max(len(script) for script in scripts)
    barrier = threading.Barrier(len(scripts))

    def feed(script: Sequence[DeployEvent]) -> None:
        for index in range(steps):
            barrier.wait()
            if index < len(script):
                view.on_event(script[index])

    threads = [threading.Thread(target=feed, args=(script,)) for script in scripts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def lines_of_stack(text: str, stack: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(f"{stack}  ")]


# --- NDJSON --------------------------------------------------------------------------------


def test_ndjson_starts_with_version_ends_with_result_and_keeps_each_stack_in_order():
    stream = io.StringIO()
    resources = [{"stack": "dev-env", "status": "UPDATE_COMPLETE"}]
    with NdjsonView(command="env deploy", stream=stream) as view:
        view.note("Rendering environment dev")
        feed_in_parallel(view, env_script(), svc_script())
        view.result(ok=False, exit_code=3, resources=resources)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]

    assert records[0] == {
        "type": "version",
        "schema": "1",
        "pcli": __version__,
        "command": "env deploy",
    }
    assert records[1] == {"type": "note", "message": "Rendering environment dev"}
    assert records[-1] == {"type": "result", "ok": False, "exit_code": 3, "resources": resources}
    assert len(records) == 3 + len(env_script()) + len(svc_script())
    for script in (env_script(), svc_script()):
        stack = script[0].stack_name
        kinds = [r["type"] for r in records if r.get("stack") == stack]
        assert kinds == [event.kind for event in script]


def test_ndjson_event_fields_per_kind():
    stream = io.StringIO()
    with NdjsonView(command="svc deploy", stream=stream) as view:
        for event in svc_script():
            view.on_event(event)
        view.result(ok=False, exit_code=3, resources=[])
    by_type: dict[str, list[dict[str, object]]] = {}
    for line in stream.getvalue().splitlines():
        record = json.loads(line)
        by_type.setdefault(record["type"], []).append(record)

    queue = {"action": "Add", "logical_id": "Queue", "type": "AWS::SQS::Queue"}
    role_change = {"action": "Add", "logical_id": "Role", "type": "AWS::IAM::Role"}
    assert by_type["changes"][0]["changes"] == [
        {**queue, "replacement": None, "details": []},
        {**role_change, "replacement": None, "details": []},
    ]
    assert by_type["changes"][0]["inputs"] is None  # a creation: nothing was deployed before
    assert by_type["waiting"][0]["message"] == "UPDATE_IN_PROGRESS on dev-api, waiting"
    role = {
        "logical_id": "Role",
        "type": "AWS::IAM::Role",
        "status": "CREATE_FAILED",
        "reason": ROLE_REASON,
        "timestamp": "2026-05-01T12:00:04+00:00",
        "physical_id": None,
    }
    assert by_type["resource"][2] == {
        "type": "resource",
        "stack": "dev-api",
        "description": "service api in dev",
        "resource": role,
    }
    failed = by_type["failed"][0]
    assert failed["status"] == "ROLLBACK_COMPLETE"
    assert failed["failures"] == [
        role,
        role
        | {"logical_id": "Queue", "type": "AWS::SQS::Queue"}
        | {
            "reason": "Resource creation cancelled",
            "timestamp": "2026-05-01T12:00:04.500000+00:00",
        },
    ]


def test_ndjson_error_inside_the_view_still_ends_with_a_result_line():
    stream = io.StringIO()

    def deploy() -> None:
        with NdjsonView(command="env deploy", stream=stream) as view:
            view.on_event(DeployEvent("start", "dev-env", "environment dev"))
            raise DeployError("dev-env rolled back")

    with pytest.raises(DeployError):
        deploy()
    records = [json.loads(line) for line in stream.getvalue().splitlines()]

    assert [r["type"] for r in records] == ["version", "start", "result"]
    assert records[-1] == {
        "type": "result",
        "ok": False,
        "exit_code": 3,
        "resources": [],
        "error": "dev-env rolled back",
    }


def test_ndjson_writes_the_version_line_even_with_no_events():
    stream = io.StringIO()
    with NdjsonView(command="env deploy", stream=stream) as view:
        view.result(ok=True, exit_code=0, resources=[])
    types = [json.loads(line)["type"] for line in stream.getvalue().splitlines()]
    assert types == ["version", "result"]


# --- plain lines ---------------------------------------------------------------------------


def test_plain_view_prints_one_line_per_status_change():
    stream, clock = io.StringIO(), FakeClock()
    view = PlainView(stream, clock=clock)
    for event in env_script():
        if event.kind == "done":
            clock.now += 80
        view.on_event(event)

    assert stream.getvalue().splitlines() == [
        "dev-env  Planning environment dev",
        "dev-env  Change set for environment dev: 3 change(s)",
        "    ACTION  LOGICAL ID  TYPE               REPLACEMENT",
        "    Add     Vpc         AWS::EC2::VPC      -",
        "    Add     Subnet      AWS::EC2::Subnet   -",
        "    Modify  Cluster     AWS::ECS::Cluster  True",
        "dev-env  UPDATE_IN_PROGRESS",
        "dev-env  Vpc  AWS::EC2::VPC  CREATE_IN_PROGRESS",
        "dev-env  Vpc  AWS::EC2::VPC  CREATE_COMPLETE (2.1s)",
        "dev-env  Subnet  AWS::EC2::Subnet  CREATE_IN_PROGRESS",
        "dev-env  Subnet  AWS::EC2::Subnet  CREATE_COMPLETE (1m12s)",
        "dev-env  Cluster  AWS::ECS::Cluster  UPDATE_IN_PROGRESS",
        "dev-env  Cluster  AWS::ECS::Cluster  UPDATE_COMPLETE (3.0s)",
        "dev-env  UPDATE_COMPLETE",
        "dev-env  environment dev: UPDATE_COMPLETE in 1m20s",
    ]


def test_plain_view_says_deleting_and_prints_warnings_without_a_stack_prefix():
    stream = io.StringIO()
    view = PlainView(stream, clock=FakeClock())
    view.on_event(DeployEvent("warning", "", "service web", message="services/web.yaml:3: x"))
    view.on_event(DeployEvent("start", "dev-env", "environment dev", status="DELETING"))
    view.on_event(DeployEvent("deleted", "dev-env", "environment dev"))

    assert stream.getvalue().splitlines() == [
        "Warning: services/web.yaml:3: x",
        "dev-env  Deleting environment dev",
        "dev-env  environment dev: DELETE_COMPLETE in 0.0s",
    ]


def test_plain_view_shows_failure_reasons_and_root_causes():
    stream = io.StringIO()
    view = PlainView(stream, clock=FakeClock())
    for event in svc_script():
        view.on_event(event)
    lines = stream.getvalue().splitlines()

    assert "dev-api  Waiting: UPDATE_IN_PROGRESS on dev-api, waiting" in lines
    assert f"dev-api  Role  AWS::IAM::Role  CREATE_FAILED (3.0s)  {ROLE_REASON}" in lines
    assert "dev-api  ROLLBACK_IN_PROGRESS  The following failed: [Role]" in lines
    assert lines[-2:] == [
        "dev-api  service api in dev: ROLLBACK_COMPLETE in 0.0s",
        f"    Role (AWS::IAM::Role) CREATE_FAILED: {ROLE_REASON}",
    ]


def test_plain_view_from_two_threads_keeps_each_stack_in_order_and_has_no_ansi():
    interleaved, env_only, svc_only = io.StringIO(), io.StringIO(), io.StringIO()
    clock = FakeClock()
    with PlainView(interleaved, clock=clock) as view:
        view.note("Rendering 2 stacks")
        feed_in_parallel(view, env_script(), svc_script())
    for stream, script in ((env_only, env_script()), (svc_only, svc_script())):
        single = PlainView(stream, clock=clock)
        for event in script:
            single.on_event(event)
    text = interleaved.getvalue()

    assert text.startswith("Rendering 2 stacks\n")
    assert ESC not in text
    assert lines_of_stack(text, "dev-env") == lines_of_stack(env_only.getvalue(), "dev-env")
    assert lines_of_stack(text, "dev-api") == lines_of_stack(svc_only.getvalue(), "dev-api")
    assert len(text.splitlines()) == 1 + len(env_only.getvalue().splitlines()) + len(
        svc_only.getvalue().splitlines()
    )


def test_plain_view_heartbeat_names_quiet_unfinished_stacks_once_per_period():
    stream, clock = io.StringIO(), FakeClock()
    view = PlainView(stream, clock=clock, heartbeat_seconds=30)
    for event in env_script()[:3]:
        view.on_event(event)
    view.on_event(DeployEvent("no-changes", "dev-other", "environment other"))
    before = stream.getvalue()

    view.heartbeat()
    assert stream.getvalue() == before
    clock.now += 31
    view.heartbeat()
    view.heartbeat()
    assert stream.getvalue()[len(before) :] == "dev-env  still UPDATE_IN_PROGRESS (31.0s)\n"


def test_plain_view_heartbeat_runs_on_its_own_while_the_view_is_open():
    stream = io.StringIO()
    with PlainView(stream, heartbeat_seconds=0.01) as view:
        view.on_event(DeployEvent("start", "dev-env", "environment dev"))
        deadline = time.monotonic() + 5
        while "still" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    assert "dev-env  still PLANNING (" in stream.getvalue()


# --- live view -----------------------------------------------------------------------------


def live_output(*, colour: bool) -> str:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100, no_color=not colour)
    with LiveView(console, refresh_per_second=50) as view:
        view.note("Rendering 2 stacks")
        feed_in_parallel(view, env_script(), svc_script())
    return stream.getvalue()


def final_drawing(output: str) -> str:
    """The last drawing of the live table (what stays on screen), without styles."""
    return ANSI.sub("", output.rsplit("\x1b[2K", 1)[-1])


def test_live_view_shows_every_resource_and_the_failure_reason():
    output = live_output(colour=False)
    final = final_drawing(output)

    assert "Rendering 2 stacks" in output
    assert "Changes to environment dev (dev-env):" in output
    assert "Changes to service api in dev (dev-api):" in output
    assert "environment dev (dev-env)  UPDATE_COMPLETE" in final
    assert "service api in dev (dev-api)  ROLLBACK_COMPLETE" in final
    rows = {line.split()[0]: line.split()[1:4] for line in final.splitlines() if line.strip()}
    assert rows["Vpc"] == ["AWS::EC2::VPC", "CREATE_COMPLETE", "2.1s"]
    assert rows["Subnet"] == ["AWS::EC2::Subnet", "CREATE_COMPLETE", "1m12s"]
    assert rows["Cluster"] == ["AWS::ECS::Cluster", "UPDATE_COMPLETE", "3.0s"]
    assert rows["Queue"][:2] == ["AWS::SQS::Queue", "CREATE_FAILED"]
    assert rows["Role"] == ["AWS::IAM::Role", "CREATE_FAILED", "3.0s"]
    words = " ".join(final.split())
    assert "does not exist [Role] [bold]" in words


def test_live_view_lists_planned_changes_before_any_resource_event():
    clock = FakeClock()
    view = LiveView(Console(file=io.StringIO(), width=100), clock=clock)
    for event in env_script()[:2]:
        view.on_event(event)
    clock.now += 4
    drawing = io.StringIO()
    Console(file=drawing, width=100).print(view.renderable())
    lines = [" ".join(line.split()) for line in drawing.getvalue().splitlines()]

    assert "environment dev (dev-env) CHANGES READY 4.0s" in lines
    assert "Vpc AWS::EC2::VPC pending: Add" in lines
    assert "Cluster AWS::ECS::Cluster pending: Modify (replace)" in lines
    view.on_event(DeployEvent("failed", "dev-env", "environment dev", status="ROLLBACK_FAILED"))
    drawing = io.StringIO()
    Console(file=drawing, width=100).print(view.renderable())
    assert "Vpc AWS::EC2::VPC not started: Add" in [
        " ".join(line.split()) for line in drawing.getvalue().splitlines()
    ]


def test_live_view_after_a_success_without_resource_events_does_not_say_not_started():
    """The sandbox reports stack events only: the planned rows end as done, not "not started"."""
    view = LiveView(Console(file=io.StringIO(), width=100), clock=FakeClock())
    for event in env_script()[:2]:
        view.on_event(event)
    view.on_event(DeployEvent("done", "dev-env", "environment dev", status="CREATE_COMPLETE"))
    drawing = io.StringIO()
    Console(file=drawing, width=100).print(view.renderable())
    lines = [" ".join(line.split()) for line in drawing.getvalue().splitlines()]

    assert "Vpc AWS::EC2::VPC done (no event)" in lines
    assert not [line for line in lines if "not started" in line]


def test_live_view_paused_leaves_a_question_alone_then_draws_again():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=100)
    script = env_script()
    with LiveView(console, refresh_per_second=50) as view:
        for event in script[:2]:
            view.on_event(event)
        with view.paused():
            before = stream.getvalue()
            stream.write("Deploy these changes? [y/N]: ")
            for event in script[2:]:
                view.on_event(event)
            time.sleep(0.1)
            during = stream.getvalue()[len(before) :]
        time.sleep(0.05)
    final = final_drawing(stream.getvalue())

    assert "Changes to environment dev (dev-env):" in ANSI.sub("", before)
    assert during == "Deploy these changes? [y/N]: "
    assert "environment dev (dev-env)  UPDATE_COMPLETE" in final
    assert "Vpc AWS::EC2::VPC CREATE_COMPLETE 2.1s" in [
        " ".join(x.split()) for x in final.splitlines()
    ]


def test_paused_is_harmless_on_plain_and_ndjson_views():
    for view in (PlainView(io.StringIO()), NdjsonView(command="c", stream=io.StringIO())):
        with view, view.paused():
            view.on_event(DeployEvent("start", "dev-env", "environment dev"))


def test_live_view_colours_statuses_unless_no_color():
    assert "\x1b[1;31mCREATE_FAILED" in live_output(colour=True)
    assert "\x1b[1;31m" not in live_output(colour=False)


# --- choosing a view -----------------------------------------------------------------------


def test_make_view_picks_ndjson_live_or_plain(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NO_COLOR")
    assert isinstance(make_view(json_mode=True, command="c", stream=TerminalStream()), NdjsonView)
    assert isinstance(make_view(json_mode=False, command="c", stream=io.StringIO()), PlainView)
    live = make_view(json_mode=False, command="c", stream=TerminalStream())
    assert isinstance(live, LiveView)
    assert live.console.no_color is False
    forced = make_view(json_mode=False, command="c", stream=TerminalStream(), force_plain=True)
    assert isinstance(forced, PlainView)


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CI", "true", PlainView),
        ("CI", "1", PlainView),
        ("CI", "false", LiveView),
        ("CI", "", LiveView),
        ("TERM", "dumb", PlainView),
        ("TERM", "xterm-256color", LiveView),
    ],
)
def test_make_view_on_a_terminal_follows_ci_and_term(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: type
):
    monkeypatch.setenv(name, value)
    assert isinstance(make_view(json_mode=False, command="c", stream=TerminalStream()), expected)


def test_no_color_keeps_the_live_view_without_colour():
    view = make_view(json_mode=False, command="c", stream=TerminalStream())
    assert isinstance(view, LiveView)
    assert view.console.no_color is True


def test_default_streams_ndjson_on_stdout_human_on_stderr(capsys: pytest.CaptureFixture[str]):
    with make_view(json_mode=True, command="env deploy") as view:
        view.result(ok=True, exit_code=0, resources=[])
    with make_view(json_mode=False, command="env deploy") as view:
        view.on_event(DeployEvent("no-changes", "dev-env", "environment dev"))
    captured = capsys.readouterr()

    assert [json.loads(line)["type"] for line in captured.out.splitlines()] == [
        "version",
        "result",
    ]
    assert captured.err == "dev-env  No changes to environment dev\n"


# --- change sets, failures, times ------------------------------------------------------------


def test_change_set_table_goes_to_stderr_with_a_dash_for_unknown_replacement(
    capsys: pytest.CaptureFixture[str],
):
    change_set_table(
        [
            Change("Add", "Vpc", "AWS::EC2::VPC", None),
            Change("Modify", "Cluster", "AWS::ECS::Cluster", "Conditional"),
        ]
    )
    captured = capsys.readouterr()
    rows = [line.split() for line in captured.err.splitlines() if line.strip()]

    assert captured.out == ""
    assert rows[0] == ["ACTION", "LOGICAL", "ID", "TYPE", "REPLACEMENT"]
    assert ["Add", "Vpc", "AWS::EC2::VPC", "-"] in rows
    assert ["Modify", "Cluster", "AWS::ECS::Cluster", "Conditional"] in rows


def test_change_set_lines_are_aligned_plain_text():
    assert change_set_lines([Change("Remove", "OldBucket", "AWS::S3::Bucket", "False")]) == [
        "ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "Remove  OldBucket   AWS::S3::Bucket  False",
    ]


def test_summarize_failures_keeps_root_causes():
    failed = DeployResult(
        "dev-api",
        "service api in dev",
        "ROLLBACK_COMPLETE",
        changed=True,
        failures=(role_failure(), queue_cancelled()),
    )
    assert summarize_failures(failed) == [
        f"dev-api: Role (AWS::IAM::Role) CREATE_FAILED: {ROLE_REASON}"
    ]
    only_cancelled = DeployResult(
        "dev-api",
        "service api in dev",
        "ROLLBACK_COMPLETE",
        changed=True,
        failures=(queue_cancelled(),),
    )
    assert summarize_failures(only_cancelled) == [
        "dev-api: Queue (AWS::SQS::Queue) CREATE_FAILED: Resource creation cancelled"
    ]
    bare = DeployResult("dev-api", "service api in dev", "UPDATE_ROLLBACK_FAILED", changed=True)
    assert summarize_failures(bare) == [
        "dev-api: service api in dev ended in UPDATE_ROLLBACK_FAILED"
    ]
    assert (
        summarize_failures(DeployResult("dev-env", "environment dev", "NO_CHANGES", changed=False))
        == []
    )


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0.0s"), (2.14, "2.1s"), (59.94, "59.9s"), (65, "1m05s"), (3725, "1h02m"), (-1, "0.0s")],
)
def test_format_elapsed(seconds: float, text: str):
    assert format_elapsed(seconds) == text
