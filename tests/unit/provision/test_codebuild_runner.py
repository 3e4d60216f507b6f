"""Running a CodeBuild bundle's commands with real bash processes, the real AWS CLI and the local
Proton endpoint."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

import pytest

from protoncli.errors import ExitCode, UsageError
from protoncli.provision.codebuild import (
    DEFAULT_TIMEOUT,
    CommandFailedError,
    CommandInterruptedError,
    CommandRun,
    CommandTimeoutError,
    check_runtimes,
    collect_outputs,
    command_timeout,
    provisioning_environment,
    run_commands,
)
from protoncli.provision.notify_endpoint import NotifyEndpoint

ARN = "arn:aws:proton:us-east-1:123456789012:environment/dev"


def run(folder, commands, *, timeout=60.0, **options):
    lines: list[str] = []
    result = run_commands(
        folder,
        commands,
        env=options.pop("env", dict(os.environ)),
        on_line=options.pop("on_line", lines.append),
        timeout=timeout,
        **options,
    )
    return result, lines


def test_output_streams_in_order_with_each_command_announced(tmp_path):
    (tmp_path / "data.txt").write_text("from the folder\n", encoding="utf-8")
    result, lines = run(
        tmp_path,
        ["echo one", "echo two >&2", "printf 'no newline'", "cat data.txt", "echo $((6 * 7))"],
    )
    assert lines == [
        "+ echo one",
        "one",
        "+ echo two >&2",
        "two",
        "+ printf 'no newline'",
        "no newline",
        "+ cat data.txt",
        "from the folder",
        "+ echo $((6 * 7))",
        "42",
    ]
    assert isinstance(result, CommandRun)
    assert result.exit_status == 0
    assert result.last_lines == tuple(lines)
    assert 0 < result.duration < 30


def test_commands_share_one_shell_and_keep_blank_lines(tmp_path):
    _, lines = run(
        tmp_path,
        [
            "export GREETING=hello; cd /",
            'echo "$GREETING from $PWD"; echo',
            "for i in 1 2; do\n  echo item $i\ndone",
        ],
    )
    assert lines == [
        "+ export GREETING=hello; cd /",
        '+ echo "$GREETING from $PWD"; echo',
        "hello from /",
        "",
        "+ for i in 1 2; do",
        "    echo item $i",
        "  done",
        "item 1",
        "item 2",
    ]


def test_only_the_last_twenty_lines_are_kept(tmp_path):
    result, lines = run(tmp_path, ["seq 1 50"])
    assert len(lines) == 51
    assert result.last_lines == tuple(str(n) for n in range(31, 51))


def test_failing_second_command_is_named_and_stops_the_run(tmp_path):
    with pytest.raises(CommandFailedError) as caught:
        run(tmp_path, ["echo ok", "echo about to fail; exit 7", "echo never"])
    error = caught.value
    assert error.exit_code == ExitCode.DEPLOY_FAILED
    assert (error.command, error.index, error.exit_status) == ("echo about to fail; exit 7", 1, 7)
    assert "command 2" in error.message
    assert "exit status 7" in error.message
    assert "echo about to fail" in error.message
    assert error.details[-1] == "about to fail"
    assert "never" not in error.details
    assert error.hint


def test_a_failure_inside_a_pipeline_fails(tmp_path):
    with pytest.raises(CommandFailedError) as caught:
        run(tmp_path, ["false | cat", "echo never"])
    assert caught.value.command == "false | cat"


def test_a_syntax_error_is_the_failing_command(tmp_path):
    with pytest.raises(CommandFailedError) as caught:
        run(tmp_path, ["echo ok", "if then fi", "echo never"])
    assert caught.value.index == 1
    assert caught.value.exit_status == 2


def test_timeout_stops_the_command_group(tmp_path):
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError) as caught:
        run(tmp_path, ["echo started", "sleep 30"], timeout=1)
    assert time.monotonic() - started < 15
    error = caught.value
    assert error.exit_code == ExitCode.DEPLOY_FAILED
    assert error.command == "sleep 30"
    assert "sleep 30" in error.message
    assert "1 s" in error.message
    assert "PCLI_CODEBUILD_TIMEOUT" in (error.hint or "")
    assert error.details == ["+ echo started", "started", "+ sleep 30"]


def test_timeout_kills_what_ignores_sigterm(tmp_path):
    started = time.monotonic()
    with pytest.raises(CommandTimeoutError):
        run(tmp_path, ["trap '' TERM; sleep 30"], timeout=1, kill_grace=1)
    assert time.monotonic() - started < 10


def test_cancel_interrupts(tmp_path):
    cancel = threading.Event()

    def on_line(line):
        if line == "waiting":
            cancel.set()

    started = time.monotonic()
    with pytest.raises(CommandInterruptedError) as caught:
        run(tmp_path, ["echo waiting", "sleep 30"], on_line=on_line, cancel=cancel)
    assert time.monotonic() - started < 15
    assert caught.value.exit_code == ExitCode.INTERRUPTED == 130
    assert "sleep 30" in caught.value.message or "echo waiting" in caught.value.message


def test_keyboard_interrupt_interrupts(tmp_path):
    marker = tmp_path / "survived"

    def on_line(line):
        if line == "waiting":
            raise KeyboardInterrupt

    with pytest.raises(CommandInterruptedError):
        run(tmp_path, [f"echo waiting; sleep 3; touch {marker}"], on_line=on_line)
    time.sleep(3.5)
    assert not marker.exists()  # the group was stopped


def test_a_background_process_does_not_hold_the_run(tmp_path):
    started = time.monotonic()
    result, lines = run(tmp_path, ["(sleep 30 &)", "echo done"])
    assert result.exit_status == 0
    assert lines[-1] == "done"
    assert time.monotonic() - started < 10


def test_bad_commands_and_folder_are_refused(tmp_path):
    with pytest.raises(UsageError, match="command 2"):
        run(tmp_path, ["echo ok", {"echo": "hi"}])
    with pytest.raises(UsageError, match="no such folder"):
        run(tmp_path / "missing", ["echo ok"])
    assert run(tmp_path, [])[0].exit_status == 0


def test_command_timeout_from_environment():
    assert command_timeout({}) == DEFAULT_TIMEOUT == 3600
    assert command_timeout({"PCLI_CODEBUILD_TIMEOUT": "90"}) == 90
    assert command_timeout({"PCLI_CODEBUILD_TIMEOUT": "1.5"}) == 1.5
    for bad in ("soon", "0", "-5", "inf", "nan"):
        with pytest.raises(UsageError, match="PCLI_CODEBUILD_TIMEOUT"):
            command_timeout({"PCLI_CODEBUILD_TIMEOUT": bad})


def test_provisioning_environment():
    with NotifyEndpoint(ARN) as notify:
        env = provisioning_environment(
            resource_arn=ARN, region="eu-west-1", deployment_id="d-1", notify=notify
        )
        assert env["RESOURCE_ARN"] == ARN
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
        assert env["PCLI_DEPLOYMENT_ID"] == "d-1"
        assert env["AWS_ENDPOINT_URL_PROTON"] == notify.url
        with pytest.raises(ValueError, match="notify endpoint"):
            provisioning_environment(
                resource_arn=ARN + "x", region="eu-west-1", deployment_id="d", notify=notify
            )


def aws_bin_dir():
    beside = Path(sys.executable).parent
    if (beside / "aws").exists():
        return str(beside)
    found = shutil.which("aws")
    if not found:
        pytest.skip("the AWS CLI is not installed")
    return str(Path(found).parent)


NOTIFY = (
    'aws proton notify-resource-deployment-status-change --resource-arn "$RESOURCE_ARN"'
    " --status SUCCEEDED --outputs file://./outputs.json"
)


def test_end_to_end_with_the_aws_cli(tmp_path):
    path = f"{aws_bin_dir()}:{os.environ['PATH']}"
    outputs = [
        {"key": "BucketName", "valueString": "my-bucket"},
        {"key": "Count", "valueString": "2"},
    ]
    with NotifyEndpoint(ARN) as notify:
        env = {
            **os.environ,
            "PATH": path,
            **provisioning_environment(
                resource_arn=ARN, region="us-east-1", deployment_id="d-1", notify=notify
            ),
        }
        result, lines = run(
            tmp_path,
            [f"echo '{json.dumps(outputs)}' > outputs.json", NOTIFY, "echo deployed"],
            env=env,
        )
        assert result.exit_status == 0
        assert lines[-1] == "deployed"
        assert notify.statuses == ["SUCCEEDED"]
        assert collect_outputs(tmp_path, notify) == {"BucketName": "my-bucket", "Count": "2"}


def test_a_refused_notification_fails_the_command(tmp_path):
    path = f"{aws_bin_dir()}:{os.environ['PATH']}"
    (tmp_path / "outputs.json").write_text(
        json.dumps([{"key": "Big", "valueString": "x" * 2000}]), encoding="utf-8"
    )
    with NotifyEndpoint(ARN) as notify:
        extra = provisioning_environment(
            resource_arn=ARN, region="us-east-1", deployment_id="d-1", notify=notify
        )
        with pytest.raises(CommandFailedError) as caught:
            run(tmp_path, [NOTIFY, "echo never"], env={**os.environ, "PATH": path, **extra})
    assert caught.value.command == NOTIFY
    assert any("ValidationException" in line and "'Big'" in line for line in caught.value.details)


def test_proton_outputs_file_forms(tmp_path):
    with NotifyEndpoint(ARN) as notify:
        (tmp_path / "proton-outputs.json").write_text(
            json.dumps([{"key": "a", "valueString": "1"}, {"key": "b", "valueString": "2"}])
        )
        assert collect_outputs(tmp_path, notify) == {"a": "1", "b": "2"}
        (tmp_path / "proton-outputs.json").write_text(json.dumps({"a": "x", "c": "3"}))
        assert collect_outputs(tmp_path, notify) == {"a": "x", "c": "3"}
        notify._outputs["a"] = "notified"  # what a notification would leave
        assert collect_outputs(tmp_path, notify) == {"a": "notified", "c": "3"}
    assert collect_outputs(tmp_path / "empty-folder", NotifyEndpoint(ARN)) == {}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"port": 8080}, "'port'"),
        ([{"key": "flag", "valueString": True}], "'flag'"),
        ([{"key": "lost"}], "'lost'"),
        ("just text", "list of"),
    ],
)
def test_proton_outputs_file_with_non_strings_is_refused(tmp_path, document, message):
    (tmp_path / "proton-outputs.json").write_text(json.dumps(document))
    with pytest.raises(UsageError) as caught:
        collect_outputs(tmp_path, NotifyEndpoint(ARN))
    assert message in caught.value.message
    assert "proton-outputs.json" in caught.value.message
    assert caught.value.hint


def test_proton_outputs_file_not_json(tmp_path):
    (tmp_path / "proton-outputs.json").write_text('{\n  "a": "1",\n}')
    with pytest.raises(UsageError, match=r"proton-outputs.json, line 3"):
        collect_outputs(tmp_path, NotifyEndpoint(ARN))


def fake_program(folder, name, text, *, stream="1"):
    script = folder / name
    script.write_text(f"#!/bin/sh\necho '{text}' >&{stream}\n", encoding="utf-8")
    script.chmod(0o755)


@pytest.fixture
def only_python(tmp_path, monkeypatch):
    """A PATH with python3 and fakes only: the other runtimes are missing."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "python3").symlink_to(Path(sys.executable).resolve())
    monkeypatch.setenv("PATH", str(folder))
    return folder


