"""`pcli notify`: record how a Terraform deployment run by a team's automation ended."""

from __future__ import annotations

import os
from enum import StrEnum
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from protoncli.aws.s3 import ArtifactStore

app = typer.Typer(
    help="Record how a deployment pcli did not run itself ended (Terraform by pull request).",
    add_completion=False,  # completion is the root's (pcli --install-completion)
)


ARN_PARTS = 6  # arn:partition:service:region:account:resource


class Status(StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@app.command("notify")
def notify(
    ctx: typer.Context,
    deployment_id: str = typer.Option(
        ...,
        "--deployment-id",
        metavar="ID",
        help="The deploymentId of the folder's .proton/deployment-metadata.json.",
    ),
    status: Status = typer.Option(..., "--status", help="How the deployment ended (or runs)."),
    outputs: str | None = typer.Option(
        None,
        "--outputs",
        metavar="FILE|-|JSON",
        help="The outputs: `terraform output -json`, Proton's [{key, valueString}] list, or "
        "{name: value}, in a file (file:// accepted), on standard input (-), or given inline.",
    ),
    resource_arn: str | None = typer.Option(
        None,
        "--resource-arn",
        metavar="ARN",
        help="The folder's resource (its ARN in the metadata); its region is used when "
        "--region is not given.",
    ),
    region: str | None = typer.Option(
        None,
        "--region",
        metavar="REGION",
        help="The environment's region (default: the resource ARN's, else AWS_REGION).",
    ),
    message: str | None = typer.Option(
        None, "--status-message", metavar="TEXT", help="Why it failed, shown by status."
    ),
    json_: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Record how a Terraform deployment by pull request ended, with its outputs.

    Run by the provisioning repository's automation after `terraform apply` (or `destroy`),
    with credentials of the environment's account: the item's state in that account's pcli
    bucket says SUCCEEDED or FAILED, and what depends on the item renders with its outputs.
    It works without a pcli workspace. A deployment is notified once (IN_PROGRESS may come
    before): a second notify of the same deployment is refused, as is an unknown id.

    Examples:

      pcli notify --deployment-id "$DEPLOYMENT_ID" --status SUCCEEDED --outputs outputs.json

      pcli notify --deployment-id "$ID" --status SUCCEEDED --outputs -   (terraform output -json |)

      pcli notify --deployment-id "$ID" --status FAILED --status-message "apply failed"
    """
    from protoncli.cli import output
    from protoncli.provision.notify import notify as record
    from protoncli.provision.notify import read_outputs

    values = read_outputs(outputs) if outputs is not None else None
    store = _store(ctx, resource_arn, region)
    result = record(store, deployment_id, str(status), outputs=values, message=message)
    if output.wants_json(ctx, json_):
        output.print_json(
            {
                "deployment_id": result.deployment_id,
                "item": result.item,
                "status": result.status,
                "deleted": result.deleted,
                "outputs": dict(result.outputs),
                "bucket": store.bucket,
            }
        )
        return
    if result.deleted:
        output.line(f"{result.item}: deleted (deployment {deployment_id})")
    else:
        output.line(f"{result.item}: {result.status} (deployment {deployment_id})")
        for key, value in sorted(result.outputs.items()):
            output.line(f"  {key} = {value}")


def _store(ctx: typer.Context, resource_arn: str | None, given: str | None) -> ArtifactStore:
    """The pcli bucket of the credentials' account in the deployment's region."""
    from protoncli.aws.s3 import ArtifactStore
    from protoncli.aws.target import AwsTarget
    from protoncli.cli.deploying import aws_access
    from protoncli.errors import UsageError

    aws, sessions = aws_access(ctx)
    region = given or aws.region or _region_of(resource_arn) or _environment_region()
    if region is None:
        raise UsageError(
            "no region: give --region (or --resource-arn, or set AWS_REGION)",
            hint="the region of the environment the deployment is for",
        )
    target = AwsTarget(region=region, profile=aws.profile, endpoint_url=aws.endpoint_url)
    account_id = sessions.account_id(target)
    arn_account = _account_of(resource_arn)
    if arn_account is not None and arn_account != account_id:
        raise UsageError(
            f"--resource-arn is of account {arn_account}, but the credentials are of account "
            f"{account_id}",
            hint="run with credentials of the environment's account (its role)",
        )
    return ArtifactStore(sessions.client("s3", target), account_id=account_id, region=region)


def _arn_parts(arn: str | None) -> list[str]:
    parts = (arn or "").split(":")
    return parts if len(parts) >= ARN_PARTS and parts[0] == "arn" else []


def _region_of(arn: str | None) -> str | None:
    parts = _arn_parts(arn)
    return parts[3] or None if parts else None


def _account_of(arn: str | None) -> str | None:
    parts = _arn_parts(arn)
    return parts[4] or None if parts else None


def _environment_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
