"""`pcli account check`: proof that pcli can work in an environment account.

For one named account (pcli.yaml's `accounts:`) in one region, in order, each step only when the
one before it passed:

1. the role is assumed (STS AssumeRole from the caller's own credentials);
2. the assumed credentials act in the account's id (STS GetCallerIdentity);
3. CloudFormation answers a DescribeStacks (what every read and deploy starts from);
4. the artifact bucket `pcli-artifacts-<id>-<region>` is there and usable (HeadBucket), or
   absent (pcli makes it on first need).

A failed step names the permission that is missing and the policy to attach (`POLICY`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.deploy.project import Project

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"

# What pcli does in an environment account, as an IAM policy for the role it assumes there.
POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "PcliStacks",
            "Effect": "Allow",
            "Action": [
                "cloudformation:CreateChangeSet",
                "cloudformation:DeleteChangeSet",
                "cloudformation:DeleteStack",
                "cloudformation:DescribeChangeSet",
                "cloudformation:DescribeStackEvents",
                "cloudformation:DescribeStackResources",
                "cloudformation:DescribeStacks",
                "cloudformation:DetectStackDrift",
                "cloudformation:DescribeStackDriftDetectionStatus",
                "cloudformation:DescribeStackResourceDrifts",
                "cloudformation:ExecuteChangeSet",
                "cloudformation:GetTemplate",
                "cloudformation:ListChangeSets",
                "cloudformation:ListStacks",
                "cloudformation:CancelUpdateStack",
            ],
            "Resource": "*",
        },
        {
            "Sid": "PcliArtifacts",
            "Effect": "Allow",
            "Action": [
                "s3:CreateBucket",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:PutBucketPublicAccessBlock",
                "s3:PutEncryptionConfiguration",
                "s3:PutObject",
            ],
            "Resource": ["arn:aws:s3:::pcli-artifacts-*", "arn:aws:s3:::pcli-artifacts-*/*"],
        },
        {
            "Sid": "PcliSecretInputs",
            "Effect": "Allow",
            "Action": [
                "secretsmanager:CreateSecret",
                "secretsmanager:PutSecretValue",
                "secretsmanager:TagResource",
            ],
            "Resource": "arn:aws:secretsmanager:*:*:secret:pcli/*",
        },
    ],
}
POLICY_HINT = "attach pcli's policy to the role (pcli account policy prints it)"


@dataclass(frozen=True)
class Step:
    name: str  # assume-role | identity | cloudformation | artifact-bucket
    status: str  # ok | failed | skipped
    detail: str
    permission: str | None = None  # the permission that is missing, when one is
    hint: str | None = None


@dataclass(frozen=True)
class AccountCheck:
    account: str
    account_id: str
    role_arn: str
    region: str
    steps: tuple[Step, ...]

    @property
    def ok(self) -> bool:
        return all(step.status == OK for step in self.steps)


def policy_text() -> str:
    return json.dumps(POLICY, indent=2) + "\n"


def check_account(project: Project, name: str, region: str) -> AccountCheck:
    """Each step of the check, in order; a failed step skips the ones after it."""
    from protoncli.aws.errors import DENIED_CODES, error_code

    account = project.account(name)
    steps: list[Step] = []
    target = project.target(region, name)

    def denied(error: PcliError) -> bool:
        cause = error.__cause__
        return error_code(cause) in DENIED_CODES if cause is not None else False

    try:
        project.sessions.assume(target)
    except PcliError as error:
        caller = _own_caller(project, region)
        steps.append(
            Step(
                "assume-role",
                FAILED,
                error.message,
                permission=f"sts:AssumeRole on {account.role_arn}",
                hint=(
                    f"allow {caller} to assume the role: the role's trust policy must name it "
                    "(with the external id, when the account sets one), and the caller's own "
                    "policy must allow sts:AssumeRole on the role"
                ),
            )
        )
        return _done(account.name, account.id, account.role_arn, region, steps)
    steps.append(Step("assume-role", OK, f"assumed {account.role_arn}"))

    try:
        acting = project.caller_arn(region, name)
    except PcliError as error:
        steps.append(Step("identity", FAILED, error.message, permission="sts:GetCallerIdentity"))
        return _done(account.name, account.id, account.role_arn, region, steps)
    acting_account = acting.split(":")[4] if acting.count(":") >= 5 else ""  # noqa: PLR2004
    if acting_account != account.id:
        steps.append(
            Step(
                "identity",
                FAILED,
                f"the role acts as {acting}, in account {acting_account}, not {account.id}",
                hint=f"fix the account's id or role_arn in {project.workspace.file}",
            )
        )
        return _done(account.name, account.id, account.role_arn, region, steps)
    steps.append(Step("identity", OK, f"acting as {acting}"))

    try:
        project.cloudformation(region, name).first_page()
    except PcliError as error:
        steps.append(
            Step(
                "cloudformation",
                FAILED,
                error.message,
                permission="cloudformation:DescribeStacks" if denied(error) else None,
                hint=POLICY_HINT,
            )
        )
        return _done(account.name, account.id, account.role_arn, region, steps)
    steps.append(Step("cloudformation", OK, f"DescribeStacks answers in {region}"))

    store = project.artifacts(region, name)
    try:
        exists = store.exists()
    except PcliError as error:
        steps.append(
            Step(
                "artifact-bucket",
                FAILED,
                error.message,
                permission=f"s3:ListBucket on arn:aws:s3:::{store.bucket}",
                hint=POLICY_HINT,
            )
        )
        return _done(account.name, account.id, account.role_arn, region, steps)
    found = "is there" if exists else "is not there yet: pcli makes it on first need"
    steps.append(Step("artifact-bucket", OK, f"bucket {store.bucket} {found}"))
    return _done(account.name, account.id, account.role_arn, region, steps)


def _own_caller(project: Project, region: str) -> str:
    try:
        return project.caller_arn(region)
    except PcliError:
        return "the caller's own credentials"


def _done(name: str, id_: str, role: str, region: str, steps: list[Step]) -> AccountCheck:
    return AccountCheck(name, id_, role, region, tuple(steps))
