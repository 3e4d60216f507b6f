"""`--json` of `env history` and `svc history`: one document matching history.schema.json, with
a failed deployment recorded as failed (moto never fails a stack: `failing_deploys` scripts it);
`svc rollback` streams NDJSON events, the spec's difference in a note."""

from __future__ import annotations

import json


def document(result, code=0):
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def deploy_web_twice(cli, failing_deploys=None):
    """dev, then web (one instance) with retention 60, then redeployed with retention 120."""
    assert cli("env", "create", "dev", "-b", "tiny-env", "--yes").exit_code == 0
    created = cli(
        "svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "-p", "retention=60", "--yes"
    )
    assert created.exit_code == 0, created.output
    spec = cli.workspace / "services" / "web.yaml"
    spec.write_text(spec.read_text().replace("retention: 60", "retention: 120"))
    if failing_deploys is not None:
        failing_deploys.fail()
    return cli("svc", "deploy", "web", "-i", "web-dev", "--yes")


def test_history_documents_match_their_schema_and_record_failures(
    cli, tiny, check_schema, failing_deploys
):
    assert deploy_web_twice(cli, failing_deploys).exit_code == 3

    environments = document(cli("env", "history", "dev", "--json"))
    services = document(cli("svc", "history", "web", "--json"))

    check_schema(environments, "history")
    check_schema(services, "history")
    assert [(r["item"], r["outcome"]) for r in environments["records"]] == [("dev", "ok")]
    instance = [r for r in services["records"] if r["kind"] == "service-instance"]
    assert [(r["outcome"], r["status"]) for r in instance] == [
        ("failed", "UPDATE_ROLLBACK_COMPLETE"),
        ("ok", "CREATE_COMPLETE"),
    ]
    assert any(failing_deploys.REASON in failure for failure in instance[0]["failures"])
    assert instance[1]["failures"] == []
    assert [r["item"] for r in services["records"] if r["kind"] == "pipeline"] == ["web"]


def test_rollback_streams_ndjson(cli, tiny, check_ndjson):
    assert deploy_web_twice(cli).exit_code == 0

    result = cli("svc", "rollback", "web", "--yes", "--json")

    assert result.exit_code == 0, result.output
    records = check_ndjson(result.stdout, "svc rollback")
    assert records[-1]["resources"][0]["status"] == "UPDATE_COMPLETE"
    notes = [r["message"] for r in records if r["type"] == "note"]
    assert any(note.startswith("--- a/services/web.yaml") for note in notes)
