"""`pcli account ...`: the AWS accounts environments are deployed into (pcli.yaml's `accounts:`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from protoncli.cli import output
from protoncli.errors import PcliError

if TYPE_CHECKING:
    from protoncli.deploy.accounts import AccountCheck

app = typer.Typer(
    help="Name the AWS accounts environments are deployed into; prove pcli can work there.",
    no_args_is_help=True,
    add_completion=False,  # completion is the root's (pcli --install-completion)
    epilog=(
        "Examples: pcli account add prod --id 111111111111 --role-arn "
        "arn:aws:iam::111111111111:role/pcli-deploy; pcli account list; pcli account check prod"
    ),
)
JSON_OPTION = typer.Option(False, "--json", help="Print one JSON document.")


def _complete_accounts(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Account names of the workspace's pcli.yaml (no AWS call)."""
    from protoncli.cli.completion import complete_account_names

    return complete_account_names(ctx, incomplete)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., metavar="NAME", help="The account's name in pcli.yaml."),
    account_id: str = typer.Option(..., "--id", metavar="ACCOUNT_ID", help="12-digit account id."),
    role_arn: str = typer.Option(
        ..., "--role-arn", metavar="ARN", help="The role pcli assumes there (in that account)."
    ),
    external_id: str | None = typer.Option(
        None, "--external-id", help="External id the role's trust policy asks for."
    ),
    session_name: str | None = typer.Option(
        None, "--session-name", help='The assumed role\'s session name (default "pcli").'
    ),
    replace: bool = typer.Option(False, "--replace", help="Change an account already named."),
    json_: bool = JSON_OPTION,
) -> None:
    """Name an account in pcli.yaml; environments say `account: NAME` to be deployed there.

    Examples:

      pcli account add prod --id 111111111111 --role-arn arn:aws:iam::111111111111:role/pcli-deploy

      pcli env create web-prod --blueprint vpc-ecs-env --account prod
    """
    from protoncli.cli.deploying import open_project
    from protoncli.workspace.accounts import Account, add_account

    project = open_project(ctx)
    account = Account(name, account_id, role_arn, external_id or None, session_name or None)
    replaced = add_account(project.workspace, account, replace=replace)
    if output.wants_json(ctx, json_):
        output.print_json({"account": _document(account), "replaced": replaced})
        return
    verb = "Changed" if replaced else "Added"
    output.line(f"{verb} account {name} ({account_id}) in {project.workspace.file}.")
    output.note(f"Check it: pcli account check {name}")


@app.command("list")
def list_(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """The accounts pcli.yaml names, with the environments of the workspace in each.

    Example: pcli account list
    """
    from protoncli.cli.deploying import open_project
    from protoncli.state.declared import read_environment

    project = open_project(ctx)
    accounts = project.accounts()
    living: dict[str, list[str]] = {name: [] for name in accounts}
    for environment in project.workspace.environments():
        try:
            record = read_environment(project, environment)
        except PcliError:
            continue  # `pcli status` names a spec it cannot read
        if record.account is not None:
            living[record.account].append(environment)
    rows = [
        _document(account) | {"environments": living[name]}
        for name, account in sorted(accounts.items())
    ]
    if output.wants_json(ctx, json_):
        output.print_json({"accounts": rows})
        return
    if not rows:
        output.note("No accounts named: every stack goes to the account of your credentials.")
        output.note("Name one: pcli account add NAME --id ACCOUNT_ID --role-arn ARN")
        return
    output.table(
        ["NAME", "ID", "ROLE", "ENVIRONMENTS"],
        [(r["name"], r["id"], r["role_arn"], ", ".join(r["environments"]) or "-") for r in rows],
        wrap=("ROLE", "ENVIRONMENTS"),
    )


@app.command("check")
def check(
    ctx: typer.Context,
    names: list[str] | None = typer.Argument(
        None,
        metavar="[NAME]...",
        autocompletion=_complete_accounts,
        help="Accounts to check (default: every one pcli.yaml names).",
    ),
    region: str | None = typer.Option(
        None, "--region", help="Region to check in (default: pcli.yaml's region)."
    ),
    json_: bool = JSON_OPTION,
) -> None:
    """Assume each account's role and prove the calls pcli needs there.

    The steps: the role is assumed, it acts in the account's id, CloudFormation answers, the
    artifact bucket is usable. A failed step names the missing permission (exit 1).

    Examples:

      pcli account check

      pcli account check prod --region eu-west-1
    """
    from protoncli.cli.deploying import open_project
    from protoncli.deploy.accounts import check_account

    project = open_project(ctx)
    accounts = project.accounts()
    chosen = list(names or sorted(accounts))
    for name in chosen:
        project.account(name)  # an unknown name fails before any call
    where = region or project.management_region()
    checks = [check_account(project, name, where) for name in chosen]
    if output.wants_json(ctx, json_):
        output.print_json({"checks": [_check_document(c) for c in checks]})
    else:
        _print_checks(checks)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


@app.command("policy")
def policy() -> None:
    """Print the IAM policy the role of an environment account needs (JSON).

    Example: pcli account policy > pcli-deploy-policy.json
    """
    import sys

    from protoncli.deploy.accounts import policy_text

    sys.stdout.write(policy_text())


def _document(account: Any) -> dict[str, Any]:
    return {
        "name": account.name,
        "id": account.id,
        "role_arn": account.role_arn,
        "external_id": account.external_id,
        "session_name": account.session_name,
    }


def _check_document(check: AccountCheck) -> dict[str, Any]:
    return {
        "account": check.account,
        "id": check.account_id,
        "role_arn": check.role_arn,
        "region": check.region,
        "ok": check.ok,
        "steps": [
            {
                "name": step.name,
                "status": step.status,
                "detail": step.detail,
                "permission": step.permission,
                "hint": step.hint,
            }
            for step in check.steps
        ],
    }


def _print_checks(checks: list[AccountCheck]) -> None:
    if not checks:
        output.note("No accounts named: every stack goes to the account of your credentials.")
        return
    for check in checks:
        verdict = "ok" if check.ok else "FAILED"
        output.line(f"account {check.account} ({check.account_id}) in {check.region}: {verdict}")
        for step in check.steps:
            output.line(f"  {step.status:<6}  {step.name:<16} {step.detail}")
            if step.permission:
                output.line(f"          missing permission: {step.permission}")
            if step.hint:
                output.line(f"          {step.hint}")
