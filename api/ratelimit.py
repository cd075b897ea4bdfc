"""Per-key rate limit: a token bucket refilled at ``per_minute / 60`` tokens a second."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Token buckets keyed by API key id.

    Examples
    --------
    >>> clock = iter([0.0, 0.0, 0.0, 30.0]).__next__
    >>> limiter = RateLimiter(per_minute=2, burst=2, clock=clock)
    >>> limiter.acquire("k"), limiter.acquire("k"), limiter.acquire("k")
    (0.0, 0.0, 30.0)
    >>> limiter.acquire("k")
    0.0
    """

    def __init__(
        self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take a token; return 0 if granted, else the seconds until one is available."""
        with self._lock:
            now = self.clock()
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return float(math.ceil((1.0 - tokens) / self.rate_per_s))
