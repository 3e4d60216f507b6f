"""Exit codes of `pcli env|svc|component|status` (docs/reference/exit-codes.md), against moto:
0 success or nothing to change, 1 error, 2 usage error or unknown name, 3 deployment failed.

Interruptions (130) are in test_exit_codes_interrupt.py: they need a real terminal or signal.
"""

from __future__ import annotations

import json

import pytest

CANNOT_ASK = "Error: the change set needs confirmation and pcli cannot ask here"


@pytest.fixture
def web(cli, tiny):
    """Environment dev and service web (instance web-dev) deployed, component box recorded."""
    for args in (
        ("env", "create", "dev", "-b", "tiny-env", "--yes"),
        ("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=dev", "--yes"),
        ("component", "create", "box", "--service", "web", "--instance", "web-dev",
         "--bundle", str(tiny), "--no-deploy"),
    ):  # fmt: skip
        result = cli(*args)
        assert result.exit_code == 0, result.output
    return cli


def first_error(result):
    return next(line for line in result.stderr.splitlines() if line.startswith(("Error", "Usage")))


# --- 0 and 2: every group ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "error"),
    [
        (("env", "list"), 0, None),
        (("env", "show", "dev"), 0, None),
        (("env", "outputs", "dev"), 0, None),
        (("env", "deploy", "dev", "--yes"), 0, None),
        (("svc", "list"), 0, None),
        (("svc", "show", "web"), 0, None),
        (("svc", "outputs", "web"), 0, None),
        (("svc", "deploy", "web", "--yes"), 0, None),
        (("svc", "deploy", "web", "--cancel"), 0, None),
        (("component", "deploy", "box", "--yes"), 0, None),
        (("status",), 0, None),
        (("env", "show", "prod"), 2, "Error: no environment named 'prod'"),
        (("env", "outputs", "prod"), 2, "Error: no environment named 'prod'"),
        (("env", "deploy", "prod", "--yes"), 2, "Error: no environment named 'prod'"),
        (("env", "delete", "prod", "--yes"), 2, "Error: no environment named 'prod'"),
        (("env", "delete", "dev", "--yes"), 2, "Error: environment 'dev' still hosts"),
        (("env", "list", "--wrong"), 2, "Usage: pcli env list"),
        (("env", "deploy"), 2, "Usage: pcli env deploy"),
        (("svc", "show", "api"), 2, "Error: no service named 'api'"),
        (("svc", "deploy", "api", "--yes"), 2, "Error: no service named 'api'"),
        (("svc", "delete", "api", "--yes"), 2, "Error: no service named 'api'"),
        (("svc", "delete", "web"), 2, "Error: deleting service web needs confirmation"),
        (("component", "deploy", "tub", "--yes"), 2, "Error: no component named 'tub'"),
        (("component", "delete", "tub", "--yes"), 2, "Error: no component named 'tub'"),
        (("component", "deploy", "box"), 2, CANNOT_ASK),
        (("status", "--wrong"), 2, "Usage: pcli status"),
    ],
)
def test_workspace_commands_exit_0_or_2(web, args, code, error):
    result = web(*args)

    assert result.exit_code == code, result.output
    if error is None:
        assert "Error" not in result.stderr
    else:
        assert first_error(result).startswith(error)


@pytest.mark.parametrize("args", [("env", "list"), ("svc", "list"), ("status",)])
def test_outside_a_workspace_is_a_usage_error(pcli, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)

    result = pcli(*args)

    assert result.exit_code == 2
    assert result.stderr.startswith("Error: no pcli workspace (pcli.yaml) in ")


def test_create_commands_exit_2_on_bad_input(cli, tiny):
    bad_param = cli("env", "create", "dev", "-b", "tiny-env", "--param", "team", "--yes")
    unknown_blueprint = cli("env", "create", "dev", "-b", "no-such-env", "--yes")
    no_env = cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-dev=nowhere", "--yes")
    no_bundle = cli("component", "create", "box", "--service", "web", "--instance", "web-dev",
                    "--bundle", "missing", "--yes")  # fmt: skip

    for result in (bad_param, unknown_blueprint, no_env, no_bundle):
        assert result.exit_code == 2, result.output
        assert first_error(result).startswith("Error: ")


# --- 1: an error that is not the user's input ---------------------------------------------------


def test_an_unreachable_aws_endpoint_is_an_error_not_a_usage_error(cli, tiny, monkeypatch):
    created = cli("env", "create", "dev", "-b", "tiny-env", "--no-deploy")
    assert created.exit_code == 0, created.output
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")

    result = cli("env", "deploy", "dev", "--yes")

    assert result.exit_code == 1, result.output
    assert first_error(result).startswith("Error: ")
    assert "Traceback" not in result.stderr


# --- 3: a deployment that failed ------------------------------------------------------------------


def test_env_deploy_that_rolls_back_exits_3_and_names_the_failed_resource(
    cli, tiny, failing_deploys
):
    failing_deploys.fail()

    result = cli("env", "create", "dev", "-b", "tiny-env", "--yes")

    assert result.exit_code == 3, result.output
    assert first_error(result) == (
        "Error: stack pcli-demo-env-dev (environment dev): ROLLBACK_COMPLETE"
    )
    assert f"  Broken (AWS::SNS::Topic): {failing_deploys.REASON}" in result.stderr.splitlines()


def test_svc_deploy_that_rolls_back_exits_3_with_a_json_result(web, failing_deploys):
    spec = web.workspace / "services" / "web.yaml"
    text = spec.read_text().replace(
        "environment: dev", "environment: dev\n    spec:\n      retention: 90"
    )
    assert "retention: 90" in text
    spec.write_text(text)
    failing_deploys.fail()

    result = web("svc", "deploy", "web", "--yes", "--json")

    assert result.exit_code == 3, result.output
    last = json.loads(result.stdout.splitlines()[-1])
    assert (last["type"], last["ok"], last["exit_code"]) == ("result", False, 3)
    failed = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(r["type"] == "failed" and r["status"] == "UPDATE_ROLLBACK_COMPLETE" for r in failed)


def test_component_deploy_that_rolls_back_exits_3(web, failing_deploys):
    failing_deploys.fail()

    result = web("component", "deploy", "box", "--yes")

    assert result.exit_code == 3, result.output
    assert first_error(result) == (
        "Error: stack pcli-demo-comp-box (component box): ROLLBACK_COMPLETE"
    )
