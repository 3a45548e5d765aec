"""The live page and the HTML report in a real browser (headless Chromium).

Each test takes a screenshot and reads the DOM after the page's scripts ran: the live
page builds its tables from ``journal`` and ``coverage`` with fetch(), so rows in the
DOM prove the polling works end to end.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer
from mockserver.conformance.report import write_reports

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian/Ubuntu: apt-get install chromium)",
)
PNG = b"\x89PNG\r\n\x1a\n"


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium on ``url``; 8 s of virtual time lets the page poll a few times."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",  # tests may run as root (CI containers)
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--virtual-time-budget=8000",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def screenshot(tmp_path: Path, url: str, name: str) -> Path:
    shot = tmp_path / name
    out = chromium(tmp_path, url, f"--screenshot={shot}", "--window-size=1280,900")
    assert shot.is_file(), out.stderr[-2000:]
    data = shot.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 20_000  # a rendered page, not a blank one
    return shot


def dom(tmp_path: Path, url: str) -> str:
    out = chromium(tmp_path, url, "--dump-dom")
    assert "<html" in out.stdout, out.stderr[-2000:]
    return out.stdout


def rows(html: str, cls: str) -> list[str]:
    return re.findall(rf'<tr class="{cls}[^"]*"[^>]*>.*?</tr>', html, flags=re.S)


@pytest.fixture
def notes() -> Iterator[MockServer]:
    with MockServer(CONTRACTS / "notes.json") as api:
        s = requests.Session()
        assert s.get(f"{api.url}/api/notes", params={"api_key": "k"}, timeout=5).ok
        assert s.get(f"{api.url}/api/notes?api_key=k&limit=abc", timeout=5).status_code == 400
        assert s.get(f"{api.url}/api/nope", timeout=5).status_code == 404
        # a path a browser must show as text, never run
        assert s.get(f"{api.url}/api/<img src=x onerror=alert(1)>", timeout=5).status_code == 404
        yield api


def test_live_page_shows_traffic_verdicts_and_coverage(notes: MockServer, tmp_path: Path) -> None:
    url = f"{notes.url}/__mockserver/"

    screenshot(tmp_path, url, "live.png")
    html = dom(tmp_path, url)

    # the coverage table: one row per declared operation, built by the page's script
    assert '<table id="operations">' in html
    operations = rows(html, "operation")
    assert len(operations) == 9
    listing = next(r for r in operations if 'data-operation="GET /api/notes"' in r)
    assert "has-violations" in listing
    assert '<td class="n calls">2</td>' in listing
    # the traffic table: every exchange with its verdict and the rule it broke
    traffic = rows(html, "exchange")
    assert len(traffic) == 4
    assert sum("verdict-request-violation" in r for r in traffic) == 3
    assert sum("verdict-ok" in r for r in traffic) == 1
    assert re.search(r'<span class="rule violation">type \(limit\)</span>', html)
    assert re.search(r'<span class="rule violation">path</span>', html)
    assert '<span class="num" data-key="requests">4</span>' in html
    assert '<span class="num" data-key="unmatched">2</span>' in html
    # the client's path is text: escaped, never an element
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    # the page itself added nothing to the journal (no favicon request)
    assert len(notes.journal.entries()) == 4


def test_live_page_needs_no_external_assets(notes: MockServer) -> None:
    page = requests.get(f"{notes.url}/__mockserver/", timeout=5)

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "http://" not in page.text and "https://" not in page.text
    assert "src=" not in page.text and 'rel="stylesheet"' not in page.text


def test_live_page_polls_only_what_is_new(notes: MockServer) -> None:
    # the page asks for journal?since=<last id it has>: only newer exchanges come back
    first = requests.get(f"{notes.url}/__mockserver/journal", timeout=5).json()["entries"]
    last = first[-1]["id"]
    requests.get(f"{notes.url}/api/status", timeout=5)

    newer = requests.get(f"{notes.url}/__mockserver/journal?since={last}", timeout=5).json()

    assert [e["path"] for e in newer["entries"]] == ["/api/status"]


def test_html_report_renders_operations_and_violations(notes: MockServer, tmp_path: Path) -> None:
    (html_file,) = write_reports(notes.report(), tmp_path / "reports", formats=["html"])
    url = html_file.as_uri()

    screenshot(tmp_path, url, "report.png")
    html = dom(tmp_path, url)

    assert '<table id="operations">' in html
    assert len(rows(html, "operation")) == 9
    assert 'id="verdict" class="verdict fail"' in html
    violations = re.findall(r'<div class="violation severity-error" data-rule="([^"]+)"', html)
    assert sorted(violations) == ["path", "path", "type"]
    assert '<table id="exchanges">' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
