from __future__ import annotations

import textwrap

import pytest

from protoncli.errors import BundleError
from protoncli.schema.parse import parse_schema

SOURCE = "schema/schema.yaml"


def service_schema(properties: str, *, required: str = "") -> str:
    """A service schema whose input type has the given (indented) property block."""
    head = textwrap.dedent(
        """\
        schema:
          format:
            openapi: "3.0.0"
          service_input_type: "WorkerInput"
          types:
            WorkerInput:
              type: object
              description: "Inputs of a queue worker"
              properties:
        """
    )
    body = textwrap.indent(textwrap.dedent(properties), " " * 8)
    tail = textwrap.indent(textwrap.dedent(required), " " * 6) if required else ""
    return head + body + tail


def parse_error(text: str) -> BundleError:
    with pytest.raises(BundleError) as caught:
        parse_schema(text, SOURCE)
    return caught.value


def all_messages(error: BundleError) -> list[str]:
    return error.details or [error.message]


def test_environment_schema_keeps_properties_in_file_order():
    text = textwrap.dedent(
        """\
        schema:
          format:
            openapi: "3.0.0"
          environment_input_type: "NetworkInput"
          types:
            NetworkInput:
              type: object
              description: "Network of one stage"
              properties:
                zeta_cidr:
                  type: string
                  default: "10.1.0.0/16"
                alpha_zones:
                  type: integer
                  minimum: 1
                  maximum: 6
                middle_flag:
                  type: boolean
              required:
                - alpha_zones
        """
    )
    schema = parse_schema(text, SOURCE)
    assert schema.kind == "environment"
    assert schema.source == SOURCE
    assert schema.pipeline is None
    assert schema.main.name == "NetworkInput"
    assert schema.main.description == "Network of one stage"
    assert [item.name for item in schema.main.inputs] == ["zeta_cidr", "alpha_zones", "middle_flag"]
    zeta, alpha, middle = schema.main.inputs
    assert (zeta.type, zeta.required, zeta.has_default, zeta.default) == (
        "string",
        False,
        True,
        "10.1.0.0/16",
    )
    assert (alpha.type, alpha.required, alpha.has_default) == ("integer", True, False)
    assert (middle.type, middle.has_default, middle.default) == ("boolean", False, None)


def test_service_schema_with_pipeline_and_every_keyword():
    text = textwrap.dedent(
        """\
        schema:
          format:
            openapi: "3.0.0"
          service_input_type: "WorkerInput"
          pipeline_input_type: "BuildInput"
          types:
            WorkerInput:
              type: object
              properties:
                queue_name:
                  title: "Queue"
                  type: string
                  description: "Name of the queue to poll"
                  pattern: "[a-z-]+"
                  minLength: 3
                  maxLength: 80
                  example: "orders"
                concurrency:
                  type: number
                  minimum: 1
                  maximum: 64
                  default: 4
                tier:
                  type: string
                  enum: ["bronze", "silver", "gold"]
                  default: bronze
                api_token:
                  type: string
                  format: password
                extra_args:
                  type: array
                  minItems: 0
                  maxItems: 5
                  items:
                    type: string
                    pattern: "^--"
                    minLength: 3
                    maxLength: 40
                ports:
                  type: array
                  items: {type: integer, minimum: 1, maximum: 65535, enum: [80, 443]}
              required: [queue_name]
            BuildInput:
              type: object
              properties:
                build_image:
                  type: string
                  default: "builder:latest"
        """
    )
    schema = parse_schema(text, SOURCE)
    assert schema.kind == "service"
    assert schema.pipeline is not None
    assert schema.pipeline.name == "BuildInput"
    assert [item.name for item in schema.pipeline.inputs] == ["build_image"]
    queue = schema.main.get("queue_name")
    assert queue is not None
    assert queue.label == "Queue"
    assert queue.description == "Name of the queue to poll"
    assert queue.required
    assert queue.raw is not None
    assert queue.raw["example"] == "orders"
    tier = schema.main.get("tier")
    assert tier is not None
    assert tier.enum == ("bronze", "silver", "gold")
    assert tier.default == "bronze"
    token = schema.main.get("api_token")
    assert token is not None
    assert token.secret
    assert not queue.secret
    extra = schema.main.get("extra_args")
    assert extra is not None
    assert extra.type == "array"
    assert extra.raw is not None
    assert extra.raw["items"]["pattern"] == "^--"


def test_flow_style_schema_is_read():
    text = (
        '{schema: {format: {openapi: "3.0.0"}, environment_input_type: E, '
        "types: {E: {type: object, properties: {size: {type: string}}}}}}"
    )
    schema = parse_schema(text, SOURCE)
    assert [item.name for item in schema.main.inputs] == ["size"]


def test_type_without_properties_has_no_inputs():
    text = textwrap.dedent(
        """\
        schema:
          format: {openapi: "3.0.0"}
          environment_input_type: Empty
          types:
            Empty:
              type: object
        """
    )
    assert parse_schema(text, SOURCE).main.inputs == ()


