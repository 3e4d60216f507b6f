"""What a user sees when a template cannot render: file:line, the full path, a hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import RenderError
from protoncli.render.engine import render_bundle
from protoncli.render.model import EnvironmentFacts, RenderContext
from protoncli.specs.io import parse_spec

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
  service_input_type: SvcInput
  types:
    SvcInput:
      type: object
      properties:
        port: {type: number, default: 80}
"""
SPEC = "proton: ServiceSpec\ninstances:\n  - {name: api-prod, environment: prod}\n"
HEAD = "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Properties:\n"  # 4 lines


def render(tmp_path: Path, template: str, name: str = "cloudformation.yaml", **context):
    root = tmp_path / "svc"
    files = {
        "schema/schema.yaml": SCHEMA,
        "instance_infrastructure/manifest.yaml": MANIFEST.format(name=name),
        f"instance_infrastructure/{name}": template,
    }
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    return render_bundle(
        load_bundle(root),
        parse_spec(SPEC, "spec.yaml"),
        name="api",
        context=RenderContext(**context),
    )


def render_error(tmp_path: Path, template: str, **context) -> RenderError:
    with pytest.raises(RenderError) as error:
        render(tmp_path, template, **context)
    return error.value


def test_undefined_environment_output_names_path_file_line_and_where_to_give_it(tmp_path):
    template = HEAD + "      A: 1\n      VpcId: {{ environment.outputs.VpcId }}\n"
    error = render_error(tmp_path, template)
    assert error.message == (
        "instance_infrastructure/cloudformation.yaml:6: 'environment.outputs.VpcId' is undefined"
    )
    assert error.hint == (
        "the environment 'prod' has no output VpcId; give it in --context "
        "(environments.prod.outputs) or use `| default(...)` / `is defined` where the value is "
        "optional"
    )


def test_defined_output_renders(tmp_path):
    template = HEAD + "      VpcId: {{ environment.outputs.VpcId }}\n"
    result = render(
        tmp_path, template, environments={"prod": EnvironmentFacts(outputs={"VpcId": "v"})}
    )
    assert "VpcId: v\n" in result.resources[0].files["cloudformation.yaml"]


def test_missing_component_output_fails_but_the_whole_object_does_not(tmp_path):
    ok = HEAD + "      All: '{{ service_instance.components.default.outputs }}'\n"
    assert "All: '{}'" in render(tmp_path, ok).resources[0].files["cloudformation.yaml"]
    bad = HEAD + "      Q: {{ service_instance.components.default.outputs.test }}\n"
    error = render_error(tmp_path, bad)
    assert error.message == (
        "instance_infrastructure/cloudformation.yaml:5: "
        "'service_instance.components.default.outputs.test' is undefined"
    )
    assert "no component is attached to the service instance 'api-prod'" in (error.hint or "")


def test_undefined_name_lists_what_the_template_can_use(tmp_path):
    error = render_error(tmp_path, HEAD + "      A: {{ pipeline.inputs.x }}\n")
    assert error.message == "instance_infrastructure/cloudformation.yaml:5: 'pipeline' is undefined"
    assert error.hint == "this template can use: environment, service, service_instance"


def test_undefined_input_says_it_is_not_in_the_schema_or_optional(tmp_path):
    error = render_error(tmp_path, HEAD + "      A: {{ service_instance.inputs.prot }}\n")
    assert error.message.endswith("'service_instance.inputs.prot' is undefined")
    assert error.hint is not None
    assert error.hint.startswith("the service instance 'api-prod' has no input 'prot'")


def test_syntax_error_names_file_and_line(tmp_path):
    error = render_error(tmp_path, HEAD + "      A: 1\n{% if %}\n{% endif %}\n")
    assert error.message == (
        "instance_infrastructure/cloudformation.yaml:6: Jinja syntax error: "
        "Expected an expression, got 'end of statement block'"
    )


def test_unescaped_dynamic_reference_is_explained(tmp_path):
    template = (
        HEAD + "      A: 1\n      MasterUsername: {{resolve:secretsmanager:Db:SecretString:user}}\n"
    )
    error = render_error(tmp_path, template)
    assert error.message == (
        "instance_infrastructure/cloudformation.yaml:6: unescaped CloudFormation dynamic "
        "reference {{resolve:secretsmanager:Db:SecretString:user}}: Jinja reads '{{' as the "
        "start of an expression"
    )
    assert error.hint == (
        "escape it for Jinja: {{ '{{resolve:secretsmanager:Db:SecretString:user}}' }}, "
        "or wrap it in {% raw %}...{% endraw %}"
    )


