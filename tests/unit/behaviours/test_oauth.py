"""OAuth2 behaviour: RFC 6749 grants and errors, RFC 7636 PKCE, RFC 6750 enforcement."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import pytest

from mockserver.behaviours.oauth import OAuth, _endpoint_paths
from mockserver.config import OAuthClient, OAuthConfig
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract, Operation
from mockserver.http import MockRequest, MockResponse, Rejection
from mockserver.state.memory import MemoryStore

API = """
openapi: 3.0.3
info: {title: api, version: "1"}
servers: [{url: https://api.example.com}]
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: /oauth/token
          scopes: {read: r, write: w}
        authorizationCode:
          authorizationUrl: https://auth.example.com/oauth/authorize
          tokenUrl: /oauth/token
          scopes: {read: r, write: w}
    pat: {type: http, scheme: bearer}
    basic: {type: http, scheme: basic}
    headerKey: {type: apiKey, in: header, name: X-API-Key}
    queryKey: {type: apiKey, in: query, name: api_key}
    cookieKey: {type: apiKey, in: cookie, name: session}
  schemas:
    Token:
      type: object
      properties:
        type: {type: string, enum: [amadeusOAuth2Token]}
        username: {type: string, example: dev@example.com}
        application_name: {type: string}
        client_id: {type: string}
        token_type: {type: string}
        access_token: {type: string}
        expires_in: {type: integer}
        state: {type: string}
        scope: {type: string}
        refresh_token: {type: string}
    OAuthError:
      type: object
      properties:
        error: {type: string}
        error_description: {type: string}
        code: {type: integer, example: 38187}
        title: {type: string, example: Invalid parameters}
  responses:
    OAuthError:
      description: error
      content:
        application/json:
          schema: {$ref: "#/components/schemas/OAuthError"}
paths:
  /oauth/token:
    post:
      security: []
      responses:
        "200":
          description: token
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Token"}
        "400": {$ref: "#/components/responses/OAuthError"}
        "401": {$ref: "#/components/responses/OAuthError"}
  /things:
    get:
      security: [{oauth: [read]}]
      responses: {"200": {description: ok}}
    post:
      security: [{oauth: [write]}]
      responses: {"201": {description: ok}}
  /public:
    get:
      security: [{}, {oauth: []}]
      responses: {"200": {description: ok}}
  /open:
    get: {responses: {"200": {description: ok}}}
  /pat:
    get:
      security: [{pat: []}]
      responses: {"200": {description: ok}}
  /keyed:
    get:
      security: [{headerKey: []}, {queryKey: []}]
      responses: {"200": {description: ok}}
  /cookie:
    get:
      security: [{cookieKey: []}]
      responses: {"200": {description: ok}}
  /basic:
    get:
      security: [{basic: []}]
      responses: {"200": {description: ok}}
  /both:
    get:
      security: [{headerKey: [], basic: []}]
      responses: {"200": {description: ok}}
"""

GITHUB = """
openapi: 3.1.0
info: {title: gh, version: "1"}
components:
  securitySchemes:
    gh:
      type: oauth2
      flows:
        authorizationCode:
          authorizationUrl: /login/oauth/authorize
          tokenUrl: /login/oauth/access_token
          scopes: {repo: r}
  schemas:
    AccessToken:
      type: object
      properties:
        access_token: {type: string}
        token_type: {type: string, enum: [bearer]}
        scope: {type: string}
        refresh_token: {type: string}
        refresh_token_expires_in: {type: integer}
    Error:
      type: object
      properties:
        error: {type: string}
paths:
  /login/oauth/access_token:
    post:
      security: []
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [client_id]
              anyOf: [{required: [code]}, {required: [refresh_token]}]
      responses:
        "200":
          description: token
          content:
            application/json:
              schema:
                oneOf:
                  - {$ref: "#/components/schemas/AccessToken"}
                  - {$ref: "#/components/schemas/Error"}
"""

TOKEN = "/oauth/token"
AUTHORIZE = "/oauth/authorize"
CALLBACK = "https://app.example/cb?x=1"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636 appendix B
S256_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
CLIENT = OAuthClient(secret="s3cret", scopes=["read", "write"], redirect_uris=[CALLBACK])


class FakeClock:
    """Epoch seconds that only move when a test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    path = Path(tmp_path_factory.mktemp("oauth")) / "api.yaml"
    path.write_text(API)
    return load_contract(path)


@pytest.fixture(scope="module")
def github(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    path = Path(tmp_path_factory.mktemp("gh")) / "github.yaml"
    path.write_text(GITHUB)
    return load_contract(path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


Make = Callable[..., OAuth]


@pytest.fixture
def make(contract: Contract, clock: FakeClock) -> Make:
    def build(registered: bool = True, **config: Any) -> OAuth:
        config.setdefault("realm", "test-realm")
        if registered:
            config.setdefault("clients", {"app": CLIENT})
        return OAuth([contract], OAuthConfig(**config), MemoryStore(), clock)

    return build


@pytest.fixture
def oauth(make: Make) -> OAuth:
    return make()


# -- helpers ------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    raw = f"{quote_plus(user)}:{quote_plus(password)}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def post_token(
    oauth: OAuth,
    params: dict[str, str] | list[tuple[str, str]],
    *,
    headers: dict[str, str] | None = None,
    path: str = TOKEN,
) -> MockResponse:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
    return oauth.token(MockRequest.from_url("POST", path, headers=headers, body=urlencode(params)))


def client_credentials(oauth: OAuth, **extra: str) -> MockResponse:
    params = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cret"}
    return post_token(oauth, {**params, **extra})


def access_token(oauth: OAuth, scope: str = "read write") -> str:
    response = client_credentials(oauth, scope=scope)
    assert response.status == 200, response.body
    token: str = response.json_body()["access_token"]
    return token


def authorize(oauth: OAuth, **params: str) -> MockResponse:
    return oauth.authorize(MockRequest.from_url("GET", f"{AUTHORIZE}?{urlencode(params)}"))


def redirect_params(response: MockResponse) -> dict[str, str]:
    assert response.status == 302, response.body
    location = response.headers.get("Location") or ""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def get_code(oauth: OAuth, **params: str) -> str:
    params = {"client_id": "app", "redirect_uri": CALLBACK, "state": "xyz", **params}
    return redirect_params(authorize(oauth, **params))["code"]


def exchange(oauth: OAuth, code: str, **extra: str) -> MockResponse:
    params = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CALLBACK,
        "client_id": "app",
        "client_secret": "s3cret",
    }
    params.update(extra)
    return post_token(oauth, {k: v for k, v in params.items() if v != "-"})


def refresh(oauth: OAuth, token: str, **extra: str) -> MockResponse:
    params = {"grant_type": "refresh_token", "refresh_token": token, "client_id": "app"}
    return post_token(oauth, {**params, "client_secret": "s3cret", **extra})


def operation(contract: Contract, key: str) -> Operation:
    return next(op for op in contract.operations if op.key == key)


def call(
    oauth: OAuth,
    contract: Contract,
    key: str,
    *,
    query: str = "",
    headers: dict[str, str] | None = None,
    body: str = "",
) -> Any:
    method, path = key.split(" ", 1)
    url = f"{path}?{query}" if query else path
    request = MockRequest.from_url(method, url, headers=headers, body=body)
    return oauth.enforce(operation(contract, key), request)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def error_of(response: MockResponse) -> str:
    error: str = response.json_body()["error"]
    return error


# -- endpoint discovery -------------------------------------------------------------------


def test_endpoints_come_from_flows_config_and_defaults(
    contract: Contract, clock: FakeClock
) -> None:
    config = OAuthConfig(token_path="/custom/token/", authorize_path="/custom/authorize")
    oauth = OAuth([contract], config, MemoryStore(), clock)
    assert oauth.token_paths == {
        TOKEN,
        "/custom/token",
        "/v1/security/oauth2/token",
        "/login/oauth/access_token",
    }
    assert oauth.authorize_paths == {
        AUTHORIZE,
        "/custom/authorize",
        "/v1/security/oauth2/authorize",
        "/login/oauth/authorize",
    }
    assert oauth.handles("post", TOKEN)
    assert oauth.handles("POST", "/custom/token")
    assert oauth.handles("GET", AUTHORIZE)
    assert not oauth.handles("GET", TOKEN)
    assert not oauth.handles("POST", AUTHORIZE)
    assert not oauth.handles("POST", "/things")


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://auth.example.com/v1/token", "/api", {"/v1/token"}),
        ("/v1/security/oauth2/token", "", {"/v1/security/oauth2/token"}),
        ("/oauth/token", "/api", {"/oauth/token", "/api/oauth/token"}),
        ("/api/oauth/token", "/api", {"/api/oauth/token"}),
        ("oauth/token", "/api", {"/api/oauth/token"}),
    ],
)
def test_flow_urls_resolve_to_request_paths(url: str, base: str, expected: set[str]) -> None:
    assert _endpoint_paths(url, base) == expected


