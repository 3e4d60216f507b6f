"""The inputs a spec needs for the version it is upgraded to (`deploy.upgrade`).

For each resource of the spec (the environment; each instance and the pipeline of a service):
the inputs of the new version the spec does not set; for those required with no default, a
value from `--param` / `--pipeline-param`, else an answer through the `Prompter`, else nothing
(listed as missing). The spec with those values is then checked against the new schema: other
problems (a value the new schema refuses) and warnings (inputs it does not know) are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from protoncli.deploy.project import Project, missing_required
from protoncli.errors import PcliError
from protoncli.state.declared import EnvironmentRecord, ServiceRecord

if TYPE_CHECKING:
    from protoncli.blueprints.versions import VersionInfo
    from protoncli.prompting import Prompter
    from protoncli.schema.model import InputType, Schema

PIPELINE = "pipeline"


@dataclass(frozen=True)
class NewInput:
    """An input of the new version that the spec does not set: `where` is "" (environment),
    an instance name, or "pipeline"; `needed` when it is required and has no default."""

    where: str
    name: str
    needed: bool
    given: bool = False  # a value came from --param or an answer


@dataclass(frozen=True)
class FoundInputs:
    new_inputs: tuple[NewInput, ...]
    values: dict[str, dict[str, Any]]  # resource ("" | instance | "pipeline") -> new values
    problems: tuple[str, ...]
    warnings: tuple[str, ...]


class NewInputs:
    """The new inputs of each spec: given by --param, asked, or missing; then validation."""

    def __init__(
        self,
        project: Project,
        prompter: Prompter | None,
        params: Mapping[str, str] | None,
        pipeline_params: Mapping[str, str] | None,
    ) -> None:
        self.project = project
        self.prompter = prompter
        self.params = dict(params or {})
        self.pipeline_params = dict(pipeline_params or {})

    def of(self, record: EnvironmentRecord | ServiceRecord, new: VersionInfo) -> FoundInputs:
        """The new inputs of `record` moving to `new`, the values found, what still fails."""
        schema = self.project.registry.load(new).schema
        assert schema is not None  # noqa: S101 - environment and service bundles have one
        old = self._old_names(record)
        new_inputs: list[NewInput] = []
        values: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        warnings: list[str] = []
        for resource in _resources(record, schema, has_pipeline=new.has_pipeline):
            found, answers = self._fill(record, resource, old.get(resource.where, set()))
            new_inputs += found
            if answers:
                values[resource.where] = answers
            more, notes = resource.check(answers, source=str(record.path))
            problems += more
            warnings += notes
        if isinstance(record, ServiceRecord) and record.spec.pipeline and not new.has_pipeline:
            warnings.append(
                f"{record.path}: pipeline inputs are ignored: {new.ref} has no pipeline"
            )
        return FoundInputs(
            tuple(new_inputs), values, tuple(problems), tuple(dict.fromkeys(warnings))
        )

    def _old_names(self, record: EnvironmentRecord | ServiceRecord) -> dict[str, set[str]]:
        """Input names of the version the spec pins now, by resource ("" / instance / pipeline);
        empty when the registry no longer has it."""
        try:
            schema = self.project.registry.load(
                self.project.registry.get(record.blueprint, record.version)
            ).schema
        except PcliError:
            return {}
        if schema is None:
            return {}
        main = {item.name for item in schema.main.inputs}
        if isinstance(record, EnvironmentRecord):
            return {"": main}
        names = {instance.name: main for instance in record.spec.instances}
        names[PIPELINE] = (
            {item.name for item in schema.pipeline.inputs} if schema.pipeline else set()
        )
        return names

    def _fill(
        self, record: EnvironmentRecord | ServiceRecord, resource: _Resource, old: set[str]
    ) -> tuple[list[NewInput], dict[str, Any]]:
        """The new inputs of one resource and the values found for the missing ones."""
        from protoncli.prompting import ask_inputs
        from protoncli.specs.resolve import apply_params

        input_type, given, where = resource.input_type, resource.given, resource.where
        absent = {item.name for item in missing_required(input_type, given)}
        flags = self.pipeline_params if where == PIPELINE else self.params
        answers = apply_params({}, {k: v for k, v in flags.items() if k in absent}, input_type)
        still = absent - set(answers)
        if still and self.prompter is not None:
            asked = [item.name for item in input_type.inputs if item.name not in still]
            key = f"{record.name}.{where or 'inputs'}"
            answers.update(ask_inputs(input_type, asked, self.prompter, key=key))
        found = [
            NewInput(where, item.name, item.name in absent, item.name in answers)
            for item in input_type.inputs
            if item.name not in given and (item.name not in old or item.name in absent)
        ]
        return found, answers


@dataclass(frozen=True)
class _Resource:
    """One set of inputs of a spec: the environment's, an instance's or the pipeline's."""

    where: str  # "" | instance name | "pipeline"
    input_type: InputType
    given: Mapping[str, Any]
    key_lines: Mapping[str, int]
    line: int | None = None

    def check(self, answers: Mapping[str, Any], *, source: str) -> tuple[list[str], list[str]]:
        """Problems (other than missing inputs, listed on their own) and warnings of the
        resource's inputs with `answers` added, against the new schema."""
        from protoncli.schema.validate import MISSING
        from protoncli.specs.resolve import resolve_inputs

        label = {"": "", PIPELINE: PIPELINE}.get(self.where, f"instance '{self.where}'")
        _, problems, warnings = resolve_inputs(
            self.input_type,
            {**self.given, **answers},
            where=label,
            key_lines=self.key_lines,
            source=source,
            line=self.line,
        )
        return [str(p) for p in problems if p.kind != MISSING], warnings


def _resources(
    record: EnvironmentRecord | ServiceRecord, schema: Schema, *, has_pipeline: bool
) -> list[_Resource]:
    if isinstance(record, EnvironmentRecord):
        return [_Resource("", schema.main, dict(record.spec.inputs), record.spec.key_lines)]
    found = [
        _Resource(i.name, schema.main, dict(i.inputs), i.key_lines, i.line or None)
        for i in record.spec.instances
    ]
    if has_pipeline and schema.pipeline is not None:
        spec = record.spec
        found.append(
            _Resource(PIPELINE, schema.pipeline, dict(spec.pipeline or {}), spec.pipeline_key_lines)
        )
    return found
