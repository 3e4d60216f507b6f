"""A change set as people read it, for every view that shows one: the confirmation, the live
view, plain lines, `--quiet` in a terminal and `plan --changes`.

Laid out as lines of styled segments (`Line`), within a width:

```
Inputs (as last deployed → now):
  port: 80 → 8080
  image: (none) → nginx:1.27
ACTION  LOGICAL ID  TYPE             REPLACEMENT
Modify  Queue       AWS::SQS::Queue  Conditional
        VisibilityTimeout: 30 → 60
        FifoQueue: false → true (replacement)
Add     Topic       AWS::SNS::Topic  -
```

- The inputs come first: changed, added, removed (an update's, when they are known); "Inputs
  as last deployed: unknown (why)" when there is no record to compare with; "Inputs: unchanged
  since the last deployment" when none changed.
- Under each resource, what changes in it: one line per property (`path: before → after`),
  "(replacement)" where CloudFormation must replace the resource for it and "(may need
  replacement)" where it may have to; a change evaluated only when deployed says so. At most
  `DETAIL_LINES` lines per resource, the last then "… and K more".
- A value too long for the width is cut with "…", before and after sharing the room; two long
  values that begin alike are shown from a little before where they differ ("…" in place of
  the same beginning), so a long document changed at its end shows the change. The resource
  columns are never cut (a change set is confirmed from what it says: the live view
  folds them in a table instead when they do not fit).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from protoncli.deploy.model import Change, InputChange, InputChanges, PropertyChange

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.text import Text

Segment = tuple[str, str]  # text, style
Line = tuple[Segment, ...]

COLUMNS = ("ACTION", "LOGICAL ID", "TYPE", "REPLACEMENT")
GAP = "  "
ELLIPSIS = "…"
ARROW = " → "
NONE = "(none)"
ACTION_STYLES = {"Add": "green", "Modify": "yellow", "Remove": "red"}
REPLACEMENT_STYLE = "bold red"
PLAIN_WIDTH = 80  # plain lines are cut as for an 80-column terminal
DETAIL_LINES = 5  # lines of property changes under a resource, "… and K more" included
INPUT_LINES = 10  # lines of input changes, "… and K more" included
MIN_VALUE = 8  # a value is not cut shorter than this (the screen's edge cuts the line then)
CONTEXT = 12  # a long value cut at its start keeps this much before where it changes
_RECREATION = {"Always": " (replacement)", "Conditionally": " (may need replacement)"}


def fit(text: str, width: int) -> str:
    """`text` in at most `width` columns, a cut marked with an ellipsis."""
    if len(text) <= width:
        return text
    return text[: width - 1] + ELLIPSIS if width > 0 else ""


def rows(changes: Sequence[Change]) -> list[tuple[str, str, str, str]]:
    return [(c.action, c.logical_id, c.resource_type, c.replacement or "-") for c in changes]


def column_widths(changes: Sequence[Change]) -> list[int]:
    table = [COLUMNS, *rows(changes)]
    return [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]


def table_width(changes: Sequence[Change]) -> int:
    """The columns of the resource rows, gaps included."""
    return sum(column_widths(changes)) + len(GAP) * (len(COLUMNS) - 1)


def layout(
    changes: Sequence[Change], inputs: InputChanges | None = None, *, width: int = PLAIN_WIDTH
) -> list[Line]:
    """The inputs, then the header and a row per resource, each with what changes in it."""
    widths = column_widths(changes)
    header = GAP.join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip()
    lines = [*input_lines(inputs, width), ((header, "bold"),)]
    indent = widths[0] + len(GAP)  # details line up with the logical ids
    for change, (action, logical_id, resource_type, replacement) in zip(
        changes, rows(changes), strict=True
    ):
        middle = GAP + logical_id.ljust(widths[1]) + GAP + resource_type.ljust(widths[2]) + GAP
        lines.append(
            (
                (action.ljust(widths[0]), ACTION_STYLES.get(action, "")),
                (middle, ""),
                (replacement, REPLACEMENT_STYLE if replacement == "True" else ""),
            )
        )
        lines.extend(((" " * indent, ""), *line) for line in detail_lines(change, width - indent))
    return lines


def text_of(line: Line) -> str:
    return "".join(text for text, _style in line).rstrip()


def plain_lines(
    changes: Sequence[Change], inputs: InputChanges | None = None, *, width: int = PLAIN_WIDTH
) -> list[str]:
    return [text_of(line) for line in layout(changes, inputs, width=width)]


# --- what changes in a resource -------------------------------------------------------------


def detail_lines(change: Change, width: int) -> list[Line]:
    """One line per property that changes (CloudFormation may describe one several times:
    the first with values is shown, with the strongest need for replacement)."""
    grouped: dict[str, list[PropertyChange]] = {}
    for detail in change.details:
        grouped.setdefault(detail.label, []).append(detail)
    lines = [_detail_line(label, group, width) for label, group in grouped.items()]
    return _at_most(lines, DETAIL_LINES)


def _detail_line(label: str, group: list[PropertyChange], width: int) -> Line:
    shown = next((d for d in group if d.has_values), group[0])
    recreation = next(
        (_RECREATION[r] for r in ("Always", "Conditionally") for d in group
         if d.requires_recreation == r),
        "",
    )  # fmt: skip
    suffix: Segment = (recreation, REPLACEMENT_STYLE)
    if shown.has_values:
        text = before_after(
            label, _value(shown.before), _value(shown.after), width - len(recreation)
        )
        return ((text, ""), suffix)
    entity = next((d.causing_entity for d in group if d.causing_entity), None)
    if any(d.evaluation == "Dynamic" for d in group):
        what = "known when deployed" + (f", from {entity}" if entity else "")
    else:
        what = {"Add": "added", "Remove": "removed"}.get(shown.change_type or "", "changes")
        what += f" (from {entity})" if entity else ""
    return ((fit(f"{label}: {what}", max(width - len(recreation), 1)), ""), suffix)


def _value(value: str | None) -> str:
    if value is None:
        return NONE
    return " ".join(value.split()) if value.strip() else json.dumps(value)


def before_after(label: str, before: str, after: str, width: int) -> str:
    """`label: before → after` in `width` columns: long values are cut, the shorter one
    giving the room it does not need to the other; a long label is cut to a third."""
    label = fit(label, max(width // 3, MIN_VALUE))
    room = width - len(label) - len(": ") - len(ARROW)
    if len(before) + len(after) > room:
        before, after = _from_difference(before, after)
    if len(before) + len(after) > room:
        half = max(room // 2, MIN_VALUE)
        if len(before) <= half:
            after = fit(after, max(room - len(before), MIN_VALUE))
        elif len(after) <= half:
            before = fit(before, max(room - len(after), MIN_VALUE))
        else:
            before, after = fit(before, half), fit(after, max(room - half, MIN_VALUE))
    return f"{label}: {before}{ARROW}{after}"


def _from_difference(before: str, after: str) -> tuple[str, str]:
    """Both values from a little before where they first differ, the same beginning left out
    ("…"): a long JSON document that changes at its end shows that end."""
    same = 0
    for one, other in zip(before, after, strict=False):
        if one != other:
            break
        same += 1
    start = same - CONTEXT
    if start <= len(ELLIPSIS) or NONE in (before, after):
        return before, after
    return ELLIPSIS + before[start:], ELLIPSIS + after[start:]


def _at_most(lines: list[Line], most: int) -> list[Line]:
    if len(lines) <= most:
        return lines
    kept = lines[: most - 1]
    return [*kept, ((f"{ELLIPSIS} and {len(lines) - len(kept)} more", "dim"),)]


# --- the inputs -----------------------------------------------------------------------------


def input_lines(inputs: InputChanges | None, width: int) -> list[Line]:
    """The inputs block: what changed since the last deployment (nothing for a creation)."""
    if inputs is None:
        return []
    if not inputs.known:
        reason = f" ({inputs.reason})" if inputs.reason else ""
        said = textwrap.wrap(
            f"Inputs as last deployed: unknown{reason}", max(width, 20), subsequent_indent=GAP
        )
        return [((line, "dim"),) for line in said]
    if inputs.none_changed:
        return [(("Inputs: unchanged since the last deployment", "dim"),)]
    entries = [
        *(_input_line(item, width - 2) for item in inputs.changed),
        *(_input_line(item, width - 2) for item in inputs.added),
        *(_input_line(item, width - 2) for item in inputs.removed),
    ]
    title: Line = ((f"Inputs (as last deployed{ARROW}now):", "bold"),)
    return [title, *(((GAP, ""), *line) for line in _at_most(entries, INPUT_LINES))]


def _input_line(item: InputChange, width: int) -> Line:
    before = NONE if item.before is None else input_text(item.before)
    after = NONE if item.after is None else input_text(item.after)
    return ((before_after(item.name, before, after, width), ""),)


def input_text(value: Any) -> str:
    """An input's value on one line: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return " ".join(value.split()) if value.strip() else json.dumps(value)
    return json.dumps(value, default=str)


