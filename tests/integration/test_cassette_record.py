"""Recording through the proxy: secrets never reach disk, and what is recorded replays
through the mock and through plain vcrpy."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import requests
import vcr

from conftest import CONTRACTS
from mockserver import MockServer
from mockserver.cassettes.format import cassette_files, load_all, load_cassette
from mockserver.cli.record import RecordingServer
from tests.cassettes.upstream import CANARIES, forms, upstream

C = CANARIES


def _drive(base: str) -> None:
    """Send every canary the upstream knows about, in every place it can hide."""
    s = requests.Session()
    basic = base64.b64encode(f"demo-client:{C['basic_secret']}".encode()).decode()
    r = s.post(
        f"{base}/v1/security/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "demo-client"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    assert r.json()["access_token"] == C["resp_access_token"]  # the client gets the real one
    r = s.post(
        f"{base}/login/oauth/access_token",
        data={
            "client_id": "demo-client",
            "client_secret": C["form_client_secret"],
            "code": C["form_code"],
            "refresh_token": C["form_refresh_token"],
        },
        timeout=10,
    )
    assert C["resp_form_token"] in r.text
    r = s.get(
        f"{base}/login/oauth/authorize",
        params={"client_id": "demo-client", "state": "xyz"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    r = s.get(
        f"{base}/api/notes",
        params={
            "limit": "5",
            "api_key": C["q_api_key"],
            "apikey": C["q_apikey"],
            "access_token": C["q_access_token"],
            "client_secret": C["q_client_secret"],
            "code": C["q_code"],
            "refresh_token": C["q_refresh_token"],
        },
        headers={
            "Authorization": f"Bearer {C['bearer']}",
            "Proxy-Authorization": f"Basic {C['proxy_auth']}",
            "Cookie": f"sid={C['cookie']}; lang=en",
        },
        timeout=10,
    )
    assert r.status_code == 200
    assert r.json()["query"]["api_key"] == [C["q_api_key"]]
    assert r.json()["proxy_authorization"] is None  # hop-by-hop: never forwarded
    r = s.post(
        f"{base}/api/notes",
        json={
            "title": "t",
            "api_key": C["json_api_key"],
            "nested": {"access_token": C["json_access_token"]},
            "client_secret": C["json_client_secret"],
        },
        headers={"X-API-Key": C["json_api_key"]},
        timeout=10,
    )
    assert r.status_code == 201
    r = s.get(f"{base}/oauth/device", timeout=10)
    assert r.status_code == 200


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A cassette folder recorded from the canary upstream; and the upstream's URL."""
    folder = tmp_path_factory.mktemp("recorded") / "cassettes"
    with upstream() as up, RecordingServer(up, folder) as rec:
        _drive(rec.url)
    return folder, up


def test_canaries_reach_no_file(recorded: tuple[Path, str]) -> None:
    folder, _ = recorded
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert len(cassette_files([folder])) >= 6
    for file in files:
        content = file.read_bytes()
        for name, secret in CANARIES.items():
            for form in forms(secret):
                assert form not in content, f"canary {name} ({form!r}) leaked into {file}"


def test_placeholders_are_stable_and_harmless_values_stay(recorded: tuple[Path, str]) -> None:
    folder, _ = recorded
    texts = {p.name: p.read_text() for p in cassette_files([folder])}
    notes = texts["get_api_notes.yaml"]
    # the bearer token in the header and its echo in the body share one placeholder
    assert notes.count("scrubbed-access_token-") >= 2
    assert "sid=scrubbed-cookie-" in notes  # every cookie value is hidden, names stay
    assert "limit=5" in notes
    device = texts["get_oauth_device.yaml"]
    assert "NOT_A_SECRET" in device  # an error code is not an OAuth code
    token = texts["post_v1_security_oauth2_token.yaml"]
    assert "theme=" in token and "Path=/" in token
    assert (
        "demo-client"
        in base64.b64decode(token.split("Basic ")[1].split("\n")[0].strip().strip("'")).decode()
    )


def test_recorded_cassette_replays_through_the_mock(recorded: tuple[Path, str]) -> None:
    folder, up = recorded
    interactions = [i for c in load_all([folder]) for i in c.interactions]
    with MockServer(CONTRACTS / "notes.json", cassettes=folder) as mock:
        for recorded_one in interactions:
            path_and_query = recorded_one.uri[len(up) :]
            response = requests.request(
                recorded_one.method,
                mock.url + path_and_query,
                data=recorded_one.request_body,
                headers={
                    k: v
                    for k, v in recorded_one.request_headers.items()
                    if k.lower() not in ("host", "content-length")
                },
                allow_redirects=False,
                timeout=10,
            )
            assert response.status_code == recorded_one.status, recorded_one.describe()
            expected = recorded_one.response_body.replace(up.encode(), mock.url.encode())
            assert response.content == expected, recorded_one.describe()
        sources = {e.source for e in mock.journal.entries()}
        assert sources == {"cassette"}


def test_recorded_cassette_replays_in_plain_vcrpy(recorded: tuple[Path, str]) -> None:
    # Given the upstream is gone, vcrpy alone serves what the recorder wrote
    folder, _ = recorded
    for file in cassette_files([folder]):
        cassette = load_cassette(file)
        with vcr.use_cassette(str(file), record_mode="none", match_on=["method", "path"]):
            for i in cassette.interactions:
                url = i.uri.split("?")[0]
                r = requests.request(i.method, url, data=i.request_body, allow_redirects=False)
                assert r.status_code == i.status
                assert r.content == i.response_body
