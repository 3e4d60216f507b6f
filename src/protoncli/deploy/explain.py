"""What a change set changes, said in full before anyone confirms it.

CloudFormation describes each change of an update down to its properties (`Change.details`,
with their values before and after); pcli adds the stack's inputs as last deployed against the
spec's now (`InputChanges`). Both go wherever the change set goes (the confirmation, the
progress views, `--json`, `plan --changes`), and neither may show a secret:

- Property values CloudFormation masks (NoEcho) stay `****`. A value that shows the plain value
  of a secret input of the spec (a spec carried over from Proton) is `****`, and so is the other
  side of that change (the value before may be the secret as it was). A side that holds a
  reference to a secret (`{{resolve:secretsmanager:...}}`, `{{resolve:ssm-secure:...}}`) is
  shown, and the other side is `****` unless it holds one too (it may be the plain value the
  reference replaced).
- Secret inputs show as their reference, or `****` for a plain value. A secret input whose value
  the record masked (`****`) and the spec still gives in plain text cannot be compared: it is not
  listed.

The inputs as last deployed are in the stack's deployment record (the one its
`pcli:deployment-id` tag names). Reading it costs a ListObjectsV2 and a GetObject, so it is read
only when someone reviews the change set (`DeployHooks.review`: a question in a terminal, or a
refusal for review where pcli cannot ask; `plan --changes`), never for a `--yes` deploy or an
apply, whose call budget it would break. A record that is missing or cannot be read makes the
inputs as last deployed unknown (`InputChanges.known` False, with the reason); it never fails
the deployment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from protoncli.deploy.model import (
    Change,
    DeployHooks,
    InputChange,
    InputChanges,
    PropertyChange,
    StackInfo,
    StackRequest,
)
from protoncli.errors import PcliError
from protoncli.state.identity import (
    BLUEPRINT_TAG,
    COMPONENT,
    DEPLOYMENT_TAG,
    ENVIRONMENT,
    PIPELINE,
    SERVICE_INSTANCE,
    VERSION_TAG,
    Identity,
)

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.deploy.records import DeploymentRecord
    from protoncli.schema.model import InputType
    from protoncli.schema.secrets import SecretMask
    from protoncli.specs.model import EnvironmentSpec, ServiceSpec, Spec

MASK = "****"
_SECRET_REFERENCES = ("{{resolve:secretsmanager:", "{{resolve:ssm-secure:")


def explained(
    project: Project,
    region: str,
    request: StackRequest,
    hooks: DeployHooks,
    *,
    spec: EnvironmentSpec | ServiceSpec | None,
    spec_text: str | None,
) -> DeployHooks:
    """`hooks` that explain the change sets of `request`'s stack (`DeployHooks.explain`): the
    inputs changed only when `hooks.review` says the change set is reviewed."""
    explainer = ChangeExplainer(
        project,
        region,
        request,
        spec=spec,
        spec_text=spec_text,
        read_inputs=hooks.review,
    )
    return replace(hooks, explain=explainer)


class ChangeExplainer:
    """Masks a change set's values and tells the inputs changed, for one stack's request."""

    def __init__(
        self,
        project: Project,
        region: str,
        request: StackRequest,
        *,
        spec: Spec | None,
        spec_text: str | None,
        read_inputs: bool,
    ) -> None:
        self._project = project
        self._region = region
        self._request = request
        self._spec = spec
        self._spec_text = spec_text
        self._read_inputs = read_inputs
        self._mask: SecretMask | None = None

    def __call__(
        self, info: StackInfo | None, changes: tuple[Change, ...]
    ) -> tuple[tuple[Change, ...], InputChanges | None]:
        """The changes with their values masked; for an update (`info`, the stack as it
        stands) that is reviewed, the inputs changed since its last deployment."""
        if any(detail.has_values for change in changes for detail in change.details):
            mask = self.mask()
            changes = tuple(
                replace(change, details=tuple(masked(d, mask) for d in change.details))
                for change in changes
            )
        inputs = self.inputs(info) if self._read_inputs and info is not None else None
        return changes, inputs

    def mask(self) -> SecretMask:
        """The plain values the spec gives secret inputs (normally none: specs hold
        references); an empty mask when the blueprint's schema cannot be read."""
        if self._mask is None:
            from protoncli.deploy.records import secret_mask
            from protoncli.schema.secrets import SecretMask

            try:
                self._mask = secret_mask(self._project, self._request, self.spec())
            except PcliError:  # the version left the registry (a rollback): nothing to match
                self._mask = SecretMask()
        return self._mask

    def spec(self) -> Spec | None:
        """The spec deployed now (given, or read from its text: a rollback's)."""
        if self._spec is None and self._spec_text is not None:
            from protoncli.specs.io import parse_spec

            try:
                self._spec = parse_spec(self._spec_text, self._request.stack_name)
            except PcliError:  # not a spec: a component's record file
                self._spec_text = None
        return self._spec

    def inputs(self, info: StackInfo) -> InputChanges | None:
        """The stack's inputs as last deployed against the spec's now; None for a stack with no
        inputs of its own (a component)."""
        identity = Identity.from_tags(self._request.tags)
        if identity is None or identity.kind == COMPONENT:
            return None
        spec = self.spec()
        now = inputs_of(spec, identity) if spec is not None else None
        if now is None:
            return None
        record = self._record(info)
        if isinstance(record, str):
            return InputChanges(known=False, reason=record)
        before = self._recorded_inputs(record, identity)
        if isinstance(before, str):
            return InputChanges(known=False, reason=before)
        tags = self._request.tags
        now_type = self._input_type(tags.get(BLUEPRINT_TAG), tags.get(VERSION_TAG), identity)
        # A version that left the registry: its defaults were most likely the same.
        then_type = self._input_type(record.blueprint, record.version, identity) or now_type
        secret = frozenset(
            item.name
            for input_type in (now_type, then_type)
            if input_type is not None
            for item in input_type.inputs
            if item.secret
        )
        return compare_inputs(
            with_defaults(before, then_type),
            with_defaults(now, now_type),
            secret=secret,
            mask=self.mask(),
        )

    def _record(self, info: StackInfo) -> DeploymentRecord | str:
        """The record of the deployment the stack runs, or why there is none to read."""
        from protoncli.deploy.records import deployed_record

        deployment = info.tags.get(DEPLOYMENT_TAG)
        if not deployment:
            return f"the stack has no {DEPLOYMENT_TAG} tag (deployed by Proton?)"
        try:
            record = deployed_record(
                self._project,
                self._region,
                self._request.stack_name,
                deployment,
                account=self._request.account,
            )
        except PcliError as error:
            return f"its deployment record could not be read: {error.message}"
        if record is None:
            return (
                f"no deployment record of {deployment[:8]}: deployed before pcli kept records, "
                "or by Proton"
            )
        return record

    @staticmethod
    def _recorded_inputs(record: DeploymentRecord, identity: Identity) -> Mapping[str, Any] | str:
        """The inputs the record's spec gives the item, or why there are none."""
        from protoncli.specs.io import parse_spec

        if record.spec is None:
            return f"its deployment record ({record.short_id}) holds no spec"
        try:
            found = inputs_of(parse_spec(record.spec, record.key), identity)
        except PcliError:
            return f"the spec in its deployment record ({record.short_id}) cannot be read"
        if found is None:
            return f"its deployment record ({record.short_id}) has no inputs of it"
        if identity.kind == SERVICE_INSTANCE and record.overrides:  # svc deploy --param
            return {**found, **record.overrides}
        return found

    def _input_type(
        self, blueprint: str | None, version: str | None, identity: Identity
    ) -> InputType | None:
        """The item's input type in a blueprint version; None when it cannot be read (the
        version left the registry)."""
        if not blueprint or not version:
            return None
        try:
            schema = self._project.registry.load(
                self._project.registered(blueprint, version)
            ).schema
        except PcliError:
            return None
        if schema is None:
            return None
        return schema.pipeline if identity.kind == PIPELINE else schema.main


