"""Answers to repeated reads are reused while the state is unchanged, never after a change:
in one process (``MemoryStore``) and across processes sharing Redis."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer
from tests.fixtures.redis_server import redis_url

__all__ = ["redis_url"]

KEY = {"api_key": "k"}


def notes(base: str) -> list[dict[str, object]]:
    resp = requests.get(f"{base}/api/notes", params={**KEY, "limit": 100}, timeout=5)
    assert resp.status_code == 200, resp.text
    return list(resp.json())


@pytest.fixture(params=["memory", "redis"])
def pair(request: pytest.FixtureRequest) -> Iterator[tuple[MockServer, MockServer]]:
    if request.param == "memory":
        with MockServer(CONTRACTS / "notes.json") as server:
            yield server, server
        return
    url = request.getfixturevalue("redis_url") + f"?prefix=ac-{uuid.uuid4().hex[:8]}:"
    with (
        MockServer(CONTRACTS / "notes.json", state=url) as a,
        MockServer(CONTRACTS / "notes.json", state=url) as b,
    ):
        yield a, b


def test_repeated_reads_are_identical_and_all_journaled(
    pair: tuple[MockServer, MockServer],
) -> None:
    a, _ = pair
    first = requests.get(f"{a.url}/api/notes", params=KEY, timeout=5)
    second = requests.get(f"{a.url}/api/notes", params=KEY, timeout=5)
    assert first.content == second.content
    assert first.headers["Content-Type"] == second.headers["Content-Type"]
    entries = [e for e in a.journal.entries() if e.path == "/api/notes"]
    assert len(entries) == 2
    assert entries[0].to_dict()["parameters"] == entries[1].to_dict()["parameters"]
    assert entries[0].source == entries[1].source == "resource"


def test_a_write_anywhere_is_seen_by_the_next_read(pair: tuple[MockServer, MockServer]) -> None:
    a, b = pair
    before = notes(a.url)
    assert notes(a.url) == before  # now answered from the cache
    created = requests.post(
        f"{b.url}/api/notes", params=KEY, json={"title": "cached?", "body": "no"}, timeout=5
    )
    assert created.status_code == 201, created.text
    after = notes(a.url)
    assert len(after) == len(before) + 1
    assert any(n.get("title") == "cached?" for n in after)


def test_invalid_requests_stay_invalid_and_scenarios_apply(
    pair: tuple[MockServer, MockServer],
) -> None:
    a, b = pair
    for _ in range(2):
        bad = requests.get(f"{a.url}/api/notes", params={**KEY, "limit": "x"}, timeout=5)
        assert bad.status_code == 400
    entries = [e for e in a.journal.entries() if e.query.endswith("limit=x")]
    assert [e.verdict for e in entries] == ["request-violation", "request-violation"]
    notes(a.url)
    b.scenario("GET /api/notes", status=503, times=1)
    assert requests.get(f"{a.url}/api/notes", params=KEY, timeout=5).status_code == 503
    assert requests.get(f"{a.url}/api/notes", params=KEY, timeout=5).status_code == 200
    # auth still runs for every request: a cached answer never skips it
    assert requests.get(f"{a.url}/api/notes", timeout=5).status_code == 401
