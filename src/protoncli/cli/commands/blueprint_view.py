"""The bodies of `pcli blueprint show|render|lint`, kept out of the command module."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.errors import RenderError, UsageError

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle
    from protoncli.blueprints.registry import VersionInfo
    from protoncli.guardrails.rules import RuleSet
    from protoncli.schema.model import InputType


def _input_rows(input_type: InputType | None) -> list[dict[str, Any]]:
    if input_type is None:
        return []
    return [
        {
            "name": item.name,
            "type": item.type,
            "required": item.required and not item.has_default,
            "default": ("(secret)" if item.secret else item.default) if item.has_default else None,
            "has_default": item.has_default,
            "title": item.title,
            "description": item.description,
            "secret": item.secret,
            "enum": list(item.enum) if item.enum else None,
        }
        for item in input_type.inputs
    ]


def describe_version(bundle: Bundle) -> dict[str, Any]:
    schema = bundle.schema
    return {
        "kind": str(bundle.kind),
        "provisioning": str(bundle.provisioning),
        "has_pipeline": bundle.has_pipeline,
        "compatible_environments": [str(env) for env in bundle.compatible_environments],
        "inputs": _input_rows(schema.main if schema else None),
        "pipeline_inputs": _input_rows(schema.pipeline if schema else None),
        "guardrails": _guardrail_rows(bundle),
    }


def _guardrail_rows(bundle: Bundle) -> list[dict[str, Any]]:
    """The bundle's own guardrails (`guardrails/`), as `blueprint guardrails` lists the
    registry's; none where Guard cannot name them (its engine missing: a warning says so)."""
    from protoncli.cli.commands.blueprint_guardrails import rule_rows
    from protoncli.guardrails.rules import GuardrailsError, bundle_rules

    try:
        return rule_rows(bundle_rules(bundle))
    except GuardrailsError as error:
        output.warn(f"its guardrails cannot be listed: {error.message}")
        return []


def _format_default(row: dict[str, Any]) -> str:
    if not row["has_default"]:
        return "-"
    value = row["default"]
    return value if isinstance(value, str) else json.dumps(value)


def _inputs_table(title: str, rows: list[dict[str, Any]]) -> None:
    output.table(
        ["INPUT", "TYPE", "DEFAULT", "REQUIRED", "DESCRIPTION"],
        [
            (
                r["name"],
                r["type"] + (" (secret)" if r["secret"] else ""),
                _format_default(r),
                "yes" if r["required"] else "no",
                r["description"] or r["title"] or "",
            )
            for r in rows
        ],
        title=title,
        wrap=("DEFAULT", "DESCRIPTION"),
    )


def print_version(record: dict[str, Any]) -> None:
    marker = " (recommended)" if record["recommended"] else ""
    output.line(f"{record['name']}@{record['version']}{marker}")
    pairs: list[tuple[str, Any]] = [
        ("Kind", record["kind"]),
        ("Status", record["status"]),
        ("Provisioning", record["provisioning"]),
        ("Digest", record["digest"]),
        ("Created", record["created_at"]),
    ]
    if record["kind"] == "service":
        pairs.append(("Pipeline", "yes" if record["has_pipeline"] else "no"))
        envs = ", ".join(record["compatible_environments"]) or "(none declared)"
        pairs.append(("Compatible environments", envs))
    output.key_values(pairs)
    if record["kind"] == "component":
        output.line("Components take no inputs: they read their service instance's inputs.")
        _guardrails_table(record["guardrails"])
        return
    output.line()
    _inputs_table("Inputs", record["inputs"])
    if record["pipeline_inputs"]:
        _inputs_table("Pipeline inputs", record["pipeline_inputs"])
    _guardrails_table(record["guardrails"])


def _guardrails_table(rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    from protoncli.cli.commands.blueprint_guardrails import rules_table

    output.line()
    rules_table(rows, title="Guardrails")


def _resource_name(name: str | None, spec: Path | None, kind: str) -> str:
    """`--name`, else the spec file's stem; a valid Proton name or a `UsageError`."""
    from protoncli.blueprints.limits import check_name

    if name is None and spec is None:
        raise UsageError("--name is required when no --spec is given", hint="add --name NAME")
    resource_name = name if name is not None else str(spec.stem if spec else "")
    try:
        check_name(resource_name, kind)
    except UsageError as error:
        if name is None:
            error.hint = f"the name defaults to the spec file's name ({spec}); give --name NAME"
        raise
    return resource_name


def render_command(
    bundle: Bundle,
    info: VersionInfo | None,
    *,
    spec: Path | None,
    output_dir: Path,
    name: str | None,
    context: Path | None,
    previous_spec: Path | None,
    as_json: bool,
) -> None:
    from protoncli.render.context import load_context
    from protoncli.render.engine import render_bundle
    from protoncli.render.model import RenderContext
    from protoncli.render.writer import write_result
    from protoncli.specs.io import load_spec_with_warnings

    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(
            f"{output_dir}: --output-dir is not a folder (a file of that name exists)",
            hint="give a folder (it is created if missing), or move the file away",
        )
    warnings: list[str] = []
    spec_obj = None
    if spec is not None:
        spec_obj, spec_warnings = load_spec_with_warnings(spec)
        warnings.extend(spec_warnings)
    previous = load_spec_with_warnings(previous_spec)[0] if previous_spec else None
    facts = load_context(context) if context is not None else RenderContext()
    resource_name = _resource_name(name, spec, str(bundle.kind))
    result = render_bundle(
        bundle,
        spec_obj,
        name=resource_name,
        context=facts,
        previous=previous,
        blueprint_name=info.name if info else None,
        blueprint_version=info.version if info else None,
    )
    try:
        written = write_result(result, output_dir)
    except OSError as exc:
        where = exc.filename or output_dir
        raise RenderError(f"{where}: cannot write the rendered files: {exc.strerror}") from exc
    warnings.extend(result.warnings)
    if as_json:
        output.print_json(
            {
                "output_dir": str(output_dir),
                "resources": [
                    {
                        "kind": r.kind,
                        "name": r.name,
                        "environment": r.environment,
                        "folder": r.folder,
                        "provisioning": r.provisioning,
                        "identifier": r.identifier,
                        "files": sorted(r.files),
                    }
                    for r in result.resources
                ],
                "files": [str(p) for p in written],
                "warnings": warnings,
            }
        )
        return
    output.warn_all(warnings)
    for resource in result.resources:
        output.line(f"Rendered {resource.kind} {resource.name} -> {output_dir / resource.folder}/")
        for file_name in sorted(resource.files):
            output.line(f"  {file_name}")


def lint_command(
    opener: Callable[[], tuple[Bundle, VersionInfo | None]],
    ref: str,
    *,
    spec: Path | None,
    as_json: bool,
    registry_rules: Callable[[], RuleSet] | None = None,
) -> None:
    from protoncli.blueprints.lint import lint_bundle_ref

    report = lint_bundle_ref(opener, ref, spec=spec, registry_rules=registry_rules)
    if as_json:
        output.print_json(report.to_json())
    else:
        for finding in report.findings:
            where = finding.location or ref
            # A bundle that does not load says where already: "<path>: missing manifest.yaml".
            text = finding.message
            if not text.startswith(where):
                text = f"{where}: {text}"
            output.line(f"{finding.severity.upper():7} {text}")
        output.line(report.summary())
    if report.errors:
        raise typer.Exit(1)
