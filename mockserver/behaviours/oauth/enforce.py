"""Enforcing an operation's security requirements (RFC 6750 bearer tokens, Basic, API
keys): who is calling, or the rejection the client hears, with its ``WWW-Authenticate``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from mockserver.behaviours.oauth.base import (
    _INVALID,
    _MALFORMED,
    _MISSING,
    _REQUIRED_SCHEME,
    _SCOPE,
    _STATUS_TITLES,
    ANONYMOUS,
    Identity,
    _Fail,
    _norm,
)
from mockserver.behaviours.oauth.forms import (
    _b64decode,
    _cookie,
    _digest,
    _listed,
    _quote,
    _same,
)
from mockserver.config import OAuthConfig
from mockserver.contract.model import Operation, SecurityRequirement, SecurityScheme
from mockserver.http import Headers, MockRequest, Rejection


class _Enforcement:
    """``OAuth.enforce`` and its checks; ``OAuth`` holds the state they read."""

    if TYPE_CHECKING:
        config: OAuthConfig
        token_paths: set[str]
        authorize_paths: set[str]
        _schemes: set[str]
        _require: set[str]

        def _lookup(self, token: str) -> tuple[dict[str, Any] | None, str | None]: ...

    # -- enforcement (RFC 6750, RFC 7617) -------------------------------------------------

    def enforce(self, op: Operation, request: MockRequest) -> Identity | Rejection:
        """Check ``op``'s security requirements: who is calling, or why not.

        Any one requirement (alternative) satisfied is enough; every scheme of one
        requirement must pass. Credentials that were sent but are bad are refused even
        when the operation also allows anonymous calls, like real APIs do.
        """
        requirements = op.security
        schemes = op.contract.security_schemes
        if not requirements and self._required(op):
            requirements = [{_REQUIRED_SCHEME.name: []}]
            schemes = {**schemes, _REQUIRED_SCHEME.name: _REQUIRED_SCHEME}
        if not requirements:
            return self._identify(request)
        outcome = self._evaluate(requirements, schemes, request)
        if isinstance(outcome, Rejection) and not self.config.enforce:
            return self._identify(request)
        return outcome

    def _required(self, op: Operation) -> bool:
        path = _norm(op.full_path)
        if path in self.token_paths or path in self.authorize_paths:
            return False
        return "*" in self._require or op.key in self._require

    def _evaluate(
        self,
        requirements: Iterable[SecurityRequirement],
        schemes: dict[str, SecurityScheme],
        request: MockRequest,
    ) -> Identity | Rejection:
        fails: list[_Fail] = []
        anonymous = False
        for requirement in requirements:
            if not requirement:
                anonymous = True
                continue
            result = self._check_requirement(requirement, schemes, request)
            if isinstance(result, Identity):
                return result
            fails.append(result)
        worst = max(fails, key=lambda f: f.rank, default=None)
        if worst is None or (anonymous and worst.rank in (_MISSING, _SCOPE)):
            return self._identify(request)
        challenges = [worst.challenge]
        if worst.rank == _MISSING:
            challenges = list(dict.fromkeys(f.challenge for f in fails))
        return Rejection(
            status=worst.status,
            title=_STATUS_TITLES[worst.status],
            detail=worst.detail,
            headers=Headers([("WWW-Authenticate", c) for c in challenges]),
            error=worst.error,
        )

    def _check_requirement(
        self,
        requirement: SecurityRequirement,
        schemes: dict[str, SecurityScheme],
        request: MockRequest,
    ) -> Identity | _Fail:
        identity: Identity | None = None
        for name, scopes in requirement.items():
            scheme = schemes.get(name)
            if scheme is None:
                continue  # undeclared: nothing to check, and a typo must not lock all out
            result = self._check_scheme(scheme, scopes, request)
            if isinstance(result, _Fail):
                return result
            if identity is None or identity.kind == "anonymous":
                identity = result
        return identity or ANONYMOUS

    def _check_scheme(
        self, scheme: SecurityScheme, scopes: list[str], request: MockRequest
    ) -> Identity | _Fail:
        if scheme.type in ("oauth2", "openIdConnect") or (
            scheme.type == "http" and scheme.scheme == "bearer"
        ):
            return self._check_bearer(scheme.type != "http", scopes, request)
        if scheme.type == "http" and scheme.scheme == "basic":
            return self._check_basic(request)
        if scheme.type == "apiKey":
            return self._check_api_key(scheme, request)
        return ANONYMOUS  # mutualTLS, digest...: nothing a mock can check

    def _check_bearer(
        self, oauth: bool, scopes: list[str], request: MockRequest
    ) -> Identity | _Fail:
        token = self._bearer_token(request)
        if isinstance(token, _Fail):
            return token
        if token is None:
            return _Fail(_MISSING, 401, "An access token is required", self._bearer_challenge())
        record, problem = self._lookup(token)
        foreign_ok = not self.config.static_tokens_only or _listed(token, self.config.api_keys)
        if record is None and not oauth and foreign_ok:
            return Identity(_digest(token), (), "bearer", token)
        if record is None or problem is not None:
            detail = problem or "The access token is unknown"
            challenge = self._bearer_challenge(error="invalid_token", error_description=detail)
            return _Fail(_INVALID, 401, detail, challenge, "invalid_token")
        missing = [s for s in scopes if s not in record["scopes"]]
        if missing:
            detail = f"The access token lacks the scope {' '.join(missing)}"
            challenge = self._bearer_challenge(
                error="insufficient_scope", error_description=detail, scope=" ".join(scopes)
            )
            return _Fail(_SCOPE, 403, detail, challenge, "insufficient_scope")
        return Identity(record["client_id"], tuple(record["scopes"]), "oauth2", token)

    def _bearer_token(self, request: MockRequest) -> str | _Fail | None:
        found: list[str] = []
        for value in request.headers.get_all("Authorization"):
            scheme, _, credentials = value.strip().partition(" ")
            if scheme.lower() not in self._schemes:
                continue
            credentials = credentials.strip()
            if not credentials or " " in credentials:
                detail = "The Authorization header is malformed"
                challenge = self._bearer_challenge(
                    error="invalid_request", error_description=detail
                )
                return _Fail(_MALFORMED, 400, detail, challenge, "invalid_request")
            found.append(credentials)
        found.extend(v for v in request.query_values("access_token") if v)
        if request.method not in ("GET", "HEAD") and (
            request.content_type == "application/x-www-form-urlencoded"
        ):
            form = parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            found.extend(v for k, v in form if k == "access_token" and v)
        if len(found) > 1:
            detail = "The access token must be sent one way only (RFC 6750 section 2)"
            challenge = self._bearer_challenge(error="invalid_request", error_description=detail)
            return _Fail(_MALFORMED, 400, detail, challenge, "invalid_request")
        return found[0] if found else None

    def _check_basic(self, request: MockRequest) -> Identity | _Fail:
        challenge = f'Basic realm="{_quote(self.config.realm)}"'
        for value in request.headers.get_all("Authorization"):
            scheme, _, credentials = value.strip().partition(" ")
            if scheme.lower() != "basic":
                continue
            decoded = _b64decode(credentials.strip())
            user, colon, password = (decoded or "").partition(":")
            if not colon or not user:
                return _Fail(_INVALID, 401, "The Basic credentials are malformed", challenge)
            client = self.config.clients.get(user)
            if self.config.clients and (client is None or not _same(password, client.secret)):
                return _Fail(_INVALID, 401, "Wrong user name or password", challenge)
            return Identity(user, tuple(client.scopes) if client else (), "basic")
        return _Fail(_MISSING, 401, "Credentials are required", challenge)

    def _check_api_key(self, scheme: SecurityScheme, request: MockRequest) -> Identity | _Fail:
        name = scheme.param_name or ""
        if scheme.location == "query":
            value = next(iter(request.query_values(name)), None)
        elif scheme.location == "cookie":
            value = _cookie(request.headers, name)
        else:
            value = request.headers.get(name)
        challenge = f'ApiKey realm="{_quote(self.config.realm)}"'
        if not value:
            return _Fail(_MISSING, 401, f"The API key {name!r} is required", challenge)
        if self.config.api_keys and not _listed(value, self.config.api_keys):
            return _Fail(_INVALID, 401, f"The API key {name!r} is not valid", challenge)
        return Identity(value, (), "apiKey")

    def _identify(self, request: MockRequest) -> Identity:
        token = self._bearer_token(request)
        if not isinstance(token, str):
            return ANONYMOUS
        record, _ = self._lookup(token)
        if record is None:
            return Identity(_digest(token), (), "bearer", token)
        return Identity(record["client_id"], tuple(record["scopes"]), "oauth2", token)

    def _bearer_challenge(self, **params: str) -> str:
        parts = [f'realm="{_quote(self.config.realm)}"']
        parts += [f'{k}="{_quote(v)}"' for k, v in params.items()]
        return "Bearer " + ", ".join(parts)

    # -- token state ----------------------------------------------------------------------
