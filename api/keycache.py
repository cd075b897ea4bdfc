"""Per-process cache of authenticated API keys, so a hot key costs no database read."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from api.db.repositories import Caller, digest


class KeyCache:
    """Keys that authenticated in the last ``ttl_s`` seconds, by the digest of their secret.

    Only successful look-ups are kept: a key not seen in the last ``ttl_s`` seconds reaches
    the database. A key revoked through this process is forgotten at once, and a look-up that
    was under way meanwhile is not kept (``generation``); one revoked elsewhere (``shudao admin
    revoke-key``, another server process) stops working within ``ttl_s``. ``ttl_s=0`` turns
    the cache off.

    Examples
    --------
    >>> clock = iter([0.0, 1.0, 6.0]).__next__
    >>> cache = KeyCache(ttl_s=5, clock=clock)
    >>> cache.put("secret", Caller("k1", "org", "forwarder"))  # at t=0
    >>> cache.get("secret")  # at t=1
    Caller(id='k1', organisation_id='org', role='forwarder')
    >>> cache.get("secret") is None  # at t=6, expired
    True
    """

    def __init__(
        self, ttl_s: float, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_s, self.max_keys, self.clock = ttl_s, max_keys, clock
        self._entries: dict[str, tuple[Caller, float]] = {}
        self._lock = threading.Lock()
        #: Bumped by :meth:`forget`; a look-up started before a revocation is not cached.
        self.generation = 0

    def get(self, secret: str) -> Caller | None:
        """The cached caller for ``secret``, or None if absent or expired."""
        entry = self._entries.get(digest(secret))
        if entry is None or entry[1] <= self.clock():
            return None
        return entry[0]

    def put(self, secret: str, caller: Caller, generation: int | None = None) -> None:
        """Remember that ``secret`` authenticated as ``caller``, in a look-up that started at
        ``generation`` (skipped if a key was forgotten since)."""
        if self.ttl_s <= 0:
            return
        now = self.clock()
        with self._lock:
            if generation is not None and generation != self.generation:
                return
            if len(self._entries) >= self.max_keys:
                self._entries = {d: e for d, e in self._entries.items() if e[1] > now}
                if len(self._entries) >= self.max_keys:
                    self._entries.clear()
            self._entries[digest(secret)] = (caller, now + self.ttl_s)

    def forget(self, key_id: str) -> None:
        """Drop a key (by id) at once, after it was revoked."""
        with self._lock:
            self.generation += 1
            self._entries = {d: e for d, e in self._entries.items() if e[0].id != key_id}
