"""CloudFormation templates: Jinja-render the manifest's file, then check the result is a template.

A rendered file counts only when it parses as YAML (CloudFormation's short-form tags accepted;
JSON templates parse too) into a mapping with `Resources`. Before that, an input value that would
change the template's YAML structure is refused (injection.py). Files are written with a final
newline (Jinja drops the template's own, as Proton's renderer does with `keep_trailing_newline`
off).
"""

from __future__ import annotations

from collections.abc import Mapping

from protoncli.blueprints.model import Manifest
from protoncli.errors import BundleError, PcliError, RenderError
from protoncli.render.injection import check_structure, track_inputs
from protoncli.render.jinja_env import render_text
from protoncli.render.namespaces import Namespace
from protoncli.yamlio import parse_yaml


def _offending_line(exc: RenderError, text: str) -> str | None:
    mark = getattr(exc.__cause__, "problem_mark", None) or getattr(
        exc.__cause__, "context_mark", None
    )
    if mark is None:
        return None
    lines = text.splitlines()
    index = int(mark.line)
    if not 0 <= index < len(lines):
        return None
    return f"line {index + 1} of the rendered file reads {lines[index].strip()!r}"


def check_template(text: str, out_path: str, template: str | None = None) -> None:
    """Raise `RenderError` naming `out_path:line` unless `text` is a CloudFormation template.

    `template` is the bundle file it was rendered from; messages name both, since the rendered
    file is never written when it is invalid.
    """
    source = f" (rendered from {template})" if template else ""
    try:
        document = parse_yaml(text, out_path, RenderError, cloudformation=True)
    except RenderError as exc:
        offending = _offending_line(exc, text)
        hint = "check the template expressions that produce it"
        raise RenderError(
            f"{exc.message}{source}", hint=f"{offending}; {hint}" if offending else hint
        ) from exc
    if not isinstance(document, Mapping) or "Resources" not in document:
        raise RenderError(
            f"{out_path}: the rendered template has no Resources section{source}",
            hint="a CloudFormation template is a mapping with a top-level Resources key",
        )


def template_path(manifest: Manifest, name: str) -> str:
    """A bundle file's path as messages show it (`instance_infrastructure/cloudformation.yaml`)."""
    return f"{manifest.folder}/{name}" if manifest.folder else name


def render_cloudformation(manifest: Manifest, namespace: Namespace, folder: str) -> dict[str, str]:
    """Render the manifest's CloudFormation file; return {file name: text}."""
    name = manifest.entry.file
    text = manifest.files.get(name) if name else None
    if name is None or text is None:
        raise BundleError(
            f"{manifest.source}: the manifest's CloudFormation file {name!r} is not in the bundle"
        )
    template = template_path(manifest, name)
    out_path = f"{folder}/{name}" if folder else name
    tracked, landings = track_inputs(namespace)
    try:
        marked = render_text(text, template, tracked)
    except PcliError as error:
        landings.scrub(error)
        raise
    rendered = check_structure(marked, landings, out_path, template)
    check_template(rendered, out_path, template)
    return {name: rendered if rendered.endswith("\n") else rendered + "\n"}
