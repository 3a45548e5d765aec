"""``app.respond`` (the hot path's WSGI answer) sends exactly what werkzeug would."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.app import respond, to_wsgi_response
from mockserver.http import Headers, MockResponse

CASES = [
    MockResponse(200, Headers({"Content-Type": "application/json"}), b'{"a":1}'),
    MockResponse(201, Headers([("Content-Type", "application/json"), ("X-A", "1")]), b"{}"),
    MockResponse(404, Headers({"Content-Type": "application/problem+json"}), b"{}"),
    MockResponse(418, Headers(), b"tea"),
    MockResponse(299, Headers({"Content-Length": "99"}), b"odd"),
    MockResponse(429, Headers([("Retry-After", "1"), ("Link", "<a>; rel=next")]), b""),
    MockResponse(200, Headers({"X-Echo": "bad\r\nheader\x00"}), b"x"),
    MockResponse(503, Headers({"Content-Type": "text/plain"}), "é".encode()),
    MockResponse(200, Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]), b""),
    # the rare ones go through werkzeug itself
    MockResponse(201, Headers({"Location": "/x/ü"}), b"{}"),
    MockResponse(204, Headers({"Content-Type": "application/json"}), b""),
    MockResponse(304, Headers({"ETag": '"1"'}), b""),
]


def run(app: Any, method: str) -> tuple[str, list[tuple[str, str]], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, list(headers)
        return lambda data: None

    body = b"".join(app({"REQUEST_METHOD": method}, start_response))
    return seen["status"], seen["headers"], body


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
@pytest.mark.parametrize("response", CASES, ids=lambda r: f"{r.status}-{len(r.headers.items())}")
def test_respond_sends_what_werkzeug_sends(response: MockResponse, method: str) -> None:
    expected = run(to_wsgi_response(response, method), method)
    got = run(lambda env, sr: respond(response, method, env, sr), method)
    assert got == expected
