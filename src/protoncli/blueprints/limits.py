"""AWS Proton's quotas and naming rules, and the checks that enforce them.

Sources: Proton's quota page (bundle, manifest, schema and template-file sizes, template files per
bundle) and the Proton API model (`ResourceName`, `TemplateVersionPart`). Every limit message names
the file concerned and the limit, so a user can see at once what to shrink.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from protoncli.errors import BundleError, UsageError

RESOURCE_NAME_PATTERN = r"^[0-9A-Za-z]+[0-9A-Za-z_\-]*$"
MAX_NAME_LENGTH = 100
VERSION_PART_PATTERN = r"^(0|[1-9]\d*)$"

MAX_BUNDLE_BYTES = 5 * 1024 * 1024  # the sum of the sizes of a bundle's files
MAX_TEMPLATE_FILES = 10

_NAME_RE = re.compile(RESOURCE_NAME_PATTERN)
_VERSION_PART_RE = re.compile(VERSION_PART_PATTERN, re.ASCII)  # \d: 0-9 only


@dataclass(frozen=True)
class FileLimit:
    """A size quota on one kind of bundle file."""

    what: str  # "a schema file", for messages
    max_bytes: int


MANIFEST_LIMIT = FileLimit("a manifest file", 50 * 1024)
SCHEMA_LIMIT = FileLimit("a schema file", 50 * 1024)
TEMPLATE_FILE_LIMIT = FileLimit("a template file", 200 * 1024)


def is_valid_name(name: str) -> bool:
    """Whether `name` is a valid Proton resource name (pattern and length 1..100)."""
    return 0 < len(name) <= MAX_NAME_LENGTH and _NAME_RE.fullmatch(name) is not None


def check_name(name: str, what: str) -> None:
    """Raise `UsageError` unless `name` is a valid Proton resource name.

    `what` says what the name is for ("blueprint", "environment", ...).
    """
    if not name:
        raise UsageError(f"{what} name is empty; give a name of 1 to {MAX_NAME_LENGTH} characters")
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(
            f"{what} name '{name[:40]}...': is {len(name)} characters long; "
            f"Proton's limit is {MAX_NAME_LENGTH}"
        )
    if _NAME_RE.fullmatch(name) is None:
        raise UsageError(
            f"{what} name '{name}': must match {RESOURCE_NAME_PATTERN} "
            "(letters, digits, '-' and '_', starting with a letter or digit)"
        )


def parse_major_folder(name: str) -> int | None:
    """N for a template-sync major folder named `vN` (`v1`, `v12`), None for any other name."""
    return parse_version_part(name[1:]) if name.startswith("v") else None


def parse_version_part(text: str) -> int | None:
    """A MAJOR or MINOR number as an int, or None if `text` is not one (e.g. "01", "-1", "x")."""
    if _VERSION_PART_RE.fullmatch(text) is None:
        return None
    return int(text)


def parse_version(text: str) -> tuple[int, int]:
    """Parse "MAJOR.MINOR" ("1.0", "2.13") into `(major, minor)`; raise `UsageError` otherwise."""
    major_text, dot, minor_text = text.partition(".")
    major = parse_version_part(major_text)
    minor = parse_version_part(minor_text) if dot else None
    if major is None or minor is None:
        raise UsageError(
            f"version '{text}': must be MAJOR.MINOR, e.g. 1.0 or 2.13 "
            "(whole numbers without leading zeros)"
        )
    return major, minor


def format_version(major: int, minor: int) -> str:
    return f"{major}.{minor}"


def check_file_size(label: str, size: int, limit: FileLimit) -> None:
    """Raise `BundleError` if a file of `size` bytes exceeds `limit`; `label` names the file."""
    if size > limit.max_bytes:
        raise BundleError(
            f"{label} is {size:,} bytes; "
            f"Proton's limit for {limit.what} is {limit.max_bytes:,} bytes"
        )


def bundle_too_large(label: str, total: int, *, at_least: bool = False) -> BundleError:
    """The error for a bundle whose files add up to more than `MAX_BUNDLE_BYTES`.

    `at_least` says that counting stopped early, so `total` is a lower bound.
    """
    amount = f"at least {total:,}" if at_least else f"{total:,}"
    return BundleError(
        f"{label}: the bundle's files add up to {amount} bytes; "
        f"Proton's limit for a bundle is {MAX_BUNDLE_BYTES:,} bytes",
        hint="remove build output, dependencies and other files the templates do not need",
    )


def check_bundle_size(label: str, total: int) -> None:
    if total > MAX_BUNDLE_BYTES:
        raise bundle_too_large(label, total)


def check_template_file_count(label: str, selected: Sequence[str]) -> None:
    """Raise `BundleError` if the manifests select more than `MAX_TEMPLATE_FILES` IaC files.

    Proton's quota does not say how template files are counted (UNCONFIRMED). pcli counts the
    IaC files the manifests select: the named file, or every `.tf` file for `"*"`; a CodeBuild
    manifest counts as one, because AWS's own CodeBuild samples carry far more than ten source
    files and Proton accepts them.
    """
    if len(selected) > MAX_TEMPLATE_FILES:
        raise BundleError(
            f"{label}: the manifests select {len(selected)} template files "
            f"({', '.join(selected)}); Proton's limit is {MAX_TEMPLATE_FILES} per bundle",
            hint='merge Terraform files, or name one file in manifest.yaml instead of "*"',
        )
