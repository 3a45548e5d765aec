"""``RedisStore``: the ``StateStore`` shared by many workers and hosts (redis-py).

Every key lives under a configurable prefix (``mockserver:`` by default), so several
mocks can share one Redis without seeing each other's tokens or counters, and several
processes with the same prefix act as one API.

Atomicity: ``take``, ``incr`` and ``set_if_absent`` are one Lua script each, so "one
authorization code, one token" and "exactly N requests per window" hold across hosts.

Expiry: every key expires. A write without a TTL (dataset changes, scenarios, counters
meant to last the run) gets ``max_ttl`` (7 days by default, refreshed on every write), and
no TTL is ever longer than ``max_ttl``: a forgotten mock never fills a shared Redis.

Listing: ``keys(prefix)`` must not scan the whole Redis on the request path (the dataset
reads its changes on every list request), so the store keeps its key names in one sorted
set (all scores 0, so ``ZRANGE BYLEX`` answers a prefix in O(log N + M)). Members whose
key expired are dropped when a listing meets them, and by a bounded sweep every few
hundred writes, so the index never grows past the live keys by much.

Unreachable Redis: ``RedisStore.connect`` pings and raises ``StateUnavailable`` with the
URL and the reason (the CLI prints it and exits 2); while running, every Redis error is
raised as ``StateUnavailable``, which the pipeline answers with 503 (fail closed, see the
README's "Scaling out").
"""

from __future__ import annotations

import contextlib
import itertools
import os
import select
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.commands.core import Script

from mockserver.state.base import StateUnavailable

T = TypeVar("T")

DEFAULT_PREFIX = "mockserver:"
DEFAULT_MAX_TTL = 7 * 86400.0
# One sweep of the key index every this many writes, over this many members.
_SWEEP_EVERY = 512
_SWEEP_COUNT = 256
_INDEX = "\x00index"
_SWEEP_CURSOR = "\x00sweep"
_VERSION = "\x00version"
_NO_VERSION = "\x00unset"  # never a value of the version key: the first scope loads
_UNKNOWN = object()
# After a failed subscription, try again at most this often (seconds).
_RESUBSCRIBE_EVERY = 1.0
# How long a cached read may serve at most, so a key that expires by TTL (no write, so
# no new version) is not seen long after.
_CACHE_SECONDS = 1.0

# Every write also bumps the store's version (the last KEY): readers compare it once per
# request to know whether what they read before is still what Redis holds.
_BUMP = """
local version = redis.call('INCR', KEYS[#KEYS])
redis.call('PEXPIRE', KEYS[#KEYS], ARGV[#ARGV])
redis.call('PUBLISH', KEYS[#KEYS], version)
"""

# KEYS[1] key, KEYS[2] index, KEYS[3] version;
# ARGV[1] value, ARGV[2] ttl ms, ARGV[3] member, ARGV[4] index ttl
_SET = (
    """
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
"""
    + _BUMP
    + "return 1"
)

_SET_NX = (
    """
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
"""
    + _BUMP
    + "return 1"
)

# KEYS[1] key, KEYS[2] index, KEYS[3] version; ARGV[1] member, ARGV[2] version ttl
_TAKE = (
    """
local value = redis.call('GET', KEYS[1])
if not value then return value end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
"""
    + _BUMP
    + "return value"
)

# KEYS[1] key, KEYS[2] index, KEYS[3] version; ARGV[1] member, ARGV[2] version ttl
_DELETE = (
    """
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
"""
    + _BUMP
    + "return 1"
)

# KEYS[1] key, KEYS[2] index, KEYS[3] version; ARGV[1] ttl ms, ARGV[2] member,
# ARGV[3] index ttl. A key that somehow lost its expiry (written by hand) gets one back.
_INCR = (
    """
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
"""
    + _BUMP
    + "return n"
)

# KEYS[1] index; ARGV[1] min, ARGV[2] max, ARGV[3] key prefix. Live members, dead dropped.
_KEYS = """
local members = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX')
local live, dead = {}, {}
for _, m in ipairs(members) do
  if redis.call('EXISTS', ARGV[3] .. m) == 1 then
    live[#live + 1] = m
  else
    dead[#dead + 1] = m
  end
end
for i = 1, #dead, 1000 do
  redis.call('ZREM', KEYS[1], unpack(dead, i, math.min(i + 999, #dead)))
end
return live
"""

