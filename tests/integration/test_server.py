"""MockServer on a real port: routing answers, validation errors, Prefer, self-check."""

from __future__ import annotations

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


def test_invalid_body_names_the_field(notes: MockServer) -> None:
    resp = requests.post(
        notes.url + "/api/notes",
        params={"api_key": "k"},
        json={"title": "", "tags": "not-a-list"},
        timeout=5,
    )
    assert resp.status_code == 400
    text = resp.text
    assert "/title" in text or "title" in text
    assert "/tags" in text


def test_invalid_json_is_400_not_500(notes: MockServer) -> None:
    resp = requests.post(
        notes.url + "/api/notes",
        params={"api_key": "k"},
        data=b"{nope",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert resp.status_code == 400
    assert "invalid JSON at line 1, column 2" in resp.text


def test_wrong_media_type_is_415(notes: MockServer) -> None:
    resp = requests.post(
        notes.url + "/api/notes",
        params={"api_key": "k"},
        data=b"title=x",
        headers={"Content-Type": "text/csv"},
        timeout=5,
    )
    assert resp.status_code == 415
    assert "text/csv" in resp.text


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


def test_prefer_code_and_unknown_example(notes: MockServer) -> None:
    resp = requests.get(
        notes.url + "/api/notes/1",
        params={"api_key": "k"},
        headers={"Prefer": "code=404"},
        timeout=5,
    )
    assert resp.status_code == 404
    resp = requests.get(
        notes.url + "/api/notes/1",
        params={"api_key": "k"},
        headers={"Prefer": "example=nope"},
        timeout=5,
    )
    assert resp.status_code == 422
    assert "nope" in resp.json()["detail"]


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
