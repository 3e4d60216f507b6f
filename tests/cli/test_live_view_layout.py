"""The live view at 80 x 24: what it draws fits the terminal, whatever the number of stacks and
resources, and what it writes is bounded by the screen, not by the deployment's size.

Scripted events go to a LiveView on a console that says it is an 80 x 24 terminal; what it
writes is replayed on a small screen (tests/cli/test_live_view_screen.py) that counts the lines
wider than the terminal and keeps the scrollback a person could scroll back to.
"""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import UTC, datetime, timedelta

from rich.console import Console
from tests.cli.test_live_view_screen import screen_of

from protoncli.cli.progress_live import LiveView
from protoncli.deploy.model import Change, DeployEvent, StackEvent

ROWS, COLUMNS = 24, 80
T0 = datetime(2026, 5, 1, 12, 0, 0, tzinfo=UTC)
STACK_TYPE = "AWS::CloudFormation::Stack"
MORE = re.compile(r"^\s*… and (\d+) more(?: \((\d+) done\))?$")
TITLE = re.compile(r"^service instance api/i(\d+) \(")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terminal(stream: io.StringIO) -> Console:
    return Console(
        file=stream, force_terminal=True, width=COLUMNS, height=ROWS, legacy_windows=False
    )


def name(k: int) -> tuple[str, str]:
    return f"pcli-demo-svc-api-i{k:02d}", f"service instance api/i{k:02d}"


def event(logical_id: str, resource_type: str, status: str, seconds: float, reason=None):
    return StackEvent(
        f"{logical_id}-{status}-{seconds}", T0 + timedelta(seconds=seconds), logical_id,
        resource_type, status, reason,
    )  # fmt: skip


CHANGES = (
    Change("Modify", "Queue", "AWS::SQS::Queue", None),
    Change("Modify", "DeadLetterQueue", "AWS::SQS::Queue", None),
    Change("Add", "Topic", "AWS::SNS::Topic", None),
)


def instance(k: int, ending: str) -> list[DeployEvent]:
    """Instance k's stack: planned, changed, its resources under way; then `ending`: "done",
    "running" (it stops there) or "failed" (the queue fails and the stack rolls back)."""
    stack, what = name(k)

    def resource(logical_id, resource_type, status, seconds, reason=None):
        return DeployEvent(
            "resource", stack, what,
            event=event(logical_id, resource_type, status, seconds, reason),
        )  # fmt: skip

    events = [
        DeployEvent("start", stack, what),
        DeployEvent("changes", stack, what, changes=CHANGES),
        resource(stack, STACK_TYPE, "UPDATE_IN_PROGRESS", 0),
        resource("Queue", "AWS::SQS::Queue", "UPDATE_IN_PROGRESS", 1),
    ]
    if ending == "running":
        return events
    if ending == "failed":
        reason = "Resource handler returned message: Invalid request provided: " + "x" * 60
        failure = event("Queue", "AWS::SQS::Queue", "UPDATE_FAILED", 3, reason)
        return [
            *events,
            resource("Queue", "AWS::SQS::Queue", "UPDATE_FAILED", 3, reason),
            DeployEvent(
                "failed", stack, what, status="UPDATE_ROLLBACK_COMPLETE", failures=(failure,)
            ),
        ]
    return [
        *events,
        resource("Queue", "AWS::SQS::Queue", "UPDATE_COMPLETE", 2),
        DeployEvent("done", stack, what, status="UPDATE_COMPLETE"),
    ]


def fleet(done: int, running: int, failed: int) -> list[list[DeployEvent]]:
    endings = ["done"] * done + ["running"] * running + ["failed"] * failed
    return [instance(k, ending) for k, ending in enumerate(endings)]


def drawing(view: LiveView) -> list[str]:
    """The drawing the view would make now, as the lines of an 80 x 24 terminal."""
    stream = io.StringIO()
    Console(file=stream, width=COLUMNS, height=ROWS).print(view.renderable())
    return stream.getvalue().splitlines()


def titles(lines: list[str]) -> list[int]:
    return [int(m.group(1)) for line in lines if (m := TITLE.match(line))]


# --- what one drawing holds ------------------------------------------------------------------


def test_more_stacks_than_rows_show_the_failed_and_running_first_then_what_is_left_out():
    view = LiveView(terminal(io.StringIO()), clock=FakeClock())
    stacks = fleet(done=30, running=8, failed=1)  # 0-29 done, 30-37 running, 38 failed
    for script in stacks:
        for step in script:
            view.on_event(step)
    lines = drawing(view)

    assert len(lines) <= ROWS - 1
    assert max(map(len, lines)) <= COLUMNS
    shown = titles(lines)
    assert shown[:9] == [38, *range(30, 38)]  # the failed one, then the running ones
    assert "UPDATE_ROLLBACK_COMPLETE" in lines[0]
    more = MORE.match(lines[-1])
    assert more is not None, lines[-1]
    hidden = len(stacks) - len(shown)
    assert (int(more.group(1)), int(more.group(2))) == (hidden, hidden)  # all of them done


def test_a_drawing_that_fits_keeps_the_order_of_the_stacks_and_every_row():
    view = LiveView(terminal(io.StringIO()), clock=FakeClock())
    for script in fleet(done=2, running=1, failed=0):
        for step in script:
            view.on_event(step)
    lines = drawing(view)

    assert titles(lines) == [0, 1, 2]
    assert len(lines) == 3 * (1 + 1 + 3)  # title, header, three rows each
    assert not [line for line in lines if MORE.match(line)]


