"""Questions built from a blueprint's schema: kind by type, live validation with the schema's
reasons, defaults pre-filled, conversions, and the verdict cache left alone while typing."""

from __future__ import annotations

import pytest

from protoncli import paths
from protoncli.prompting import (
    NEEDED,
    UNSET,
    Question,
    ask_inputs,
    input_question,
    summary_rows,
)
from protoncli.schema.parse import parse_schema
from protoncli.schema.validate import value_problems

SCHEMA = """\
schema:
  format: {openapi: "3.0.0"}
  environment_input_type: TeamInput
  types:
    TeamInput:
      type: object
      required: [team, size]
      properties:
        team: {type: string, title: Team, description: "Who owns it", pattern: "^[a-z]+$"}
        size: {type: integer, minimum: 1, maximum: 5}
        ratio: {type: number, default: 0.5}
        tier: {type: string, enum: [small, large], default: small}
        public: {type: boolean, default: false}
        audited: {type: boolean}
        zones: {type: array, items: {type: string, enum: [a, b, c]}, default: [a], minItems: 1}
        ports: {type: array, items: {type: integer, maximum: 65535}}
        token: {type: string, format: password, minLength: 8}
"""


@pytest.fixture
def schema():
    return parse_schema(SCHEMA, "schema/schema.yaml").main


def question_for(schema, name, **options):
    return input_question(schema.get(name), key=f"inputs.{name}", **options)


def test_each_type_gets_its_kind_of_question(schema):
    kinds = {item.name: question_for(schema, item.name).kind for item in schema.inputs}

    assert kinds == {
        "team": "text",
        "size": "integer",
        "ratio": "number",
        "tier": "select",
        "public": "confirm",
        "audited": "select",  # optional with no default: yes, no, or leave unset
        "zones": "checkbox",
        "ports": "list",
        "token": "password",
    }


def test_the_title_and_description_make_the_question_and_the_default_is_prefilled(schema):
    team = question_for(schema, "team")
    size = question_for(schema, "size")
    ratio = question_for(schema, "ratio")

    assert (team.message, team.help, team.default_text) == (
        "Team (team)",
        "Who owns it; lower-case letters only",
        "",
    )
    assert (size.message, size.help) == ("size", "at least 1, at most 5")
    assert (ratio.default, ratio.default_text) == (0.5, "0.5")


def test_typed_text_is_refused_with_the_schemas_reason(schema):
    team = question_for(schema, "team")
    size = question_for(schema, "size")

    assert team.validate("Core") == "'Core' must be lower-case letters only"
    assert team.validate("") == NEEDED
    assert team.validate("core") is None
    assert size.validate("abc") == "expected a whole number (integer)"
    assert size.validate("0") == "0 is less than the minimum of 1"
    assert size.validate("9") == "9 is greater than the maximum of 5"
    assert size.validate("3") is None
    assert size.answer("3") == 3


def test_an_optional_answer_left_empty_is_unset(schema):
    ratio = question_for(schema, "ratio")
    token = question_for(schema, "token")

    assert ratio.validate("") is None
    assert ratio.answer("") is UNSET
    assert ratio.answer("2.5") == 2.5
    assert token.validate("") is None
    assert token.answer("") is UNSET


def test_a_secret_is_checked_without_showing_its_value(schema):
    token = question_for(schema, "token")

    reason = token.validate("hunter2")

    assert reason == "the value is too short: 7 characters, at least 8 needed"
    assert "hunter2" not in reason
    assert token.default is UNSET


def test_choices_come_from_the_enum_and_an_optional_boolean_can_stay_unset(schema):
    tier = question_for(schema, "tier")
    audited = question_for(schema, "audited")
    public = question_for(schema, "public")

    assert [(c.value, c.title) for c in tier.choices] == [("small", "small"), ("large", "large")]
    assert tier.default == "small"
    assert [c.value for c in audited.choices] == [UNSET, True, False]
    assert (public.kind, public.default) == ("confirm", False)


def test_a_kept_answer_is_prefilled_unless_it_no_longer_fits(schema):
    assert question_for(schema, "tier", default="large").default == "large"
    assert question_for(schema, "tier", default="huge").default == "small"  # not a choice now
    assert question_for(schema, "public", default=True).default is True
    assert question_for(schema, "size", default=4).default_text == "4"


def test_array_answers_are_checked_entry_by_entry_and_as_a_whole(schema):
    zones = question_for(schema, "zones")
    ports = question_for(schema, "ports")

    assert zones.default == ["a"]
    assert zones.check_answer([]) == "the list has 0 items; at least 1 allowed"
    assert zones.check_answer(["a", "c"]) is None
    assert ports.validate("http") == "expected a whole number (integer)"
    assert ports.validate("70000") == "70000 is greater than the maximum of 65535"
    assert ports.validate("") is None  # an empty entry ends the list
    assert ports.answer("8080") == 8080


def test_live_validation_leaves_the_verdict_cache_alone(schema):
    cache = paths.cache_dir() / "valid-inputs"
    size = question_for(schema, "size")

    for text in ("1", "2", "3"):
        assert size.validate(text) is None

    assert not cache.exists() or not any(cache.iterdir())
    assert value_problems({"type": "integer"}, 3, secret=False) == []
    assert len(list(cache.iterdir())) == 1  # a check that may remember still does


class Typist:
    """Answers each question with the next text (or value) of a script, as a person would."""

    def __init__(self, *script):
        self.script = list(script)
        self.asked: list[Question] = []
        self.refused: list[tuple[str, str]] = []

    def ask(self, question):
        self.asked.append(question)
        while True:
            answer = self.script.pop(0)
            if question.kind not in ("text", "integer", "number", "password"):
                return answer
            reason = question.validate(answer)
            if reason is None:
                return question.answer(answer)
            self.refused.append((question.key, reason))

    def show_summary(self, _title, _rows):
        return True


def test_ask_inputs_asks_what_is_not_given_in_schema_order_with_prefilled_defaults(schema):
    public = True
    typist = Typist("core", "x", "7", "2", "large", public, UNSET, ["b"], [80], "")

    answers = ask_inputs(schema, ["ratio"], typist, key="inputs", defaults={"size": 3})

    assert [q.key for q in typist.asked] == [
        "inputs.team",
        "inputs.size",
        "inputs.tier",
        "inputs.public",
        "inputs.audited",
        "inputs.zones",
        "inputs.ports",
        "inputs.token",
    ]
    assert typist.asked[1].default_text == "3"
    assert typist.refused == [
        ("inputs.size", "expected a whole number (integer)"),
        ("inputs.size", "7 is greater than the maximum of 5"),
    ]
    assert answers == {
        "team": "core",
        "size": 2,
        "tier": "large",
        "public": True,
        "zones": ["b"],
        "ports": [80],
    }


def test_summary_rows_hide_secrets_and_mark_defaults(schema):
    rows = summary_rows(schema, {"team": "core", "size": 2, "token": "s3cret-value"})

    assert rows == [
        ("team", "core"),
        ("size", "2"),
        ("ratio", "0.5 (default)"),
        ("tier", "small (default)"),
        ("public", "false (default)"),
        ("zones", "a (default)"),
        ("token", "******"),
    ]