# --- rich -----------------------------------------------------------------------------------


def rich_line(line: Line) -> Text:
    from rich.text import Text

    # Cut at the screen's edge, never wrapped: a wrapped line would break a redraw in place.
    return Text.assemble(*line, no_wrap=True, overflow="ellipsis")


def renderable(
    title: str | None,
    changes: Sequence[Change],
    inputs: InputChanges | None,
    *,
    width: int,
    indent: str = "  ",
) -> RenderableType:
    """The change set for a rich console `width` columns wide: its lines, indented; or, when
    the resource columns do not fit, a table that folds long cells, the inputs above it and
    what changes in each resource under its row."""
    from rich.console import Group
    from rich.text import Text

    heading = [Text(title, style="bold")] if title else []
    if len(indent) + table_width(changes) <= width:
        lines = layout(changes, inputs, width=width - len(indent))
        return Group(*heading, *(rich_line(((indent, ""), *line)) for line in lines))
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for change, (action, logical_id, resource_type, replacement) in zip(
        changes, rows(changes), strict=True
    ):
        table.add_row(
            Text(action, style=ACTION_STYLES.get(action, "")),
            logical_id,
            resource_type,
            Text(replacement, style=REPLACEMENT_STYLE if replacement == "True" else ""),
        )
        for line in detail_lines(change, max(width // 2, 20)):
            table.add_row("", Text.assemble(*line), "", "")
    above = [rich_line(((indent, ""), *line)) for line in input_lines(inputs, width - len(indent))]
    return Group(*heading, *above, table)
