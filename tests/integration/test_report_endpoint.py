"""Client conformance reports: what a client sent through the mock, the rule each
off-contract request broke, and coverage counts that match the requests made.

Through the admin API (``GET /__mockserver/report``, ``GET /__mockserver/coverage``),
``MockServer.report()`` and ``serve --report DIR`` (written on SIGTERM).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from junitparser import Failure as JUnitFailure
from junitparser import JUnitXml

from conftest import CONTRACTS
from mockserver import MockServer

NOTES = CONTRACTS / "notes.json"
_SERVE = [sys.executable, "-m", "mockserver", "serve"]


def client_session(url: str) -> None:
    """A client that gets some calls right and some wrong (7 requests)."""
    s = requests.Session()
    assert s.get(f"{url}/api/notes", params={"api_key": "k"}, timeout=5).status_code == 200
    # wrong type for a query parameter
    assert s.get(f"{url}/api/notes?api_key=k&limit=abc", timeout=5).status_code == 400
    # no credentials
    assert s.get(f"{url}/api/notes", timeout=5).status_code == 401
    # a body without its required title
    assert s.post(f"{url}/api/notes?api_key=k", json={"body": "x"}, timeout=5).status_code == 400
    # a path and a method the contract does not have
    assert s.get(f"{url}/api/nope", timeout=5).status_code == 404
    assert s.delete(f"{url}/api/status", timeout=5).status_code == 405
    note = s.get(f"{url}/api/notes", params={"api_key": "k"}, timeout=5).json()[0]["id"]
    assert s.get(f"{url}/api/notes/{note}?api_key=k", timeout=5).status_code == 200


@pytest.fixture
def api() -> Iterator[MockServer]:
    with MockServer(NOTES) as server:
        yield server


def _report(api: MockServer, fmt: str = "json") -> requests.Response:
    return requests.get(f"{api.url}/__mockserver/report", params={"format": fmt}, timeout=10)


def test_each_off_contract_request_is_reported_with_the_rule_it_broke(api: MockServer) -> None:
    client_session(api.url)

    report = _report(api).json()

    assert report["version"] == 1 and report["kind"] == "client"
    found = {
        (f.get("operation", ""), f["rule"], f.get("location"), f.get("name"))
        for f in report["failures"]
    }
    assert found == {
        ("GET /api/notes", "type", "query", "limit"),
        ("GET /api/notes", "auth", "auth", None),
        ("POST /api/notes", "required", "body", None),
        ("", "path", "route", None),
        ("", "method", "route", None),
    }
    samples = {f["rule"]: f["sample"] for f in report["failures"]}
    assert samples["path"] == "GET /api/nope -> 404"
    assert samples["method"] == "DELETE /api/status -> 405"
    assert samples["type"] == "GET /api/notes?api_key=***&limit=abc -> 400"


def test_coverage_counts_match_the_requests_made(api: MockServer) -> None:
    client_session(api.url)

    report = _report(api).json()

    s = report["summary"]
    assert s["requests"] == 8
    assert s["unmatched"] == 2
    assert s["operations"] == 9
    assert s["operations_called"] == 3
    assert s["request_violations"] == 3
    assert s["response_violations"] == 0
    assert s["conforms"] is False
    ops = {o["operation"]: o for o in report["operations"]}
    listing = ops["GET /api/notes"]
    assert listing["calls"] == 4
    assert listing["statuses_seen"] == {"200": 2, "400": 1, "401": 1}
    assert listing["statuses_covered"] == ["200", "400", "401"]
    assert listing["parameters_used"] == ["query:limit"]
    assert listing["request_violations"] == 2
    # score: 3 of 4 declared statuses, 1 of 3 parameters
    assert listing["score"] == round((3 / 4 + 1 / 3) / 2, 4)
    assert ops["POST /api/notes"]["calls"] == 1
    assert ops["POST /api/notes"]["statuses_seen"] == {"400": 1}
    assert ops["GET /api/notes/{noteId}"]["calls"] == 1
    assert ops["GET /api/notes/{noteId}"]["parameters_used"] == ["path:noteId"]
    assert ops["DELETE /api/notes/{noteId}"]["calls"] == 0
    assert ops["DELETE /api/notes/{noteId}"]["score"] == 0
    expected = sum(o["score"] for o in report["operations"]) / 9
    assert s["score"] == pytest.approx(expected, abs=1e-4)
    assert len(report["exchanges"]) == 8


def test_coverage_endpoint_and_python_api_agree(api: MockServer) -> None:
    client_session(api.url)

    coverage = requests.get(f"{api.url}/__mockserver/coverage", timeout=5).json()
    report = api.report().to_dict()

    assert coverage["summary"] == report["summary"]
    assert coverage["operations"] == report["operations"]


def test_reset_starts_the_report_over(api: MockServer) -> None:
    client_session(api.url)
    requests.post(f"{api.url}/__mockserver/reset", timeout=5)

    report = _report(api).json()

    assert report["summary"]["requests"] == 0
    assert report["failures"] == []
    assert report["summary"]["conforms"] is True


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("json", "application/json"),
        ("junit", "application/xml"),
        ("html", "text/html; charset=utf-8"),
        ("md", "text/markdown; charset=utf-8"),
    ],
)
def test_every_format_is_served(api: MockServer, fmt: str, media_type: str) -> None:
    client_session(api.url)

    resp = _report(api, fmt)

    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == media_type
    assert "limit" in resp.text


def test_junit_report_parses_and_fails_the_right_cases(api: MockServer, tmp_path: Path) -> None:
    client_session(api.url)
    path = tmp_path / "client.xml"
    path.write_text(_report(api, "junit").text)

    xml = JUnitXml.fromfile(str(path))

    cases = {case.name: case for suite in xml for case in suite}
    failed = {
        name
        for name, case in cases.items()
        if any(isinstance(r, JUnitFailure) for r in case.result)
    }
    assert failed == {"GET /api/notes", "POST /api/notes", "GET /api/nope", "DELETE /api/status"}
    assert ET.parse(path).getroot().get("failures") == "4"


def test_unknown_format_is_a_problem(api: MockServer) -> None:
    resp = _report(api, "pdf")

    assert resp.status_code == 400
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "json, junit, html, md" in resp.json()["detail"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited: {proc.communicate()[1]}")
        try:
            requests.get(url, timeout=0.5)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not come up")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_writes_every_report_on_shutdown(tmp_path: Path, sig: int) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    out = tmp_path / "reports"
    proc = subprocess.Popen(
        [*_SERVE, str(NOTES), "--port", str(port), "--report", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    try:
        _wait_up(f"{url}/__mockserver/health", proc)
        client_session(url)
        proc.send_signal(sig)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "mockserver-client.html",
        "mockserver-client.json",
        "mockserver-client.junit.xml",
        "mockserver-client.md",
    ]
    report: dict[str, Any] = json.loads((out / "mockserver-client.json").read_text())
    # the health checks while waiting are admin calls, not traffic
    assert report["summary"]["requests"] == 8
    assert {f["rule"] for f in report["failures"]} == {"type", "auth", "required", "path", "method"}
    assert f"report: {out / 'mockserver-client.json'}" in stderr
