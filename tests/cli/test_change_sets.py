"""A change set as people read it: the inputs changed, then each resource with what changes in
it, within 80 columns (plain lines, the live view's print, --quiet's question)."""

from __future__ import annotations

import io
import re

from rich.console import Console

from protoncli.cli.change_sets import plain_lines
from protoncli.cli.progress import PlainView, QuietView
from protoncli.cli.progress_live import LiveView
from protoncli.deploy.model import (
    Change,
    DeployEvent,
    InputChange,
    InputChanges,
    PropertyChange,
)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LONG_POLICY = (
    '{"Version":"2012-10-17","Statement":['
    + ",".join(
        f'{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"arn:aws:sqs:us-east-1:1:q{n}"}}'
        for n in range(6)
    )
    + "]}"
)


def prop(name, before=None, after=None, **fields):
    return PropertyChange(
        path=f"/Properties/{name}",
        attribute="Properties",
        name=name.rsplit("/", 1)[-1],
        change_type=fields.get("change_type", "Modify"),
        before=before,
        after=after,
        requires_recreation=fields.get("recreation", "Never"),
        source=fields.get("source", "DirectModification"),
        causing_entity=fields.get("entity"),
        evaluation=fields.get("evaluation", "Static"),
    )


QUEUE = Change(
    "Modify",
    "Queue",
    "AWS::SQS::Queue",
    "True",
    details=(
        prop("VisibilityTimeout", "30", "60"),
        prop("FifoQueue", None, "true", change_type="Add", recreation="Always"),
        # CloudFormation describes a property twice when a parameter causes it: shown once.
        prop("VisibilityTimeout", evaluation="Dynamic", source="ParameterReference", entity="T"),
        prop("KmsMasterKeyId", evaluation="Dynamic", source="ResourceAttribute", entity="Key.Arn"),
    ),
)
TOPIC = Change("Add", "Topic", "AWS::SNS::Topic", None)
INPUTS = InputChanges(
    known=True,
    changed=(InputChange("retention", 60, 120),),
    added=(InputChange("owner", after="web"),),
    removed=(InputChange("legacy", before=True),),
)


def test_the_inputs_come_first_then_each_resource_with_its_properties():
    assert plain_lines([QUEUE, TOPIC], INPUTS) == [
        "Inputs (as last deployed → now):",
        "  retention: 60 → 120",
        "  owner: (none) → web",
        "  legacy: true → (none)",
        "ACTION  LOGICAL ID  TYPE             REPLACEMENT",
        "Modify  Queue       AWS::SQS::Queue  True",
        "        VisibilityTimeout: 30 → 60",
        "        FifoQueue: (none) → true (replacement)",
        "        KmsMasterKeyId: known when deployed, from Key.Arn",
        "Add     Topic       AWS::SNS::Topic  -",
    ]


def test_inputs_unknown_or_unchanged_say_so_in_a_line():
    unknown = InputChanges(known=False, reason="no deployment record of 3f2a9c1e")
    assert plain_lines([TOPIC], unknown)[0] == (
        "Inputs as last deployed: unknown (no deployment record of 3f2a9c1e)"
    )
    assert plain_lines([TOPIC], InputChanges(known=True))[0] == (
        "Inputs: unchanged since the last deployment"
    )
    assert plain_lines([TOPIC])[0].startswith("ACTION")  # a creation: no inputs block


def test_long_values_are_cut_within_80_columns_sharing_the_room():
    policy = Change(
        "Modify",
        "QueuePolicy",
        "AWS::SQS::QueuePolicy",
        "False",
        details=(
            prop("PolicyDocument", LONG_POLICY, LONG_POLICY.replace("q5", "q6")),
            prop("Queues/0", "https://sqs.example/1/q", "x" * 300),
        ),
    )
    inputs = InputChanges(known=True, changed=(InputChange("image", "a" * 100, "b" * 100),))

    lines = plain_lines([policy], inputs)

    assert max(len(line) for line in lines) <= 80
    image = lines[1].split(": ", 1)[1]
    assert image == f"{'a' * 33}… → {'b' * 33}…"  # halves of the room
    # The same beginning is left out: a long document changed at its end shows the change.
    assert '        PolicyDocument: …s-east-1:1:q5"}]} → …s-east-1:1:q6"}]}' in lines
    queues = next(line for line in lines if "Queues/0:" in line)
    assert "Queues/0: https://sqs.example/1/q → xxx" in queues  # the short one whole
    assert queues.endswith("…")
    assert len(queues) == 80


def test_at_most_five_lines_per_resource_then_how_many_more():
    many = Change(
        "Modify",
        "Table",
        "AWS::DynamoDB::Table",
        "False",
        details=tuple(prop(f"Setting{n}", str(n), str(n + 1)) for n in range(9)),
    )
    lines = plain_lines([many])
    assert lines[2:] == [
        "        Setting0: 0 → 1",
        "        Setting1: 1 → 2",
        "        Setting2: 2 → 3",
        "        Setting3: 3 → 4",
        "        … and 5 more",
    ]


def changes_event():
    return DeployEvent("changes", "dev-env", "environment dev", changes=(QUEUE,), inputs=INPUTS)


def test_plain_view_prints_the_inputs_and_properties_under_its_headline():
    stream = io.StringIO()
    with PlainView(stream=stream) as view:
        view.on_event(changes_event())
    lines = stream.getvalue().splitlines()

    assert lines[0] == "dev-env  Change set for environment dev: 1 change(s)"
    assert lines[1:3] == ["    Inputs (as last deployed → now):", "      retention: 60 → 120"]
    assert "            VisibilityTimeout: 30 → 60" in lines
    assert max(len(line) for line in lines[1:]) <= 80


def test_live_view_prints_them_within_the_terminal():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=80, no_color=True)
    with LiveView(console, refresh_per_second=50) as view:
        view.on_event(changes_event())
    lines = [line.rstrip() for line in ANSI.sub("", stream.getvalue()).splitlines()]

    assert lines[:3] == [
        "Changes to environment dev (dev-env):",
        "  Inputs (as last deployed → now):",
        "    retention: 60 → 120",
    ]
    assert "          FifoQueue: (none) → true (replacement)" in lines
    assert max(len(line) for line in lines) <= 80


def test_quiet_view_prints_the_change_set_above_its_question(capsys):
    view = QuietView(hold=True)
    with view:
        view.on_event(changes_event())
        assert capsys.readouterr().err == ""  # nothing until the question comes
        with view.paused():
            pass
    printed = capsys.readouterr().err.splitlines()

    assert printed[0] == "Changes to environment dev (dev-env):"
    assert "  retention: 60 → 120" in printed
    assert "        VisibilityTimeout: 30 → 60" in printed


def test_quiet_view_that_asks_nothing_prints_nothing(capsys):
    with QuietView() as view:
        view.on_event(changes_event())
        with view.paused():
            pass
    assert capsys.readouterr().err == ""
