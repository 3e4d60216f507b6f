"""Throttling through a fault-injecting moto server: botocore's standard retries, then a clear
error when they run out."""

from __future__ import annotations

import io
import logging
import re
import threading
import urllib.request
from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from protoncli.aws.cloudformation import CloudFormationGateway
from protoncli.aws.session import SessionFactory
from protoncli.aws.target import AwsTarget
from protoncli.errors import AwsError

SERVICE_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
THROTTLED = (
    b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
    b"<Message>Rate exceeded</Message></Error><RequestId>injected</RequestId></ErrorResponse>"
)


class ThrottleInjector:
    """WSGI middleware: answer the next N calls of one (service, action) with Throttling."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.pending: dict[tuple[str, str], int] = {}
        self.seen: list[tuple[str, str, bool]] = []

    def throttle(self, service, action, times):
        self.pending[(service, action)] = times

    def __call__(self, environ, start_response):
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        environ["wsgi.input"] = io.BytesIO(body)
        scope = SERVICE_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(1) if scope else "?"
        action = parse_qs(body.decode()).get("Action", ["?"])[0]
        with self.lock:
            left = self.pending.get((service, action), 0)
            self.pending[(service, action)] = max(left - 1, 0)
            self.seen.append((service, action, left > 0))
        if not left:
            return self.app(environ, start_response)
        start_response(
            "400 Bad Request",
            [("Content-Type", "text/xml"), ("Content-Length", str(len(THROTTLED)))],
        )
        return [THROTTLED]


@pytest.fixture(scope="module")
def faulty_server() -> Iterator[tuple[str, ThrottleInjector]]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    injector = ThrottleInjector(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", 0, injector, threaded=True, request_handler=MotoRequestHandler
    )
    thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", injector
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def faulty(faulty_server):
    url, injector = faulty_server
    reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")  # noqa: S310 - local moto
    with urllib.request.urlopen(reset) as response:  # noqa: S310 - local moto server
        response.read()
    injector.pending.clear()
    injector.seen.clear()
    return url, injector


def _gateway(url, max_attempts):
    target = AwsTarget(region="us-east-1", endpoint_url=url)
    return CloudFormationGateway(
        SessionFactory(max_attempts=max_attempts).client("cloudformation", target)
    )


def test_two_throttles_are_retried_away(faulty):
    url, injector = faulty
    injector.throttle("cloudformation", "DescribeStacks", times=2)
    assert _gateway(url, max_attempts=3).describe_all() == []
    assert injector.seen == [
        ("cloudformation", "DescribeStacks", True),
        ("cloudformation", "DescribeStacks", True),
        ("cloudformation", "DescribeStacks", False),
    ]


def test_throttling_that_outlasts_the_retries_is_one_clear_error(faulty):
    url, injector = faulty
    injector.throttle("cloudformation", "DescribeStacks", times=5)
    with pytest.raises(AwsError) as caught:
        _gateway(url, max_attempts=2).describe("pcli-acme-env-dev")
    assert caught.value.message == (
        "DescribeStacks failed for stack pcli-acme-env-dev: AWS is throttling requests "
        "(Throttling: Rate exceeded), still after retries"
    )
    assert caught.value.hint == (
        "wait a minute and run the command again; with many stacks, lower the concurrency"
    )
    assert [throttled for _, _, throttled in injector.seen] == [True, True]


@pytest.mark.parametrize(("variable", "attempts"), [(None, 5), ("2", 2), ("4", 4)])
def test_the_users_aws_max_attempts_wins_over_pcli_s_default(
    faulty, monkeypatch, variable, attempts
):
    url, injector = faulty
    if variable is not None:
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", variable)
    injector.throttle("cloudformation", "DescribeStacks", times=10)
    with pytest.raises(AwsError):
        _gateway(url, max_attempts=5).describe_all()
    assert len(injector.seen) == attempts