# -- token endpoint: successes ------------------------------------------------------------


def test_client_credentials_answer_shape_and_headers(oauth: OAuth) -> None:
    response = client_credentials(oauth, scope="read")
    assert response.status == 200
    assert response.headers.get("Content-Type") == "application/json"
    assert response.headers.get("Cache-Control") == "no-store"
    assert response.headers.get("Pragma") == "no-cache"
    body = response.json_body()
    assert body == {
        "access_token": body["access_token"],
        "token_type": "Bearer",
        "expires_in": 1799,
        "scope": "read",
        # Amadeus fields, because the contract's token schema declares them
        "type": "amadeusOAuth2Token",
        "username": "dev@example.com",
        "application_name": "mockserver",
        "client_id": "app",
        "state": "approved",
    }
    assert len(body["access_token"]) >= 32


def test_token_without_contract_operation_has_only_rfc_fields(oauth: OAuth) -> None:
    params = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cret"}
    response = post_token(oauth, params, path="/v1/security/oauth2/token")
    assert response.status == 200
    body = response.json_body()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["scope"] == "read write"  # the client's registered scopes by default


def test_expires_in_follows_config(make: Make) -> None:
    assert client_credentials(make(token_ttl=60)).json_body()["expires_in"] == 60


def test_token_type_and_fields_follow_a_github_style_contract(
    github: Contract, clock: FakeClock
) -> None:
    oauth = OAuth([github], OAuthConfig(), MemoryStore(), clock)
    request = MockRequest.from_url("GET", "/login/oauth/authorize?client_id=gh-app")
    code = oauth.authorize(request).json_body()["code"]

    def post(**body: str) -> MockResponse:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        payload = json.dumps({"client_id": "gh-app", "client_secret": "x", **body})
        url = "/login/oauth/access_token"
        return oauth.token(MockRequest.from_url("POST", url, headers=headers, body=payload))

    # PyGithub's ApplicationOAuth.get_access_token posts JSON without a grant_type; the
    # contract does not require one, so it is inferred from the code.
    answer = post(code=code)
    assert answer.status == 200, answer.body
    token = answer.json_body()
    assert token["token_type"] == "bearer"
    assert token["refresh_token_expires_in"] == 86400
    assert "type" not in token and "client_id" not in token
    assert post(refresh_token=token["refresh_token"]).status == 200
    assert error_of(post()) == "invalid_request"


