"""A tiny real upstream on 127.0.0.1 that hands out and echoes canary secrets.

Every place a credential can hide is exercised: request headers, cookies, query strings,
form and JSON bodies, token answers (JSON and form-encoded), ``Set-Cookie``, a redirect
``Location`` and a ``Link`` header. The echo endpoints repeat what they received, so a
secret learnt in one place must also disappear where it is echoed.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, urlencode

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CANARIES = {
    name: f"canary-{name.replace('_', '-')}-{n:04d}x9"
    for n, name in enumerate(
        [
            "bearer",
            "proxy_auth",
            "basic_secret",
            "cookie",
            "set_cookie",
            "q_api_key",
            "q_apikey",
            "q_access_token",
            "q_client_secret",
            "q_code",
            "q_refresh_token",
            "form_client_secret",
            "form_code",
            "form_refresh_token",
            "json_api_key",
            "json_access_token",
            "json_client_secret",
            "resp_access_token",
            "resp_refresh_token",
            "resp_form_token",
            "resp_location_code",
            "resp_link_token",
            "resp_json_code",
        ],
        start=1,
    )
}


def forms(secret: str) -> list[bytes]:
    """Every way a canary could show up in a file."""
    raw = secret.encode()
    out = {raw, quote(secret).encode(), quote_plus(secret).encode(), base64.b64encode(raw)}
    return sorted(out)


def _app(request: Request) -> Response:
    c = CANARIES
    path = request.path
    if path == "/v1/security/oauth2/token" and request.method == "POST":
        body = {
            "type": "amadeusOAuth2Token",
            "access_token": c["resp_access_token"],
            "refresh_token": c["resp_refresh_token"],
            "token_type": "Bearer",
            "expires_in": 1799,
            "state": "approved",
            "scope": "read",
        }
        resp = Response(json.dumps(body), content_type="application/json")
        resp.headers.add("Set-Cookie", f"session={c['set_cookie']}; Path=/; HttpOnly")
        resp.headers.add("Set-Cookie", "theme=dark; Path=/")
        return resp
    if path == "/login/oauth/access_token" and request.method == "POST":
        token = {"access_token": c["resp_form_token"], "scope": "repo", "token_type": "bearer"}
        form = urlencode(token)
        return Response(form, content_type="application/x-www-form-urlencoded")
    if path == "/login/oauth/authorize":
        state = request.args.get("state", "")
        location = f"http://localhost:9/cb?code={c['resp_location_code']}&state={state}"
        return Response("", status=302, headers={"Location": location})
    if path == "/oauth/device":
        body = {"code": c["resp_json_code"], "state": "s1", "error": {"code": "NOT_A_SECRET"}}
        return Response(json.dumps(body), content_type="application/json")
    echo = {
        "method": request.method,
        "path": path,
        "query": request.args.to_dict(flat=False),
        "authorization": request.headers.get("Authorization"),
        "proxy_authorization": request.headers.get("Proxy-Authorization"),
        "cookie": request.headers.get("Cookie"),
        "body": request.get_data(as_text=True),
        "self": f"{request.host_url}api/notes/1",
    }
    resp = Response(json.dumps(echo), status=201 if request.method == "POST" else 200)
    resp.content_type = "application/json"
    resp.headers["Link"] = (
        f'<{request.host_url}api/notes?offset=20&access_token={c["resp_link_token"]}>; rel="next"'
    )
    return resp


@contextmanager
def upstream() -> Iterator[str]:
    """Serve the canary API on 127.0.0.1:<free port>; yields its URL."""
    server = make_server("127.0.0.1", 0, Request.application(_app), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
