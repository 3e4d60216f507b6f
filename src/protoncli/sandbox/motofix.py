"""Corrections pcli applies to moto when it runs moto as the sandbox (and in tests).

pcli deploys only through change sets, where moto 5.2 differs from CloudFormation:

- executing a change set does not re-read the template's Outputs (a stack shows no or stale
  outputs): they are resolved again after each execution, as moto's own UpdateStack does;
- executing an UPDATE change set does not apply its tags to the stack: they are applied;
- a CREATE change set for a name whose stack is still REVIEW_IN_PROGRESS (an empty stack left by a
  change set never executed) makes a second stack of that name: the empty one is dropped first,
  as CloudFormation reuses it.
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
        if change_set.tags is not None:
            stack.tags = dict(change_set.tags)

    original_create = CloudFormationBackend.create_change_set

    def create_change_set(self: Any, stack_name: str, *args: Any, **kwargs: Any) -> Any:
        position = 4  # change_set_type's place after stack_name in moto's signature
        change_set_type = kwargs.get(
            "change_set_type", args[position] if len(args) > position else None
        )
        if change_set_type == "CREATE":
            for stack_id, stack in list(self.stacks.items()):
                if stack.name == stack_name and stack.status == "REVIEW_IN_PROGRESS":
                    del self.stacks[stack_id]
        return original_create(self, stack_name, *args, **kwargs)

    setattr(execute_change_set, _MARK, True)
    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]
    CloudFormationBackend.create_change_set = create_change_set  # type: ignore[method-assign]
