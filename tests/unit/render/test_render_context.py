"""The --context file: documented form, strict shapes with file:line, warnings for unknown keys."""

from __future__ import annotations

import pytest

from protoncli.errors import UsageError
from protoncli.render.context import load_context
from protoncli.render.model import ComponentTarget, EnvironmentFacts, InstanceFacts

FULL = """\
region: eu-central-1
account_id: "111111111111"
environments:
  prod: {account_id: "222222222222", outputs: {VpcId: vpc-123, Port: 80, Public: true}}
  dev:
    outputs: {VpcId: vpc-dev}
service: {branch_name: main, repository_id: acme/app, repository_connection_arn: "arn:aws:x"}
instances:
  api-prod: {outputs: {Url: "https://api"}, component_outputs: {QueueUrl: "https://q"}}
  api-dev: {component_outputs: {}, component_name: jobs}
  api-test: {}
component: {environment: prod, service: api, instance: api-prod}
deployment_id: 7f0c
"""


def write(tmp_path, text, name="context.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_documented_form(tmp_path):
    context = load_context(write(tmp_path, FULL))
    assert context.region == "eu-central-1"
    assert context.account_id == "111111111111"
    assert context.environments == {
        "prod": EnvironmentFacts(
            "222222222222", {"VpcId": "vpc-123", "Port": "80", "Public": "true"}
        ),
        "dev": EnvironmentFacts("111111111111", {"VpcId": "vpc-dev"}),
    }
    assert context.service == {
        "branch_name": "main",
        "repository_id": "acme/app",
        "repository_connection_arn": "arn:aws:x",
    }
    assert context.instances == {
        "api-prod": InstanceFacts({"Url": "https://api"}, {"QueueUrl": "https://q"}),
        "api-dev": InstanceFacts({}, {}, "jobs"),
        "api-test": InstanceFacts(),
    }
    assert context.component == ComponentTarget("prod", "api", "api-prod")
    assert context.deployment_id == "7f0c"
    assert context.warnings == ()
    assert context.environment("unknown") == EnvironmentFacts("111111111111", {})


def test_empty_file_gives_defaults(tmp_path):
    context = load_context(write(tmp_path, ""))
    assert (context.region, context.account_id, context.component) == (
        "us-east-1",
        "000000000000",
        None,
    )


def test_json_context(tmp_path):
    text = '{\n  "region": "us-west-2",\n  "environments": {"prod": {"outputs": {"A": 1.5}}}\n}\n'
    context = load_context(write(tmp_path, text, "context.json"))
    assert context.region == "us-west-2"
    assert context.environments["prod"].outputs == {"A": "1.5"}


def test_json_shape_errors_carry_lines(tmp_path):
    text = '{\n  "region": "us-west-2",\n  "environments": []\n}\n'
    path = write(tmp_path, text, "context.json")
    with pytest.raises(UsageError) as error:
        load_context(path)
    assert error.value.message == f"{path}:3: 'environments' must be a mapping, not a list"


def test_invalid_json_names_the_line(tmp_path):
    path = write(tmp_path, '{\n  "region": \n}\n', "context.json")
    with pytest.raises(UsageError) as error:
        load_context(path)
    assert error.value.message.startswith(f"{path}:3: invalid JSON:")


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("- a\n", None, "a render context must be a mapping, not a list"),
        ("environments:\n  prod: [1]\n", 2, "'environments.prod' must be a mapping"),
        (
            "environments:\n  prod:\n    outputs:\n      A: [1, 2]\n",
            4,
            "'environments.prod.outputs.A' must be a string (outputs are strings), not a list",
        ),
        (
            "instances:\n  i:\n    outputs: text\n",
            3,
            "'instances.i.outputs' must be a mapping, not a str",
        ),
        (
            "service:\n  branch_name: {a: 1}\n",
            2,
            "'service.branch_name' must be a string, not a mapping",
        ),
        (
            "account_id: 12345\n",
            1,
            "'account_id' must be a 12-digit AWS account id, got 12345",
        ),
        ("component:\n  service: api\n", 1, "'component.environment' is required"),
        (
            "component:\n  environment: prod\n  service: api\n",
            1,
            "'component.service' and 'component.instance' go together: give both or neither",
        ),
    ],
)
def test_wrong_shapes_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(UsageError) as error:
        load_context(path)
    where = f"{path}:{line}" if line else str(path)
    assert error.value.message == f"{where}: {message}"


def test_unquoted_account_id_with_leading_zeros_explains_the_fix(tmp_path):
    path = write(tmp_path, "environments:\n  prod:\n    account_id: 000000000000\n")
    with pytest.raises(UsageError) as error:
        load_context(path)
    assert error.value.hint == 'quote account ids ("012345678901") so YAML keeps leading zeros'


def test_twelve_digit_number_account_is_accepted(tmp_path):
    context = load_context(write(tmp_path, "account_id: 123456789012\n"))
    assert context.account_id == "123456789012"


def test_unknown_keys_warn_with_line(tmp_path):
    text = "regoin: x\nenvironments:\n  prod:\n    outputz: {}\ninstances:\n  i: {colour: red}\n"
    path = write(tmp_path, text)
    context = load_context(path)
    assert context.warnings == (
        f"{path}:1: unknown key 'regoin' (ignored)",
        f"{path}:4: unknown key 'environments.prod.outputz' (ignored)",
        f"{path}:6: unknown key 'instances.i.colour' (ignored)",
    )


def test_missing_file(tmp_path):
    with pytest.raises(UsageError) as error:
        load_context(tmp_path / "nope.yaml")
    assert error.value.message == f"{tmp_path / 'nope.yaml'}: file not found"
