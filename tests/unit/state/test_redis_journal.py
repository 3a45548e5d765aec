"""``RedisJournal``: the journal as a capped Redis stream shared by every process."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

from mockserver.conformance.journal import Exchange, Journal
from mockserver.conformance.redis_journal import RedisJournal, exchange_from_dict, shared_journal
from mockserver.failures import Failure, Severity
from mockserver.state import MemoryStore
from mockserver.state.redis import RedisStore
from tests.fixtures.redis_server import redis_url

__all__ = ["redis_url"]

ROOT = Path(__file__).resolve().parents[3]


def exchange(op: str | None, status: int = 200, **kw: object) -> Exchange:
    return Exchange(
        method="GET",
        path="/x",
        query="a=1",
        status=status,
        operation=op,
        source="example",
        **kw,  # type: ignore[arg-type]
    )


def store(url: str) -> RedisStore:
    return RedisStore.connect(f"{url}?prefix=j-{uuid.uuid4().hex[:8]}:")


def test_round_trip_of_an_exchange() -> None:
    failure = Failure("request", "type", "bad", location="query", name="a", operation="GET /x")
    warn = Failure("response", "example", "meh", severity=Severity.WARNING)
    original = exchange(
        "GET /x", 400, request_failures=[failure], response_failures=[warn], parameters=["q:a"]
    )
    original.id = 7
    back = exchange_from_dict(original.to_dict())
    assert back.to_dict() == original.to_dict()
    assert back.verdict == "request-violation"


def test_records_entries_stats_and_cap(redis_url: str) -> None:
    journal = RedisJournal(store(redis_url), capacity=5)
    bad = Failure("request", "type", "bad", location="query", name="a")
    for i in range(8):
        journal.record(exchange("GET /x", 200 if i % 2 else 400, parameters=["query:a"]))
    journal.record(exchange(None, 404, request_failures=[bad]))
    journal.record(exchange("GET /y", 200, response_failures=[bad]))
    assert len(journal) == 5
    entries = journal.entries()
    assert [e.id for e in entries] == [6, 7, 8, 9, 10]
    assert [e.id for e in journal.entries(since=8)] == [9, 10]
    assert [e.id for e in journal.entries(limit=2)] == [9, 10]
    assert [e.id for e in journal.entries(since=6, limit=2)] == [9, 10]
    stats = journal.stats()
    assert stats["GET /x"].calls == 8
    assert dict(stats["GET /x"].statuses) == {200: 4, 400: 4}
    assert stats["GET /x"].parameters == {"query:a"}
    assert stats["GET /y"].response_violations == 1
    assert journal.unmatched == 1
    journal.clear()
    assert len(journal) == 0
    assert journal.stats() == {}
    journal.record(exchange("GET /x"))
    assert [e.id for e in journal.entries()] == [11]  # ids keep growing past a clear


def test_two_journals_on_one_prefix_are_one_journal(redis_url: str) -> None:
    s = store(redis_url)
    a, b = RedisJournal(s, 100), RedisJournal(RedisStore.connect(f"{redis_url}?prefix={s.prefix}"))
    a.record(exchange("GET /x"))
    b.record(exchange("GET /x"))
    assert [e.id for e in a.entries()] == [1, 2]
    assert b.stats()["GET /x"].calls == 2


def test_shared_journal_only_for_redis(redis_url: str) -> None:
    assert shared_journal(MemoryStore(), 10) is None
    journal = shared_journal(store(redis_url), 10)
    assert isinstance(journal, RedisJournal)
    assert isinstance(journal, Journal)


def test_records_written_synchronously_when_batching_cannot(redis_url: str) -> None:
    journal = RedisJournal(store(redis_url), capacity=5)
    journal._writer.add = lambda args: False  # type: ignore[method-assign]
    assert journal.record(exchange("GET /x")).id == 1
    assert [e.id for e in journal.entries()] == [1]


def slow_journal(s: RedisStore, **kw: object) -> RedisJournal:
    """A journal whose thread would send only once a minute: reads must ask for it."""
    journal = RedisJournal(s, 100)
    journal._writer.interval = 60.0
    for name, value in kw.items():
        setattr(journal._writer, name, value)
    return journal


def test_a_read_from_another_process_sees_every_buffered_exchange(redis_url: str) -> None:
    s = store(redis_url)
    writer = slow_journal(s)
    other = RedisStore.connect(f"{redis_url}?prefix={s.prefix}")
    for _ in range(7):
        writer.record(exchange("GET /x", parameters=["query:a"]))
    raw = other.client.xlen(s.prefix + "journal:stream")
    assert raw == 0  # still buffered: nothing was written per request
    reader = RedisJournal(other, 100)  # another connection, as another process has
    assert [e.id for e in reader.entries()] == [1, 2, 3, 4, 5, 6, 7]
    assert reader.stats()["GET /x"].calls == 7
    assert reader.stats()["GET /x"].parameters == {"query:a"}


def test_a_full_buffer_is_sent_by_the_request_that_filled_it(redis_url: str) -> None:
    s = store(redis_url)
    journal = slow_journal(s, max_batch=4)
    for _ in range(9):
        journal.record(exchange("GET /x"))
    assert s.client.xlen(s.prefix + "journal:stream") == 8  # two batches of 4 went


def test_a_process_that_exits_flushes_what_it_buffered(redis_url: str) -> None:
    s = store(redis_url)
    code = (
        "from mockserver.state.redis import RedisStore\n"
        "from mockserver.conformance.redis_journal import RedisJournal\n"
        "from tests.unit.state.test_redis_journal import exchange\n"
        f"j = RedisJournal(RedisStore.connect({f'{redis_url}?prefix={s.prefix}'!r}), 100)\n"
        "j._writer.interval = 60.0\n"
        "for _ in range(3): j.record(exchange('GET /x'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=30, cwd=ROOT)
    assert s.client.xlen(s.prefix + "journal:stream") == 3


def test_a_flushed_script_is_loaded_again(redis_url: str) -> None:
    s = store(redis_url)
    journal = slow_journal(s)
    journal.record(exchange("GET /x"))
    assert len(journal) == 1
    s.client.script_flush()
    journal.record(exchange("GET /x"))  # sent by EVALSHA to a Redis without the script
    len(journal)  # the read notices and loads it again
    journal.record(exchange("GET /x"))
    assert [e.path for e in journal.entries()][-1] == "/x"
    assert len(journal) == 2


def test_a_reader_does_not_wait_long_for_a_process_that_cannot_flush(redis_url: str) -> None:
    s = store(redis_url)
    journal = slow_journal(s)
    journal.record(exchange("GET /x"))
    # a subscriber that never answers, as a stuck process would be
    mute = s.client.pubsub()
    mute.subscribe(s.prefix + "journal:flush")
    started = time.monotonic()
    journal._barrier(timeout=0.5)
    assert time.monotonic() - started < 3
    mute.close()
    assert len(journal) == 1
