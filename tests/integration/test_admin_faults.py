"""Faults and scenarios over real HTTP: admin API, Prefer, config, the Python API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer

STATUS = "GET /api/status"


@pytest.fixture
def notes() -> Iterator[MockServer]:
    config = {"faults": {"GET /api/notes/{noteId}": {"status": 503, "times": 1}}}
    with MockServer(CONTRACTS / "notes.json", config=config) as server:
        yield server


def test_admin_scenario_forces_status_times_then_clears(notes: MockServer) -> None:
    admin = notes.url + "/__mockserver"
    created = requests.post(
        f"{admin}/scenario", json={"operation": STATUS, "status": 429, "times": 2}, timeout=5
    )
    assert created.status_code == 201
    scenario_id = created.json()["id"]
    listed = requests.get(f"{admin}/scenario", timeout=5).json()["scenarios"]
    assert scenario_id in [s["id"] for s in listed]
    codes = [requests.get(f"{notes.url}/api/status", timeout=5).status_code for _ in range(3)]
    assert codes == [429, 429, 200]
    requests.post(f"{admin}/scenario", json={"operation": STATUS, "status": 500}, timeout=5)
    assert requests.get(f"{notes.url}/api/status", timeout=5).status_code == 500
    removed = requests.delete(f"{admin}/scenario", timeout=5).json()["removed"]
    assert removed >= 1
    assert requests.get(f"{notes.url}/api/status", timeout=5).status_code == 200


def test_invalid_scenario_is_400_naming_the_key(notes: MockServer) -> None:
    resp = requests.post(
        notes.url + "/__mockserver/scenario", json={"operation": STATUS, "staus": 500}, timeout=5
    )
    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "staus" in resp.json()["pointer"]


def test_config_fault_fires_once(notes: MockServer) -> None:
    key = {"api_key": "k"}
    note_id = requests.get(f"{notes.url}/api/notes", params=key, timeout=5).json()[0]["id"]
    first = requests.get(f"{notes.url}/api/notes/{note_id}", params=key, timeout=5)
    second = requests.get(f"{notes.url}/api/notes/{note_id}", params=key, timeout=5)
    assert first.status_code == 503
    assert second.status_code == 200


def test_prefer_delay_and_drop(notes: MockServer) -> None:
    started = time.monotonic()
    resp = requests.get(f"{notes.url}/api/status", headers={"Prefer": "delay=300"}, timeout=5)
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.3
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{notes.url}/api/status", headers={"Prefer": "fault=drop"}, timeout=5)
    # the server is still fine afterwards
    assert requests.get(f"{notes.url}/api/status", timeout=5).status_code == 200


def test_python_api_scenario_delay_and_drop(notes: MockServer) -> None:
    notes.scenario(STATUS, delay_ms=200, times=1)
    started = time.monotonic()
    assert requests.get(f"{notes.url}/api/status", timeout=5).status_code == 200
    assert time.monotonic() - started >= 0.2
    notes.scenario(STATUS, drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{notes.url}/api/status", timeout=5)
    assert requests.get(f"{notes.url}/api/status", timeout=5).status_code == 200


def test_tokens_expire_and_reset_over_the_admin_api() -> None:
    with MockServer(CONTRACTS / "travel") as server:
        token = requests.post(
            f"{server.url}/v1/security/oauth2/token",
            timeout=5,
            data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        url = f"{server.url}/v2/reference-data/urls/checkin-links"
        assert (
            requests.get(url, params={"airlineCode": "BA"}, headers=auth, timeout=5).status_code
            == 200
        )
        expired = requests.post(f"{server.url}/__mockserver/tokens/expire", timeout=5).json()
        assert expired["expired"] == 1
        refused = requests.get(url, params={"airlineCode": "BA"}, headers=auth, timeout=5)
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        assert requests.post(f"{server.url}/__mockserver/reset", timeout=5).status_code == 200
        assert len(server.journal) == 0


def test_missing_token_is_401_with_bearer_challenge() -> None:
    with MockServer(CONTRACTS / "travel") as server:
        resp = requests.get(
            f"{server.url}/v2/reference-data/urls/checkin-links",
            params={"airlineCode": "BA"},
            timeout=5,
        )
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith('Bearer realm="')
    assert "error=" not in resp.headers["WWW-Authenticate"]
    assert resp.headers["Content-Type"] == "application/vnd.amadeus+json"
    assert resp.json()["errors"][0]["status"] == 401


def test_rate_limit_headers_on_every_answer() -> None:
    config = {"rate_limit": {"requests": 5, "per_seconds": 60, "by": "ip"}}
    with MockServer(CONTRACTS / "github.yaml", config=config) as server:
        ok = requests.get(f"{server.url}/users/octocat", timeout=5)
        assert ok.headers["X-RateLimit-Limit"] == "5"
        assert ok.headers["X-RateLimit-Remaining"] == "4"
        assert ok.headers["RateLimit-Policy"].startswith("5;w=60")
        for _ in range(4):
            requests.get(f"{server.url}/users/octocat", timeout=5)
        limited = requests.get(f"{server.url}/users/octocat", timeout=5)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["X-RateLimit-Remaining"] == "0"
