"""A local stand-in for AWS Proton's NotifyResourceDeploymentStatusChange: CodeBuild commands
run by pcli report outputs with `aws proton notify-resource-deployment-status-change`, sent
(`AWS_ENDPOINT_URL_PROTON`) to a tiny HTTP server on 127.0.0.1 speaking Proton's awsJson1_0.

Only the resource the endpoint was made for is accepted. Outputs are validated with the limits of
Proton's API model (key and valueString: 1 to 1024 characters, at most 50 outputs a call). The
signature is not checked (loopback only), but one must be present, as the AWS CLI and SDKs send.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

SERVICE = "AwsProton20200720"
OPERATION = "NotifyResourceDeploymentStatusChange"
CONTENT_TYPE = "application/x-amz-json-1.0"
STATUSES = ("IN_PROGRESS", "FAILED", "SUCCEEDED")
MAX_KEY = 1024
MAX_VALUE = 1024
MAX_OUTPUTS = 50  # a call; the endpoint merges outputs across calls
MAX_STATUS_MESSAGE = 5000
MAX_BODY = 1024 * 1024
LOOPBACK = "127.0.0.1"
_INVALID = "ValidationException"


def output_problem(key: Any, value: Any) -> str | None:
    """Why Proton would refuse the output `key` = `value`, or None when it is valid."""
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY:
        shown = key[:60] if isinstance(key, str) else repr(key)[:60]
        return f"output key '{shown}' must be a string of 1 to {MAX_KEY} characters"
    if value is None:
        return f"output '{key}' has no valueString"
    if not isinstance(value, str):
        return f"output '{key}': valueString must be a string, not {type(value).__name__}"
    if not 1 <= len(value) <= MAX_VALUE:
        return f"output '{key}': valueString must be 1 to {MAX_VALUE} characters, not {len(value)}"
    return None


class _Refused(Exception):  # noqa: N818 - an answer, not a failure of the server
    def __init__(self, message: str, error_type: str = _INVALID, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


def _unknown(operation: str) -> _Refused:
    return _Refused(
        f"operation {operation} is not available: pcli's local Proton endpoint answers"
        f" {SERVICE}.{OPERATION} only",
        "UnknownOperationException",
    )


def _parse_outputs(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise _Refused("outputs must be a list of {key, valueString}")
    if len(raw) > MAX_OUTPUTS:
        raise _Refused(f"outputs has {len(raw)} items; at most {MAX_OUTPUTS} are accepted a call")
    outputs: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, dict):
            raise _Refused("each output must be {key, valueString}")
        problem = output_problem(item.get("key"), item.get("valueString"))
        if problem:
            raise _Refused(problem)
        outputs[item["key"]] = item["valueString"]
    return outputs


class NotifyEndpoint:
    """A context manager: a local Proton endpoint for `resource_arn`, listening while open."""

    def __init__(self, resource_arn: str) -> None:
        self.resource_arn = resource_arn
        self._lock = threading.Lock()
        self._outputs: dict[str, str] = {}
        self._statuses: list[str] = []
        self._messages: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # what the commands reported (copies: safe to read while the commands run)
    @property
    def outputs(self) -> dict[str, str]:
        with self._lock:
            return dict(self._outputs)

    @property
    def statuses(self) -> list[str]:
        with self._lock:
            return list(self._statuses)

    @property
    def messages(self) -> list[str]:
        with self._lock:
            return list(self._messages)

    def start(self) -> None:
        if self._server is not None:
            return
        self._server = _Server(_Handler, self)
        serve = self._server.serve_forever
        self._thread = threading.Thread(target=serve, args=(0.2,), name="pcli-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the notify endpoint is not running (use it as a context manager)")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Variables that send the AWS CLI's and SDKs' Proton calls to this endpoint.

        `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=false` keeps a user's setting from disabling the
        redirection; the loopback address is added to NO_PROXY (of `base`, else of this process's
        environment) so an HTTP proxy does not take the calls away.
        """
        source = os.environ if base is None else base
        hosts = (source.get("NO_PROXY") or source.get("no_proxy") or "").split(",")
        joined = ",".join([h for h in hosts if h.strip() and h.strip() != LOOPBACK] + [LOOPBACK])
        return {
            "AWS_ENDPOINT_URL_PROTON": self.url,
            "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "false",
            "NO_PROXY": joined,
            "no_proxy": joined,
        }

    def _notify(self, body: Any) -> None:
        if not isinstance(body, dict):
            raise _Refused("the request body must be a JSON object", "SerializationException")
        arn, status = body.get("resourceArn"), body.get("status")
        message, deployment_id = body.get("statusMessage", ""), body.get("deploymentId", "")
        if not isinstance(arn, str) or not arn:
            raise _Refused("resourceArn is required")
        if arn != self.resource_arn:
            raise _Refused(
                f"resource {arn} is not the one being provisioned ({self.resource_arn});"
                ' use --resource-arn "$RESOURCE_ARN"',
                "ResourceNotFoundException",
            )
        if status is not None and status not in STATUSES:
            raise _Refused(f"status '{status}' must be one of {', '.join(STATUSES)}")
        if not isinstance(message, str) or len(message) > MAX_STATUS_MESSAGE:
            raise _Refused(f"statusMessage must be a string of at most {MAX_STATUS_MESSAGE} chars")
        if not isinstance(deployment_id, str):
            raise _Refused("deploymentId must be a string")
        outputs = _parse_outputs(body.get("outputs"))
        with self._lock:
            self._outputs.update(outputs)
            if status is not None:
                self._statuses.append(status)
            if message:
                self._messages.append(message)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler], endpoint: NotifyEndpoint) -> None:
        super().__init__((LOOPBACK, 0), handler)
        self.endpoint = endpoint


_SIGNED = re.compile(r"^AWS4-HMAC-SHA256 ")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        """Quiet: pcli's core never prints."""

    def _answer(self, status: int, body: Mapping[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def _refuse(self, refused: _Refused) -> None:
        self._answer(refused.status, {"__type": refused.error_type, "message": refused.message})

    def _read_body(self) -> Any:
        length = (self.headers.get("Content-Length") or "0").strip()
        if not length.isdigit() or int(length) > MAX_BODY:
            raise _Refused("bad or missing Content-Length", "SerializationException")
        raw = self.rfile.read(int(length))
        try:
            return json.loads(raw.decode("utf-8") or "{}")
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise _Refused(f"the body is not JSON: {error}", "SerializationException") from None

    def _check_request(self) -> None:
        if not _SIGNED.match(self.headers.get("Authorization") or ""):
            raise _Refused(
                "the request is not signed (AWS credentials are needed, any will do)",
                "MissingAuthenticationTokenException",
                403,
            )
        target = self.headers.get("X-Amz-Target") or ""
        service, _, operation = target.partition(".")
        if self.path != "/" or service != SERVICE or operation != OPERATION:
            raise _unknown(target or f"{self.command} {self.path}")

    def do_POST(self) -> None:
        try:
            self._check_request()
            self.server.endpoint._notify(self._read_body())  # noqa: SLF001
        except _Refused as refused:
            self._refuse(refused)
            return
        self._answer(200, {})

    def do_GET(self) -> None:
        self._refuse(_unknown(f"{self.command} {self.path}"))

    do_PUT = do_DELETE = do_PATCH = do_GET  # noqa: N815
