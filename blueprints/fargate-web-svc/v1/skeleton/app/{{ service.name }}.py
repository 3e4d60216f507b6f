"""{{ service.name }}: a small HTTP service to start from.

It answers every GET with a JSON document naming the service and showing the queue settings that
an attached sqs-queue-component passes in as environment variables.
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE_NAME = "{{ service.name }}"
COMPONENT_VARIABLES = ("QueueUrl", "QueueArn", "QueueName")


def component_settings() -> dict[str, str]:
    """Outputs of the attached component that reached the container, by name."""
    return {name: os.environ[name] for name in COMPONENT_VARIABLES if name in os.environ}


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {"service": SERVICE_NAME, "path": self.path, "component": component_settings()}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main() -> None:
    port = int(os.environ.get("PORT", "{{ service_instance.inputs.port | int }}"))
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)  # noqa: S104 - a container listens on every interface
    server.serve_forever()


if __name__ == "__main__":
    main()
