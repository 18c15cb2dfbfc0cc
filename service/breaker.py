"""A circuit breaker: after the cache fails, skip it for a while instead of waiting on it again.

A Redis that hangs (stopped, or a port that accepts and never answers) costs every call its
socket timeout. Short timeouts bound one call; the breaker bounds how often anyone pays one:
after a failure the cache is not called for ``cooldown`` seconds, then one caller tries it
(the others keep skipping until that trial ends), and a success closes the breaker again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """Closed (calls go through) until ``failed()``; then open for ``cooldown`` seconds.

    ``clock`` is injectable so the tests move time instead of sleeping.
    """

    def __init__(self, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._retry_at: float | None = None  # None: closed
        self.failure: str = ""  # what the last failure was ("down" or "stalled")

    @property
    def open(self) -> bool:
        return self._retry_at is not None

    def allow(self) -> bool:
        """Whether to call the cache now. Once the cooldown is over, the first caller gets a
        trial and the next trial is pushed a cooldown away, so concurrent callers do not all
        wait on a cache that is still hung."""
        with self._lock:
            if self._retry_at is None:
                return True
            now = self.clock()
            if now < self._retry_at:
                return False
            self._retry_at = now + self.cooldown
            return True

    def failed(self, kind: str) -> bool:
        """Open (or keep open) the breaker; True if it was closed until now."""
        with self._lock:
            was_closed = self._retry_at is None
            self._retry_at = self.clock() + self.cooldown
            self.failure = kind
            return was_closed

    def succeeded(self) -> bool:
        """Close the breaker; True if it was open until now."""
        with self._lock:
            was_open = self._retry_at is not None
            self._retry_at = None
            self.failure = ""
            return was_open
