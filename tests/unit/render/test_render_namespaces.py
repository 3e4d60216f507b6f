"""The parameter namespace each template kind sees, through real bundles rendered end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import NotFoundError, RenderError, UsageError
from protoncli.render.engine import render_bundle
from protoncli.render.model import (
    ComponentTarget,
    EnvironmentFacts,
    InstanceFacts,
    RenderContext,
)
from protoncli.specs.io import parse_spec

MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
ENV_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: EnvInput
  types:
    EnvInput:
      type: object
      properties:
        cidr: {type: string, default: "10.0.0.0/16"}
        size: {type: integer, default: 3}
        email: {type: string}
"""
SVC_SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: SvcInput
  pipeline_input_type: PipeInput
  types:
    SvcInput:
      type: object
      properties:
        port: {type: number, default: 80}
        flag: {type: boolean, default: true}
    PipeInput:
      type: object
      properties:
        cmd: {type: string, default: "make"}
"""
SVC_SPEC = """\
proton: ServiceSpec
pipeline: {cmd: "make test"}
instances:
  - {name: b-inst, environment: beta, spec: {port: 81}}
  - {name: a-inst, environment: alpha}
"""


def wrap(body: str) -> str:
    """A CloudFormation template whose Metadata holds `body` (YAML lines at 4 spaces)."""
    return f"Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Metadata:\n{body}\n"


def make_bundle(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def env_bundle(tmp_path: Path, body: str) -> Path:
    return make_bundle(
        tmp_path / "env",
        {
            "schema/schema.yaml": ENV_SCHEMA,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": wrap(body),
        },
    )


def svc_bundle(tmp_path: Path, instance_body: str, pipeline_body: str | None = None) -> Path:
    files = {
        "schema/schema.yaml": SVC_SCHEMA,
        "instance_infrastructure/manifest.yaml": MANIFEST,
        "instance_infrastructure/cloudformation.yaml": wrap(instance_body),
    }
    if pipeline_body is not None:
        files["pipeline_infrastructure/manifest.yaml"] = MANIFEST
        files["pipeline_infrastructure/cloudformation.yaml"] = wrap(pipeline_body)
    else:
        files["schema/schema.yaml"] = SVC_SCHEMA.replace("  pipeline_input_type: PipeInput\n", "")
    return make_bundle(tmp_path / "svc", files)


def metadata(result, folder: str):
    files = {r.folder: r for r in result.resources}
    text = files[folder].files["cloudformation.yaml"]
    return yaml.safe_load(text)["Resources"]["R"]["Metadata"]


def test_environment_namespace_has_name_account_and_inputs_with_defaults(tmp_path):
    body = (
        "      name: '{{ environment.name }}'\n"
        "      account: '{{ environment.account_id }}'\n"
        "      cidr: '{{ environment.inputs.cidr }}'\n"
        "      size: {{ environment.inputs.size }}\n"
        "      email: {{ environment.inputs.email is defined }}\n"
    )
    spec = parse_spec("proton: EnvironmentSpec\nspec:\n  cidr: 10.9.0.0/16\n", "env.yaml")
    context = RenderContext(environments={"prod": EnvironmentFacts(account_id="123456789012")})
    result = render_bundle(
        load_bundle(env_bundle(tmp_path, body)), spec, name="prod", context=context
    )
    assert metadata(result, "prod") == {
        "name": "prod",
        "account": "123456789012",
        "cidr": "10.9.0.0/16",
        "size": 3,
        "email": False,
    }
    (resource,) = result.resources
    assert resource.kind == "environment"
    assert resource.identifier == "arn:aws:pcli:us-east-1:000000000000:environment/prod"
    assert resource.inputs == {"cidr": "10.9.0.0/16", "size": 3}


def test_environment_account_defaults_to_the_management_account(tmp_path):
    body = "      account: '{{ environment.account_id }}'"
    context = RenderContext(account_id="555555555555")
    result = render_bundle(load_bundle(env_bundle(tmp_path, body)), None, name="e", context=context)
    assert metadata(result, "e") == {"account": "555555555555"}


def test_optional_input_given_in_the_spec_is_defined(tmp_path):
    body = "      email: {{ environment.inputs.email | default('none') }}"
    spec = parse_spec("proton: EnvironmentSpec\nspec:\n  email: ops@example.com\n", "env.yaml")
    result = render_bundle(
        load_bundle(env_bundle(tmp_path, body)), spec, name="e", context=RenderContext()
    )
    assert metadata(result, "e") == {"email": "ops@example.com"}


def test_service_instance_namespace(tmp_path):
    body = (
        "      service: '{{ service.name }}'\n"
        "      repo: {{ service.repository_id is defined }}\n"
        "      instance: '{{ service_instance.name }}'\n"
        "      port: {{ service_instance.inputs.port }}\n"
        "      flag: {{ service_instance.inputs.flag }}\n"
        "      env: '{{ environment.name }}/{{ environment.account_id }}'\n"
        "      alias: '{{ service_instance.environment.outputs.Vpc }}'\n"
        "      vpc: '{{ environment.outputs.Vpc }}'\n"
        "      components: '{{ service_instance.components.default.outputs }}'\n"
        "      component: {{ service_instance.components.default.name is defined }}\n"
    )
    context = RenderContext(
        environments={
            "beta": EnvironmentFacts("111111111111", {"Vpc": "vpc-b"}),
            "alpha": EnvironmentFacts("111111111111", {"Vpc": "vpc-a"}),
        },
    )
    spec = parse_spec(SVC_SPEC.replace('pipeline: {cmd: "make test"}\n', ""), "svc.yaml")
    result = render_bundle(
        load_bundle(svc_bundle(tmp_path, body)), spec, name="web", context=context
    )
    assert metadata(result, "beta/web-b-inst") == {
        "service": "web",
        "repo": False,
        "instance": "b-inst",
        "port": 81,
        "flag": True,
        "env": "beta/111111111111",
        "alias": "vpc-b",
        "vpc": "vpc-b",
        "components": "{}",
        "component": False,
    }
    assert [r.folder for r in result.resources] == ["beta/web-b-inst", "alpha/web-a-inst"]
    assert result.resources[0].identifier == (
        "arn:aws:pcli:us-east-1:000000000000:service/web/service-instance/b-inst"
    )


def test_service_instance_of_a_pipeline_service_has_repository_fields(tmp_path):
    body = (
        "      branch: '{{ service.branch_name }}'\n"
        "      repo: '{{ service.repository_id }}'\n"
        "      arn: '{{ service.repository_connection_arn }}'\n"
        "      component: '{{ service_instance.components.default.name | default('-') }}'\n"
        "      queue: '{{ service_instance.components.default.outputs.Queue | default('-') }}'\n"
    )
    context = RenderContext(
        service={"branch_name": "main"},
        instances={
            "b-inst": InstanceFacts(component_outputs={"Queue": "q"}, component_name="jobs")
        },
    )
    bundle = load_bundle(svc_bundle(tmp_path, body, "      p: x"))
    result = render_bundle(bundle, parse_spec(SVC_SPEC, "svc.yaml"), name="web", context=context)
    assert metadata(result, "beta/web-b-inst") == {
        "branch": "main",
        "repo": "",
        "arn": "",
        "component": "jobs",
        "queue": "q",
    }


PIPELINE_BODY = """\
      pipeline: '{{ pipeline.inputs.cmd }}'
      service: '{{ service.name }}@{{ service.branch_name }}'
      stages:
        - Name: Build {%- for service_instance in service_instances %}
        - Name: '{{ loop.index }}-{{ service_instance.name }}'
          Port: {{ service_instance.inputs.port }}
          Url: '{{ service_instance.outputs.Url | default("none") }}'
          Env: '{{ service_instance.environment.name }}:{{
            service_instance.environment.account_id }}'
          Vpc: '{{ service_instance.environment.outputs.Vpc | default("-") }}'
{%- endfor %}
      first: '{{ service_instances[0].name }}'"""


def test_pipeline_namespace_loops_over_instances_in_spec_order(tmp_path):
    context = RenderContext(
        service={"branch_name": "dev", "repository_id": "acme/web"},
        instances={"a-inst": InstanceFacts(outputs={"Url": "https://a"})},
        environments={"alpha": EnvironmentFacts("222222222222", {"Vpc": "vpc-a"})},
    )
    bundle = load_bundle(svc_bundle(tmp_path, "      i: x", PIPELINE_BODY))
    result = render_bundle(bundle, parse_spec(SVC_SPEC, "svc.yaml"), name="web", context=context)
    pipeline = result.resources[-1]
    assert (pipeline.kind, pipeline.folder, pipeline.name) == ("pipeline", "web/pipeline", "web")
    assert pipeline.identifier == "arn:aws:pcli:us-east-1:000000000000:service/web/pipeline"
    assert metadata(result, "web/pipeline") == {
        "pipeline": "make test",
        "service": "web@dev",
        "stages": [
            {"Name": "Build"},
            {
                "Name": "1-b-inst",
                "Port": 81,
                "Url": "none",
                "Env": "beta:000000000000",
                "Vpc": "-",
            },
            {
                "Name": "2-a-inst",
                "Port": 80,
                "Url": "https://a",
                "Env": "alpha:222222222222",
                "Vpc": "vpc-a",
            },
        ],
        "first": "b-inst",
    }


def test_pipeline_instances_have_inputs_not_input(tmp_path):
    body = "      x: '{{ service_instances[0].input }}'"
    bundle = load_bundle(svc_bundle(tmp_path, "      i: x", body))
    with pytest.raises(RenderError) as error:
        render_bundle(bundle, parse_spec(SVC_SPEC, "svc.yaml"), name="web", context=RenderContext())
    assert error.value.message == (
        "pipeline_infrastructure/cloudformation.yaml:5: 'service_instances[0].input' is undefined"
    )


COMPONENT_TEMPLATE = """\
Resources:
  R:
    Type: AWS::SNS::Topic
    Metadata:
      component: '{{ component.name }}'
      env: '{{ environment.name }}:{{ environment.account_id }}:{{ environment.outputs.Vpc }}'
      attached: {{ service_instance is defined }}
{%- if service_instance is defined %}
      service: '{{ service.name }}'
      instance: '{{ service_instance.name }}'
      port: {{ service_instance.inputs.port }}
{%- endif %}
"""


def component_bundle(tmp_path: Path, template: str = COMPONENT_TEMPLATE):
    files = {"manifest.yaml": MANIFEST, "cloudformation.yaml": template}
    return load_bundle(make_bundle(tmp_path / "comp", files))


def test_attached_component_namespace(tmp_path):
    context = RenderContext(
        environments={"beta": EnvironmentFacts("333333333333", {"Vpc": "vpc-b"})},
        component=ComponentTarget("beta", "web", "b-inst"),
    )
    spec = parse_spec(SVC_SPEC, "svc.yaml")
    result = render_bundle(component_bundle(tmp_path), spec, name="queue", context=context)
    (resource,) = result.resources
    assert (resource.kind, resource.folder) == ("component", "beta/queue")
    assert resource.identifier == "arn:aws:pcli:us-east-1:000000000000:component/queue"
    assert metadata(result, "beta/queue") == {
        "component": "queue",
        "env": "beta:333333333333:vpc-b",
        "attached": True,
        "service": "web",
        "instance": "b-inst",
        "port": 81,
    }


def test_detached_component_namespace(tmp_path):
    context = RenderContext(
        environments={"beta": EnvironmentFacts(outputs={"Vpc": "v"})},
        component=ComponentTarget("beta"),
    )
    result = render_bundle(component_bundle(tmp_path), None, name="queue", context=context)
    assert metadata(result, "beta/queue") == {
        "component": "queue",
        "env": "beta:000000000000:v",
        "attached": False,
    }


def test_detached_component_referencing_the_service_says_it_is_detached(tmp_path):
    template = "Resources:\n  R:\n    Type: T\n    Metadata: {a: '{{ service.name }}'}\n"
    context = RenderContext(component=ComponentTarget("beta"))
    with pytest.raises(RenderError) as error:
        render_bundle(component_bundle(tmp_path, template), None, name="q", context=context)
    assert error.value.message == "cloudformation.yaml:4: 'service' is undefined"
    assert "detached" in (error.value.hint or "")


def test_attached_component_needs_the_service_spec(tmp_path):
    context = RenderContext(component=ComponentTarget("beta", "web", "b-inst"))
    with pytest.raises(UsageError) as error:
        render_bundle(component_bundle(tmp_path), None, name="queue", context=context)
    assert "give that service's spec" in error.value.message


def test_attached_component_instance_must_be_in_the_spec(tmp_path):
    context = RenderContext(component=ComponentTarget("beta", "web", "nope"))
    spec = parse_spec(SVC_SPEC, "svc.yaml")
    with pytest.raises(NotFoundError) as error:
        render_bundle(component_bundle(tmp_path), spec, name="queue", context=context)
    assert error.value.message == (
        "svc.yaml: the service spec has no instance 'nope' (it has: b-inst, a-inst)"
    )


def test_component_bundle_needs_a_target(tmp_path):
    with pytest.raises(UsageError) as error:
        render_bundle(component_bundle(tmp_path), None, name="queue", context=RenderContext())
    assert error.value.message == "component 'queue': the context does not say where it goes"


def test_placeholder_outputs_fill_missing_outputs(tmp_path):
    body = (
        "      vpc: '{{ environment.outputs.Vpc }}'\n"
        "      queue: '{{ service_instance.components.default.outputs.Queue }}'\n"
    )
    context = RenderContext(placeholder_outputs=True)
    spec = parse_spec(SVC_SPEC.replace('pipeline: {cmd: "make test"}\n', ""), "svc.yaml")
    result = render_bundle(
        load_bundle(svc_bundle(tmp_path, body)), spec, name="web", context=context
    )
    assert metadata(result, "beta/web-b-inst") == {
        "vpc": "placeholder-Vpc",
        "queue": "placeholder-Queue",
    }


@pytest.mark.parametrize(
    ("which", "spec_text", "message"),
    [
        (
            "env",
            "proton: ServiceSpec\ninstances: []\n",
            "a ServiceSpec was given for an environment blueprint",
        ),
        (
            "svc",
            "proton: EnvironmentSpec\nspec: {}\n",
            "an EnvironmentSpec was given for a service blueprint",
        ),
        (
            "comp",
            "proton: EnvironmentSpec\nspec: {}\n",
            "an EnvironmentSpec was given for a component blueprint",
        ),
    ],
)
def test_spec_kind_must_match_the_bundle(tmp_path, which, spec_text, message):
    bundle = {
        "env": lambda: load_bundle(env_bundle(tmp_path, "      a: b")),
        "svc": lambda: load_bundle(svc_bundle(tmp_path, "      a: b")),
        "comp": lambda: component_bundle(tmp_path),
    }[which]()
    context = RenderContext(component=ComponentTarget("beta"))
    with pytest.raises(UsageError) as error:
        render_bundle(bundle, parse_spec(spec_text, "s.yaml"), name="x", context=context)
    assert error.value.message == f"s.yaml: {message}"


def test_invalid_resource_names_are_refused(tmp_path):
    bundle = load_bundle(env_bundle(tmp_path, "      a: b"))
    with pytest.raises(UsageError) as error:
        render_bundle(bundle, None, name="../etc", context=RenderContext())
    assert error.value.message == "invalid environment name '../etc'"


def test_non_string_inputs_render_as_python_renders_them(tmp_path):
    schema = ENV_SCHEMA.replace(
        "        email: {type: string}\n",
        "        email: {type: string}\n"
        "        enabled: {type: boolean, default: true}\n"
        "        zones: {type: array, items: {type: string}, default: [a, b]}\n",
    )
    root = make_bundle(
        tmp_path / "env",
        {
            "schema/schema.yaml": schema,
            "infrastructure/manifest.yaml": MANIFEST,
            "infrastructure/cloudformation.yaml": wrap(
                '      text: "{{ environment.inputs.size }} {{ environment.inputs.enabled }} '
                '{{ environment.inputs.zones }}"'
            ),
        },
    )
    result = render_bundle(load_bundle(root), None, name="e", context=RenderContext())
    assert metadata(result, "e") == {"text": "3 True ['a', 'b']"}


def test_whole_component_objects_render_without_a_component(tmp_path):
    body = (
        '      default: "{{ service_instance.components.default }}"\n'
        '      outputs: "{{ service_instance.components.default.outputs }}"\n'
    )
    spec = parse_spec(SVC_SPEC.replace('pipeline: {cmd: "make test"}\n', ""), "svc.yaml")
    result = render_bundle(
        load_bundle(svc_bundle(tmp_path, body)), spec, name="web", context=RenderContext()
    )
    assert metadata(result, "beta/web-b-inst") == {"default": "{'outputs': {}}", "outputs": "{}"}


def test_lint_style_render_of_an_attached_component_without_a_spec(tmp_path):
    context = RenderContext(
        component=ComponentTarget("beta", "web", "b-inst"), placeholder_outputs=True
    )
    result = render_bundle(component_bundle(tmp_path), None, name="queue", context=context)
    assert metadata(result, "beta/queue") == {
        "component": "queue",
        "env": "beta:000000000000:placeholder-Vpc",
        "attached": True,
        "service": "web",
        "instance": "b-inst",
        "port": "placeholder-port",
    }
