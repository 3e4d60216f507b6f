"""How soon the end of a long deployment is reported, end to end: a real moto server behind a
WSGI middleware that keeps one stack UPDATE_IN_PROGRESS (in DescribeStacks and ListStacks) for a
few seconds after its change set is executed, then lets it through.

The goal is to report the end within 2 s of it. The middleware's own clock says when it let the
stack through; the poll it replaced (every 5 s by then) reported this one about 2.6 s late.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode

import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from protoncli.aws.session import SessionFactory
from protoncli.blueprints.registry import Registry
from protoncli.deploy.model import DeployHooks, StackRequest
from protoncli.deploy.project import AwsSettings, Project
from protoncli.sandbox.motofix import apply_moto_fixes
from protoncli.workspace.model import init_workspace

REGION = "us-east-1"
NAME = "pcli-acme-env-dev"
NS = "{http://cloudformation.amazonaws.com/doc/2010-05-15/}"
HELD = "UPDATE_IN_PROGRESS"
HOLD_SECONDS = 3.6  # after 0, 0.2, 0.6, 1.4 and 3 s, the old poll looked next at 6.2 s
GOAL_SECONDS = 2.0
TOPIC = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n"
TOPIC_AND_QUEUE = TOPIC + "  Queue:\n    Type: AWS::SQS::Queue\n"


class HoldInProgress:
    """WSGI middleware: from the next ExecuteChangeSet on, for `seconds`, one stack is said to
    be UPDATE_IN_PROGRESS by DescribeStacks and ListStacks; then it is shown as it is."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.stack: str | None = None
        self.seconds = 0.0
        self.released_at: float | None = None  # time.monotonic() when the hold ends
        self.seen: list[tuple[float, str, str, bool]] = []  # (when, action, stack, held)

    def hold(self, stack, seconds):
        self.stack, self.seconds = stack, seconds

    def __call__(self, environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        params = parse_qs(body.decode())
        action = params.get("Action", ["?"])[0]
        now = time.monotonic()
        with self.lock:
            if action == "ExecuteChangeSet" and self.stack and self.released_at is None:
                self.released_at = now + self.seconds
            held = self.released_at is not None and now < self.released_at
            self.seen.append((now, action, params.get("StackName", [""])[0], held))
        wanted = None
        if held and action == "ListStacks":  # filter here, with the held stack's status
            wanted = {
                value for key, values in params.items() if key.startswith("StackStatusFilter.")
                for value in values
            }  # fmt: skip
            kept = [(k, v) for k, vs in params.items() if k not in wanted for v in vs]
            body = urlencode([(k, v) for k, v in kept if not k.startswith("StackStatusFilter.")])
            body = body.encode()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if not held or action not in {"DescribeStacks", "ListStacks"}:
            return self.app(environ, start_response)
        answered = {}

        def keep(status, headers, _exc_info=None):
            answered.update(status=status, headers=headers)
            return lambda _data: None

        answer = self._rewrite(b"".join(self.app(environ, keep)), wanted)
        headers = [(k, v) for k, v in answered["headers"] if k.lower() != "content-length"]
        start_response(answered["status"], [*headers, ("Content-Length", str(len(answer)))])
        return [answer]

    def _rewrite(self, answer, wanted):
        root = ET.fromstring(answer)  # noqa: S314 - moto's answer, in this process
        for parent in list(root.iter()):
            for member in parent.findall(f"{NS}member"):
                status = member.find(f"{NS}StackStatus")
                if status is None:
                    continue
                if member.findtext(f"{NS}StackName") == self.stack:
                    status.text = HELD
                if wanted is not None and status.text not in wanted:
                    parent.remove(member)
        return ET.tostring(root)


@pytest.fixture(scope="module")
def held_server() -> Iterator[tuple[str, HoldInProgress]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    apply_moto_fixes()
    middleware = HoldInProgress(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", 0, middleware, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", middleware
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def held(held_server):
    url, middleware = held_server
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310 - local moto
    with urllib.request.urlopen(reset) as response:  # noqa: S310 - local moto server
        response.read()
    middleware.reset()
    return url, middleware


@pytest.fixture
def project(held, tmp_path):
    url, _ = held
    workspace = init_workspace(tmp_path / "ws", name="acme", region=REGION, registry=None)
    return Project(
        workspace,
        Registry(tmp_path / "reg"),
        SessionFactory(),
        settings=AwsSettings(endpoint_url=url),
    )


def _request(body):
    return StackRequest(NAME, body, {"pcli:workspace": "acme"}, "environment dev")


def _yes(_changes):
    return True


def test_the_end_of_a_long_update_is_reported_within_two_seconds(held, project):
    _, middleware = held
    project.deployer(REGION).deploy(_request(TOPIC), DeployHooks(lambda _event: None, _yes))
    middleware.hold(NAME, HOLD_SECONDS)
    reported: list[tuple[float, str]] = []

    result = project.deployer(REGION).deploy(
        _request(TOPIC_AND_QUEUE),
        DeployHooks(lambda event: reported.append((time.monotonic(), event.kind)), _yes),
    )

    assert result.status == "UPDATE_COMPLETE"
    assert middleware.released_at is not None
    done_at = next(at for at, kind in reported if kind == "done")
    late = done_at - middleware.released_at
    assert 0 <= late < GOAL_SECONDS, f"the end was reported {late:.1f} s after it came"
    executed = [at for at, action, _, _ in middleware.seen if action == "ExecuteChangeSet"][-1]
    reads = [
        was_held
        for at, action, stack, was_held in middleware.seen
        if action == "DescribeStacks" and at > executed and NAME in stack
    ]
    assert reads == [True, False]  # the first look, and once at the end: no reads in between
    assert any(was_held for _, action, _, was_held in middleware.seen if action == "ListStacks")
