"""``RedisStore`` against a real redis-server, side by side with ``MemoryStore``: the same
protocol, the same answers, atomic across threads, every key with an expiry."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
import redis

import mockserver.state.redis
from mockserver.state import MemoryStore, StateStore, StateUnavailable, open_store
from mockserver.state.redis import RedisStore, parse_state_url, redact
from tests.fixtures.redis_server import free_port, redis_url, running_redis

__all__ = ["redis_url"]


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[StateStore]:
    if request.param == "memory":
        yield MemoryStore()
        return
    url = request.getfixturevalue("redis_url")
    s = RedisStore.connect(f"{url}?prefix=t-{uuid.uuid4().hex[:8]}:")
    yield s
    s.clear()
    s.close()


def hammer(n: int, fn: Callable[[], object]) -> list[object]:
    results: list[object] = []
    lock = threading.Lock()
    barrier = threading.Barrier(n)

    def run() -> None:
        barrier.wait()
        value = fn()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_get_set_delete(store: StateStore) -> None:
    assert store.get("a") is None
    store.set("a", "1")
    assert store.get("a") == "1"
    store.set("a", "2", ttl=60)
    assert store.get("a") == "2"
    store.delete("a")
    store.delete("a")
    assert store.get("a") is None


def test_values_expire(store: StateStore) -> None:
    store.set("short", "x", ttl=0.05)
    assert store.set_if_absent("short-nx", "x", ttl=0.05)
    assert store.incr("short-n", 0.05) == 1
    time.sleep(0.12)
    assert store.get("short") is None
    assert store.get("short-nx") is None
    assert store.incr("short-n", 0.05) == 1
    assert store.keys("short") == ["short-n"]


def test_set_if_absent_one_winner_under_threads(store: StateStore) -> None:
    won = hammer(32, lambda: store.set_if_absent("nx", uuid.uuid4().hex, ttl=60))
    assert won.count(True) == 1


def test_take_one_winner_under_threads(store: StateStore) -> None:
    store.set("code", "secret", ttl=60)
    got = hammer(32, lambda: store.take("code"))
    assert got.count("secret") == 1
    assert got.count(None) == 31
    assert store.get("code") is None


def test_incr_exact_under_threads(store: StateStore) -> None:
    counts = hammer(64, lambda: store.incr("rl:x", 60))
    assert sorted(counts) == list(range(1, 65))  # type: ignore[type-var]
    assert store.get("rl:x") == "64"


def test_keys_and_clear_by_prefix(store: StateStore) -> None:
    for key in ("res:a:1", "res:a:2", "res:b:1", "oauth:at:x", "oauth:atz"):
        store.set(key, "v", ttl=60)
    store.incr("rl:1", 60)
    assert sorted(store.keys("res:a:")) == ["res:a:1", "res:a:2"]
    assert sorted(store.keys("oauth:at")) == ["oauth:at:x", "oauth:atz"]
    assert store.keys("nothing") == []
    store.take("res:a:1")
    assert store.keys("res:a:") == ["res:a:2"]
    store.clear("res:")
    assert store.keys("res:") == []
    assert store.get("oauth:at:x") == "v"
    store.clear()
    assert store.keys("") == []
    assert store.get("rl:1") is None


def test_unicode_keys_and_values(store: StateStore) -> None:
    store.set("res:ünï:ß", "välue ✓", ttl=60)
    assert store.get("res:ünï:ß") == "välue ✓"
    assert store.keys("res:ünï") == ["res:ünï:ß"]


# -- Redis only ------------------------------------------------------------------------


def raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def test_every_redis_key_has_an_expiry(redis_url: str) -> None:
    s = RedisStore.connect(f"{redis_url}?prefix=ttl-check:&max_ttl=3600")
    s.set("fault:scenario:s1", "{}")  # no TTL asked: gets max_ttl
    s.set("oauth:at:t", "{}", ttl=10 * 365 * 86400.0)  # capped at max_ttl
    s.set_if_absent("res:x", "{}")
    s.incr("oauth:generation", 10 * 365 * 86400.0)
    s.incr("rl:w", 2)
    r = raw(redis_url)
    keys = list(r.scan_iter(match="ttl-check:*"))
    assert len(keys) == 7  # five values, the key index and the store's version
    for key in keys:
        assert 0 < r.pttl(key) <= 3_600_000, key
    s.clear()


def test_two_prefixes_share_one_redis_without_seeing_each_other(redis_url: str) -> None:
    a = RedisStore.connect(f"{redis_url}?prefix=mock-a:")
    b = RedisStore.connect(f"{redis_url}?prefix=mock-b:")
    a.set("oauth:at:t", "a", ttl=60)
    b.set("oauth:at:t", "b", ttl=60)
    assert a.incr("rl:k", 60) == 1
    assert b.incr("rl:k", 60) == 1
    a.clear()
    assert b.get("oauth:at:t") == "b"
    assert b.keys("") == ["oauth:at:t", "rl:k"]
    b.clear()


def test_two_stores_same_prefix_are_one_state(redis_url: str) -> None:
    a = RedisStore.connect(f"{redis_url}?prefix=shared:")
    b = RedisStore.connect(f"{redis_url}?prefix=shared:")
    a.set("oauth:code:c", "x", ttl=60)
    assert [b.take("oauth:code:c"), a.take("oauth:code:c")] == ["x", None]
    a.clear()


def test_index_sweep_drops_expired_members(redis_url: str) -> None:
    s = RedisStore.connect(f"{redis_url}?prefix=sweep:")
    for i in range(600):
        s.set(f"rl:{i}", "1", ttl=0.01)
    time.sleep(0.05)
    for i in range(600):  # more writes: the periodic sweeps run
        s.set(f"live:{i}", "1", ttl=60)
    r = raw(redis_url)
    members = r.zcard("sweep:\x00index")
    assert members < 1200 - 200  # expired members were swept (not only listed ones)
    assert len(s.keys("live:")) == 600
    s.clear()
    # only the version is left (bumped, never reset: see RedisStore.request_scope)
    assert list(r.scan_iter(match="sweep:*")) == ["sweep:\x00version"]
    assert r.pttl("sweep:\x00version") > 0


def test_get_many(redis_url: str) -> None:
    s = RedisStore.connect(f"{redis_url}?prefix=many:")
    s.set("a", "1", ttl=60)
    assert s.get_many(["a", "b"]) == ["1", None]
    assert s.get_many([]) == []
    s.clear()


def test_unreachable_redis_is_a_clear_error_at_start() -> None:
    port = free_port()
    with pytest.raises(StateUnavailable) as info:
        open_store(f"redis://:hunter2@127.0.0.1:{port}/0")
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message
    assert "hunter2" not in message


def test_redis_going_away_raises_state_unavailable() -> None:
    with running_redis() as url:
        s = RedisStore.connect(url)
        s.set("k", "v", ttl=60)
    with pytest.raises(StateUnavailable, match="unavailable"):
        s.get("k")
    with pytest.raises(StateUnavailable):
        s.incr("rl:k", 1)


def test_state_url_parsing() -> None:
    assert parse_state_url("redis://h:1/2?prefix=team:&max_ttl=60&ssl_cert_reqs=none") == (
        "redis://h:1/2?ssl_cert_reqs=none",
        "team:",
        60.0,
    )
    assert parse_state_url("unix:///tmp/r.sock?db=1") == (
        "unix:///tmp/r.sock?db=1",
        "mockserver:",
        7 * 86400.0,
    )
    for bad in ("http://h", "redis://h?max_ttl=x", "redis://h?max_ttl=0"):
        with pytest.raises(ValueError):
            parse_state_url(bad)
    assert redact("redis://u:pw@h:1/0") == "redis://u:***@h:1/0"
    assert open_store(None).__class__ is MemoryStore
    with pytest.raises(StateUnavailable, match="unsupported state URL"):
        open_store("http://localhost:6379")


def test_request_scope_serves_repeated_reads_and_sees_other_writers(redis_url: str) -> None:
    url = f"{redis_url}?prefix=scope-{uuid.uuid4().hex[:8]}:"
    a, b = RedisStore.connect(url), RedisStore.connect(url)
    a.set("oauth:at:t", "v1", ttl=60)
    deadline = time.monotonic() + 5
    while not a._listener._live:  # the subscription to the version channel is confirmed
        assert time.monotonic() < deadline
        with a.request_scope():
            pass
        time.sleep(0.01)
    calls: list[str] = []
    real_get = a.client.get

    def counting_get(name: str) -> object:
        calls.append(name)
        return real_get(name)

    a.client.get = counting_get  # type: ignore[method-assign]
    with a.request_scope():
        assert a.get("oauth:at:t") == "v1"
    with a.request_scope():
        assert a.get("oauth:at:t") == "v1"  # from memory, and no round trip for the version
        assert a.keys("oauth:") == ["oauth:at:t"]
    assert [c.rsplit(":", 1)[-1] for c in calls] == ["t"]
    b.set("oauth:at:t", "v2", ttl=60)  # another process writes: the version moves
    with a.request_scope():  # ... and its message is already in a's socket
        assert a.get("oauth:at:t") == "v2"
        b.delete("oauth:at:t")
        assert a.get("oauth:at:t") == "v2"  # within one request: a consistent read
        a.set("oauth:x", "1", ttl=60)  # our own write turns the cache off
        assert a.get("oauth:at:t") is None
    assert a.get("oauth:at:t") is None  # outside a scope: always Redis
    assert not any(c.endswith("version") for c in calls)
    a.clear()


def test_request_scope_without_a_subscription_asks_redis(redis_url: str) -> None:
    url = f"{redis_url}?prefix=nosub-{uuid.uuid4().hex[:8]}:"
    a, b = RedisStore.connect(url), RedisStore.connect(url)
    a._listener.version = lambda: mockserver.state.redis._UNKNOWN  # type: ignore[method-assign]
    a.set("k", "1", ttl=60)
    with a.request_scope():
        assert a.get("k") == "1"
    b.set("k", "2", ttl=60)
    with a.request_scope():
        assert a.get("k") == "2"
    a.clear()


def test_request_scope_entries_age_out(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import mockserver.state.redis as module

    monkeypatch.setattr(module, "_CACHE_SECONDS", 0.05)
    s = RedisStore.connect(f"{redis_url}?prefix=age-{uuid.uuid4().hex[:8]}:")
    s.set("k", "v", ttl=0.1)
    with s.request_scope():
        assert s.get("k") == "v"
    time.sleep(0.15)  # expired by TTL: no write, so the version did not move
    with s.request_scope():
        assert s.get("k") is None
    s.clear()