# KEYS[1] index, KEYS[2] version; ARGV[1] min, ARGV[2] max, ARGV[3] key prefix,
# ARGV[4] version ttl. Deletes keys and members.
_CLEAR = (
    """
local members = redis.call('ZRANGE', KEYS[1], ARGV[1], ARGV[2], 'BYLEX')
for i = 1, #members, 1000 do
  local chunk = {}
  for j = i, math.min(i + 999, #members) do chunk[#chunk + 1] = ARGV[3] .. members[j] end
  redis.call('DEL', unpack(chunk))
end
redis.call('ZREMRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2])
"""
    + _BUMP
    + "return #members"
)

# KEYS[1] index, KEYS[2] cursor key; ARGV[1] count, ARGV[2] key prefix, ARGV[3] ttl ms.
_SWEEP = """
local cursor = redis.call('GET', KEYS[2]) or '0'
local res = redis.call('ZSCAN', KEYS[1], cursor, 'COUNT', ARGV[1])
local dead = {}
local items = res[2]
for i = 1, #items, 2 do
  if redis.call('EXISTS', ARGV[2] .. items[i]) == 0 then dead[#dead + 1] = items[i] end
end
for i = 1, #dead, 1000 do
  redis.call('ZREM', KEYS[1], unpack(dead, i, math.min(i + 999, #dead)))
end
redis.call('SET', KEYS[2], res[1], 'PX', ARGV[3])
return #dead
"""


def parse_state_url(url: str) -> tuple[str, str, float]:
    """Split ``redis://host:port/db?prefix=team-a:&max_ttl=86400`` into the URL for
    redis-py, the key prefix and the longest TTL (seconds).

    ``prefix`` and ``max_ttl`` are ours; every other query parameter goes to redis-py.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"unsupported state URL {url!r}: expected redis://, rediss:// or unix://")
    prefix, max_ttl = DEFAULT_PREFIX, DEFAULT_MAX_TTL
    rest: list[tuple[str, str]] = []
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        if name == "prefix":
            prefix = value
        elif name == "max_ttl":
            try:
                max_ttl = float(value)
            except ValueError:
                raise ValueError(f"max_ttl must be a number of seconds, not {value!r}") from None
            if max_ttl <= 0:
                raise ValueError("max_ttl must be positive")
        else:
            rest.append((name, value))
    # Rebuilt by hand: urlunsplit drops the empty host of unix:///path/redis.sock.
    query = f"?{urlencode(rest)}" if rest else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query}", prefix, max_ttl


def redact(url: str) -> str:
    """``url`` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


