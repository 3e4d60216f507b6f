"""`pcli blueprint lint`: everything that can be checked about a bundle without AWS.

Checks, in order: the bundle loads (layout, manifests, limits), the schema's own sanity, a test
render with the sample spec (`spec/spec.yaml`) or placeholder inputs and placeholder outputs,
cfn-lint on every rendered CloudFormation file, and `terraform fmt -check` on Terraform output
where a `terraform` binary exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.model import Bundle, Kind, Provisioning
from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.render.model import RenderContext, RenderResult
    from protoncli.schema.model import InputDef, InputType
    from protoncli.specs.model import Spec

LINT_ENVIRONMENT = "lint-env"
LINT_SERVICE = "lint-svc"
LINT_INSTANCE = "lint-instance"
LINT_COMPONENT = "lint-component"


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning" | "info"
    check: str  # "structure" | "schema" | "spec" | "render" | "cfn-lint" | "terraform-fmt"
    message: str
    location: str | None = None
    code: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "location": self.location,
            "code": self.code,
        }


@dataclass(frozen=True)
class LintReport:
    target: str
    findings: tuple[Finding, ...] = ()
    rendered_files: tuple[str, ...] = ()
    checks: tuple[str, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def summary(self) -> str:
        verdict = "failed" if self.errors else "passed"
        return (
            f"Lint {verdict}: {len(self.errors)} error(s), {len(self.warnings)} warning(s);"
            f" {len(self.rendered_files)} file(s) rendered; checks: {', '.join(self.checks)}."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": not self.errors,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "checks": list(self.checks),
            "rendered_files": list(self.rendered_files),
            "findings": [f.to_json() for f in self.findings],
        }


def _error_findings(check: str, error: PcliError) -> list[Finding]:
    findings = [Finding("error", check, error.message)]
    findings.extend(Finding("error", check, detail) for detail in error.details)
    return findings


def lint_bundle_ref(
    opener: Callable[[], tuple[Bundle, Any]], ref: str, *, spec: Path | None = None
) -> LintReport:
    """Open a bundle (path or registry reference) and lint it; load failures become findings."""
    try:
        bundle, info = opener()
    except PcliError as error:
        return LintReport(ref, tuple(_error_findings("structure", error)), (), ("structure",))
    name = getattr(info, "name", None)
    version = getattr(info, "version", None)
    return lint_bundle(bundle, spec_path=spec, target=ref, blueprint=(name, version))


def lint_bundle(
    bundle: Bundle,
    *,
    spec_path: Path | None = None,
    target: str | None = None,
    blueprint: tuple[str | None, str | None] = (None, None),
) -> LintReport:
    findings: list[Finding] = []
    checks = ["structure"]
    if bundle.schema is not None:
        from protoncli.schema.parse import schema_problems

        checks.append("schema")
        findings.extend(
            Finding("warning", "schema", problem, bundle.schema.source)
            for problem in schema_problems(bundle.schema)
        )
    checks.append("render")
    result = None
    try:
        spec, spec_note = _lint_spec(bundle, spec_path)
        if spec_note:
            findings.append(Finding("info", "spec", spec_note))
        result = _render(bundle, spec, blueprint)
    except PcliError as error:
        findings.extend(_error_findings("render", error))
    rendered: tuple[str, ...] = ()
    if result is not None:
        rendered = tuple(sorted(result.files()))
        findings.extend(Finding("warning", "render", w) for w in result.warnings)
        if any(r.provisioning == Provisioning.CLOUDFORMATION for r in result.resources):
            checks.append("cfn-lint")
            findings.extend(_cfn_lint(result))
        tf_findings, ran = _terraform_fmt(result)
        if ran:
            checks.append("terraform-fmt")
        findings.extend(tf_findings)
    return LintReport(target or bundle.root, tuple(findings), rendered, tuple(checks))


def _lint_spec(bundle: Bundle, spec_path: Path | None) -> tuple[Spec | None, str | None]:
    from protoncli.specs.io import load_spec, parse_spec

    if spec_path is not None:
        return load_spec(spec_path), None
    sample = bundle.sample_spec()
    if sample is not None:
        return parse_spec(sample, f"{bundle.root}/spec/spec.yaml"), "rendered with spec/spec.yaml"
    if bundle.kind is Kind.COMPONENT or bundle.schema is None:
        return _placeholder_spec(bundle), None
    return _placeholder_spec(bundle), "no spec/spec.yaml: rendered with defaults and placeholders"


def placeholder_value(item: InputDef) -> Any:
    """A value that satisfies the input's type, enum and limits where that is simple to make."""
    raw = dict(item.raw or {})
    if "example" in raw:
        return raw["example"]
    if item.enum:
        return item.enum[0]
    if item.type in ("number", "integer"):
        return raw.get("minimum", 1)
    if item.type == "boolean":
        return False
    if item.type == "array":
        return []
    text = "placeholder"
    min_length = int(raw.get("minLength", 0))
    max_length = int(raw.get("maxLength", len(text)))
    text = text.ljust(min_length, "x")
    return text[: max(max_length, 1)]


