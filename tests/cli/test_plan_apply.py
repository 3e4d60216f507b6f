"""The state model end to end against moto: orphans, delete protection, plan and apply.

The field case: a service with instances in `qa` and `dev`; the `qa` instance removed from the
spec and the service deployed; its stack still runs. It must be listed as an orphan, keep
`env delete qa` from succeeding, and go with `apply --prune`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC

from protoncli.locks import state_folder

HOLD_LOCK = """
import sys
from pathlib import Path
from protoncli.locks import file_lock
with file_lock(Path(sys.argv[1]), "pcli apply (the first)"):
    print("held", flush=True)
    sys.stdin.read()
"""


def ok(result):
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def web(cli, tmp_path, write_files):
    """Environments qa and dev (tiny-env), service web with instances web-qa and web-dev."""
    for name, files in (("tiny-env", TINY_ENV), ("tiny-svc", TINY_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    ok(cli("env", "create", "qa", "-b", "tiny-env", "--yes"))
    ok(cli("env", "create", "dev", "-b", "tiny-env", "--yes"))
    ok(cli("svc", "create", "web", "-b", "tiny-svc", "-i", "web-qa=qa", "-i", "web-dev=dev",
           "--yes"))  # fmt: skip
    return cli


def drop_qa_instance(workspace: Path) -> None:
    spec = workspace / "services" / "web.yaml"
    text = spec.read_text()
    start = text.index("  - name: web-qa")
    end = text.index("  - name: web-dev")
    spec.write_text(text[:start] + text[end:])


def status(cli, *flags: str) -> dict:
    return json.loads(ok(cli("status", "--json", *flags)).stdout)


def test_an_instance_removed_from_the_spec_is_an_orphan_that_blocks_env_delete(web):
    drop_qa_instance(web.workspace)
    ok(web("svc", "deploy", "web", "--yes"))

    document = status(web)
    orphans = [r for r in document["resources"] if r["orphaned"]]
    assert [(r["kind"], r["name"], r["environment"]) for r in orphans] == [
        ("service-instance", "web/web-qa", "qa")
    ]
    assert orphans[0]["declared"] is False
    assert orphans[0]["deployed"] is True
    assert document["summary"]["orphaned"] == 1
    assert [r["name"] for r in status(web, "--orphaned")["resources"]] == ["web/web-qa"]
    assert "orphaned" in ok(web("status")).stdout

    refused = web("env", "delete", "qa", "--yes")
    assert refused.exit_code == 2
    assert "service instance web/web-qa (stack pcli-demo-svc-web-web-qa" in refused.stderr
    assert "orphaned: no spec declares it" in refused.stderr
    assert (web.workspace / "environments" / "qa.yaml").is_file()


def test_plan_lists_the_orphan_and_apply_prune_deletes_it(web, cloudformation):
    drop_qa_instance(web.workspace)
    ok(web("svc", "deploy", "web", "--yes"))

    plan = json.loads(ok(web("plan", "--json")).stdout)
    deletions = [i for i in plan["items"] if i["action"] == "delete"]
    assert [(i["name"], i["applies"]) for i in deletions] == [("web/web-qa", False)]
    assert plan["changes"] is False
    assert ok(web("plan", "--check")).exit_code == 0  # without --prune nothing would change
    assert web("plan", "--check", "--prune").exit_code == 4
    assert "orphaned stack(s) kept (add --prune" in ok(web("plan")).stdout

    applied = ok(web("apply", "--prune", "--yes"))
    assert "service instance web/web-qa" in applied.stdout
    assert "Applied: 1 item(s) done." in applied.stderr + applied.stdout
    names = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert "pcli-demo-svc-web-web-qa" not in names
    assert status(web, "--orphaned")["resources"] == []
    ok(web("env", "delete", "qa", "--yes"))


def test_plan_says_why_and_apply_brings_aws_to_the_workspace(web):
    assert ok(web("plan", "--check")).exit_code == 0
    spec = web.workspace / "environments" / "dev.yaml"
    spec.write_text(spec.read_text().replace("spec:", "spec:\n  team: payments", 1))

    plan = json.loads(web("plan", "--json").stdout)
    acting = {
        (i["action"], i["name"]): i["reasons"] for i in plan["items"] if i["action"] != "none"
    }
    assert acting[("update", "dev")] == ["spec changed"]
    assert acting[("update", "web/web-dev")] == [
        "may change: environment dev changes first (outputs it renders with)"
    ]
    assert ("update", "web/web-qa") not in acting
    assert [i["name"] for i in plan["items"]][:2] == ["dev", "qa"]  # environments first
    assert plan["groups"] == [
        {
            "account": "123456789012",
            "account_name": None,
            "region": "us-east-1",
            "stacks": [
                "pcli-demo-env-dev",
                "pcli-demo-svc-web-web-dev",
                "pcli-demo-pipeline-web",
            ],
        }
    ]
    assert web("plan", "--check").exit_code == 4

    refused = web("apply")  # not a terminal, no --yes
    assert refused.exit_code == 2
    assert "pcli apply --yes" in refused.stderr

    ok(web("apply", "--yes"))
    assert ok(web("plan", "--check")).exit_code == 0
    assert status(web, "--pending")["resources"] == []


def test_a_second_apply_on_the_workspace_is_refused_naming_the_first(web):
    lock = state_folder(web.workspace) / "apply.lock"
    holder = subprocess.Popen(  # another process, as a first apply would be
        [sys.executable, "-c", HOLD_LOCK, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        second = web("apply", "--yes")
    finally:
        holder.communicate("")
    assert second.exit_code == 1
    assert "pcli apply (the first)" in second.stderr


def test_versions_behind_are_counted_and_filtered(web, tmp_path, write_files):
    newer = dict(TINY_ENV)
    newer["infrastructure/cloudformation.yaml"] += "  Name:\n    Value: newer\n"
    bundle = write_files(tmp_path / "tiny-env-1.1", newer)
    ok(web("blueprint", "publish", str(bundle), "--name", "tiny-env"))

    rows = status(web, "--behind")["resources"]
    assert {(r["name"], r["version_status"], r["recommended_version"]) for r in rows} == {
        ("qa", "behind-minor", "1.1"),
        ("dev", "behind-minor", "1.1"),
    }
    assert status(web)["summary"]["behind_minor"] == 2
    assert status(web, "--env", "dev", "--behind")["summary"]["total"] == 1


def test_stacks_of_other_workspaces_and_untagged_stacks_are_never_listed(web, cloudformation):
    template = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
    cloudformation.create_stack(StackName="someone-elses", TemplateBody=template)
    cloudformation.create_stack(
        StackName="pcli-other-env-dev",
        TemplateBody=template,
        Tags=[
            {"Key": "pcli:workspace", "Value": "other"},
            {"Key": "pcli:kind", "Value": "environment"},
            {"Key": "pcli:environment", "Value": "dev"},
        ],
    )
    names = {r["stack_name"] for r in status(web)["resources"]}
    assert "someone-elses" not in names
    assert "pcli-other-env-dev" not in names
    ok(web("apply", "--prune", "--yes"))
    left = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert {"someone-elses", "pcli-other-env-dev"} <= left


def test_an_orphan_of_a_blueprint_gone_from_the_registry_is_listed_and_pruned(web, cloudformation):
    template = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
    cloudformation.create_stack(
        StackName="pcli-demo-env-ghost",
        TemplateBody=template,
        Tags=[
            {"Key": "pcli:workspace", "Value": "demo"},
            {"Key": "pcli:kind", "Value": "environment"},
            {"Key": "pcli:environment", "Value": "ghost"},
            {"Key": "pcli:blueprint", "Value": "retired-env"},
            {"Key": "pcli:version", "Value": "3.2"},
        ],
    )
    ghost = next(r for r in status(web)["resources"] if r["name"] == "ghost")
    assert (ghost["orphaned"], ghost["blueprint"], ghost["version"]) == (True, "retired-env", "3.2")
    assert (ghost["version_status"], ghost["recommended_version"]) == (None, None)

    ok(web("apply", "ghost", "--prune", "--yes"))
    left = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert "pcli-demo-env-ghost" not in left


def test_a_malformed_spec_is_named_and_the_rest_is_still_reported(web):
    (web.workspace / "environments" / "broken.yaml").write_text("proton: [unclosed\n")

    result = web("status")
    assert result.exit_code == 1
    assert "broken.yaml" in result.stderr
    assert " dev " in result.stdout
    assert "web/web-dev" in result.stdout


def test_names_and_shards_select_and_bad_values_are_usage_errors(web):
    assert web("plan", "nothing-here").exit_code == 2
    for bad in ("0/3", "4/3", "a/b", "3"):
        assert web("plan", "--shard", bad).exit_code == 2, bad
    shares = [json.loads(ok(web("plan", "--json", "--shard", f"{k}/3")).stdout) for k in (1, 2, 3)]
    names = [i["name"] for share in shares for i in share["items"]]
    assert sorted(names) == sorted(i["name"] for i in json.loads(web("plan", "--json").stdout)[
        "items"])  # fmt: skip
    for share in shares:  # an environment and what it hosts stay together
        envs = {i["environment"] for i in share["items"] if i["kind"] != "pipeline"}
        hosted = {i["environment"] for i in share["items"] if i["kind"] == "service-instance"}
        assert hosted <= envs


def test_an_edited_file_of_a_registered_version_is_never_deployed(web, registry, cloudformation):
    template = next((registry / "tiny-env" / "1.0").rglob("cloudformation.yaml"))
    template.write_text(template.read_text() + "  Extra:\n    Value: sneaked in\n")
    spec = web.workspace / "environments" / "dev.yaml"
    spec.write_text(spec.read_text().replace("spec:", "spec:\n  team: payments", 1))
    before = cloudformation.describe_stacks(StackName="pcli-demo-env-dev")["Stacks"][0]

    result = web("apply", "--yes")

    assert result.exit_code == 3
    said = " ".join(web("apply", "--yes", "--json").stdout.split())
    assert "blueprint tiny-env@1.0: the files in" in said
    assert "changed after the version was registered" in said
    after = cloudformation.describe_stacks(StackName="pcli-demo-env-dev")["Stacks"][0]
    assert after.get("LastUpdatedTime") == before.get("LastUpdatedTime")


def test_an_orphan_twin_in_another_region_does_not_change_what_others_render_with(web, moto_url):

    workspace_file = web.workspace / "pcli.yaml"
    workspace_file.write_text(workspace_file.read_text() + "regions: [eu-west-1]\n")
    elsewhere = boto3.client("cloudformation", endpoint_url=moto_url, region_name="eu-west-1")
    elsewhere.create_stack(
        StackName="pcli-demo-env-dev",
        TemplateBody=json.dumps(
            {
                "Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"TopicArn": {"Value": {"Ref": "T"}}},
            }
        ),
        Tags=[
            {"Key": "pcli:workspace", "Value": "demo"},
            {"Key": "pcli:kind", "Value": "environment"},
            {"Key": "pcli:environment", "Value": "dev"},
        ],
    )

    rows = {(r["name"], r["region"]): r for r in status(web)["resources"]}
    assert rows[("dev", "eu-west-1")]["orphaned"] is True
    assert rows[("web/web-dev", "us-east-1")]["pending"] is False
