"""The composition root of deploy work: a workspace, a registry and AWS clients per region.

Commands build one `Project` and pass it to the operations; tests build it against moto.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from protoncli.aws.target import AwsTarget
from protoncli.errors import AwsError, InputError, NotFoundError, PcliError, UsageError
from protoncli.filecache import FileCache

if TYPE_CHECKING:
    from pathlib import Path

    from protoncli.aws.cloudformation import CloudFormationGateway, StackReading
    from protoncli.aws.s3 import ArtifactStore
    from protoncli.aws.secrets import SecretStore
    from protoncli.aws.session import SessionFactory
    from protoncli.blueprints.model import Bundle
    from protoncli.blueprints.registry import Registry, VersionInfo
    from protoncli.deploy.engine import Deployer, Unknown
    from protoncli.deploy.model import DeployEvent, DeployResult, StackInfo
    from protoncli.deploy.polling import StackPoll
    from protoncli.schema.model import InputDef, InputType
    from protoncli.workspace.accounts import Account
    from protoncli.workspace.model import Workspace


class Stopped(KeyboardInterrupt):
    """A wait ended because the user interrupted the command (the work goes on in AWS)."""


T = TypeVar("T")
R = TypeVar("R")
CANCELLABLE = "UPDATE_IN_PROGRESS"  # the one status CancelUpdateStack accepts
NOT_DEPLOYED = "NOT_DEPLOYED"


@dataclass(frozen=True)
class AwsSettings:
    """How to reach AWS: region override, profile, and an endpoint (the sandbox) if any."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


@dataclass
class RuleOverrides:
    """This run's `--override-rule` names (deploy/guardrails.py), and the rule sets read."""

    rules: frozenset[str] = frozenset()
    checked: bool = False  # every name was found in some rule set of the run (`pcli apply`)
    rule_sets: dict[tuple[str, str], Any] = field(default_factory=dict, repr=False)


