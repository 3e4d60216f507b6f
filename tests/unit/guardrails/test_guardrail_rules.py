"""Rule sets and their checks, run in Guard's engine: the starters' rules each broken by a
template, the paths and messages of violations, and the rule files refused."""

from __future__ import annotations

import builtins
from pathlib import Path
from typing import Any

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import ExitCode
from protoncli.guardrails.check import check_template
from protoncli.guardrails.rules import (
    GuardrailsError,
    RuleSet,
    bundle_rules,
    rule_names,
    rule_set_of,
)

pytest.importorskip("cfn_guard_rs")


def starter_rules(starters_dir: Path, name: str) -> RuleSet:
    return bundle_rules(load_bundle(starters_dir / name / "v1"))


def resources(**declared: dict[str, Any]) -> dict[str, Any]:
    return {"Resources": declared}


def group(*ingress: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "web", "SecurityGroupIngress": list(ingress)},
    }


def tcp(port: int, to: int | None = None, **source: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": to or port, **source}


def lines(rules: RuleSet, template: dict[str, Any]) -> list[str]:
    return [f"{v.severity} {v.line()}" for v in check_template(rules, template)]


SSH = "SSH (port 22) is open to the internet: allow it from known addresses only"
RDP = "RDP (port 3389) is open to the internet: allow it from known addresses only"
EVERY = "every port is open to the internet: allow traffic from known addresses only"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (resources(Sg=group(tcp(443, CidrIp="0.0.0.0/0"))), []),
        (resources(Sg=group(tcp(22, CidrIp="10.0.0.0/8"))), []),
        (resources(Sg={"Type": "AWS::EC2::SecurityGroup", "Properties": {}}), []),
        (resources(Sg=group(tcp(22, CidrIp={"Ref": "Allowed"}))), []),  # not known to be open
        (
            resources(Sg=group(tcp(80, CidrIp="0.0.0.0/0"), tcp(22, CidrIp="0.0.0.0/0"))),
            [(f"error no_public_admin_ingress: Sg (AWS::EC2::SecurityGroup) "
             f"SecurityGroupIngress[1]: {SSH}")],
        ),
        (
            resources(Sg=group(tcp(1000, 4000, CidrIpv6="::/0"))),
            [(f"error no_public_admin_ingress: Sg (AWS::EC2::SecurityGroup) "
             f"SecurityGroupIngress[0]: {RDP}")],
        ),
        (
            resources(Sg=group({"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"})),
            [(f"error no_public_admin_ingress: Sg (AWS::EC2::SecurityGroup) "
             f"SecurityGroupIngress[0].IpProtocol: {EVERY}")],
        ),
        (
            resources(
                In={
                    "Type": "AWS::EC2::SecurityGroupIngress",
                    "Properties": {"GroupId": "sg-1", **tcp(3389, CidrIp="0.0.0.0/0")},
                }
            ),
            [f"error no_public_admin_ingress: In (AWS::EC2::SecurityGroupIngress): {RDP}"],
        ),
    ],
)  # fmt: skip
def test_no_public_admin_ingress(
    starters_dir: Path, template: dict[str, Any], expected: list[str]
) -> None:
    assert lines(starter_rules(starters_dir, "vpc-ecs-env"), template) == expected


def test_log_group_retention_is_a_warning(starters_dir: Path) -> None:
    rules = starter_rules(starters_dir, "vpc-ecs-env")
    kept = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}}
    assert lines(rules, resources(Logs=kept)) == []
    assert lines(rules, resources(Logs={"Type": "AWS::Logs::LogGroup"})) == [
        (
            "warning log_group_retention_set: Logs (AWS::Logs::LogGroup) RetentionInDays: "
            "set RetentionInDays: without it, events are kept forever"
        )
    ]


