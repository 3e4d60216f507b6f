"""Test isolation shared by every test: no real AWS settings, pcli's files under tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTERS = REPO_ROOT / "blueprints"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def no_sandbox_left_running() -> Iterator[None]:
    """A test that starts a sandbox in-process stops it too: one still running afterwards is
    killed and fails the test that left it."""
    from protoncli.sandbox import manager

    before = set(manager._children)  # the processes this process started
    yield
    leaked = [
        process
        for pid, process in list(manager._children.items())
        if pid not in before and process.poll() is None
    ]
    for process in leaked:
        process.kill()
        process.wait()
    assert not leaked, f"sandbox processes left running: {[p.pid for p in leaked]}"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Clear AWS_* and PCLI_* variables, point PCLI_HOME at a fresh folder, fix the terminal."""
    for key in list(os.environ):
        if key.startswith(("AWS_", "PCLI_")) or key in {"CI", "FORCE_COLOR", "TERM_PROGRAM"}:
            monkeypatch.delenv(key, raising=False)
    home = tmp_path_factory.mktemp("pcli-home")
    monkeypatch.setenv("PCLI_HOME", str(home))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", "/dev/null")
    return home


@pytest.fixture
def starters_dir() -> Path:
    """The repository's starter blueprints (template-sync layout: <name>/v1/)."""
    return STARTERS


@pytest.fixture
def data_dir() -> Path:
    """Test fixtures under tests/data."""
    return DATA


@pytest.fixture(scope="session")
def moto_server_url() -> Iterator[str]:
    """One real moto server over HTTP for the whole run (with pcli's sandbox fixes applied)."""
    import logging

    from moto.server import ThreadedMotoServer

    from protoncli.sandbox.motofix import apply_moto_fixes

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    apply_moto_fixes()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def moto_url(moto_server_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto server, reset for this test; AWS_ENDPOINT_URL points every client at it."""
    import urllib.request

    request = urllib.request.Request(f"{moto_server_url}/moto-api/reset", method="POST")  # noqa: S310 - local moto server
    with urllib.request.urlopen(request) as response:  # noqa: S310 - local moto server
        response.read()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    return moto_server_url
