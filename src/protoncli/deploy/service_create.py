"""`pcli svc create`: a new service's spec file, from flags, a --spec file and answers.

Whatever is not given is asked through a prompter (see `deploy.interview`): name, blueprint,
version, environments and instance names, then each instance's inputs and the pipeline's.
Everything is checked before anything is written; secret values go to AWS Secrets Manager and
the spec holds references to them. A create of a name whose spec file exists may continue with
it (`continue_service`, see `deploy.resume`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.limits import check_name
from protoncli.blueprints.model import Bundle
from protoncli.deploy.interview import Interview
from protoncli.deploy.project import Project, missing_required
from protoncli.deploy.services import check_compatible, environment_facts
from protoncli.errors import InputError, UsageError
from protoncli.schema.model import InputType
from protoncli.specs.model import InstanceSpec, ServiceSpec
from protoncli.specs.repository import FLAGS, REPOSITORY_KEYS, Source, shape_problem
from protoncli.state.declared import ServiceRecord, read_environment, read_service

if TYPE_CHECKING:
    from protoncli.blueprints.registry import VersionInfo
    from protoncli.deploy.resume import Continuation
    from protoncli.prompting import Prompter
    from protoncli.workspace.scaffold import ScaffoldResult


def create_service(
    project: Project,
    name: str | None,
    blueprint_ref: str | None,
    *,
    version: str | None = None,
    instances: Sequence[tuple[str, str]],
    spec: ServiceSpec | None = None,
    params: Mapping[str, str] | None = None,
    pipeline_params: Mapping[str, str] | None = None,
    require_deployed: bool = False,
    scaffold_into: Path | None = None,
    source: Mapping[str, str] | None = None,
    prompter: Prompter | None = None,
    skeleton_optional: bool = False,
) -> ServiceRecord:
    """Validate everything against the blueprint, then write services/<name>.yaml.

    Whatever is not given (name, blueprint, version, instances, inputs) is asked through
    `prompter` and reviewed (see `deploy.interview`); with no prompter, everything missing is
    one error. Nothing is written when a check fails: with `require_deployed` (a deploy
    follows) every environment must be deployed and the blueprint one pcli deploys (refused
    before any input is asked), and with `scaffold_into` no file of the folder may be one pcli
    would refuse to overwrite. The skeleton is written after the spec file. With
    `skeleton_optional`, a blueprint with no skeleton scaffolds nothing instead of failing.

    `source` holds the repository fields given by flags (`specs.repository` keys); each missing
    one comes from the --spec file's header, else from the git repository of `scaffold_into`
    (its origin remote and branch). They are written to the spec's header.

    Questions are asked without any lock. The name, the environments (present, compatible,
    deployed if required, not being deleted) are checked again under the workspace lock, which
    is held until the spec file is written.
    """
    from protoncli.deploy.interview import check_new_name
    from protoncli.deploy.usability import require_usable
    from protoncli.locks import require_not_deleting, workspace_lock
    from protoncli.workspace.specfiles import service_document, write_new_spec

    interview = Interview(project, "service", prompter)
    name = interview.choose_name(name)
    flags = list(instances)
    placed = [i.environment for i in _planned_instances(spec, flags)]
    usability = interview.usability(deploying=require_deployed, placed=placed)
    info = interview.choose_blueprint(
        blueprint_ref, version, spec.header if spec else {}, usability
    )
    subject = f"service {name!r}" if name else "new service"
    if info is None:
        if not flags and not (spec and spec.instances):
            interview.choose_instances(None, None, "")
        raise interview.missing_error(None, subject)
    if str(info.kind) != "service":
        raise UsageError(
            f"blueprint {info.ref} is a {info.kind} blueprint, not a service blueprint"
        )
    bundle = project.registry.load(info)
    require_usable(usability, info, bundle)  # before any input is asked
    given = _Given(spec, dict(params or {}), dict(pipeline_params or {}))
    given.check_params(bundle, info.name)
    chosen_source = service_source(
        source or {}, spec, scaffold_into, has_pipeline=bundle.has_pipeline, blueprint=info.ref
    )
    if skeleton_optional and not bundle.skeleton_files():
        scaffold_into = None  # nothing to scaffold from
    planned = _placed_instances(
        project, interview, bundle, info, flags, spec=spec, require_deployed=require_deployed
    )
    planned, pipeline_answers = _asked_inputs(interview, bundle, given, planned)
    planned, pipeline = _checked_inputs(
        bundle,
        info.name,
        subject,
        given=given,
        planned=planned,
        pipeline_answers=pipeline_answers,
        interview=interview,
    )
    if name is None:
        raise interview.missing_error(None, subject)
    if scaffold_into is not None:
        _scaffold(bundle, info, name, planned, scaffold_into, project=project, dry_run=True)
    path = project.workspace.service_spec(name)
    summary = _summary(info, bundle, planned, pipeline)
    summary[1:1] = list(chosen_source.items())
    interview.review(f"Service {name}, to be written to {path}:", summary)
    with workspace_lock(project.workspace, f"pcli svc create {name}"):
        # Checked again under the lock: another create of the name may have won, an environment
        # may have been deleted (or be being deleted) while the questions were asked.
        check_new_name(project, "service", name)
        _check_placement(project, bundle, info.ref, planned, require_deployed=require_deployed)
        for environment in dict.fromkeys(i.environment for i in planned):
            require_not_deleting(project.workspace, "environment", environment)
        planned, pipeline = _protected(project, name, bundle, planned, pipeline)
        write_new_spec(
            path,
            service_document(
                blueprint=info.name,
                version=info.version,
                instances=[(i.name, i.environment, dict(i.inputs)) for i in planned],
                pipeline=pipeline,
                source=chosen_source,
            ),
        )
    interview.done()
    written = None
    if scaffold_into is not None:
        written = _scaffold(bundle, info, name, planned, scaffold_into, project=project)
    return replace(read_service(project, name), scaffold=written)


def continue_service(
    project: Project,
    name: str | None,
    blueprint_ref: str | None,
    *,
    version: str | None = None,
    instances: Sequence[tuple[str, str]],
    spec: ServiceSpec | None = None,
    params: Mapping[str, str] | None = None,
    pipeline_params: Mapping[str, str] | None = None,
    require_deployed: bool = False,
    scaffold_into: Path | None = None,
    source: Mapping[str, str] | None = None,
    skeleton_optional: bool = False,
) -> Continuation[ServiceRecord] | None:
    """The same `create_service` again, when services/<name>.yaml exists: continued with that
    spec file when it holds the values given (blueprint, version, instances and their
    environments, inputs) and nothing of the service is deployed yet (or its last deployment
    failed); refused with "already exists" otherwise (see `deploy.resume`). None when there is
    no such spec file: the create writes one.

    Checked under the workspace lock, as a create's writing is; with `require_deployed` (a
    deploy follows), its environments are checked as a create checks them and what AWS runs
    for the service is read. Nothing is written but the plain values of secret inputs (stored
    again under the references the spec holds) and, with `scaffold_into`, the skeleton (none,
    with `skeleton_optional`, when the blueprint has none).
    """
    from protoncli.deploy.interview import already_exists
    from protoncli.deploy.resume import Continuation, undeployed
    from protoncli.locks import require_not_deleting, workspace_lock
    from protoncli.state.identity import Identity

    if name is None or not project.workspace.service_spec(name).exists():
        return None
    given = _Given(spec, dict(params or {}), dict(pipeline_params or {}))
    with workspace_lock(project.workspace, f"pcli svc create {name}"):
        record = read_service(project, name)
        info, bundle = project.blueprint(record.blueprint, record.version, "service")
        wanted = (blueprint_ref, version, list(instances))
        stored = _same_as_spec(project, record, bundle, wanted=wanted, given=given)
        held = Source.of(record.spec.header).fields()
        if stored is None or any(held.get(key) != value for key, value in (source or {}).items()):
            raise already_exists(project, "service", name)
        planned = list(record.spec.instances)
        state = None
        if require_deployed:
            _check_placement(project, bundle, info.ref, planned, require_deployed=True)
            for environment in dict.fromkeys(i.environment for i in planned):
                require_not_deleting(project.workspace, "environment", environment)
            identities = [Identity.of_instance(name, i.name, i.environment) for i in planned]
            if bundle.has_pipeline:
                identities.append(Identity.of_pipeline(name))
            state, running = undeployed(project, identities)
            if state is None:
                raise already_exists(project, "service", name, running)
        by_instance, pipeline = stored
        secrets = [replace(i, inputs=by_instance.get(i.name, {})) for i in planned]
        _protected(project, name, bundle, secrets, pipeline)
    if skeleton_optional and not bundle.skeleton_files():
        scaffold_into = None  # nothing to scaffold from
    written = None
    if scaffold_into is not None:
        written = _scaffold(bundle, info, name, planned, scaffold_into, project=project)
    return Continuation(replace(record, scaffold=written), record.path, state)


def _same_as_spec(
    project: Project,
    record: ServiceRecord,
    bundle: Bundle,
    *,
    wanted: tuple[str | None, str | None, list[tuple[str, str]]],
    given: _Given,
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]] | None:
    """Whether a create giving `wanted` (--blueprint, --version, --instance) and `given`
    (--spec, --param, --pipeline-param) gives what the spec file holds: the plain secret
    values to store again, by instance and the pipeline's; None when anything differs."""
    from protoncli.deploy.resume import same_blueprint

    blueprint_ref, version, flags = wanted
    header = given.spec.header if given.spec else {}
    if not same_blueprint(
        project, (record.blueprint, record.version), blueprint_ref, version, header
    ):
        return None
    held = {i.name: i for i in record.spec.instances}
    planned = {i.name: i for i in _planned_instances(given.spec, flags)}
    if planned and {n: i.environment for n, i in planned.items()} != {
        n: i.environment for n, i in held.items()
    }:
        return None
    schema = bundle.schema
    assert schema is not None  # noqa: S101 - a service bundle always has a schema
    params, pipeline_params = given.converted(bundle)
    stored: dict[str, dict[str, Any]] = {}
    for instance in held.values():
        inputs = (dict(planned[instance.name].inputs) if planned else {}) | params
        owner = f"svc/{record.name}/{instance.name}"
        same = _same_values(project, owner, schema.main, given=inputs, held=instance.inputs)
        if same is None:
            return None
        stored[instance.name] = same
    pipeline: dict[str, Any] | None = {}
    if schema.pipeline is not None and bundle.has_pipeline:
        pipeline = _same_values(
            project,
            f"svc/{record.name}/pipeline",
            schema.pipeline,
            given=given.pipeline | pipeline_params,
            held=record.spec.pipeline or {},
        )
    return None if pipeline is None else (stored, pipeline)