@pytest.mark.parametrize("how", ["basic", "body"])
def test_client_authenticates_by_basic_or_body(oauth: OAuth, how: str) -> None:
    params = {"grant_type": "client_credentials"}
    if how == "basic":
        response = post_token(oauth, params, headers={"Authorization": basic("app", "s3cret")})
    else:
        response = post_token(oauth, {**params, "client_id": "app", "client_secret": "s3cret"})
    assert response.status == 200, response.body
    assert response.json_body()["client_id"] == "app"


def test_without_registered_clients_any_pair_is_accepted(make: Make) -> None:
    oauth = make(registered=False)
    params = {"grant_type": "client_credentials", "client_id": "who", "client_secret": "ever"}
    assert post_token(oauth, params).status == 200


def test_json_body_token_request(oauth: OAuth) -> None:
    request = MockRequest.from_url(
        "POST",
        TOKEN,
        headers={"Content-Type": "application/json"},
        body='{"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cret"}',
    )
    assert oauth.token(request).status == 200


def test_authorization_code_grant(oauth: OAuth, contract: Contract) -> None:
    response = authorize(oauth, client_id="app", redirect_uri=CALLBACK, scope="read", state="st")
    location = response.headers.get("Location") or ""
    assert location.startswith("https://app.example/cb?x=1&code=")
    assert response.headers.get("Cache-Control") == "no-store"
    params = redirect_params(response)
    assert params["state"] == "st" and params["x"] == "1"
    answer = exchange(oauth, params["code"])
    assert answer.status == 200, answer.body
    body = answer.json_body()
    assert body["scope"] == "read"
    assert body["refresh_token"] and body["refresh_token"] != body["access_token"]
    identity = call(oauth, contract, "GET /things", headers=bearer(body["access_token"]))
    assert (identity.client_id, identity.scopes, identity.kind) == ("app", ("read",), "oauth2")


@pytest.mark.parametrize(
    ("method", "challenge"), [("S256", S256_CHALLENGE), ("plain", VERIFIER), (None, VERIFIER)]
)
@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_pkce_success(make: Make, method: str | None, challenge: str, public: bool) -> None:
    oauth = make(registered=not public)
    params = {"code_challenge": challenge}
    if method:
        params["code_challenge_method"] = method
    code = get_code(oauth, **params)
    secret = "-" if public else "s3cret"
    response = exchange(oauth, code, code_verifier=VERIFIER, client_secret=secret)
    assert response.status == 200, response.body


def test_public_client_needs_pkce(make: Make) -> None:
    oauth = make(clients={"spa": OAuthClient(secret="", redirect_uris=[CALLBACK])})
    code = get_code(oauth, client_id="spa")
    response = exchange(oauth, code, client_id="spa", client_secret="-")
    assert (response.status, error_of(response)) == (401, "invalid_client")
    assert exchange(oauth, code, client_id="spa", client_secret="x").status == 401
    pkce = get_code(oauth, client_id="spa", code_challenge=VERIFIER)
    answer = exchange(oauth, pkce, client_id="spa", client_secret="-", code_verifier=VERIFIER)
    assert answer.status == 200
    # refresh tokens issued to a public client are usable without a secret
    token = answer.json_body()["refresh_token"]
    assert refresh(oauth, token, client_id="spa", client_secret="").status == 200