def test_s3_bucket_encrypted(starters_dir: Path) -> None:
    rules = starter_rules(starters_dir, "fargate-web-svc")
    encryption = {"ServerSideEncryptionConfiguration": [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}
    ]}  # fmt: skip
    good = {"Type": "AWS::S3::Bucket", "Properties": {"BucketEncryption": encryption}}
    assert lines(rules, resources(Store=good)) == []
    (violation,) = check_template(rules, resources(Store={"Type": "AWS::S3::Bucket"}))
    assert (violation.rule, violation.severity, violation.resource) == (
        "s3_bucket_encrypted",
        "error",
        "Store",
    )
    assert violation.resource_type == "AWS::S3::Bucket"
    assert violation.property is not None
    assert violation.property.startswith("BucketEncryption.")
    assert (
        violation.message
        == "set BucketEncryption with AES256 or aws:kms: data at rest is encrypted"
    )


@pytest.mark.parametrize(
    ("properties", "broken"),
    [
        ({"SqsManagedSseEnabled": True}, False),
        ({"KmsMasterKeyId": "alias/jobs"}, False),
        ({"SqsManagedSseEnabled": False}, True),
        ({}, True),
        (None, True),
    ],
)
def test_sqs_queue_encrypted(
    starters_dir: Path, properties: dict[str, Any] | None, broken: bool
) -> None:
    queue: dict[str, Any] = {"Type": "AWS::SQS::Queue"}
    if properties is not None:
        queue["Properties"] = properties
    found = lines(starter_rules(starters_dir, "sqs-queue-component"), resources(Jobs=queue))
    expected = (
        "error sqs_queue_encrypted: Jobs (AWS::SQS::Queue): set SqsManagedSseEnabled: true, "
        "or KmsMasterKeyId: messages at rest are encrypted"
    )
    assert found == ([expected] if broken else [])


def files(**texts: str) -> dict[str, bytes]:
    return {f"guardrails/{name}": text.encode() for name, text in texts.items()}


RULE = "rule has_resources {\n  Resources exists\n}\n"


def test_a_rule_without_a_message_says_what_guard_found() -> None:
    rules = rule_set_of(files(**{"a.guard": RULE}), "guardrails", str)
    (violation,) = check_template(rules, {"Outputs": {}})
    assert violation.resource is None
    assert violation.property == "Resources"
    assert "Resources" in violation.message
    assert "[L:" not in violation.message  # Guard's positions are left out


def test_rule_names_come_from_every_file_in_order() -> None:
    rules = rule_set_of(
        files(**{"b.guard": "rule second { Resources exists }\n", "a.guard": RULE}),
        "guardrails",
        str,
    )
    assert rules.names() == ("has_resources", "second")
    assert rules.severity("second") == "error"


@pytest.mark.parametrize(
    ("texts", "message"),
    [
        ({"x.guard": "rule x {\n  Resources exists\n"}, "guardrails/x.guard:"),
        ({"x.guard": "let only = Resources.*\n"}, "guardrails/x.guard: names no rule"),
        ({"x.guard": RULE, "y.guard": RULE}, "rule 'has_resources' is defined twice"),
        ({"x.guard": RULE, "guardrails.yaml": "rules: [a]\n"}, "not a severity file"),
        ({"x.guard": RULE, "guardrails.yaml": "rules:\n  has_resource: warning\n"},
         ("names rule 'has_resource', which no .guard file beside it defines (did you mean "
         "'has_resources'?)")),
        ({"guardrails.yaml": "rules: {}\n"}, "holds no .guard file"),
        ({"x.guard": "rule x { %nowhere exists }\n"}, "guardrails/x.guard"),
    ],
)  # fmt: skip
def test_rule_files_that_cannot_be_used(texts: dict[str, str], message: str) -> None:
    with pytest.raises(GuardrailsError) as raised:
        rule_set_of(files(**texts), "guardrails", str)
    error = raised.value
    assert message in error.message
    assert error.exit_code == ExitCode.ERROR


