"""Hostile and broken requests: a clear problem+json every time, never a 500 or a trace."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer

KEY = {"api_key": "k"}


@pytest.fixture(scope="module")
def notes() -> Iterator[MockServer]:
    with MockServer(CONTRACTS / "notes.json", config={"max_body_bytes": 1024}) as server:
        yield server


def raw_request(server: MockServer, payload: bytes, timeout: float = 5) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(payload)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def assert_problem(resp: requests.Response, status: int) -> dict[str, object]:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/")
    assert "Traceback" not in resp.text
    body = resp.json()
    assert isinstance(body, dict)
    return body


@pytest.mark.parametrize(
    ("data", "content_type", "status", "mentions"),
    [
        pytest.param(
            b'{"title": "x",}',
            "application/json",
            400,
            "invalid JSON at line 1, column 15",
            id="invalid-json-names-the-position",
        ),
        pytest.param(
            b"<note/>",
            "application/xml",
            415,
            "application/json",
            id="wrong-content-type-lists-accepted-types",
        ),
        pytest.param(
            json.dumps({"title": "x" * 5000}).encode(),
            "application/json",
            413,
            "1024",
            id="body-over-the-limit",
        ),
        pytest.param(b'{"title": "\xff\xfe"}', "application/json", 400, None, id="non-utf8-json"),
    ],
)
def test_bad_post_bodies_are_problems(
    notes: MockServer, data: bytes, content_type: str, status: int, mentions: str | None
) -> None:
    resp = requests.post(
        f"{notes.url}/api/notes",
        params=KEY,
        data=data,
        headers={"Content-Type": content_type},
        timeout=5,
    )
    body = assert_problem(resp, status)
    if mentions is not None:
        assert mentions in str(body)


@pytest.mark.parametrize(
    "path",
    [
        "/api/notes/%E2%9C%93",
        "/api/notes/%00",
        "/api/notes/..%2F..%2Fetc%2Fpasswd",
        "/api/notes/%ZZ",
        "/api/%F0%9F%92%A9/x",
        "/api/notes/1%0d%0aSet-Cookie:%20x=1",
    ],
)
def test_unicode_and_percent_encoding_in_paths(notes: MockServer, path: str) -> None:
    resp = requests.get(f"{notes.url}{path}", params=KEY, timeout=5)
    assert resp.status_code in (400, 404)
    assert "Set-Cookie" not in resp.headers
    assert "Traceback" not in resp.text
    resp.json()


def test_header_injection_is_neutralised(notes: MockServer) -> None:
    # A raw request whose X-Request-Id tries to smuggle a second header through the echo.
    answer = raw_request(
        notes,
        b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"X-Request-Id: abc\rInjected: yes\r\n\r\n",
    )
    head = answer.split(b"\r\n\r\n", 1)[0]
    assert head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.1 400")
    assert b"\r\nInjected:" not in head


def test_very_long_url_is_414_problem_json(notes: MockServer) -> None:
    answer = raw_request(
        notes, b"GET /api/status?x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 414")
    assert b"application/problem+json" in answer


def test_very_long_header_is_refused_with_problem_json(notes: MockServer) -> None:
    answer = raw_request(
        notes,
        b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    )
    assert answer.split(b" ", 2)[1] in (b"400", b"431")
    assert b"application/problem+json" in answer


def test_too_many_headers_is_refused_with_problem_json(notes: MockServer) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    answer = raw_request(
        notes, b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"
    )
    assert answer.split(b" ", 2)[1] in (b"400", b"431")
    assert b"application/problem+json" in answer


def test_garbage_request_line(notes: MockServer) -> None:
    answer = raw_request(notes, b"\x16\x03\x01\x02\x00 not http at all\r\n\r\n")
    assert answer.startswith(b"HTTP/1.") and b" 400 " in answer.split(b"\r\n", 1)[0]
    assert b"Traceback" not in answer


def test_slow_client_does_not_block_others(notes: MockServer) -> None:
    slow = socket.create_connection(("127.0.0.1", notes.port), timeout=5)
    try:
        slow.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finishes
        started = time.monotonic()
        for _ in range(5):
            assert requests.get(f"{notes.url}/api/status", timeout=5).status_code == 200
        assert time.monotonic() - started < 5
    finally:
        slow.close()


def test_declared_content_type_has_no_charset(notes: MockServer) -> None:
    resp = requests.get(f"{notes.url}/api/notes", params=KEY, timeout=5)
    assert resp.headers["Content-Type"] == "application/json"


def test_problem_never_500_for_odd_methods(notes: MockServer) -> None:
    for method in ("PROPFIND", "TRACE", "BREW"):
        resp = requests.request(method, f"{notes.url}/api/status", timeout=5)
        assert resp.status_code in (405, 501)
        assert "Traceback" not in resp.text