# -- token endpoint: errors ---------------------------------------------------------------

GOOD = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "s3cret"}


def bad(
    case: str,
    status: int,
    error: str,
    params: dict[str, str] | list[tuple[str, str]],
    headers: dict[str, str] | None = None,
) -> Any:
    """One row of the token-error table: its id, the expected status and error, the request."""
    return pytest.param(params, headers or {}, status, error, id=case)


BASIC_APP = {"Authorization": basic("app", "s3cret")}
CC = {"grant_type": "client_credentials"}
CODE = {**GOOD, "grant_type": "authorization_code"}
REFRESH = {**GOOD, "grant_type": "refresh_token"}


@pytest.mark.parametrize(
    ("params", "headers", "status", "error"),
    [
        bad("basic-and-body", 400, "invalid_request", GOOD, BASIC_APP),
        bad(
            "basic-and-other-client-id",
            400,
            "invalid_request",
            {**CC, "client_id": "other"},
            BASIC_APP,
        ),
        bad("no-grant", 400, "invalid_request", {**GOOD, "grant_type": ""}),
        bad(
            "repeated-parameter",
            400,
            "invalid_request",
            [*GOOD.items(), ("scope", "read"), ("scope", "write")],
        ),
        bad("wrong-secret", 401, "invalid_client", {**GOOD, "client_secret": "wrong"}),
        bad("wrong-basic-secret", 401, "invalid_client", CC, {"Authorization": basic("app", "no")}),
        bad("unknown-client", 401, "invalid_client", {**GOOD, "client_id": "nobody"}),
        bad("no-client-auth", 401, "invalid_client", CC),
        bad("secret-missing", 401, "invalid_client", {**CC, "client_id": "app"}),
        bad("password-grant", 400, "unsupported_grant_type", {**GOOD, "grant_type": "password"}),
        bad("unknown-grant", 400, "unsupported_grant_type", {**GOOD, "grant_type": "urn:x"}),
        bad("scope-not-registered", 400, "invalid_scope", {**GOOD, "scope": "read admin"}),
        bad("code-missing", 400, "invalid_request", CODE),
        bad("unknown-code", 400, "invalid_grant", {**CODE, "code": "nope"}),
        bad("refresh-token-missing", 400, "invalid_request", REFRESH),
        bad("unknown-refresh-token", 400, "invalid_grant", {**REFRESH, "refresh_token": "nope"}),
        bad("content-type", 400, "invalid_request", GOOD, {"Content-Type": "multipart/form-data"}),
    ],
)
def test_token_errors(
    oauth: OAuth,
    params: dict[str, str] | list[tuple[str, str]],
    headers: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = post_token(oauth, params, headers=headers)
    assert (response.status, error_of(response)) == (status, error)
    body = response.json_body()
    assert body["error_description"]
    # the contract's token error schema declares code and title (Amadeus style)
    assert (body["code"], body["title"]) == (38187, "Invalid parameters")
    assert response.headers.get("Content-Type") == "application/json"
    assert response.headers.get("Cache-Control") == "no-store"
    challenge = response.headers.get("WWW-Authenticate")
    assert challenge == ('Basic realm="test-realm"' if status == 401 else None)


@pytest.mark.parametrize(
    "body", ["[1, 2]", "{not json", '{"grant_type": {"a": 1}}'], ids=["array", "broken", "nested"]
)
def test_bad_json_bodies(oauth: OAuth, body: str) -> None:
    headers = {"Content-Type": "application/json"}
    response = oauth.token(MockRequest.from_url("POST", TOKEN, headers=headers, body=body))
    assert (response.status, error_of(response)) == (400, "invalid_request")


def test_unauthorized_client(make: Make) -> None:
    oauth = make(clients={"app": OAuthClient(secret="s3cret", grants=["authorization_code"])})
    response = client_credentials(oauth)
    assert (response.status, error_of(response)) == (400, "unauthorized_client")


@pytest.mark.parametrize(
    ("challenge", "method", "verifier", "error"),
    [
        pytest.param(S256_CHALLENGE, "S256", "x" * 43, "invalid_grant", id="s256-mismatch"),
        pytest.param(VERIFIER, "plain", "y" * 43, "invalid_grant", id="plain-mismatch"),
        pytest.param(S256_CHALLENGE, "S256", "-", "invalid_grant", id="verifier-missing"),
        pytest.param(None, None, VERIFIER, "invalid_grant", id="downgrade"),
        pytest.param(VERIFIER, "plain", "short", "invalid_grant", id="malformed-verifier"),
    ],
)
def test_pkce_failures(
    oauth: OAuth, challenge: str | None, method: str | None, verifier: str, error: str
) -> None:
    params = {} if challenge is None else {"code_challenge": challenge}
    if method:
        params["code_challenge_method"] = method
    code = get_code(oauth, **params)
    response = exchange(oauth, code, code_verifier=verifier)
    assert (response.status, error_of(response)) == (400, error)


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"redirect_uri": "https://app.example/other"}, "invalid_grant"),
        ({"redirect_uri": "-"}, "invalid_request"),
    ],
)
def test_code_is_bound_to_redirect_uri(oauth: OAuth, extra: dict[str, str], error: str) -> None:
    response = exchange(oauth, get_code(oauth), **extra)
    assert (response.status, error_of(response)) == (400, error)