def test_a_registry_rule_and_a_blueprint_rule_of_one_name_are_refused() -> None:
    registry = rule_set_of(files(**{"r.guard": RULE}), "guardrails", lambda p: f"registry/{p}")
    bundle = rule_set_of(files(**{"b.guard": RULE}), "guardrails", lambda p: f"bundle/{p}")
    with pytest.raises(GuardrailsError, match=r"registry/guardrails/r\.guard and in bundle/"):
        registry.joined(bundle)
    assert registry.joined(RuleSet()) is registry


def test_without_guards_engine_the_message_names_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_guard(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("cfn_guard_rs"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    rule_names.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_guard)
    with pytest.raises(GuardrailsError) as raised:
        rule_set_of(files(**{"a.guard": RULE}), "guardrails", str)
    assert "cfn-guard-rs" in raised.value.message
    assert raised.value.hint is not None
    assert "pip install 'cfn-guard-rs" in raised.value.hint


# Guard's Python binding returns only the last 8 KiB block of a longer report; the check makes
# it again on parts of the template (guardrails/check.py). These templates break a rule in more
# places than one report holds.
BUCKETS = """\
let buckets = Resources.*[ Type == 'AWS::S3::Bucket' ]
rule encrypted when %buckets !empty {
  %buckets { Properties.BucketEncryption exists <<encrypt it>> }
}
rule some_log_group {
  Resources.*[ Type == 'AWS::Logs::LogGroup' ] !empty
  <<keep a log group>>
}
"""


def test_a_report_cut_short_is_made_again_on_parts_of_the_template() -> None:
    rules = rule_set_of(files(**{"b.guard": BUCKETS}), "guardrails", str)
    template = resources(
        Logs={"Type": "AWS::Logs::LogGroup"},
        **{f"Bucket{n}": {"Type": "AWS::S3::Bucket"} for n in range(60)},
    )
    found = check_template(rules, template)
    # every bucket, once; the rule about the whole template held there, so no part breaks it
    assert sorted(v.resource or "" for v in found) == sorted(f"Bucket{n}" for n in range(60))
    assert {v.rule for v in found} == {"encrypted"}
    without_logs = {"Resources": dict(list(template["Resources"].items())[1:])}
    assert {v.rule for v in check_template(rules, without_logs)} == {"encrypted", "some_log_group"}


def test_one_resource_breaking_a_rule_everywhere_is_named_without_the_places(
    starters_dir: Path,
) -> None:
    rules = starter_rules(starters_dir, "vpc-ecs-env")
    wide_open = group(*(tcp(port, CidrIp="0.0.0.0/0") for port in [22] * 40))
    (violation,) = check_template(rules, resources(Sg=wide_open))
    assert (violation.rule, violation.resource) == ("no_public_admin_ingress", "Sg")
    assert "more places than Guard's report can hold" in violation.message


def test_a_reader_waits_for_rules_being_replaced(tmp_path: Path) -> None:
    import threading

    from protoncli.guardrails.rules import replace_rule_folder, rule_files_in

    rules = tmp_path / ".guardrails"
    replace_rule_folder(rules, {"a.guard": RULE.encode()})
    assert rule_files_in(rules) == {"a.guard": RULE.encode()}
    # the moment between the old folder moved aside and the new one renamed in
    aside = tmp_path / ".guardrails-old-1234"
    rules.rename(aside)
    renamed = threading.Timer(0.2, aside.rename, (rules,))
    renamed.start()
    try:
        assert rule_files_in(rules) == {"a.guard": RULE.encode()}  # waited, read the rules
    finally:
        renamed.join()
    replace_rule_folder(rules, {})
    assert not rules.exists()
    assert rule_files_in(rules) == {}  # no rules, nothing aside: no wait
    assert sorted(p.name for p in tmp_path.iterdir()) == [".guardrails.lock"]


def test_rules_left_aside_by_an_interrupted_replacement_are_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import protoncli.guardrails.rules as rules_module

    monkeypatch.setattr(rules_module, "SWAP_WAIT", 0.1)
    (tmp_path / ".guardrails-old-1234").mkdir()
    with pytest.raises(GuardrailsError, match="its rules are being replaced"):
        rules_module.rule_files_in(tmp_path / ".guardrails")
