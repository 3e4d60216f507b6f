"""The guardrails gate: every CloudFormation template is checked before its change set is made.

`recorded_deploy` (records.py), the one place deployments are made, calls `gate` first. The
rules are the registry's (`<registry>/.guardrails/`) and those of the blueprint version the
stack's tags name (its bundle's `guardrails/`), checked together (guardrails/rules.py). A
violation of an `error` rule blocks the deploy before anything is asked of AWS (exit 1, every
violation listed: rule, resource, property, message); a `warning` is a warning event and the
deploy goes on. `--override-rule NAME` lets an error rule's violations through as warnings; the
rules overridden are recorded with the deployment. An override that names no rule of the
template's rule set, nor of those of the command's stacks before it (a component's, before the
instance it redeploys), is refused (exit 2); `apply`, `upgrade` and `adopt`, whose stacks have
different blueprints, check the names against all of theirs first (`check_overrides`).

Terraform and CodeBuild items are not checked: Guard reads CloudFormation templates here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from protoncli.deploy.model import DeployEvent, DeployHooks, StackRequest
from protoncli.errors import NotFoundError, PcliError, UsageError, did_you_mean
from protoncli.guardrails.check import Violation, check_template
from protoncli.guardrails.rules import ERROR, RuleSet, bundle_rules
from protoncli.state.identity import BLUEPRINT_TAG, COMPONENT, VERSION_TAG, Identity

if TYPE_CHECKING:
    from protoncli.blueprints.model import Bundle
    from protoncli.deploy.project import Project
    from protoncli.state.plan import Plan

OVERRIDE_FLAG = "--override-rule"


class GuardrailViolationError(PcliError):
    """A template that breaks an `error` rule: nothing was deployed (exit 1)."""

    def __init__(self, description: str, violations: list[Violation]) -> None:
        rules = sorted({violation.rule for violation in violations})
        super().__init__(
            f"{description}: {len(violations)} guardrail violation(s) of "
            f"{', '.join(rules)}; nothing was deployed",
            details=[_detail(violation) for violation in violations],
            hint="change the inputs or the blueprint so the template keeps the rules; where "
            f"the platform team allows an exception, deploy again with {OVERRIDE_FLAG} "
            f"{rules[0]} (recorded with the deployment)",
        )
        self.violations = violations


def rules_of(project: Project, blueprint: str | None, version: str | None) -> RuleSet:
    """The registry's rules joined with those of `blueprint@version` (read once per run)."""

    def bundle() -> Bundle | None:
        if not (blueprint and version):
            return None
        try:
            info = project.registered(blueprint, version)
        except NotFoundError:  # a rollback to a version no longer registered: its rules are gone
            return None
        return project.registry.load(info)

    return _read_once(project, (blueprint or "", version or ""), bundle)


def check_overrides(project: Project, rule_sets: Iterable[RuleSet]) -> None:
    """Refuse an `--override-rule` that names no rule of any of `rule_sets` (exit 2); after it,
    each deployment of the run takes the names as they are."""
    overrides = project.overrides
    if not overrides.rules:
        return
    known = {name for rules in rule_sets for name in rules.names()}
    _refuse_unknown(overrides.rules - known, known, "this run's templates")
    overrides.checked = True


def component_rules(project: Project, name: str) -> RuleSet:
    """The registry's rules joined with those of a component's bundle, as the workspace holds it
    (`components/NAME/`: a component has no registered blueprint)."""

    def bundle() -> Bundle | None:
        from protoncli.blueprints.bundle import load_bundle

        folder = project.workspace.component_dir(name)
        return load_bundle(folder) if folder.is_dir() else None

    return _read_once(project, (f"component {name}", ""), bundle)


def _read_once(
    project: Project, key: tuple[str, str], bundle: Callable[[], Bundle | None]
) -> RuleSet:
    """The registry's rules joined with those of `bundle()` (None: the registry's only), read
    once per run under `key`."""
    known: RuleSet | None = project.overrides.rule_sets.get(key)
    if known is None:
        found = bundle()
        known = project.registry.guardrails()
        if found is not None:
            known = known.joined(bundle_rules(found))
        project.overrides.rule_sets[key] = known
    return known


def _rules_for(project: Project, request: StackRequest) -> RuleSet:
    blueprint = request.tags.get(BLUEPRINT_TAG)
    identity = Identity.from_tags(request.tags)
    if blueprint is None and identity is not None and identity.kind == COMPONENT:
        return component_rules(project, identity.component or "")
    return rules_of(project, blueprint, request.tags.get(VERSION_TAG))


def check_plan_overrides(project: Project, plan: Plan) -> None:
    """`check_overrides` against the rule sets of every blueprint version a plan deploys."""
    from protoncli.state.plan import DELETE

    if not project.overrides.rules:
        return
    acting = [p.item for p in plan.items if p.action != DELETE]
    versions = {(item.blueprint, item.version) for item in acting if item.kind != COMPONENT}
    rule_sets = [rules_of(project, name, version) for name, version in versions]
    rule_sets += [
        component_rules(project, item.identity.component or "")
        for item in acting
        if item.kind == COMPONENT
    ]
    check_overrides(project, rule_sets)


def gate(project: Project, request: StackRequest, hooks: DeployHooks) -> tuple[str, ...]:
    """Check `request`'s template; warnings go to `hooks`, blocking violations raise
    `GuardrailViolationError`. Returns the rules whose violations `--override-rule` let through."""
    if request.provisioned is not None:  # Terraform, CodeBuild: no CloudFormation template
        return ()
    rules = _rules_for(project, request)
    overrides = project.overrides
    if not overrides.checked:  # the command's other stacks so far count too (a component's)
        known = {name for seen in overrides.rule_sets.values() for name in seen.names()}
        _refuse_unknown(overrides.rules - known, known, request.description)
    if not rules:
        return ()
    violations = check_template(rules, _parsed(request))
    blocking = [v for v in violations if v.severity == ERROR and v.rule not in overrides.rules]
    if blocking:
        raise GuardrailViolationError(request.description, blocking)
    overridden = sorted({v.rule for v in violations if v.severity == ERROR})
    for violation in violations:
        how = "overridden" if violation.severity == ERROR else "warning"
        hooks.on_event(
            DeployEvent(
                "warning",
                request.stack_name,
                request.description,
                message=f"guardrail {violation.line()} ({how})",
            )
        )
    return tuple(overridden)


def _refuse_unknown(unknown: Iterable[str], known: set[str], where: str) -> None:
    names = sorted(unknown)
    if not names:
        return
    listing = f"its rules: {', '.join(sorted(known))}" if known else "it has no guardrails"
    raise UsageError(
        f"{OVERRIDE_FLAG} {names[0]}: no guardrail of {where} has that name"
        f"{did_you_mean(names[0], known)}; {listing}",
        hint="name a rule that blocks the deploy; `pcli blueprint lint` lists the rules",
    )


def _detail(violation: Violation) -> str:
    return f"{violation.line()} [rule in {violation.rule_file}]"


def _parsed(request: StackRequest) -> Mapping[str, Any]:
    from protoncli.errors import RenderError
    from protoncli.yamlio import parse_yaml

    document = parse_yaml(
        request.template_body, request.description, RenderError, cloudformation=True
    )
    return document if isinstance(document, Mapping) else {}
