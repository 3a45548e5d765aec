"""Flask glue: werkzeug request <-> ``MockRequest``, the admin blueprint, nothing else.

Mocked traffic skips Flask's URL map (a WSGI dispatcher in front of it) for two reasons:
Flask would redirect ``/x/`` to ``/x`` and merge slashes, which a mock must not do, and
routing twice costs time on the hot path. ``/__mockserver/`` goes to Flask as usual.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask import request as flask_request
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request, Response

from mockserver.adminguard import AdminGuard
from mockserver.http import Headers, MockRequest, MockResponse, problem
from mockserver.pipeline import Pipeline

log = logging.getLogger("mockserver")
ADMIN_PREFIX = "/__mockserver"

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


# werkzeug derives the host URL (IRI decoding) and parses the query anew for every request;
# clients repeat the same few of each, so the results are kept (bounded) by their inputs.
_MEMO_SIZE = 4096
_MEMO_QUERY_BYTES = 2048
_root_urls: dict[tuple[str, str | None, str | None, str | None], str] = {}
_queries: dict[bytes, tuple[tuple[str, str], ...]] = {}


def _root_url(request: Request) -> str:
    env = request.environ
    key = (request.scheme, env.get("HTTP_HOST"), env.get("SERVER_NAME"), env.get("SERVER_PORT"))
    hit = _root_urls.get(key)
    if hit is None:
        hit = request.host_url.rstrip("/")
        if len(_root_urls) >= _MEMO_SIZE:
            _root_urls.clear()
        _root_urls[key] = hit
    return hit


def _query(request: Request) -> list[tuple[str, str]]:
    raw = request.query_string
    if len(raw) > _MEMO_QUERY_BYTES:
        return list(request.args.items(multi=True))
    hit = _queries.get(raw)
    if hit is None:
        hit = tuple(request.args.items(multi=True))
        if len(_queries) >= _MEMO_SIZE:
            _queries.clear()
        _queries[raw] = hit
    return list(hit)


def to_mock_request(request: Request, max_body: int) -> MockRequest:
    """Convert a werkzeug request (reads at most ``max_body + 1`` bytes of body)."""
    body = request.stream.read(max_body + 1) if request.content_length != 0 else b""
    return MockRequest(
        method=request.method,
        path=request.path,
        query=_query(request),
        headers=Headers(request.headers.items()),
        body=body,
        remote_addr=request.remote_addr or "",
        root_url=_root_url(request),
        raw_query=request.query_string.decode("latin-1"),
    )


def _no_body(environ: dict[str, Any]) -> bool:
    # No Transfer-Encoding and no (or a zero) Content-Length: HTTP/1.1 says no body.
    length = environ.get("CONTENT_LENGTH")
    return "HTTP_TRANSFER_ENCODING" not in environ and (not length or length == "0")


def request_from_environ(environ: dict[str, Any], max_body: int) -> MockRequest:
    """The ``MockRequest`` for a WSGI environ: what ``to_mock_request`` gives, byte for
    byte, without building a werkzeug request for the common case of a request without a
    body (most of a mock's traffic: reads). Requests with a body take werkzeug's path,
    which knows chunked bodies and broken lengths."""
    if not _no_body(environ):
        return to_mock_request(Request(environ, populate_request=False), max_body)
    raw = environ.get("QUERY_STRING", "")
    query = _queries.get(raw.encode("latin1")) if len(raw) <= _MEMO_QUERY_BYTES else None
    key = (
        environ.get("wsgi.url_scheme", "http"),
        environ.get("HTTP_HOST"),
        environ.get("SERVER_NAME"),
        environ.get("SERVER_PORT"),
    )
    root = _root_urls.get(key)
    if query is None or root is None:  # a first sight: werkzeug decides, then memoised
        return to_mock_request(Request(environ, populate_request=False), max_body)
    headers = []
    # as werkzeug's EnvironHeaders lists them
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            if name not in _BODY_HEADERS_AS_HTTP:
                headers.append((name[5:].replace("_", "-").title(), value))
        elif name in _BODY_HEADERS and value:
            headers.append((name.replace("_", "-").title(), value))
    path = environ.get("PATH_INFO") or ""
    if not path.isascii():
        path = path.encode("latin1").decode(errors="replace")
    return MockRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path="/" + path.lstrip("/"),
        query=list(query),
        headers=Headers(headers),
        body=b"",
        remote_addr=environ.get("REMOTE_ADDR") or "",
        root_url=root,
        raw_query=raw,
    )


_BODY_HEADERS = frozenset({"CONTENT_TYPE", "CONTENT_LENGTH"})
_BODY_HEADERS_AS_HTTP = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


def to_wsgi_response(response: MockResponse, method: str) -> Response:
    """Convert a ``MockResponse``; HEAD answers carry headers only."""
    out = Response(
        b"" if method == "HEAD" else response.body,
        status=response.status,
        headers=[
            (k, _safe_header(v))
            for k, v in response.headers.items()
            if k.lower() != "content-length"
        ],
    )
    if not response.headers.get("Content-Type"):
        out.headers.remove("Content-Type")
    if method == "HEAD":
        out.headers["Content-Length"] = str(len(response.body))
    return out


def respond(
    response: MockResponse, method: str, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """Start the WSGI answer for ``response``: what ``to_wsgi_response`` sends, byte for
    byte, without building a werkzeug ``Response`` for the common answers (a body, no
    ``Location``); the others still go through werkzeug, whose rules (1xx/204/304
    headers, IRI locations) then apply."""
    status = response.status
    if status < 200 or status in (204, 304):
        return to_wsgi_response(response, method)(environ, start_response)
    headers = []
    for name, value in response.headers.items():
        lname = name.lower()
        if lname in ("location", "content-location"):
            return to_wsgi_response(response, method)(environ, start_response)
        if lname != "content-length":
            headers.append((name, _safe_header(value)))
    headers.append(("Content-Length", str(len(response.body))))
    start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'UNKNOWN').upper()}", headers)
    return [] if method == "HEAD" else [response.body]


def _safe_header(value: str) -> str:
    # A value echoed from a request (X-Request-Id, a recorded header) must never split
    # the answer: control characters become spaces.
    if value.isprintable():
        return value
    return "".join(c if c.isprintable() else " " for c in value)


class MockDispatcher:
    """WSGI middleware: admin paths to Flask, everything else through the pipeline."""

    def __init__(self, flask_app: WSGIApp, pipeline: Pipeline) -> None:
        self.flask_app = flask_app
        self.pipeline = pipeline

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
            return self.flask_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET").upper()
        try:
            mock_request = request_from_environ(environ, self.pipeline.config.max_body_bytes)
        except Exception:
            log.warning("could not read request %s %s", method, path, exc_info=True)
            response = problem(400, "Bad Request", "the request could not be read")
        else:
            response = self.pipeline.handle(mock_request)
        if response.drop_connection:
            sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
            if sock is None:
                # A server that keeps its sockets to itself (granian): promise a body and
                # fail while sending it, so the server closes the connection mid-answer.
                start_response("200 OK", [("Content-Length", "1")])
                return _DroppedBody()
            import socket

            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            raise ConnectionAbortedError("fault: connection dropped on purpose")
        if response.delay > 0:
            time.sleep(response.delay)
        return respond(response, method, environ, start_response)


class _DroppedBody:
    """A response body that fails before its first byte (see ``drop_connection``)."""

    def __iter__(self) -> _DroppedBody:
        return self

    def __next__(self) -> bytes:
        raise ConnectionAbortedError("fault: connection dropped on purpose")

    def close(self) -> None:
        pass


def create_app(pipeline: Pipeline, *, bind_host: str = "127.0.0.1") -> Flask:
    """The Flask application serving ``pipeline`` and the admin API.

    ``bind_host`` decides who may use the admin API (see ``adminguard``).
    """
    from mockserver.control import create_blueprint

    app = Flask("mockserver")
    app.config["MOCKSERVER_PIPELINE"] = pipeline
    app.json.sort_keys = False  # type: ignore[attr-defined]
    admin = pipeline.config.admin
    guard = AdminGuard.for_binding(bind_host, admin.token, admin.allowed_hosts)
    app.extensions["mockserver_admin_guard"] = guard
    blueprint = create_blueprint(pipeline)

    def _guard() -> Response | None:
        denial = guard.check(
            host=flask_request.host,
            authorization=flask_request.headers.get("Authorization"),
            header_token=flask_request.headers.get("X-Mockserver-Token"),
            query_token=flask_request.args.get("token") if flask_request.method == "GET" else None,
        )
        if denial is None:
            return None
        resp = problem(denial.status, denial.title, denial.detail)
        if denial.status == 401:
            resp.headers.set("WWW-Authenticate", 'Bearer realm="mockserver-admin"')
        return to_wsgi_response(resp, flask_request.method)

    blueprint.before_request(_guard)
    app.register_blueprint(blueprint, url_prefix=ADMIN_PREFIX)
    app.wsgi_app = MockDispatcher(app.wsgi_app, pipeline)  # type: ignore[method-assign]
    return app
