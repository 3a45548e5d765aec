"""The cassette step inside the pipeline (no sockets): where it sits, what it answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CONTRACTS
from mockserver.cassettes.format import Cassette, Interaction
from mockserver.cassettes.replay import Replayer
from mockserver.config import CassetteConfig, Config
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract
from mockserver.http import Headers, MockRequest
from mockserver.pipeline import Pipeline

ROOT_URL = "http://127.0.0.1:5000"
REAL = "https://test.api.amadeus.com"
LOCATIONS = "/v1/reference-data/locations?subType=AIRPORT&keyword=LON"
AMADEUS_JSON = "application/vnd.amadeus+json"
NOTES = "https://notes.example.com"


@pytest.fixture(scope="module")
def travel() -> Contract:
    return load_contract(CONTRACTS / "travel" / "openapi.yaml")


@pytest.fixture(scope="module")
def notes() -> Contract:
    return load_contract(CONTRACTS / "notes.json")


def _recorded(method: str, uri: str, status: int, body: object, **headers: str) -> Interaction:
    content_type = headers.pop("content_type", "application/json")
    return Interaction(
        method,
        uri,
        Headers(),
        None,
        status,
        "",
        Headers({"Content-Type": content_type, **headers}),
        json.dumps(body).encode() if not isinstance(body, bytes) else body,
    )


def _pipeline(contract: Contract, *interactions: Interaction, **cassettes: object) -> Pipeline:
    config = Config(cassettes=CassetteConfig(**cassettes))  # type: ignore[arg-type]
    replayer = Replayer([Cassette(Path("c.yaml"), list(interactions))], config.cassettes)
    return Pipeline([contract], config, cassettes=replayer)


def _send(pipeline: Pipeline, method: str, path: str, **kwargs: object) -> tuple[int, bytes, str]:
    request = MockRequest.from_url(method, ROOT_URL + path, **kwargs)  # type: ignore[arg-type]
    response = pipeline.handle(request)
    return response.status, response.body, pipeline.journal.entries()[-1].source


def _location_page() -> dict[str, object]:
    item = {
        "type": "location",
        "subType": "AIRPORT",
        "name": "RECORDED",
        "id": "AREC",
        "iataCode": "REC",
        "self": {"href": f"{REAL}/v1/reference-data/locations/AREC", "methods": ["GET"]},
    }
    return {"meta": {"count": 1, "links": {"self": f"{REAL}{LOCATIONS}"}}, "data": [item]}


def test_replayed_token_opens_the_recorded_calls_and_nothing_else(travel: Contract) -> None:
    pipeline = _pipeline(
        travel,
        _recorded(
            "POST",
            f"{REAL}/v1/security/oauth2/token",
            200,
            {"access_token": "scrubbed-access_token-1", "token_type": "Bearer", "expires_in": 1799},
        ),
        _recorded(
            "GET",
            REAL + LOCATIONS,
            200,
            _location_page(),
            content_type="application/vnd.amadeus+json",
        ),
    )
    # no token: auth comes before the cassette step
    status, _, source = _send(pipeline, "GET", LOCATIONS)
    assert (status, source) == (401, "auth")
    status, body, source = _send(
        pipeline,
        "POST",
        "/v1/security/oauth2/token",
        body="grant_type=client_credentials&client_id=a&client_secret=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (status, source) == (200, "cassette")
    token = json.loads(body)["access_token"]
    status, body, source = _send(
        pipeline, "GET", LOCATIONS, headers={"Authorization": f"Bearer {token}"}
    )
    assert (status, source) == (200, "cassette")
    # the recorded host became the host the client called, in the body and its links
    assert REAL.encode() not in body and b"http://127.0.0.1:5000/v1/reference-data" in body
    assert pipeline.journal.entries()[-1].verdict == "ok"


def test_validation_comes_before_the_recording(notes: Contract) -> None:
    pipeline = _pipeline(
        notes, _recorded("GET", "https://notes.example.com/api/notes?limit=zero", 200, [])
    )
    status, _, source = _send(pipeline, "GET", "/api/notes?limit=zero&api_key=k")
    assert (status, source) == (400, "validation")


def test_a_recording_wins_over_the_dataset_until_prefer_asks_otherwise(notes: Contract) -> None:
    note = {"id": 7, "title": "recorded"}
    pipeline = _pipeline(
        notes, _recorded("GET", "https://notes.example.com/api/notes/7", 200, note)
    )
    status, body, source = _send(pipeline, "GET", "/api/notes/7?api_key=k")
    assert (status, json.loads(body), source) == (200, note, "cassette")
    status, _, source = _send(
        pipeline, "GET", "/api/notes/7?api_key=k", headers={"Prefer": "code=404"}
    )
    assert status == 404 and source != "cassette"


def test_self_check_shows_drift_in_a_replayed_answer(notes: Contract) -> None:
    pipeline = _pipeline(
        notes, _recorded("GET", "https://notes.example.com/api/notes/7", 200, {"title": 5})
    )
    status, _, source = _send(pipeline, "GET", "/api/notes/7?api_key=k")
    assert (status, source) == (200, "cassette")
    entry = pipeline.journal.entries()[-1]
    assert entry.verdict == "response-violation"
    assert any("/title" in f.pointer for f in entry.response_failures)


def test_paths_the_contract_lacks_still_replay_and_strict_misses_explain(notes: Contract) -> None:
    pipeline = _pipeline(
        notes,
        _recorded("GET", "https://notes.example.com/legacy/ping", 200, {"pong": True}),
        strict=True,
    )
    status, body, source = _send(pipeline, "GET", "/legacy/ping")
    assert (status, json.loads(body), source) == (200, {"pong": True}, "cassette")
    status, body, source = _send(pipeline, "GET", "/api/notes/7?api_key=k")
    problem = json.loads(body)
    assert (status, source) == (404, "cassette")
    assert problem["title"] == "No recorded interaction"
    assert pipeline.journal.entries()[-1].verdict == "request-violation"


def test_reset_rewinds_the_cassettes(notes: Contract) -> None:
    pipeline = _pipeline(
        notes,
        _recorded("GET", "https://notes.example.com/api/status", 200, {"status": "first"}),
        _recorded("GET", "https://notes.example.com/api/status", 200, {"status": "second"}),
    )
    assert json.loads(_send(pipeline, "GET", "/api/status")[1])["status"] == "first"
    assert json.loads(_send(pipeline, "GET", "/api/status")[1])["status"] == "second"
    pipeline.reset()
    assert json.loads(_send(pipeline, "GET", "/api/status")[1])["status"] == "first"
    assert pipeline.describe()["cassettes"]["interactions"] == 2


def test_a_recording_missing_a_required_header_is_not_patched_up() -> None:
    # GitHub's answers require X-RateLimit-*; this recording lacks them: the mock must not
    # add them to a replayed answer, or the drift would hide
    github = load_contract(CONTRACTS / "github.yaml")
    user = {"login": "octocat", "id": 1, "url": "https://api.github.com/users/octocat"}
    pipeline = _pipeline(
        github, _recorded("GET", "https://api.github.com/users/octocat", 200, user)
    )
    response = pipeline.handle(MockRequest.from_url("GET", f"{ROOT_URL}/users/octocat"))
    assert response.headers.get("X-RateLimit-Limit") is None
    entry = pipeline.journal.entries()[-1]
    assert entry.source == "cassette"
    assert any(f.location == "header" for f in entry.response_failures), entry.to_dict()
