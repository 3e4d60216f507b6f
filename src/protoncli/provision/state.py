"""What runs for an item that CloudFormation does not deploy (Terraform, CodeBuild commands, an
environment managed elsewhere): its state, kept in AWS beside the stacks.

A CloudFormation item's deployed state is its stack: tags say what it runs, outputs what it
gives. An item provisioned otherwise has no stack, so pcli keeps the same facts in one JSON
object of the artifact bucket of its account and region (`aws/s3.py`), under
`provisioned/<name>.json`, where `<name>` is the stack name the item would have. The object is
read as a stack would be (`stack_info`), so status, plan, history, the outputs that flow to what
depends on the item, orphans and delete protection treat both alike.

- `tags`: the `pcli:*` tags of the last deployment that succeeded (empty before the first);
  `outputs` its outputs.
- `status`: IN_PROGRESS while a deployment runs or waits (a pull request not yet applied),
  then SUCCEEDED or FAILED, as Proton's `NotifyResourceDeploymentStatusChange` says them.
- `pending`: the deployment that runs or waits: its id, its tags (which become `tags` when it
  succeeds), whether it deletes the item, its pull request.

A deployment id names its item in `provisioned-deployments/<id>.json`, so `pcli notify` finds the
item from the id alone, as Proton's did.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from protoncli.deploy.model import StackInfo
from protoncli.errors import PcliError

FORMAT_VERSION = 1
STATE_PREFIX = "provisioned/"
DEPLOYMENTS_PREFIX = "provisioned-deployments/"
IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
STATUSES = (IN_PROGRESS, SUCCEEDED, FAILED)

TERRAFORM = "terraform"
CODEBUILD = "codebuild"
EXTERNAL = "external"  # managed elsewhere (`pcli env import`): never deployed by pcli
LOCAL = "local"
PULL_REQUEST = "pull-request"


def state_key(name: str) -> str:
    return f"{STATE_PREFIX}{name}.json"


def deployment_key(deployment_id: str) -> str:
    return f"{DEPLOYMENTS_PREFIX}{deployment_id}.json"


@dataclass(frozen=True)
class Pending:
    """The deployment that runs, or waits for `pcli notify`."""

    deployment_id: str
    tags: Mapping[str, str]
    deleting: bool = False
    started: datetime | None = None
    branch: str | None = None  # the pull request's branch
    pull_request: str | None = None  # its URL, or what to open


@dataclass(frozen=True)
class ProvisionedState:
    name: str  # the stack name the item would have
    region: str
    provisioning: str  # terraform | codebuild | external
    method: str  # local | pull-request (terraform); local (codebuild); "" (external)
    status: str
    tags: Mapping[str, str] = field(default_factory=dict)
    outputs: Mapping[str, str] = field(default_factory=dict)
    pending: Pending | None = None
    message: str | None = None  # the last status message (a failure's reason)
    created: datetime | None = None
    updated: datetime | None = None
    deployment_id: str | None = None  # the last deployment notified or run
    source: str | None = None  # external: where the outputs come from (stack NAME, a file)
    updated_once: bool = False  # the last success updated what an earlier one made

    @property
    def label(self) -> str:
        """How the item is provisioned, in words."""
        if self.provisioning == EXTERNAL:
            return "managed elsewhere"
        if self.provisioning == TERRAFORM:
            return "terraform (pull request)" if self.method == PULL_REQUEST else "terraform"
        return self.provisioning

    def stack_status(self) -> str:
        """The status as a stack's would read, so that fleet views treat both alike."""
        deleting = self.pending is not None and self.pending.deleting
        operation = "DELETE" if deleting else ("UPDATE" if self.tags else "CREATE")
        if self.status == IN_PROGRESS:
            return f"{operation}_IN_PROGRESS"
        if self.status == FAILED:
            return f"{operation}_FAILED"
        return "UPDATE_COMPLETE" if self.updated_once else "CREATE_COMPLETE"

    def stack_info(self) -> StackInfo:
        """The state as a stack's description; an item that never succeeded yet carries the
        tags of its pending deployment (its identity), so it is still known as the item."""
        tags = dict(self.tags) or dict(self.pending.tags if self.pending else {})
        return StackInfo(
            name=self.name,
            stack_id=f"{self.provisioning}:{self.region}:{self.name}",
            status=self.stack_status(),
            status_reason=self.reason(),
            tags=tags,
            outputs=dict(self.outputs) if self.tags or self.provisioning == EXTERNAL else {},
            last_updated=self.updated,
            created=self.created,
            provisioning=self.label,
        )

    def reason(self) -> str | None:
        if self.status == IN_PROGRESS and self.pending is not None:
            if self.pending.branch:
                where = self.pending.pull_request or f"branch {self.pending.branch}"
                verb = "destroy" if self.pending.deleting else "apply"
                return (
                    f"pull request pending: {where}; its automation runs terraform {verb}, then "
                    f"pcli notify --deployment-id {self.pending.deployment_id}"
                )
            return f"deployment {self.pending.deployment_id} in progress"
        return self.message

    def document(self) -> dict[str, Any]:
        pending = self.pending
        return {
            "format": FORMAT_VERSION,
            "name": self.name,
            "region": self.region,
            "provisioning": self.provisioning,
            "method": self.method,
            "status": self.status,
            "tags": dict(self.tags),
            "outputs": dict(self.outputs),
            "message": self.message,
            "created": _iso(self.created),
            "updated": _iso(self.updated),
            "deployment_id": self.deployment_id,
            "source": self.source,
            "updated_once": self.updated_once,
            "pending": None
            if pending is None
            else {
                "deployment_id": pending.deployment_id,
                "tags": dict(pending.tags),
                "deleting": pending.deleting,
                "started": _iso(pending.started),
                "branch": pending.branch,
                "pull_request": pending.pull_request,
            },
        }

    @classmethod
    def from_document(cls, key: str, document: Any) -> ProvisionedState:
        if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
            raise PcliError(
                f"provisioned state {key} has an unknown format",
                hint="it was written by a newer pcli, or edited by hand: upgrade pcli",
            )
        try:
            raw = document.get("pending")
            pending = (
                None
                if raw is None
                else Pending(
                    deployment_id=str(raw["deployment_id"]),
                    tags=_strings(raw.get("tags")),
                    deleting=bool(raw.get("deleting")),
                    started=_parse(raw.get("started")),
                    branch=raw.get("branch"),
                    pull_request=raw.get("pull_request"),
                )
            )
            status = _status(document["status"])
            return cls(
                name=str(document["name"]),
                region=str(document["region"]),
                provisioning=str(document["provisioning"]),
                method=str(document.get("method") or ""),
                status=status,
                tags=_strings(document.get("tags")),
                outputs=_strings(document.get("outputs")),
                pending=pending,
                message=document.get("message"),
                created=_parse(document.get("created")),
                updated=_parse(document.get("updated")),
                deployment_id=document.get("deployment_id"),
                source=document.get("source"),
                updated_once=bool(document.get("updated_once")),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise PcliError(f"provisioned state {key} cannot be read: {error}") from None

    # Transitions -------------------------------------------------------------------------

    def started(self, pending: Pending, now: datetime) -> ProvisionedState:
        """A deployment began (or a pull request was opened)."""
        return replace(
            self,
            status=IN_PROGRESS,
            pending=replace(pending, started=pending.started or now),
            message=None,
            updated=now,
        )

    def ended(
        self, status: str, now: datetime, *, outputs: Mapping[str, str] | None, message: str | None
    ) -> ProvisionedState:
        """The pending deployment ended with `status` (SUCCEEDED or FAILED)."""
        pending = self.pending
        if pending is None:
            raise PcliError(f"{self.name}: no deployment is in progress")
        if status == SUCCEEDED:
            return replace(
                self,
                status=SUCCEEDED,
                tags=dict(pending.tags),
                outputs=dict(outputs) if outputs is not None else dict(self.outputs),
                pending=None,
                message=message,
                updated=now,
                deployment_id=pending.deployment_id,
                updated_once=bool(self.tags),
            )
        return replace(
            self,
            status=FAILED,
            message=message,
            updated=now,
            deployment_id=pending.deployment_id,
        )


def new_state(
    name: str, region: str, provisioning: str, method: str, now: datetime
) -> ProvisionedState:
    return ProvisionedState(
        name=name,
        region=region,
        provisioning=provisioning,
        method=method,
        status=IN_PROGRESS,
        created=now,
        updated=now,
    )


def _status(value: Any) -> str:
    if value not in STATUSES:
        raise ValueError(f"unknown status {value}")
    return str(value)


def _strings(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("expected a mapping")
    return {str(key): str(item) for key, item in value.items()}


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _parse(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text))