def test_code_is_bound_to_client_and_not_burnt_by_another(make: Make) -> None:
    oauth = make(clients={"app": CLIENT, "eve": OAuthClient(secret="e")})
    code = get_code(oauth)
    stolen = exchange(oauth, code, client_id="eve", client_secret="e")
    assert (stolen.status, error_of(stolen)) == (400, "invalid_grant")
    assert exchange(oauth, code).status == 200


def test_code_expires(oauth: OAuth, clock: FakeClock) -> None:
    code = get_code(oauth)
    clock.advance(600)
    response = exchange(oauth, code)
    assert (response.status, error_of(response)) == (400, "invalid_grant")
    assert "expired" in response.json_body()["error_description"]


def test_reused_code_is_refused_and_revokes_its_tokens(oauth: OAuth, contract: Contract) -> None:
    code = get_code(oauth)
    first = exchange(oauth, code).json_body()
    assert call(oauth, contract, "GET /things", headers=bearer(first["access_token"])).kind == (
        "oauth2"
    )
    again = exchange(oauth, code)
    assert (again.status, error_of(again)) == (400, "invalid_grant")
    rejected = call(oauth, contract, "GET /things", headers=bearer(first["access_token"]))
    assert isinstance(rejected, Rejection)
    assert (rejected.status, rejected.error) == (401, "invalid_token")
    assert "revoked" in rejected.detail
    assert error_of(refresh(oauth, first["refresh_token"])) == "invalid_grant"


def test_refresh_rotates_and_reuse_revokes_the_family(oauth: OAuth, contract: Contract) -> None:
    first = exchange(oauth, get_code(oauth)).json_body()
    second = refresh(oauth, first["refresh_token"])
    assert second.status == 200, second.body
    rotated = second.json_body()
    assert rotated["refresh_token"] not in (first["refresh_token"], None)
    assert rotated["access_token"] != first["access_token"]
    assert rotated["scope"] == "read write"
    third = refresh(oauth, rotated["refresh_token"]).json_body()
    # an attacker replays the first, already rotated, refresh token
    replay = refresh(oauth, first["refresh_token"])
    assert (replay.status, error_of(replay)) == (400, "invalid_grant")
    for body in (first, rotated, third):
        rejected = call(oauth, contract, "GET /things", headers=bearer(body["access_token"]))
        assert isinstance(rejected, Rejection) and rejected.error == "invalid_token"
    assert error_of(refresh(oauth, third["refresh_token"])) == "invalid_grant"


def test_refresh_can_narrow_but_not_widen_scope(make: Make) -> None:
    oauth = make(
        clients={
            "app": OAuthClient(
                secret="s3cret", scopes=["read", "write", "admin"], redirect_uris=[CALLBACK]
            )
        }
    )
    first = exchange(oauth, get_code(oauth, scope="read write")).json_body()
    wider = refresh(oauth, first["refresh_token"], scope="read admin")
    assert (wider.status, error_of(wider)) == (400, "invalid_scope")
    second = exchange(oauth, get_code(oauth, scope="read write")).json_body()
    narrow = refresh(oauth, second["refresh_token"], scope="read").json_body()
    assert narrow["scope"] == "read"
    # the new refresh token keeps the original scope (RFC 6749 section 6)
    assert refresh(oauth, narrow["refresh_token"]).json_body()["scope"] == "read write"


def test_refresh_token_expires(oauth: OAuth, clock: FakeClock) -> None:
    token = exchange(oauth, get_code(oauth)).json_body()["refresh_token"]
    clock.advance(86400)
    assert error_of(refresh(oauth, token)) == "invalid_grant"


def test_refresh_token_is_bound_to_client(make: Make) -> None:
    oauth = make(clients={"app": CLIENT, "eve": OAuthClient(secret="e")})
    token = exchange(oauth, get_code(oauth)).json_body()["refresh_token"]
    assert error_of(refresh(oauth, token, client_id="eve", client_secret="e")) == "invalid_grant"
    assert refresh(oauth, token).status == 200


def test_one_code_redeemed_by_20_threads_succeeds_once(oauth: OAuth) -> None:
    code = get_code(oauth)
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    lock = threading.Lock()

    def redeem() -> None:
        barrier.wait()
        status = exchange(oauth, code).status
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=redeem) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 19


