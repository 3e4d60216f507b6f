"""Where AWS calls go: account credentials (profile or role), region, endpoint."""

from __future__ import annotations

from dataclasses import dataclass

SANDBOX_ACCESS_KEY = "testing"
SANDBOX_SECRET_KEY = "testing"  # noqa: S105 - same


@dataclass(frozen=True)
class AwsTarget:
    """One place to deploy to. Sessions are created and cached per target.

    `endpoint_url` set means every client goes there (the sandbox, or any AWS-compatible endpoint)
    with the sandbox's dummy credentials unless a profile is given.
    """

    region: str
    profile: str | None = None
    role_arn: str | None = None
    endpoint_url: str | None = None
    external_id: str | None = None  # given to AssumeRole with `role_arn`
    session_name: str | None = None  # the assumed role's session name (default "pcli")

    @property
    def key(self) -> tuple[str | None, ...]:
        return (self.profile, self.role_arn, self.region, self.endpoint_url, *self.role_key[3:])

    @property
    def role_key(self) -> tuple[str | None, ...]:
        """What an assumed role's credentials depend on: the same in every region."""
        return (
            self.profile,
            self.role_arn,
            self.endpoint_url,
            self.external_id,
            self.session_name,
        )