def _same_values(
    project: Project,
    owner: str,
    input_type: InputType,
    *,
    given: Mapping[str, Any],
    held: Mapping[str, Any],
) -> dict[str, Any] | None:
    from protoncli.deploy.resume import same_inputs
    from protoncli.deploy.secrets import secret_name, secret_reference

    def reference(input_name: str) -> str:
        return secret_reference(secret_name(project.workspace.name, owner, input_name))

    return same_inputs(input_type, given, held, reference)


def _placed_instances(
    project: Project,
    interview: Interview,
    bundle: Bundle,
    info: VersionInfo,
    flags: Sequence[tuple[str, str]],
    *,
    spec: ServiceSpec | None,
    require_deployed: bool,
) -> list[InstanceSpec]:
    """The instances of --spec and --instance, else chosen (asked), checked for placement;
    none when they are missing and pcli cannot ask."""
    if not flags and not (spec and spec.instances):
        flags = interview.choose_instances(interview.name, bundle, info.ref)
    planned = _planned_instances(spec, flags)
    if planned or not interview.missing:
        _check_placement(project, bundle, info.ref, planned, require_deployed=require_deployed)
    return planned


def _check_placement(
    project: Project,
    bundle: Bundle,
    blueprint: str,
    planned: Sequence[InstanceSpec],
    *,
    require_deployed: bool,
) -> None:
    """At least one instance; each named well, in a compatible (and deployed) environment."""
    if not planned:
        raise UsageError(
            "a service needs at least one instance", hint="add --instance NAME=ENVIRONMENT"
        )
    for instance in planned:
        check_name(instance.name, "service instance")
        check_compatible(project, bundle, blueprint, instance.environment)
    if require_deployed:
        for environment in dict.fromkeys(i.environment for i in planned):
            environment_facts(project, environment)


