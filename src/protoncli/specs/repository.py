"""A service's source repository: the repository id, branch and connection its pipeline reads.

A service with a pipeline builds from a repository, as in Proton. pcli keeps the three values in
the service spec's header, under the names templates read them by (`service.<key>`)::

    blueprint: fargate-web-svc
    version: "1.0"
    repository_id: acme/web              # pcli svc create --repository
    branch_name: main                    # pcli svc create --branch
    repository_connection_arn: arn:aws:codeconnections:us-east-1:111111111111:connection/abc
    proton: ServiceSpec

Each value is checked for its shape wherever it comes from (a flag, the header, git); a wrong
one is a usage error naming where it came from and the shape expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

REPOSITORY_ID = "repository_id"
BRANCH_NAME = "branch_name"
CONNECTION_ARN = "repository_connection_arn"
REPOSITORY_KEYS = (REPOSITORY_ID, BRANCH_NAME, CONNECTION_ARN)

# The svc create flag of each header key.
FLAGS = {REPOSITORY_ID: "--repository", BRANCH_NAME: "--branch", CONNECTION_ARN: "--connection-arn"}

MAX_REPOSITORY_ID = 200  # Proton's limit on repositoryId
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
_CONNECTION_ARN = re.compile(
    r"^arn:aws[-a-z]*:(codestar-connections|codeconnections):"
    r"[a-z]{2}(-[a-z]+)+-\d:\d{12}:connection/[A-Za-z0-9][A-Za-z0-9-]*$"
)
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")

SHAPES = {
    REPOSITORY_ID: (
        "OWNER/NAME (GitLab groups may nest: GROUP/SUBGROUP/NAME): letters, digits, '_', '-' "
        "and '.', no segment starting with '.' or '-', no '.git' ending, at most "
        f"{MAX_REPOSITORY_ID} characters"
    ),
    BRANCH_NAME: (
        "a git branch name: no spaces, control characters or any of ~ ^ : ? * [ \\; no '..', "
        "'@{' or '//'; not starting with '-' or '/'; not ending with '/', '.' or '.lock'; no "
        "part starting with '.'"
    ),
    CONNECTION_ARN: (
        "arn:aws:codeconnections:REGION:ACCOUNT:connection/ID (or codestar-connections; "
        "ACCOUNT is 12 digits)"
    ),
}


def repository_problem(value: str) -> str | None:
    """Why `value` is not a repository id (OWNER/NAME), or None when it is one."""
    segments = value.split("/")
    if len(value) > MAX_REPOSITORY_ID or len(segments) < 2:  # noqa: PLR2004 - owner and name
        return SHAPES[REPOSITORY_ID]
    if value.endswith(".git") or not all(_SEGMENT.match(segment) for segment in segments):
        return SHAPES[REPOSITORY_ID]
    return None


def branch_problem(value: str) -> str | None:
    """Why `value` is not a valid git branch name (`git check-ref-format --branch`), or None."""
    bad = (
        not value
        or value == "@"
        or value.startswith(("-", "/"))
        or value.endswith(("/", ".", ".lock"))
        or ".." in value
        or "@{" in value
        or "//" in value
        or _REF_FORBIDDEN.search(value) is not None
        or any(part.startswith(".") or part.endswith(".lock") for part in value.split("/"))
    )
    return SHAPES[BRANCH_NAME] if bad else None


def connection_problem(value: str) -> str | None:
    """Why `value` is not a CodeConnections (CodeStar Connections) ARN, or None."""
    return None if _CONNECTION_ARN.match(value) else SHAPES[CONNECTION_ARN]


PROBLEMS = {
    REPOSITORY_ID: repository_problem,
    BRANCH_NAME: branch_problem,
    CONNECTION_ARN: connection_problem,
}


def shape_problem(key: str, value: str) -> str | None:
    """Why `value` is not a valid `key` (one of REPOSITORY_KEYS), or None when it is valid."""
    return PROBLEMS[key](value)


@dataclass(frozen=True)
class Source:
    """A service's repository fields; "" where none is known."""

    repository_id: str = ""
    branch_name: str = ""
    repository_connection_arn: str = ""

    @classmethod
    def of(cls, values: Mapping[str, object]) -> Source:
        return cls(**{key: str(values.get(key) or "") for key in REPOSITORY_KEYS})

    def fields(self) -> dict[str, str]:
        """The known fields, by header key (empty ones left out)."""
        values = {
            REPOSITORY_ID: self.repository_id,
            BRANCH_NAME: self.branch_name,
            CONNECTION_ARN: self.repository_connection_arn,
        }
        return {key: value for key, value in values.items() if value}


def empty_field_hint(key: str) -> str:
    """What to do about a repository field a template reads while it is empty."""
    return (
        f"give the service its source: pcli svc create --repository OWNER/NAME --branch BRANCH "
        f"--connection-arn ARN, or the header key '{key}' of its spec file "
        f"(services/NAME.yaml), or service.{key} in --context"
    )
