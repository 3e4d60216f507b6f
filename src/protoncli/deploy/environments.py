"""Environments of a workspace: create (spec file, or continue with one), deploy, outputs,
delete."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from protoncli.blueprints.model import Bundle
from protoncli.deploy.model import DeployEvent, DeployHooks, DeployResult, OnEvent, StackRequest
from protoncli.deploy.project import Project, StackTarget, missing_required
from protoncli.deploy.rendering import (
    deployment_id,
    render_for_deploy,
    require_deployable,
    spec_digest,
    template_of,
)
from protoncli.errors import InputError, UsageError
from protoncli.provision.request import files_text
from protoncli.provision.settings import provisioned_for
from protoncli.render.model import EnvironmentFacts, RenderContext
from protoncli.specs.model import EnvironmentSpec
from protoncli.state.adopted import stack_of
from protoncli.state.declared import EnvironmentRecord, read_environment
from protoncli.state.identity import Identity

if TYPE_CHECKING:
    from protoncli.blueprints.registry import VersionInfo
    from protoncli.deploy.interview import Interview
    from protoncli.deploy.resume import Continuation
    from protoncli.prompting import Prompter


def environment_stack(project: Project, name: str) -> str:
    return stack_of(project, Identity.of_environment(name))


def create_environment(
    project: Project,
    name: str | None,
    blueprint_ref: str | None,
    *,
    version: str | None = None,
    spec: EnvironmentSpec | None = None,
    params: Mapping[str, str] | None = None,
    region: str | None = None,
    account: str | None = None,
    prompter: Prompter | None = None,
    deploy: bool = False,
) -> EnvironmentRecord:
    """Validate the inputs against the blueprint and write environments/<name>.yaml.

    Whatever is not given (name, blueprint, version, inputs) is asked through `prompter`, then
    the answers are shown for review (see `deploy.interview`). With no prompter, a missing name,
    blueprint or required input is one error that lists them all. With `deploy` (a deploy
    follows), a blueprint pcli does not deploy is not offered, and refused before any input is
    asked when named.

    Questions are asked without any lock; the name is checked again under the workspace lock,
    which is held until the spec file is written (and its secrets stored): of several creates
    of one name, exactly one writes it, the others fail with "already exists".
    """
    from protoncli.deploy.interview import Interview, check_new_name
    from protoncli.deploy.secrets import protect_secret_inputs
    from protoncli.deploy.usability import require_usable
    from protoncli.locks import workspace_lock
    from protoncli.prompting import summary_rows
    from protoncli.specs.resolve import apply_params
    from protoncli.workspace.specfiles import environment_document, write_new_spec

    if account is not None:
        project.account(account)  # an unknown name fails before any question
    interview = Interview(project, "environment", prompter)
    name = interview.choose_name(name)
    usability = interview.usability(deploying=deploy)
    info = interview.choose_blueprint(
        blueprint_ref, version, spec.header if spec else {}, usability
    )
    subject = f"environment {name!r}" if name else "new environment"
    if info is None:
        raise interview.missing_error(None, subject)
    if str(info.kind) != "environment":
        raise UsageError(
            f"blueprint {info.ref} is a {info.kind} blueprint, not an environment blueprint"
        )
    bundle = project.registry.load(info)
    require_usable(usability, info, bundle)  # before any input is asked
    assert bundle.schema is not None  # noqa: S101 - an environment bundle always has a schema
    given = dict(spec.inputs) if spec else {}
    converted = apply_params({}, dict(params or {}), bundle.schema.main)  # a wrong one fails first
    answers = interview.inputs(
        bundle.schema.main, [*given, *converted], key="inputs", known=given | converted
    )
    inputs = _checked_inputs(
        bundle, info.name, name, spec, dict(params or {}), answers=answers, interview=interview
    )
    if name is None:
        raise interview.missing_error(None, subject)
    chosen_region = region or project.settings.region or project.workspace.region
    path = project.workspace.environment_spec(name)
    rows = [("blueprint", info.ref), ("region", chosen_region)]
    if account is not None:
        rows.append(("account", f"{account} ({project.account(account).id})"))
    interview.review(
        f"Environment {name}, to be written to {path}:",
        rows + summary_rows(bundle.schema.main, inputs),
    )
    owner_region = project.region_for(chosen_region)
    with workspace_lock(project.workspace, f"pcli env create {name}"):
        check_new_name(project, "environment", name)  # another create may have won meanwhile
        inputs = protect_secret_inputs(
            project, f"env/{name}", bundle.schema.main, inputs, owner_region, account=account
        )
        write_new_spec(
            path,
            environment_document(
                blueprint=info.name,
                version=info.version,
                region=chosen_region,
                inputs=inputs,
                account=account,
            ),
        )
    interview.done()
    return read_environment(project, name)


def continue_environment(
    project: Project,
    name: str | None,
    blueprint_ref: str | None,
    *,
    version: str | None = None,
    spec: EnvironmentSpec | None = None,
    params: Mapping[str, str] | None = None,
    region: str | None = None,
    account: str | None = None,
    deploy: bool = False,
) -> Continuation[EnvironmentRecord] | None:
    """The same `create_environment` again, when environments/<name>.yaml exists: continued
    with that spec file when it holds the values given and nothing is deployed for it yet (or
    its last deployment failed), refused with "already exists" otherwise (see `deploy.resume`).
    None when there is no such spec file: the create writes one.

    Checked under the workspace lock, as a create's writing is; with `deploy`, the environment
    may not be being deleted, and what AWS runs for it is read. Nothing is written, except the
    plain values of secret inputs, stored again under the references the spec holds.
    """
    from protoncli.deploy.interview import already_exists
    from protoncli.deploy.resume import Continuation, undeployed
    from protoncli.deploy.secrets import protect_secret_inputs
    from protoncli.locks import require_not_deleting, workspace_lock

    if name is None or not project.workspace.environment_spec(name).exists():
        return None
    with workspace_lock(project.workspace, f"pcli env create {name}"):
        record = read_environment(project, name)
        _, bundle = project.blueprint(record.blueprint, record.version, "environment")
        assert bundle.schema is not None  # noqa: S101 - an environment bundle always has a schema
        given = (blueprint_ref, version, spec, params)
        stored = _same_as_spec(project, record, bundle, given=given, region=region)
        if account is not None and account != record.account:
            stored = None  # another account than the spec file's: not the same create
        if stored is None:
            raise already_exists(project, "environment", name)
        state = None
        if deploy:
            require_not_deleting(project.workspace, "environment", name)
            state, running = undeployed(project, [Identity.of_environment(name)])
            if state is None:
                raise already_exists(project, "environment", name, running)
        owner = f"env/{name}"
        protect_secret_inputs(
            project, owner, bundle.schema.main, stored, record.region, account=record.account
        )
    return Continuation(record, record.path, state)


def _same_as_spec(
    project: Project,
    record: EnvironmentRecord,
    bundle: Bundle,
    *,
    given: tuple[str | None, str | None, EnvironmentSpec | None, Mapping[str, str] | None],
    region: str | None,
) -> dict[str, Any] | None:
    """Whether a create giving `given` (--blueprint, --version, --spec, --param) and `region`
    gives what the spec file holds: the plain secret values to store again, or None when the
    blueprint, the version, the region or an input differs."""
    from protoncli.deploy.resume import same_blueprint, same_inputs
    from protoncli.deploy.secrets import secret_name, secret_reference
    from protoncli.specs.resolve import apply_params

    assert bundle.schema is not None  # noqa: S101 - an environment bundle always has a schema
    blueprint_ref, version, spec, params = given
    held = (record.blueprint, record.version)
    if not same_blueprint(project, held, blueprint_ref, version, spec.header if spec else {}):
        return None
    if region is not None and region != record.region:
        return None
    inputs = dict(spec.inputs if spec else {})
    inputs |= apply_params({}, dict(params or {}), bundle.schema.main)

    def secret_of(input_name: str) -> str:
        owner = f"env/{record.name}"
        return secret_reference(secret_name(project.workspace.name, owner, input_name))

    return same_inputs(bundle.schema.main, inputs, record.spec.inputs, secret_of)


def _checked_inputs(
    bundle: Bundle,
    blueprint: str,
    name: str | None,
    spec: EnvironmentSpec | None,
    params: dict[str, str],
    *,
    answers: Mapping[str, Any],
    interview: Interview,
) -> dict[str, Any]:
    """The inputs of --spec, --param and the answers, checked against the schema; one error
    lists every problem and everything missing (the interview's missing name and blueprint)."""
    from protoncli.specs.resolve import apply_params, resolve_environment_spec

    assert bundle.schema is not None  # noqa: S101 - an environment bundle always has a schema
    base = {**(dict(spec.inputs) if spec else {}), **answers}
    inputs = apply_params(base, params, bundle.schema.main)
    # Problems name the --spec file the inputs came from, else the environment: the workspace
    # spec file is not written yet.
    lines = {k: v for k, v in spec.key_lines.items() if k not in params} if spec else {}
    subject = f"environment {name!r}" if name else "new environment"
    candidate = EnvironmentSpec(
        inputs=inputs,
        source=spec.source if spec else (f"environment {name}" if name else subject),
        header={"blueprint": blueprint},
        key_lines=lines,
    )
    try:
        resolve_environment_spec(bundle.schema, candidate)
    except InputError as error:
        absent = missing_required(bundle.schema.main, inputs)
        raise interview.missing_error(error, subject, {"--param": absent}) from None
    if interview.missing:
        raise interview.missing_error(None, subject)
    return inputs


def environment_request(
    project: Project, record: EnvironmentRecord
) -> tuple[StackRequest, dict[str, Any], tuple[str, ...]]:
    """The stack request, the resolved inputs, and the warnings of the spec and its rendering."""
    from protoncli.deploy.imported import refuse_imported

    refuse_imported(record)
    info, bundle = project.blueprint(record.blueprint, record.version, "environment")
    require_deployable(bundle, info.ref)
    account = project.account_id(record.region, record.account)
    context = RenderContext(
        environments={record.name: EnvironmentFacts(account_id=account)},
        region=record.region,
        account_id=account,
    )
    result = render_for_deploy(
        bundle,
        record.spec,
        name=record.name,
        context=context,
        blueprint=info.name,
        version=info.version,
    )
    (resource,) = result.resources
    provisioned = provisioned_for(project, resource)
    template = template_of(resource) if provisioned is None else files_text(resource)
    stack = environment_stack(project, record.name)
    tags = environment_tags(project, record, info, spec_digest(resource.inputs, template))
    request = StackRequest(
        stack_name=stack,
        template_body=template,
        tags=tags,
        description=f"environment {record.name}",
        account=record.account,
        provisioned=provisioned,
    )
    return request, dict(resource.inputs), tuple(dict.fromkeys(record.warnings + result.warnings))


def environment_tags(
    project: Project, record: EnvironmentRecord, info: VersionInfo, digest: str
) -> dict[str, str]:
    """The `pcli:*` tags of the environment's stack (or provisioned state) deployed from the
    blueprint version `info` with the spec digest `digest`."""
    from protoncli.state.declared import environment_item
    from protoncli.state.digests import bundle_digest

    return Identity.of_environment(record.name).tags(
        project.workspace.name,
        blueprint=info.name,
        version=info.version,
        spec_digest=digest,
        inputs_digest=environment_item(project, record).inputs_digest,
        bundle_digest=bundle_digest(info.digest),
        deployment_id=deployment_id(environment_stack(project, record.name), digest),
    )


def deploy_environment(
    project: Project, name: str, hooks: DeployHooks, *, deployment_mode: str | None = None
) -> DeployResult:
    """Deploy the environment's spec; `deployment_mode` "REVERT_DRIFT" also puts resources
    changed outside CloudFormation back to the template."""
    from dataclasses import replace

    record = read_environment(project, name)
    request, _, warnings = environment_request(project, record)
    request = replace(request, deployment_mode=deployment_mode)
    for warning in warnings:
        hooks.on_event(
            DeployEvent("warning", request.stack_name, request.description, message=warning)
        )
    from protoncli.deploy.records import recorded_deploy

    spec_text = record.path.read_text(encoding="utf-8")
    return recorded_deploy(
        project,
        record.region,
        request,
        hooks,
        spec_text=spec_text,
        spec=record.spec,
    )


def environment_targets(project: Project, name: str) -> list[StackTarget]:
    """The stack `pcli env deploy NAME` works on."""
    record = read_environment(project, name)
    return [
        StackTarget(
            record.region, environment_stack(project, name), f"environment {name}", record.account
        )
    ]


def environment_outputs(project: Project, name: str) -> dict[str, str]:
    """The deployed environment stack's outputs; an error when it is not deployed."""
    record = read_environment(project, name)
    stack = environment_stack(project, name)
    from protoncli.provision.store import describe_item

    info = describe_item(project, record.region, record.account, stack)
    if info is None:
        raise UsageError(
            f"environment {name!r} is not deployed (no stack {stack} in {record.region})",
            hint=f"deploy it: pcli env deploy {name}",
        )
    return dict(info.outputs)


def dependents(project: Project, name: str) -> list[str]:
    """What of the workspace lives in environment `name`, in words: every deployed stack of
    the workspace there, declared or orphaned (as AWS says, by the stacks' tags), and every
    service instance or component the workspace declares there but has not deployed."""
    from protoncli.state.fleet import read_fleet

    fleet = read_fleet(project)
    found = [
        f"{item.identity.description} (stack {item.stack_name}, {item.stack_status}"
        + (", orphaned: no spec declares it)" if item.orphaned else ")")
        for item in fleet.living_in(name)
    ]
    deployed = {item.identity.key for item in fleet.living_in(name)}
    found += [
        f"{item.identity.description} (declared, not deployed)"
        for item in fleet.items
        if item.environment == name
        and item.kind != "environment"
        and item.is_declared
        and item.identity.key not in deployed
    ]
    # A stack of the region that could not be read may be one of them: its tags are unknown.
    region = read_environment(project, name).region
    found += [
        f"stack {problem.stack_name} ({problem.status}): could not be read, so it may live here "
        f"({problem.message})"
        for problem in fleet.stack_problems
        if problem.region == region
    ]
    return found


def check_deletable(project: Project, name: str) -> None:
    """Refuse to delete an environment while anything of the workspace lives in it."""
    read_environment(project, name)
    living = dependents(project, name)
    if living:
        raise UsageError(
            f"environment {name!r} still hosts {len(living)} resource(s); nothing was deleted",
            details=living,
            hint="delete those first (pcli svc delete / pcli component delete; orphans: "
            "pcli apply --prune)",
        )


def delete_environment(project: Project, name: str, *, on_event: OnEvent) -> DeployResult:
    """Delete the environment's stack, then its spec file; refused while anything lives in it.

    Locking: the check that nothing lives in the environment runs under the workspace lock,
    which also marks the environment as being deleted (`locks.deletion_mark`); the mark, not the
    workspace lock, is held through the stack deletion (minutes in AWS), so other commands of
    the workspace go on meanwhile. A create that would put something into this environment
    checks the mark under the workspace lock and is refused while the deletion runs; once the
    spec file is gone, it finds no environment. A second delete of it is refused at once.
    """
    from protoncli.locks import deletion_mark, workspace_lock

    with ExitStack() as deleting:
        with workspace_lock(project.workspace, f"pcli env delete {name}"):
            check_deletable(project, name)
            record = read_environment(project, name)
            deleting.enter_context(
                deletion_mark(project.workspace, "environment", name, f"pcli env delete {name}")
            )
        from protoncli.deploy.imported import forget_imported, imported_source
        from protoncli.provision.deployer import deleter

        stack = environment_stack(project, name)
        if imported_source(record) is not None:
            result = forget_imported(project, record, stack, on_event)
        else:
            result = deleter(project, record.region, record.account, stack).delete(
                stack, f"environment {name}", on_event=on_event
            )
        record.path.unlink(missing_ok=True)
    return result
