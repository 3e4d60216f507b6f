"""Following stacks while they run: one poll of an account and region's stacks in progress,
shared by every stack followed, and each stack's events.

A deployment is followed until its stack ends. Looking at each stack on its own (DescribeStacks
every few seconds) either notices the end late or costs calls per stack and per second. Instead,
while any stack of the region is followed past its first look, one ListStacks filtered to the
in-progress statuses is made every `interval` (one call per page, whatever the number of stacks
in flight), and each follower whose stack it no longer names is told so: that follower then
reads its stack once, by id, for the final status and outputs. If that read says the stack still
runs (ListStacks lagged behind, or the stack is in a status this botocore does not know), the
follower heeds the poll again only after a pause that grows to MAX_QUIET seconds, so a poll that
keeps being wrong about a stack costs no more than looking at that stack on its own.

The poll has no thread: the followers take turns. Each waits, with the sleep the poll is given
(the project's, which an interruption ends at once), until its own next step or the next
listing, whichever comes first; the one that wakes when a listing is due makes it, for all.
So nothing runs while nothing is followed, and nothing outlives the command.

When ListStacks cannot be used (denied: IAM cannot limit it to pcli's stacks; an endpoint that
lacks it), the poll is off for the rest of the run and each follower looks at its own stack when
its next step comes.

A stack's events (`EventLog`) are read on their own, slower steps: they show progress, and they
name the resources that failed; they are not what tells that a stack ended.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from protoncli.errors import AwsError

if TYPE_CHECKING:
    from protoncli.aws.cloudformation import CloudFormationGateway
    from protoncli.deploy.model import StackEvent

POLL_INTERVAL = 1.0  # seconds between two listings while a stack is followed
MAX_QUIET = 5.0  # the longest pause in heeding the poll, after it was wrong about a stack
EVENT_LOOKBACK = timedelta(seconds=30)  # how far before the newest event seen events are read


class StackPoll:
    """The stacks in progress of one account and region, listed for every follower at once."""

    def __init__(
        self,
        cloudformation: CloudFormationGateway,
        *,
        interval: float = POLL_INTERVAL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cf = cloudformation
        self.interval = interval
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()  # guards what follows, never held during a call
        self._listing = threading.Lock()  # one listing at a time
        self._followers: set[Follower] = set()
        self._generation = 0  # listings started so far
        self._next_listing = 0.0
        self._unavailable: str | None = None
        self.listings = 0  # listings made (each one ListStacks, every page)

    @property
    def unavailable(self) -> str | None:
        """Why the poll is off (ListStacks failed), or None while it works."""
        return self._unavailable

    @property
    def following(self) -> int:
        """How many stacks are followed now."""
        with self._lock:
            return len(self._followers)

    @contextmanager
    def follow(self, stack_id: str) -> Iterator[Follower]:
        """Follow a stack that runs (as a look at it just said) for as long as the block lasts."""
        now = self._clock()
        with self._lock:
            if not self._followers:  # idle until now: the first listing comes in one interval
                self._next_listing = now + self.interval
            follower = Follower(self, stack_id, self._generation, now, now, self.interval)
            self._followers.add(follower)
        try:
            yield follower
        finally:
            with self._lock:
                self._followers.discard(follower)

    def now(self, follower: Follower) -> float:
        """The poll's clock, never behind the time `follower` knows it slept."""
        follower.known_time = max(follower.known_time, self._clock())
        return follower.known_time

    def wait_until(self, follower: Follower, deadline: float) -> bool:
        """Wait until a listing finds the follower's stack no longer in progress (True) or
        `deadline` comes (False). While the poll is off, True at `deadline`: the follower
        looks at its stack itself."""
        while True:
            now = self.now(follower)
            with self._lock:
                if follower.ended:
                    follower.ended = False
                    return True
                due = None if self._unavailable is not None else self._next_listing
            if due is not None and now >= due:  # a listing first: it may spare a read
                self._list(now)
                continue
            if now >= deadline:
                return due is None
            pause = (deadline if due is None else min(deadline, due)) - now
            self._sleep(pause)
            follower.known_time = max(self._clock(), now + pause)

    def still_running(self, follower: Follower) -> None:
        """The follower read its stack after a listing said it ended, and it still runs: heed
        the listings again only after a pause (longer each time they are wrong about it)."""
        now = self.now(follower)
        with self._lock:
            follower.ended = False
            follower.heed_from = now + follower.quiet
            follower.quiet = min(follower.quiet * 2, MAX_QUIET)

    def _list(self, now: float) -> None:
        """List the stacks in progress, unless another follower did since the listing fell due,
        and mark each follower whose stack has left the list."""
        with self._listing:
            with self._lock:
                if self._unavailable is not None or self._next_listing > now:
                    return
                self._generation += 1
                generation = self._generation
                self._next_listing = now + self.interval
            try:
                running = self._cf.stacks_in_progress()
            except AwsError as error:
                with self._lock:
                    self._unavailable = error.message
                return
            with self._lock:
                self.listings += 1
                for follower in self._followers:
                    if generation <= follower.registered:
                        continue  # begun before the stack was followed: it may predate its run
                    if follower.stack_id in running:
                        follower.quiet = self.interval  # seen running: trusted again
                    elif now >= follower.heed_from:
                        follower.ended = True


@dataclass(eq=False)
class Follower:
    """One stack a poll follows. Its fields are the poll's to change (under the poll's lock)."""

    poll: StackPoll
    stack_id: str
    registered: int  # the listings started so far when it was followed: later ones concern it
    known_time: float  # the latest time it knows of (never behind the time it slept)
    heed_from: float  # listings made before then are not heeded (after a false end)
    quiet: float  # the pause in heeding listings after the next false end
    ended: bool = False  # a listing no longer names the stack

    def now(self) -> float:
        return self.poll.now(self)

    def wait_until(self, deadline: float) -> bool:
        return self.poll.wait_until(self, deadline)

    def still_running(self) -> None:
        self.poll.still_running(self)


class EventLog:
    """A stack's events from `since` on, each reported once, oldest first."""

    def __init__(
        self,
        cloudformation: CloudFormationGateway,
        stack_id: str,
        *,
        since: datetime,
        report: Callable[[StackEvent], None],
    ) -> None:
        self._cf = cloudformation
        self._stack_id = stack_id
        self._since = self._newest = since
        self._report = report
        self._seen: set[str] = set()
        self.collected: list[StackEvent] = []

    def read(self) -> None:
        """Report the events not seen yet. Read from a little before the newest event seen:
        less each time, yet events that show up late are still caught (and the ids keep each
        one reported once)."""
        for event in self._cf.events(
            self._stack_id, max(self._since, self._newest - EVENT_LOOKBACK)
        ):
            if event.event_id not in self._seen:
                self._seen.add(event.event_id)
                self.collected.append(event)
                self._newest = max(self._newest, event.timestamp)
                self._report(event)
