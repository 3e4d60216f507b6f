"""Fixtures of the provisioning tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_real_aws(monkeypatch):
    """Dummy credentials and no configuration of the machine's: a program these tests run (the
    AWS CLI, a bundle's commands) can never reach a real account."""
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
