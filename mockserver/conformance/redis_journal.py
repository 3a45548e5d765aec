"""The journal in Redis: one journal for every worker and host sharing a ``RedisStore``.

Exchanges go to a capped Redis stream (``XADD ... MAXLEN capacity``) whose entry ids are
the journal ids (``<id>-0``), so ``entries(since=ID)`` is one ``XRANGE`` from ``(ID``.
Per-operation coverage lives in one hash (bounded by operations x statuses x parameters,
not by traffic). Recording is one Lua script per batch, atomic, so ids are unique and in
stream order across workers; a request only buffers its exchange, and each process sends
its buffer in batches and whenever a reader asks (``_Writer``), so reads from any process
see every exchange answered before them. Every key gets the store's ``max_ttl``,
refreshed on each write.

Recording is best effort: when Redis is unreachable the exchange is logged and dropped
(the request itself has already been answered, with 503 where it needed state).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import threading
import time
import uuid
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

# KEYS[1] seq, KEYS[2] stream, KEYS[3] stats. ARGV[1] capacity, ARGV[2] ttl ms, then per
# exchange: payload, operation ("" unmatched), status, verdict, n, then n parameters.
# Returns the id of the last exchange recorded.
_RECORD = """
local id = 0
local i = 3
while i <= #ARGV do
  local op, n = ARGV[i + 1], tonumber(ARGV[i + 4])
  id = redis.call('INCR', KEYS[1])
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[1], id .. '-0', 'd', ARGV[i])
  if op == '' then
    redis.call('HINCRBY', KEYS[3], '\\0unmatched', 1)
  else
    local p = op .. '\\0'
    redis.call('HINCRBY', KEYS[3], p .. 'calls', 1)
    redis.call('HINCRBY', KEYS[3], p .. 's:' .. ARGV[i + 2], 1)
    if ARGV[i + 3] == 'request-violation' then
      redis.call('HINCRBY', KEYS[3], p .. 'qv', 1)
    elseif ARGV[i + 3] == 'response-violation' then
      redis.call('HINCRBY', KEYS[3], p .. 'rv', 1)
    end
    for j = 1, n do redis.call('HSET', KEYS[3], p .. 'p:' .. ARGV[i + 4 + j], 1) end
  end
  i = i + 5 + n
end
for k = 1, 3 do redis.call('PEXPIRE', KEYS[k], ARGV[2]) end
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