@dataclass(frozen=True)
class _Given:
    """What the command line gave for the inputs: --spec, --param, --pipeline-param."""

    spec: ServiceSpec | None
    params: dict[str, str]
    pipeline_params: dict[str, str]

    @property
    def pipeline(self) -> dict[str, Any]:
        return dict(self.spec.pipeline or {}) if self.spec else {}

    def check_params(self, bundle: Bundle, blueprint: str) -> None:
        """--param and --pipeline-param values convert to their types (before any question)."""
        self.converted(bundle)
        schema = bundle.schema
        assert schema is not None  # noqa: S101 - a service bundle always has a schema
        if self.pipeline_params and not (bundle.has_pipeline and schema.pipeline is not None):
            raise UsageError(f"blueprint {blueprint} has no pipeline: --pipeline-param is not used")

    def converted(self, bundle: Bundle) -> tuple[dict[str, Any], dict[str, Any]]:
        """--param and --pipeline-param values converted to their inputs' types."""
        from protoncli.specs.resolve import apply_params

        schema = bundle.schema
        assert schema is not None  # noqa: S101 - a service bundle always has a schema
        params = apply_params({}, self.params, schema.main)
        if bundle.has_pipeline and schema.pipeline is not None:
            return params, apply_params({}, self.pipeline_params, schema.pipeline)
        return params, {}


