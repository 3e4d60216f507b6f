"""`pcli quickstart` against a real moto server: from an empty folder to a running service with
the starters (vpc-ecs-env, lambda-api-svc: the pair that deploys on moto and has a URL output),
unattended and again (everything reused), a service spec file written but not deployed
(continued), a blueprint with a skeleton (scaffolded into the workspace), missing flags without
a terminal (exit 2, nothing made), and `--json` validated against its schema.

Then in a real terminal (`.venv/bin/pcli` in a pty, driven by pexpect as in
test_create_prompts_pty.py): every question answered, and Ctrl-C during the questions keeping
the answers, which the next run offers.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pexpect
import pytest
import yaml
from jsonschema import Draft202012Validator
from tests.cli.test_create_prompts_pty import finish

SCHEMA = Path(__file__).resolve().parents[2] / "docs/reference/schemas/quickstart.schema.json"
UNATTENDED = ("--env-blueprint", "vpc-ecs-env", "--service", "api", "-b", "lambda-api-svc")
NOTHING_SCAFFOLDED = "Code:        - (nothing scaffolded: no skeleton/, or the service ran already)"
NEXT = [
    "pcli svc status api",
    "pcli svc logs api --follow",
    "pcli status",
    "pcli ci generate github-actions",
]


def document(result) -> dict:
    """The one JSON document on stdout, validated against quickstart.schema.json."""
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    Draft202012Validator(json.loads(SCHEMA.read_text())).validate(found)
    return found


def stacks(cloudformation) -> dict[str, str]:
    return {
        stack["StackName"]: stack["StackStatus"]
        for stack in cloudformation.describe_stacks()["Stacks"]
    }


def api_endpoint(cloudformation) -> str:
    described = cloudformation.describe_stacks(StackName="pcli-shop-svc-api-api-dev")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0]["Outputs"]}
    return outputs["ApiEndpoint"]


def test_an_empty_folder_becomes_a_running_service_and_a_second_run_reuses_it(
    pcli, tmp_path, cloudformation
):
    folder = tmp_path / "shop"

    first = pcli("quickstart", str(folder), *UNATTENDED, "--yes")

    assert first.exit_code == 0, first.output
    assert (folder / "pcli.yaml").is_file()
    assert (folder / ".git").is_dir()
    environment = yaml.safe_load((folder / "environments" / "dev.yaml").read_text())
    assert (environment["blueprint"], environment["region"]) == ("vpc-ecs-env", "us-east-1")
    service = yaml.safe_load((folder / "services" / "api.yaml").read_text())
    assert service["blueprint"] == "lambda-api-svc"
    assert service["instances"] == [{"name": "api-dev", "environment": "dev"}]
    assert stacks(cloudformation) == {
        "pcli-shop-env-dev": "CREATE_COMPLETE",
        "pcli-shop-svc-api-api-dev": "CREATE_COMPLETE",
    }
    url = api_endpoint(cloudformation)
    assert url.startswith("https://")
    assert "Deployed environment dev: CREATE_COMPLETE (pcli-shop-env-dev)." in first.stderr
    assert "Deployed service instance api/api-dev: CREATE_COMPLETE" in first.stderr
    assert first.stdout.splitlines() == [
        f"Workspace:   shop ({folder})",
        "Environment: dev (vpc-ecs-env@1.0, us-east-1), deployed",
        "Service:     api (lambda-api-svc@1.0), instance api-dev in dev, deployed",
        NOTHING_SCAFFOLDED,
        f"URL:         {url}",
        "",
        "Next:",
        f"  cd {folder}",
        *(f"  {command}" for command in NEXT),
    ]

    again = document(pcli("quickstart", str(folder), "--json"))

    assert stacks(cloudformation) == {
        "pcli-shop-env-dev": "CREATE_COMPLETE",
        "pcli-shop-svc-api-api-dev": "CREATE_COMPLETE",
    }
    assert again == {
        "workspace": {"root": str(folder), "name": "shop", "created": False},
        "environment": {
            "name": "dev",
            "blueprint": "vpc-ecs-env",
            "version": "1.0",
            "region": "us-east-1",
            "stack_name": "pcli-shop-env-dev",
            "action": "reused",
        },
        "service": {
            "name": "api",
            "blueprint": "lambda-api-svc",
            "version": "1.0",
            "spec": str(folder / "services" / "api.yaml"),
            "action": "reused",
            "scaffold": None,
        },
        "instance": {"name": "api-dev", "stack_name": "pcli-shop-svc-api-api-dev"},
        "url": url,
        "next": [f"cd {folder}", *NEXT],
    }


def test_missing_answers_without_a_terminal_are_one_error_and_nothing_is_made(pcli, tmp_path):
    folder = tmp_path / "shop"

    result = pcli("quickstart", str(folder), "--env", "dev")

    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "Error: pcli quickstart: 3 required value(s) missing: --env-blueprint, --service, "
        "--blueprint"
    )
    assert lines[-1] == (
        "Hint: give them with --env-blueprint BLUEPRINT --service NAME --blueprint BLUEPRINT"
    )
    assert not folder.exists()


def test_with_several_running_environments_unattended_names_one_with_env(cli, moto_url):
    for name in ("dev", "stage"):
        assert cli("env", "create", name, "-b", "vpc-ecs-env", "--yes").exit_code == 0

    result = cli("quickstart", "--service", "api", "-b", "lambda-api-svc", "--yes")

    assert result.exit_code == 2
    assert result.stderr.splitlines()[:2] == [
        "Error: pcli quickstart: 1 required value(s) missing: --env",
        "  --env: the environment to run the service in (running here: dev, stage)",
    ]
    assert not (cli.workspace / "services" / "api.yaml").exists()


def test_a_required_input_with_no_default_is_named_with_its_flag(pcli, cli, tmp_path, starters_dir):
    bundle = tmp_path / "need-svc"
    shutil.copytree(starters_dir / "lambda-api-svc" / "v1", bundle)
    schema = bundle / "schema" / "schema.yaml"
    text = (
        schema.read_text()
        .replace("      type: object\n", "      type: object\n      required: [owner]\n", 1)
        .replace("      properties:\n", "      properties:\n        owner: {type: string}\n", 1)
    )
    schema.write_text(text)
    assert pcli("blueprint", "publish", str(bundle), "--name", "need-svc").exit_code == 0

    result = cli(
        "quickstart", "--env-blueprint", "vpc-ecs-env", "--service", "api", "-b", "need-svc"
    )

    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "Error: pcli quickstart: 1 required value(s) missing: owner"
    )
    assert "Hint: give them with --param owner=VALUE" in result.stderr
    assert list((cli.workspace / "environments").iterdir()) == []


def test_a_written_service_is_continued_and_a_skeleton_scaffolded_into_the_workspace(
    pcli, cli, tmp_path, starters_dir, cloudformation
):
    bundle = tmp_path / "fn-svc"
    shutil.copytree(starters_dir / "lambda-api-svc" / "v1", bundle)
    (bundle / "skeleton" / "src").mkdir(parents=True)
    (bundle / "skeleton" / "src" / "{{ service.name }}.py").write_text(
        'NAME = "{{ service.name }}"\n'
    )
    (bundle / "skeleton" / "README.md").write_text("# {{ service.name }}\n")
    assert pcli("blueprint", "publish", str(bundle), "--name", "fn-svc").exit_code == 0
    assert cli("env", "create", "dev", "-b", "vpc-ecs-env", "--yes").exit_code == 0
    written = cli("svc", "create", "api", "-b", "fn-svc", "-i", "api-dev=dev", "--no-deploy")
    assert written.exit_code == 0, written.output

    # the workspace's only environment runs; its only service is written, not deployed
    ran = cli("quickstart", "--yes", "--json")

    result = document(ran)
    assert "already holds these values, and nothing of it is deployed yet" in ran.stderr
    root = cli.workspace
    assert (root / "src" / "api.py").read_text() == 'NAME = "api"\n'
    assert (root / "README.md").read_text() == "# api\n"
    assert result["workspace"] == {"root": str(root), "name": "demo", "created": False}
    assert result["environment"]["action"] == "reused"
    assert result["service"]["action"] == "deployed"
    assert result["service"]["scaffold"] == {
        "folder": str(root),
        "files": ["README.md", "src/api.py"],
    }
    assert stacks(cloudformation)["pcli-demo-svc-api-api-dev"] == "CREATE_COMPLETE"
    assert result["url"].startswith("https://")


# --- in a real terminal ------------------------------------------------------------------------

PCLI = Path(sys.executable).with_name("pcli")
ENTER = "\r"
needs_pcli = pytest.mark.skipif(not PCLI.exists(), reason="needs the installed pcli script")


def shown(*words):
    """A pattern for words drawn next to each other, whatever styling sits between them."""
    return r"(?:\x1b\[[0-9;?]*[A-Za-z]|\s)*".join(re.escape(word) for word in words)


@pytest.fixture
def terminal(registry, tmp_path):
    """Start `pcli --registry REG ARGS...` in a 40x120 xterm pty in tmp_path."""
    started = []

    def spawn(*args):
        child = pexpect.spawn(
            str(PCLI),
            ["--registry", str(registry), *args],
            cwd=str(tmp_path),
            env={**os.environ, "TERM": "xterm"},
            dimensions=(40, 120),
            encoding="utf-8",
            timeout=30,
        )
        child.logfile_read = io.StringIO()  # the whole transcript, for assertions
        started.append(child)
        return child

    yield spawn
    for child in started:
        if child.isalive():
            child.terminate(force=True)


@needs_pcli
def test_in_a_terminal_every_question_is_asked_and_the_service_runs(
    terminal, tmp_path, moto_url, cloudformation
):
    child = terminal("quickstart", "shop")

    child.expect(shown("Environment name", "dev"))
    child.send(ENTER)  # the default
    child.expect("Environment blueprint")
    child.send("vpc-ecs")  # type to filter the list
    child.expect(r"» vpc-ecs-env")
    child.send(ENTER)
    for _ in range(5):  # CIDR blocks and log retention: their defaults
        child.expect(
            r"\((vpc_cidr|public_subnet_\w+|load_balancer_ingress_cidr|log_retention_days)\)"
        )
        child.send(ENTER)
    child.expect(r"Container Insights \(container_insights\)")
    child.send(ENTER)
    child.expect(r"Environment dev, to be written to .*dev\.yaml:")
    child.expect("Continue with these answers?")
    child.send(ENTER)
    child.expect(r"Deploy these changes\?")
    child.send("y" + ENTER)
    child.expect(r"Deployed environment dev: CREATE_COMPLETE")
    child.expect("Service name")
    child.send("api" + ENTER)
    child.expect(shown("Instance name in dev", "api-dev"))
    child.send(ENTER)
    child.expect("Service blueprint")
    child.send("lambda")
    child.expect(r"» lambda-api-svc")
    child.send(ENTER)
    child.expect(r"Python runtime \(runtime\)")
    child.send(ENTER)
    child.expect(r"Memory \(MB\) \(memory_size\)")
    child.send("\x15" + "512" + ENTER)  # Ctrl-U clears the default first
    for _ in range(3):  # timeout, greeting, reserved concurrency
        child.expect(r"\((timeout|greeting|reserved_concurrency)\)")
        child.send(ENTER)
    child.expect(r"Service api, to be written to .*api\.yaml:")
    child.expect(r"api-dev\.memory_size: +512")
    child.expect("Continue with these answers?")
    child.send(ENTER)
    child.expect(r"Deploy these changes\?")
    child.send("y" + ENTER)
    child.expect(r"URL: +https://\S+/live")
    child.expect("pcli svc status api")

    assert finish(child) == 0
    service = yaml.safe_load((tmp_path / "shop" / "services" / "api.yaml").read_text())
    assert service["instances"] == [
        {
            "name": "api-dev",
            "environment": "dev",
            "spec": {
                "runtime": "python3.12",
                "memory_size": 512,
                "timeout": 10,
                "greeting": "Hello",
            },
        }
    ]
    assert set(stacks(cloudformation)) == {"pcli-shop-env-dev", "pcli-shop-svc-api-api-dev"}


@needs_pcli
def test_ctrl_c_during_the_questions_keeps_the_answers_and_a_rerun_offers_them(
    terminal, tmp_path, moto_url
):
    first = terminal("quickstart", "shop")
    first.expect("Environment name")
    first.send("\x15" + "stage" + ENTER)
    first.expect("Environment blueprint")
    first.send("vpc-ecs")
    first.expect(r"» vpc-ecs-env")
    first.send(ENTER)
    first.expect(r"VPC CIDR block \(vpc_cidr\)")
    first.send("\x15" + "10.0.0.0/20" + ENTER)
    first.expect(r"\(public_subnet_one_cidr\)")
    first.sendcontrol("c")
    first.expect(r"Interrupted\. Your answers are kept \(.*environment-stage\.yaml\); ")
    first.expect(r"`pcli env create stage` offers them again\.")
    first.expect(r"`pcli quickstart`, run again, goes on where it stopped\.")
    assert finish(first) == 130
    assert (tmp_path / "shop" / "pcli.yaml").is_file()  # the workspace is made
    assert list((tmp_path / "shop" / "environments").iterdir()) == []

    second = terminal("quickstart", "shop")
    second.expect(shown("Environment name", "stage"))  # the kept name is offered
    second.send(ENTER)
    second.expect("Environment blueprint")
    second.expect(shown("»", "vpc-ecs-env"))  # the kept blueprint is selected
    second.send(ENTER)
    second.expect(shown("VPC CIDR block (vpc_cidr)", "10.0.0.0/20"))  # the kept answer
    second.sendcontrol("c")
    second.expect(r"Interrupted\. Your answers are kept")
    assert finish(second) == 130