# -- authorization endpoint ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"scope": "read admin"}, "invalid_scope"),
        ({"code_challenge": VERIFIER, "code_challenge_method": "S512"}, "invalid_request"),
        ({"code_challenge_method": "S256"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
    ],
)
def test_authorize_errors_redirect_with_state(
    oauth: OAuth, params: dict[str, str], error: str
) -> None:
    response = authorize(oauth, client_id="app", redirect_uri=CALLBACK, state="s1", **params)
    assert (response.headers.get("Location") or "").startswith(CALLBACK + "&")
    answer = redirect_params(response)
    assert (answer["error"], answer["state"], answer["x"]) == (error, "s1", "1")
    assert "code" not in answer


def test_repeated_authorize_parameter_redirects_an_error(oauth: OAuth) -> None:
    url = f"{AUTHORIZE}?client_id=app&redirect_uri={quote_plus(CALLBACK)}&scope=read&scope=write"
    response = oauth.authorize(MockRequest.from_url("GET", url))
    assert redirect_params(response)["error"] == "invalid_request"


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("redirect_uri=https%3A%2F%2Fapp.example%2Fcb", id="no-client-id"),
        pytest.param(
            "client_id=nobody&redirect_uri=https%3A%2F%2Fapp.example%2Fcb", id="unknown-client"
        ),
        pytest.param(
            "client_id=app&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
            id="unregistered-redirect-uri",
        ),
        pytest.param(
            "client_id=app&redirect_uri=https%3A%2F%2Fapp.example%2Fcb%23frag", id="fragment"
        ),
        pytest.param("client_id=app&redirect_uri=cb", id="relative"),
        pytest.param("client_id=app&client_id=app", id="repeated-client-id"),
    ],
)
def test_authorize_refuses_without_redirect(oauth: OAuth, query: str) -> None:
    response = oauth.authorize(MockRequest.from_url("GET", f"{AUTHORIZE}?{query}"))
    assert response.status == 400
    assert "Location" not in response.headers
    assert response.json_body()["error"] in ("invalid_request", "invalid_client")


def test_authorize_uses_the_single_registered_redirect_uri(oauth: OAuth) -> None:
    # GitHub-style: no response_type, no redirect_uri
    params = redirect_params(authorize(oauth, client_id="app"))
    # redirect_uri was not in the authorization request, so the exchange need not send it
    assert exchange(oauth, params["code"], redirect_uri="-").status == 200


def test_authorize_without_redirect_target_answers_json(make: Make) -> None:
    oauth = make(registered=False)
    response = authorize(oauth, client_id="anyone", state="s")
    assert response.status == 200
    body = response.json_body()
    assert body["state"] == "s"
    answer = exchange(oauth, body["code"], client_id="anyone", redirect_uri="-")
    assert answer.status == 200
    error = authorize(oauth, client_id="anyone", response_type="token")
    assert (error.status, error_of(error)) == (400, "unsupported_response_type")


# -- enforcement --------------------------------------------------------------------------


def test_missing_token_is_401_without_error_attribute(oauth: OAuth, contract: Contract) -> None:
    rejection = call(oauth, contract, "GET /things")
    assert isinstance(rejection, Rejection)
    assert rejection.status == 401
    assert rejection.headers.get_all("WWW-Authenticate") == ['Bearer realm="test-realm"']
    assert rejection.error is None


@pytest.mark.parametrize(
    ("authorization", "ok"),
    [("Bearer {t}", True), ("bearer {t}", True), ("BEARER {t}", True), ("token {t}", False)],
)
def test_bearer_scheme_is_case_insensitive(
    oauth: OAuth, contract: Contract, authorization: str, ok: bool
) -> None:
    header = {"Authorization": authorization.format(t=access_token(oauth))}
    result = call(oauth, contract, "GET /things", headers=header)
    assert isinstance(result, Rejection) != ok


def test_token_scheme_accepted_when_configured(make: Make, contract: Contract) -> None:
    oauth = make(authorization_schemes=["Bearer", "token"])
    header = {"Authorization": f"token {access_token(oauth)}"}
    identity = call(oauth, contract, "GET /things", headers=header)
    assert identity.kind == "oauth2"


def test_expired_token_is_invalid_token(oauth: OAuth, contract: Contract, clock: FakeClock) -> None:
    token = access_token(oauth)
    clock.advance(1798)
    assert not isinstance(call(oauth, contract, "GET /things", headers=bearer(token)), Rejection)
    clock.advance(1)
    rejection = call(oauth, contract, "GET /things", headers=bearer(token))
    assert isinstance(rejection, Rejection)
    assert (rejection.status, rejection.error) == (401, "invalid_token")
    assert rejection.headers.get("WWW-Authenticate") == (
        'Bearer realm="test-realm", error="invalid_token", '
        'error_description="The access token expired"'
    )


