"""Exit codes and the error hierarchy shared by every layer.

Messages are plain text (no markup). They say what is wrong and where: a file and line, an input
name, a stack name. A hint, when given, says what to do about it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    DEPLOY_FAILED = 3
    CHANGES_PENDING = 4
    INTERRUPTED = 130


class PcliError(Exception):
    """Base class of every error pcli reports to a user."""

    exit_code: ExitCode = ExitCode.ERROR

    def __init__(
        self, message: str, *, hint: str | None = None, details: list[str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details: list[str] = details or []


class UsageError(PcliError):
    """Bad flags or arguments, or input missing in non-interactive mode."""

    exit_code = ExitCode.USAGE


class InputError(UsageError):
    """A spec or parameter value that does not satisfy the blueprint's schema."""


class BundleError(PcliError):
    """A template bundle that cannot be read: layout, manifest, schema, limits, archive."""


class RenderError(PcliError):
    """A template that fails to render, or renders to something invalid."""


class RegistryError(PcliError):
    """A registry operation that cannot be done (unknown name or version, refused publish)."""


class NotFoundError(UsageError):
    """A name the user gave that does not exist."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the closest of `choices`, or "" when none is close."""
    match = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{match[0]}'?)" if match else ""


class AwsError(PcliError):
    """An AWS call that failed: credentials, permissions, throttling, validation, endpoint."""


class ChangeSetGoneError(AwsError):
    """A change set that vanished or can no longer be executed: another operation on its stack
    (another run executed or deleted a change set, or deleted the stack) came first.

    `label` names it ("change set NAME"), `code` is AWS's error code, `reason` AWS's message.
    """

    def __init__(self, label: str, code: str, reason: str) -> None:
        super().__init__(f"{label}: {code}: {reason}")
        self.label = label
        self.code = code
        self.reason = reason


class DeployError(PcliError):
    """A deployment that failed: the stack rolled back or ended in a failed state."""

    exit_code = ExitCode.DEPLOY_FAILED
