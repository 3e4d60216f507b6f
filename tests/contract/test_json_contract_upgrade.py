"""`pcli upgrade --json`: with --plan one document that matches upgrade-plan (scaffolded code
included), otherwise NDJSON lines of the deploy; every one matches the published schema."""

from __future__ import annotations

import json
import shutil

from tests.cli.test_component_status_commands import TINY_ENV


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_the_plan_document_matches_its_schema_with_the_code_it_would_touch(
    cli, tmp_path, starters_dir, check_schema
):
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy"))
    code = cli.workspace / "web-src"
    ok(cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev",
           "--scaffold", str(code), "--no-deploy"))  # fmt: skip
    bundle = tmp_path / "fargate-web-svc-1.1"
    shutil.copytree(starters_dir / "fargate-web-svc" / "v1", bundle)
    dockerfile = bundle / "skeleton" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("WORKDIR /srv", "WORKDIR /app"))
    ok(cli("blueprint", "publish", str(bundle), "--name", "fargate-web-svc"))
    before = (code / "Dockerfile").read_bytes()

    document = json.loads(ok(cli("upgrade", "--all", "--plan", "--json")).stdout)

    check_schema(document, "upgrade")
    check_schema(document, "upgrade-plan")
    web = next(spec for spec in document["specs"] if spec["name"] == "web")
    assert (web["from_version"], web["to_version"], web["action"]) == ("1.0", "1.1", "minor")
    (folder,) = web["code"]
    assert folder["outcome"] == "dry-run"
    assert {"path": "Dockerfile", "action": "updated"}.items() <= next(
        f for f in folder["files"] if f["path"] == "Dockerfile"
    ).items()
    assert (code / "Dockerfile").read_bytes() == before


def test_every_ndjson_line_of_an_upgrade_matches_the_schema(cli, tmp_path, check_schema):
    bundle = tmp_path / "tiny-env"
    for name, text in TINY_ENV.items():
        (bundle / name).parent.mkdir(parents=True, exist_ok=True)
        (bundle / name).write_text(text)
    ok(cli("blueprint", "publish", str(bundle), "--name", "tiny-env"))
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    template = bundle / "infrastructure" / "cloudformation.yaml"
    template.write_text(template.read_text() + "# 1.1\n")
    ok(cli("blueprint", "publish", str(bundle), "--name", "tiny-env"))

    for args in (("dev",), ("dev",)):  # an upgrade, then nothing to upgrade
        lines = [
            json.loads(line)
            for line in ok(cli("upgrade", *args, "--yes", "--json")).stdout.splitlines()
        ]
        for line in lines:
            check_schema(line, "upgrade")
        assert (lines[0]["type"], lines[-1]["type"], lines[-1]["ok"]) == ("version", "result", True)
