"""Proton's CloudFormation Jinja filters (proton-format.md §2.4), and the indentation helper.

- `proton_cfn_ecs_task_definition_formatted_env_vars(raw=True)`: a mapping → ECS
  `Environment` items (`- Name: K` / `  Value: V`).
- `proton_cfn_lambda_function_formatted_env_vars(raw=True)`: a mapping → `K: V` lines.
- `proton_cfn_iam_policy_arns`: a mapping → `- <arn>` for each value that is an IAM policy ARN.
- `proton_cfn_sanitize`: a string passes when it matches `^[a-zA-Z0-9_-]*$` or is an ARN.

An empty mapping gives an empty string. With `raw=False` every value must match
`^[a-zA-Z0-9_-]*$`. Items keep the mapping's order (outputs in the order they were given).

Value quoting (a decision; Proton's docs only show plain values): a key or value is written
plain when YAML reads the plain text back as exactly that string, and quoted otherwise — single
quotes (`'true'`, `'80'`, `'a: b'`, `'#x'`, `'*x'`, `'it''s'`), or JSON-style double quotes when
it holds line breaks or control characters. Text that YAML 1.2 would read as a number, boolean
or null is quoted too, so the result means the same to every YAML reader.

Continuation lines of a multi-line result are indented by `indent_continuation`, which the
renderer appends to each expression using one of the three list/dict filters with the column
where that expression's `{{` starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import yaml
from jinja2 import Undefined

SAFE_VALUE = "^[a-zA-Z0-9_-]*$"
IAM_POLICY_ARN = r"^arn:[a-zA-Z-]+:iam::\d{12}:policy/"
# partition : service : region (may be empty) : account (12 digits, "aws" or empty) : resource
ARN = r"^arn:[a-z][a-z0-9-]*:[a-zA-Z0-9-]+:[a-z0-9-]*:(\d{12}|aws)?:\S+$"

ECS_FILTER = "proton_cfn_ecs_task_definition_formatted_env_vars"
LAMBDA_FILTER = "proton_cfn_lambda_function_formatted_env_vars"
IAM_FILTER = "proton_cfn_iam_policy_arns"
SANITIZE_FILTER = "proton_cfn_sanitize"
INDENT_FILTER = "_pcli_indent"
MULTILINE_FILTERS = (ECS_FILTER, LAMBDA_FILTER, IAM_FILTER)

_SAFE_VALUE = re.compile(SAFE_VALUE)
_IAM_POLICY_ARN = re.compile(IAM_POLICY_ARN)
_ARN = re.compile(ARN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# Plain scalars that YAML 1.2 (core schema) reads as something other than a string.
_YAML12_NON_STRING = re.compile(
    r"[-+]?(\.[0-9]|[0-9])[0-9a-fA-FoOxX_.eE+-]*|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    r"|~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
)


class FilterError(Exception):
    """A filter refused its input; the renderer adds the template file and line."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


@lru_cache(maxsize=4096)
def _plain_reads_back(text: str) -> bool:
    try:
        as_value = yaml.safe_load(f"k: {text}\n")
        as_item = yaml.safe_load(f"- {text}\n")
    except yaml.YAMLError:
        return False
    return bool(as_value == {"k": text} and as_item == [text])


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar that reads back as exactly `text` (plain when that is safe)."""
    if _CONTROL.search(text):
        return json.dumps(text, ensure_ascii=False)
    plain_candidate = text and text == text.strip() and not _YAML12_NON_STRING.fullmatch(text)
    if plain_candidate and _plain_reads_back(text):
        return text
    return "'" + text.replace("'", "''") + "'"


def _fail_if_undefined(value: Any) -> None:
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()  # noqa: SLF001 - raises the error naming the missing path


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value  # as it is: an input tracked by injection.py stays tracked
    return str(value)


def _mapping(value: Any, filter_name: str) -> Mapping[str, Any]:
    _fail_if_undefined(value)
    if not isinstance(value, Mapping):
        raise FilterError(
            f"{filter_name} expects a mapping (such as a component's outputs), "
            f"got {type(value).__name__}"
        )
    return value


def _check_raw(filter_name: str, key: str, value: str, raw: bool) -> None:
    if raw or _SAFE_VALUE.match(value):
        return
    raise FilterError(
        f"{filter_name}(raw=False): the value of '{key}' is {value!r}, "
        f"which does not match {SAFE_VALUE}",
        hint="change the value, or drop raw=False to accept any value",
    )


def ecs_task_definition_formatted_env_vars(value: Any, raw: bool = True) -> str:
    items = _mapping(value, ECS_FILTER)
    lines: list[str] = []
    for key, item in items.items():
        text = _as_text(item)
        _check_raw(ECS_FILTER, str(key), text, raw)
        lines += [f"- Name: {yaml_scalar(str(key))}", f"  Value: {yaml_scalar(text)}"]
    return "\n".join(lines)


def lambda_function_formatted_env_vars(value: Any, raw: bool = True) -> str:
    items = _mapping(value, LAMBDA_FILTER)
    lines: list[str] = []
    for key, item in items.items():
        text = _as_text(item)
        _check_raw(LAMBDA_FILTER, str(key), text, raw)
        lines.append(f"{yaml_scalar(str(key))}: {yaml_scalar(text)}")
    return "\n".join(lines)


def iam_policy_arns(value: Any) -> str:
    items = _mapping(value, IAM_FILTER)
    arns = [_as_text(item) for item in items.values()]
    return "\n".join(f"- {yaml_scalar(arn)}" for arn in arns if _IAM_POLICY_ARN.match(arn))


def sanitize(value: Any) -> str:
    _fail_if_undefined(value)
    text = _as_text(value)
    if _SAFE_VALUE.match(text) or _ARN.match(text):
        return text
    raise FilterError(
        f'Illegal character(s) detected in "{text}". Must match regex {SAFE_VALUE} '
        "or be a valid ARN"
    )


def indent_continuation(value: Any, column: int) -> str:
    """Indent every line after the first by `column` spaces (blank lines stay empty)."""
    text = str(value)
    if "\n" not in text:
        return text
    first, *rest = text.split("\n")
    pad = " " * column
    return "\n".join([first, *(pad + line if line.strip() else line for line in rest)])


FILTERS: dict[str, Callable[..., str]] = {
    ECS_FILTER: ecs_task_definition_formatted_env_vars,
    LAMBDA_FILTER: lambda_function_formatted_env_vars,
    IAM_FILTER: iam_policy_arns,
    SANITIZE_FILTER: sanitize,
    INDENT_FILTER: indent_continuation,
}