@pytest.mark.parametrize(
    ("properties", "line", "expected"),
    [
        (
            "settings:\n  type: object\n  properties: {a: {type: string}}\n",
            11,
            (
                "type 'WorkerInput', property 'settings': nested objects (type: object) are not "
                "supported; an input is one of string, number, integer, boolean, array"
            ),
        ),
        (
            "stage:\n  $ref: '#/Stage'\n",
            11,
            (
                "type 'WorkerInput', property 'stage': '$ref' is not supported; write the property "
                "inline with a type (string, number, integer, boolean or array)"
            ),
        ),
        (
            "size:\n  oneOf: [{type: string}, {type: number}]\n",
            11,
            (
                "type 'WorkerInput', property 'size': 'oneOf' is not supported; give the property "
                "a single type (string, number, integer, boolean or array)"
            ),
        ),
        (
            "size:\n  description: no type here\n",
            10,
            (
                "type 'WorkerInput', property 'size': has no type "
                "(give type: string, number, integer, boolean, array)"
            ),
        ),
        (
            "size:\n  type: strng\n",
            11,
            (
                "type 'WorkerInput', property 'size': type 'strng' is not supported "
                "(use one of string, number, integer, boolean, array) (did you mean 'string'?)"
            ),
        ),
        (
            "size:\n  type: string\n  nullable: true\n",
            12,
            (
                "type 'WorkerInput', property 'size': keyword 'nullable' is not supported "
                "(allowed: type, title, description, format, enum, pattern, minLength, maxLength, "
                "minimum, maximum, default, example, minItems, maxItems, items)"
            ),
        ),
        (
            "size:\n  type: string\n  maxlength: 3\n",
            12,
            "keyword 'maxlength' is not supported (did you mean 'maxLength'?)",
        ),
        (
            "names:\n  type: array\n",
            10,
            (
                "type 'WorkerInput', property 'names': an array needs items with a type, "
                "such as items: {type: string}"
            ),
        ),
        (
            "names:\n  type: array\n  items: {type: object}\n",
            12,
            (
                "property 'names', items: arrays of objects are not supported; items are one of "
                "string, number, integer, boolean"
            ),
        ),
        (
            "names:\n  type: array\n  items: {type: array, items: {type: string}}\n",
            12,
            "arrays of arrays are not supported",
        ),
        (
            "names:\n  type: array\n  items: {type: string, default: x}\n",
            12,
            "property 'names', items: keyword 'default' is not supported",
        ),
        (
            "names:\n  type: array\n  items: {description: nothing}\n",
            12,
            "property 'names', items: has no type (give type: string, number, integer, boolean)",
        ),
        (
            "names:\n  type: array\n  items: [string]\n",
            12,
            "property 'names', items: must be a mapping such as {type: string}",
        ),
        ("code:\n  type: string\n  pattern: '([a-z'\n", 12, "pattern '([a-z' is not a valid"),
        ("code:\n  type: string\n  pattern: 12\n", 12, "pattern must be text"),
        ("code:\n  type: string\n  minLength: -1\n", 12, "minLength must be a whole number"),
        ("code:\n  type: string\n  maxLength: 2.5\n", 12, "maxLength must be a whole number"),
        ("code:\n  type: number\n  minimum: low\n", 12, "minimum must be a number, not 'low'"),
        ("code:\n  type: number\n  maximum: true\n", 12, "maximum must be a number"),
        ("code:\n  type: string\n  enum: []\n", 12, "enum must be a non-empty list"),
        ("code:\n  type: string\n  enum: [[a]]\n", 12, "enum must be a non-empty list"),
        ("code:\n  type: string\n  title: [x]\n", 12, "title must be text"),
        ("code:\n  type: string\n  format: 3\n", 12, "format must be text"),
        ("code: just-a-string\n", 10, "property 'code': must be a mapping such as {type: string}"),
    ],
)
def test_rejected_property_names_file_line_type_and_property(properties, line, expected):
    error = parse_error(service_schema(properties))
    assert error.details == []
    assert error.message.startswith(f"{SOURCE}:{line}: ")
    assert expected in error.message
    assert "string, number, integer, boolean or array" in (error.hint or "")


def test_required_entry_naming_no_property():
    text = service_schema(
        "queue:\n  type: string\n",
        required="required: [queue, qeue_size]\n",
    )
    error = parse_error(text)
    assert error.message == (
        f"{SOURCE}:12: type 'WorkerInput': required lists 'qeue_size', which is not a property "
        "(properties: queue)"
    )


def test_required_must_be_a_list_of_names():
    error = parse_error(service_schema("queue:\n  type: string\n", required="required: queue\n"))
    assert error.message == (
        f"{SOURCE}:12: type 'WorkerInput': required must be a list of property names"
    )


