"""A pytest session that uses only the plugin's fixtures tests the real Amadeus SDK offline
and writes a conformance report. The session's test file is the README's example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ROOT

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parent / "amadeus_example.py"


def test_the_readme_shows_the_example_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()

    assert f"```python\n{EXAMPLE.read_text()}```" in readme


def test_an_offline_amadeus_session_passes_and_writes_a_report(pytester: pytest.Pytester) -> None:
    # Given the README's test file and nothing else: no conftest, no server started by hand
    pytester.makepyfile(test_amadeus=EXAMPLE.read_text())

    # When pytest runs it with a report folder (the default contract: the travel API)
    result = pytester.runpytest("--mockserver-report", "reports")

    # Then every test passed against the mock, offline
    result.assert_outcomes(passed=6)
    folder = pytester.path / "reports"
    for suffix in (".json", ".junit.xml", ".html", ".md"):
        assert (folder / f"mockserver-client{suffix}").stat().st_size > 0
    report = json.loads((folder / "mockserver-client.json").read_text())
    calls = {o["operation"]: o for o in report["operations"]}
    # and the report counted the SDK's calls: tokens, searches, pages, the unknown location
    assert calls["POST /v1/security/oauth2/token"]["calls"] >= 6
    search = calls["GET /v1/reference-data/locations"]
    assert search["calls"] >= 1 + 1 + 1 + 2 + 25  # the tests above, then client_check
    assert {"200", "429"} <= set(search["statuses_seen"])
    assert calls["GET /v1/reference-data/locations/{locationId}"]["statuses_seen"] == {"404": 1}
    assert report["summary"]["requests"] == sum(o["calls"] for o in report["operations"])
    # the one request violation is the test that sends a revoked token on purpose
    assert [f["rule"] for f in report["failures"]] == ["invalid_token"]