@dataclass
class Project:
    workspace: Workspace
    registry: Registry
    sessions: SessionFactory
    settings: AwsSettings = field(default_factory=AwsSettings)
    concurrency: int = 4
    # `--provisioning local|pull-request` of the command: how Terraform items are provisioned
    # this run (None: pcli.yaml's `provisioning:`, `provision/settings.py`).
    provisioning: str | None = None
    # `--override-rule NAME` of the command: guardrails whose violations do not block it.
    overrides: RuleOverrides = field(default_factory=RuleOverrides)
    # Set on Ctrl-C (or SIGTERM): every wait of every deployment in flight ends at once.
    stop: threading.Event = field(default_factory=threading.Event, repr=False)
    # Outputs of stacks already known in this run, by (region, stack name): filled by `apply`
    # from its bulk read and by every deployment from its result (`records.recorded_deploy`),
    # so rendering what follows reads no stack again. None: known to have none (not deployed).
    known_outputs: dict[tuple[str, str], dict[str, str] | None] = field(
        default_factory=dict, repr=False
    )
    # Stacks as a bulk read saw them moments ago, by (region, stack name), None for absent:
    # `apply` and `svc deploy` fill it so that each deployment need not read its stack again
    # first. Taken once (a deployment removes its entry); one found outdated is read anew.
    known_stacks: dict[tuple[str, str], StackInfo | None] = field(default_factory=dict, repr=False)
    # Set by `records.written_alongside`: where deployment records go to be written by a pool
    # of their own (None: each is written at once, by the deployment's thread).
    record_writer: Callable[[Callable[[], None]], None] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # By (region, account name): None is the account of the caller's own credentials.
    _artifacts: dict[tuple[str, str | None], ArtifactStore] = field(
        default_factory=dict, repr=False
    )
    _files: FileCache = field(default_factory=FileCache, repr=False)
    # The poll of stacks in progress of each region and account, shared by every deployment.
    _polls: dict[tuple[str, str | None], StackPoll] = field(default_factory=dict, repr=False)
    _versions: dict[tuple[str, str], VersionInfo] = field(default_factory=dict, repr=False)
    _accounts: dict[str, Account] | None = field(default=None, repr=False)

    def read_once(self, path: Path, load: Callable[[Path], T]) -> T:
        """`load(path)`, read again only when the file changed: a fleet's deploy reads an
        environment's spec for every instance in it, and every component record for every
        instance, from one file each (see `filecache`)."""
        return self._files.read(path, load)

    def own_regions(self) -> set[str]:
        """The regions the workspace names without a spec: its own (pcli.yaml's `region`, or
        --region) and pcli.yaml's optional `regions:` list."""
        regions = {self.management_region()}
        listed = self.workspace.settings.get("regions")
        if isinstance(listed, list):
            regions |= {str(region) for region in listed if isinstance(region, str) and region}
        return regions

    def accounts(self) -> dict[str, Account]:
        """pcli.yaml's named accounts (`workspace.accounts`), read once."""
        from protoncli.workspace.accounts import read_accounts

        with self._lock:
            if self._accounts is None:
                self._accounts = read_accounts(self.workspace.settings, self.workspace.file)
            return self._accounts

    def account(self, name: str) -> Account:
        """The named account; a usage error when pcli.yaml has none of that name."""
        from protoncli.workspace.accounts import require_account

        return require_account(self.accounts(), name, str(self.workspace.file))

    def stacks_in(self, region: str, account: str | None = None) -> tuple[StackReading, int]:
        """Every stack of the region (`CloudFormationGateway.read_stacks`) in the account, and
        the calls the read took."""
        gateway = self.cloudformation(region, account)
        return gateway.read_stacks(), gateway.pages_read

    def _known_stack(self, region: str, name: str) -> StackInfo | Unknown | None:
        from protoncli.deploy.engine import UNKNOWN

        with self._lock:
            return self.known_stacks.pop((region, name), UNKNOWN)

    def sleep(self, seconds: float) -> None:
        """Wait between polls; `Stopped` as soon as `stop` is set (from another thread)."""
        if self.stop.wait(seconds):
            raise Stopped

    def region_for(self, spec_region: str | None) -> str:
        return self.settings.region or spec_region or self.workspace.region

    def target(self, region: str, account: str | None = None) -> AwsTarget:
        """Where calls for `region` go: the caller's own credentials, or with `account` (a name
        of pcli.yaml's `accounts:`) that account's role, assumed from them."""
        if account is None:
            return AwsTarget(
                region=region,
                profile=self.settings.profile,
                endpoint_url=self.settings.endpoint_url,
            )
        named = self.account(account)
        return AwsTarget(
            region=region,
            profile=self.settings.profile,
            role_arn=named.role_arn,
            endpoint_url=self.settings.endpoint_url,
            external_id=named.external_id,
            session_name=named.session_name,
        )

    def cloudformation(self, region: str, account: str | None = None) -> CloudFormationGateway:
        from protoncli.aws.cloudformation import CloudFormationGateway

        client = self.sessions.client("cloudformation", self.target(region, account))
        return CloudFormationGateway(client, sleep=self.sleep)

    def secrets(self, region: str, account: str | None = None) -> SecretStore:
        """Where the values of secret inputs of resources in `region` (of `account`) are
        stored."""
        from protoncli.aws.secrets import SecretStore

        return SecretStore(self.sessions.client("secretsmanager", self.target(region, account)))

    def management_region(self) -> str:
        """Where stacks that belong to no environment (pipelines) live."""
        return self.region_for(None)

    def account_id(self, region: str, account: str | None = None) -> str:
        """The id of the account calls for `region` act in: a named account's configured id
        (no call), else the caller's own (STS, cached)."""
        if account is not None:
            return self.account(account).id
        return self.sessions.account_id(self.target(region))

    def artifacts(self, region: str, account: str | None = None) -> ArtifactStore:
        """The artifact bucket of the account in the region (templates, deployment records);
        one store per region, account and run, so the bucket is looked for once."""
        from protoncli.aws.s3 import ArtifactStore

        key = (region, account)
        with self._lock:
            known = self._artifacts.get(key)
        if known is not None:
            return known
        account_id = self.account_id(region, account)
        s3 = self.sessions.client("s3", self.target(region, account))
        made = ArtifactStore(s3, account_id=account_id, region=region)
        with self._lock:
            return self._artifacts.setdefault(key, made)

    def caller_arn(self, region: str, account: str | None = None) -> str:
        """Who the credentials used in `region` (of `account`) act as (an IAM ARN)."""
        return self.sessions.caller_arn(self.target(region, account))

    def deployer(self, region: str, account: str | None = None, **options: Any) -> Deployer:
        """A deployer for the region (of `account`); its artifact bucket (S3 client, account
        id) is only set up when a template is too large to send inline."""
        from protoncli.aws.s3 import LazyArtifactStore
        from protoncli.deploy.engine import Deployer

        artifacts = LazyArtifactStore(lambda: self.artifacts(region, account))
        options.setdefault("sleep", self.sleep)
        options.setdefault("known", lambda name: self._known_stack(region, name))
        options.setdefault("poll", self.stack_poll(region, account))
        return Deployer(self.cloudformation(region, account), artifacts, **options)

    def watcher(self, region: str, account: str | None = None) -> Deployer:
        """A deployer for watching and cancelling: no artifact bucket, no account lookup."""
        from protoncli.deploy.engine import Deployer

        return Deployer(
            self.cloudformation(region, account),
            None,
            sleep=self.sleep,
            poll=self.stack_poll(region, account),
        )

    def stack_poll(self, region: str, account: str | None = None) -> StackPoll:
        """The one poll of stacks in progress of the region and account, shared by every
        deployer of the run: a fleet's deployments cost one ListStacks a second between them,
        not one call per stack (`polling`). It waits with `sleep`, so an interruption ends its
        waits at once."""
        from protoncli.deploy.polling import StackPoll

        with self._lock:
            poll = self._polls.get((region, account))
        if poll is None:
            made = StackPoll(self.cloudformation(region, account), sleep=self.sleep)
            with self._lock:
                poll = self._polls.setdefault((region, account), made)
        return poll

    def registered(self, name: str, version: str) -> VersionInfo:
        """The registry's record of `name@version`, looked up once per run (a fleet's deploy
        asks for the same few versions once per stack)."""
        key = (name, version)
        with self._lock:
            known = self._versions.get(key)
        if known is None:
            known = self.registry.get(name, version)
            with self._lock:
                self._versions[key] = known
        return known

    def blueprint(self, name: str, version: str, kind: str) -> tuple[VersionInfo, Bundle]:
        """The registered version a spec pins, checked to be of the expected kind."""
        info = self.registered(name, version)
        if str(info.kind) != kind:
            raise UsageError(
                f"blueprint {name}@{version} is a {info.kind} blueprint, not a {kind} blueprint",
                hint=f"list {kind} blueprints with: pcli blueprint list",
            )
        return info, self.registry.load(info)


