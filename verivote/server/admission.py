"""Admission control for casts: how many may be in progress, and how long a refused client
should wait.

At most ``ceiling`` casts are in progress. Once the service is saturated — in the last
:data:`WINDOW` seconds it refused a cast, or a cast took longer than ``budget`` — it
measures its own pace (casts completed in the window) and admits at most as many as it
completes within ``budget`` seconds (the latency target), never fewer than ``floor``
(enough to keep every proof worker busy). Past that limit a cast is refused at once (503);
its ``Retry-After`` grows with the crowd — about the time the service needs at its pace to
serve the clients it refused lately, from 1 to :data:`MAX_RETRY_AFTER` seconds — so that
a crowd of retrying clients spreads out instead of coming back all at once.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

WINDOW = 2.0
MAX_RETRY_AFTER = 30


class Admission:
    """In-progress casts against an adaptive limit (see the module docstring). Not
    thread-safe: use it from the event loop only."""

    def __init__(
        self,
        ceiling: int,
        floor: int,
        budget: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if floor < 1 or ceiling < 1:
            raise ValueError("the limits are positive")
        self.ceiling = ceiling
        self.floor = min(floor, ceiling)
        self.budget = budget
        self.clock = clock
        self.inflight = 0
        self._done: deque[float] = deque()
        self._refused: deque[float] = deque()
        self._slow: deque[float] = deque()

    def _trim(self, now: float) -> None:
        for times in (self._done, self._refused, self._slow):
            while times and times[0] < now - WINDOW:
                times.popleft()

    def limit(self) -> int:
        """How many casts may be in progress now: the ceiling, unless the service has been
        saturated lately (in the window it refused a cast, or a cast took longer than
        ``budget``) — then what it completes in ``budget`` seconds at its measured pace, at
        least the floor. (A pace measured while demand was low and fast says nothing of
        what the service can do.)"""
        now = self.clock()
        self._trim(now)
        if not (self._refused or self._slow) or not self._done:
            return self.ceiling
        rate = len(self._done) / WINDOW
        return max(self.floor, min(self.ceiling, math.floor(rate * self.budget)))

    def admit(self) -> bool:
        """Take a slot if one is free (True), or count a refusal (False)."""
        if self.inflight >= self.limit():
            self._refused.append(self.clock())
            return False
        self.inflight += 1
        return True

    def release(self, completed: bool, took: float = 0.0) -> None:
        """Give the slot back; ``completed`` when the cast was answered (not dropped),
        ``took`` seconds after it was admitted."""
        self.inflight -= 1
        if completed:
            now = self.clock()
            self._done.append(now)
            if took > self.budget:
                self._slow.append(now)

    def retry_after(self) -> int:
        """Seconds a refused client should wait: about the time the service needs, at its
        pace, to serve the clients refused lately — casts refused in the window per cast
        it completes (or, before it has a pace, could complete at its limit) in a window;
        between 1 and :data:`MAX_RETRY_AFTER`."""
        limit = self.limit()
        self._trim(self.clock())
        capacity = max(len(self._done), limit / self.budget * WINDOW, 1.0)
        return max(1, min(MAX_RETRY_AFTER, math.ceil(len(self._refused) / capacity)))

    def saturated(self) -> bool:
        """Whether a cast arriving now would be refused."""
        return self.inflight >= self.limit()
