"""`pcli blueprint lint`: everything that can be checked about a bundle without AWS.

Checks, in order: the bundle loads (layout, manifests, limits), the schema's own sanity, a test
render with the sample spec (`spec/spec.yaml`) or placeholder inputs and placeholder outputs,
cfn-lint on every rendered CloudFormation file, the guardrails (the bundle's `guardrails/` and
the registry's, guardrails/) on the same files, and `terraform fmt -check` on Terraform output
where a `terraform` binary exists.

What lint makes up, and how it tells findings about those values from findings about the bundle,
is in lint_render.py and docs/reference/lint.md. Whatever a bundle holds, lint reports findings:
an exception no check expected becomes an error finding, never a traceback.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.model import Bundle, Kind, Provisioning
from protoncli.blueprints.retired import proton_calls
from protoncli.errors import PcliError
from protoncli.guardrails.rules import RuleSet

if TYPE_CHECKING:
    from protoncli.blueprints.lint_render import LintRender
    from protoncli.render.model import RenderResult
    from protoncli.specs.model import Spec


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" | "warning" | "info"
    # "structure" | "schema" | "proton-api" | "spec" | "render" | "cfn-lint" | "guardrails" |
    # "terraform-fmt"
    check: str
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


def _error_findings(check: str, error: PcliError, severity: str = "error") -> list[Finding]:
    findings = [Finding(severity, check, error.message)]
    findings.extend(Finding(severity, check, detail) for detail in error.details)
    return findings


def _unexpected(check: str, error: Exception, location: str | None = None) -> Finding:
    """An exception no check expected, as an error finding (lint never ends in a traceback)."""
    text = str(error).strip().splitlines()
    detail = f": {text[0]}" if text else ""
    return Finding(
        "error",
        check,
        f"{check} stopped with an unexpected {type(error).__name__}{detail}",
        location,
    )


def lint_bundle_ref(
    opener: Callable[[], tuple[Bundle, Any]],
    ref: str,
    *,
    spec: Path | None = None,
    registry_rules: Callable[[], RuleSet] | None = None,
) -> LintReport:
    """Open a bundle (path or registry reference) and lint it; load failures become findings.
    `registry_rules` gives the registry's guardrails, checked with the bundle's own."""
    try:
        bundle, info = opener()
    except PcliError as error:
        return LintReport(ref, tuple(_error_findings("structure", error)), (), ("structure",))
    name = getattr(info, "name", None)
    version = getattr(info, "version", None)
    return lint_bundle(
        bundle,
        spec_path=spec,
        target=ref,
        blueprint=(name, version),
        registry_rules=registry_rules,
    )


def lint_bundle(
    bundle: Bundle,
    *,
    spec_path: Path | None = None,
    target: str | None = None,
    blueprint: tuple[str | None, str | None] = (None, None),
    registry_rules: Callable[[], RuleSet] | None = None,
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
    checks.append("proton-api")
    findings.extend(
        Finding("warning", "proton-api", call.message, f"{call.path}:{call.line}")
        for call in proton_calls(bundle.files)
    )
    checks.append("render")
    result, placeholders = _render_step(bundle, spec_path, blueprint, findings)
    rendered: tuple[str, ...] = ()
    if result is not None:
        rendered = tuple(sorted(result.files()))
        findings.extend(Finding("warning", "render", w) for w in result.warnings)
        if any(r.provisioning == Provisioning.CLOUDFORMATION for r in result.resources):
            checks.append("cfn-lint")
            findings.extend(_cfn_lint(result, placeholders))
            rules_findings, checked = _guardrails(bundle, result, registry_rules)
            if checked:
                checks.append("guardrails")
            findings.extend(rules_findings)
        tf_findings, ran = _terraform_fmt(result)
        if ran:
            checks.append("terraform-fmt")
        findings.extend(tf_findings)
    return LintReport(target or bundle.root, tuple(findings), rendered, tuple(checks))


def _render_step(
    bundle: Bundle,
    spec_path: Path | None,
    blueprint: tuple[str | None, str | None],
    findings: list[Finding],
) -> tuple[RenderResult | None, Mapping[str, str]]:
    """The test render; its notes and failures go to `findings`. Returns the result (None when
    nothing rendered) and the placeholder values it used (value -> what it stands for)."""
    try:
        spec, spec_note = _lint_spec(bundle, spec_path)
    except PcliError as error:
        findings.extend(_error_findings("render", error))
        return None, {}
    if spec_note:
        findings.append(Finding("info", "spec", spec_note))
    from protoncli.blueprints.lint_render import LintRender

    render = LintRender(bundle, spec, blueprint)
    unexpected: Exception | None = None
    try:
        result, failure = render.run()
    except Exception as error:  # noqa: BLE001 - no bundle ends lint with an internal error
        result, failure, unexpected = None, None, error
    findings.extend(Finding(*note) for note in render.notes)
    if unexpected is not None:
        findings.append(_unexpected("render", unexpected))
    if failure is not None:
        findings.extend(_failure_findings(failure, render))
    return result, render.placeholders()


def _failure_findings(error: PcliError, render: LintRender) -> list[Finding]:
    """A render that failed: an error, or a warning when only lint's placeholders made it fail."""
    label = render.failure_cause(error)
    if label is None:
        return _error_findings("render", error)
    note = f" (caused by lint's placeholder for {label}, not by the bundle)"
    findings = [Finding("warning", "render", error.message + note)]
    findings.extend(Finding("warning", "render", detail) for detail in error.details)
    return findings


