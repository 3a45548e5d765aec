"""Scrubbing: every place a credential hides, stable placeholders, harmless values kept."""

from __future__ import annotations

import base64
import json

from mockserver.cassettes.format import Interaction
from mockserver.cassettes.scrub import Scrubber, ScrubConfig
from mockserver.http import Headers

SECRET = "s3cr3t-value-0123456789"


def _interaction(
    uri: str = "https://api.example.com/x",
    request_headers: list[tuple[str, str]] | None = None,
    request_body: bytes | None = None,
    response_headers: list[tuple[str, str]] | None = None,
    response_body: bytes = b"",
) -> Interaction:
    return Interaction(
        "POST",
        uri,
        Headers(request_headers or []),
        request_body,
        200,
        "OK",
        Headers(response_headers or []),
        response_body,
    )


def _everything(i: Interaction) -> str:
    return " ".join(
        [
            i.uri,
            repr(i.request_headers.items()),
            repr(i.response_headers.items()),
            (i.request_body or b"").decode("latin-1"),
            i.response_body.decode("latin-1"),
        ]
    )


def test_bearer_in_header_and_token_in_answer_share_one_placeholder() -> None:
    scrubber = Scrubber()
    token_answer = scrubber.scrub(
        _interaction(
            response_headers=[("Content-Type", "application/json")],
            response_body=json.dumps({"access_token": SECRET, "expires_in": 3600}).encode(),
        )
    )
    call = scrubber.scrub(_interaction(request_headers=[("Authorization", f"Bearer {SECRET}")]))
    placeholder = json.loads(token_answer.response_body)["access_token"]
    assert placeholder == "scrubbed-access_token-1"
    assert call.request_headers.get("Authorization") == f"Bearer {placeholder}"
    assert json.loads(token_answer.response_body)["expires_in"] == 3600


def test_query_form_and_json_fields_are_scrubbed_at_any_depth() -> None:
    scrubber = Scrubber()
    scrubbed = scrubber.scrub(
        _interaction(
            uri=f"https://x/a?api_key={SECRET}1&apikey={SECRET}2&page=3&code={SECRET}3",
            request_headers=[("Content-Type", "application/json")],
            request_body=json.dumps(
                {"user": {"password": f"{SECRET}4", "name": "ann"}, "items": [{"apikey": "k"}]}
            ).encode(),
        )
    )
    text = _everything(scrubbed)
    assert SECRET not in text
    assert "page=3" in text and '"name":"ann"' in text
    assert "scrubbed-apikey-2" in text  # one counter per field name: api_key-1, apikey-1, -2
    form = Scrubber().scrub(
        _interaction(
            request_headers=[("Content-Type", "application/x-www-form-urlencoded")],
            request_body=f"grant_type=refresh_token&refresh_token={SECRET}".encode(),
        )
    )
    assert form.request_body == b"grant_type=refresh_token&refresh_token=scrubbed-refresh_token-1"


def test_basic_credentials_keep_the_user_and_hide_the_password() -> None:
    basic = base64.b64encode(f"my-client:{SECRET}".encode()).decode()
    scrubbed = Scrubber().scrub(_interaction(request_headers=[("Authorization", f"Basic {basic}")]))
    value = scrubbed.request_headers.get("Authorization") or ""
    assert base64.b64decode(value.split()[1]).decode() == "my-client:scrubbed-client_secret-1"


def test_cookies_set_cookie_location_and_link_are_scrubbed() -> None:
    scrubbed = Scrubber().scrub(
        _interaction(
            request_headers=[("Cookie", f"sid={SECRET}a; theme=dark")],
            response_headers=[
                ("Set-Cookie", f"sid={SECRET}b; Path=/; HttpOnly"),
                ("Location", f"https://app/cb?code={SECRET}c&state=xyz"),
                ("Link", f'<https://x/a?page=2&access_token={SECRET}d>; rel="next"'),
            ],
        )
    )
    assert SECRET not in _everything(scrubbed)
    assert scrubbed.response_headers.get("Set-Cookie") == "sid=scrubbed-cookie-3; Path=/; HttpOnly"
    assert "state=xyz" in (scrubbed.response_headers.get("Location") or "")
    assert 'rel="next"' in (scrubbed.response_headers.get("Link") or "")