def test_unknown_token_is_invalid_token(oauth: OAuth, contract: Contract) -> None:
    rejection = call(oauth, contract, "GET /things", headers=bearer("made-up"))
    assert isinstance(rejection, Rejection)
    assert (rejection.status, rejection.error) == (401, "invalid_token")


def test_insufficient_scope_is_403(oauth: OAuth, contract: Contract) -> None:
    token = access_token(oauth, scope="read")
    rejection = call(oauth, contract, "POST /things", headers=bearer(token))
    assert isinstance(rejection, Rejection)
    assert (rejection.status, rejection.error) == (403, "insufficient_scope")
    challenge = rejection.headers.get("WWW-Authenticate") or ""
    assert 'error="insufficient_scope"' in challenge and 'scope="write"' in challenge


@pytest.mark.parametrize(
    ("query", "header", "body", "status"),
    [
        pytest.param("access_token={t}", False, "", 200, id="query"),
        pytest.param("", False, "access_token={t}", 200, id="form-body"),
        pytest.param("access_token={t}", True, "", 400, id="header-and-query"),
        pytest.param("", True, "access_token={t}", 400, id="header-and-body"),
        pytest.param("access_token={t}&access_token={t}", False, "", 400, id="query-twice"),
    ],
)
def test_token_sent_several_ways_is_invalid_request(
    oauth: OAuth, contract: Contract, query: str, header: bool, body: str, status: int
) -> None:
    token = access_token(oauth)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if header:
        headers.update(bearer(token))
    result = call(
        oauth,
        contract,
        "POST /things",
        query=query.format(t=token),
        headers=headers,
        body=body.format(t=token),
    )
    if status == 200:
        assert not isinstance(result, Rejection)
    else:
        assert isinstance(result, Rejection)
        assert (result.status, result.error) == (400, "invalid_request")


def test_plain_bearer_scheme_accepts_foreign_tokens(make: Make, contract: Contract) -> None:
    oauth = make()
    identity = call(oauth, contract, "GET /pat", headers=bearer("ghp_personal"))
    assert identity.kind == "bearer"
    assert identity.client_id == "sha256:" + hashlib.sha256(b"ghp_personal").hexdigest()[:16]
    strict = make(static_tokens_only=True, api_keys=["sk_listed"])
    rejection = call(strict, contract, "GET /pat", headers=bearer("ghp_personal"))
    assert isinstance(rejection, Rejection) and rejection.error == "invalid_token"
    assert call(strict, contract, "GET /pat", headers=bearer("sk_listed")).kind == "bearer"
    assert call(strict, contract, "GET /pat", headers=bearer(access_token(strict))).kind == "oauth2"


def test_plain_bearer_scheme_rejects_our_expired_tokens(
    oauth: OAuth, contract: Contract, clock: FakeClock
) -> None:
    token = access_token(oauth)
    clock.advance(1799)
    rejection = call(oauth, contract, "GET /pat", headers=bearer(token))
    assert isinstance(rejection, Rejection) and rejection.error == "invalid_token"


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {"X-API-Key": "k1"}), ("api_key=k1", {})],
    ids=["header", "query"],
)
def test_api_key(make: Make, contract: Contract, query: str, headers: dict[str, str]) -> None:
    identity = call(make(), contract, "GET /keyed", query=query, headers=headers)
    assert (identity.kind, identity.client_id) == ("apiKey", "k1")
    strict = make(api_keys=["k2"])
    rejection = call(strict, contract, "GET /keyed", query=query, headers=headers)
    assert isinstance(rejection, Rejection) and rejection.status == 401
    missing = call(make(), contract, "GET /keyed")
    assert isinstance(missing, Rejection) and missing.status == 401


def test_api_key_in_cookie(oauth: OAuth, contract: Contract) -> None:
    headers = {"Cookie": "theme=dark; session=abc"}
    assert call(oauth, contract, "GET /cookie", headers=headers).client_id == "abc"
    assert isinstance(call(oauth, contract, "GET /cookie"), Rejection)


@pytest.mark.parametrize(
    ("registered", "user", "password", "ok"),
    [
        (False, "anyone", "anything", True),
        (True, "app", "s3cret", True),
        (True, "app", "wrong", False),
        (True, "nobody", "s3cret", False),
    ],
)
def test_basic_auth(
    make: Make, contract: Contract, registered: bool, user: str, password: str, ok: bool
) -> None:
    oauth = make(registered=registered)
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    result = call(oauth, contract, "GET /basic", headers={"Authorization": f"Basic {raw}"})
    if ok:
        assert (result.kind, result.client_id) == ("basic", user)
    else:
        assert isinstance(result, Rejection) and result.status == 401
        assert result.headers.get("WWW-Authenticate") == 'Basic realm="test-realm"'