def run_all(
    project: Project,
    items: Iterable[T],
    work: Callable[[T], R],
    *,
    workers: int | None = None,
    name: str = "pcli-work",
) -> list[R]:
    """`work` on every item, at most `workers` (default: the project's concurrency) at once;
    the results in order. Items may come from a generator: each is handed to the pool as soon
    as it is made, so the work starts while later items are still being prepared. An
    interruption (Ctrl-C, SIGTERM) sets the project's `stop`, so the wait of every item in
    flight ends at once instead of running to its end (what runs in AWS goes on there)."""
    size = max(1, workers or project.concurrency)
    if isinstance(items, Sequence):
        if not items:
            return []
        size = min(size, len(items))
    with ThreadPoolExecutor(max_workers=size, thread_name_prefix=name) as pool:
        try:
            return list(pool.map(work, items))
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt):
                project.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def require_spec_header(path_label: str, header: dict[str, Any] | Any) -> tuple[str, str]:
    """The `blueprint` and `version` a workspace spec pins; both must be there."""
    blueprint = header.get("blueprint") if header else None
    version = header.get("version") if header else None
    if not blueprint or not version:
        raise UsageError(
            f"{path_label}: the spec does not pin a blueprint and version",
            hint='add `blueprint: NAME` and `version: "MAJOR.MINOR"` at the top of the file',
        )
    return str(blueprint), str(version)


def missing(kind: str, name: str, known: list[str], create: str) -> NotFoundError:
    listing = ", ".join(known) if known else "none yet"
    return NotFoundError(
        f"no {kind} named {name!r} in this workspace (known: {listing})",
        hint=f"create it: {create}",
    )


def missing_required(input_type: InputType, values: Mapping[str, Any]) -> list[InputDef]:
    """Required inputs with no default that `values` does not give, in schema order."""
    return [
        item
        for item in input_type.inputs
        if item.required and not item.has_default and item.name not in values
    ]


@dataclass(frozen=True)
class MissingValue:
    """Something other than an input that a command needs and was not given.

    `label` names it in the error ("NAME", "--blueprint", "--instance"), `usage` shows how to
    give it ("--blueprint BLUEPRINT") and `about` says what it is, with the choices there are.
    """

    label: str
    usage: str
    about: str
    in_spec: bool = False  # a --spec file can give it too


