"""A Ctrl-C whose KeyboardInterrupt never reached the question (it arrived just before the
read began) still ends the question: while a deploying command runs, answers are waited for in
short steps on the main thread too, and the signal's mark (`_INTERRUPTED`) ends the wait."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from protoncli.cli import deploying


def _hung(_signum, _frame):
    raise AssertionError("the question kept waiting for an answer after Ctrl-C")


def test_a_question_ends_on_a_ctrl_c_its_read_did_not_see(monkeypatch):
    read_end, write_end = os.pipe()  # a terminal-like stdin that never answers
    previous = signal.signal(signal.SIGALRM, _hung)  # a hang fails the test instead
    signal.alarm(10)
    with os.fdopen(read_end) as stdin, os.fdopen(write_end, "w"):
        monkeypatch.setattr(sys, "stdin", stdin)
        with deploying._signals_reach_questions():
            deploying._INTERRUPTED.set()  # the handler ran; its exception went elsewhere
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                deploying.ask_yes_no("Deploy these changes?")
            assert time.monotonic() - started < 5
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def test_outside_a_deploying_command_an_answer_is_read_as_before(monkeypatch):
    read_end, write_end = os.pipe()
    with os.fdopen(read_end) as stdin, os.fdopen(write_end, "w") as answer:
        answer.write("y\n")
        answer.flush()
        monkeypatch.setattr(sys, "stdin", stdin)
        assert deploying.ask_yes_no("Deploy these changes?") is True