def test_missing_basic_auth(oauth: OAuth, contract: Contract) -> None:
    rejection = call(oauth, contract, "GET /basic")
    assert isinstance(rejection, Rejection)
    assert rejection.headers.get("WWW-Authenticate") == 'Basic realm="test-realm"'


def test_a_requirement_with_two_schemes_needs_both(make: Make, contract: Contract) -> None:
    oauth = make(registered=False)
    key = {"X-API-Key": "k"}
    auth = {"Authorization": "Basic " + base64.b64encode(b"u:p").decode()}
    assert isinstance(call(oauth, contract, "GET /both", headers=key), Rejection)
    assert isinstance(call(oauth, contract, "GET /both", headers=auth), Rejection)
    assert call(oauth, contract, "GET /both", headers={**key, **auth}).kind == "apiKey"


def test_anonymous_alternative(oauth: OAuth, contract: Contract, clock: FakeClock) -> None:
    assert call(oauth, contract, "GET /public").kind == "anonymous"
    token = access_token(oauth)
    assert call(oauth, contract, "GET /public", headers=bearer(token)).client_id == "app"
    clock.advance(1799)
    # credentials that were sent but are bad are refused, as real APIs do
    rejection = call(oauth, contract, "GET /public", headers=bearer(token))
    assert isinstance(rejection, Rejection) and rejection.error == "invalid_token"


@pytest.mark.parametrize(
    ("require", "key", "guarded"),
    [
        ([], "GET /open", False),
        (["*"], "GET /open", True),
        (["get /open"], "GET /open", True),
        (["GET /other"], "GET /open", False),
        (["*"], "POST /oauth/token", False),
    ],
)
def test_require_forces_a_token(
    make: Make, contract: Contract, require: list[str], key: str, guarded: bool
) -> None:
    oauth = make(require=require)
    result = call(oauth, contract, key)
    assert isinstance(result, Rejection) == guarded
    if guarded:
        assert call(oauth, contract, key, headers=bearer(access_token(oauth))).kind == "oauth2"


def test_enforce_false_identifies_but_never_refuses(make: Make, contract: Contract) -> None:
    oauth = make(enforce=False)
    assert call(oauth, contract, "GET /things").kind == "anonymous"
    token = access_token(oauth, scope="read")
    assert call(oauth, contract, "POST /things", headers=bearer(token)).client_id == "app"


def test_unsecured_operation_still_names_the_caller(oauth: OAuth, contract: Contract) -> None:
    assert call(oauth, contract, "GET /open", headers=bearer(access_token(oauth))).kind == "oauth2"
    assert call(oauth, contract, "GET /open", headers=bearer("foreign")).kind == "bearer"


# -- admin --------------------------------------------------------------------------------


def test_expire_all(oauth: OAuth, contract: Contract) -> None:
    tokens = [access_token(oauth), access_token(oauth)]
    assert oauth.expire_all() == 2
    for token in tokens:
        rejection = call(oauth, contract, "GET /things", headers=bearer(token))
        assert isinstance(rejection, Rejection) and "expired" in rejection.detail
    fresh = access_token(oauth)
    assert call(oauth, contract, "GET /things", headers=bearer(fresh)).kind == "oauth2"
    assert oauth.expire_all() == 1


def test_expire_all_is_shared_through_the_store(contract: Contract, clock: FakeClock) -> None:
    store = MemoryStore()
    config = OAuthConfig(clients={"app": CLIENT})
    worker_a, worker_b = (OAuth([contract], config, store, clock) for _ in range(2))
    token = access_token(worker_a)
    assert call(worker_b, contract, "GET /things", headers=bearer(token)).kind == "oauth2"
    assert worker_b.expire_all() == 1
    assert isinstance(call(worker_a, contract, "GET /things", headers=bearer(token)), Rejection)


def test_refresh_still_works_after_expire_all(oauth: OAuth, contract: Contract) -> None:
    body = exchange(oauth, get_code(oauth)).json_body()
    oauth.expire_all()
    fresh = refresh(oauth, body["refresh_token"]).json_body()["access_token"]
    assert call(oauth, contract, "GET /things", headers=bearer(fresh)).kind == "oauth2"


def test_reset_forgets_everything_and_keys_are_prefixed(
    contract: Contract, clock: FakeClock
) -> None:
    store = MemoryStore()
    store.set("other:key", "kept")
    oauth = OAuth([contract], OAuthConfig(clients={"app": CLIENT}), store, clock)
    token = access_token(oauth)
    exchange(oauth, get_code(oauth))
    oauth.expire_all()
    assert all(k.startswith("oauth:") for k in store.keys("") if k != "other:key")
    oauth.reset()
    assert store.keys("oauth:") == []
    assert store.get("other:key") == "kept"
    rejection = call(oauth, contract, "GET /things", headers=bearer(token))
    assert isinstance(rejection, Rejection) and "unknown" in rejection.detail
