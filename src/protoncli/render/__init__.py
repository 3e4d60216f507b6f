"""Local rendering of bundles: CloudFormation through Jinja, Terraform and CodeBuild inputs.

Public entry points (imported lazily so `import protoncli.render` stays light):
`render_bundle` (engine.py), `write_result` (writer.py), `load_context` (context.py).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "render_bundle": "protoncli.render.engine",
    "write_result": "protoncli.render.writer",
    "load_context": "protoncli.render.context",
}
__all__ = ["load_context", "render_bundle", "write_result"]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'protoncli.render' has no attribute {name!r}")
    return getattr(import_module(module), name)
