"""boto3 sessions and clients, one per AWS target: the only place that creates them.

Never the global default session: each `AwsTarget` (profile, role, region, endpoint) gets its own
session, so work across accounts and regions only adds targets. Settings a target leaves unset
(profile, endpoint) are read by botocore as usual: AWS_PROFILE, AWS_ENDPOINT_URL, SSO profiles...
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import boto3  # type: ignore[import-untyped]
import botocore.session  # type: ignore[import-untyped]
from botocore import exceptions as boto
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.credentials import (  # type: ignore[import-untyped]
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)

from protoncli import __version__
from protoncli.aws.errors import aws_errors
from protoncli.aws.target import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, AwsTarget

ROLE_SESSION_NAME = "pcli"


class SessionFactory:
    """Creates and caches sessions per target, clients per (target, service), account ids."""

    def __init__(self, *, max_attempts: int = 5) -> None:
        # max_attempts counts every attempt, the first included (like AWS_MAX_ATTEMPTS).
        self._config = Config(
            retries={"mode": "standard", "total_max_attempts": max_attempts},
            user_agent_extra=f"pcli/{__version__}",
        )
        self._lock = threading.RLock()
        self._sessions: dict[tuple[object, ...], Any] = {}
        self._clients: dict[tuple[object, ...], Any] = {}
        self._accounts: dict[tuple[object, ...], str] = {}

    def client(self, service: str, target: AwsTarget) -> Any:
        """A botocore client for `service` at `target` (created once, then reused)."""
        key = (target.key, service)
        with self._lock:
            cached = self._clients.get(key)
            if cached is None:
                with aws_errors(f"create the {service} client", describe_target(target)):
                    cached = self._session(target).client(
                        service,
                        region_name=target.region or None,
                        endpoint_url=target.endpoint_url,
                        config=self._config,
                    )
                self._clients[key] = cached
            return cached

    def account_id(self, target: AwsTarget) -> str:
        """The account the target's credentials act in (STS GetCallerIdentity, cached)."""
        with self._lock:
            cached = self._accounts.get(target.key)
        if cached is not None:
            return cached
        sts = self.client("sts", target)
        with aws_errors("GetCallerIdentity", describe_target(target)):
            account = str(sts.get_caller_identity()["Account"])
        with self._lock:
            self._accounts[target.key] = account
        return account

    def _session(self, target: AwsTarget) -> Any:
        with self._lock:
            session = self._sessions.get(target.key)
            if session is None:
                session = self._new_session(target)
                self._sessions[target.key] = session
            return session

    def _new_session(self, target: AwsTarget) -> Any:
        region = target.region or None
        if target.role_arn:
            base = self._session(replace(target, role_arn=None))
            return self._assumed_role_session(base, target)
        if target.profile:
            return boto3.Session(profile_name=target.profile, region_name=region)
        if target.endpoint_url:
            return boto3.Session(
                aws_access_key_id=SANDBOX_ACCESS_KEY,
                aws_secret_access_key=SANDBOX_SECRET_KEY,
                region_name=region,
            )
        return boto3.Session(region_name=region)

    def _assumed_role_session(self, base: Any, target: AwsTarget) -> Any:
        """A session whose credentials come from STS AssumeRole, refreshed before they expire."""
        source = base.get_credentials()
        if source is None:
            raise boto.NoCredentialsError

        def create_sts_client(service: str, **credentials: Any) -> Any:
            return base.client(
                service,
                region_name=target.region or None,
                endpoint_url=target.endpoint_url,
                config=self._config,
                **credentials,
            )

        fetcher = AssumeRoleCredentialFetcher(
            client_creator=create_sts_client,
            source_credentials=source,
            role_arn=target.role_arn,
            extra_args={"RoleSessionName": ROLE_SESSION_NAME},
        )
        credentials = DeferredRefreshableCredentials(
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )
        core = botocore.session.Session(profile=target.profile)
        core.register_component(
            "credential_provider", CredentialResolver([_GivenCredentials(credentials)])
        )
        return boto3.Session(botocore_session=core, region_name=target.region or None)


class _GivenCredentials(CredentialProvider):  # type: ignore[misc]
    """A credential provider that hands out credentials built elsewhere (the assumed role)."""

    METHOD = "assume-role"

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> Any:
        return self._credentials


def describe_target(target: AwsTarget) -> str:
    """The target in words, for messages: "region us-east-1 (profile dev, role ...)"."""
    extras = [
        f"{label} {value}"
        for label, value in (
            ("profile", target.profile),
            ("role", target.role_arn),
            ("endpoint", target.endpoint_url),
        )
        if value
    ]
    where = f"region {target.region}" if target.region else "the default region"
    return f"{where} ({', '.join(extras)})" if extras else where