def _lint_spec(bundle: Bundle, spec_path: Path | None) -> tuple[Spec | None, str | None]:
    from protoncli.specs.io import load_spec, parse_spec

    if spec_path is not None:
        return load_spec(spec_path), None
    sample = bundle.sample_spec()
    if sample is not None:
        return parse_spec(sample, f"{bundle.root}/spec/spec.yaml"), "rendered with spec/spec.yaml"
    if bundle.kind is Kind.COMPONENT or bundle.schema is None:
        return None, None
    return None, "no spec/spec.yaml: rendered with defaults and placeholders"


# A cfn-lint message about a value starts with it: `'vpc-1' is not a 'AWS::EC2::VPC.Id'`,
# `0 is less than the minimum of 1`.
_LEADING_VALUE = re.compile(r"""^(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?)\b)""")
# A scalar where a list or a mapping belongs is the template's doing, whatever the value.
_STRUCTURAL = re.compile(r"is not of type .*'(array|object)'")
CFN_SUFFIXES = (".yaml", ".yml", ".json", ".template")  # the files cfn-lint and guardrails read
MIN_CONTAINED = 8  # a shorter placeholder counts only when it is the whole value
MAX_SCALARS = 50  # scalars of the node a finding points at that are looked at


def placeholder_behind(
    message: str, placeholders: Mapping[str, str], node: Any = None
) -> str | None:
    """What lint made up that a cfn-lint finding is about, if anything (the rule is in
    docs/reference/lint.md, "Findings about placeholders").

    The value a finding is about is the one its message starts with, or a scalar of `node` (the
    value at the finding's path in the rendered template) that the message quotes. It holds a
    placeholder when it is one, contains one of at least `MIN_CONTAINED` characters (shorter
    ones, such as `1`, are too common to tell), or contains `placeholder-`. A scalar found where
    a list or mapping belongs is never the placeholder's fault.
    """
    if _STRUCTURAL.search(message):
        return None
    found = _LEADING_VALUE.match(message)
    if found is not None:
        value = next(group for group in found.groups() if group is not None)
        label = _held(value, placeholders)
        if label is not None:
            return label
    for scalar in _scalars(node):
        if f"'{scalar}'" in message or repr(scalar) in message:
            label = _held(scalar, placeholders)
            if label is not None:
                return label
    return None


def _held(value: str, placeholders: Mapping[str, str]) -> str | None:
    for text, label in placeholders.items():
        if value == text or (len(text) >= MIN_CONTAINED and text in value):
            return label
    if "placeholder-" in value:
        return "an output"
    return None


def _scalars(node: Any) -> list[str]:
    """The string scalars of a parsed template node (the first `MAX_SCALARS`)."""
    found: list[str] = []
    pending = [node]
    seen: set[int] = set()  # YAML aliases can make cycles
    while pending and len(found) < MAX_SCALARS:
        item = pending.pop(0)
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping | list) and id(item) not in seen:
            seen.add(id(item))
            pending.extend(item.values() if isinstance(item, Mapping) else item)
    return found


