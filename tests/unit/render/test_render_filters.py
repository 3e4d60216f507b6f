"""Proton's CloudFormation filters: documented input/output pairs, quoting, validation."""

from __future__ import annotations

import pytest
import yaml

from protoncli.errors import RenderError
from protoncli.render.filters import indent_continuation, yaml_scalar
from protoncli.render.jinja_env import render_text
from protoncli.render.model import EnvironmentFacts, InstanceFacts
from protoncli.render.namespaces import Namespace, service_instance_namespace
from protoncli.render.prepass import add_indent_filters

FILE = "instance_infrastructure/cloudformation.yaml"
DOC_OUTPUTS = {"Output1": "hello", "Output2": "world"}


def namespace(component_outputs: dict[str, str] | None) -> Namespace:
    return service_instance_namespace(
        "svc",
        "inst",
        {},
        environment="env",
        environment_facts=EnvironmentFacts(),
        facts=InstanceFacts(component_outputs=component_outputs),
        repository=None,
    )


def test_ecs_filter_documented_pair():
    template = (
        "          Environment:\n"
        "            {{ service_instance.components.default.outputs\n"
        "              | proton_cfn_ecs_task_definition_formatted_env_vars }}"
    )
    assert render_text(template, FILE, namespace(DOC_OUTPUTS)) == (
        "          Environment:\n"
        "            - Name: Output1\n"
        "              Value: hello\n"
        "            - Name: Output2\n"
        "              Value: world"
    )


def test_lambda_filter_renders_a_mapping():
    template = (
        "        Variables:\n"
        "          {{ service_instance.components.default.outputs\n"
        "              | proton_cfn_lambda_function_formatted_env_vars }}"
    )
    assert render_text(template, FILE, namespace(DOC_OUTPUTS)) == (
        "        Variables:\n          Output1: hello\n          Output2: world"
    )


def test_iam_filter_after_an_existing_list_item_keeps_only_policy_arns():
    outputs = {
        "Policy1": "arn:aws:iam::123456789012:policy/cfn-generated-policy-name-1",
        "Queue": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "Role": "arn:aws:iam::123456789012:role/not-a-policy",
        "Policy2": "arn:aws:iam::123456789012:policy/cfn-generated-policy-name-2",
    }
    template = (
        "      ManagedPolicyArns:\n"
        "        - !Ref BaseTaskRoleManagedPolicy\n"
        "        {{ service_instance.components.default.outputs\n"
        "            | proton_cfn_iam_policy_arns }}"
    )
    assert render_text(template, FILE, namespace(outputs)) == (
        "      ManagedPolicyArns:\n"
        "        - !Ref BaseTaskRoleManagedPolicy\n"
        "        - arn:aws:iam::123456789012:policy/cfn-generated-policy-name-1\n"
        "        - arn:aws:iam::123456789012:policy/cfn-generated-policy-name-2"
    )


@pytest.mark.parametrize(
    "filter_name",
    [
        "proton_cfn_ecs_task_definition_formatted_env_vars",
        "proton_cfn_lambda_function_formatted_env_vars",
        "proton_cfn_iam_policy_arns",
    ],
)
def test_empty_outputs_render_nothing(filter_name):
    template = f"x:\n  {{{{ service_instance.components.default.outputs | {filter_name} }}}}\n"
    assert render_text(template, FILE, namespace(None)) == "x:\n  "


def test_one_line_expression_mid_line_indents_to_its_own_column():
    template = (
        "  Environment: [] # "
        "{{ service_instance.components.default.outputs | proton_cfn_iam_policy_arns }}"
    )
    outputs = {
        "A": "arn:aws:iam::123456789012:policy/a",
        "B": "arn:aws:iam::123456789012:policy/b",
    }
    rendered = render_text(template, FILE, namespace(outputs))
    column = template.index("{{")
    assert rendered.splitlines()[1] == " " * column + "- arn:aws:iam::123456789012:policy/b"


def test_prepass_keeps_line_count_and_skips_raw_comments_and_strings():
    source = (
        "a: {{ x | proton_cfn_iam_policy_arns }}\n"
        "{# {{ x | proton_cfn_iam_policy_arns }} #}\n"
        "{% raw %}{{ x | proton_cfn_iam_policy_arns }}{% endraw %}\n"
        "b: {{ '| proton_cfn_iam_policy_arns }}' }}\n"
        "c: {{- x\n   | proton_cfn_lambda_function_formatted_env_vars -}}\n"
    )
    rewritten = add_indent_filters(source)
    assert rewritten.count("\n") == source.count("\n")
    assert (
        rewritten.splitlines()[0] == "a: {{ ( x | proton_cfn_iam_policy_arns ) | _pcli_indent(3) }}"
    )
    assert rewritten.splitlines()[1:4] == source.splitlines()[1:4]
    assert rewritten.splitlines()[4:] == [
        "c: {{- ( x",
        "   | proton_cfn_lambda_function_formatted_env_vars ) | _pcli_indent(3) -}}",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("hello", "hello"),
        ("arn:aws:iam::123456789012:policy/p", "arn:aws:iam::123456789012:policy/p"),
        ("https://example.com/a?b=c", "https://example.com/a?b=c"),
        ("true", "'true'"),
        ("yes", "'yes'"),
        ("null", "'null'"),
        ("80", "'80'"),
        ("1.5", "'1.5'"),
        ("0o17", "'0o17'"),
        ("a: b", "'a: b'"),
        ("#x", "'#x'"),
        ("a #b", "'a #b'"),
        ("*ref", "'*ref'"),
        ("&anchor", "'&anchor'"),
        ("!Ref x", "'!Ref x'"),
        ("- item", "'- item'"),
        ("[1]", "'[1]'"),
        ("it's", "it's"),
        ("'quoted'", "'''quoted'''"),
        ("", "''"),
        (" padded ", "' padded '"),
        ("two\nlines", '"two\\nlines"'),
        ("tab\there", '"tab\\there"'),
    ],
)
def test_yaml_scalar_quotes_only_when_plain_yaml_would_change_the_value(value, expected):
    assert yaml_scalar(value) == expected
    assert yaml.safe_load(f"k: {yaml_scalar(value)}") == {"k": value}


