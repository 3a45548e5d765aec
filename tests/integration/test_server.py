"""MockServer on a real port: routing answers, validation errors, Prefer, self-check."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer


@pytest.fixture(scope="module")
def notes() -> Iterator[MockServer]:
    with MockServer(CONTRACTS / "notes.json", config={"oauth": {"enforce": False}}) as server:
        yield server


def test_unknown_path_is_404_problem_json(notes: MockServer) -> None:
    resp = requests.get(notes.url + "/api/nothing-here", timeout=5)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.json()["title"] == "Not Found"


def test_wrong_method_is_405_with_allow(notes: MockServer) -> None:
    resp = requests.post(notes.url + "/api/status", timeout=5)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("data", "content_type", "status", "mentions"),
    [
        pytest.param(
            json.dumps({"title": "", "tags": "not-a-list"}).encode(),
            "application/json",
            400,
            ["title", "/tags"],
            id="invalid-body-names-the-field",
        ),
        pytest.param(
            b"{nope",
            "application/json",
            400,
            ["invalid JSON at line 1, column 2"],
            id="invalid-json-is-400-not-500",
        ),
        pytest.param(b"title=x", "text/csv", 415, ["text/csv"], id="wrong-media-type-is-415"),
    ],
)
def test_bad_note_bodies(
    notes: MockServer, data: bytes, content_type: str, status: int, mentions: list[str]
) -> None:
    resp = requests.post(
        notes.url + "/api/notes",
        params={"api_key": "k"},
        data=data,
        headers={"Content-Type": content_type},
        timeout=5,
    )
    assert resp.status_code == status
    for text in mentions:
        assert text in resp.text


def test_binary_answer_is_bytes_with_declared_type(notes: MockServer) -> None:
    # an attachment of a note that exists (one of a missing note is 404)
    note = requests.get(notes.url + "/api/notes", params={"api_key": "k"}, timeout=5).json()[0]
    resp = requests.get(
        notes.url + f"/api/notes/{note['id']}/attachments/photo.jpg",
        params={"api_key": "k"},
        headers={"Accept": "image/jpeg"},
        timeout=5,
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.content.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize(
    ("prefer", "status", "detail_mentions"),
    [
        pytest.param("code=404", 404, None, id="code"),
        pytest.param("example=nope", 422, "nope", id="unknown-example"),
    ],
)
def test_prefer(notes: MockServer, prefer: str, status: int, detail_mentions: str | None) -> None:
    resp = requests.get(
        notes.url + "/api/notes/1",
        params={"api_key": "k"},
        headers={"Prefer": prefer},
        timeout=5,
    )
    assert resp.status_code == status
    if detail_mentions is not None:
        assert detail_mentions in resp.json()["detail"]


def test_same_seed_same_answer() -> None:
    path = CONTRACTS / "github.yaml"
    with (
        MockServer(path, seed=7) as a,
        MockServer(path, seed=7) as b,
        MockServer(path, seed=8) as c,
    ):
        headers = {"Prefer": "dynamic=true", "Authorization": "Bearer t"}
        ra = requests.get(a.url + "/user", headers=headers, timeout=5).json()
        rb = requests.get(b.url + "/user", headers=headers, timeout=5).json()
        rc = requests.get(c.url + "/user", headers=headers, timeout=5).json()
    assert ra == rb
    assert ra != rc


def test_answers_are_self_checked_and_journaled(notes: MockServer) -> None:
    notes.reset()
    requests.get(notes.url + "/api/status", timeout=5)
    (entry,) = notes.journal.entries()
    assert entry.operation == "GET /api/status"
    assert entry.verdict == "ok"
