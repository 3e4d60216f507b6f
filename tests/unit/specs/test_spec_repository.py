"""A service's source repository: shapes of its three fields, the spec header keys, the git
remote URLs they default from, and a pipeline that reads one while it is empty."""

from __future__ import annotations

import pytest

from protoncli.blueprints.bundle import load_bundle
from protoncli.errors import ExitCode, InputError
from protoncli.render.engine import render_bundle
from protoncli.render.jinja_env import EmptyValueError
from protoncli.render.model import RenderContext
from protoncli.specs.io import dump_spec, parse_spec
from protoncli.specs.repository import branch_problem, connection_problem, repository_problem
from protoncli.workspace.vcs import repository_id_of_url

ARN = "arn:aws:codeconnections:us-east-1:111111111111:connection/abc-123"


@pytest.mark.parametrize("value", ["acme/web", "a-b.c_d/x.y-z", "group/sub/name", "o/n"])
def test_repository_ids(value):
    assert repository_problem(value) is None


@pytest.mark.parametrize(
    "value", ["acme", "acme/", "/web", "acme/web.git", "acme/.web", "acme/we b", "a/" + "x" * 200]
)
def test_bad_repository_ids(value):
    assert repository_problem(value) is not None


@pytest.mark.parametrize("value", ["main", "feature/x-1", "release/1.x", "v1.2", "a@b"])
def test_branch_names(value):
    assert branch_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "@",
        "-x",
        "/x",
        "x/",
        "x.",
        "x.lock",
        "a..b",
        "a@{b",
        "a//b",
        "a b",
        "a~b",
        "a^b",
        "a:b",
        "a?b",
        "a*b",
        "a[b",
        "a\\b",
        "a/.b",
        "a.lock/b",
        "a\tb",
    ],
)
def test_bad_branch_names(value):
    assert branch_problem(value) is not None


@pytest.mark.parametrize(
    "value",
    [
        ARN,
        "arn:aws:codestar-connections:eu-west-1:111111111111:connection/abc",
        "arn:aws-us-gov:codeconnections:us-gov-west-1:111111111111:connection/abc",
    ],
)
def test_connection_arns(value):
    assert connection_problem(value) is None


@pytest.mark.parametrize(
    "value",
    [
        "arn:aws:iam::111111111111:role/x",
        "arn:aws:codeconnections:us-east-1:1111:connection/abc",
        "arn:aws:codeconnections:us-east-1:111111111111:host/abc",
        "arn:aws:codeconnections::111111111111:connection/abc",
    ],
)
def test_bad_connection_arns(value):
    assert connection_problem(value) is not None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/acme/web.git", "acme/web"),
        ("https://github.com/acme/web", "acme/web"),
        ("https://user:token@gitlab.com/grp/sub/web.git", "grp/sub/web"),
        ("git@github.com:acme/web.git", "acme/web"),
        ("ssh://git@bitbucket.org:7999/acme/web.git", "acme/web"),
        ("/srv/git/web.git", None),
        ("file:///srv/git/web.git", None),
        ("git@github.com:web.git", None),
    ],
)
def test_repository_id_of_remote_urls(url, expected):
    assert repository_id_of_url(url) == expected


SPEC = f"""\
blueprint: web
version: "1.0"
repository_id: acme/web
branch_name: main
repository_connection_arn: {ARN}
proton: ServiceSpec
instances:
  - {{name: a, environment: dev}}
"""


def test_the_header_keys_are_read_and_written_back():
    spec = parse_spec(SPEC, "svc.yaml")
    assert spec.header["repository_id"] == "acme/web"
    assert spec.header["repository_connection_arn"] == ARN
    assert parse_spec(dump_spec(spec), "again.yaml").header == spec.header


def test_a_header_key_of_the_wrong_shape_is_an_error_naming_file_and_line():
    with pytest.raises(InputError) as error:
        parse_spec(SPEC.replace("acme/web", "acme"), "svc.yaml")
    assert error.value.message.startswith("svc.yaml:3: repository_id 'acme' is not OWNER/NAME")
    assert error.value.exit_code == ExitCode.USAGE


def test_an_environment_spec_has_no_repository_keys():
    text = "repository_id: acme/web\nproton: EnvironmentSpec\nspec: {}\n"
    assert "repository_id" not in parse_spec(text, "env.yaml").header


MANIFEST = """\
infrastructure:
  templates:
    - file: "cloudformation.yaml"
      rendering_engine: jinja
      template_language: cloudformation
"""
SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  service_input_type: SvcInput
  pipeline_input_type: PipeInput
  types:
    SvcInput: {type: object, properties: {}}
    PipeInput: {type: object, properties: {}}
"""


def bundle(tmp_path, pipeline_body):
    files = {
        "schema/schema.yaml": SCHEMA,
        "instance_infrastructure/manifest.yaml": MANIFEST,
        "instance_infrastructure/cloudformation.yaml": "Resources: {}\n",
        "pipeline_infrastructure/manifest.yaml": MANIFEST,
        "pipeline_infrastructure/cloudformation.yaml": (
            "Resources:\n  R:\n    Type: AWS::SNS::Topic\n    Metadata:\n" + pipeline_body
        ),
    }
    for name, text in files.items():
        path = tmp_path / "svc" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return load_bundle(tmp_path / "svc")


BARE = "proton: ServiceSpec\ninstances:\n  - {name: a, environment: dev}\n"


def test_a_pipeline_reading_an_empty_field_is_a_usage_error_naming_the_flags(tmp_path):
    body = "      repo: 'https://github.com/{{ service.repository_id }}.git'\n"
    with pytest.raises(EmptyValueError) as error:
        render_bundle(
            bundle(tmp_path, body), parse_spec(BARE, "s.yaml"), name="web", context=RenderContext()
        )
    assert error.value.exit_code == ExitCode.USAGE
    assert error.value.message == (
        "pipeline_infrastructure/cloudformation.yaml:5: 'service.repository_id' is empty, "
        "and the template reads it"
    )
    assert "--repository OWNER/NAME" in (error.value.hint or "")
    assert "header key 'repository_id'" in (error.value.hint or "")


def test_a_pipeline_may_guard_an_empty_field_and_reads_the_spec_header(tmp_path):
    body = (
        "      arn: '{{ service.repository_connection_arn | default(\"none\") }}'\n"
        "      has: '{{ service.branch_name is defined }}'\n"
        "      repo: '{{ service.repository_id }}'\n"
    )
    spec = parse_spec("repository_id: acme/web\n" + BARE, "s.yaml")
    result = render_bundle(bundle(tmp_path, body), spec, name="web", context=RenderContext())
    text = result.resources[-1].files["cloudformation.yaml"]
    assert "arn: 'none'" in text
    assert "has: 'False'" in text
    assert "repo: 'acme/web'" in text