def test_an_error_code_in_an_answer_is_not_a_secret_but_an_oauth_code_is() -> None:
    scrubbed = Scrubber().scrub(
        _interaction(
            response_headers=[("Content-Type", "application/json")],
            response_body=json.dumps(
                {"error": {"code": "NOT_FOUND"}, "grant": {"code": SECRET, "state": "s"}}
            ).encode(),
        )
    )
    body = json.loads(scrubbed.response_body)
    assert body["error"]["code"] == "NOT_FOUND"
    assert body["grant"]["code"] == "scrubbed-code-1"


def test_a_learnt_secret_is_replaced_wherever_it_is_echoed() -> None:
    scrubber = Scrubber()
    scrubbed = scrubber.scrub(
        _interaction(
            uri=f"https://x/a?access_token={SECRET}",
            response_headers=[("Content-Type", "text/html")],
            response_body=f"<p>your token is {SECRET} (url-encoded: {SECRET})</p>".encode(),
        )
    )
    assert SECRET not in _everything(scrubbed)
    later = scrubber.scrub(_interaction(response_body=f"echo {SECRET}".encode()))
    assert later.response_body == b"echo scrubbed-access_token-1"


def test_short_values_are_replaced_only_where_they_are_credentials() -> None:
    scrubbed = Scrubber().scrub(
        _interaction(uri="https://x/a?code=42", response_body=b'{"total": 42}')
    )
    assert scrubbed.uri == "https://x/a?code=scrubbed-code-1"
    assert scrubbed.response_body == b'{"total": 42}'


def test_extra_filters_and_dropped_headers() -> None:
    scrubber = Scrubber(
        ScrubConfig(
            headers=["X-Session"],
            params=["session_id"],
            values=["literal-secret-xyz"],
            drop_headers=["Date"],
        )
    )
    scrubbed = scrubber.scrub(
        _interaction(
            uri="https://x/a?session_id=abcdef123456",
            request_headers=[("X-Session", "sess-1234567"), ("Accept", "*/*")],
            response_headers=[("Date", "Mon"), ("Content-Type", "text/plain")],
            response_body=b"contains literal-secret-xyz here",
        )
    )
    assert "abcdef123456" not in scrubbed.uri
    assert scrubbed.request_headers.get("X-Session") == "scrubbed-x_session-1"
    assert scrubbed.request_headers.get("Accept") == "*/*"
    assert scrubbed.response_headers.get("Date") is None
    assert scrubbed.response_body == b"contains scrubbed-value-1 here"


def test_without_defaults_only_the_configured_names_are_scrubbed() -> None:
    scrubbed = Scrubber(ScrubConfig(defaults=False, params=["token"])).scrub(
        _interaction(uri="https://x/a?api_key=visible&token=hidden-token-1")
    )
    assert scrubbed.uri == "https://x/a?api_key=visible&token=scrubbed-token-1"


def test_the_input_is_left_untouched() -> None:
    original = _interaction(request_headers=[("Authorization", f"Bearer {SECRET}")])
    Scrubber().scrub(original)
    assert original.request_headers.get("Authorization") == f"Bearer {SECRET}"


def test_content_length_follows_the_scrubbed_body() -> None:
    body = json.dumps({"access_token": SECRET}).encode()
    scrubbed = Scrubber().scrub(
        _interaction(
            response_headers=[("Content-Type", "application/json"), ("Content-Length", "999")],
            response_body=body,
        )
    )
    assert scrubbed.response_headers.get("Content-Length") == str(len(scrubbed.response_body))
