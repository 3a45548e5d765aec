"""The recording reverse proxy as a plain WSGI application (no Flask, no werkzeug).

Every request goes to the one upstream given (the request's own host or absolute URI is
ignored, so this is no open proxy); redirects are passed back to the client, never
followed; hop-by-hop headers are stripped both ways. The client gets the upstream's real
answer, with the upstream's absolute URLs pointed back at the proxy so it keeps
recording when it follows links; the cassette gets the scrubbed exchange as the upstream
saw it. ``cli/record.py`` serves this with werkzeug.

Admin (JSON): ``GET /__mockserver/health``; ``GET|POST|DELETE /__mockserver/cassette``
with ``{"name": "tests/test_login"}`` to send everything to one cassette (what the pytest
plugin does per test). A request header ``X-Mockserver-Cassette`` does the same for one
request and is not forwarded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from mockserver.cassettes.format import HOP_BY_HOP, Interaction
from mockserver.cassettes.record import Forward, Recorder, Refuse, safe_name
from mockserver.cassettes.replay import Played
from mockserver.errors import CassetteError
from mockserver.http import Headers, MockRequest, MockResponse, problem

log = logging.getLogger("mockserver.record")

ADMIN_PREFIX = "/__mockserver"
CASSETTE_HEADER = "X-Mockserver-Cassette"
MAX_BODY = 64 * 1024 * 1024
_DECODED = frozenset({"gzip", "x-gzip", "deflate"})  # what urllib3 decompresses
StartResponse = Callable[..., Any]


class RecordingProxy:
    """WSGI app: forward to ``upstream``, answer the client, record the exchange."""

    def __init__(self, recorder: Recorder, upstream: str, *, timeout: float = 30.0) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CassetteError(upstream, "", "the upstream must be an http:// or https:// URL")
        self.recorder = recorder
        self.upstream = upstream
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.netloc = parts.netloc
        self.base_path = parts.path.rstrip("/")
        # One pool bound to the upstream: a request can reach no other host.
        self.pool = urllib3.connection_from_url(
            self.origin,
            maxsize=32,
            block=False,
            timeout=urllib3.Timeout(connect=min(timeout, 10.0), read=timeout),
            retries=False,
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        try:
            if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
                response = self._admin(environ, path[len(ADMIN_PREFIX) :])
            elif environ.get("REQUEST_METHOD", "GET").upper() == "CONNECT":
                response = problem(405, "Method Not Allowed", "this is no forward proxy")
            else:
                response = self._proxy(environ)
        except _TooLarge:
            response = problem(
                413, "Payload Too Large", f"the recorder takes at most {MAX_BODY} bytes"
            )
        except CassetteError as exc:
            log.error("recording failed: %s", exc.one_line())
            response = problem(500, "Recording failed", exc.one_line())
        except Exception:  # never a traceback to the client; the log has it
            log.exception("recording proxy failed on %s", path)
            response = problem(500, "Recording proxy error", "see the recorder's log")
        return _send(response, environ, start_response)

    # -- proxying ------------------------------------------------------------------------

    def _proxy(self, environ: dict[str, Any]) -> MockResponse:
        request, raw_target = _read_request(environ)
        override = request.headers.get(CASSETTE_HEADER)
        request.headers.remove(CASSETTE_HEADER)
        name = self.recorder.name_for(request, override)
        decision = self.recorder.decide(request, name)
        if isinstance(decision, Played):
            response = decision.response
            _point_at(response, decision.origin + self.base_path, request.root_url)
            return response
        if isinstance(decision, Refuse):
            answer = decision.miss.to_response()
            answer.headers.set("X-Mockserver-Cassette", str(decision.path))
            body = json.loads(answer.body)
            body["detail"] = (
                f"record mode {decision.mode!r}: {decision.path} is not recorded again; "
                + body.get("detail", "")
            )
            return MockResponse.json(404, body, content_type=answer.content_type)
        return self._forward(request, raw_target, decision)

    def _forward(self, request: MockRequest, raw_target: str, decision: Forward) -> MockResponse:
        target = self.base_path + raw_target
        connection = {
            t.strip().lower() for v in request.headers.get_all("Connection") for t in v.split(",")
        }
        sent = Headers(
            (n, v)
            for n, v in request.headers.items()
            if n.lower() not in HOP_BY_HOP
            and n.lower() not in connection
            and n.lower() not in ("host", "content-length", "expect")
        )
        try:
            upstream = self.pool.urlopen(
                request.method,
                target,
                body=request.body or None,
                headers=urllib3.HTTPHeaderDict(sent.items()),
                redirect=False,
                retries=False,
                assert_same_host=True,
                preload_content=True,
                decode_content=True,
            )
        except Urllib3Error as exc:
            # The query string may hold credentials (api_key=...): the log gets the path only.
            shown = target.split("?", 1)[0] + ("?..." if "?" in target else "")
            log.warning("upstream %s failed: %s %s: %s", self.origin, request.method, shown, exc)
            return problem(502, "Bad Gateway", f"the upstream {self.origin} did not answer: {exc}")
        body = upstream.data or b""
        headers = Headers()
        for n, v in upstream.headers.items():
            if n.lower() not in HOP_BY_HOP:
                headers.add(n, v)
        coding = headers.get("Content-Encoding") or ""
        encodings = [e.strip().lower() for e in coding.split(",") if e.strip()]
        if encodings and all(e in _DECODED for e in encodings):
            headers.remove("Content-Encoding")
            headers.set("Content-Length", str(len(body)))
        recorded_headers = Headers([("Host", self.netloc), *sent.items()])
        if request.body:
            recorded_headers.set("Content-Length", str(len(request.body)))
        interaction = Interaction(
            method=request.method,
            uri=self.origin + target,
            request_headers=recorded_headers,
            request_body=request.body or None,
            status=upstream.status,
            reason=upstream.reason or "",
            response_headers=headers,
            response_body=body,
        )
        self.recorder.record(decision.path, interaction)
        response = MockResponse(upstream.status, headers.copy(), body)
        _point_at(response, self.origin + self.base_path, request.root_url)
        return response

    # -- admin -----------------------------------------------------------------------------

    def _admin(self, environ: dict[str, Any], sub: str) -> MockResponse:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        if sub in ("/health", "/health/") and method == "GET":
            return MockResponse.json(
                200,
                {
                    "status": "ok",
                    "role": "recorder",
                    "upstream": self.upstream,
                    "mode": self.recorder.mode,
                    "cassettes": str(self.recorder.store.directory),
                    "cassette": self.recorder.cassette_name,
                },
            )
        if sub in ("/cassette", "/cassette/"):
            if method == "POST":
                raw = _read_body(environ)
                try:
                    data = json.loads(raw or b"{}")
                except ValueError:
                    return problem(400, "Bad Request", 'expected JSON: {"name": "..."}')
                name = data.get("name") if isinstance(data, dict) else None
                if not isinstance(name, str) or not name.strip():
                    return problem(400, "Bad Request", "expected a non-empty 'name'")
                self.recorder.cassette_name = safe_name(name, keep_folders=True)
            elif method == "DELETE":
                self.recorder.cassette_name = None
            elif method != "GET":
                return problem(405, "Method Not Allowed", "GET, POST or DELETE")
            return MockResponse.json(200, {"cassette": self.recorder.cassette_name})
        return problem(404, "Not Found", f"no admin endpoint {sub or '/'} on the recorder")


def _read_request(environ: dict[str, Any]) -> tuple[MockRequest, str]:
    """The request as a ``MockRequest`` and its raw target (``/path?query``)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
    if raw.startswith(("http://", "https://")):
        parts = urlsplit(raw)  # absolute-form: the host in it is ignored on purpose
        raw = parts.path + (f"?{parts.query}" if parts.query else "")
    if not raw.startswith("/"):
        path_info = environ.get("PATH_INFO", "") or "/"
        path_bytes = path_info.encode("latin-1", "replace")
        query_string = environ.get("QUERY_STRING", "")
        raw = quote(path_bytes, safe="/:@!$&'()*+,;=~%") + (
            f"?{query_string}" if query_string else ""
        )
    raw_path, _, raw_query = raw.partition("?")
    headers = Headers()
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers.add(key[5:].replace("_", "-").title(), value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers.add(key.replace("_", "-").title(), value)
    scheme = environ.get("wsgi.url_scheme", "http")
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
    request = MockRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=unquote(raw_path or "/"),
        query=parse_qsl(raw_query, keep_blank_values=True),
        headers=headers,
        body=_read_body(environ),
        remote_addr=environ.get("REMOTE_ADDR", ""),
        root_url=f"{scheme}://{host}",
        raw_query=raw_query,
    )
    return request, raw


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):
        data: bytes = stream.read(MAX_BODY + 1)
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        data = stream.read(min(length, MAX_BODY + 1)) if length > 0 else b""
    if len(data) > MAX_BODY:
        raise _TooLarge
    return data


class _TooLarge(Exception):
    """A request body over ``MAX_BODY``."""


def _point_at(response: MockResponse, origin: str, root: str) -> None:
    """The upstream's absolute URLs, in the body and link headers, pointed at ``root``."""
    if not origin or origin == root:
        return
    old = origin.encode()
    if old in response.body:
        response.body = response.body.replace(old, root.encode())
    for name in ("Location", "Content-Location", "Link"):
        values = response.headers.get_all(name)
        if any(origin in v for v in values):
            response.headers.remove(name)
            for value in values:
                response.headers.add(name, value.replace(origin, root))


def _send(
    response: MockResponse, environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    from http import HTTPStatus

    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    head = environ.get("REQUEST_METHOD", "GET").upper() == "HEAD"
    headers = [
        (n, v)
        for n, v in response.headers.items()
        if n.lower() not in HOP_BY_HOP and (head or n.lower() != "content-length")
    ]
    if not head:
        headers.append(("Content-Length", str(len(response.body))))
    start_response(f"{response.status} {reason}", headers)
    return [b"" if head else response.body]