def _placeholder_inputs(input_type: InputType | None) -> dict[str, Any]:
    if input_type is None:
        return {}
    return {
        item.name: placeholder_value(item)
        for item in input_type.inputs
        if item.required and not item.has_default
    }


def _placeholder_spec(bundle: Bundle) -> Spec | None:
    from protoncli.specs.model import EnvironmentSpec, InstanceSpec, ServiceSpec

    schema = bundle.schema
    if bundle.kind is Kind.ENVIRONMENT and schema is not None:
        return EnvironmentSpec(inputs=_placeholder_inputs(schema.main), source="<placeholders>")
    if bundle.kind is Kind.SERVICE and schema is not None:
        instance = InstanceSpec(LINT_INSTANCE, LINT_ENVIRONMENT, _placeholder_inputs(schema.main))
        pipeline = _placeholder_inputs(schema.pipeline) if bundle.has_pipeline else None
        return ServiceSpec(instances=(instance,), pipeline=pipeline, source="<placeholders>")
    return None


def _lint_context(bundle: Bundle) -> RenderContext:
    from protoncli.render.model import ComponentTarget, RenderContext

    component = None
    if bundle.kind is Kind.COMPONENT:
        component = ComponentTarget(LINT_ENVIRONMENT, LINT_SERVICE, LINT_INSTANCE)
    return RenderContext(component=component, placeholder_outputs=True)


def _render(
    bundle: Bundle, spec: Spec | None, blueprint: tuple[str | None, str | None]
) -> RenderResult:
    from protoncli.render.engine import render_bundle

    name = {
        Kind.ENVIRONMENT: LINT_ENVIRONMENT,
        Kind.SERVICE: LINT_SERVICE,
        Kind.COMPONENT: LINT_COMPONENT,
    }[bundle.kind]
    return render_bundle(
        bundle,
        spec,
        name=name,
        context=_lint_context(bundle),
        blueprint_name=blueprint[0],
        blueprint_version=blueprint[1],
    )


def _cfn_lint(result: RenderResult) -> list[Finding]:
    from cfnlint.api import ManualArgs, lint

    findings: list[Finding] = []
    for resource in result.resources:
        if resource.provisioning != Provisioning.CLOUDFORMATION:
            continue
        for file_name, text in resource.files.items():
            if not file_name.endswith((".yaml", ".yml", ".json", ".template")):
                continue
            path = f"{resource.folder}/{file_name}"
            for match in lint(text, config=ManualArgs(regions=["us-east-1"])):
                severity = str(match.rule.severity).lower()
                findings.append(
                    Finding(
                        "error" if severity == "error" else "warning",
                        "cfn-lint",
                        str(match.message),
                        f"{path}:{match.linenumber}",
                        str(match.rule.id),
                    )
                )
    return findings


def _terraform_fmt(result: RenderResult) -> tuple[list[Finding], bool]:
    tf_files = {p: t for p, t in result.files().items() if p.endswith(".tf")}
    if not tf_files:
        return [], False
    terraform = shutil.which("terraform")
    if terraform is None:
        return [Finding("info", "terraform-fmt", "terraform not found: fmt check skipped")], False
    with tempfile.TemporaryDirectory(prefix="pcli-lint-") as tmp:
        for rel, text in tf_files.items():
            target = Path(tmp) / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        env = dict(os.environ, TF_CLI_CONFIG_FILE=os.devnull, TF_IN_AUTOMATION="1")
        proc = subprocess.run(
            [terraform, "fmt", "-check", "-recursive", "-list=true", "-no-color", tmp],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    if proc.returncode == 0:
        return [], True
    findings = [
        Finding(
            "warning",
            "terraform-fmt",
            "not in terraform fmt's canonical format",
            str(Path(name).relative_to(tmp)) if name.startswith(tmp) else name,
        )
        for name in proc.stdout.split()
    ]
    if not findings:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        findings.append(Finding("error", "terraform-fmt", detail[0] if detail else "failed"))
    return findings, True
