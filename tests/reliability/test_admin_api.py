"""The admin API: loopback-only by Host, a token beyond loopback, no CORS, fuzzed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import CONTRACTS
from mockserver import MockServer
from mockserver.app import create_app
from mockserver.contract.loader import load_contract
from mockserver.pipeline import Pipeline


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(CONTRACTS / "travel") as srv:
        yield srv


def test_foreign_host_header_is_refused_on_loopback(server: MockServer) -> None:
    # DNS rebinding: evil.example resolves to 127.0.0.1, the browser sends its own Host.
    resp = requests.get(
        f"{server.url}/__mockserver/health", headers={"Host": "evil.example"}, timeout=5
    )
    assert resp.status_code == 403
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "loopback" in resp.json()["detail"]
    ok = requests.get(
        f"{server.url}/__mockserver/health", headers={"Host": f"localhost:{server.port}"}, timeout=5
    )
    assert ok.status_code == 200


def test_no_cors_headers_even_when_asked(server: MockServer) -> None:
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    preflight = requests.options(f"{server.url}/__mockserver/reset", headers=headers, timeout=5)
    get = requests.get(f"{server.url}/__mockserver/journal", headers=headers, timeout=5)
    for resp in (preflight, get):
        assert "Access-Control-Allow-Origin" not in resp.headers


def test_configured_token_is_required() -> None:
    with MockServer(CONTRACTS / "travel", config={"admin": {"token": "s3cret"}}) as srv:
        url = f"{srv.url}/__mockserver/reset"
        missing = requests.post(url, timeout=5)
        wrong = requests.post(url, headers={"Authorization": "Bearer nope"}, timeout=5)
        right = requests.post(url, headers={"Authorization": "Bearer s3cret"}, timeout=5)
        header = requests.post(url, headers={"X-Mockserver-Token": "s3cret"}, timeout=5)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert header.status_code == 200


def test_bound_beyond_loopback_generates_a_token() -> None:
    # Served through the WSGI test client: tests never bind beyond 127.0.0.1.
    pipeline = Pipeline([load_contract(CONTRACTS / "notes.json")])
    app = create_app(pipeline, bind_host="0.0.0.0")
    token = app.extensions["mockserver_admin_guard"].token
    assert token and len(token) >= 24
    client = app.test_client()
    assert client.get("/__mockserver/health", headers={"Host": "10.1.2.3"}).status_code == 401
    assert (
        client.get("/__mockserver/health", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    # the mocked API itself needs no admin token
    assert client.get("/api/status").status_code == 200


def _fuzz(server: MockServer) -> list[str]:
    schema = schemathesis.openapi.from_dict(
        requests.get(f"{server.url}/__mockserver/openapi.json", timeout=5).json()
    )
    failures: list[str] = []
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def run(case: Any) -> None:
            case.call_and_validate(base_url=server.url, checks=checks)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:1500]}")
    return failures


def test_admin_api_and_token_endpoint_fuzzed_from_their_own_description() -> None:
    with MockServer(CONTRACTS / "travel") as srv:
        spec = requests.get(f"{srv.url}/__mockserver/openapi.json", timeout=5).json()
        assert "/v1/security/oauth2/token" in spec["paths"]
        assert "/__mockserver/scenario" in spec["paths"]
        failures = _fuzz(srv)
    assert not failures, "\n\n".join(failures)