def test_every_problem_of_a_schema_is_reported_at_once():
    text = service_schema(
        """\
        first:
          type: object
        second:
          $ref: "#/Other"
        third:
          type: string
          pattern: "(unclosed"
        fourth:
          type: number
          exclusiveMinimum: 0
        """,
        required="required: [fifth]\n",
    )
    error = parse_error(text)
    assert error.message == f"{SOURCE}: 5 problems"
    assert [detail.split(": ")[0] for detail in error.details] == [
        f"{SOURCE}:11",
        f"{SOURCE}:13",
        f"{SOURCE}:16",
        f"{SOURCE}:19",
        f"{SOURCE}:20",
    ]
    joined = "\n".join(error.details)
    assert "property 'first': nested objects" in joined
    assert "property 'second': '$ref' is not supported" in joined
    assert "property 'third': pattern '(unclosed' is not a valid regular expression" in joined
    assert "property 'fourth': keyword 'exclusiveMinimum' is not supported" in joined
    assert "required lists 'fifth'" in joined


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", f"{SOURCE}: expected a top-level 'schema:' mapping"),
        ("types: {}\n", f"{SOURCE}: expected a top-level 'schema:' mapping"),
        ("schema: [a]\n", f"{SOURCE}: expected a top-level 'schema:' mapping"),
        ("schema:\n  format: {openapi: 3.0.0\n", f"{SOURCE}:3: invalid YAML"),
    ],
)
def test_files_that_are_no_schema(text, expected):
    assert parse_error(text).message.startswith(expected)


def schema_with_root(root: str) -> str:
    types = (
        "  types:\n"
        "    A:\n"
        "      type: object\n"
        "      properties: {x: {type: string}}\n"
        "    B:\n"
        "      type: object\n"
        "      properties: {y: {type: string}}\n"
    )
    return "schema:\n" + textwrap.indent(root, "  ") + types


@pytest.mark.parametrize(
    ("root", "expected"),
    [
        (
            'format: {openapi: "3.1.0"}\nenvironment_input_type: A\n',
            f"{SOURCE}:2: format.openapi is '3.1.0'; Proton schemas use \"3.0.0\"",
        ),
        (
            "environment_input_type: A\n",
            f"{SOURCE}:2: 'schema.format' must be {{openapi: \"3.0.0\"}}",
        ),
        (
            'format: {openapi: "3.0.0"}\n',
            (
                f"{SOURCE}:2: missing environment_input_type (environment blueprint) or "
                "service_input_type (service blueprint)"
            ),
        ),
        (
            'format: {openapi: "3.0.0"}\nenvironment_input_type: A\nservice_input_type: B\n',
            f"{SOURCE}:4: give environment_input_type or service_input_type, not both",
        ),
        (
            'format: {openapi: "3.0.0"}\nenvironment_input_type: A\npipeline_input_type: B\n',
            f"{SOURCE}:4: pipeline_input_type is only for service blueprints",
        ),
        (
            'format: {openapi: "3.0.0"}\nservice_input_type: Bee\n',
            (
                f"{SOURCE}:3: service_input_type names type 'Bee', which is not under types "
                "(types: A, B)"
            ),
        ),
        (
            'format: {openapi: "3.0.0"}\nservice_input_type: A\npipeline_input_type: C\n',
            f"{SOURCE}:4: pipeline_input_type names type 'C', which is not under types",
        ),
        (
            'format: {openapi: "3.0.0"}\nservice_input_type: [A]\n',
            f"{SOURCE}:3: 'schema.service_input_type' must be the name of a type",
        ),
        (
            'format: {openapi: "3.0.0"}\nenvironment_input_type: A\nversion: 2\n',
            (
                f"{SOURCE}:4: unknown key 'schema.version' (allowed: format, "
                "environment_input_type, service_input_type, pipeline_input_type, types)"
            ),
        ),
    ],
)
def test_rejected_schema_roots(root, expected):
    assert parse_error(schema_with_root(root)).message.startswith(expected)


def test_types_must_be_a_mapping():
    text = 'schema:\n  format: {openapi: "3.0.0"}\n  environment_input_type: A\n  types: [A]\n'
    assert parse_error(text).message == (
        f"{SOURCE}:4: 'schema.types' must be a mapping of type names"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "A:\n  properties: {x: {type: string}}\n",
            f"{SOURCE}:5: type 'A' must have type: object",
        ),
        ("A:\n  type: string\n", f"{SOURCE}:6: type 'A' must have type: object"),
        ("A: [x]\n", f"{SOURCE}:5: type 'A' must be a mapping with type: object"),
        (
            "A:\n  type: object\n  additionalProperties: false\n",
            (
                f"{SOURCE}:7: type 'A': key 'additionalProperties' is not supported "
                "(allowed: type, description, properties, required)"
            ),
        ),
        ("A:\n  type: object\n  properties: [x]\n", f"{SOURCE}:7: type 'A': properties must be"),
        ("A:\n  type: object\n  description: 5\n", f"{SOURCE}:7: type 'A': description must be"),
    ],
)
def test_rejected_input_types(body, expected):
    head = 'schema:\n  format: {openapi: "3.0.0"}\n  environment_input_type: A\n  types:\n'
    text = head + textwrap.indent(body, "    ")
    assert parse_error(text).message.startswith(expected)


def test_unused_types_are_not_checked():
    text = schema_with_root('format: {openapi: "3.0.0"}\nenvironment_input_type: A\n')
    text += "    Broken:\n      type: object\n      properties: {z: {$ref: '#/A'}}\n"
    schema = parse_schema(text, SOURCE)
    assert schema.main.name == "A"