class _Writer:
    """This process's journal writes: buffered, sent in batches, flushed on demand.

    A request appends its exchange to a buffer and returns: no socket write, so Redis is
    not woken once per request (on a loaded machine each wake-up cost more than the rest
    of the request's Redis work). A thread sends the buffer every ``interval`` seconds as
    one ``EVALSHA`` on a connection of its own on which Redis sends no replies (``CLIENT
    REPLY OFF``); a request that fills the buffer to ``max_batch`` sends it itself.

    Reads stay exact across processes: a reader publishes a flush request naming a reply
    list; every writer's thread is subscribed, sends its buffer and then pushes to that
    list on the same connection, so Redis has run the records before the reader sees the
    reply (``RedisJournal._barrier``). Everything a process recorded before a client got
    its answer is therefore in every later read, from any process or host. The
    subscription is confirmed before the first record is buffered, so no writer with
    records is missed. A process that exits flushes at exit; one killed loses at most
    ``interval`` of records.

    When the connection or the subscription fails, ``add`` says so and the caller writes
    synchronously; a new attempt is made a second later. After a fork: a new connection
    and a new thread.
    """

    def __init__(
        self,
        store: RedisStore,
        keys: list[str],
        head: list[Any],
        channel: str,
        interval: float = 0.05,
        max_batch: int = 256,
    ) -> None:
        self._store = store
        self._keys = keys
        self._head = head  # capacity, ttl ms
        self.channel = channel
        self.interval = interval
        self.max_batch = max_batch
        self._lock = threading.Lock()  # the buffer and the connection
        self._pid = 0
        self._conn: Any = None
        self._pubsub: Any = None
        self._thread: threading.Thread | None = None
        self._buffer: list[Any] = []
        self._count = 0
        self._sha = ""
        self._retry_at = 0.0
        atexit.register(self.flush)

    def add(self, args: list[Any]) -> bool:
        """Buffer one exchange's arguments; False when it cannot (write it another way)."""
        with self._lock:
            if not self._ready():
                return False
            self._buffer.extend(args)
            self._count += 1
            if self._count >= self.max_batch:
                return self._send([])
            return True

    def flush(self, acks: list[str] | None = None) -> None:
        """Send what is buffered (then push to each ``acks`` list) and wait until Redis
        has run it."""
        with self._lock:
            if self._conn is None or self._pid != os.getpid():
                return
            if self._send(acks or []):
                self._sync()

    def _ready(self) -> bool:
        if self._pid != os.getpid():
            self._pid = os.getpid()
            # the parent's sockets and thread are not ours (never closed here)
            self._conn, self._pubsub, self._thread = None, None, None
            self._buffer, self._count = [], 0
        if self._conn is not None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        try:
            self._connect()
        except (redis.RedisError, OSError) as exc:
            log.debug("journal: batching off for a second: %s", exc)
            self._break()
            return False
        return True

    def _connect(self) -> None:
        pool = self._store.client.connection_pool
        kwargs = {**pool.connection_kwargs, "health_check_interval": 0}
        conn = pool.connection_class(**kwargs)
        conn.connect()
        self._conn = conn
        # EVALSHA, not EVAL: the script's text is neither sent nor hashed for every batch.
        conn.send_command("SCRIPT", "LOAD", _RECORD)
        self._sha = str(conn.read_response())
        conn.send_command("CLIENT", "REPLY", "OFF")
        pubsub = self._store.client.pubsub()  # type: ignore[no-untyped-call]
        self._pubsub = pubsub
        pubsub.subscribe(self.channel)
        # confirmed before anything is buffered: a reader's flush request then reaches us
        deadline = time.monotonic() + 5.0
        while True:
            message = pubsub.get_message(timeout=max(0.0, deadline - time.monotonic()))
            if message is not None and message["type"] == "subscribe":
                break
            if time.monotonic() >= deadline:
                raise redis.TimeoutError("no confirmation of the journal's subscription")
        self._thread = threading.Thread(
            target=self._run, args=(pubsub,), name="mockserver-journal", daemon=True
        )
        self._thread.start()

    def _run(self, pubsub: Any) -> None:
        """The writer's thread: a batch every ``interval``, and on every flush request."""
        while True:
            acks: list[str] = []
            try:
                message = pubsub.get_message(timeout=self.interval)
                while message is not None:
                    if message["type"] == "message":
                        acks.append(str(message["data"]))
                    message = pubsub.get_message(timeout=0)
            except (redis.RedisError, OSError, ValueError, AttributeError):
                # the subscription is gone (closed, Redis lost): stop; the next record
                # reconnects, or writes synchronously meanwhile
                with self._lock:
                    if self._pubsub is pubsub:
                        self._send([])
                        self._break()
                return
            with self._lock:
                if self._pubsub is not pubsub:
                    return  # replaced (reconnected or forked)
                self._send(acks)

    def _send(self, acks: list[str]) -> bool:
        # with the lock held
        if self._conn is None or (not self._count and not acks):
            return self._conn is not None
        packed = []
        if self._count:
            packed.append(
                ("EVALSHA", self._sha, len(self._keys), *self._keys, *self._head, *self._buffer)
            )
        for ack in acks:
            packed.append(("RPUSH", ack, self._pid))
            packed.append(("PEXPIRE", ack, 10_000))
        lost = self._count
        self._buffer, self._count = [], 0
        try:
            self._conn.send_packed_command(self._conn.pack_commands(packed), check_health=False)
        except (redis.RedisError, OSError) as exc:
            log.warning("journal: %d exchange(s) not recorded: %s", lost, exc)
            self._break()
            return False
        return True

    def _sync(self) -> None:
        # with the lock held: until Redis has run everything sent so far
        try:
            self._conn.send_command("CLIENT", "REPLY", "ON")
            self._conn.read_response()  # "OK": after every earlier command
            self._conn.send_command("SCRIPT", "EXISTS", self._sha)
            if not self._conn.read_response()[0]:
                # SCRIPT FLUSH meanwhile: batches sent since then failed unseen
                log.warning("journal: Redis lost the record script; loading it again")
                self._conn.send_command("SCRIPT", "LOAD", _RECORD)
                self._conn.read_response()
            self._conn.send_command("CLIENT", "REPLY", "OFF")
        except (redis.RedisError, OSError):
            self._break()

    def _break(self) -> None:
        # with the lock held
        conn, pubsub = self._conn, self._pubsub
        self._conn, self._pubsub, self._thread = None, None, None
        self._buffer, self._count = [], 0
        self._retry_at = time.monotonic() + 1.0
        for closing in (conn, pubsub):
            if closing is not None:
                with contextlib.suppress(Exception):
                    closing.disconnect() if closing is conn else closing.close()


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
        self._channel = base + "flush"
        self._writer = _Writer(store, self._keys, [capacity, self._ttl_ms], self._channel)

    def record(self, exchange: Exchange) -> Exchange:
        """Append ``exchange`` (the oldest falls out past the cap); sets its ``id``."""
        data = exchange.to_dict()
        del data["id"]
        args: list[Any] = [
            json.dumps(data, separators=(",", ":")),
            exchange.operation or "",
            exchange.status,
            data["verdict"],
            len(exchange.parameters),
            *exchange.parameters,
        ]
        if self._writer.add(args):
            return exchange  # its id is given by Redis (see ``entries``)
        head = [self.capacity, self._ttl_ms]
        try:
            exchange.id = int(
                self.store.call(lambda: self._record(keys=self._keys, args=[*head, *args]))
            )
        except StateUnavailable as exc:
            now = time.monotonic()
            if now - self._last_warning > 10:
                self._last_warning = now
                log.warning("journal: exchange not recorded: %s", exc)
        return exchange

    def _barrier(self, timeout: float = 2.0) -> None:
        """Until every process's buffered exchanges are in Redis (see ``_Writer``)."""
        self._writer.flush()
        client = self.store.client
        reply = f"{self.store.prefix}journal:ack:{uuid.uuid4().hex}"
        try:
            writers = int(client.publish(self._channel, reply))
            deadline = time.monotonic() + timeout
            for _ in range(writers):
                left = deadline - time.monotonic()
                if left <= 0 or client.blpop([reply], timeout=left) is None:
                    log.warning("journal: a process did not flush in time; reading anyway")
                    break
            client.delete(reply)
        except redis.RedisError as exc:
            raise StateUnavailable(str(exc)) from exc

    def entries(self, since: int = 0, limit: int | None = None) -> list[Exchange]:
        """Recorded exchanges with ``id > since``, oldest first (every process's)."""
        self._barrier()
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
        self._barrier()
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
        self._barrier()
        value = self.store.call(lambda: self.store.client.hget(self._stats_key, _UNMATCHED))
        return int(value or 0)

    def __len__(self) -> int:
        self._barrier()
        return int(self.store.call(lambda: self.store.client.xlen(self._stream)))

    def clear(self) -> None:
        """Forget every exchange and counter (ids keep growing, so ``since`` stays valid)."""
        self._barrier()
        self.store.call(lambda: self.store.client.delete(self._stream, self._stats_key))
