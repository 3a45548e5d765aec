"""``mockserver verify``: the mock conforms to every bundled contract; a server that does
not is caught, with the violation in every report format; bad input exits 2.

The CLI runs in a subprocess (exit codes and output as a user sees them).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from junitparser import Failure as JUnitFailure
from junitparser import JUnitXml
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from conftest import CONTRACTS
from mockserver import MockServer
from mockserver.contract.loader import load_contract

BUNDLED = [
    CONTRACTS / "travel" / "openapi.yaml",
    CONTRACTS / "github.yaml",
    CONTRACTS / "notes.json",
]


def verify(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "verify", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.parametrize("contract", BUNDLED, ids=lambda p: p.relative_to(CONTRACTS).as_posix())
def test_the_mock_conforms_to_every_bundled_contract(contract: Path, tmp_path: Path) -> None:
    # When: schemathesis runs every phase against the mock, in-process
    out = verify(
        str(contract), "--mock", "--max-examples", "3", "--seed", "1", "--report", str(tmp_path)
    )

    # Then: nothing broke the contract and the four reports are written
    assert out.returncode == 0, out.stderr[-4000:]
    assert "conforms" in out.stderr
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [
        "mockserver-server.html",
        "mockserver-server.json",
        "mockserver-server.junit.xml",
        "mockserver-server.md",
    ]
    report = json.loads((tmp_path / "mockserver-server.json").read_text())
    assert report["version"] == 1 and report["kind"] == "server"
    assert report["summary"]["conforms"] is True
    assert report["summary"]["checks_passed"] > 0
    declared = len(load_contract(contract).operations)
    assert report["summary"]["operations"] == declared
    assert report["summary"]["operations_called"] == declared
    assert all(op["calls"] > 0 for op in report["operations"])


# -- a server that breaks its contract ----------------------------------------------------


def _wrong_app(environ: dict[str, Any], start_response: Any) -> Any:
    """Answers notes' paths off-contract: undeclared 418 for lists, notes without their
    required fields, a status text/plain instead of JSON."""
    request = Request(environ)
    path = request.path
    if path == "/api/notes" and request.method == "GET":
        response = Response("[]", status=418, content_type="application/json")
    elif path.startswith("/api/notes/") and request.method == "GET" and path.count("/") == 3:
        response = Response(json.dumps({"id": "not-a-number"}), content_type="application/json")
    elif path == "/api/status":
        response = Response("all good", content_type="text/plain")
    else:
        response = Response(json.dumps({"code": 404, "message": "nope"}), status=404)
        response.content_type = "application/json"
    return response(environ, start_response)


@pytest.fixture
def wrong_server() -> Iterator[str]:
    server = make_server("127.0.0.1", 0, _wrong_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_off_its_contract_fails_with_the_violation_in_every_report(
    wrong_server: str, tmp_path: Path
) -> None:
    # When: verify runs against a real HTTP server that answers off-contract
    out = verify(
        str(CONTRACTS / "notes.json"),
        "--target",
        wrong_server,
        "--api-key",
        "k",
        "--max-examples",
        "2",
        "--seed",
        "1",
        "--phases",
        "examples,fuzzing",
        "--report",
        str(tmp_path),
    )

    # Then: exit 1, and the undeclared 418 of GET /api/notes is in JSON, JUnit and HTML
    assert out.returncode == 1, out.stderr[-3000:]
    assert "does not conform" in out.stderr
    report = json.loads((tmp_path / "mockserver-server.json").read_text())
    assert report["summary"]["conforms"] is False
    rules = {(f["operation"], f["rule"]) for f in report["failures"]}
    assert ("GET /api/notes", "status_code_conformance") in rules
    assert ("GET /api/status", "content_type_conformance") in rules
    assert ("GET /api/notes/{noteId}", "response_schema_conformance") in rules
    undeclared = next(f for f in report["failures"] if f["rule"] == "status_code_conformance")
    assert "418" in undeclared["message"] and undeclared["sample"].endswith("-> 418")
    ops = {o["operation"]: o for o in report["operations"]}
    assert ops["GET /api/notes"]["statuses_undeclared"] == ["418"]

    xml = JUnitXml.fromfile(str(tmp_path / "mockserver-server.junit.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    failures = [r for r in cases["GET /api/notes"].result if isinstance(r, JUnitFailure)]
    assert failures and "418" in (failures[0].text or "")

    html = (tmp_path / "mockserver-server.html").read_text()
    assert '<table id="operations">' in html
    assert 'data-rule="status_code_conformance"' in html
    assert 'class="violation' in html


def test_oauth_token_is_fetched_for_a_target_with_auth(tmp_path: Path) -> None:
    # Given: the travel mock on a real port; its oauth2 operations want an issued token
    contract = CONTRACTS / "travel" / "openapi.yaml"
    with MockServer(contract) as api:
        # When: verify gets one from the contract's token endpoint with --auth
        out = verify(
            str(contract),
            "--target",
            api.url,
            "--auth",
            "my-client:my-secret",
            "--max-examples",
            "2",
            "--phases",
            "examples",
            "--report",
            str(tmp_path),
        )
        grants = [
            e
            for e in api.journal.entries()
            if e.path == "/v1/security/oauth2/token" and e.status == 200
        ]
        authorised = [
            e
            for e in api.journal.entries()
            if e.path.startswith("/v1/reference-data") and e.status == 200
        ]

    # Then: one token request, and the API calls made with it succeed
    assert out.returncode == 0, out.stderr[-3000:]
    assert grants and authorised


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mock", "--target", "http://127.0.0.1:9"], "exactly one of --target URL or --mock"),
        ([], "exactly one of --target URL or --mock"),
        (["--target", "ftp://example.com"], "must be an http:// or https:// URL"),
        (["--target", "http://127.0.0.1:9"], "cannot reach the target"),
        (["--mock", "--auth", "no-colon"], "expected client_id:secret"),
        (["--mock", "--phases", "examples,nope"], "nope; known: examples"),
    ],
)
def test_bad_usage_exits_2(args: list[str], message: str) -> None:
    out = verify(str(CONTRACTS / "notes.json"), *args, timeout=60)

    assert out.returncode == 2, out.stderr
    assert message in out.stderr


def test_a_bad_contract_exits_2_with_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: {title: x, version: '1'}\npaths:\n  /a: [\n")

    out = verify(str(broken), "--mock", timeout=60)

    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mockserver: error: ")
    assert "broken.yaml" in lines[0]
