"""The journal in Redis: one journal for every worker and host sharing a ``RedisStore``.

Exchanges go to a capped Redis stream (``XADD ... MAXLEN capacity``) whose entry ids are
the journal ids (``<id>-0``), so ``entries(since=ID)`` is one ``XRANGE`` from ``(ID``.
Per-operation coverage lives in one hash (bounded by operations x statuses x parameters,
not by traffic). Recording is one Lua script, atomic, so ids are unique and in stream
order across workers; it is written without waiting for the answer (``_Sender``), so a
request pays a socket write for it, not a round trip. Every key gets the store's
``max_ttl``, refreshed on each write.

Recording is best effort: when Redis is unreachable the exchange is logged and dropped
(the request itself has already been answered, with 503 where it needed state).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections import Counter
from typing import Any

import redis

from mockserver.conformance.journal import Exchange, Journal, OperationStats
from mockserver.failures import Failure, Severity
from mockserver.state.base import StateStore, StateUnavailable
from mockserver.state.redis import RedisStore

log = logging.getLogger("mockserver")

_SEP = "\x00"
_UNMATCHED = _SEP + "unmatched"

# KEYS[1] seq, KEYS[2] stream, KEYS[3] stats.
# ARGV[1] capacity, ARGV[2] ttl ms, ARGV[3] payload, ARGV[4] operation ("" unmatched),
# ARGV[5] status, ARGV[6] verdict, ARGV[7..] parameters.
_RECORD = """
local id = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], id .. '-0', 'd', ARGV[3])
local op = ARGV[4]
if op == '' then
  redis.call('HINCRBY', KEYS[3], '\\0unmatched', 1)