def _asked_inputs(
    interview: Interview, bundle: Bundle, given: _Given, planned: Sequence[InstanceSpec]
) -> tuple[list[InstanceSpec], dict[str, Any]]:
    """The instances with the answers to their inputs, and the pipeline's answers; an
    instance's answers are pre-filled for the next one."""
    schema = bundle.schema
    assert schema is not None  # noqa: S101 - a service bundle always has a schema
    params, pipeline_params = given.converted(bundle)
    asked = []
    previous: dict[str, Any] = {}
    for instance in planned:
        known = dict(instance.inputs) | params
        answers = interview.inputs(
            schema.main,
            list(known),
            key=f"instances.{instance.name}.inputs",
            defaults=previous,
            known=known,
            heading=f"Instance {instance.name} (environment {instance.environment})",
        )
        previous |= answers
        asked.append(replace(instance, inputs={**instance.inputs, **answers}))
    pipeline_answers: dict[str, Any] = {}
    if bundle.has_pipeline and schema.pipeline is not None:
        known = given.pipeline | pipeline_params
        pipeline_answers = interview.inputs(
            schema.pipeline, list(known), key="pipeline", known=known, heading="Pipeline"
        )
    return asked, pipeline_answers


def _checked_inputs(
    bundle: Bundle,
    blueprint: str,
    subject: str,
    *,
    given: _Given,
    planned: Sequence[InstanceSpec],
    pipeline_answers: Mapping[str, Any],
    interview: Interview,
) -> tuple[list[InstanceSpec], dict[str, Any] | None]:
    """Instances and pipeline inputs with --param/--pipeline-param applied, checked together;
    one error lists every problem and everything missing."""
    from protoncli.specs.resolve import apply_params, resolve_service_spec

    schema = bundle.schema
    assert schema is not None  # noqa: S101 - a service bundle always has a schema
    instances = [
        replace(i, inputs=apply_params(i.inputs, given.params, schema.main)) for i in planned
    ]
    pipeline: dict[str, Any] | None = None
    if bundle.has_pipeline and schema.pipeline is not None:
        base = given.pipeline | dict(pipeline_answers)
        pipeline = apply_params(base, given.pipeline_params, schema.pipeline)
    absent_pipeline = []
    if schema.pipeline is not None and pipeline is not None:
        absent_pipeline = missing_required(schema.pipeline, pipeline)
    if not instances and interview.missing:  # no --instance: instance inputs cannot be checked
        absent = missing_required(schema.main, apply_params({}, given.params, schema.main))
        by_flag = {"--param": absent, "--pipeline-param": absent_pipeline}
        raise interview.missing_error(None, subject, by_flag)
    # Problems name the --spec file the inputs came from, else the service: the workspace
    # spec file is not written yet.
    source = given.spec.source if given.spec else subject.replace("'", "")
    candidate = ServiceSpec(
        tuple(instances), pipeline, source=source, header={"blueprint": blueprint}
    )
    try:
        resolve_service_spec(schema, candidate, has_pipeline=bundle.has_pipeline)
    except InputError as error:
        absent = [item for i in instances for item in missing_required(schema.main, i.inputs)]
        by_flag = {"--param": absent, "--pipeline-param": absent_pipeline}
        raise interview.missing_error(error, subject, by_flag) from None
    if interview.missing:
        raise interview.missing_error(None, subject)
    return instances, pipeline


def _summary(
    info: VersionInfo,
    bundle: Bundle,
    planned: Sequence[InstanceSpec],
    pipeline: Mapping[str, Any] | None,
) -> list[tuple[str, str]]:
    """The rows of the review: blueprint, each instance with its inputs, the pipeline's."""
    from protoncli.prompting import summary_rows

    assert bundle.schema is not None  # noqa: S101 - a service bundle always has a schema
    rows = [("blueprint", info.ref)]
    for instance in planned:
        rows.append((f"instance {instance.name}", f"in environment {instance.environment}"))
        rows += summary_rows(bundle.schema.main, instance.inputs, prefix=f"{instance.name}.")
    if pipeline is not None and bundle.schema.pipeline is not None:
        rows += summary_rows(bundle.schema.pipeline, pipeline, prefix="pipeline.")
    return rows


