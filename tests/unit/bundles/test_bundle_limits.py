"""Proton's naming rules, version numbers and quotas."""

from __future__ import annotations

import pytest

from protoncli.blueprints.limits import (
    MAX_BUNDLE_BYTES,
    SCHEMA_LIMIT,
    TEMPLATE_FILE_LIMIT,
    check_bundle_size,
    check_file_size,
    check_name,
    check_template_file_count,
    format_version,
    is_valid_name,
    parse_version,
    parse_version_part,
)
from protoncli.errors import BundleError, ExitCode, UsageError


@pytest.mark.parametrize("name", ["a", "vpc-ecs-env", "My_Env2", "0env", "x" * 100])
def test_valid_names_pass(name):
    check_name(name, "blueprint")
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["x y", "-env", "_env", "env.1", "env/1", "ünicode"])
def test_invalid_names_say_the_rule(name):
    with pytest.raises(UsageError) as caught:
        check_name(name, "blueprint")
    assert caught.value.message == (
        f"blueprint name '{name}': must match ^[0-9A-Za-z]+[0-9A-Za-z_\\-]*$ "
        "(letters, digits, '-' and '_', starting with a letter or digit)"
    )
    assert caught.value.exit_code == ExitCode.USAGE
    assert not is_valid_name(name)


def test_too_long_and_empty_names():
    with pytest.raises(UsageError, match=r"is 101 characters long; Proton's limit is 100"):
        check_name("x" * 101, "environment")
    with pytest.raises(UsageError, match=r"^environment name is empty"):
        check_name("", "environment")
    assert not is_valid_name("x" * 101)


@pytest.mark.parametrize(
    ("text", "expected"), [("1.0", (1, 0)), ("2.13", (2, 13)), ("0.0", (0, 0)), ("10.7", (10, 7))]
)
def test_parse_version(text, expected):
    assert parse_version(text) == expected
    assert format_version(*expected) == text


@pytest.mark.parametrize(
    "text", ["1", "01.0", "1.01", "1.0.0", "v1.0", "1.", ".1", "", " 1.0", "-1.0"]
)
def test_parse_version_refuses(text):
    with pytest.raises(UsageError) as caught:
        parse_version(text)
    assert caught.value.message == (
        f"version '{text}': must be MAJOR.MINOR, e.g. 1.0 or 2.13 "
        "(whole numbers without leading zeros)"
    )


def test_version_part():
    assert parse_version_part("0") == 0
    assert parse_version_part("12") == 12
    assert parse_version_part("012") is None
    assert parse_version_part("") is None
    assert parse_version_part("1\u0663") is None  # ARABIC-INDIC DIGIT THREE
    assert parse_version_part("1\n") is None


def test_file_size_message_names_file_and_limit():
    check_file_size("bundle.tar.gz: schema/schema.yaml", 51_200, SCHEMA_LIMIT)
    with pytest.raises(BundleError) as caught:
        check_file_size("bundle.tar.gz: schema/schema.yaml", 61_440, SCHEMA_LIMIT)
    assert caught.value.message == (
        "bundle.tar.gz: schema/schema.yaml is 61,440 bytes; "
        "Proton's limit for a schema file is 51,200 bytes"
    )
    with pytest.raises(BundleError, match=r"limit for a template file is 204,800 bytes"):
        check_file_size("x/main.tf", 204_801, TEMPLATE_FILE_LIMIT)


def test_bundle_size():
    check_bundle_size("env", MAX_BUNDLE_BYTES)
    with pytest.raises(BundleError) as caught:
        check_bundle_size("env", MAX_BUNDLE_BYTES + 1)
    assert caught.value.message == (
        "env: the bundle's files add up to 5,242,881 bytes; "
        "Proton's limit for a bundle is 5,242,880 bytes"
    )


def test_template_file_count():
    check_template_file_count("env", [f"infrastructure/{i}.tf" for i in range(10)])
    with pytest.raises(BundleError) as caught:
        check_template_file_count("env", [f"infrastructure/{i}.tf" for i in range(11)])
    assert caught.value.message.startswith("env: the manifests select 11 template files (")
    assert caught.value.message.endswith("Proton's limit is 10 per bundle")
