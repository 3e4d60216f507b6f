"""Deployment records: what each deployment of a stack was, kept in AWS beside the stack.

Every deployment that runs (a change set executed, or a change set that failed) leaves one JSON
record in the artifact bucket of the stack's account and region (`aws/s3.py`), under
`records/<stack>/<UTC start time>-<deployment id>.json`: the item, its blueprint version and
bundle digest, the spec file as deployed, the rendered template and the stack's tags, who
deployed it, when, and how it ended; for a service instance deployed with `svc deploy --param`,
the values given (`overrides`: the spec stays the file's text, which does not hold them). A
deploy that changes nothing (or only re-tags the stack) is not a deployment and leaves none.
The stack's `pcli:deployment-id` tag names the record it runs (the newest one with that id).
History and rollback read these records, so they work from any clone of the workspace; a change
set that is reviewed reads the one its stack runs, for the inputs changed since
(`deployed_record`, `deploy/explain.py`).

`recorded_deploy` is the one place deployments are made and recorded. Writing a record never
fails a deployment: a record that cannot be written is a warning event. A record is written
as soon as its deployment ends; inside `written_alongside` (a fleet's apply) a small pool of its
own writes it while the deployment's slot goes on to the next stack, and leaving the block waits
until every record is written.

Secrets: spec files pcli writes hold references to secret values, never the values. A spec
carried over from Proton may still hold a plain value of a secret input: the record then holds
`****` in its place (spec and template) and says so (`secrets_masked`); such a record is
history only and cannot be rolled back to.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from protoncli.deploy.model import DeployEvent, DeployHooks, DeployResult, StackRequest
from protoncli.errors import PcliError
from protoncli.state.identity import (
    BLUEPRINT_TAG,
    BUNDLE_DIGEST_TAG,
    DEPLOYMENT_TAG,
    VERSION_TAG,
    Identity,
)

if TYPE_CHECKING:
    from protoncli.deploy.project import Project
    from protoncli.schema.secrets import SecretMask
    from protoncli.specs.model import EnvironmentSpec, ServiceSpec

FORMAT_VERSION = 1
PREFIX = "records"
OK = "ok"
FAILED = "failed"
_STAMP = "%Y%m%dT%H%M%S.%fZ"


@dataclass(frozen=True)
class DeploymentRecord:
    """One deployment of one stack, as stored in its record."""

    stack_name: str
    region: str
    identity: Identity
    deployment_id: str
    blueprint: str | None
    version: str | None
    bundle_digest: str | None
    spec: str | None  # the spec file's text as deployed (secret inputs as references)
    template: str
    tags: Mapping[str, str]
    caller: str | None
    started: datetime
    ended: datetime
    status: str  # the final stack status (or the change set's, when it failed)
    outcome: str  # ok | failed
    failures: tuple[str, ...] = ()
    secrets_masked: bool = False
    key: str = ""  # where it is stored (set once written or read)
    # `svc deploy --param` values the deployment used on top of the spec (typed, by input name)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    # guardrails whose violations `--override-rule` let through (deploy/guardrails.py)
    overridden_rules: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.outcome == OK

    @property
    def who(self) -> str:
        """The caller ARN's last part (`user/alice`, `assumed-role/deploy/ci`), or `-`."""
        return self.caller.split(":", 5)[-1] if self.caller else "-"

    @property
    def short_id(self) -> str:
        return self.deployment_id[:8]

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "stack": self.stack_name,
            "region": self.region,
            "identity": {
                "kind": self.identity.kind,
                "environment": self.identity.environment,
                "service": self.identity.service,
                "instance": self.identity.instance,
                "component": self.identity.component,
            },
            "deployment_id": self.deployment_id,
            "blueprint": self.blueprint,
            "version": self.version,
            "bundle_digest": self.bundle_digest,
            "spec": self.spec,
            "template": self.template,
            "tags": dict(self.tags),
            "caller": self.caller,
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "status": self.status,
            "outcome": self.outcome,
            "failures": list(self.failures),
            "secrets_masked": self.secrets_masked,
            "overrides": dict(self.overrides),
            "overridden_rules": list(self.overridden_rules),
        }

    @classmethod
    def from_document(cls, key: str, document: Any) -> DeploymentRecord:
        """The record stored under `key`; an error naming the key when it is not one."""
        if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
            raise PcliError(
                f"deployment record {key} has an unknown format",
                hint="it was written by a newer pcli, or edited by hand: upgrade pcli",
            )
        try:
            names = document["identity"]
            return cls(
                stack_name=str(document["stack"]),
                region=str(document["region"]),
                identity=Identity(
                    str(names["kind"]),
                    environment=names.get("environment"),
                    service=names.get("service"),
                    instance=names.get("instance"),
                    component=names.get("component"),
                ),
                deployment_id=str(document["deployment_id"]),
                blueprint=document.get("blueprint"),
                version=document.get("version"),
                bundle_digest=document.get("bundle_digest"),
                spec=document.get("spec"),
                template=str(document["template"]),
                tags={str(k): str(v) for k, v in dict(document["tags"]).items()},
                caller=document.get("caller"),
                started=datetime.fromisoformat(document["started"]),
                ended=datetime.fromisoformat(document["ended"]),
                status=str(document["status"]),
                outcome=str(document["outcome"]),
                failures=tuple(str(f) for f in document.get("failures") or ()),
                secrets_masked=bool(document.get("secrets_masked")),
                key=key,
                overrides=dict(document.get("overrides") or {}),  # none before --param
                overridden_rules=tuple(str(r) for r in document.get("overridden_rules") or ()),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise PcliError(
                f"deployment record {key} cannot be read: {error}",
                hint="it was not written by this pcli version, or it was edited by hand",
            ) from None


def record_key(stack_name: str, started: datetime, deployment_id: str) -> str:
    """Where a deployment's record goes: sorted by start time within the stack's folder."""
    return f"{PREFIX}/{stack_name}/{started.astimezone(UTC).strftime(_STAMP)}-{deployment_id}.json"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class _Run:
    """One deployment as `recorded_deploy` saw it."""

    region: str
    request: StackRequest
    spec_text: str | None
    spec: EnvironmentSpec | ServiceSpec | None
    started: datetime
    result: DeployResult
    failures: tuple[str, ...] = ()
    account: str | None = None  # pcli.yaml's name of the stack's account; None: own
    overrides: Mapping[str, Any] | None = None  # `svc deploy --param` values
    overridden_rules: tuple[str, ...] = ()  # guardrails let through by --override-rule


def recorded_deploy(
    project: Project,
    region: str,
    request: StackRequest,
    hooks: DeployHooks,
    *,
    spec_text: str | None,
    spec: EnvironmentSpec | ServiceSpec | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> DeployResult:
    """Deploy `request` in `region` (of `request.account`, a name of pcli.yaml's `accounts:`;
    None: the caller's own) and record the deployment (succeeded or failed) beside the stack, in
    the same account, with the `--param` values it used on top of `spec_text` (`overrides`).
    No record when nothing changed. The template passes the guardrails first
    (deploy/guardrails.py), or nothing is deployed."""
    from dataclasses import replace

    from protoncli.deploy.engine import NO_CHANGES, StackFailedError, utc_now
    from protoncli.deploy.explain import explained
    from protoncli.deploy.guardrails import gate

    overridden = gate(project, request, hooks)
    account = request.account
    started = utc_now()
    key = (region, request.stack_name)
    project.known_outputs.pop(key, None)  # unknown until this deployment says
    hooks = explained(project, region, request, hooks, spec=spec, spec_text=spec_text)
    try:
        if request.provisioned is not None:  # Terraform, CodeBuild: no stack
            from protoncli.provision.deployer import ProvisionedDeployer

            result = ProvisionedDeployer(project, region, account).deploy(request, hooks)
        else:
            result = project.deployer(region, account).deploy(request, hooks)
    except StackFailedError as error:
        details = tuple(error.details) or tuple(
            f"{e.logical_id} ({e.resource_type}): {e.reason}" for e in error.result.failures
        )
        run = _Run(
            region, request, spec_text, spec, started, error.result, details, account, overrides
        )
        _submit(project, replace(run, overridden_rules=overridden), hooks)
        raise
    project.known_outputs[key] = dict(result.outputs)  # what renders next reads
    if result.status != NO_CHANGES:
        run = _Run(
            region,
            request,
            spec_text,
            spec,
            started,
            result,
            account=account,
            overrides=overrides,
            overridden_rules=overridden,
        )
        _submit(project, run, hooks)
    return result


RECORD_WRITERS = 2  # records written at once inside `written_alongside`


@contextmanager
def written_alongside(project: Project) -> Iterator[None]:
    """Inside, records are written by a pool of their own, beside the deployments; on leaving
    (normally, on an error or on Ctrl-C), every record submitted is written before the block
    ends, so the run's result comes after its records' warnings."""
    pool = ThreadPoolExecutor(max_workers=RECORD_WRITERS, thread_name_prefix="pcli-records")
    futures: list[Future[None]] = []
    project.record_writer = lambda job: futures.append(pool.submit(job))
    try:
        yield
    finally:
        project.record_writer = None
        pool.shutdown(wait=True)
        for future in futures:
            future.result()  # _write reports what it expects; anything else is a bug to raise


def _submit(project: Project, run: _Run, hooks: DeployHooks) -> None:
    if project.record_writer is None:
        _write(project, run, hooks)
    else:
        project.record_writer(lambda: _write(project, run, hooks))


def _write(project: Project, run: _Run, hooks: DeployHooks) -> None:
    """Write the run's record; a warning event, never an error, when it cannot be written."""
    request = run.request
    try:
        record = _record_of(project, run)
        project.artifacts(run.region, run.account).put_record(
            record_key(request.stack_name, run.started, record.deployment_id), record.document()
        )
    except (PcliError, OSError, ValueError) as error:
        message = error.message if isinstance(error, PcliError) else str(error)
        hooks.on_event(
            DeployEvent(
                "warning",
                request.stack_name,
                request.description,
                message=f"the deployment record could not be written: {message}",
            )
        )


def _record_of(project: Project, run: _Run) -> DeploymentRecord:
    from protoncli.deploy.engine import utc_now

    ended = utc_now()
    request = run.request
    identity = Identity.from_tags(request.tags)
    if identity is None:
        raise PcliError("the stack's pcli:* tags do not name an item")
    mask = secret_mask(project, request, run.spec)
    return DeploymentRecord(
        stack_name=request.stack_name,
        region=run.region,
        identity=identity,
        deployment_id=request.tags.get(DEPLOYMENT_TAG, ""),
        blueprint=request.tags.get(BLUEPRINT_TAG),
        version=request.tags.get(VERSION_TAG),
        bundle_digest=request.tags.get(BUNDLE_DIGEST_TAG),
        spec=mask.text(run.spec_text) if run.spec_text is not None else None,
        template=mask.text(request.template_body),
        tags=dict(request.tags),
        caller=project.caller_arn(run.region, run.account),
        started=run.started,
        ended=ended,
        status=run.result.status,
        outcome=OK if run.result.ok else FAILED,
        failures=tuple(mask.text(failure) for failure in run.failures),
        secrets_masked=bool(mask),
        overrides=dict(run.overrides or {}),
        overridden_rules=run.overridden_rules,
    )


def secret_mask(
    project: Project, request: StackRequest, spec: EnvironmentSpec | ServiceSpec | None
) -> SecretMask:
    """The plain values the spec gives secret inputs (normally none: specs hold references)."""
    from protoncli.schema.secrets import SecretMask
    from protoncli.specs.model import EnvironmentSpec

    blueprint, version = request.tags.get(BLUEPRINT_TAG), request.tags.get(VERSION_TAG)
    if spec is None or blueprint is None or version is None:
        return SecretMask()
    schema = project.registry.load(project.registered(blueprint, version)).schema
    if schema is None:
        return SecretMask()
    if isinstance(spec, EnvironmentSpec):
        return SecretMask.for_inputs(schema.main, spec.inputs)
    mask = SecretMask.for_inputs(schema.pipeline, spec.pipeline or {})
    for instance in spec.instances:
        mask |= SecretMask.for_inputs(schema.main, instance.inputs)
    return mask


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class HistoryTarget:
    """One stack whose records are read: the item, its stack name and region."""

    identity: Identity
    stack_name: str
    region: str
    account: str | None = None  # pcli.yaml's name of its account; None: the caller's own


@dataclass(frozen=True)
class History:
    target: HistoryTarget
    records: tuple[DeploymentRecord, ...]  # newest first
    current_id: str | None  # the stack's pcli:deployment-id (None: no stack, or no tag)
    stack_status: str | None  # None: no stack

    @property
    def current(self) -> DeploymentRecord | None:
        """The record the stack runs (`current_record`)."""
        return current_record(self.records, self.current_id)


def current_record(
    records: Iterable[DeploymentRecord], current_id: str | None
) -> DeploymentRecord | None:
    """The record a stack tagged `current_id` runs: the newest (first) one with that id."""
    return next((r for r in records if r.deployment_id == current_id), None)


def deployed_record(
    project: Project,
    region: str,
    stack_name: str,
    deployment_id: str,
    *,
    account: str | None = None,
) -> DeploymentRecord | None:
    """The record of the stack's deployment `deployment_id` (the newest with that id: the one
    a stack tagged with it runs); None when there is none (a stack deployed before pcli kept
    records, by Proton, or whose record could not be written). The stack's records are listed
    (ListObjectsV2) and that one read (GetObject)."""
    store = project.artifacts(region, account)
    keys = [
        key
        for key in store.record_keys(f"{PREFIX}/{stack_name}/")
        if key.endswith(f"-{deployment_id}.json")
    ]
    if not keys:
        return None
    return DeploymentRecord.from_document(keys[-1], store.get_record(keys[-1]))


def read_history(project: Project, target: HistoryTarget) -> History:
    """Every record of the target's stack, newest first, and which one the stack runs."""
    store = project.artifacts(target.region, target.account)
    keys = store.record_keys(f"{PREFIX}/{target.stack_name}/")
    workers = max(1, min(project.concurrency, len(keys)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pcli-records") as pool:
        documents = list(pool.map(store.get_record, keys))
    records = [DeploymentRecord.from_document(k, d) for k, d in zip(keys, documents, strict=True)]
    records.sort(key=lambda record: (record.started, record.key), reverse=True)
    from protoncli.provision.store import describe_item

    info = describe_item(project, target.region, target.account, target.stack_name)
    current = info.tags.get(DEPLOYMENT_TAG) if info is not None else None
    status = info.status if info is not None else None
    return History(target, tuple(records), current, status)
