"""OAuth's shared pieces: who is calling, errors, store keys and paths."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mockserver.contract.model import SecurityScheme

Clock = Callable[[], float]

DEFAULT_TOKEN_PATHS = ("/v1/security/oauth2/token", "/login/oauth/access_token")
DEFAULT_AUTHORIZE_PATHS = ("/v1/security/oauth2/authorize", "/login/oauth/authorize")
GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")

_PREFIX = "oauth:"
_GC_SLACK = 86400.0
_PKCE = re.compile(r"[A-Za-z0-9._~-]{43,128}")  # RFC 7636 section 4.1
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 section 3.3
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_ERROR_TITLES = {
    "invalid_request": "Invalid request",
    "invalid_client": "Invalid client",
    "invalid_grant": "Invalid grant",
    "unauthorized_client": "Unauthorized client",
    "unsupported_grant_type": "Unsupported grant type",
    "invalid_scope": "Invalid scope",
}
_STATUS_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
# How bad a failed security check is; the worst one is what the client hears.
_MISSING, _INVALID, _SCOPE, _MALFORMED = range(4)


@dataclass(slots=True, frozen=True)
class Identity:
    """Who is calling, for rate limits and the journal.

    ``kind`` is ``oauth2`` (a token we issued), ``bearer`` (a token we did not issue;
    ``client_id`` is a digest of it), ``apiKey`` (``client_id`` is the key), ``basic``
    (the user name) or ``anonymous`` (``client_id`` is empty: use the remote address).
    """

    client_id: str
    scopes: tuple[str, ...]
    kind: str
    token: str | None = None


ANONYMOUS = Identity(client_id="", scopes=(), kind="anonymous")
# Stands in for the security a contract omits when ``config.require`` asks for a token.
_REQUIRED_SCHEME = SecurityScheme(name="mockserver-required-oauth2", type="oauth2")


class _OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(slots=True)
class _Fail:
    rank: int
    status: int
    detail: str
    challenge: str
    error: str | None = None


@dataclass(slots=True)
class _TokenShape:
    """What the contract's token operation declares beyond RFC 6749."""

    success: dict[str, Any]
    errors: dict[int, dict[str, Any]]
    token_type: str = "Bearer"
    # The token request schema does not require grant_type (GitHub): infer it.
    infer_grant: bool = False


def _key(kind: str, value: str) -> str:
    return f"{_PREFIX}{kind}:{value}" if value else f"{_PREFIX}{kind}"


def _gc(ttl: float) -> float:
    return 2 * max(ttl, 0) + _GC_SLACK


def _norm(path: str) -> str:
    return path.rstrip("/") or "/"


def _op_key(key: str) -> str:
    method, _, path = key.strip().partition(" ")
    return f"{method.upper()} {path.strip()}" if path else method


def _endpoint_paths(url: str, base_path: str) -> set[str]:
    """The request paths a flow URL stands for on the mock."""
    if "://" in url or url.startswith("//"):
        return {_norm(urlsplit(url).path)}
    path = urlsplit(url).path
    if not path.startswith("/"):
        return {_norm(f"{base_path}/{path}")}
    # RFC 3986 drops the base path for "/x"; authors who meant it relative get both.
    paths = {_norm(path)}
    if base_path and not path.startswith(base_path + "/"):
        paths.add(_norm(base_path + path))
    return paths