def test_a_stack_with_more_resources_than_rows_shows_its_failed_and_running_ones():
    clock = FakeClock()
    view = LiveView(terminal(io.StringIO()), clock=clock)
    stack, what = name(0)
    changes = tuple(Change("Add", f"Bucket{k:02d}", "AWS::S3::Bucket", None) for k in range(40))
    view.on_event(DeployEvent("start", stack, what))
    view.on_event(DeployEvent("changes", stack, what, changes=changes))
    statuses = dict.fromkeys(range(30), "CREATE_COMPLETE")
    statuses.update({31: "CREATE_IN_PROGRESS", 35: "CREATE_IN_PROGRESS", 38: "CREATE_FAILED"})
    for k, status in statuses.items():
        step = event(f"Bucket{k:02d}", "AWS::S3::Bucket", "CREATE_IN_PROGRESS", k)
        view.on_event(DeployEvent("resource", stack, what, event=step))
        if status != "CREATE_IN_PROGRESS":
            step = event(f"Bucket{k:02d}", "AWS::S3::Bucket", status, k + 1, "bucket exists")
            view.on_event(DeployEvent("resource", stack, what, event=step))
    lines = drawing(view)
    shown = [line.split()[0] for line in lines[2:-1] if line.startswith("  Bucket")]

    assert len(lines) == ROWS - 1
    assert {"Bucket31", "Bucket35", "Bucket38"} <= set(shown)  # running, failed
    assert {"Bucket30", "Bucket32", "Bucket39"} <= set(shown)  # pending, before the done ones
    assert shown == sorted(shown)  # the rows keep their order
    more = MORE.match(lines[-1])
    assert more is not None, lines[-1]
    hidden = 40 - len(shown)
    assert (int(more.group(1)), int(more.group(2))) == (hidden, hidden)
    failed = next(k for k, line in enumerate(lines) if line.startswith("  Bucket38"))
    assert lines[failed + 1] == "    bucket exists"  # its reason, under it


def test_long_names_types_and_reasons_are_cut_to_the_width_keeping_status_and_time():
    clock = FakeClock()
    view = LiveView(terminal(io.StringIO()), clock=clock)
    stack = "pcli-a-rather-long-workspace-name-svc-checkout-service-instance-production-eu"
    what = "service instance checkout/production-eu-west-1"
    logical_id = "ApplicationLoadBalancerListenerRuleForTheCheckoutServiceBlueGreen"
    resource_type = "AWS::ElasticLoadBalancingV2::ListenerRule"
    view.on_event(DeployEvent("start", stack, what))
    view.on_event(
        DeployEvent(
            "changes", stack, what, changes=(Change("Add", logical_id, resource_type, None),)
        )
    )
    clock.now += 75
    step = event(logical_id, resource_type, "CREATE_IN_PROGRESS", 0)
    view.on_event(DeployEvent("resource", stack, what, event=step))
    lines = drawing(view)

    assert max(map(len, lines)) <= COLUMNS
    assert lines[0].startswith(f"{what} (pcli-a-")
    assert lines[0].endswith("…  CHANGES READY  1m15s")  # the stack's name gave way
    assert lines[2].startswith("  ApplicationLoadBalancer")
    assert "… " in lines[2]
    assert "CREATE_IN_PROGRESS" in lines[2]


# --- what a whole deployment leaves on a terminal --------------------------------------------


def feed_in_parallel(view: LiveView, scripts: list[list[DeployEvent]], width: int = 4) -> None:
    """Feed the scripts `width` at a time, each from its own thread, as the deploy engine's
    pool does, with a moment between events so that the view draws in between."""
    pending = list(scripts)

    def feed(script: list[DeployEvent]) -> None:
        for step in script:
            view.on_event(step)
            time.sleep(0.005)

    while pending:
        batch, pending = pending[:width], pending[width:]

        threads = [threading.Thread(target=feed, args=(script,)) for script in batch]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def test_a_deployment_of_many_stacks_is_redrawn_in_place_within_80x24():
    stream = io.StringIO()
    stacks = fleet(done=36, running=3, failed=1)
    with LiveView(terminal(stream), refresh_per_second=100) as view:
        feed_in_parallel(view, stacks)
    screen = screen_of(stream.getvalue(), ROWS, COLUMNS)
    drawn = titles(screen.history)

    assert screen.wraps == 0  # no line was wider than the terminal
    # A drawing taller than the screen cannot be redrawn in place: every redraw would leave a
    # copy of the stacks' titles in the scrollback. Here each title is on screen once.
    assert len(drawn) == len(set(drawn))
    assert MORE.match(screen.lines[-1]), screen.lines[-3:]
    assert titles(screen.lines)[0] == 39  # the failed one, first
    changes = [line for line in screen.history if line.startswith("Changes to service")]
    assert len(changes) == len(stacks)  # each change set printed once, above the drawing


def test_what_is_written_is_bounded_by_the_screen_not_by_the_number_of_stacks():
    stream = io.StringIO()
    scripts = [
        [step for step in script if step.kind != "changes"]  # no change set to print
        for script in fleet(done=300, running=0, failed=0)
    ]
    with LiveView(terminal(stream), refresh_per_second=0.001) as view:
        for script in scripts:
            for step in script:
                view.on_event(step)
        assert stream.getvalue() == ""  # events alone draw nothing: drawings come at a rate
    screen = screen_of(stream.getvalue(), ROWS, COLUMNS)

    assert screen.scrollback == []
    assert len(screen.lines) <= ROWS - 1
    assert screen.lines[-1] == f"… and {300 - (ROWS - 2)} more ({300 - (ROWS - 2)} done)"
    assert len(stream.getvalue()) < ROWS * COLUMNS * 2  # one drawing, with its styles