def test_filter_values_come_out_as_valid_yaml_holding_the_strings():
    outputs = {"Flag": "true", "Port": "80", "Pair": "a: b", "Hash": "#x", "Star": "*x"}
    template = (
        "Environment:\n  {{ service_instance.components.default.outputs"
        " | proton_cfn_ecs_task_definition_formatted_env_vars }}\n"
        "Variables:\n  {{ service_instance.components.default.outputs"
        " | proton_cfn_lambda_function_formatted_env_vars }}\n"
    )
    document = yaml.safe_load(render_text(template, FILE, namespace(outputs)))
    assert document["Environment"] == [{"Name": k, "Value": v} for k, v in outputs.items()]
    assert document["Variables"] == outputs


@pytest.mark.parametrize(
    "filter_name",
    [
        "proton_cfn_ecs_task_definition_formatted_env_vars",
        "proton_cfn_lambda_function_formatted_env_vars",
    ],
)
def test_raw_false_refuses_unsafe_values(filter_name):
    template = (
        "a: 1\nb:\n  {{ service_instance.components.default.outputs"
        f" | {filter_name}(raw=False) }}}}\n"
    )
    outputs = {"Good": "ok_value-1", "Bad": "has space"}
    with pytest.raises(RenderError) as error:
        render_text(template, FILE, namespace(outputs))
    assert error.value.message == (
        f"{FILE}:3: {filter_name}(raw=False): the value of 'Bad' is 'has space', "
        "which does not match ^[a-zA-Z0-9_-]*$"
    )


def test_raw_false_accepts_safe_values():
    template = (
        "{{ service_instance.components.default.outputs"
        " | proton_cfn_lambda_function_formatted_env_vars(False) }}"
    )
    assert render_text(template, FILE, namespace({"A": "ok-1_x"})) == "A: ok-1_x"


@pytest.mark.parametrize(
    "value",
    ["simple-name_1", "arn:aws:s3:::my-bucket", "arn:aws:iam::123456789012:role/x", ""],
)
def test_sanitize_passes_safe_values_and_arns(value):
    ns = Namespace({"v": value})
    assert render_text("{{ v | proton_cfn_sanitize }}", FILE, ns) == value


def test_sanitize_refuses_with_the_documented_message():
    ns = Namespace({"v": "this::is::incorrect"})
    with pytest.raises(RenderError) as error:
        render_text("a: b\nc: {{ v | proton_cfn_sanitize }}", FILE, ns)
    assert error.value.message == (
        f"{FILE}:2: "
        'Illegal character(s) detected in "this::is::incorrect". '
        "Must match regex ^[a-zA-Z0-9_-]*$ or be a valid ARN"
    )


def test_filter_on_a_missing_output_names_the_path():
    template = "{{ service_instance.components.default.outputs.Nope | proton_cfn_sanitize }}"
    with pytest.raises(RenderError) as error:
        render_text(template, FILE, namespace({}))
    assert error.value.message == (
        f"{FILE}:1: 'service_instance.components.default.outputs.Nope' is undefined"
    )


def test_filter_needs_a_mapping():
    with pytest.raises(RenderError) as error:
        render_text("{{ 'text' | proton_cfn_iam_policy_arns }}", FILE, Namespace({}))
    assert error.value.message == (
        f"{FILE}:1: proton_cfn_iam_policy_arns expects a mapping (such as a component's outputs),"
        " got str"
    )


def test_indent_continuation_leaves_blank_lines_empty():
    assert indent_continuation("a\n\nb", 4) == "a\n\n    b"
    assert indent_continuation("one line", 4) == "one line"


def test_builtin_filters_used_by_official_templates():
    ns = Namespace({"name": "a-very-long-service-instance-name-here", "items": {"b": 1, "a": 2}})
    template = (
        "{{ name | truncate(29, true, 'zzz', 0) }}|{{ items | length }}|{{ items | tojson }}"
        "|{{ '<x>' | safe }}|{{ 'AbC' | lower }}|{{ name | replace('-', '') }}"
    )
    assert render_text(template, FILE, ns) == (
        'a-very-long-service-instanzzz|2|{"a": 2, "b": 1}|<x>|abc|averylongserviceinstancenamehere'
    )
