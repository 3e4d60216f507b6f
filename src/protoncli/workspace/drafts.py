"""Answers given to `pcli env create` and `pcli svc create`, kept until the spec file is written.

Each answer is saved as soon as it is given, so Ctrl-C (or a failure) loses nothing: the next
`create` of the same name in the same workspace offers the kept answers as defaults. A draft is
removed once the spec file is written. Secret answers are never kept.

Drafts live under pcli's state directory (platformdirs, or `PCLI_HOME/state`)::

    <state dir>/drafts/<workspace key>/<kind>-<name>.yaml

where the workspace key is a digest of the workspace's root folder. A file holds the workspace,
the kind, the name and `answers`: a mapping of answer keys ("blueprint", "inputs.port",
"instances.web-dev.inputs.port", ...) to values. Drafts are written atomically; one that cannot
be read is ignored (a draft is a convenience, never the source of truth).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from protoncli import paths
from protoncli.errors import PcliError
from protoncli.yamlio import atomic_write, parse_yaml

FOLDER = "drafts"


@dataclass
class Draft:
    """The kept answers of one `create` (one workspace, kind and name)."""

    path: Path
    workspace: Path
    kind: str  # "environment" | "service"
    name: str
    answers: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.answers.get(key, default)

    def keep(self, key: str, value: Any) -> None:
        """Save one answer now (a value JSON cannot hold is not kept)."""
        plain = _plain(value)
        if plain is None:
            self.answers.pop(key, None)
        else:
            self.answers[key] = plain
        self._save()

    def forget(self, key: str) -> None:
        if self.answers.pop(key, None) is not None:
            self._save()

    def discard(self) -> None:
        """Remove the draft (the spec file has been written)."""
        self.answers.clear()
        self.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.path.parent.rmdir()  # the workspace's last draft

    def _save(self) -> None:
        document = {
            "workspace": str(self.workspace),
            "kind": self.kind,
            "name": self.name,
            "answers": self.answers,
        }
        # A draft that cannot be written only means the answers are not offered next time.
        with contextlib.suppress(OSError):
            atomic_write(self.path, yaml.safe_dump(document, sort_keys=False))


def draft_path(workspace: Path, kind: str, name: str) -> Path:
    key = hashlib.sha256(str(workspace.resolve()).encode("utf-8")).hexdigest()[:16]
    return paths.state_dir() / FOLDER / key / f"{kind}-{name}.yaml"


def open_draft(workspace: Path, kind: str, name: str) -> Draft:
    """The kept answers of `kind` `name` in `workspace` (none when there is no draft)."""
    root = workspace.resolve()
    path = draft_path(root, kind, name)
    return Draft(path, root, kind, name, _read_answers(path, root, kind, name))


def _read_answers(path: Path, workspace: Path, kind: str, name: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        document = parse_yaml(text, str(path), PcliError)
    except (OSError, UnicodeDecodeError, PcliError):
        return {}
    if not isinstance(document, Mapping):
        return {}
    expected = (str(workspace), kind, name)
    if (document.get("workspace"), document.get("kind"), document.get("name")) != expected:
        return {}
    answers = document.get("answers")
    return {str(k): v for k, v in answers.items()} if isinstance(answers, Mapping) else {}


def _plain(value: Any) -> Any:
    """`value` as JSON (and so YAML) holds it, or None when it cannot."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return None
