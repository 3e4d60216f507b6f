"""What a stack Proton created is, from its tags; what an adoption's change set does."""

from __future__ import annotations

from protoncli.deploy.adopt import CHANGES, NO_DIFFERENCE, REPLACES, verdict_of
from protoncli.deploy.model import Change, PropertyChange, StackInfo
from protoncli.state.proton import proton_stack, template_of

ARN = "arn:aws:proton:us-east-1:123456789012"


def info(name: str, tags: dict[str, str], status: str = "CREATE_COMPLETE") -> StackInfo:
    return StackInfo(name, f"id-{name}", status, None, tags, {}, None, None)


def test_the_item_comes_from_the_most_specific_proton_tag():
    tags = {
        "aws:proton:environment": f"{ARN}:environment/dev",
        "aws:proton:service": f"{ARN}:service/web",
        "aws:proton:service-instance": f"{ARN}:service/web/service-instance/web-dev",
        "aws:proton:template": f"{ARN}:service-template/fargate-svc",
    }
    found = proton_stack("us-east-1", None, info("AWSProton-web-web-dev-cloudformation-X", tags))
    assert found is not None
    assert (found.identity.kind, found.identity.name, found.identity.environment) == (
        "service-instance",
        "web/web-dev",
        "dev",
    )
    assert (found.blueprint, found.template_kind) == ("fargate-svc", "service")
    pipeline = {k: v for k, v in tags.items() if k in ("aws:proton:service", "aws:proton:template")}
    found = proton_stack("us-east-1", None, info("AWSProton-web-pipeline-X", pipeline))
    assert found is not None
    assert found.identity.key == ("pipeline", "web")


def test_other_stacks_are_not_protons():
    assert proton_stack("us-east-1", None, info("network", {"owner": "terraform"})) is None
    pcli_own = {"pcli:workspace": "demo", "pcli:kind": "environment", "pcli:environment": "dev"}
    assert proton_stack("us-east-1", None, info("pcli-demo-env-dev", pcli_own)) is None
    codebuild = {"aws:proton:environment": f"{ARN}:environment/dev"}
    assert proton_stack("us-east-1", None, info("AWSProton-CodeBuild-dev-X", codebuild)) is None
    # Adopted: Proton's tags gone, pcli's there, the name kept.
    adopted = proton_stack("us-east-1", None, info("AWSProton-dev-cloudformation-X", pcli_own))
    assert adopted is not None
    assert adopted.adopted_by == "demo"


def test_template_arns_give_the_blueprint_and_a_version_when_there_is_one():
    assert template_of(f"{ARN}:environment-template/vpc-env") == ("environment", "vpc-env", None)
    assert template_of(f"{ARN}:service-template/web:2.1") == ("service", "web", "2.1")
    assert template_of("vpc-env") == (None, "vpc-env", None)


def tags_change(logical_id: str) -> Change:
    detail = PropertyChange("/Tags", "Tags", None, "Modify", None, None, "Never")
    return Change("Modify", logical_id, "AWS::SNS::Topic", "False", (detail,))


def test_a_change_set_of_tags_only_is_no_difference_and_a_replacement_is_called_out():
    assert verdict_of("NO_CHANGES", ()) == NO_DIFFERENCE
    assert verdict_of("CREATE_COMPLETE", (tags_change("Topic"),)) == NO_DIFFERENCE
    modify = Change("Modify", "Queue", "AWS::SQS::Queue", None)
    assert verdict_of("CREATE_COMPLETE", (tags_change("Topic"), modify)) == CHANGES
    replace = Change("Modify", "Queue", "AWS::SQS::Queue", "True")
    assert verdict_of("CREATE_COMPLETE", (modify, replace)) == REPLACES
    remove = Change("Remove", "Bucket", "AWS::S3::Bucket", None)
    assert verdict_of("CREATE_COMPLETE", (remove,)) == REPLACES