else
  local p = op .. '\\0'
  redis.call('HINCRBY', KEYS[3], p .. 'calls', 1)
  redis.call('HINCRBY', KEYS[3], p .. 's:' .. ARGV[5], 1)
  if ARGV[6] == 'request-violation' then
    redis.call('HINCRBY', KEYS[3], p .. 'qv', 1)
  elseif ARGV[6] == 'response-violation' then
    redis.call('HINCRBY', KEYS[3], p .. 'rv', 1)
  end
  for i = 7, #ARGV do redis.call('HSET', KEYS[3], p .. 'p:' .. ARGV[i], 1) end
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[2]) end
return id
"""


def shared_journal(store: StateStore, capacity: int) -> Journal | None:
    """A ``RedisJournal`` when ``store`` is a ``RedisStore`` (shared state), else None."""
    if isinstance(store, RedisStore):
        return RedisJournal(store, capacity)
    return None


def exchange_from_dict(data: dict[str, Any]) -> Exchange:
    """The ``Exchange`` back from ``Exchange.to_dict()`` (the ``verdict`` is derived)."""

    def failures(items: list[dict[str, Any]]) -> list[Failure]:
        out = []
        for item in items:
            fields = dict(item)
            fields["severity"] = Severity(fields.get("severity", "error"))
            out.append(Failure(**fields))
        return out

    return Exchange(
        method=data["method"],
        path=data["path"],
        query=data["query"],
        status=int(data["status"]),
        operation=data.get("operation"),
        source=data["source"],
        client=data.get("client", ""),
        started=float(data["started"]),
        duration_ms=float(data.get("duration_ms", 0.0)),
        request_failures=failures(data.get("request_failures", [])),
        response_failures=failures(data.get("response_failures", [])),
        parameters=list(data.get("parameters", [])),
        id=int(data.get("id", 0)),
    )


class _Sender:
    """Journal writes that do not wait for Redis.

    Records go, one ``EVALSHA`` each (the script is loaded when the connection is made),
    to a connection of the journal's own on which Redis sends no replies (``CLIENT REPLY
    OFF``): the request that made the exchange pays for a socket write, not a round trip,
    and no thread has to read answers. Its record is in
    Redis' input before its answer leaves the mock, so a client that then reads the
    journal through any process finds it; reads in this process first ask this
    connection for one reply (``wait``), which Redis sends only after everything written
    before it. A failed record is not reported back (the stream simply lacks it); when
    the connection fails the caller writes synchronously and a new connection is tried a
    second later. Per process: after a fork, a new connection.
    """

    def __init__(self, store: RedisStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._pid = 0
        self._conn: Any = None
        self._retry_at = 0.0
        self._sha = ""

    def send(self, keys: list[str], args: list[Any]) -> bool:
        """Write one record; False when it could not be sent (write it another way)."""
        with self._lock:
            conn = self._connection()
            if conn is None:
                return False
            try:
                conn.send_command("EVALSHA", self._sha, len(keys), *keys, *args)
            except (redis.RedisError, OSError):
                self._break(conn)
                return False
            return True

    def wait(self) -> None:
        """Until Redis has run every record sent so far on this connection."""
        with self._lock:
            conn = self._conn
            if conn is None or self._pid != os.getpid():
                return
            try:
                conn.send_command("CLIENT", "REPLY", "ON")
                conn.read_response()  # "OK": after every earlier command
                conn.send_command("SCRIPT", "EXISTS", self._sha)
                if not conn.read_response()[0]:
                    # SCRIPT FLUSH meanwhile: records sent since then failed unseen
                    log.warning("journal: Redis lost the record script; loading it again")
                    conn.send_command("SCRIPT", "LOAD", _RECORD)
                    conn.read_response()
                conn.send_command("CLIENT", "REPLY", "OFF")
            except (redis.RedisError, OSError):
                self._break(conn)

    def _connection(self) -> Any:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._conn = None  # the parent's socket is not ours to write on
        if self._conn is None and time.monotonic() >= self._retry_at:
            pool = self._store.client.connection_pool
            conn = pool.connection_class(**{**pool.connection_kwargs, "health_check_interval": 0})
            try:
                conn.connect()
                # EVALSHA, not EVAL: the script's text is neither sent nor hashed by Redis
                # for every record. Loaded here, while replies still come, so a failure
                # to load shows.
                conn.send_command("SCRIPT", "LOAD", _RECORD)
                self._sha = str(conn.read_response())
                conn.send_command("CLIENT", "REPLY", "OFF")
            except (redis.RedisError, OSError):
                self._retry_at = time.monotonic() + 1.0
                with contextlib.suppress(Exception):
                    conn.disconnect()
                return None
            self._conn = conn
        return self._conn

    def _break(self, conn: Any) -> None:
        self._conn = None
        self._retry_at = time.monotonic() + 1.0
        with contextlib.suppress(Exception):
            conn.disconnect()


class RedisJournal(Journal):
    """The ``Journal`` interface over a Redis stream shared by every process."""

    def __init__(self, store: RedisStore, capacity: int = 1000) -> None:
        super().__init__(capacity)
        self.store = store
        base = store.prefix + "journal:"
        self._keys = [base + "seq", base + "stream", base + "stats"]
        self._stream = self._keys[1]
        self._stats_key = self._keys[2]
        self._record = store.client.register_script(_RECORD)
        self._ttl_ms = max(1, int(store.max_ttl * 1000))
        self._last_warning = 0.0
        self._sender = _Sender(store)

    def record(self, exchange: Exchange) -> Exchange:
        """Append ``exchange`` (the oldest falls out past the cap); sets its ``id``."""
        data = exchange.to_dict()
        del data["id"]
        args: list[Any] = [
            self.capacity,
            self._ttl_ms,
            json.dumps(data, separators=(",", ":")),
            exchange.operation or "",
            exchange.status,
            data["verdict"],
            *exchange.parameters,
        ]
        if self._sender.send(self._keys, args):
            return exchange  # its id is given by Redis (see ``entries``)
        try:
            exchange.id = int(self.store.call(lambda: self._record(keys=self._keys, args=args)))
        except StateUnavailable as exc:
            now = time.monotonic()
            if now - self._last_warning > 10:
                self._last_warning = now
                log.warning("journal: exchange not recorded: %s", exc)
        return exchange

    def entries(self, since: int = 0, limit: int | None = None) -> list[Exchange]:
        """Recorded exchanges with ``id > since``, oldest first (every process's)."""
        self._sender.wait()
        low = f"({since}-0" if since > 0 else "-"
        client = self.store.client
        found: Any
        if limit:
            found = self.store.call(lambda: client.xrevrange(self._stream, "+", low, count=limit))
            rows = list(reversed(found or []))
        else:
            found = self.store.call(lambda: client.xrange(self._stream, low, "+"))
            rows = list(found or [])
        out = []
        for entry_id, fields in rows:
            data = json.loads(fields["d"])
            data["id"] = int(str(entry_id).split("-", 1)[0])
            out.append(exchange_from_dict(data))
        return out

    def stats(self) -> dict[str, OperationStats]:
        """Per-operation counters over the whole run, every process's."""
        self._sender.wait()
        raw: dict[Any, Any] = self.store.call(lambda: self.store.client.hgetall(self._stats_key))
        out: dict[str, OperationStats] = {}
        for field, value in raw.items():
            op, sep, what = field.rpartition(_SEP)
            if not sep or not op:
                continue
            stats = out.setdefault(op, OperationStats(statuses=Counter()))
            if what == "calls":
                stats.calls = int(value)
            elif what == "qv":
                stats.request_violations = int(value)
            elif what == "rv":
                stats.response_violations = int(value)
            elif what.startswith("s:"):
                stats.statuses[int(what[2:])] = int(value)
            elif what.startswith("p:"):
                stats.parameters.add(what[2:])
        return out

    @property
    def unmatched(self) -> int:
        """Requests that matched no operation, every process's."""
        self._sender.wait()
        value = self.store.call(lambda: self.store.client.hget(self._stats_key, _UNMATCHED))
        return int(value or 0)

    def __len__(self) -> int:
        self._sender.wait()
        return int(self.store.call(lambda: self.store.client.xlen(self._stream)))

    def clear(self) -> None:
        """Forget every exchange and counter (ids keep growing, so ``since`` stays valid)."""
        self._sender.wait()
        self.store.call(lambda: self.store.client.delete(self._stream, self._stats_key))