def with_defaults(inputs: Mapping[str, Any], input_type: InputType | None) -> dict[str, Any]:
    """The inputs as the item renders with them: the schema's defaults, then the spec's
    values (a spec leaves out inputs it gives their default)."""
    if input_type is None:
        return dict(inputs)
    defaults = {item.name: item.default for item in input_type.inputs if item.has_default}
    return {**defaults, **inputs}


def inputs_of(spec: Spec, identity: Identity) -> Mapping[str, Any] | None:
    """The inputs a spec gives the item: an environment's, an instance's, a pipeline's."""
    from protoncli.specs.model import EnvironmentSpec

    if isinstance(spec, EnvironmentSpec):
        return spec.inputs if identity.kind == ENVIRONMENT else None
    if identity.kind == PIPELINE:
        return spec.pipeline or {}
    if identity.kind == SERVICE_INSTANCE:
        instance = spec.instance(identity.instance or "")
        return instance.inputs if instance is not None else None
    return None


def compare_inputs(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    *,
    secret: frozenset[str] = frozenset(),
    mask: SecretMask | None = None,
) -> InputChanges:
    """The inputs changed, added and removed from `before` to `after` (in the order the specs
    list them), their values as they may be shown."""
    from protoncli.schema.secrets import holds_plain_secret

    def shown(name: str, value: Any) -> Any:
        return shown_value(value, secret=name in secret, mask=mask)

    changed, added = [], []
    for name, value in after.items():
        if name not in before:
            added.append(InputChange(name, after=shown(name, value)))
            continue
        old = before[name]
        if old == value:
            continue
        if name in secret and old == MASK and holds_plain_secret(value):
            continue  # the record masked the plain value: whether it changed cannot be told
        changed.append(InputChange(name, shown(name, old), shown(name, value)))
    removed = [
        InputChange(name, before=shown(name, value))
        for name, value in before.items()
        if name not in after
    ]
    return InputChanges(
        known=True, changed=tuple(changed), added=tuple(added), removed=tuple(removed)
    )


def shown_value(value: Any, *, secret: bool, mask: SecretMask | None = None) -> Any:
    """An input's value as it may be shown: a secret input's reference, or `****` for a
    plain value; any value that shows a secret input's plain value, `****`."""
    from protoncli.schema.secrets import holds_plain_secret

    if secret and holds_plain_secret(value):
        return MASK
    if mask and value is not None:
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if mask.text(text) != text:
            return MASK
    return value


def masked(detail: PropertyChange, mask: SecretMask) -> PropertyChange:
    """A property change whose values show no secret (see the module's docstring)."""
    before, after = detail.before, detail.after
    if _shows(before, mask) or _shows(after, mask):
        return replace(detail, before=_hidden(before), after=_hidden(after))
    if _references(after) and not _references(before):
        before = _hidden(before)
    elif _references(before) and not _references(after):
        after = _hidden(after)
    return replace(detail, before=before, after=after)


def _shows(value: str | None, mask: SecretMask) -> bool:
    return value is not None and mask.text(value) != value


def _references(value: str | None) -> bool:
    return value is not None and any(start in value for start in _SECRET_REFERENCES)


def _hidden(value: str | None) -> str | None:
    return None if value is None else MASK
