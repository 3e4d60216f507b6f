"""The remembered verdicts of validation: passes are kept, anything doubtful is checked again."""

from __future__ import annotations

import datetime as dt
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from protoncli import paths
from protoncli.schema.model import InputType
from protoncli.schema.parse import parse_schema
from protoncli.schema.validate import validate_inputs, value_problems
from protoncli.schema.verdicts import FOLDER

SCHEMA = textwrap.dedent(
    """\
    schema:
      format: {openapi: "3.0.0"}
      environment_input_type: EnvInput
      types:
        EnvInput:
          type: object
          properties:
            name: {type: string, minLength: 3}
            size: {type: integer, minimum: 1}
            token: {type: string, format: password}
            since: {type: string}
          required: [name]
    """
)


def input_type() -> InputType:
    return parse_schema(SCHEMA, "schema.yaml").main


def remembered() -> list[Path]:
    folder = paths.cache_dir() / FOLDER
    return sorted(folder.iterdir()) if folder.is_dir() else []


class NoJsonschema:
    """An import hook that fails any import of jsonschema: proof that no check ran."""

    def find_spec(self, name: str, *_args: Any) -> None:
        if name.split(".", maxsplit=1)[0] == "jsonschema":
            raise AssertionError("jsonschema was imported")


@pytest.fixture
def without_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name.split(".")[0] == "jsonschema"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [NoJsonschema(), *sys.meta_path])


def test_valid_inputs_are_checked_once(request: pytest.FixtureRequest) -> None:
    inputs = input_type()
    cached_before = len(remembered())
    assert validate_inputs(inputs, {"name": "dev", "size": 2}, where="") == []
    assert len(remembered()) == cached_before + 1
    request.getfixturevalue("without_jsonschema")
    assert validate_inputs(inputs, {"name": "dev", "size": 2}, where="") == []
    with pytest.raises(AssertionError, match="jsonschema was imported"):
        validate_inputs(inputs, {"name": "dev", "size": 3}, where="")  # another value: checked


def test_failures_are_never_remembered() -> None:
    inputs = input_type()
    first = validate_inputs(inputs, {"name": "d"}, where="")
    assert [problem.input for problem in first] == ["name"]
    assert remembered() == []
    assert validate_inputs(inputs, {"name": "d"}, where="") == first


@pytest.mark.parametrize(
    "values",
    [
        pytest.param({"name": "dev", "token": "s3cret"}, id="secret"),
        pytest.param({"name": "dev", "since": dt.date(2024, 1, 1)}, id="yaml-date"),
        pytest.param({"name": "dev", "size": float("nan")}, id="nan"),
    ],
)
def test_values_json_cannot_hold_exactly_or_secrets_are_not_remembered(
    values: dict[str, Any],
) -> None:
    validate_inputs(input_type(), values, where="")
    assert remembered() == []


def test_the_cache_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PCLI_NO_CACHE", "1")
    assert validate_inputs(input_type(), {"name": "dev"}, where="") == []
    assert value_problems({"type": "integer"}, 4, secret=False) == []
    assert remembered() == []


def test_an_unwritable_cache_only_means_checking_every_time(tmp_path: Path) -> None:
    paths.cache_dir().parent.mkdir(parents=True, exist_ok=True)
    paths.cache_dir().write_text("not a folder", encoding="utf-8")
    assert validate_inputs(input_type(), {"name": "dev"}, where="") == []
    assert value_problems({"type": "integer"}, 4, secret=False) == []


def test_type_distinctions_survive_the_key() -> None:
    """1, 1.0, true and "1" are different values to a schema; the cache must not mix them."""
    integer = {"type": "integer"}
    assert value_problems(integer, 1, secret=False) == []
    assert value_problems(integer, value=True, secret=False) != []
    assert value_problems(integer, "1", secret=False) != []
    boolean = {"type": "boolean"}
    assert value_problems(boolean, value=True, secret=False) == []
    assert value_problems(boolean, 1, secret=False) != []


def test_the_remembered_verdicts_are_listed_once_not_looked_up_one_by_one(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """A fleet checks hundreds of values: the folder is read in one listing, and a pass made
    since is known without reading it again."""
    from protoncli.schema import verdicts

    inputs = input_type()
    for size in range(1, 4):  # passes remembered by an earlier run (files in the folder)
        assert validate_inputs(inputs, {"name": "dev", "size": size}, where="") == []
    verdicts._listed.clear()  # this process starts afresh, as a new run does
    listings = []
    real_iterdir = Path.iterdir

    def iterdir(self: Path) -> Any:
        listings.append(self)
        return real_iterdir(self)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    monkeypatch.setattr(Path, "exists", lambda self: pytest.fail(f"looked up {self}"))
    assert validate_inputs(inputs, {"name": "dev", "size": 9}, where="") == []  # checked
    request.getfixturevalue("without_jsonschema")  # from here on, nothing is checked again
    for size in (1, 2, 3, 9):
        assert validate_inputs(inputs, {"name": "dev", "size": size}, where="") == []
    assert len(listings) == 1
    monkeypatch.setattr(Path, "iterdir", real_iterdir)
    assert len(remembered()) == 4