def _at_path(document: Any, path: Any) -> Any:
    """The node at a cfn-lint path (keys and indexes) in a parsed template; None if absent."""
    node = document
    for step in path if isinstance(path, list | tuple) else ():
        in_mapping = isinstance(node, Mapping) and step in node
        in_list = isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)
        if not (in_mapping or in_list):
            return None
        node = node[step]
    return node


def _cfn_lint(result: RenderResult, placeholders: Mapping[str, str]) -> list[Finding]:
    from cfnlint.api import ManualArgs, lint

    findings: list[Finding] = []
    for resource in result.resources:
        if resource.provisioning != Provisioning.CLOUDFORMATION:
            continue
        for file_name, text in resource.files.items():
            if not file_name.endswith(CFN_SUFFIXES):
                continue
            path = f"{resource.folder}/{file_name}"
            try:
                matches = lint(text, config=ManualArgs(regions=["us-east-1"]))
            except Exception as error:  # noqa: BLE001 - no template ends lint with a traceback
                findings.append(_unexpected("cfn-lint", error, path))
                continue
            document = _parsed(text) if matches else None
            findings.extend(
                _cfn_finding(match, f"{path}:{match.linenumber}", placeholders, document)
                for match in matches
            )
    return findings


def _guardrails(
    bundle: Bundle, result: RenderResult, registry_rules: Callable[[], RuleSet] | None
) -> tuple[list[Finding], bool]:
    """The guardrails' violations in every rendered CloudFormation file, as a deploy would see
    them (an error rule's are errors); rule files that cannot be used are error findings. A
    registry that cannot be read (a team registry out of reach) is a warning: the bundle's own
    rules are checked still. Returns the findings and whether there were rules to check."""
    from protoncli.guardrails.check import check_template
    from protoncli.guardrails.rules import GuardrailsError, bundle_rules

    findings: list[Finding] = []
    registry = RuleSet()
    try:
        registry = registry_rules() if registry_rules else RuleSet()
    except GuardrailsError as error:  # the registry's rules themselves
        return _error_findings("guardrails", error), True
    except PcliError as error:
        note = f"the registry's guardrails could not be read ({error.message}): not checked"
        findings.append(Finding("warning", "guardrails", note))
    try:
        rules = registry.joined(bundle_rules(bundle))
    except PcliError as error:
        return findings + _error_findings("guardrails", error), True
    if not rules:
        return findings, bool(findings)
    for resource in result.resources:
        if resource.provisioning != Provisioning.CLOUDFORMATION:
            continue
        for file_name, text in resource.files.items():
            document = _parsed(text) if file_name.endswith(CFN_SUFFIXES) else None
            if not isinstance(document, Mapping):
                continue
            path = f"{resource.folder}/{file_name}"
            try:
                violations = check_template(rules, document)
            except PcliError as error:
                findings.extend(_error_findings("guardrails", error))
                continue
            findings.extend(
                Finding(v.severity, "guardrails", v.line(), path, v.rule) for v in violations
            )
    return findings, True


def _parsed(text: str) -> Any:
    from protoncli.errors import RenderError
    from protoncli.yamlio import parse_yaml

    try:
        return parse_yaml(text, "<rendered>", RenderError, cloudformation=True)
    except RenderError:
        return None


def _cfn_finding(
    match: Any, location: str, placeholders: Mapping[str, str], document: Any
) -> Finding:
    """One cfn-lint match; one about a value lint made up is a warning (an error's) or info."""
    severity = "error" if str(match.rule.severity).lower() == "error" else "warning"
    message = str(match.message)
    node = _at_path(document, getattr(match, "path", None))
    label = placeholder_behind(message, placeholders, node)
    if label is not None:
        severity = "warning" if severity == "error" else "info"
        message = f"{message} (the value is lint's placeholder for {label})"
    return Finding(severity, "cfn-lint", message, location, str(match.rule.id))


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
        try:
            proc = subprocess.run(
                [terraform, "fmt", "-check", "-recursive", "-list=true", "-no-color", tmp],
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as error:
            return [_unexpected("terraform-fmt", error)], True
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
