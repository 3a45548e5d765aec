"""Reading token and authorization requests: form parameters, client credentials,
grants and scopes, PKCE (RFC 7636), and the small encodings they need."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from mockserver.behaviours.oauth.base import _NO_STORE, _PKCE, _SCOPE_TOKEN, _OAuthError
from mockserver.config import OAuthClient
from mockserver.http import Headers, MockRequest, MockResponse


def _token_params(request: MockRequest) -> dict[str, str]:
    """The token request's parameters from a form or (PyGithub) JSON body."""
    ctype = request.content_type
    pairs: list[tuple[str, str]] = []
    if ctype == "application/json" or ctype.endswith("+json"):
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            raise _OAuthError("invalid_request", "the body is not valid JSON") from None
        if not isinstance(data, dict):
            raise _OAuthError("invalid_request", "the JSON body must be an object")
        for name, value in data.items():
            if isinstance(value, dict | list):
                raise _OAuthError("invalid_request", f"{name} must be a string")
            if value is not None:
                pairs.append((name, value if isinstance(value, str) else json.dumps(value)))
    elif ctype in ("", "application/x-www-form-urlencoded"):
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise _OAuthError("invalid_request", "the body is not UTF-8") from None
        pairs = parse_qsl(text, keep_blank_values=True)
    else:
        raise _OAuthError("invalid_request", f"send application/x-www-form-urlencoded, not {ctype}")
    params, repeated = _single(pairs)
    if repeated:
        raise _OAuthError("invalid_request", f"{sorted(repeated)[0]} appears more than once")
    return params


def _single(pairs: Iterable[tuple[str, str]]) -> tuple[dict[str, str], set[str]]:
    """First values, and names sent more than once (RFC 6749 section 3.1: empty = absent)."""
    params: dict[str, str] = {}
    repeated: set[str] = set()
    for name, value in pairs:
        if value == "":
            continue
        if name in params:
            repeated.add(name)
        else:
            params[name] = value
    return params, repeated


def _client_credentials(request: MockRequest, params: dict[str, str]) -> tuple[str, str | None]:
    """(client_id, secret or None for a public client) from HTTP Basic or the body."""
    body_id, body_secret = params.get("client_id"), params.get("client_secret")
    for value in request.headers.get_all("Authorization"):
        scheme, _, credentials = value.strip().partition(" ")
        if scheme.lower() != "basic":
            continue
        if body_secret is not None:
            raise _OAuthError("invalid_request", "use HTTP Basic or client_secret, not both")
        decoded = _b64decode(credentials.strip())
        user, colon, password = (decoded or "").partition(":")
        # RFC 6749 section 2.3.1: both halves are form-urlencoded before base64.
        user, password = unquote_plus(user), unquote_plus(password)
        if not colon or not user:
            raise _OAuthError("invalid_client", "malformed HTTP Basic credentials", 401)
        if body_id is not None and body_id != user:
            raise _OAuthError("invalid_request", "client_id differs from the HTTP Basic user")
        return user, password or None
    if body_id is None:
        raise _OAuthError("invalid_client", "no client authentication", 401)
    return body_id, body_secret


def _inferred_grant(params: dict[str, str]) -> str | None:
    if "code" in params:
        return "authorization_code"
    return "refresh_token" if "refresh_token" in params else None


def _allowed_scopes(client: OAuthClient | None) -> list[str] | None:
    return list(client.scopes) if client is not None and client.scopes else None


def _granted_scopes(
    requested: str | None,
    allowed: Sequence[str] | None,
    client: OAuthClient | None,
    default: Sequence[str] | None = None,
) -> list[str]:
    if requested is None:
        if default is not None:
            return list(default)
        return list(client.scopes) if client is not None else []
    scopes = list(dict.fromkeys(requested.split()))
    bad = [s for s in scopes if not _SCOPE_TOKEN.fullmatch(s)]
    if allowed is not None:
        bad += [s for s in scopes if s not in allowed]
    if bad:
        raise _OAuthError("invalid_scope", f"scope {bad[0]!r} is not allowed")
    return scopes


def _check_pkce(challenge: str | None, method: str | None, verifier: str | None) -> None:
    if challenge is None:
        if verifier is not None:
            # RFC 9700 section 2.1.1: a verifier without a challenge is a downgrade attempt.
            raise _OAuthError("invalid_grant", "code_verifier sent but no code_challenge was")
        return
    if verifier is None:
        raise _OAuthError("invalid_grant", "code_verifier is missing")
    if not _PKCE.fullmatch(verifier):
        raise _OAuthError("invalid_grant", "code_verifier must be 43-128 unreserved characters")
    if method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        verifier = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    if not _same(verifier, challenge):
        raise _OAuthError("invalid_grant", "code_verifier does not match the code_challenge")


def _page_error(error: str, description: str) -> MockResponse:
    body = {"error": error, "error_description": description}
    return MockResponse.json(400, body, headers=_NO_STORE)


def _redirect(target: str, params: dict[str, str | None]) -> MockResponse:
    parts = urlsplit(target)
    extra = urlencode([(k, v) for k, v in params.items() if v is not None])
    query = f"{parts.query}&{extra}" if parts.query else extra
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return MockResponse(302, Headers({"Location": location, "Cache-Control": "no-store"}))


def _absolute_uri(uri: str) -> bool:
    parts = urlsplit(uri)
    return bool(parts.scheme) and "#" not in uri and (bool(parts.netloc) or bool(parts.path))


def _b64decode(text: str) -> str | None:
    try:
        return base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None


def _cookie(headers: Headers, name: str) -> str | None:
    for header in headers.get_all("Cookie"):
        for part in header.split(";"):
            key, eq, value = part.strip().partition("=")
            if eq and key == name:
                return value.strip().strip('"')
    return None


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _listed(value: str, allowed: Iterable[str]) -> bool:
    return any(_same(value, candidate) for candidate in allowed)


def _digest(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()[:16]


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')
