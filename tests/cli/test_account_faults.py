"""Environment accounts when AWS says no: a role that cannot be assumed stops a run before any
stack is touched (in any account), `pcli account check` names the missing permission, and
credentials that expire in the middle of a run end it with one clear message, nothing lost.

Faults come from the fault-injecting server of test_status_fallback (moto's own application
behind rules), which serves the same process-wide moto backends as the session's server.
"""

from __future__ import annotations

import json

import pytest
from tests.cli.test_accounts import PROD, PROD_ROLE, _stack_names, _valid, accounts  # noqa: F401
from tests.cli.test_status_fallback import _aws_error, fault_server  # noqa: F401

ROLE_DENIED = _aws_error(
    403,
    "AccessDenied",
    f"User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole on "
    f"resource: {PROD_ROLE}",
)
EXPIRED = _aws_error(400, "ExpiredToken", "The security token included in the request is expired")
DENIED = _aws_error(403, "AccessDenied", "not authorized to perform: cloudformation:DescribeStacks")


@pytest.fixture
def faults(fault_server, accounts, monkeypatch):  # noqa: F811 - the fixtures imported above
    """The workspace of test_accounts with environments e-own (own account) and e-prod (prod),
    not deployed; from here on pcli talks to the fault-injecting server, with no retries."""
    cli = accounts
    for name, extra in (("e-own", []), ("e-prod", ["--account", "prod"])):
        created = cli("env", "create", name, "-b", "acct-env", *extra, "--no-deploy")
        assert created.exit_code == 0, created.output
    url, injector = fault_server
    injector.rules.clear()
    injector.calls.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    return cli, injector


def test_a_role_that_cannot_be_assumed_stops_apply_before_any_stack(faults, moto_url):
    cli, injector = faults
    injector.rules.append(
        lambda p: ROLE_DENIED if p.get("Action") == "AssumeRole" and PROD in p["RoleArn"] else None
    )
    applied = cli("apply", "--yes")
    assert applied.exit_code == 1, applied.output
    assert "AssumeRole" in applied.output
    assert PROD_ROLE in applied.output
    assert "access denied" in applied.output
    assert "Traceback" not in applied.output
    actions = injector.actions()
    assert "AssumeRole" in actions
    assert not {"CreateChangeSet", "ExecuteChangeSet", "DeleteStack"} & set(actions)
    assert _stack_names(moto_url, "123456789012") == set()  # e-own was not deployed either
    assert (cli.workspace / "environments" / "e-prod.yaml").is_file()


def test_account_check_names_what_is_missing(faults):
    cli, injector = faults
    injector.rules.append(lambda p: ROLE_DENIED if p.get("Action") == "AssumeRole" else None)
    checked = cli("account", "check", "prod", "--json")
    assert checked.exit_code == 1, checked.output
    _valid(checked.stdout, "account-check")
    (check,) = json.loads(checked.stdout)["checks"]
    assert check["ok"] is False
    (step,) = check["steps"]  # the steps after a failed one are not run
    assert step["name"] == "assume-role"
    assert step["status"] == "failed"
    assert step["permission"] == f"sts:AssumeRole on {PROD_ROLE}"
    assert "trust policy" in step["hint"]

    injector.rules[:] = [lambda p: DENIED if p.get("Action") == "DescribeStacks" else None]
    checked = cli("account", "check", "prod")
    assert checked.exit_code == 1, checked.output
    lines = checked.stdout.splitlines()
    assert lines[0] == "account prod (111111111111) in us-east-1: FAILED"
    assert lines[1].split()[:2] == ["ok", "assume-role"]
    assert lines[3].split()[:2] == ["failed", "cloudformation"]
    assert "missing permission: cloudformation:DescribeStacks" in checked.stdout
    assert "artifact-bucket" not in checked.stdout


def test_credentials_that_expire_mid_run_end_it_with_one_message(faults, moto_url):
    """The first environment deploys; the credentials expire before the second: one message
    saying so, exit 3 (the deploy failed), the first stack and every spec kept,
    and the next run carries on from there."""
    cli, injector = faults
    done = cli("env", "deploy", "e-own", "--yes")
    assert done.exit_code == 0, done.output
    injector.rules.append(lambda p: EXPIRED if p.get("Action") == "CreateChangeSet" else None)
    failed = cli("apply", "--yes")
    assert failed.exit_code == 3, failed.output
    words = " ".join(failed.output.split())  # the outcome table wraps its cells
    assert (
        "CreateChangeSet failed for stack pcli-demo-env-e-prod: the AWS credentials have expired"
        in words
    )
    assert "run the same command again after fixing the cause" in words
    assert "Traceback" not in failed.output
    assert _stack_names(moto_url, "123456789012") == {"pcli-demo-env-e-own"}
    assert (cli.workspace / "environments" / "e-prod.yaml").is_file()

    injector.rules.clear()
    again = cli("apply", "--yes")
    assert again.exit_code == 0, again.output
    assert _stack_names(moto_url, PROD) == {"pcli-demo-env-e-prod"}