def _protected(
    project: Project,
    service: str,
    bundle: Bundle,
    planned: Sequence[InstanceSpec],
    pipeline: dict[str, Any] | None,
) -> tuple[list[InstanceSpec], dict[str, Any] | None]:
    """Plain values of secret inputs stored in AWS and replaced by references to them."""
    from protoncli.deploy.secrets import protect_secret_inputs

    schema = bundle.schema
    assert schema is not None  # noqa: S101 - a service bundle always has a schema
    protected = []
    for instance in planned:
        owner = f"svc/{service}/{instance.name}"
        environment = read_environment(project, instance.environment)
        inputs = protect_secret_inputs(
            project,
            owner,
            schema.main,
            instance.inputs,
            environment.region,
            account=environment.account,
        )
        protected.append(replace(instance, inputs=inputs))
    if pipeline is not None and schema.pipeline is not None:
        owner, region = f"svc/{service}/pipeline", project.management_region()
        pipeline = protect_secret_inputs(project, owner, schema.pipeline, pipeline, region)
    return protected, pipeline


def _scaffold(
    bundle: Bundle,
    info: VersionInfo,
    service: str,
    instances: Sequence[InstanceSpec],
    target: Path,
    *,
    project: Project,
    dry_run: bool = False,
) -> ScaffoldResult:
    """Write (or with `dry_run`, check) the blueprint's skeleton for the service (with the CI
    workflow of its instances' environments when the skeleton declares one)."""
    from protoncli.workspace.ci_workflow import source_workflow
    from protoncli.workspace.scaffold import scaffold

    placed = [(i.name, i.environment) for i in instances]

    def run(*, dry_run: bool) -> ScaffoldResult:
        return scaffold(
            bundle,
            target,
            service=service,
            instances={i.name: dict(i.inputs) for i in instances},
            blueprint=info.name,
            version=info.version,
            dry_run=dry_run,
            ci=lambda: source_workflow(project, service, placed),
        )

    result = run(dry_run=dry_run)
    if dry_run and result.refused:
        run(dry_run=False)  # raises, naming each refused file and why, having written nothing
    return result


def _planned_instances(
    spec: ServiceSpec | None, flags: Sequence[tuple[str, str]]
) -> list[InstanceSpec]:
    """Instances of --spec, with --instance NAME=ENV adding new ones or moving existing ones."""
    planned = {i.name: i for i in (spec.instances if spec else ())}
    for name, environment in flags:
        current = planned.get(name)
        planned[name] = (
            replace(current, environment=environment)
            if current
            else InstanceSpec(name=name, environment=environment, inputs={})
        )
    return list(planned.values())


def service_source(
    flags: Mapping[str, str],
    spec: ServiceSpec | None,
    scaffold_into: Path | None,
    *,
    has_pipeline: bool,
    blueprint: str,
) -> dict[str, str]:
    """The service's repository fields, by header key: the flags' (--repository, --branch,
    --connection-arn), else the --spec header's, else (for a blueprint with a pipeline) the git
    origin remote and branch of the --scaffold folder. Each is checked for its shape; a flag
    given for a blueprint with no pipeline is refused."""
    from protoncli.workspace.vcs import source_of

    given = {key: value for key, value in flags.items() if value}
    if given and not has_pipeline:
        used = ", ".join(FLAGS[key] for key in REPOSITORY_KEYS if key in given)
        raise UsageError(
            f"blueprint {blueprint} has no pipeline: {used} is not used",
            hint="a service's source repository is read by its pipeline only",
        )
    for key, value in given.items():
        problem = shape_problem(key, value)
        if problem is not None:
            raise UsageError(f"{FLAGS[key]} {value!r}: expected {problem}")
    chosen = {**(Source.of(spec.header).fields() if spec else {}), **given}
    if has_pipeline and scaffold_into is not None and len(chosen) < len(REPOSITORY_KEYS):
        folder = scaffold_into if scaffold_into.is_dir() else scaffold_into.parent
        repository, branch = source_of(folder) if folder.is_dir() else (None, None)
        defaults = {"repository_id": repository, "branch_name": branch}
        for key, default in defaults.items():
            if default and key not in chosen and shape_problem(key, default) is None:
                chosen[key] = default
    return {key: chosen[key] for key in REPOSITORY_KEYS if key in chosen}
