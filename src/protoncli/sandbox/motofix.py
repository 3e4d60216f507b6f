"""Corrections pcli applies to moto when it runs moto as the sandbox (and in tests).

moto 5.2 executes a change set without re-reading the template's Outputs: a stack created or
updated through a change set (the only way pcli deploys) shows no or stale outputs. After each
execution, the outputs are resolved again, exactly as moto's own UpdateStack does.
"""

from __future__ import annotations

from typing import Any

_MARK = "_pcli_outputs_fix"


def apply_moto_fixes() -> None:
    """Patch moto's CloudFormation backend in this process; idempotent."""
    from moto.cloudformation.models import CloudFormationBackend

    original = CloudFormationBackend.execute_change_set
    if getattr(original, _MARK, False):
        return

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        original(self, change_set_name, stack_name)
        change_set = self.change_sets.get(change_set_name) or next(
            (cs for cs in self.change_sets.values() if cs.change_set_name == change_set_name),
            None,
        )
        if change_set is None:
            return
        stack = self.stacks[change_set.stack_id]
        stack._parse_template()  # noqa: SLF001 - moto has no public hook for this
        stack.output_map = stack._create_output_map()  # noqa: SLF001 - same

    setattr(execute_change_set, _MARK, True)
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
