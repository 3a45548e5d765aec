"""``RedisJournal``: the journal as a capped Redis stream shared by every process."""

from __future__ import annotations

import uuid

from mockserver.conformance.journal import Exchange, Journal
from mockserver.conformance.redis_journal import RedisJournal, exchange_from_dict, shared_journal
from mockserver.failures import Failure, Severity
from mockserver.state import MemoryStore
from mockserver.state.redis import RedisStore
from tests.fixtures.redis_server import redis_url

__all__ = ["redis_url"]


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


def test_records_written_synchronously_when_the_sender_cannot(redis_url: str) -> None:
    journal = RedisJournal(store(redis_url), capacity=5)
    journal._sender.send = lambda keys, args: False  # type: ignore[method-assign]
    assert journal.record(exchange("GET /x")).id == 1
    assert [e.id for e in journal.entries()] == [1]
