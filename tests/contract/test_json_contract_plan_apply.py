"""`pcli plan --json` and `pcli apply --json` against a real moto server: documents and NDJSON
streams match their schemas; a failure is reported per item, what depends on it is skipped,
and running apply again goes on from what AWS says."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def cloudformation(moto_url):
    import boto3

    return boto3.client("cloudformation", endpoint_url=moto_url, region_name="us-east-1")


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_plan_and_apply_documents_match_their_schemas(cli, tiny, check_schema, check_ndjson):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--no-deploy"))

    plan = json.loads(ok(cli("plan", "--json", "--changes")).stdout)
    check_schema(plan, "plan")
    assert [(i["action"], i["name"]) for i in plan["items"]] == [
        ("create", "dev"),
        ("create", "web/web-dev"),
        ("create", "web"),
    ]
    dev = plan["items"][0]
    assert [c["logical_id"] for c in dev["changes"]] == ["Topic"]
    assert all(c["action"] == "Add" for c in dev["changes"])

    records = check_ndjson(ok(cli("apply", "--yes", "--json")).stdout, "apply")
    result = records[-1]
    assert (result["ok"], result["exit_code"]) == (True, 0)
    assert [(r["action"], r["outcome"], r["status"]) for r in result["resources"]] == [
        ("create", "done", "CREATE_COMPLETE"),
        ("create", "done", "CREATE_COMPLETE"),
        ("create", "done", "CREATE_COMPLETE"),
    ]
    again = check_ndjson(ok(cli("apply", "--yes", "--json")).stdout, "apply")
    assert again[-1]["resources"] == []  # nothing to do


def test_plan_changes_leaves_no_change_set_or_empty_stack_behind(cli, tiny, cloudformation):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy"))

    ok(cli("plan", "--changes"))

    names = [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]]
    assert "pcli-demo-env-dev" not in names


def test_a_failed_item_skips_what_depends_on_it_and_a_rerun_goes_on(
    cli, tiny, failing_deploys, check_ndjson
):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--no-deploy"))
    failing_deploys.fail()

    failed = cli("apply", "--yes", "--json")
    assert failed.exit_code == 3
    result = check_ndjson(failed.stdout, "apply")[-1]
    outcomes = {r["description"]: (r["outcome"], r["message"]) for r in result["resources"]}
    assert outcomes["environment dev"][0] == "failed"
    assert outcomes["service instance web/web-dev"] == (
        "skipped",
        "skipped: environment dev failed",
    )
    assert outcomes["pipeline of web"][0] == "skipped"

    failing_deploys.failing = False
    plan = json.loads(cli("plan", "--json").stdout)
    assert plan["items"][0]["action"] == "create"  # a failed first creation is recreated
    assert "last deployment failed (ROLLBACK_COMPLETE)" in plan["items"][0]["reasons"]
    failing_deploys.failed.clear()  # (moto created it all along: the failure was scripted)
    rerun = check_ndjson(ok(cli("apply", "--yes", "--json")).stdout, "apply")[-1]
    assert [(r["description"], r["outcome"]) for r in rerun["resources"]] == [
        ("service instance web/web-dev", "done"),
        ("pipeline of web", "done"),
    ]
    assert ok(cli("plan", "--check")).exit_code == 0


def test_a_version_never_published_and_an_unreadable_spec_stop_apply(cli, tiny, cloudformation):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "qa", "-b", "tiny-env", "--no-deploy"))
    qa = cli.workspace / "environments" / "qa.yaml"
    qa.write_text(qa.read_text().replace('version: "1.0"', 'version: "1.7"'))

    status = cli("status")
    assert status.exit_code == 1
    assert "blueprint tiny-env@1.7 is not in the registry" in status.stderr

    dev = cli.workspace / "environments" / "dev.yaml"
    dev.write_text("proton: [broken\n")
    document = json.loads(cli("status", "--json").stdout)
    found = next(r for r in document["resources"] if r["name"] == "dev")
    assert (found["orphaned"], found["unreadable"]) == (False, True)

    refused = cli("apply", "--prune", "--yes")
    assert refused.exit_code == 1
    assert "could not be read" in refused.stderr
    names = [s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]]
    assert "pcli-demo-env-dev" in names  # an unreadable spec never makes its stack an orphan


def test_branch_applies_what_proton_ops_maps_to_it(cli, tiny):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "prod", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "-i", "web-prod=prod",
           "--no-deploy"))  # fmt: skip
    (cli.workspace / "proton-ops.yaml").write_text(
        "sync:\n  services:\n    web:\n      web-dev:\n        branch: main\n"
        "      web-prod:\n        branch: release\n"
    )

    plan = json.loads(ok(cli("plan", "--json", "--branch", "main")).stdout)
    assert [(i["action"], i["name"]) for i in plan["items"]] == [
        ("create", "web/web-dev"),
        ("create", "web"),
    ]
    unknown = cli("plan", "--branch", "nope")
    assert unknown.exit_code == 2
    assert "release" in unknown.stderr

    (cli.workspace / "proton-ops.yaml").write_text(
        "sync:\n  services:\n    web:\n      web-staging:\n        branch: main\n"
    )
    bad = cli("plan", "--branch", "main")
    assert bad.exit_code == 2
    assert "web-staging" in bad.stderr


@pytest.fixture
def drifted_stacks(monkeypatch):
    """DescribeStacks answers as AWS does after `pcli drift` found a stack drifted: moto has
    no drift detection, so its answer is edited on the way back (the hook Stubber uses)."""
    from protoncli.aws.session import SessionFactory

    drifted: set[str] = set()
    client = SessionFactory.client

    def mark(parsed, **_):
        for stack in parsed.get("Stacks", []):
            if stack["StackName"] in drifted:
                stack["DriftInformation"] = {"StackDriftStatus": "DRIFTED"}

    def hooked(factory, service, target):
        made = client(factory, service, target)
        if service == "cloudformation" and not getattr(made, "_drift_hooked", False):
            made._drift_hooked = True
            made.meta.events.register("after-call.cloudformation.DescribeStacks", mark)
        return made

    monkeypatch.setattr(SessionFactory, "client", hooked)
    return drifted


def test_status_shows_the_last_drift_verdict_from_the_bulk_read(
    cli, tiny, drifted_stacks, check_schema
):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "qa", "-b", "tiny-env", "--yes"))
    drifted_stacks.add("pcli-demo-env-qa")

    document = json.loads(ok(cli("status", "--json")).stdout)
    check_schema(document, "status")
    assert {r["name"]: r["drift"] for r in document["resources"]} == {"dev": None, "qa": "DRIFTED"}
    assert "drifted" in ok(cli("status")).stdout
