"""`pcli adopt` against the sandbox, with stacks made the way AWS Proton named and tagged them.

Proton named its stacks `AWSProton-<names>-cloudformation-<13 letters>` and tagged each with the
ARNs of what it provisioned and of the template it rendered; these fixtures make such stacks
with boto3, from the very templates the blueprints render (what Proton deployed from them).
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from tests.cli.test_component_status_commands import TINY_ENV, TINY_SVC

# tiny-env with a named topic: the sandbox makes a stack's resources anew on every update (a
# generated name would change its outputs, which AWS keeps); a named one keeps them.
NAMED_ENV = {
    **TINY_ENV,
    "infrastructure/cloudformation.yaml": TINY_ENV["infrastructure/cloudformation.yaml"].replace(
        "Type: AWS::SNS::Topic",
        'Type: AWS::SNS::Topic\n    Properties:\n      TopicName: "{{ environment.name }}-events"',
    ),
}

ACCOUNT = "123456789012"
ARN = f"arn:aws:proton:us-east-1:{ACCOUNT}"
DEV_STACK = "AWSProton-dev-cloudformation-KQWPZRTEXAMPL"
WEB_DEV_STACK = "AWSProton-web-web-dev-cloudformation-MNBVCXZLKJHGF"
PIPELINE_STACK = "AWSProton-web-pipeline-cloudformation-QAZWSXEDCRFVT"


def matches_schema(document: dict) -> dict:
    """The document, checked against docs/reference/schemas/adopt.schema.json."""
    from jsonschema import Draft202012Validator
    from tests.contract.conftest import SCHEMAS, _schema_registry

    schema = json.loads((SCHEMAS / "adopt.schema.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, registry=_schema_registry())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    return document


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def environment_tags(env: str, template: str = "tiny-env", region: str = "us-east-1") -> list:
    arn = f"arn:aws:proton:{region}:{ACCOUNT}"
    return [
        {"Key": "aws:proton:environment", "Value": f"{arn}:environment/{env}"},
        {"Key": "aws:proton:template", "Value": f"{arn}:environment-template/{template}"},
        {"Key": "aws:proton:account", "Value": ACCOUNT},
    ]


def instance_tags(service: str, instance: str, env: str) -> list:
    return [
        {"Key": "aws:proton:environment", "Value": f"{ARN}:environment/{env}"},
        {"Key": "aws:proton:service", "Value": f"{ARN}:service/{service}"},
        {
            "Key": "aws:proton:service-instance",
            "Value": f"{ARN}:service/{service}/service-instance/{instance}",
        },
        {"Key": "aws:proton:template", "Value": f"{ARN}:service-template/tiny-svc"},
    ]


def pipeline_tags(service: str) -> list:
    return [
        {"Key": "aws:proton:service", "Value": f"{ARN}:service/{service}"},
        {"Key": "aws:proton:template", "Value": f"{ARN}:service-template/tiny-svc"},
    ]


def rendered(cli, tmp_path: Path, blueprint: str, name: str, *spec: str) -> dict[str, str]:
    """What the blueprint renders for `name` (the templates Proton deployed), by file."""
    out = tmp_path / "rendered" / name
    ok(cli("blueprint", "render", blueprint, "--name", name, "--output-dir", str(out), *spec))
    return {
        str(path.relative_to(out)): path.read_text()
        for path in sorted(out.rglob("*.yaml"))
        if path.is_file()
    }


@pytest.fixture
def proton(cli, tmp_path, write_files, cloudformation):
    """Blueprints tiny-env and tiny-svc published; Proton's stacks of environment dev and of
    service web (instance web-dev in dev, and its pipeline); a stack of another tool."""
    for name, files in (("tiny-env", NAMED_ENV), ("tiny-svc", TINY_SVC)):
        ok(cli("blueprint", "publish", str(write_files(tmp_path / name, files)), "--name", name))
    env_files = rendered(cli, tmp_path, "tiny-env", "dev")
    (env_template,) = env_files.values()
    cloudformation.create_stack(
        StackName=DEV_STACK, TemplateBody=env_template, Tags=environment_tags("dev")
    )
    svc_files = rendered(cli, tmp_path, "tiny-svc", "web", "--spec", str(web_spec(tmp_path)))
    instance = next(text for path, text in svc_files.items() if "web-dev" in path)
    pipeline = next(text for path, text in svc_files.items() if "pipeline" in path)
    cloudformation.create_stack(
        StackName=WEB_DEV_STACK, TemplateBody=instance, Tags=instance_tags("web", "web-dev", "dev")
    )
    cloudformation.create_stack(
        StackName=PIPELINE_STACK, TemplateBody=pipeline, Tags=pipeline_tags("web")
    )
    cloudformation.create_stack(
        StackName="other-tool-network",
        TemplateBody=env_template,
        Tags=[{"Key": "owner", "Value": "terraform-team"}],
    )
    return cli


def web_spec(tmp_path: Path) -> Path:
    path = tmp_path / "export" / "services" / "web.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "proton: ServiceSpec\n"
        "pipeline:\n  stage: test\n"
        "instances:\n  - name: web-dev\n    environment: dev\n    spec:\n      retention: 60\n"
    )
    return path


def adopt(cli, *flags: str):
    return cli("adopt", *flags)


def test_discovery_lists_exactly_protons_stacks(proton, tmp_path):
    ok(proton("env", "create", "qa", "-b", "tiny-env", "--yes"))  # pcli's own stack

    document = matches_schema(json.loads(ok(adopt(proton, "--json")).stdout))

    found = {(s["kind"], s["name"], s["stack_name"], s["state"]) for s in document["stacks"]}
    assert found == {
        ("environment", "dev", DEV_STACK, "new"),
        ("service-instance", "web/web-dev", WEB_DEV_STACK, "new"),
        ("pipeline", "web", PIPELINE_STACK, "new"),
    }
    entries = {e["path"]: e for e in document["entries"]}
    env = entries[str(proton.workspace / "environments" / "dev.yaml")]
    assert (env["blueprint"], env["version"], env["version_from"]) == (
        "tiny-env",
        "1.0",
        "recommended",
    )
    assert env["document"]["region"] == "us-east-1"
    assert not (proton.workspace / "environments" / "dev.yaml").exists()  # nothing written


def stack(cloudformation, name: str) -> dict:
    return cloudformation.describe_stacks(StackName=name)["Stacks"][0]


def test_write_then_adopt_adds_pcli_tags_in_place_and_status_shows_it_deployed(
    proton, tmp_path, cloudformation
):
    before = {name: stack(cloudformation, name)["StackId"] for name in (DEV_STACK, WEB_DEV_STACK)}

    done = ok(adopt(proton, "--from", str(tmp_path / "export"), "--write", "--yes"))

    assert "no difference: only pcli's tags are added" in done.stdout
    assert "Adopted: 3 of 3 stack(s)." in done.stderr
    spec = (proton.workspace / "services" / "web.yaml").read_text()
    assert 'blueprint: tiny-svc\nversion: "1.0"\nproton: ServiceSpec\n' in spec
    assert "  - name: web-dev\n    environment: dev\n    spec:\n      retention: 60\n" in spec
    env_spec = (proton.workspace / "environments" / "dev.yaml").read_text()
    assert "region: us-east-1\nproton: EnvironmentSpec\n" in env_spec
    assert f"  dev: {DEV_STACK}\n" in (proton.workspace / "adopted.yaml").read_text()
    for name, stack_id in before.items():  # the same stacks: nothing replaced
        after = stack(cloudformation, name)
        assert after["StackId"] == stack_id
        tags = {t["Key"]: t["Value"] for t in after["Tags"]}
        assert tags["pcli:workspace"] == "demo"
    names = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert not any(n.startswith("pcli-") for n in names)  # no second stack beside Proton's

    status = json.loads(ok(proton("status", "--json")).stdout)
    rows = {r["name"]: r for r in status["resources"]}
    assert set(rows) == {"dev", "web/web-dev", "web"}
    for row in rows.values():
        assert (row["declared"], row["deployed"], row["orphaned"]) == (True, True, False)
        assert row["pending"] is False, row["pending_reasons"]
    assert rows["dev"]["stack_name"] == DEV_STACK

    again = json.loads(ok(adopt(proton, "--json")).stdout)
    assert {s["state"] for s in again["stacks"]} == {"adopted"}


def test_a_later_deploy_updates_the_adopted_stack(proton, tmp_path, cloudformation):
    ok(adopt(proton, "--from", str(tmp_path / "export"), "--write", "--yes"))
    spec = proton.workspace / "environments" / "dev.yaml"
    spec.write_text(spec.read_text().replace("spec: {}", "spec:\n  team: payments"))

    ok(proton("env", "deploy", "dev", "--yes"))

    tags = {t["Key"]: t["Value"] for t in stack(cloudformation, DEV_STACK)["Tags"]}
    assert tags["pcli:environment"] == "dev"
    names = {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]}
    assert "pcli-demo-env-dev" not in names
    plan = json.loads(ok(proton("plan", "--json")).stdout)
    assert {i["name"]: i["action"] for i in plan["items"]}["dev"] == "none"


def test_a_spec_that_renders_another_template_is_shown_and_nothing_is_done_without_yes(
    proton, cloudformation
):
    # What Proton deployed last: the topic without its name (the blueprint names it now).
    cloudformation.update_stack(
        StackName=DEV_STACK,
        TemplateBody=TINY_ENV["infrastructure/cloudformation.yaml"],
        Tags=environment_tags("dev"),
    )

    refused = adopt(proton, "--write")

    assert refused.exit_code == 2, refused.output
    assert "needs confirmation" in refused.stderr
    assert "nothing was changed" in refused.stderr
    assert f"environment dev ({DEV_STACK}, us-east-1): resources change" in refused.stdout
    assert f"Change set for environment dev ({DEV_STACK}):\n" in refused.stderr
    assert "Modify  Topic       AWS::SNS::Topic  -" in refused.stderr
    tags = {t["Key"] for t in stack(cloudformation, DEV_STACK)["Tags"]}
    assert not any(key.startswith("pcli:") for key in tags)  # not adopted, not retagged
    assert "-events" not in stack(cloudformation, DEV_STACK)["Outputs"][0]["OutputValue"]

    done = matches_schema(json.loads(ok(adopt(proton, "--yes", "--json")).stdout))
    outcomes = {s["name"]: (s["verdict"], s["outcome"]) for s in done["stacks"]}
    assert outcomes["dev"] == ("changes", "updated")
    after = stack(cloudformation, DEV_STACK)
    assert after["Outputs"][0]["OutputValue"].endswith(":dev-events")
    assert "pcli:workspace" in {t["Key"] for t in after["Tags"]}


def test_two_protons_environments_of_one_name_in_two_regions_are_refused(
    proton, moto_url, cloudformation
):
    west = boto3.client("cloudformation", endpoint_url=moto_url, region_name="eu-west-1")
    body = cloudformation.get_template(StackName=DEV_STACK)["TemplateBody"]
    west.create_stack(
        StackName="AWSProton-dev-cloudformation-WESTREGIONSTK",
        TemplateBody=body if isinstance(body, str) else json.dumps(body),
        Tags=environment_tags("dev", region="eu-west-1"),
    )

    refused = adopt(proton, "--region", "us-east-1", "--region", "eu-west-1", "--write", "--yes")

    assert refused.exit_code == 2, refused.output
    assert "have a Proton stack in more than one place (eu-west-1, us-east-1)" in refused.stderr
    assert (
        "  environment dev: AWSProton-dev-cloudformation-WESTREGIONSTK in eu-west-1, "
        f"{DEV_STACK} in us-east-1\n"
    ) in refused.stderr
    assert not (proton.workspace / "environments" / "dev.yaml").exists()
    assert not (proton.workspace / "adopted.yaml").exists()
    for client, name in (
        (cloudformation, DEV_STACK),
        (west, "AWSProton-dev-cloudformation-WESTREGIONSTK"),
    ):
        tags = {t["Key"] for t in client.describe_stacks(StackName=name)["Stacks"][0]["Tags"]}
        assert "aws:proton:environment" in tags
        assert not any(key.startswith("pcli:") for key in tags)

    one = json.loads(ok(adopt(proton, "--region", "eu-west-1", "--json")).stdout)
    assert [(s["name"], s["region"]) for s in one["stacks"]] == [("dev", "eu-west-1")]


def test_an_unknown_template_and_a_stack_in_progress_are_blocked_and_the_rest_adopted(
    proton, tmp_path, cloudformation, moto_url
):
    cloudformation.create_stack(
        StackName="AWSProton-legacy-cloudformation-LEGACYSTACKAB",
        TemplateBody="Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
        Tags=environment_tags("legacy", template="legacy-env"),
    )
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(
        Bucket="taken-bucket"
    )
    with pytest.raises(Exception):  # noqa: B017 - the sandbox fails the create itself
        cloudformation.create_stack(
            StackName="AWSProton-busy-cloudformation-BUSYSTACKABCD",
            TemplateBody="Resources:\n  B:\n    Type: AWS::S3::Bucket\n"
            "    Properties:\n      BucketName: taken-bucket\n",
            Tags=environment_tags("busy"),
        )

    done = adopt(proton, "--from", str(tmp_path / "export"), "--write", "--yes", "--json")

    assert done.exit_code == 1, done.output
    document = matches_schema(json.loads(done.stdout))
    by_name = {s["name"]: s for s in document["stacks"]}
    assert by_name["legacy"]["state"] == "blocked"
    assert (
        "blueprint legacy-env (from the stack's aws:proton:template) is not in the registry"
        in (by_name["legacy"]["reason"])
    )
    assert by_name["busy"]["state"] == "blocked"
    assert "an operation runs on it (CREATE_IN_PROGRESS)" in by_name["busy"]["reason"]
    assert {by_name[n]["outcome"] for n in ("dev", "web/web-dev", "web")} == {"adopted"}
    assert not (proton.workspace / "environments" / "legacy.yaml").exists()
    assert "could not be adopted" in done.stderr
