"""Canary secrets sent through the recorder and through a served mock reach no cassette,
no report (JSON, JUnit, HTML, Markdown), no journal answer and no line of the log."""

from __future__ import annotations

import base64
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conftest import CONTRACTS
from mockserver.cassettes.format import cassette_files
from mockserver.cli.record import RecordingServer
from tests.cassettes.upstream import CANARIES, forms, upstream
from tests.fixtures.redis_server import free_port
from tests.integration.test_cassette_record import _drive

# Secrets a client sends to the mock, in every place a credential travels.
MOCK_CANARIES = {
    name: f"canary-mock-{name.replace('_', '-')}-{n:04d}x7"
    for n, name in enumerate(
        [
            "bearer",
            "basic_secret",
            "form_secret",
            "api_key_header",
            "api_key_query",
            "cookie",
            "json_secret",
            "refresh_token",
            "code",
        ],
        start=1,
    )
}
M = MOCK_CANARIES
TOKEN = "/v1/security/oauth2/token"
LOCATIONS = "/v1/reference-data/locations"


def leaks(content: bytes, secrets: dict[str, str]) -> list[str]:
    return [
        f"{name} ({form!r})"
        for name, secret in secrets.items()
        for form in forms(secret)
        if form in content
    ]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("canary-rec") / "cassettes"
    with upstream() as up, RecordingServer(up, folder) as rec:
        _drive(rec.url)
    return folder


BASIC_CANARY = base64.b64encode(f"demo:{M['basic_secret']}".encode()).decode()
DEMO = {"client_id": "demo", "client_secret": "demo"}
# (form, headers, expected status) of each token request carrying a canary, in order
CANARY_TOKEN_REQUESTS: list[tuple[dict[str, str], dict[str, str], int]] = [
    ({"grant_type": "client_credentials"}, {"Authorization": f"Basic {BASIC_CANARY}"}, 400),
    # the default demo client takes any secret: the canary still must not be kept
    ({"grant_type": "client_credentials", **DEMO, "client_secret": M["form_secret"]}, {}, 200),
    ({"grant_type": "refresh_token", "refresh_token": M["refresh_token"], **DEMO}, {}, 400),
    (
        {
            "grant_type": "authorization_code",
            "code": M["code"],
            **DEMO,
            "redirect_uri": "http://127.0.0.1/cb",
        },
        {},
        400,
    ),
]


def drive_mock(base: str) -> None:
    s = requests.Session()
    for data, headers, status in CANARY_TOKEN_REQUESTS:
        r = s.post(base + TOKEN, data=data, headers=headers, timeout=5)
        assert r.status_code == status, r.text
    r = s.get(
        base + LOCATIONS,
        params={"subType": "AIRPORT", "keyword": "LON", "api_key": M["api_key_query"]},
        headers={
            "Authorization": f"Bearer {M['bearer']}",
            "X-API-Key": M["api_key_header"],
            "Cookie": f"sid={M['cookie']}",
        },
        timeout=5,
    )
    assert r.status_code == 401, r.text
    good = s.post(
        base + TOKEN,
        data={"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo"},
        timeout=5,
    )
    assert good.status_code == 200, good.text
    r = s.post(
        base + "/v1/shopping/flight-offers/pricing",
        json={"client_secret": M["json_secret"], "nested": {"access_token": M["bearer"]}},
        headers={"Authorization": f"Bearer {good.json()['access_token']}"},
        timeout=5,
    )
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, bytes, bytes]]:
    """(report folder, journal JSON, server log) after canary traffic through ``serve``."""
    reports = tmp_path_factory.mktemp("canary-reports")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "mockserver", "-v", "serve", str(CONTRACTS / "travel"),
            "--port", str(port), "--report", str(reports),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, "serve exited early"
            try:
                requests.get(url + "/__mockserver/health", timeout=0.5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.05)
        drive_mock(url)
        journal = requests.get(url + "/__mockserver/journal", timeout=5)
        assert journal.status_code == 200
        assert (
            len(journal.json()["entries"] if isinstance(journal.json(), dict) else journal.json())
            >= 7
        )
        os.kill(proc.pid, signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        yield reports, journal.content, out + err
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_no_canary_in_any_cassette_file(recorded: Path) -> None:
    files = [p for p in recorded.rglob("*") if p.is_file()]
    assert len(cassette_files([recorded])) >= 6
    for file in files:
        assert leaks(file.read_bytes(), CANARIES) == [], file


def test_no_canary_in_any_report_file(served: tuple[Path, bytes, bytes]) -> None:
    reports, _, _ = served
    files = sorted(p for p in reports.rglob("*") if p.is_file())
    suffixes = {p.suffix for p in files}
    assert {".json", ".xml", ".html", ".md"} <= suffixes, files
    for file in files:
        assert leaks(file.read_bytes(), MOCK_CANARIES) == [], file


def test_no_canary_in_the_journal(served: tuple[Path, bytes, bytes]) -> None:
    _, journal, _ = served
    assert b"/v1/reference-data/locations" in journal
    assert leaks(journal, MOCK_CANARIES) == []


def test_no_canary_in_the_server_log(served: tuple[Path, bytes, bytes]) -> None:
    _, _, log = served
    # the log is captured (banner and report lines); -v logs no request line today
    assert b"mockserver on http://127.0.0.1:" in log and b"report: " in log
    assert leaks(log, MOCK_CANARIES) == []


def test_no_canary_in_the_recorder_log_when_the_upstream_fails(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    caplog.set_level(logging.INFO)  # what `mockserver -v record` logs
    with RecordingServer(dead, tmp_path / "cassettes") as rec:
        r = requests.get(
            f"{rec.url}/api/notes",
            params={"api_key": M["api_key_query"], "access_token": M["bearer"]},
            headers={"Authorization": f"Bearer {M['bearer']}", "Cookie": f"sid={M['cookie']}"},
            timeout=10,
        )
    assert r.status_code == 502
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["title"] == "Bad Gateway"
    assert "GET /api/notes?..." in caplog.text
    assert leaks(caplog.text.encode(), MOCK_CANARIES) == []
    assert list((tmp_path / "cassettes").rglob("*.yaml")) == []
