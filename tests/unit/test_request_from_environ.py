"""``app.request_from_environ`` (the hot path's request) reads what werkzeug would.

The fast path skips werkzeug for requests without a body once their query string and
host were seen; whatever the environ, the ``MockRequest`` must be the one werkzeug's
``Request`` gives, first sight or repeat.
"""

from __future__ import annotations

import io
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from werkzeug.wrappers import Request

from mockserver.app import request_from_environ, to_mock_request
from mockserver.http import MockRequest

MAX_BODY = 64

# WSGI strings are latin-1 decodings of the raw bytes: any byte may appear.
wsgi_text = st.binary(max_size=24).map(lambda b: b.decode("latin1"))
query_text = st.lists(
    st.tuples(
        st.sampled_from(["a", "page[limit]", "page%5Boffset%5D", "k%20w", "é", "x+y", ""]),
        st.sampled_from(["1", "", "LON", "%ZZ", "a%20b", "ü", "a=b", "%E2%82%AC"]),
    ),
    max_size=4,
).map(lambda pairs: "&".join(f"{k}={v}" if v else k for k, v in pairs).encode().decode("latin1"))
header_names = st.sampled_from(
    [
        "HTTP_AUTHORIZATION",
        "HTTP_X_REQUEST_ID",
        "HTTP_ACCEPT",
        "HTTP_CONTENT_TYPE",
        "HTTP_CONTENT_LENGTH",
        "HTTP_PREFER",
        "HTTP_X_UNDER_SCORE_",
    ]
)


@st.composite
def environs(draw: Any) -> dict[str, Any]:
    body = draw(st.sampled_from([b"", b"{}", b"x" * (MAX_BODY + 5)]))
    environ: dict[str, Any] = {
        "REQUEST_METHOD": draw(st.sampled_from(["GET", "get", "HEAD", "POST", "DELETE"])),
        "PATH_INFO": draw(st.one_of(st.just("/v1/items"), st.just("//a//b/"), wsgi_text)),
        "QUERY_STRING": draw(query_text),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": draw(st.sampled_from(["80", "8080"])),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": draw(st.sampled_from(["http", "https"])),
        "wsgi.input": io.BytesIO(body),
        "REMOTE_ADDR": draw(st.sampled_from(["127.0.0.1", "::1", ""])),
    }
    if draw(st.booleans()):
        hosts = ["localhost:8080", "xn--bcher-kva.ch", "[::1]"]
        environ["HTTP_HOST"] = draw(st.sampled_from(hosts))
    for name in draw(st.lists(header_names, max_size=4, unique=True)):
        environ[name] = draw(wsgi_text)
    length = draw(st.sampled_from([None, "", "0", str(len(body)), "nan"]))
    if length is not None:
        environ["CONTENT_LENGTH"] = length
    if draw(st.booleans()):
        environ["CONTENT_TYPE"] = draw(st.sampled_from(["", "application/json"]))
    if draw(st.integers(0, 9)) == 0:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        environ["wsgi.input_terminated"] = True
    return environ


def by_werkzeug(environ: dict[str, Any]) -> MockRequest:
    copy = dict(environ, **{"wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())})
    return to_mock_request(Request(copy), MAX_BODY)


def fast(environ: dict[str, Any]) -> MockRequest:
    copy = dict(environ, **{"wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())})
    return request_from_environ(copy, MAX_BODY)


def same(a: MockRequest, b: MockRequest) -> bool:
    fields = ("method", "path", "query", "body", "remote_addr", "root_url", "raw_query")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and (
        a.headers.items() == b.headers.items()
    )


@given(environs())
def test_first_sight_and_repeat_match_werkzeug(environ: dict[str, Any]) -> None:
    expected = by_werkzeug(environ)
    first = fast(environ)  # fills the memo when werkzeug had to decide
    again = fast(environ)  # the fast path proper, for a request without a body
    assert same(first, expected), (first, expected)
    assert same(again, expected), (again, expected)


def test_a_bodyless_repeat_takes_the_fast_path(monkeypatch: Any) -> None:
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/v1/x",
        "QUERY_STRING": "page%5Blimit%5D=5&q=%C3%A9",
        "SERVER_NAME": "h",
        "SERVER_PORT": "80",
        "HTTP_HOST": "h:1",
        "HTTP_AUTHORIZATION": "Bearer t",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    fast(environ)
    import mockserver.app as app_module

    def werkzeug_is_not_used(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("werkzeug was used for a repeat without a body")

    monkeypatch.setattr(app_module, "to_mock_request", werkzeug_is_not_used)
    got = fast(environ)
    assert got.query == [("page[limit]", "5"), ("q", "é")]
    assert got.headers.get("authorization") == "Bearer t"
    assert got.root_url == "http://h:1"
