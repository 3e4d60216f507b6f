from __future__ import annotations

import textwrap

from protoncli.schema.parse import parse_schema, schema_problems

SOURCE = "bundle/schema/schema.yaml"


def problems_of(properties: str, *, required: str = "", extra_types: str = "") -> list[str]:
    text = textwrap.dedent(
        """\
        schema:
          format: {openapi: "3.0.0"}
          environment_input_type: StageInput
          types:
            StageInput:
              type: object
              properties:
        """
    )
    text += textwrap.indent(textwrap.dedent(properties), " " * 8)
    if required:
        text += f"      required: {required}\n"
    text += extra_types
    return schema_problems(parse_schema(text, SOURCE))


def test_clean_schema_has_no_problems():
    assert (
        problems_of(
            """\
            cidr: {type: string, pattern: "^10\\\\.", default: "10.0.0.0/16"}
            zones: {type: integer, minimum: 1, maximum: 3}
            names: {type: array, items: {type: string, enum: [a, b]}, minItems: 1}
            """,
            required="[zones]",
        )
        == []
    )


def test_default_that_breaks_its_own_constraints():
    problems = problems_of(
        """\
        public:
          type: boolean
          default: public
        port:
          type: number
          maximum: 100
          default: 8080
        size:
          type: string
          enum: [s, m]
          default: xl
        code:
          type: string
          pattern: "^[A-Z]{3}$"
          default: abc
        """
    )
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'public': the default does not fit the schema: "
            "expected true or false, got the string 'public'"
        ),
        (
            f"{SOURCE}:11: type 'StageInput', input 'port': the default does not fit the schema: "
            "8080 is greater than the maximum of 100"
        ),
        (
            f"{SOURCE}:15: type 'StageInput', input 'size': the default does not fit the schema: "
            "'xl' is not one of the allowed values: 's', 'm'"
        ),
        (
            f"{SOURCE}:19: type 'StageInput', input 'code': the default does not fit the schema: "
            "'abc' must be exactly 3 upper-case letters"
        ),
    ]


def test_required_input_with_a_default():
    assert problems_of("zones: {type: integer, default: 2}\n", required="[zones]") == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'zones': is required and has a default; "
            "the default makes it optional"
        )
    ]


def test_enum_values_of_the_wrong_type_and_duplicates():
    problems = problems_of("count: {type: integer, enum: [1, two, 1]}\n")
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'count': an enum value does not fit the schema: "
            "expected a whole number (integer), got the string 'two'"
        ),
        f"{SOURCE}:8: type 'StageInput', input 'count': enum lists 1 more than once",
    ]


def test_enum_of_array_items_is_checked():
    problems = problems_of("ports: {type: array, items: {type: number, enum: [80, http]}}\n")
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'ports': items: an enum value does not fit the "
            "schema: expected a number, got the string 'http'"
        )
    ]


def test_bounds_that_no_value_can_satisfy():
    problems = problems_of(
        """\
        port: {type: number, minimum: 10, maximum: 5}
        code: {type: string, minLength: 4, maxLength: 2}
        tags: {type: array, items: {type: string, minLength: 3, maxLength: 1},
               minItems: 3, maxItems: 2}
        """
    )
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'port': minimum 10 is greater than maximum 5; "
            "no value can satisfy both"
        ),
        (
            f"{SOURCE}:9: type 'StageInput', input 'code': minLength 4 is greater than "
            "maxLength 2; no value can satisfy both"
        ),
        (
            f"{SOURCE}:10: type 'StageInput', input 'tags': minItems 3 is greater than maxItems 2; "
            "no value can satisfy both"
        ),
        (
            f"{SOURCE}:10: type 'StageInput', input 'tags': items: minLength 3 is greater than "
            "maxLength 1; no value can satisfy both"
        ),
    ]


def test_keywords_that_have_no_effect_on_the_type():
    problems = problems_of(
        """\
        port: {type: number, minLength: 2, pattern: "^1"}
        name: {type: string, minimum: 3, items: {type: string}}
        """
    )
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'port': minLength has no effect on a number "
            "input (it applies to string)"
        ),
        (
            f"{SOURCE}:8: type 'StageInput', input 'port': pattern has no effect on a number input "
            "(it applies to string)"
        ),
        (
            f"{SOURCE}:9: type 'StageInput', input 'name': minimum has no effect on a string input "
            "(it applies to number and integer)"
        ),
        (
            f"{SOURCE}:9: type 'StageInput', input 'name': items has no effect on a string input "
            "(it applies to array)"
        ),
    ]


def test_secret_with_default_never_shows_the_value():
    problems = problems_of("token: {type: string, format: password, default: 7, maxLength: 1}\n")
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'token': the default does not fit the schema: "
            "expected a string, got a number; quote the value in YAML to keep it as written"
        ),
        (
            f"{SOURCE}:8: type 'StageInput', input 'token': is secret (format: password) but has a "
            "default written in the bundle"
        ),
    ]
    assert not any("7" in problem.split(": ", 1)[1] for problem in problems)


def test_names_templates_cannot_reach():
    problems = problems_of("vpc-cidr: {type: string}\n")
    assert problems == [
        (
            f"{SOURCE}:8: type 'StageInput', input 'vpc-cidr': the name is not an identifier "
            "(letters, digits, _); templates cannot write inputs.vpc-cidr"
        )
    ]


def test_unused_types_are_reported():
    extra = "    Leftover:\n      type: object\n      properties: {x: {type: string}}\n"
    assert problems_of("a: {type: string}\n", extra_types=extra) == [
        f"{SOURCE}:9: type 'Leftover' is defined but no *_input_type names it; it is ignored"
    ]


def test_pipeline_inputs_are_checked_too():
    text = textwrap.dedent(
        """\
        schema:
          format: {openapi: "3.0.0"}
          service_input_type: Svc
          pipeline_input_type: Pipe
          types:
            Svc:
              type: object
              properties: {a: {type: string}}
            Pipe:
              type: object
              properties:
                stages: {type: integer, default: "3"}
        """
    )
    assert schema_problems(parse_schema(text, SOURCE)) == [
        (
            f"{SOURCE}:12: type 'Pipe', input 'stages': the default does not fit the schema: "
            "expected a whole number (integer), got the string '3'; remove the quotes to make it "
            "a number"
        )
    ]
