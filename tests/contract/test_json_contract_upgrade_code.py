"""`pcli svc upgrade-code DIR --json` prints one document that matches its published JSON Schema,
whether the upgrade is a dry run, refused by a conflict (exit 1) or applied with markers."""

from __future__ import annotations

import json
import shutil


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_every_outcome_of_upgrade_code_matches_its_schema(
    cli, tmp_path, starters_dir, check_schema
):
    ok(cli("env", "create", "dev", "-b", "vpc-ecs-env", "--no-deploy"))
    code = tmp_path / "web-src"
    ok(cli("svc", "create", "web", "-b", "fargate-web-svc", "-i", "web-dev=dev",
           "--scaffold", str(code), "--no-deploy"))  # fmt: skip
    bundle = tmp_path / "fargate-web-svc-1.1"
    shutil.copytree(starters_dir / "fargate-web-svc" / "v1", bundle)
    dockerfile = bundle / "skeleton" / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("WORKDIR /srv", "WORKDIR /app"))
    ok(cli("blueprint", "publish", str(bundle), "--name", "fargate-web-svc"))
    spec = cli.workspace / "services" / "web.yaml"
    spec.write_text(spec.read_text().replace('version: "1.0"', 'version: "1.1"'))
    (code / "Dockerfile").write_text((code / "Dockerfile").read_text().replace("/srv", "/opt"))
    upgrade = ("svc", "upgrade-code", str(code), "--json")

    outcomes = []
    for extra, exit_code in (("--dry-run",), 0), ((), 1), (("--conflicts", "markers"), 0):
        result = cli(*upgrade, *extra)
        assert result.exit_code == exit_code, result.output
        document = json.loads(result.stdout)
        check_schema(document, "svc-upgrade-code")
        outcomes.append((document["outcome"], document["counts"]["conflict"]))

    assert outcomes == [("dry-run", 1), ("refused", 1), ("applied", 1)]
