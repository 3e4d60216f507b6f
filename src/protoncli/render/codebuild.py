"""CodeBuild provisioning: the inputs file, the manifest with rendered project properties, and the
commands' sources (proton-format.md §2.6).

- `proton-inputs.json`: the resource's namespace, in Proton's JSON layout, with input values as
  native JSON values (numbers, booleans, arrays), as AWS's CDK sample shows.
- `manifest.yaml`: the manifest with every string under `settings.project_properties` rendered by
  the same Jinja sandbox as CloudFormation templates (Proton: "the same data provided to
  proton-inputs.json is made available to the values of project_properties"). A value that is a
  single `{{ ... }}` expression producing a list or mapping (such as subnet ids) becomes that list
  or mapping. The manifest is written back as plain YAML (comments are not kept).
- every other file of the manifest's folder, unchanged (binary files as they are).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

import yaml

from protoncli.blueprints.archive import is_os_noise
from protoncli.blueprints.model import MANIFEST, Manifest
from protoncli.errors import BundleError
from protoncli.render.jinja_env import render_text
from protoncli.render.jsonstyle import proton_json
from protoncli.render.namespaces import Namespace
from protoncli.yamlio import MarkedDict, parse_yaml

INPUTS_FILE = "proton-inputs.json"
_SINGLE_EXPRESSION = re.compile(r"\s*\{\{(?:(?!\{\{|\}\}).)*\}\}\s*", re.DOTALL)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _native(template: str, rendered: str) -> Any:
    """A single-expression value that rendered a Python list or dict becomes that value."""
    if not _SINGLE_EXPRESSION.fullmatch(template) or rendered.strip()[:1] not in ("[", "{"):
        return rendered
    try:
        value = ast.literal_eval(rendered.strip())
    except (ValueError, SyntaxError):
        return rendered
    return value if isinstance(value, list | dict) else rendered


def _render_values(value: Any, line: int, source: str, namespace: Namespace) -> Any:
    if isinstance(value, Mapping):
        lines = value.key_lines if isinstance(value, MarkedDict) else {}
        return {
            key: _render_values(item, lines.get(key, line), source, namespace)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_render_values(item, line, source, namespace) for item in value]
    if isinstance(value, str) and ("{{" in value or "{%" in value):
        rendered = render_text(value, source, namespace, line_offset=max(line - 1, 0))
        return _native(value, rendered)
    return value


def _manifest_document(manifest: Manifest, files: Mapping[str, bytes]) -> Any:
    raw = files.get(f"{manifest.folder}/{MANIFEST}")
    if raw is None:
        entry = {"rendering_engine": "codebuild", "settings": _plain(manifest.entry.settings or {})}
        return {"infrastructure": {"templates": [entry]}}
    return parse_yaml(raw.decode("utf-8"), manifest.source, BundleError, marked=True)


def _rendered_manifest(manifest: Manifest, files: Mapping[str, bytes], namespace: Namespace) -> str:
    document = _manifest_document(manifest, files)
    source = f"{manifest.folder}/{MANIFEST}"
    try:
        templates = document["infrastructure"]["templates"]
        settings = templates[0]["settings"]
    except (KeyError, IndexError, TypeError):
        settings = None
    if isinstance(settings, dict) and isinstance(settings.get("project_properties"), Mapping):
        properties = settings["project_properties"]
        line = settings.line_of("project_properties") if isinstance(settings, MarkedDict) else 0
        settings["project_properties"] = _render_values(properties, line, source, namespace)
    return yaml.safe_dump(_plain(document), sort_keys=False, allow_unicode=True)


def _folder_files(manifest: Manifest, files: Mapping[str, bytes]) -> dict[str, bytes]:
    prefix = f"{manifest.folder}/"
    return {
        path[len(prefix) :]: data
        for path, data in files.items()
        if path.startswith(prefix)
        and path[len(prefix) :] not in (MANIFEST, INPUTS_FILE)
        and not is_os_noise(path)
    }


def render_codebuild(
    manifest: Manifest, bundle_files: Mapping[str, bytes], namespace: Namespace
) -> tuple[dict[str, str], dict[str, bytes]]:
    """The folder's files: ({text files}, {binary files}), relative to the resource folder."""
    texts: dict[str, str] = {}
    binaries: dict[str, bytes] = {}
    for name, data in _folder_files(manifest, bundle_files).items():
        try:
            texts[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            binaries[name] = data
    for name, text in manifest.files.items():
        if name not in binaries:
            texts.setdefault(name, text)
    texts[INPUTS_FILE] = proton_json(namespace.values)
    texts[MANIFEST] = _rendered_manifest(manifest, bundle_files, namespace)
    return texts, binaries