def explain_missing(
    error: InputError | None,
    subject: str,
    missing: Mapping[str, Sequence[InputDef]],
    *,
    values: Sequence[MissingValue] = (),
) -> InputError:
    """`error` restated for a command line: what is missing and the flags that give it.

    `missing` maps a flag (`--param`) to the required inputs it should give; `values` are the
    other things missing (the name, the blueprint, the instances). Every problem of `error`
    stays listed; `error` is None when the inputs could not be checked (no blueprint yet).
    """
    by_flag = {
        flag: list(dict.fromkeys(item.name for item in items)) for flag, items in missing.items()
    }
    names = list(dict.fromkeys(name for names in by_flag.values() for name in names))
    if error is not None and not names and not values:
        return error
    usages = [value.usage for value in values]
    usages += [f"{flag} {name}=VALUE" for flag, names in by_flag.items() for name in names]
    labels = [value.label for value in values] + names
    what = "value(s)" if values else "input(s)"
    details = [f"{value.label}: {value.about}" for value in values]
    if error is not None:
        details += error.details or [error.message]
    else:
        details += [f"input '{name}' is required" for name in names]
    spec = (
        " (or in a spec file with --spec FILE)" if names or any(v.in_spec for v in values) else ""
    )
    return InputError(
        f"{subject}: {len(labels)} required {what} missing: {', '.join(labels)}",
        hint=f"give them with {' '.join(usages)}{spec}",
        details=details,
    )


@dataclass(frozen=True)
class StackTarget:
    """One stack a command works on: its region, its name and what it is in words."""

    region: str
    stack_name: str
    description: str
    account: str | None = None  # pcli.yaml's name of the account it lives in; None: own


@dataclass(frozen=True)
class CancelOutcome:
    """What `cancel_updates` found on one stack, and how a cancelled update ended."""

    target: StackTarget
    found: str  # the stack status found (NOT_DEPLOYED when there is no stack)
    result: DeployResult | None = None  # None: nothing was cancelled

    @property
    def cancelled(self) -> bool:
        return self.result is not None


def cancel_updates(
    project: Project,
    targets: Sequence[StackTarget],
    *,
    confirm: Callable[[StackTarget], bool],
    on_event: Callable[[DeployEvent], None],
) -> list[CancelOutcome]:
    """Cancel the update in progress on each target that has one, then watch each to its end.

    Every cancellation is confirmed (and requested) before any is watched, so the rollbacks
    run side by side in AWS. Stacks in any other status are reported as found, untouched. A
    cancelled update ends in UPDATE_ROLLBACK_COMPLETE: the stack runs its previous version,
    which is the success of a cancellation; any other failure raises as a deployment would.
    """
    found: dict[StackTarget, str] = {}
    for target in targets:
        info = project.cloudformation(target.region, target.account).describe(target.stack_name)
        found[target] = info.status if info is not None else NOT_DEPLOYED
        if found[target] != CANCELLABLE:
            continue
        if not confirm(target):
            raise PcliError(
                f"the update of {target.description} ({target.stack_name}) was not cancelled",
                hint="it goes on in AWS; watch it with the same command without --cancel",
            )
        _request_cancel(project, target)
    return [
        CancelOutcome(
            target,
            status,
            _watch_rollback(project, target, on_event) if status == CANCELLABLE else None,
        )
        for target, status in found.items()
    ]


def _request_cancel(project: Project, target: StackTarget) -> None:
    try:
        project.watcher(target.region, target.account).cancel(target.stack_name)
    except AwsError:
        # The update may have ended between the check and the request: then watching it
        # reports how it ended. Anything else is a real failure to cancel.
        info = project.cloudformation(target.region, target.account).describe(target.stack_name)
        if info is not None and info.status == CANCELLABLE:
            raise


def _watch_rollback(
    project: Project, target: StackTarget, on_event: Callable[[DeployEvent], None]
) -> DeployResult:
    from protoncli.deploy.engine import StackFailedError

    try:
        return project.watcher(target.region, target.account).watch(
            target.stack_name, target.description, on_event=on_event
        )
    except StackFailedError as error:
        if error.result.status == "UPDATE_ROLLBACK_COMPLETE":
            return error.result
        raise
