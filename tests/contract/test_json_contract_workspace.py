"""`--json` of workspace commands against a real moto server: NDJSON streams of the deploying
commands and the documents of the reports match their published JSON Schemas.

`tiny` (conftest) publishes tests/contract/bundles/tiny-env and tiny-svc and gives the
tiny-component folder."""

from __future__ import annotations

import json


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def document(result, code=0):
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_every_deploying_command_streams_valid_ndjson(cli, tiny, check_ndjson):
    seen: set[str] = set()

    def stream(command, *args):
        records = check_ndjson(ok(cli(*command.split(), *args, "--json")).stdout, command)
        seen.update(record["type"] for record in records)
        return records

    created = stream("env create", "dev", "-b", "tiny-env", "--yes")
    assert created[-1]["resources"][0]["status"] == "CREATE_COMPLETE"
    assert stream("env deploy", "dev", "--yes")[-1]["resources"][0]["status"] == "NO_CHANGES"
    cancel = stream("env deploy", "dev", "--cancel", "--yes")[-1]
    assert cancel["resources"][0]["cancelled"] is False
    stream("svc create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes")
    stream("svc deploy", "web", "--yes")
    stream("svc deploy", "web", "--cancel", "--yes")
    stream("component create", "box", "--service", "web", "--instance", "web-dev",
           "--bundle", str(tiny), "--yes")  # fmt: skip
    stream("component deploy", "box", "--yes")
    stream("component delete", "box", "--yes")
    stream("svc delete", "web", "--yes")
    deleted = stream("env delete", "dev", "--yes")
    assert deleted[-1]["resources"][0]["status"] == "DELETE_COMPLETE"
    stream("env create", "later", "-b", "tiny-env", "--no-deploy")

    assert seen >= {"version", "start", "changes", "done", "no-changes", "deleted"}
    assert seen >= {"note", "result"}


def test_a_failing_deploying_command_still_ends_with_a_valid_result_line(cli, tiny, check_ndjson):
    result = cli("env", "deploy", "nowhere", "--yes", "--json")

    assert result.exit_code == 2
    records = check_ndjson(result.stdout, "env deploy")
    assert records[-1]["ok"] is False
    assert records[-1]["exit_code"] == 2
    assert records[-1]["error"].startswith("no environment named 'nowhere'")


def test_the_reports_of_a_deployed_workspace(cli, tiny, check_schema):
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "idle", "-b", "tiny-env", "--no-deploy"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes"))
    ok(cli("component", "create", "box", "--service", "web", "--instance", "web-dev",
           "--bundle", str(tiny), "--yes"))  # fmt: skip

    status = document(cli("status", "--json"))
    check_schema(status, "status")
    assert {row["kind"] for row in status["resources"]} == {
        "environment",
        "service-instance",
        "pipeline",
        "component",
    }
    check_schema(document(cli("env", "list", "--json")), "env-list")
    shown = document(cli("env", "show", "dev", "--json"))
    check_schema(shown, "env-show")
    assert shown["outputs"]["TopicArn"]
    check_schema(document(cli("env", "show", "idle", "--json")), "env-show")
    check_schema(document(cli("env", "outputs", "dev", "--json")), "env-outputs")
    check_schema(document(cli("svc", "list", "--json")), "svc-list")
    service = document(cli("svc", "show", "web", "--json"))
    check_schema(service, "svc-show")
    assert service["outputs"]["web-dev"]["QueueUrl"]
    check_schema(document(cli("svc", "outputs", "web", "--json")), "svc-outputs")


def test_output_json_turns_reports_into_documents_and_deploys_into_ndjson(
    cli, tiny, check_schema, check_ndjson
):
    records = check_ndjson(
        ok(cli("-o", "json", "env", "create", "dev", "-b", "tiny-env", "--yes")).stdout,
        "env create",
    )
    assert records[-1]["ok"] is True

    check_schema(document(cli("--output", "json", "status")), "status")
    check_schema(document(cli("env", "list", env={"PCLI_OUTPUT": "json"})), "env-list")


def test_init_document(pcli, check_schema, tmp_path):
    created = document(pcli("init", str(tmp_path / "infra"), "--name", "infra", "--json"))

    check_schema(created, "init")
    assert created["created"] == ["pcli.yaml", "environments/", "services/", "components/"]


def test_sandbox_documents(pcli, check_schema):
    stopped = document(pcli("sandbox", "status", "--json"), code=1)
    check_schema(stopped, "sandbox-status")
    assert stopped["running"] is False

    started = document(pcli("sandbox", "start", "--json"))
    try:
        check_schema(started, "sandbox-start")
        assert started["running"] is True
        running = document(pcli("sandbox", "status", "--json"))
        check_schema(running, "sandbox-status")
        assert running["environment"]["AWS_ENDPOINT_URL"] == running["url"]
    finally:
        halted = document(pcli("sandbox", "stop", "--json"))
    check_schema(halted, "sandbox-stop")
    assert halted["stopped"] is True


def test_warnings_found_while_preparing_a_deploy_reach_every_view(cli, tiny, check_ndjson):
    ok(cli("env", "create", "qa", "-b", "tiny-env", "--no-deploy"))
    spec = cli.workspace / "environments" / "qa.yaml"
    spec.write_text(spec.read_text() + "teem: typo\n")  # an unknown top-level key

    records = check_ndjson(ok(cli("env", "deploy", "qa", "--yes", "--json")).stdout, "env deploy")
    warnings = [record for record in records if record["type"] == "warning"]
    assert len(warnings) == 1
    assert "teem" in warnings[0]["message"]
    assert warnings[0]["description"] == "environment qa"
    assert records[-1]["ok"] is True

    plain = ok(cli("env", "deploy", "qa", "--yes"))
    assert [line for line in plain.stderr.splitlines() if line.startswith("Warning:")] == [
        f"Warning: {warnings[0]['message']}"
    ]
    quiet = ok(cli("--quiet", "env", "deploy", "qa", "--yes"))
    assert f"Warning: {warnings[0]['message']}" in quiet.stderr
