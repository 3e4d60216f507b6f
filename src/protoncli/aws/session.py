"""AWS sessions and clients, one per AWS target: the only place that creates them.

Sessions are botocore's own (what boto3 wraps): pcli needs clients, not boto3's resources and
transfer manager, and importing botocore alone keeps every deploy's start-up short.

Never the global default session: each `AwsTarget` (profile, role, region, endpoint) gets its own
session, so work across accounts and regions only adds targets. Settings a target leaves unset
(profile, endpoint) are read by botocore as usual: AWS_PROFILE, AWS_ENDPOINT_URL, SSO profiles...
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped]
from botocore import exceptions as boto
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.credentials import (  # type: ignore[import-untyped]
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    DeferredRefreshableCredentials,
)

from protoncli import __version__, paths
from protoncli.aws.errors import aws_errors
from protoncli.aws.slowcalls import SlowCalls
from protoncli.aws.target import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY, AwsTarget
from protoncli.yamlio import atomic_write

ROLE_SESSION_NAME = "pcli"
# Settings of pcli's own environment a program it runs must not see next to the credentials
# `process_environment` gives it: they would name other credentials.
CLEARED_SETTINGS = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
_ARN = "/arn"  # the account cache keeps a credential's ARN under its digest and this
DEFAULT_CONNECT_TIMEOUT = 5.0  # the `connect_timeout` setting's default (config.py)
DEFAULT_READ_TIMEOUT = 10.0  # the `read_timeout` setting's default (config.py)


class SessionFactory:
    """Creates and caches sessions per target, clients per (target, service), account ids."""

    def __init__(
        self,
        *,
        max_attempts: int = 5,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        on_slow: Callable[[str], None] | None = None,
    ) -> None:
        # max_attempts counts every attempt, the first included (like AWS_MAX_ATTEMPTS); it
        # and the standard retry mode are pcli's defaults: a user's own retry settings
        # (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, `max_attempts` / `retry_mode` in the AWS config
        # file) win, per session (see `_config_for`).
        self._max_attempts = max_attempts
        # Timeouts per attempt: botocore's own (60 s each) with five attempts kept a command
        # silent for five minutes before an endpoint that accepts connections and never
        # answers was reported; these give up within a minute, and are settings.
        self._config = Config(
            user_agent_extra=f"pcli/{__version__}",
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._lock = threading.RLock()  # held for the caches' look-ups and stores only
        # One lock per session or client being made: different targets are made side by side
        # (a fleet read makes a client per account and region at once), the same one once.
        self._making: dict[tuple[object, ...], threading.Lock] = {}
        self._sessions: dict[tuple[object, ...], Any] = {}
        self._clients: dict[tuple[object, ...], Any] = {}
        # botocore's data loader (service models, endpoints, rule sets), shared by every session
        # this factory makes: a new session would read and parse them all again (50-100 ms a
        # session and client, for each account and region of a fleet).
        self._loader: Any = None
        self._loaded: set[str] = set()  # services whose model the loader holds
        self._accounts: dict[tuple[object, ...], str] = {}
        self._callers: dict[tuple[object, ...], str] = {}
        # A call still going after half the read timeout (at most 5 s) is said through
        # `on_slow` (the command line's note); none is without it.
        self._slow = (
            None
            if on_slow is None
            else SlowCalls(on_slow, after=min(5.0, read_timeout / 2), read_timeout=read_timeout)
        )

    def client(self, service: str, target: AwsTarget) -> Any:
        """A botocore client for `service` at `target` (created once, then reused)."""
        key = ("client", target.key, service)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        with self._making_lock(key):
            with self._lock:
                cached = self._clients.get(key)
            if cached is not None:
                return cached
            with aws_errors(f"create the {service} client", describe_target(target)):
                session = self._session(target)
                # The first client of a service loads its model into the shared loader; the
                # others made meanwhile wait for it instead of each parsing it again.
                with self._lock:
                    first = service not in self._loaded
                with self._making_lock(("model", service)) if first else contextlib.nullcontext():
                    cached = session.create_client(
                        service,
                        region_name=target.region or None,
                        endpoint_url=target.endpoint_url,
                        config=self._config_for(session),
                    )
                with self._lock:
                    self._loaded.add(service)
            if self._slow is not None:
                self._slow.watch(cached)
            with self._lock:
                self._clients[key] = cached
        return cached

    def _making_lock(self, key: tuple[object, ...]) -> threading.Lock:
        with self._lock:
            return self._making.setdefault(key, threading.Lock())

    def _botocore_session(self, profile: str | None) -> Any:
        """A new botocore session that shares the factory's data loader."""
        session = botocore.session.Session(profile=profile)
        with self._lock:
            if self._loader is None:
                self._loader = session.get_component("data_loader")
            else:
                session.register_component("data_loader", self._loader)
        return session

    def account_id(self, target: AwsTarget) -> str:
        """The account the target's credentials act in (STS GetCallerIdentity, cached): the
        same in every region, asked once however many threads want it at once."""
        key = target.role_key
        with self._lock:
            cached = self._accounts.get(key)
        if cached is not None:
            return cached
        with self._making_lock(("account", key)):
            with self._lock:
                cached = self._accounts.get(key)
            if cached is not None:
                return cached
            account = _account_from_role(target.role_arn) or self._remembered(target)
            if account is None:
                account, arn = self._ask_identity(target)
                self._remember(target, account)
                with self._lock:
                    self._callers.setdefault(key, arn)  # the same answer says who, too
            with self._lock:
                self._accounts[key] = account
        return account

    def caller_arn(self, target: AwsTarget) -> str:
        """The ARN the target's credentials act as (STS GetCallerIdentity; remembered per
        credential like the account id, so a deploy's record costs no call for it; its
        account fills the account cache too)."""
        key = target.role_key
        with self._lock:
            cached = self._callers.get(key)
        if cached is not None:
            return cached
        with self._making_lock(("caller", key)):
            with self._lock:
                cached = self._callers.get(key)
            if cached is not None:
                return cached
            arn = self._remembered(target, _ARN)
            if arn is None:
                account, arn = self._ask_identity(target)
                with self._lock:
                    self._accounts.setdefault(key, account)
                self._remember(target, arn, _ARN)
            with self._lock:
                self._callers[key] = arn
        return arn

    def _ask_identity(self, target: AwsTarget) -> tuple[str, str]:
        """(account, ARN) of the target's credentials: one STS GetCallerIdentity."""
        sts = self.client("sts", target)
        with aws_errors("GetCallerIdentity", describe_target(target)):
            answer = sts.get_caller_identity()
        return str(answer["Account"]), str(answer["Arn"])

    def _credential_key(self, target: AwsTarget) -> str | None:
        """A digest of the access key id and endpoint: what an account id can be cached under."""
        with aws_errors("read credentials", describe_target(target)):
            credentials = self._session(target).get_credentials()
        access_key = getattr(credentials, "access_key", None) if credentials else None
        if not access_key:
            return None
        material = f"{access_key}\0{target.endpoint_url or ''}"
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def _remembered(self, target: AwsTarget, what: str = "") -> str | None:
        """What the cache holds for the target's credentials: the account id, or with `what`
        (`_ARN`) another fact of them."""
        key = self._credential_key(target)
        return None if key is None else _read_account_cache().get(f"{key}{what}")

    def _remember(self, target: AwsTarget, value: str, what: str = "") -> None:
        key = self._credential_key(target)
        if key is not None:
            _write_account_cache({**_read_account_cache(), f"{key}{what}": value})

    def _config_for(self, session: Any) -> Config:
        """The clients' configuration: pcli's retry defaults where the user set none."""
        retries: dict[str, Any] = {}
        if session.get_config_variable("retry_mode") is None:
            retries["mode"] = "standard"
        if session.get_config_variable("max_attempts") is None:
            retries["total_max_attempts"] = self._max_attempts
        return self._config.merge(Config(retries=retries)) if retries else self._config

    def _session(self, target: AwsTarget) -> Any:
        """The session of the target's credentials (profile, or role and how it is assumed):
        one for every region, whose clients are made per region. An assumed role's session is
        one AssumeRole per run, assumed again by botocore before its credentials expire."""
        key = ("session", target.role_key)
        with self._lock:
            session = self._sessions.get(key)
        if session is not None:
            return session
        with self._making_lock(key):
            with self._lock:
                session = self._sessions.get(key)
            if session is None:
                session = self._new_session(target)
                with self._lock:
                    self._sessions[key] = session
        return session

    def _new_session(self, target: AwsTarget) -> Any:
        if target.role_arn:
            base = self._session(
                replace(target, role_arn=None, external_id=None, session_name=None)
            )
            return self._assumed_role_session(base, target)
        session = self._botocore_session(target.profile)
        if target.endpoint_url and not target.profile:
            session.set_credentials(SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
        return session

    def _assumed_role_session(self, base: Any, target: AwsTarget) -> Any:
        """A session whose credentials come from STS AssumeRole, refreshed before they expire."""
        credentials = self._assume(base, target)
        core = self._botocore_session(target.profile)
        core.register_component(
            "credential_provider", CredentialResolver([_GivenCredentials(credentials)])
        )
        return core

    def _assume(self, base: Any, target: AwsTarget) -> Any:
        source = base.get_credentials()
        if source is None:
            raise boto.NoCredentialsError

        def create_sts_client(service: str, **credentials: Any) -> Any:
            return base.create_client(
                service,
                region_name=target.region or None,
                endpoint_url=target.endpoint_url,
                config=self._config,
                **credentials,
            )

        extra: dict[str, str] = {"RoleSessionName": target.session_name or ROLE_SESSION_NAME}
        if target.external_id:
            extra["ExternalId"] = target.external_id
        fetcher = AssumeRoleCredentialFetcher(
            client_creator=create_sts_client,
            source_credentials=source,
            role_arn=target.role_arn,
            extra_args=extra,
        )
        return DeferredRefreshableCredentials(
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )

    def process_environment(self, target: AwsTarget) -> dict[str, str]:
        """What a program pcli runs (Terraform, a bundle's commands) needs to act as these
        credentials at the target: the credentials themselves (an assumed role's, refreshed
        if they are close to expiry), the region and the endpoint. The caller leaves
        out the profile settings of its own environment (`CLEARED_SETTINGS`), so that the
        program cannot pick other credentials."""
        with aws_errors("read the credentials", describe_target(target)):
            credentials = self._session(target).get_credentials()
            if credentials is None:
                raise boto.NoCredentialsError
            frozen = credentials.get_frozen_credentials()
        env = {
            "AWS_ACCESS_KEY_ID": frozen.access_key,
            "AWS_SECRET_ACCESS_KEY": frozen.secret_key,
            "AWS_REGION": target.region,
            "AWS_DEFAULT_REGION": target.region,
        }
        if frozen.token:
            env["AWS_SESSION_TOKEN"] = frozen.token
        if target.endpoint_url:
            env["AWS_ENDPOINT_URL"] = target.endpoint_url
            env["AWS_EC2_METADATA_DISABLED"] = "true"
        return env

    def assume(self, target: AwsTarget) -> None:
        """Assume the target's role now (when it has one): a role that cannot be assumed
        fails here, before any work that needs it starts."""
        if not target.role_arn:
            return
        with aws_errors("AssumeRole", describe_target(target)):
            credentials = self._session(target).get_credentials()
            if credentials is None:
                raise boto.NoCredentialsError
            credentials.get_frozen_credentials()


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


def _account_from_role(role_arn: str | None) -> str | None:
    """The account of `arn:aws:iam::<account>:role/...`: no call needed."""
    if not role_arn:
        return None
    parts = role_arn.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None  # noqa: PLR2004 - ARN fields


def _account_cache() -> Path:
    return paths.cache_dir() / "accounts.json"


def _read_account_cache() -> dict[str, str]:
    """Account ids by credential digest; a cache only: unreadable or missing reads as empty."""
    try:
        data = json.loads(_account_cache().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write_account_cache(data: dict[str, str]) -> None:
    with contextlib.suppress(OSError):
        atomic_write(_account_cache(), json.dumps(data, indent=2, sort_keys=True) + "\n")
