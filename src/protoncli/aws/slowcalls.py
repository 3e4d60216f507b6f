"""AWS calls that take long: every call in flight is watched, and one still going after a few
seconds is said once (what it waits for, where, how long so far), so no command sits silent
while an endpoint or the network is slow. Retries are part of the call: botocore makes them
inside it, each attempt bounded by the read timeout.

The saying is a callback the command line gives (a note on stderr); this module prints nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

CHECK_EVERY = 0.25  # seconds between looks at the calls in flight


@dataclass
class _Call:
    what: str  # "CloudFormation DescribeStacks (us-east-1)"
    started: float
    said: bool = False


class SlowCalls:
    """Watches the calls of the clients given to `watch`; `on_slow(message)` for each call
    still in flight `after` seconds after it began (once per call)."""

    def __init__(
        self,
        on_slow: Callable[[str], None],
        *,
        after: float,
        read_timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._on_slow = on_slow
        self._after = after
        self._read_timeout = read_timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: dict[int, _Call] = {}  # by the thread that makes the call
        self._watcher: threading.Thread | None = None

    def watch(self, client: Any) -> None:
        """Follow every call `client` makes."""
        region = client.meta.region_name or "no region"

        def started(model: Any, **_: Any) -> None:
            what = f"{model.service_model.service_id} {model.name} ({region})"
            with self._lock:
                self._calls[threading.get_ident()] = _Call(what, self._clock())
                if self._watcher is None:
                    self._watcher = threading.Thread(
                        target=self._watch, name="pcli-slow-calls", daemon=True
                    )
                    self._watcher.start()

        def ended(**_: Any) -> None:
            with self._lock:
                self._calls.pop(threading.get_ident(), None)

        events = client.meta.events
        events.register("before-call", started)
        events.register("after-call", ended)
        events.register("after-call-error", ended)

    def look(self) -> None:
        """Say each call that has gone on for `after` seconds and was not said yet."""
        now = self._clock()
        due: list[tuple[str, float]] = []
        with self._lock:
            for call in self._calls.values():
                if not call.said and now - call.started >= self._after:
                    call.said = True
                    due.append((call.what, now - call.started))
        for what, seconds in due:
            self._on_slow(
                f"Still waiting for {what} after {seconds:.0f} s: AWS or the network is slow. "
                f"Each attempt gives up after {self._read_timeout:g} s (--read-timeout), and "
                "AWS_MAX_ATTEMPTS says how many are made."
            )

    def _watch(self) -> None:
        while True:
            time.sleep(CHECK_EVERY)
            self.look()