class RedisStore:
    """A ``StateStore`` in Redis: exact across processes, every key with an expiry."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_ttl: float = DEFAULT_MAX_TTL,
        url: str = "redis",
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.max_ttl = max_ttl
        self.url = url
        self._index = prefix + _INDEX
        self._cursor = prefix + _SWEEP_CURSOR
        self._version = prefix + _VERSION
        self._max_ms = max(1, int(max_ttl * 1000))
        self._writes = itertools.count(1)
        self._set = client.register_script(_SET)
        self._set_nx = client.register_script(_SET_NX)
        self._take = client.register_script(_TAKE)
        self._delete = client.register_script(_DELETE)
        self._incr = client.register_script(_INCR)
        self._keys = client.register_script(_KEYS)
        self._clear = client.register_script(_CLEAR)
        self._sweep = client.register_script(_SWEEP)
        # Request-scoped read cache (see ``request_scope``): one dict per store version.
        self._current: tuple[Any, dict[Any, tuple[Any, float]]] = (_NO_VERSION, {})
        self._local = threading.local()
        self._listener = _VersionListener(self)

    @classmethod
    def connect(cls, url: str, *, check: bool = True) -> RedisStore:
        """A store for ``redis://host:port/db?prefix=...&max_ttl=...``.

        With ``check`` the server is pinged once: an unreachable Redis is a clear
        ``StateUnavailable`` at start rather than a 503 on the first request.
        """
        try:
            redis_url, prefix, max_ttl = parse_state_url(url)
        except ValueError as exc:
            raise StateUnavailable(str(exc)) from None
        client = redis.Redis.from_url(
            redis_url,
            decode_responses=True,
            socket_connect_timeout=2.0,
            socket_timeout=5.0,
            health_check_interval=30,
        )
        store = cls(client, prefix=prefix, max_ttl=max_ttl, url=redact(url))
        if check:
            store.ping()
        return store

    # -- plumbing -----------------------------------------------------------------------

    def call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` (redis-py calls), raising any Redis error as ``StateUnavailable``."""
        try:
            return fn()
        except redis.RedisError as exc:
            raise StateUnavailable(f"Redis at {self.url} is unavailable: {exc}") from exc

    def _ttl_ms(self, ttl: float | None) -> int:
        if ttl is None:
            return self._max_ms
        return max(1, min(int(ttl * 1000), self._max_ms))

    def _wrote(self) -> None:
        # This request changed the state: what it cached may be stale from now on.
        self._local.cache = None
        if next(self._writes) % _SWEEP_EVERY == 0:
            self._run(
                self._sweep,
                [self._index, self._cursor],
                [_SWEEP_COUNT, self.prefix, self._max_ms],
            )

    def _run(self, script: Script, keys: list[str], args: list[Any]) -> Any:
        return self.call(lambda: script(keys=keys, args=args))

    def _range(self, prefix: str) -> tuple[str, str]:
        if not prefix:
            return "-", "+"
        # UTF-8 never contains the byte 0xff: prefix + 0xff is above every key with prefix.
        return "[" + prefix, "(" + prefix + "\xff"

    def ping(self) -> None:
        """Raise ``StateUnavailable`` unless Redis answers."""
        self.call(self.client.ping)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    # -- the request-scoped read cache ----------------------------------------------------

    @contextlib.contextmanager
    def request_scope(self) -> Iterator[None]:
        """Reads inside are served from a process-local cache while the store is unchanged.

        A request reads the same few keys every time (the scenario version, the token,
        its family's revocation, the token generation, a dataset's changes); each was a
        round trip to Redis. Every write anywhere bumps the store's version and publishes
        it; each process listens (``_VersionListener``), so on entry a look at its socket,
        no round trip, says whether what this process read before still holds; if so
        those reads come from memory. (Without a live subscription: one ``GET``.) A
        write in the scope turns the cache off for the rest of it. Atomic operations
        always go to Redis. Entries also age out after a second, so a key that expires by
        its TTL is not seen for longer than that.
        Outside a scope (admin calls) every read goes to Redis.
        """
        version = self._listener.version()
        if version is _UNKNOWN:
            version = self.call(lambda: self.client.get(self._version))
        current = self._current
        if current[0] != version:
            current = (version, {})
            self._current = current
        self._local.cache = current[1]
        # a private token per version: the version key may vanish (expiry) and restart
        self._local.version = (id(current[1]), version)
        try:
            yield
        finally:
            self._local.cache = None

    @property
    def version_channel(self) -> str:
        """The key holding the store's version, also the channel it is published on."""
        return self._version

    @property
    def version(self) -> Any:
        """The store's version as the current request scope saw it; None outside a scope
        or once the request wrote (nothing it computed may be reused then)."""
        cache = getattr(self._local, "cache", None)
        if cache is None:
            return None
        return getattr(self._local, "version", None)

    def _cached(self, key: Any, load: Callable[[], Any]) -> Any:
        cache: dict[Any, tuple[Any, float]] | None = getattr(self._local, "cache", None)
        if cache is None:
            return load()
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]
        value = load()
        cache[key] = (value, now + _CACHE_SECONDS)
        return value

    # -- StateStore ---------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        """The value of ``key`` or None."""
        full = self.prefix + key
        value = self._cached(full, lambda: self.call(lambda: self.client.get(full)))
        return None if value is None else str(value)

    def get_many(self, keys: list[str]) -> list[str | None]:
        """The values of ``keys`` in one round trip."""
        if not keys:
            return []
        values = self.call(lambda: self.client.mget([self.prefix + k for k in keys]))
        return [None if v is None else str(v) for v in values]

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (``max_ttl`` at most, and with None)."""
        self._run(
            self._set,
            [self.prefix + key, self._index, self._version],
            [value, self._ttl_ms(ttl), key, self._max_ms],
        )
        self._wrote()

    def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Store only when absent; True when stored (atomic)."""
        stored = self._run(
            self._set_nx,
            [self.prefix + key, self._index, self._version],
            [value, self._ttl_ms(ttl), key, self._max_ms],
        )
        self._wrote()
        return bool(stored)

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        keys = [self.prefix + key, self._index, self._version]
        self._run(self._delete, keys, [key, self._max_ms])
        self._wrote()

    def take(self, key: str) -> str | None:
        """Atomic get-and-delete: of many concurrent callers, on any host, one gets it."""
        value = self._run(
            self._take, [self.prefix + key, self._index, self._version], [key, self._max_ms]
        )
        self._wrote()
        return None if value is None else str(value)

    def incr(self, key: str, ttl: float) -> int:
        """Atomic increment; the expiry is set when the key is created."""
        n = self._run(
            self._incr,
            [self.prefix + key, self._index, self._version],
            [self._ttl_ms(ttl), key, self._max_ms],
        )
        self._wrote()
        return int(n)

    def keys(self, prefix: str) -> list[str]:
        """Every live key starting with ``prefix`` (from the index, never a full scan)."""
        low, high = self._range(prefix)
        found = self._cached(
            ("keys", prefix),
            lambda: self._run(self._keys, [self._index], [low, high, self.prefix]),
        )
        return [str(k) for k in found]

    def clear(self, prefix: str = "") -> None:
        """Remove every key starting with ``prefix`` (all of this store's with ``""``)."""
        low, high = self._range(prefix)
        self._run(self._clear, [self._index, self._version], [low, high, self.prefix, self._max_ms])
        if not prefix:
            self.call(lambda: self.client.delete(self._index, self._cursor))
        self._wrote()


