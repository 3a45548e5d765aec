"""Plain ``requests`` code (the notes tutorial) and concurrent ``aiohttp``/``httpx`` calls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer

pytestmark = pytest.mark.e2e


@pytest.fixture
def notes() -> Iterator[MockServer]:
    config = {"oauth": {"api_keys": ["tutorial-key"]}, "pagination": {"collection_size": 12}}
    with MockServer(CONTRACTS / "notes.json", config=config) as server:
        yield server


def test_tutorial_status_codes_headers_and_api_key(notes: MockServer) -> None:
    api = notes.url + "/api"
    # no key: 401 with a challenge; a wrong key: 401; the key in the query: 200
    assert requests.get(f"{api}/notes", timeout=5).status_code == 401
    assert requests.get(f"{api}/notes", params={"api_key": "nope"}, timeout=5).status_code == 401
    listed = requests.get(f"{api}/notes", params={"api_key": "tutorial-key"}, timeout=5)
    assert listed.status_code == 200
    assert listed.headers["Content-Type"] == "application/json"
    # the same key as a header works too
    assert (
        requests.get(f"{api}/notes", headers={"X-API-Key": "tutorial-key"}, timeout=5).status_code
        == 200
    )
    # X-Request-Id comes back
    status = requests.get(f"{api}/status", headers={"X-Request-Id": "req-42"}, timeout=5)
    assert status.status_code == 200
    assert status.headers["X-Request-Id"] == "req-42"


def test_tutorial_create_read_delete(notes: MockServer) -> None:
    api = notes.url + "/api"
    key = {"api_key": "tutorial-key"}
    created = requests.post(
        f"{api}/notes", params=key, timeout=5, json={"title": "Buy milk", "tags": ["home"]}
    )
    assert created.status_code == 201
    note = created.json()
    assert note["title"] == "Buy milk"
    assert created.headers["Location"].endswith(f"/api/notes/{note['id']}")
    fetched = requests.get(f"{api}/notes/{note['id']}", params=key, timeout=5)
    assert fetched.status_code == 200 and fetched.json()["title"] == "Buy milk"
    patched = requests.patch(
        f"{api}/notes/{note['id']}", params=key, json={"title": "Oat milk"}, timeout=5
    )
    assert patched.status_code == 200 and patched.json()["title"] == "Oat milk"
    assert requests.delete(f"{api}/notes/{note['id']}", params=key, timeout=5).status_code == 204
    gone = requests.get(f"{api}/notes/{note['id']}", params=key, timeout=5)
    assert gone.status_code == 404
    assert set(gone.json()) >= {"code", "message"}


def test_twenty_concurrent_aiohttp_calls_all_answered(notes: MockServer) -> None:
    async def main() -> list[int]:
        async with aiohttp.ClientSession() as session:

            async def one(i: int) -> int:
                async with session.get(
                    f"{notes.url}/api/notes",
                    params={"api_key": "tutorial-key", "limit": str(i % 5 + 1)},
                ) as resp:
                    await resp.json()
                    return resp.status

            return await asyncio.gather(*(one(i) for i in range(20)))

    statuses = asyncio.run(main())
    assert statuses == [200] * 20


def test_httpx_client(notes: MockServer) -> None:
    with httpx.Client(base_url=notes.url) as client:
        resp = client.get("/api/notes", params={"api_key": "tutorial-key"})
    assert resp.status_code == 200
    assert isinstance(resp.json(), list)


def test_journal_and_report_never_show_the_api_key(notes: MockServer) -> None:
    requests.get(f"{notes.url}/api/notes", params={"api_key": "tutorial-key"}, timeout=5)
    requests.get(f"{notes.url}/api/notes", headers={"X-API-Key": "tutorial-key"}, timeout=5)
    journal = requests.get(f"{notes.url}/__mockserver/journal", timeout=5).text
    report = requests.get(
        f"{notes.url}/__mockserver/report", params={"format": "json"}, timeout=5
    ).text
    assert "tutorial-key" not in journal
    assert "tutorial-key" not in report