def test_escaped_dynamic_references_render_as_written(tmp_path):
    template = (
        HEAD
        + "      A: \"{{ '{{resolve:secretsmanager:Db:SecretString:user}}' }}\"\n"
        + '{% raw %}      B: "{{resolve:ssm:/app/key:1}}"\n{% endraw %}'
    )
    text = render(tmp_path, template).resources[0].files["cloudformation.yaml"]
    assert '      A: "{{resolve:secretsmanager:Db:SecretString:user}}"\n' in text
    assert '      B: "{{resolve:ssm:/app/key:1}}"\n' in text


@pytest.mark.parametrize(
    ("expression", "attribute"),
    [
        ("''.__class__.__mro__", "__class__"),
        ("cycler.__init__.__globals__", "__init__"),
        ("self.__dict__", "__dict__"),
        ("dict.mro()", "mro"),
        ("'{0.__class__}'.format(1)", "__class__"),
        ("lipsum.__globals__['os']", "__globals__"),
        ("service_instance.inputs.__class__", "__class__"),
    ],
)
def test_sandbox_escapes_are_refused_and_nothing_is_written(tmp_path, expression, attribute):
    error = render_error(tmp_path, HEAD + f"      A: {{{{ {expression} }}}}\n")
    assert error.message == (
        f"instance_infrastructure/cloudformation.yaml:5: the template tried to reach "
        f"'{attribute}', which the sandbox refuses"
    )
    assert "Traceback" not in error.message


def test_invalid_rendered_yaml_names_the_output_file_and_quotes_the_line(tmp_path):
    template = HEAD + "      A: {{ service_instance.inputs.port }}\n      B: [unclosed\n"
    error = render_error(tmp_path, template)
    assert error.message == (
        "prod/api-api-prod/cloudformation.yaml:6: invalid YAML: while parsing a flow sequence, "
        "expected ',' or ']', but got '<stream end>' "
        "(rendered from instance_infrastructure/cloudformation.yaml)"
    )
    assert error.hint == (
        "line 6 of the rendered file reads 'B: [unclosed'; "
        "check the template expressions that produce it"
    )


def test_rendered_value_that_breaks_yaml_is_quoted_in_the_hint(tmp_path):
    template = HEAD + "      A: {{ 'x: y: z' }}\n"
    error = render_error(tmp_path, template)
    assert error.message.startswith("prod/api-api-prod/cloudformation.yaml:5: invalid YAML:")
    assert error.hint == (
        "line 5 of the rendered file reads 'A: x: y: z'; "
        "check the template expressions that produce it"
    )


def test_template_without_resources_is_refused(tmp_path):
    error = render_error(tmp_path, "Outputs:\n  A:\n    Value: 1\n")
    assert (
        error.message
        == "prod/api-api-prod/cloudformation.yaml: the rendered template has no Resources section"
        " (rendered from instance_infrastructure/cloudformation.yaml)"
    )


def test_json_templates_parse(tmp_path):
    template = (
        '{"Resources": {"R": {"Type": "AWS::SNS::Topic",'
        ' "Properties": {"TopicName": "{{ service.name }}"}}}}'
    )
    result = render(tmp_path, template, name="template.json")
    assert (
        result.resources[0].files["template.json"]
        == template.replace("{{ service.name }}", "api") + "\n"
    )


def test_runtime_error_names_the_line(tmp_path):
    error = render_error(tmp_path, HEAD + "\n\n      A: {{ 1 // 0 }}\n")
    assert error.message == (
        "instance_infrastructure/cloudformation.yaml:7: "
        "template error: integer division or modulo by zero"
    )


def test_environment_templates_see_no_outputs(tmp_path):
    root = tmp_path / "env"
    for path, text in {
        "schema/schema.yaml": SCHEMA.replace("service_input_type", "environment_input_type"),
        "infrastructure/manifest.yaml": MANIFEST.format(name="cloudformation.yaml"),
        "infrastructure/cloudformation.yaml": HEAD + "      A: {{ environment.outputs.VpcId }}\n",
    }.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
    with pytest.raises(RenderError) as error:
        render_bundle(load_bundle(root), None, name="prod", context=RenderContext())
    assert error.value.message == (
        "infrastructure/cloudformation.yaml:5: 'environment.outputs' is undefined"
    )
    assert error.value.hint == (
        "an environment template sees environment.name, environment.account_id and "
        "environment.inputs; no outputs of other resources reach it"
    )
