"""The per-process key cache: expiry, revocation, a bounded size, and off when ttl is 0."""

from __future__ import annotations

from api.db.repositories import Caller
from api.keycache import KeyCache


def caller(i: int) -> Caller:
    return Caller(f"k{i}", "org", "forwarder")


def test_entries_expire_after_ttl_and_forget_drops_one_key_at_once() -> None:
    now_s = [0.0]
    cache = KeyCache(ttl_s=5, clock=lambda: now_s[0])
    cache.put("s1", caller(1))
    cache.put("s2", caller(2))
    now_s[0] = 4.9
    assert cache.get("s1") == caller(1) and cache.get("s2") == caller(2)
    cache.forget("k1")
    assert cache.get("s1") is None and cache.get("s2") == caller(2)
    now_s[0] = 5.0
    assert cache.get("s2") is None
    assert cache.get("never seen") is None


def test_ttl_zero_caches_nothing() -> None:
    cache = KeyCache(ttl_s=0)
    cache.put("s1", caller(1))
    assert cache.get("s1") is None


def test_size_stays_bounded_and_expired_entries_go_first() -> None:
    now_s = [0.0]
    cache = KeyCache(ttl_s=5, max_keys=3, clock=lambda: now_s[0])
    cache.put("old", caller(0))
    now_s[0] = 3.0
    cache.put("s1", caller(1))
    cache.put("s2", caller(2))
    now_s[0] = 6.0  # "old" has expired, s1 and s2 have not
    cache.put("s3", caller(3))
    assert [cache.get(s) for s in ("s1", "s2", "s3")] == [caller(1), caller(2), caller(3)]
    cache.put("s4", caller(4))  # full of live keys: start afresh rather than grow
    assert cache.get("s4") == caller(4) and cache.get("s1") is None


def test_a_look_up_under_way_during_a_revocation_is_not_kept() -> None:
    cache = KeyCache(ttl_s=5)
    generation = cache.generation  # the request starts reading the key from the database
    cache.forget("k9")  # meanwhile an admin revokes a key through this process
    cache.put("s1", caller(1), generation)
    assert cache.get("s1") is None
    cache.put("s1", caller(1), cache.generation)
    assert cache.get("s1") == caller(1)