class _VersionListener:
    """This process's subscription to the store's version channel.

    Every write script bumps the version and publishes it in the same step, so Redis
    queues the message to every subscriber in the same event-loop turn as it answers the
    writer. By the time anything that saw the write can reach another process, the
    message is in that process's socket: draining the socket without blocking (a poll,
    no round trip) gives the current version. Until the subscription is confirmed and
    the version read once after it (messages before it are lost), and whenever the
    connection fails, ``version`` says it does not know and the caller asks Redis.
    Created lazily and again after a fork: a gunicorn worker must not share its
    master's socket.
    """

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pid = 0
        self._pubsub: Any = None
        self._live = False  # subscription confirmed
        self._known: Any = _UNKNOWN  # the version, when live and synced
        self._retry_at = 0.0
        # Polls the subscription's socket directly: nothing to read (the usual case) costs
        # one poll(2), not redis-py's parse machinery (a third of a cached read's time).
        self._poller: Any = None
        self._fd = -1

    def version(self) -> Any:
        """The current version, or ``_UNKNOWN`` (then ask Redis)."""
        with self._lock:
            try:
                return self._drain()
            except (redis.RedisError, OSError):
                self._reset(time.monotonic() + _RESUBSCRIBE_EVERY)
                return _UNKNOWN

    def _reset(self, retry_at: float) -> None:
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                self._pubsub.close()
        self._pubsub = None
        self._live = False
        self._known = _UNKNOWN
        self._retry_at = retry_at
        self._poller = None
        self._fd = -1

    def _drain(self) -> Any:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._pubsub = None  # the parent's connection is not ours (never closed here)
            self._live = False
            self._known = _UNKNOWN
        if self._pubsub is None:
            if time.monotonic() < self._retry_at:
                return _UNKNOWN
            self._pubsub = self._store.client.pubsub()  # type: ignore[no-untyped-call]
            self._pubsub.subscribe(self._store.version_channel)
            self._poller = None
        elif self._live and self._poller is not None and not self._poller.poll(0):
            # Nothing arrived since the last drain, which read everything redis-py had
            # buffered: the version is unchanged.
            return self._known
        while True:
            message = self._pubsub.get_message(timeout=0)
            if message is None:
                break
            if message["type"] == "subscribe":
                # (re)subscribed: what was published meanwhile is lost, read it afresh
                self._live = True
                self._known = self._store.client.get(self._store.version_channel)
            elif message["type"] == "message" and self._known is not _UNKNOWN:
                self._known = message["data"]
        self._watch()
        return self._known if self._live else _UNKNOWN

    def _watch(self) -> None:
        # (Re)register the subscription's socket; redis-py may have reconnected it.
        conn = self._pubsub.connection if self._pubsub is not None else None
        sock = getattr(conn, "_sock", None)
        fd = sock.fileno() if sock is not None else -1
        if fd < 0:
            self._poller, self._fd = None, -1
        elif fd != self._fd or self._poller is None:
            self._poller = select.poll()
            self._poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
            self._fd = fd
