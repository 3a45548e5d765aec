"""Cassettes both ways: pytest-recording's recordings replay through the mock, and a
scrubbed OAuth flow recorded through the proxy replays for a fresh client."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import requests

from conftest import CONTRACTS
from mockserver import MockServer
from mockserver.cassettes.format import cassette_files, load_cassette
from mockserver.cli.record import RecordingServer

GITHUB = CONTRACTS / "github.yaml"
TRAVEL = CONTRACTS / "travel" / "openapi.yaml"

RECORDED_TEST = textwrap.dedent(
    """
    import os

    import pytest
    import requests


    @pytest.mark.vcr
    def test_github_client():
        base = os.environ["API_URL"]
        with requests.Session() as s:
            s.headers["Authorization"] = "token ghp_not_a_real_token"
            assert s.get(f"{base}/users/octocat", timeout=10).status_code == 200
            repos = s.get(f"{base}/users/octocat/repos", params={"per_page": 5}, timeout=10)
            assert repos.status_code == 200 and "next" in repos.links
            assert s.get(repos.links["next"]["url"], timeout=10).status_code == 200
            assert s.get(f"{base}/repos/octocat/no-such-repo-xyz", timeout=10).status_code == 404
    """
)


def test_pytest_recording_cassette_replays_through_the_mock(tmp_path: Path) -> None:
    # Given a cassette pytest-recording wrote for a plain requests client of a "real" API
    (tmp_path / "test_recorded.py").write_text(RECORDED_TEST)
    with MockServer(GITHUB, seed=7) as real:
        env = {**os.environ, "API_URL": real.url}
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--record-mode=once"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        real_url = real.url
    file = tmp_path / "cassettes" / "test_recorded" / "test_github_client.yaml"
    recorded = load_cassette(file).interactions
    assert len(recorded) == 4

    # When the same requests are made to a mock (another seed: synthesis would differ)
    with MockServer(GITHUB, cassettes=file, seed=1) as mock:
        with requests.Session() as s:
            s.headers["Authorization"] = "token ghp_other"
            for i in recorded:
                r = s.get(mock.url + i.uri[len(real_url) :], timeout=10)
                # Then every answer is the recorded one, pointed at the mock's host
                assert r.status_code == i.status
                assert r.content == i.response_body.replace(real_url.encode(), mock.url.encode())
                if "Link" in i.response_headers:
                    expected = i.response_headers.get("Link") or ""
                    assert r.headers["Link"] == expected.replace(real_url, mock.url)
        entries = mock.journal.entries()
        assert [e.source for e in entries] == ["cassette"] * 4
        assert {e.verdict for e in entries} == {"ok"}  # recordings of a conforming API


def test_scrubbed_oauth_flow_replays_for_a_new_client(tmp_path: Path) -> None:
    # Given a client-credentials flow recorded through the proxy (secrets scrubbed)
    folder = tmp_path / "cassettes"
    config = {"oauth": {"clients": {"app": {"secret": "app-secret-value-1"}}}}
    with (
        MockServer(TRAVEL, config=config, seed=3) as real,
        RecordingServer(real.url, folder, contracts=[TRAVEL]) as rec,
    ):
        token = requests.post(
            f"{rec.url}/v1/security/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "app",
                "client_secret": "app-secret-value-1",
            },
            timeout=10,
        ).json()["access_token"]
        page = requests.get(
            f"{rec.url}/v1/reference-data/locations",
            params={"subType": "AIRPORT", "keyword": "LON", "page[limit]": 3},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert page.status_code == 200
        rec_url = rec.url
    texts = "".join(p.read_text() for p in cassette_files([folder]))
    assert token not in texts and "app-secret-value-1" not in texts
    assert sorted(p.name for p in cassette_files([folder])) == [
        "createAccessToken.yaml",
        "getAirportCitySearch.yaml",
    ]

    # When a new client (other credentials: the recording ignores them) replays the flow
    with MockServer(TRAVEL, cassettes=folder, config=config, seed=1) as mock:
        answer = requests.post(
            f"{mock.url}/v1/security/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
            timeout=10,
        )
        assert answer.status_code == 200
        placeholder = answer.json()["access_token"]
        assert placeholder.startswith("scrubbed-access_token-")
        replayed = requests.get(
            f"{mock.url}/v1/reference-data/locations",
            params={"subType": "AIRPORT", "keyword": "LON", "page[limit]": 3},
            headers={"Authorization": f"Bearer {placeholder}"},
            timeout=10,
        )
        # Then the placeholder token opens the recorded call, which answers as recorded
        assert replayed.status_code == 200
        assert replayed.json() == _rehost(page.json(), rec_url, mock.url)
        # ... while a made-up token is still refused: the recording opens no other door
        refused = requests.get(
            f"{mock.url}/v1/reference-data/locations",
            params={"subType": "AIRPORT", "keyword": "LON", "page[limit]": 3},
            headers={"Authorization": "Bearer made-up"},
            timeout=10,
        )
        assert refused.status_code == 401
        sources = [e.source for e in mock.journal.entries()]
        assert sources == ["cassette", "cassette", "auth"]


def _rehost(data: object, old: str, new: str) -> object:
    import json

    return json.loads(json.dumps(data).replace(old, new))