def test_runtimes_installed_and_missing(only_python):
    assert check_runtimes({"python": 3}) == []
    assert check_runtimes({"python": 3.11}) == []
    assert check_runtimes({"nodejs": 16}) == ["nodejs 16 is required, node is not installed"]
    assert check_runtimes({"rust": 1}) == ["runtime rust: pcli cannot check it"]
    assert check_runtimes({}) == check_runtimes(None) == []


def test_runtime_versions_are_compared_by_major(only_python):
    fake_program(only_python, "node", "v20.20.2")
    fake_program(only_python, "java", 'openjdk version "1.8.0_292"', stream="2")
    assert check_runtimes({"nodejs": 20}) == []
    newer = check_runtimes({"nodejs": 16})
    assert newer[0].startswith("nodejs 16 is required, node v20.20.2 is installed")
    assert "newer" in newer[0]
    assert check_runtimes({"nodejs": 22}) == ["nodejs 22 is required, node v20.20.2 is installed"]
    assert check_runtimes({"java": "corretto8"}) == []
    assert check_runtimes({"java": "corretto17"}) == [
        "java corretto17 is required, java 1.8.0_292 is installed"
    ]
    assert "newer" in check_runtimes({"python": 2})[0]


def test_runtime_whose_version_cannot_be_read(only_python):
    fake_program(only_python, "ruby", "no version here")
    [problem] = check_runtimes({"ruby": 3})
    assert problem.startswith("ruby 3 is required, pcli cannot tell")
