"""Fixtures of the contract tests: pcli run in-process, a workspace on moto, schema checks.

The JSON Schemas are the files users read: docs/reference/schemas/*.schema.json.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from protoncli.cli.app import app

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "reference" / "schemas"
BUNDLES = Path(__file__).resolve().parent / "bundles"


def _schema_registry() -> Any:
    """Every schema file, under its file name (how the schemas `$ref` each other)."""
    from referencing import Registry, Resource

    resources = [
        (path.name, Resource.from_contents(json.loads(path.read_text(encoding="utf-8"))))
        for path in sorted(SCHEMAS.glob("*.schema.json"))
    ]
    return Registry().with_resources(resources)


@pytest.fixture(scope="session")
def check_schema() -> Callable[[Any, str], None]:
    """`check_schema(document, "env-list")` fails the test, naming every violation."""
    from jsonschema import Draft202012Validator

    registry = _schema_registry()

    def check(document: Any, name: str) -> None:
        schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validator = Draft202012Validator(
            schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
        )
        problems = [
            f"{'/'.join(map(str, error.absolute_path)) or '(document)'}: {error.message}"
            for error in validator.iter_errors(document)
        ]
        assert problems == [], f"{name}.schema.json:\n" + "\n".join(problems)

    return check


@pytest.fixture(scope="session")
def check_ndjson(check_schema: Callable[[Any, str], None]) -> Callable[[str, str], list[Any]]:
    """`check_ndjson(stdout, "env deploy")`: every line valid, a version line first naming the
    command, a result line last; returns the records."""

    def check(stdout: str, command: str) -> list[Any]:
        records = [json.loads(line) for line in stdout.splitlines()]
        for record in records:
            check_schema(record, "deploy-event")
        assert records[0]["type"] == "version"
        assert records[0]["command"] == command
        assert records[-1]["type"] == "result"
        assert [r["type"] for r in records].count("result") == 1
        return records

    return check


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "reg"


@pytest.fixture
def pcli(registry: Path) -> Callable[..., Result]:
    """Run `pcli --registry <tmp>/reg ARGS...` in-process."""

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(app, ["--registry", str(registry), *args], env=env)

    return run


@pytest.fixture
def cli(pcli: Callable[..., Result], tmp_path: Path, moto_url: str) -> Any:
    """`pcli --registry <tmp> --workspace <tmp>/ws ...` in a fresh workspace named demo, with
    AWS on the moto server."""
    workspace = tmp_path / "ws"
    created = pcli("init", str(workspace), "--name", "demo")
    assert created.exit_code == 0, created.output

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return pcli("--workspace", str(workspace), *args, env=env)

    run.workspace = workspace  # type: ignore[attr-defined]
    return run


@pytest.fixture
def tiny(cli: Any) -> Path:
    """tiny-env and tiny-svc (tests/contract/bundles) published; the tiny-component folder.

    tiny-env: one SNS topic, input `team` (default core); tiny-svc: one SQS queue per instance
    and a pipeline topic, compatible with tiny-env:1; tiny-component: one S3 bucket."""
    for name in ("tiny-env", "tiny-svc"):
        published = cli("blueprint", "publish", str(BUNDLES / name), "--name", name)
        assert published.exit_code == 0, published.output
    return BUNDLES / "tiny-component"


class FailingDeployments:
    """From `fail()` on, every change set executed ends like a failed CloudFormation deployment:
    DescribeStacks says ROLLBACK_COMPLETE (a creation) or UPDATE_ROLLBACK_COMPLETE (an update)
    and DescribeStackEvents adds the resource that failed, with its reason.

    moto never fails a stack, so its answers are edited on their way back through the client's
    `after-call` event (the hook botocore's Stubber uses); every call still goes to moto."""

    REASON = "Resource handler returned message: Invalid request provided (scripted failure)"

    def __init__(self) -> None:
        self.failing = False
        self.change_sets: dict[str, tuple[str, str]] = {}  # id -> (stack name, CREATE|UPDATE)
        self.failed: dict[str, tuple[str, dict[str, Any]]] = {}  # stack -> (status, event)

    def fail(self) -> None:
        self.failing = True

    def hook(self, events: Any) -> None:
        events.register("provide-client-params.cloudformation.*", self._remember_params)
        events.register("after-call.cloudformation.CreateChangeSet", self._change_set_made)
        events.register("after-call.cloudformation.ExecuteChangeSet", self._executed)
        events.register("after-call.cloudformation.DescribeStacks", self._stacks)
        events.register("after-call.cloudformation.DescribeStackEvents", self._events)

    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["contract_params"] = dict(params)

    def _change_set_made(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        params = context.get("contract_params", {})
        kind = params.get("ChangeSetType", "UPDATE")
        self.change_sets[parsed["Id"]] = (params["StackName"], kind)

    def _executed(self, context: dict[str, Any], **_: Any) -> None:
        from datetime import UTC, datetime

        change_set = context.get("contract_params", {}).get("ChangeSetName", "")
        if not self.failing or change_set not in self.change_sets:
            return
        stack, kind = self.change_sets[change_set]
        status = "ROLLBACK_COMPLETE" if kind == "CREATE" else "UPDATE_ROLLBACK_COMPLETE"
        action = "CREATE" if kind == "CREATE" else "UPDATE"
        event = {
            "EventId": f"{stack}-scripted-failure",
            "StackName": stack,
            "LogicalResourceId": "Broken",
            "ResourceType": "AWS::SNS::Topic",
            "ResourceStatus": f"{action}_FAILED",
            "ResourceStatusReason": self.REASON,
            "Timestamp": datetime.now(UTC),
        }
        self.failed[stack] = (status, event)

    def _stacks(self, parsed: dict[str, Any], **_: Any) -> None:
        for stack in parsed.get("Stacks", []):
            if stack["StackName"] in self.failed:
                stack["StackStatus"] = self.failed[stack["StackName"]][0]
                stack["StackStatusReason"] = "The following resource(s) failed: [Broken]"

    def _events(self, parsed: dict[str, Any], **_: Any) -> None:
        events = parsed.get("StackEvents", [])
        names = {event.get("StackName") for event in events}
        for stack, (_status, event) in self.failed.items():
            if stack in names:
                parsed["StackEvents"] = [{**event, "StackId": events[0]["StackId"]}, *events]


@pytest.fixture
def failing_deploys(monkeypatch: pytest.MonkeyPatch) -> FailingDeployments:
    """Deployments that fail once `.fail()` is called (see FailingDeployments)."""
    from protoncli.aws.session import SessionFactory

    script = FailingDeployments()
    client = SessionFactory.client

    def hooked_client(factory: Any, service: str, target: Any) -> Any:
        made = client(factory, service, target)
        if service == "cloudformation" and not getattr(made, "_contract_hooked", False):
            made._contract_hooked = True
            script.hook(made.meta.events)
        return made

    monkeypatch.setattr(SessionFactory, "client", hooked_client)
    return script
