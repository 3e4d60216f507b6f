"""CloudFormation calls the deploy engine needs, with answers turned into pcli's models.

Every call runs inside `aws_errors`. Change sets always carry an explicit ChangeSetType (AWS
defaults to UPDATE, moto to CREATE, and a wrong guess makes a second stack of the same name).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]

from protoncli.aws.errors import AWS_FAULT_CODES, aws_errors, error_code, error_message
from protoncli.deploy.drift import (
    DRIFTED_RESOURCE_STATUSES,
    DriftDetection,
    DriftUnavailableError,
    ResourceDrift,
    property_difference,
)
from protoncli.deploy.model import Change, PropertyChange, StackEvent, StackInfo, StackRequest
from protoncli.errors import AwsError, ChangeSetGoneError

NO_CHANGES = "NO_CHANGES"
_NO_CHANGE_REASONS = ("didn't contain changes", "No updates are to be performed")
_CHANGE_SET_PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})
_FIRST_DELAY = 0.2
_MAX_DELAY = 5.0
_CHANGE_SET_TIMEOUT = 30 * 60.0
PCLI_CHANGE_SET_PREFIX = "pcli-"
# A change set that may still run: being made, or made and waiting for someone to execute it.
_CHANGE_SET_OPEN = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS", "CREATE_COMPLETE"})
_EXECUTION_OPEN = frozenset({"AVAILABLE", "UNAVAILABLE"})  # UNAVAILABLE while being made
# Answers about a change set another operation took away: deleted (with the empty stack it was
# for, or by CloudFormation after another change set of the stack ran) or made obsolete.
_GONE_CODES = frozenset(
    {
        "ChangeSetNotFound",
        "ChangeSetNotFoundException",
        "InvalidChangeSetStatus",
        "InvalidChangeSetStatusException",
    }
)


@dataclass(frozen=True)
class OpenChangeSet:
    """A change set of a stack that has not run yet."""

    name: str
    status: str
    created: datetime | None


@dataclass(frozen=True)
class UnreadableStack:
    """A stack ListStacks names that DescribeStacks could not describe."""

    name: str
    stack_id: str
    status: str  # as ListStacks gives it
    reason: str  # what DescribeStacks answered, in words


@dataclass(frozen=True)
class StackReading:
    """Every stack of an account and region, as far as they could be read."""

    stacks: tuple[StackInfo, ...]
    unreadable: tuple[UnreadableStack, ...] = ()
    # Why the one bulk read failed, when the stacks were read one by one instead (else None).
    bulk_failure: str | None = None


class CloudFormationGateway:
    """One CloudFormation client (one account and region) seen through pcli's models."""

    def __init__(self, client: Any, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._sleep = sleep
        # Calls made to read every stack (describe_all, read_stacks), for call budgets.
        self.pages_read = 0
        self._stack_ids: dict[str, str] = {}  # change set id -> stack id, from CreateChangeSet
        # DescribeChangeSet asks for property values (IncludePropertyValues) until an endpoint
        # refuses the parameter: then never again with this gateway.
        self._property_values = True

    def describe(self, stack_name: str) -> StackInfo | None:
        """The stack by name or id; None when it does not exist (a deleted stack by name)."""
        with aws_errors("DescribeStacks", stack_label(stack_name)):
            try:
                response = self._client.describe_stacks(StackName=stack_name)
            except ClientError as error:
                if is_missing_stack(error):
                    return None
                raise
        stacks = response.get("Stacks") or []
        return stack_info(stacks[0]) if stacks else None

    def first_page(self) -> int:
        """One DescribeStacks of every stack (its first page only): how many stacks it lists.
        A proof that CloudFormation answers these credentials here."""
        with aws_errors("DescribeStacks", "all stacks"):
            self.pages_read += 1
            return len(self._client.describe_stacks().get("Stacks") or [])

    def describe_all(self) -> list[StackInfo]:
        """Every stack of the account and region: one paginated DescribeStacks."""
        with aws_errors("DescribeStacks", "all stacks"):
            return self._describe_pages()

    def read_stacks(self) -> StackReading:
        """Every stack of the account and region: one paginated DescribeStacks, or, when the
        endpoint fails that read (`endpoint_failed`), ListStacks and one DescribeStacks per
        stack it names. A stack that fails its own read too is returned as unreadable; any
        other failure (throttling past the retries, denied access, ...) is an error."""
        with aws_errors("DescribeStacks", "all stacks"):
            try:
                return StackReading(tuple(self._describe_pages()))
            except (ClientError, ResponseParserError) as error:
                if not endpoint_failed(error):
                    raise
                failure = failure_words(error)
        return self._read_one_by_one(failure)

    def _describe_pages(self) -> list[StackInfo]:
        stacks: list[StackInfo] = []
        for page in self._client.get_paginator("describe_stacks").paginate():
            self.pages_read += 1
            stacks.extend(stack_info(raw) for raw in page.get("Stacks", []))
        return stacks

    def _read_one_by_one(self, bulk_failure: str) -> StackReading:
        summaries: list[Mapping[str, Any]] = []
        with aws_errors("ListStacks", "all stacks"):
            for page in self._pages(self._client.list_stacks):
                self.pages_read += 1
                summaries.extend(
                    summary
                    for summary in page.get("StackSummaries", [])
                    if summary.get("StackStatus") != "DELETE_COMPLETE"  # gone: nothing to read
                )
        stacks: list[StackInfo] = []
        unreadable: list[UnreadableStack] = []
        for summary in summaries:
            name, stack_id = str(summary["StackName"]), str(summary["StackId"])
            with aws_errors("DescribeStacks", stack_label(name)):
                self.pages_read += 1
                try:  # by id: the stack listed, not one made since under the same name
                    response = self._client.describe_stacks(StackName=stack_id)
                except (ClientError, ResponseParserError) as error:
                    if is_missing_stack(error):
                        continue
                    if not endpoint_failed(error):
                        raise
                    status = str(summary.get("StackStatus", ""))
                    unreadable.append(UnreadableStack(name, stack_id, status, failure_words(error)))
                    continue
            stacks.extend(stack_info(raw) for raw in response.get("Stacks", []))
        return StackReading(tuple(stacks), tuple(unreadable), bulk_failure)

    def create_change_set(
        self, request: StackRequest, *, change_set_type: str, template_url: str | None = None
    ) -> str:
        """Start a change set (CREATE or UPDATE) for the request; its id."""
        arguments: dict[str, Any] = {
            "StackName": request.stack_name,
            "ChangeSetName": new_change_set_name(),
            "ChangeSetType": change_set_type,
            "Capabilities": list(request.capabilities),
            "Tags": [{"Key": key, "Value": value} for key, value in sorted(request.tags.items())],
            "Description": request.description[:1024],
        }
        if request.deployment_mode and change_set_type == "UPDATE":
            # A stack being created has nothing to drift from: the mode goes with updates only.
            arguments["DeploymentMode"] = request.deployment_mode
        if template_url:
            arguments["TemplateURL"] = template_url
        else:
            arguments["TemplateBody"] = request.template_body
        with aws_errors("CreateChangeSet", stack_label(request.stack_name)):
            response = self._client.create_change_set(**arguments)
        change_set_id = str(response["Id"])
        if response.get("StackId"):
            self._stack_ids[change_set_id] = str(response["StackId"])
        return change_set_id

    def stack_id_for(self, change_set_id: str) -> str | None:
        """The stack id CreateChangeSet answered with (saves a DescribeStacks), if known."""
        return self._stack_ids.get(change_set_id)

    def wait_change_set(self, change_set_id: str) -> tuple[str, str | None, tuple[Change, ...]]:
        """Wait for the change set: (status, reason, changes); ("NO_CHANGES", reason, ()) when
        there is nothing to change."""
        first = self._settled_change_set(change_set_id)
        status = str(first["Status"])
        reason = first.get("StatusReason")
        if status == "FAILED":
            if reason and any(text in reason for text in _NO_CHANGE_REASONS):
                return NO_CHANGES, reason, ()
            return status, reason, ()
        changes = [change for page in self._change_set_pages(first) for change in page]
        return status, reason, tuple(changes)

    def execute_change_set(self, change_set_id: str) -> None:
        """Execute it; `ChangeSetGoneError` when another operation took it away first."""
        with _change_set_errors("ExecuteChangeSet", change_set_id):
            self._client.execute_change_set(ChangeSetName=change_set_id)

    def open_change_sets(self, stack_name: str) -> list[OpenChangeSet]:
        """The stack's change sets made by pcli (named `pcli-...`) that have not run yet."""
        found: list[OpenChangeSet] = []
        with aws_errors("ListChangeSets", stack_label(stack_name)):
            try:
                for page in self._pages(self._client.list_change_sets, StackName=stack_name):
                    found.extend(_open_pcli_change_sets(page, stack_name))
            except ClientError as error:
                if is_missing_stack(error):
                    return []
                raise
        return found

    def delete_change_set(self, change_set_id: str) -> None:
        with aws_errors("DeleteChangeSet", change_set_label(change_set_id)):
            self._client.delete_change_set(ChangeSetName=change_set_id)

    def events(self, stack_id: str, since: datetime) -> list[StackEvent]:
        """The stack's events at or after `since`, oldest first (pages read newest first, until
        one older than `since`)."""
        floor = since.replace(microsecond=since.microsecond // 1000 * 1000)  # AWS keeps ms
        newest_first: list[StackEvent] = []
        with aws_errors("DescribeStackEvents", stack_label(stack_id)):
            for page in self._pages(self._client.describe_stack_events, StackName=stack_id):
                for raw in page.get("StackEvents", []):
                    event = stack_event(raw)
                    if event.timestamp < floor:
                        return newest_first[::-1]
                    newest_first.append(event)
        return newest_first[::-1]

    def update_tags(self, request: StackRequest) -> None:
        """Re-tag a stack whose template stays as it is (UpdateStack with the previous
        template and the request's tags)."""
        with aws_errors("UpdateStack", stack_label(request.stack_name)):
            self._client.update_stack(
                StackName=request.stack_name,
                UsePreviousTemplate=True,
                Capabilities=list(request.capabilities),
                Tags=[{"Key": key, "Value": value} for key, value in sorted(request.tags.items())],
            )

    def delete_stack(self, stack_id_or_name: str) -> None:
        with aws_errors("DeleteStack", stack_label(stack_id_or_name)):
            self._client.delete_stack(StackName=stack_id_or_name)

    def cancel_update(self, stack_name: str) -> None:
        with aws_errors("CancelUpdateStack", stack_label(stack_name)):
            self._client.cancel_update_stack(StackName=stack_name)

    def template_body(self, stack_name: str) -> str:
        """The template the stack was last deployed with, as submitted."""
        with aws_errors("GetTemplate", stack_label(stack_name)):
            body = self._client.get_template(StackName=stack_name, TemplateStage="Original")
        template = body.get("TemplateBody", "")
        # botocore decodes JSON templates into dicts; YAML ones stay text.
        return template if isinstance(template, str) else json.dumps(template, indent=2)

    def detect_drift(self, stack_name: str) -> str:
        """Start drift detection on the stack (DetectStackDrift); the detection id.

        DriftUnavailableError when the endpoint does not implement drift detection (the sandbox
        answers with an error page)."""
        with aws_errors("DetectStackDrift", stack_label(stack_name)):
            try:
                response = self._client.detect_stack_drift(StackName=stack_name)
            except (ClientError, ResponseParserError) as error:
                if lacks_operation(error):
                    raise DriftUnavailableError(
                        f"the endpoint cannot detect CloudFormation drift (DetectStackDrift "
                        f"answered {_answer(error)})"
                    ) from error
                raise
        return str(response["StackDriftDetectionId"])

    def drift_detection(self, detection_id: str) -> DriftDetection:
        """Where a drift detection stands (DescribeStackDriftDetectionStatus)."""
        with aws_errors("DescribeStackDriftDetectionStatus", f"drift detection {detection_id}"):
            raw = self._client.describe_stack_drift_detection_status(
                StackDriftDetectionId=detection_id
            )
        count = raw.get("DriftedStackResourceCount")
        return DriftDetection(
            detection_id=str(raw["StackDriftDetectionId"]),
            status=str(raw["DetectionStatus"]),
            stack_drift_status=raw.get("StackDriftStatus"),
            reason=raw.get("DetectionStatusReason") or None,
            drifted_resources=int(count) if count is not None else None,
        )

    def resource_drifts(self, stack_name: str) -> list[ResourceDrift]:
        """The stack's resources that were modified or deleted outside CloudFormation, as the
        last drift detection found them (DescribeStackResourceDrifts, every page)."""
        drifts: list[ResourceDrift] = []
        with aws_errors("DescribeStackResourceDrifts", stack_label(stack_name)):
            for page in self._pages(
                self._client.describe_stack_resource_drifts,
                StackName=stack_name,
                StackResourceDriftStatusFilters=list(DRIFTED_RESOURCE_STATUSES),
            ):
                drifts.extend(resource_drift(raw) for raw in page.get("StackResourceDrifts", []))
        return drifts

    def _settled_change_set(self, change_set_id: str) -> Mapping[str, Any]:
        """The first page of DescribeChangeSet once the change set is no longer being made."""
        delay, waited = _FIRST_DELAY, 0.0
        while True:
            page = self._describe_change_set(change_set_id)
            if page.get("Status") not in _CHANGE_SET_PENDING:
                return page
            if waited >= _CHANGE_SET_TIMEOUT:
                raise AwsError(
                    f"change set {change_set_label(change_set_id)} is still {page['Status']} "
                    f"after {int(waited // 60)} minutes",
                    hint="look at the change set in the CloudFormation console",
                )
            self._sleep(delay)
            waited += delay
            delay = min(delay * 2, _MAX_DELAY)

    def _change_set_pages(self, first: Mapping[str, Any]) -> Iterator[list[Change]]:
        yield changes_of(first)
        token = first.get("NextToken")
        while token:
            page = self._describe_change_set(str(first["ChangeSetId"]), NextToken=token)
            yield changes_of(page)
            token = page.get("NextToken")

    def _describe_change_set(self, change_set_id: str, **arguments: Any) -> Mapping[str, Any]:
        """One DescribeChangeSet page, with property values (`IncludePropertyValues`, which
        gives each property change its values before and after) unless the endpoint refused
        the parameter before. An endpoint that refuses it (a ValidationError) is asked again
        without it, once; when that answer comes, the gateway never asks for values again."""
        with _change_set_errors("DescribeChangeSet", change_set_id):
            if not self._property_values:
                return self._client.describe_change_set(  # type: ignore[no-any-return]
                    ChangeSetName=change_set_id, **arguments
                )
            try:
                return self._client.describe_change_set(  # type: ignore[no-any-return]
                    ChangeSetName=change_set_id, IncludePropertyValues=True, **arguments
                )
            except ClientError as error:
                if error_code(error) != "ValidationError":
                    raise
            page: Mapping[str, Any] = self._client.describe_change_set(
                ChangeSetName=change_set_id, **arguments
            )
            self._property_values = False
            return page

    @staticmethod
    def _pages(call: Callable[..., Any], **arguments: Any) -> Iterator[Mapping[str, Any]]:
        token = None
        while True:
            page = call(**arguments, **({"NextToken": token} if token else {}))
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def stacks_in_progress(self) -> frozenset[str]:
        """The ids and names of the account and region's stacks an operation runs on: one
        ListStacks (every page) filtered to the in-progress statuses botocore knows (a stack
        waiting for its first change set, REVIEW_IN_PROGRESS, runs nothing)."""
        known = self._client.meta.service_model.shape_for("StackStatus").enum
        statuses = [s for s in known if s.endswith("_IN_PROGRESS") and s != "REVIEW_IN_PROGRESS"]
        found: set[str] = set()
        with aws_errors("ListStacks", "stacks in progress"):
            for page in self._pages(self._client.list_stacks, StackStatusFilter=statuses):
                for summary in page.get("StackSummaries", []):
                    found.update((str(summary["StackId"]), str(summary["StackName"])))
        return frozenset(found)


@contextmanager
def _change_set_errors(action: str, change_set_id: str) -> Iterator[None]:
    """`aws_errors`, with a change set that another operation took away as
    `ChangeSetGoneError` (the engine turns it into an error about the stack)."""
    with aws_errors(action, change_set_label(change_set_id)):
        try:
            yield
        except ClientError as error:
            code = error_code(error) or ""
            if code in _GONE_CODES:
                raise ChangeSetGoneError(
                    change_set_label(change_set_id), code, error_message(error)
                ) from error
            raise


def _open_pcli_change_sets(page: Mapping[str, Any], stack_name: str) -> list[OpenChangeSet]:
    found = []
    for summary in page.get("Summaries", []):
        name = str(summary.get("ChangeSetName", ""))
        stack = str(summary.get("StackName", stack_name))
        if (
            stack == stack_name
            and name.startswith(PCLI_CHANGE_SET_PREFIX)
            and summary.get("Status") in _CHANGE_SET_OPEN
            and summary.get("ExecutionStatus", "AVAILABLE") in _EXECUTION_OPEN
        ):
            found.append(OpenChangeSet(name, str(summary["Status"]), summary.get("CreationTime")))
    return found


def is_missing_stack(error: BaseException) -> bool:
    """True for AWS's answer about a stack that does not exist.

    AWS gives this case no code of its own (a ValidationError "Stack with id X does not exist"),
    so the message is the only way to tell it from other validation errors.
    """
    return error_code(error) == "ValidationError" and "does not exist" in error_message(error)


def stack_info(raw: Mapping[str, Any]) -> StackInfo:
    return StackInfo(
        name=str(raw["StackName"]),
        stack_id=str(raw["StackId"]),
        status=str(raw["StackStatus"]),
        status_reason=raw.get("StackStatusReason"),
        tags={str(tag["Key"]): str(tag["Value"]) for tag in raw.get("Tags", [])},
        outputs={
            str(output["OutputKey"]): str(output.get("OutputValue", ""))
            for output in raw.get("Outputs", [])
        },
        last_updated=raw.get("LastUpdatedTime"),
        created=raw.get("CreationTime"),
        drift_status=_drift_status(raw),
    )


def _drift_status(raw: Mapping[str, Any]) -> str | None:
    """The stack's last drift detection verdict, as DescribeStacks reports it (no extra call)."""
    status = (raw.get("DriftInformation") or {}).get("StackDriftStatus")
    return None if status in (None, "NOT_CHECKED") else str(status)


def stack_event(raw: Mapping[str, Any]) -> StackEvent:
    return StackEvent(
        event_id=str(raw["EventId"]),
        timestamp=raw["Timestamp"],
        logical_id=str(raw.get("LogicalResourceId", "")),
        resource_type=str(raw.get("ResourceType", "")),
        status=str(raw.get("ResourceStatus", "")),
        reason=raw.get("ResourceStatusReason") or None,
        physical_id=raw.get("PhysicalResourceId") or None,
    )


def changes_of(page: Mapping[str, Any]) -> list[Change]:
    """The resource changes of one DescribeChangeSet page."""
    changes: list[Change] = []
    for entry in page.get("Changes", []):
        change = entry.get("ResourceChange")
        if entry.get("Type", "Resource") != "Resource" or not change:
            continue
        changes.append(
            Change(
                action=str(change.get("Action", "")),
                logical_id=str(change.get("LogicalResourceId", "")),
                resource_type=str(change.get("ResourceType", "")),
                replacement=change.get("Replacement"),
                details=tuple(property_change(raw) for raw in change.get("Details") or ()),
            )
        )
    return changes


def property_change(raw: Mapping[str, Any]) -> PropertyChange:
    """One ResourceChangeDetail; values CloudFormation masks (NoEcho: `****`) stay masked."""
    target = raw.get("Target") or {}

    def text(value: Any) -> str | None:
        return None if value is None else str(value)

    return PropertyChange(
        path=text(target.get("Path")),
        attribute=text(target.get("Attribute")),
        name=text(target.get("Name")),
        change_type=text(target.get("AttributeChangeType")),
        before=text(target.get("BeforeValue")),
        after=text(target.get("AfterValue")),
        requires_recreation=text(target.get("RequiresRecreation")),
        source=text(raw.get("ChangeSource")),
        causing_entity=text(raw.get("CausingEntity")),
        evaluation=text(raw.get("Evaluation")),
    )


def resource_drift(raw: Mapping[str, Any]) -> ResourceDrift:
    """One StackResourceDrift; property values CloudFormation masks (NoEcho) stay masked."""
    return ResourceDrift(
        logical_id=str(raw["LogicalResourceId"]),
        resource_type=str(raw["ResourceType"]),
        physical_id=raw.get("PhysicalResourceId") or None,
        status=str(raw["StackResourceDriftStatus"]),
        differences=tuple(
            property_difference(
                path=str(difference["PropertyPath"]),
                expected=str(difference["ExpectedValue"]),
                actual=str(difference["ActualValue"]),
                difference_type=str(difference["DifferenceType"]),
            )
            for difference in raw.get("PropertyDifferences", [])
        ),
    )


def endpoint_failed(error: BaseException) -> bool:
    """True when the endpoint failed to describe stacks it has: an HTTP 5xx (AWS's internal
    errors, or an error page), an answer that is no AWS response, or a ValidationError other
    than a missing stack (a read of every stack takes no input to refuse; moto answers one
    when it cannot resolve a stack's outputs). Not throttling or denied access: those concern
    every call alike, and botocore retries throttling."""
    if isinstance(error, ResponseParserError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = error_code(error) or ""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return (
        int(status) >= 500  # noqa: PLR2004 - HTTP 5xx: the server failed
        or code in AWS_FAULT_CODES
        or (code.isdigit() and int(code) >= 500)  # noqa: PLR2004 - same, from an error page
        or (code == "ValidationError" and not is_missing_stack(error))
    )


def failure_words(error: BaseException) -> str:
    """What a failed call answered, in words (an error page is not quoted)."""
    if isinstance(error, ResponseParserError):
        return "an error page instead of an AWS response"
    code = error_code(error) or "an error"
    if code.isdigit():
        return f"HTTP {code}"
    message = error_message(error)
    return f"{code}: {message}" if message else code


def lacks_operation(error: BaseException) -> bool:
    """True when the endpoint does not implement the operation at all: an HTML error page
    instead of an AWS response (moto's answer to operations it lacks), or a bare HTTP 5xx."""
    if isinstance(error, ResponseParserError):
        return True
    code = error_code(error) or ""
    return code.isdigit() and int(code) >= 500  # noqa: PLR2004 - HTTP 5xx: an error page


def _answer(error: BaseException) -> str:
    code = error_code(error)
    return f"HTTP {code}" if code else "with an error page instead of an AWS response"


def new_change_set_name() -> str:
    """A unique change set name: pcli-<UTC time>-<random>."""
    return f"{PCLI_CHANGE_SET_PREFIX}{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"


def stack_label(stack_id_or_name: str) -> str:
    """ "stack NAME" for a stack name or ARN (arn:...:stack/NAME/uuid)."""
    if stack_id_or_name.startswith("arn:") and ":stack/" in stack_id_or_name:
        return f"stack {stack_id_or_name.split(':stack/', 1)[1].split('/', 1)[0]}"
    return f"stack {stack_id_or_name}"


def change_set_label(change_set_id: str) -> str:
    """ "change set NAME" for a change set name or ARN (arn:...:changeSet/NAME/uuid)."""
    if change_set_id.startswith("arn:") and ":changeSet/" in change_set_id:
        return f"change set {change_set_id.split(':changeSet/', 1)[1].split('/', 1)[0]}"
    return f"change set {change_set_id}"
