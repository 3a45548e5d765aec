"""OAuth2 for the mock: token and authorization endpoints, and enforcement of security.

Follows RFC 6749 (grants, client authentication, error codes), RFC 6750 (bearer tokens
and ``WWW-Authenticate``) and RFC 7636 (PKCE). Everything lives in the ``StateStore``
under ``oauth:`` so several workers share tokens. Validity is decided by the injected
clock; store TTLs only collect garbage, so tests can expire tokens with a fake clock.

Store keys::

    oauth:code:<code>        an authorization code, taken once
    oauth:code-seen:<code>   outlives the redemption: a second one is a replay
    oauth:at:<token>         an access token
    oauth:rt:<token>         a refresh token, taken once (rotation)
    oauth:rt-seen:<token>    outlives the rotation: a second use is a replay
    oauth:revoked:<family>   every token of a family (one code or one grant) is dead

``expire_all()`` marks every access token record it finds expired (one write each, on an
admin call) so that minting and checking a token need no shared counter: minting is one
write, no read.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from mockserver.behaviours.oauth.base import (
    _ERROR_TITLES,
    _NO_STORE,
    _PKCE,
    _PREFIX,
    DEFAULT_AUTHORIZE_PATHS,
    DEFAULT_TOKEN_PATHS,
    GRANT_TYPES,
    Clock,
    _endpoint_paths,
    _gc,
    _key,
    _norm,
    _OAuthError,
    _op_key,
    _TokenShape,
)
from mockserver.behaviours.oauth.enforce import _Enforcement
from mockserver.behaviours.oauth.forms import (
    _absolute_uri,
    _allowed_scopes,
    _check_pkce,
    _client_credentials,
    _digest,
    _granted_scopes,
    _inferred_grant,
    _page_error,
    _quote,
    _redirect,
    _same,
    _single,
    _token_params,
)
from mockserver.behaviours.oauth.shapes import _add_extras, _example, _token_shape
from mockserver.config import OAuthClient, OAuthConfig
from mockserver.contract.model import Contract
from mockserver.http import MockRequest, MockResponse
from mockserver.state.base import StateStore


class OAuth(_Enforcement):
    """Token endpoint, authorization endpoint and security enforcement for the pipeline.

    ``handles(method, path)`` tells whether ``token`` or ``authorize`` answers a request;
    ``enforce`` checks an operation's security requirements and says who is calling.
    """

    def __init__(
        self,
        contracts: Sequence[Contract],
        config: OAuthConfig,
        store: StateStore,
        clock: Clock = time.time,
    ) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.token_paths: set[str] = set(DEFAULT_TOKEN_PATHS)
        self.authorize_paths: set[str] = set(DEFAULT_AUTHORIZE_PATHS)
        if config.token_path:
            self.token_paths.add(_norm(config.token_path))
        if config.authorize_path:
            self.authorize_paths.add(_norm(config.authorize_path))
        for contract in contracts:
            for scheme in contract.security_schemes.values():
                for flow in scheme.flows:
                    for url in (flow.token_url, flow.refresh_url):
                        if url:
                            self.token_paths |= _endpoint_paths(url, contract.base_path)
                    if flow.authorization_url:
                        self.authorize_paths |= _endpoint_paths(
                            flow.authorization_url, contract.base_path
                        )
        self._shapes = {path: _token_shape(contracts, path) for path in self.token_paths}
        self._schemes = {s.lower() for s in config.authorization_schemes}
        self._require = {_op_key(k) for k in config.require}

    # -- routing --------------------------------------------------------------------------

    def handles(self, method: str, path: str) -> bool:
        """True for a POST to a token path or a GET of an authorization path."""
        method, path = method.upper(), _norm(path)
        return (method == "POST" and path in self.token_paths) or (
            method == "GET" and path in self.authorize_paths
        )

    # -- token endpoint (RFC 6749 sections 4.1.3, 4.4, 6) ---------------------------------

    def token(self, request: MockRequest) -> MockResponse:
        """Answer a token request: 200 with a token, or an RFC 6749 section 5.2 error."""
        shape = self._shapes.get(_norm(request.path)) or _TokenShape({}, {})
        try:
            body = self._grant(request, shape)
        except _OAuthError as exc:
            return self._token_error(exc, shape)
        return MockResponse.json(200, body, headers=_NO_STORE)

    def _grant(self, request: MockRequest, shape: _TokenShape) -> dict[str, Any]:
        if request.method != "POST":
            raise _OAuthError("invalid_request", "the token endpoint takes POST requests only")
        params = _token_params(request)
        grant = params.get("grant_type")
        if grant is None and shape.infer_grant:
            grant = _inferred_grant(params)
        if grant is None:
            raise _OAuthError("invalid_request", "grant_type is missing")
        client_id, secret = _client_credentials(request, params)
        client = self._authenticate(client_id, secret)
        public = secret is None
        if grant not in GRANT_TYPES:
            raise _OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported")
        if client is not None and client.grants and grant not in client.grants:
            raise _OAuthError(
                "unauthorized_client", f"client {client_id!r} may not use grant_type {grant!r}"
            )
        if grant == "client_credentials":
            if public:
                raise _OAuthError(
                    "invalid_client", "client_credentials needs client authentication", 401
                )
            scopes = _granted_scopes(params.get("scope"), _allowed_scopes(client), client)
            return self._mint(shape, client_id, scopes, secrets.token_urlsafe(16), public, False)
        if grant == "authorization_code":
            return self._redeem_code(shape, client_id, public, params)
        return self._refresh(shape, client_id, public, params)

    def _authenticate(self, client_id: str, secret: str | None) -> OAuthClient | None:
        if not self.config.clients:
            return None  # no registry: any non-empty id (and secret) is accepted
        client = self.config.clients.get(client_id)
        if client is None:
            raise _OAuthError("invalid_client", f"unknown client {client_id!r}", 401)
        if secret is None:
            if client.secret:
                raise _OAuthError("invalid_client", "client authentication is required", 401)
        elif not _same(secret, client.secret):
            raise _OAuthError("invalid_client", "client authentication failed", 401)
        return client

    def _redeem_code(
        self, shape: _TokenShape, client_id: str, public: bool, params: dict[str, str]
    ) -> dict[str, Any]:
        code = params.get("code")
        if code is None:
            raise _OAuthError("invalid_request", "code is missing")
        raw = self.store.get(_key("code", code))
        if raw is None:
            self._replayed("code-seen", code, "authorization code")
        record = json.loads(raw)
        if record["client_id"] != client_id:
            # Checked before taking the code so a stolen code cannot be burnt by others.
            raise _OAuthError("invalid_grant", "the code was issued to another client")
        if public and record["challenge"] is None:
            raise _OAuthError("invalid_client", "a public client must use PKCE", 401)
        if self.store.take(_key("code", code)) is None:
            self._replayed("code-seen", code, "authorization code")
        if self.clock() >= record["exp"]:
            raise _OAuthError("invalid_grant", "the authorization code expired")
        redirect_uri = params.get("redirect_uri")
        if record["redirect_uri"] is not None:
            if redirect_uri is None and not self.config.require_redirect_uri:
                redirect_uri = record["redirect_uri"]
            if redirect_uri is None:
                raise _OAuthError(
                    "invalid_request", "redirect_uri is required: the authorization had one"
                )
            if redirect_uri != record["redirect_uri"]:
                raise _OAuthError("invalid_grant", "redirect_uri does not match the authorization")
        _check_pkce(record["challenge"], record["method"], params.get("code_verifier"))
        return self._mint(shape, client_id, record["scopes"], record["family"], public, True)

    def _refresh(
        self, shape: _TokenShape, client_id: str, public: bool, params: dict[str, str]
    ) -> dict[str, Any]:
        token = params.get("refresh_token")
        if token is None:
            raise _OAuthError("invalid_request", "refresh_token is missing")
        raw = self.store.get(_key("rt", token))
        if raw is None:
            self._replayed("rt-seen", token, "refresh token")
        record = json.loads(raw)
        if record["client_id"] != client_id:
            raise _OAuthError("invalid_grant", "the refresh token was issued to another client")
        if public and not record["public"]:
            raise _OAuthError("invalid_client", "client authentication is required", 401)
        # RFC 6749 section 6: a narrower scope for the access token, the same for the refresh.
        scopes = _granted_scopes(params.get("scope"), record["scopes"], None, record["scopes"])
        if self.store.take(_key("rt", token)) is None:
            self._replayed("rt-seen", token, "refresh token")
        if self._revoked(record["family"]):
            raise _OAuthError("invalid_grant", "the refresh token was revoked")
        if self.clock() >= record["exp"]:
            raise _OAuthError("invalid_grant", "the refresh token expired")
        return self._mint(
            shape, client_id, scopes, record["family"], public, True, record["scopes"]
        )

    def _replayed(self, marker: str, value: str, what: str) -> NoReturn:
        family = self.store.get(_key(marker, value))
        if family is None:
            raise _OAuthError("invalid_grant", f"unknown or expired {what}")
        # RFC 6749 section 4.1.2 and RFC 9700 section 4.14: a replay revokes the family.
        self._revoke(family)
        raise _OAuthError("invalid_grant", f"the {what} was already used; its tokens are revoked")

    def _mint(
        self,
        shape: _TokenShape,
        client_id: str,
        scopes: Sequence[str],
        family: str,
        public: bool,
        refresh: bool,
        refresh_scopes: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        now, ttl = self.clock(), self.config.token_ttl
        access = secrets.token_urlsafe(32)
        record = {
            "client_id": client_id,
            "scopes": list(scopes),
            "exp": now + ttl,
            "family": family,
        }
        self.store.set(_key("at", access), json.dumps(record), ttl=_gc(ttl))
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": shape.token_type,
            "expires_in": ttl,
            "scope": " ".join(scopes),
        }
        if refresh:
            token, rttl = secrets.token_urlsafe(32), self.config.refresh_ttl
            rrecord = {
                "client_id": client_id,
                "scopes": list(scopes if refresh_scopes is None else refresh_scopes),
                "exp": now + rttl,
                "family": family,
                "public": public,
            }
            self.store.set(_key("rt", token), json.dumps(rrecord), ttl=_gc(rttl))
            self.store.set(_key("rt-seen", token), family, ttl=_gc(rttl))
            body["refresh_token"] = token
            if "refresh_token_expires_in" in shape.success:
                body["refresh_token_expires_in"] = rttl
        _add_extras(body, shape.success, client_id)
        return body

    def _token_error(self, exc: _OAuthError, shape: _TokenShape) -> MockResponse:
        body: dict[str, Any] = {"error": exc.error, "error_description": exc.description}
        declared = shape.errors.get(exc.status, {})
        if "code" in declared:
            code = _example(declared["code"])
            body["code"] = code if isinstance(code, int) else exc.status
        if "title" in declared:
            title = _example(declared["title"])
            body["title"] = title if isinstance(title, str) else _ERROR_TITLES[exc.error]
        headers = dict(_NO_STORE)
        if exc.status == 401:
            headers["WWW-Authenticate"] = f'Basic realm="{_quote(self.config.realm)}"'
        return MockResponse.json(exc.status, body, headers=headers)

    # -- authorization endpoint (RFC 6749 section 4.1.1, RFC 7636 section 4.3) ----------

    def authorize(self, request: MockRequest) -> MockResponse:
        """Answer an authorization request as if the user agreed at once.

        302 to ``redirect_uri`` with ``code`` and ``state``; 200 JSON ``{code, state}``
        when there is nowhere to redirect to. A missing or bad ``client_id`` or
        ``redirect_uri`` is a 400 page, never a redirect (RFC 6749 section 4.1.2.1).
        """
        params, repeated = _single(request.query)
        client_id = params.get("client_id")
        if "client_id" in repeated or "redirect_uri" in repeated:
            return _page_error("invalid_request", "client_id and redirect_uri may appear once")
        if client_id is None:
            return _page_error("invalid_request", "client_id is missing")
        client: OAuthClient | None = None
        if self.config.clients:
            client = self.config.clients.get(client_id)
            if client is None:
                return _page_error("invalid_client", f"unknown client {client_id!r}")
        given = params.get("redirect_uri")
        target = given
        registered = client.redirect_uris if client is not None else []
        if given is not None:
            if not _absolute_uri(given):
                return _page_error(
                    "invalid_request", "redirect_uri must be an absolute URI without a fragment"
                )
            if registered and given not in registered:
                return _page_error("invalid_request", "redirect_uri is not registered")
        elif len(registered) == 1:
            target = registered[0]
        elif registered:
            return _page_error("invalid_request", "redirect_uri is required")
        state = params.get("state")
        try:
            scopes, challenge, method = self._authorization(client, params, repeated)
        except _OAuthError as exc:
            if target is None:
                return _page_error(exc.error, exc.description)
            answer = {"error": exc.error, "error_description": exc.description, "state": state}
            return _redirect(target, answer)
        code = self._new_code(client_id, given, scopes, challenge, method)
        if target is None:
            payload = {"code": code} if state is None else {"code": code, "state": state}
            return MockResponse.json(200, payload, headers=_NO_STORE)
        return _redirect(target, {"code": code, "state": state})

    def _authorization(
        self, client: OAuthClient | None, params: dict[str, str], repeated: set[str]
    ) -> tuple[list[str], str | None, str | None]:
        if repeated:
            raise _OAuthError("invalid_request", f"{sorted(repeated)[0]} appears more than once")
        response_type = params.get("response_type", "code")
        if response_type != "code":
            raise _OAuthError(
                "unsupported_response_type", f"response_type {response_type!r} is not supported"
            )
        if client is not None and client.grants and "authorization_code" not in client.grants:
            raise _OAuthError("unauthorized_client", "the client may not use authorization codes")
        scopes = _granted_scopes(params.get("scope"), _allowed_scopes(client), client)
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method")
        if challenge is None:
            if method is not None:
                raise _OAuthError("invalid_request", "code_challenge_method without code_challenge")
            return scopes, None, None
        method = method or "plain"
        if method not in ("plain", "S256"):
            raise _OAuthError("invalid_request", f"code_challenge_method {method!r} is unsupported")
        if not _PKCE.fullmatch(challenge):
            raise _OAuthError("invalid_request", "code_challenge must be 43-128 unreserved chars")
        return scopes, challenge, method

    def _new_code(
        self,
        client_id: str,
        redirect_uri: str | None,
        scopes: list[str],
        challenge: str | None,
        method: str | None,
    ) -> str:
        code, family = secrets.token_urlsafe(32), secrets.token_urlsafe(16)
        record = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "scopes": scopes,
            "challenge": challenge,
            "method": method,
            "family": family,
            "exp": self.clock() + self.config.code_ttl,
        }
        # Both keys live as long as the tokens a redemption mints, so a late replay of the
        # code can still revoke them.
        gc = _gc(max(self.config.code_ttl, self.config.refresh_ttl, self.config.token_ttl))
        self.store.set(_key("code-seen", code), family, ttl=gc)
        self.store.set(_key("code", code), json.dumps(record), ttl=gc)
        return code

    def _lookup(self, token: str) -> tuple[dict[str, Any] | None, str | None]:
        """The record of an access token we issued (or None), and why it is not valid."""
        raw = self.store.get(_key("at", token))
        if raw is None:
            return None, None
        record: dict[str, Any] = json.loads(raw)
        return record, self._problem(record)

    def _problem(self, record: dict[str, Any]) -> str | None:
        if self._revoked(record["family"]):
            return "The access token was revoked"
        if record.get("expired") or self.clock() >= record["exp"]:
            return "The access token expired"
        return None

    def _revoked(self, family: str) -> bool:
        return self.store.get(_key("revoked", family)) is not None

    def _revoke(self, family: str) -> None:
        ttl = _gc(max(self.config.refresh_ttl, self.config.token_ttl, self.config.code_ttl))
        self.store.set(_key("revoked", family), "1", ttl=ttl)

    def adopt(self, token: str, scopes: Sequence[str], client_id: str = "cassette") -> None:
        """Accept ``token``, which the mock did not mint, like one it did: a replayed
        cassette handed it out (a scrubbed placeholder) and the recorded calls carry it.
        It expires after ``token_ttl`` and with ``expire_all`` like the others."""
        now, ttl = self.clock(), self.config.token_ttl
        record = {
            "client_id": client_id,
            "scopes": list(scopes),
            "exp": now + ttl,
            "family": f"cassette:{_digest(token)}",
        }
        self.store.set(_key("at", token), json.dumps(record), ttl=_gc(ttl))

    # -- admin ----------------------------------------------------------------------------

    def expire_all(self) -> int:
        """Expire every access token issued so far; the number that were still valid.

        Refresh tokens stay valid, so clients can show they recover from an expiry.
        """
        count = 0
        now = self.clock()
        for key in self.store.keys(_key("at", "")):
            raw = self.store.get(key)
            if raw is None:
                continue
            record = json.loads(raw)
            if self._problem(record) is None:
                count += 1
                record["expired"] = True
                self.store.set(key, json.dumps(record), ttl=_gc(record["exp"] - now))
        return count

    def reset(self) -> None:
        """Forget every code and token."""
        self.store.clear(_PREFIX)


# -- helpers ------------------------------------------------------------------------------
