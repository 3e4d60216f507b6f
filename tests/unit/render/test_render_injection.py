"""Input values that would change a rendered template's YAML structure are refused by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import InputError
from protoncli.render.engine import render_bundle
from protoncli.render.model import RenderContext
from protoncli.specs.model import EnvironmentSpec
from protoncli.yamlio import parse_yaml

MANIFEST = """\
infrastructure:
  templates:
    - file: "{name}"
      rendering_engine: jinja
      template_language: cloudformation
"""
SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: EnvInput
  types:
    EnvInput:
      type: object
      properties:
        note: {type: string, default: "hello"}
        script: {type: string, default: "echo hi"}
        password: {type: string, format: password, default: "x"}
        names: {type: array, items: {type: string}, default: []}
"""
HEAD = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n"  # 4 lines
INJECTED = 'x"\n  Evil:\n    Type: AWS::IAM::User\n    Properties: {UserName: "y'


def render(tmp_path: Path, template: str, name: str = "cloudformation.yaml", **inputs: Any) -> str:
    root = tmp_path / "env"
    files = {
        "schema/schema.yaml": SCHEMA,
        "infrastructure/manifest.yaml": MANIFEST.format(name=name),
        f"infrastructure/{name}": template,
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    result = render_bundle(
        load_bundle(root),
        EnvironmentSpec(inputs=inputs, source="dev.yaml"),
        name="dev",
        context=RenderContext(),
    )
    return result.resources[0].files[name]


def refusal(tmp_path: Path, template: str, **inputs: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        render(tmp_path, template, **inputs)
    return caught.value


def everything(error: InputError) -> str:
    return "\n".join([error.message, error.hint or "", *error.details])


def test_a_value_that_closes_a_double_quoted_scalar_and_adds_a_resource_is_refused(tmp_path):
    template = HEAD + '      DisplayName: "{{ environment.inputs.note }}"\n'

    error = refusal(tmp_path, template, note=INJECTED)

    assert error.message == (
        "input 'note' (environment.inputs.note): the value would change the YAML structure of "
        "dev/cloudformation.yaml (rendered from infrastructure/cloudformation.yaml) at line 5: "
        "it holds a line break and a quote"
    )
    assert "Values that change a template" in (error.hint or "")
    assert "Evil" not in everything(error)


@pytest.mark.parametrize(
    ("line", "value"),
    [
        ("      DisplayName: {{ environment.inputs.note }}\n", "a\n  Evil: {Type: X}"),
        ("      DisplayName: {{ environment.inputs.note }}\n", "a: b"),
        ("      DisplayName: {{ environment.inputs.note }}\n", "!GetAtt Other.Arn"),
        ("      DisplayName: {{ environment.inputs.note }}\n", "*alias"),
        ("      DisplayName: '{{ environment.inputs.note }}'\n", "it's\n  Evil: 1\n  X: 'y"),
        ("      DisplayName: [{{ environment.inputs.note }}]\n", "a, b"),
        ("      DisplayName: a # {{ environment.inputs.note }}\n", "c\n  Evil: 1"),
        ("      DisplayName: x\n---\n{{ environment.inputs.note }}: 1\n", "a\n---\nb"),
    ],
)
def test_values_that_change_the_structure_where_they_land_are_refused(tmp_path, line, value):
    error = refusal(tmp_path, HEAD + line, note=value)

    assert error.message.startswith("input 'note' (environment.inputs.note): the value would ")
    assert value not in everything(error)


def test_a_line_break_that_leaves_a_block_scalar_is_refused(tmp_path):
    template = HEAD + "      Script: |\n        {{ environment.inputs.script }}\n"

    error = refusal(tmp_path, template, script="echo a\nEvil: 1")

    assert error.message.startswith("input 'script' (environment.inputs.script): ")
    assert error.message.endswith(" at line 6: it holds a line break")


def test_a_multi_line_value_indented_for_its_block_scalar_renders(tmp_path):
    template = HEAD + "      Script: |\n        {{ environment.inputs.script }}\n"

    text = render(tmp_path, template, script="echo a\n        echo b")

    assert yaml.safe_load(text)["Resources"]["Topic"]["Properties"]["Script"] == (
        "echo a\necho b\n"
    )


def test_a_json_template_refuses_a_quote_that_ends_its_string(tmp_path):
    template = (
        '{"Resources": {"T": {"Type": "AWS::SNS::Topic", '
        '"Properties": {"DisplayName": "{{ environment.inputs.note }}"}}}}'
    )

    error = refusal(tmp_path, template, name="cloudformation.json", note='a", "Evil": "b')

    assert "input 'note'" in error.message
    assert "dev/cloudformation.json" in error.message


def test_several_refused_values_are_listed_as_details(tmp_path):
    template = HEAD + (
        '      DisplayName: "{{ environment.inputs.note }}"\n'
        "      Other: {{ environment.inputs.names[0] }}\n"
    )

    error = refusal(tmp_path, template, note=INJECTED, names=["a\nEvil: 1"])

    assert error.message == (
        "dev/cloudformation.yaml: 2 input values would change the YAML structure of the "
        "template (rendered from infrastructure/cloudformation.yaml)"
    )
    assert error.details == [
        "input 'note' (environment.inputs.note), line 5: it holds a line break and a quote",
        "input 'names' (environment.inputs.names[0]), line 6: it holds a line break",
    ]


def test_a_secret_value_is_refused_without_being_shown(tmp_path):
    plain_value = 'p"w\nEvil: 1'
    template = HEAD + '      Password: "{{ environment.inputs.password }}"\n'

    error = refusal(tmp_path, template, password=plain_value)

    assert "input 'password'" in error.message
    assert plain_value not in everything(error)
    assert "Evil" not in everything(error)


@pytest.mark.parametrize(
    ("line", "value", "reads"),
    [
        ("      Url: {{ environment.inputs.note }}\n", "https://example.com/a?b=c", None),
        ("      Doc: '{{ environment.inputs.note }}'\n", '{"a": 1, "b": [2, 3]}', None),
        ('      Doc: "{{ environment.inputs.note }}"\n', "key: value, other #1", None),
        ("      Name: {{ environment.inputs.note }}\n", "two words and more", None),
        ("      Name: {{ environment.inputs.note }}\n", "80", 80),
        ('      Name: "{{ environment.inputs.note }}"\n', "", ""),
        ("      Name: !Sub '${AWS::StackName}-{{ environment.inputs.note }}'\n", "a b", None),
        ("      Name: {{ environment.inputs.note | tojson }}\n", 'a "quoted"\nline', None),
    ],
)
def test_ordinary_values_render(tmp_path, line, value, reads):
    text = render(tmp_path, HEAD + line, note=value)

    properties = parse_yaml(text, "t", ValueError, cloudformation=True)["Resources"]["Topic"][
        "Properties"
    ]
    landed = next(iter(properties.values()))
    if isinstance(landed, dict):  # !Sub
        landed = landed["Fn::Sub"]
        assert landed.endswith(value)
    else:
        assert landed == (value if reads is None else reads)


def test_template_logic_sees_the_plain_value(tmp_path):
    template = HEAD + (
        "{% if environment.inputs.note == 'big' %}      Size: large\n{% endif %}"
        "      Upper: {{ environment.inputs.note | upper }}\n"
        "      Joined: {{ 'pre-' ~ environment.inputs.note }}\n"
    )

    text = render(tmp_path, template, note="big")

    assert text.endswith("      Size: large\n      Upper: BIG\n      Joined: pre-big\n")


def test_a_broken_template_is_reported_as_a_template_error_not_a_value(tmp_path):
    from protoncli.errors import RenderError

    template = HEAD + '      A: "{{ environment.inputs.note }}\n'  # the template never closes it
    with pytest.raises(RenderError) as caught:
        render(tmp_path, template, note="a\nb")
    assert "invalid YAML" in caught.value.message
