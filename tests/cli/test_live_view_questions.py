"""The live view and the confirmation question: nothing is drawn before the question is
answered, each change set is printed right above its own question, nothing is drawn after an
interruption at the question, and a stack's time starts when its deployment does.

Scripted events go to views on a console that says it is a terminal; a question is whatever
the test writes while the view is paused, as `pcli` asks inside `view.paused()`.
"""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import UTC, datetime

import pytest
from rich.console import Console
from tests.cli.test_live_view_screen import screen_of

from protoncli.cli.progress import PlainView
from protoncli.cli.progress_live import LiveView
from protoncli.deploy.model import Change, DeployEvent, StackEvent

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
QUESTION = "Deploy these changes? [y/N]: "
STACK, WHAT = "pcli-demo-env-dev", "environment dev"
CHANGES = (Change("Add", "Topic", "AWS::SNS::Topic", None),)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def terminal(stream: io.StringIO) -> Console:
    return Console(file=stream, force_terminal=True, width=80, height=24, legacy_windows=False)


def planned(stack: str = STACK, what: str = WHAT) -> list[DeployEvent]:
    return [DeployEvent("start", stack, what), DeployEvent("changes", stack, what, changes=CHANGES)]


def deployed(stack: str = STACK, what: str = WHAT) -> list[DeployEvent]:
    started = StackEvent("1", datetime.now(UTC), stack, "AWS::CloudFormation::Stack",
                         "CREATE_IN_PROGRESS", None)  # fmt: skip
    return [
        DeployEvent("resource", stack, what, event=started),
        DeployEvent("done", stack, what, status="CREATE_COMPLETE"),
    ]


def settle() -> None:
    """Long enough for a view drawing 100 times a second to draw several times."""
    time.sleep(0.1)


def test_with_a_question_coming_nothing_is_drawn_until_it_is_answered():
    stream = io.StringIO()
    with LiveView(terminal(stream), refresh_per_second=100, hold=True) as view:
        for event in planned():
            view.on_event(event)
        settle()
        before_question = stream.getvalue()
        with view.paused():
            at_question = screen_of(stream.getvalue()).text
            stream.write(QUESTION + "y\n")
        for event in deployed():
            view.on_event(event)
        settle()
    after = screen_of(stream.getvalue()).history

    assert before_question == ""  # not a table of pending changes, not a planning line
    assert at_question.splitlines() == [
        f"Changes to {WHAT} ({STACK}):",
        "  ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "  Add     Topic       AWS::SNS::Topic  -",
    ]
    assert after[3] == QUESTION + "y"
    assert after[4].startswith(f"{WHAT} ({STACK})  CREATE_COMPLETE")  # drawn after the answer


@pytest.mark.parametrize("hold", [True, False], ids=["held", "not held"])
def test_ctrl_c_at_the_question_leaves_nothing_drawn_after_it(hold: bool):
    stream = io.StringIO()

    def interrupted_at_the_question(view: LiveView) -> None:
        for event in planned():
            view.on_event(event)
        try:
            with view.paused():
                stream.write(QUESTION + "^C")
                raise KeyboardInterrupt
        finally:  # other stacks go on reporting until the command ends
            view.on_event(DeployEvent("warning", "", WHAT, message="printed after it"))
            view.on_event(DeployEvent("start", "dev-other", "environment other"))
            settle()

    with LiveView(terminal(stream), refresh_per_second=100, hold=hold) as view:
        with pytest.raises(KeyboardInterrupt):
            interrupted_at_the_question(view)
        settle()
    text = stream.getvalue()

    assert ANSI.sub("", text).endswith(QUESTION + "^C")  # nothing after: no table, no redraw
    assert "printed after it" not in text


def test_a_declined_change_set_draws_nothing():
    stream = io.StringIO()
    with LiveView(terminal(stream), refresh_per_second=100, hold=True) as view:
        for event in planned():
            view.on_event(event)
        with view.paused():
            stream.write(QUESTION + "n\n")
        settle()  # the engine drops the change set and the command ends with its error

    assert ANSI.sub("", stream.getvalue()).endswith(QUESTION + "n\n")


def test_each_change_set_is_printed_right_above_its_own_question():
    """Instances are planned side by side: a change set that is ready while another one's
    question is open waits for its own question."""
    stream = io.StringIO()
    questions: list[tuple[str, list[str]]] = []  # who asked, and what was on screen
    one_at_a_time = threading.Lock()  # DeployHooks.one_at_a_time

    def deploy(view: LiveView, name: str, ready: threading.Event) -> None:
        for event in planned(f"dev-{name}", f"instance {name}"):
            view.on_event(event)
        ready.set()
        with one_at_a_time, view.paused():
            questions.append((name, screen_of(stream.getvalue()).history))
            stream.write(QUESTION + "y\n")

    with LiveView(terminal(stream), refresh_per_second=100, hold=True) as view:
        threads = []
        with one_at_a_time:  # a question is open while both stacks are planned
            for name in ("a", "b"):
                ready = threading.Event()
                threads.append(threading.Thread(target=deploy, args=(view, name, ready)))
                threads[-1].start()
                ready.wait()
            settle()
            assert stream.getvalue() == ""
        for thread in threads:
            thread.join()

    (first, on_screen), (second, later) = questions
    assert on_screen[-3:] == [
        f"Changes to instance {first} (dev-{first}):",
        "  ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "  Add     Topic       AWS::SNS::Topic  -",
    ]
    assert later[:4] == [*on_screen, QUESTION + "y"]
    assert later[4:] == [
        f"Changes to instance {second} (dev-{second}):",
        "  ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "  Add     Topic       AWS::SNS::Topic  -",
    ]


def test_the_time_a_question_was_open_is_not_counted_in_the_deployment():
    clock = FakeClock()
    live_stream, plain_stream = io.StringIO(), io.StringIO()
    live = LiveView(terminal(live_stream), clock=clock)
    plain = PlainView(plain_stream, clock=clock)
    for view in (live, plain):
        for event in planned():
            view.on_event(event)
    with live.paused(), plain.paused():
        clock.now += 300  # five minutes reading the change set
    clock.now += 2.5
    for view in (live, plain):
        for event in deployed():
            view.on_event(event)
    drawn = screen_of(ANSI.sub("", str(live_stream.getvalue()))).text
    title = Console(file=io.StringIO(), width=80).render_lines(live.renderable())[0]

    assert "".join(segment.text for segment in title).rstrip().endswith("CREATE_COMPLETE  2.5s")
    assert plain_stream.getvalue().splitlines()[-1].endswith(f"{WHAT}: CREATE_COMPLETE in 2.5s")
    assert "5m" not in drawn
