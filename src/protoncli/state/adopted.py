"""Where each stack adopted from AWS Proton lives: `adopted.yaml` at the workspace's root.

A stack pcli creates is named after its item (`naming.stack_name`). A stack Proton created keeps
the name Proton gave it when `pcli adopt` adopts it, so every name of a stack that pcli derives
from an item goes through `stack_of`: the name `adopted.yaml` records for the item, else pcli's
own. The file is written by `pcli adopt` only, kept in git with the specs (every clone and CI
runner deploys the item to the same stack)::

    # Stacks adopted from AWS Proton (pcli adopt): they keep the names Proton gave them.
    environments:
      dev: AWSProton-dev-cloudformation-ABCDEFGHIJKLM
    service-instances:
      web/web-dev: AWSProton-web-web-dev-cloudformation-NOPQRSTUVWXYZ
    pipelines:
      web: AWSProton-web-pipeline-cloudformation-ZYXWVUTSRQPON

What a stack *is* stays what its `pcli:*` tags say: the state model joins declared items and
stacks by those tags, never by name. The file only says which stack a deploy updates (or
creates, when the stack is gone), so that a deploy never makes a second stack beside Proton's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from protoncli.errors import UsageError
from protoncli.state.identity import COMPONENT, ENVIRONMENT, PIPELINE, SERVICE_INSTANCE, Identity

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.workspace.model import Workspace

ADOPTED_FILE = "adopted.yaml"
SECTIONS = {
    ENVIRONMENT: "environments",
    SERVICE_INSTANCE: "service-instances",
    PIPELINE: "pipelines",
    COMPONENT: "components",
}
HEADER = (
    "# Stacks adopted from AWS Proton (pcli adopt): they keep the names Proton gave them.\n"
    "# pcli deploys each item listed here to the stack named; the stack's pcli:* tags say what\n"
    "# it is. Written by pcli adopt; keep it in git with the spec files.\n"
)

Key = tuple[str, ...]


def adopted_path(workspace: Workspace) -> Path:
    return workspace.root / ADOPTED_FILE


def stack_of(project: Project, identity: Identity) -> str:
    """The name of the item's stack: the Proton stack it adopted, else pcli's naming."""
    found = project.read_once(adopted_path(project.workspace), read_adopted).get(identity.key)
    return found or identity.stack_name(project.workspace.name)


def read_adopted(path: Path) -> dict[Key, str]:
    """Identity key -> stack name, from `path` (nothing when the file does not exist)."""
    from protoncli.yamlio import parse_yaml, read_text

    if not path.is_file():
        return {}
    document = parse_yaml(read_text(path, UsageError), str(path), UsageError) or {}
    if not isinstance(document, dict):
        raise UsageError(f"{path}: expected sections such as `environments:` (a mapping)")
    found: dict[Key, str] = {}
    for kind, section in SECTIONS.items():
        entries = document.get(section) or {}
        if not isinstance(entries, dict):
            raise UsageError(f"{path}: `{section}` must map item names to stack names")
        for name, stack in entries.items():
            if not isinstance(stack, str) or not stack:
                raise UsageError(f"{path}: {section} {name}: the stack name must be text")
            found[(kind, *str(name).split("/"))] = stack
    return found


def record_adopted(workspace: Workspace, stacks: Mapping[Key, str]) -> bool:
    """Add (or change) the stack of each item in `stacks` in adopted.yaml, atomically, under
    the workspace lock; True when the file changed."""
    from protoncli.locks import workspace_lock
    from protoncli.yamlio import atomic_write

    path = adopted_path(workspace)
    with workspace_lock(workspace, "pcli adopt"):
        known = read_adopted(path)
        merged = {**known, **stacks}
        if merged == known:
            return False
        atomic_write(path, adopted_text(merged))
    return True


def adopted_text(stacks: Mapping[Key, str]) -> str:
    """The file's text: a section per kind, items sorted by name."""
    from protoncli.workspace.model import yaml_scalar

    lines = [HEADER.rstrip("\n")]
    for kind, section in SECTIONS.items():
        entries = sorted(
            ("/".join(key[1:]), name) for key, name in stacks.items() if key[0] == kind
        )
        if not entries:
            continue
        lines.append(f"{section}:")
        lines += [f"  {yaml_scalar(item)}: {yaml_scalar(stack)}" for item, stack in entries]
    return "\n".join(lines) + "\n"
