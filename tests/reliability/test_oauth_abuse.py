"""OAuth abuse over real HTTP: each case asserts the exact status and error shape."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer

CB = "http://localhost/cb"
CLIENTS = {
    "app": {"secret": "app-secret", "redirect_uris": [CB]},
    "other": {"secret": "other-secret", "redirect_uris": [CB]},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def api(clock: Clock) -> Iterator[MockServer]:
    config = {"oauth": {"clients": CLIENTS, "token_ttl": 60}}
    with MockServer(CONTRACTS / "travel", config=config, clock=clock) as server:
        yield server


def token_url(api: MockServer) -> str:
    return f"{api.url}/v1/security/oauth2/token"


def authorize(api: MockServer, client: str = "app", **extra: str) -> str:
    params = {"client_id": client, "redirect_uri": CB, "state": "st", **extra}
    resp = requests.get(
        f"{api.url}/v1/security/oauth2/authorize", params=params, allow_redirects=False, timeout=5
    )
    assert resp.status_code == 302, resp.text
    return parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]


def exchange(
    api: MockServer, code: str, client: str = "app", secret: str = "app-secret", **extra: str
) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": CB,
        "client_id": client,
        "client_secret": secret,
        **extra,
    }
    return requests.post(token_url(api), data=data, timeout=5)


def call(api: MockServer, token: str) -> requests.Response:
    return requests.get(
        f"{api.url}/v2/reference-data/urls/checkin-links",
        params={"airlineCode": "BA"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )


def oauth_error(resp: requests.Response, status: int, error: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.json()["error"] == error


def bearer_error(resp: requests.Response, status: int, error: str) -> None:
    assert resp.status_code == status
    assert f'error="{error}"' in resp.headers["WWW-Authenticate"]
    assert resp.json()["errors"][0]["status"] == status


def client_credentials_token(api: MockServer) -> str:
    data = {"grant_type": "client_credentials", "client_id": "app", "client_secret": "app-secret"}
    return requests.post(token_url(api), timeout=5, data=data).json()["access_token"]


def pkce_challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


BASIC_APP = {"Authorization": "Basic " + base64.b64encode(b"app:app-secret").decode()}


@pytest.mark.parametrize(
    ("headers", "data", "status", "error", "challenge"),
    [
        pytest.param(
            {},
            {"grant_type": "client_credentials", "client_id": "app", "client_secret": "nope"},
            401,
            "invalid_client",
            "Basic",
            id="wrong-secret",
        ),
        pytest.param(
            BASIC_APP,
            {"grant_type": "client_credentials", "client_secret": "app-secret"},
            400,
            "invalid_request",
            None,
            id="basic-and-body-credentials-together",
        ),
        pytest.param(
            {},
            {
                "grant_type": "password",
                "client_id": "app",
                "client_secret": "app-secret",
                "username": "u",
                "password": "p",
            },
            400,
            "unsupported_grant_type",
            None,
            id="unsupported-grant-type",
        ),
    ],
)
def test_token_endpoint_errors(
    api: MockServer,
    headers: dict[str, str],
    data: dict[str, str],
    status: int,
    error: str,
    challenge: str | None,
) -> None:
    resp = requests.post(token_url(api), timeout=5, headers=headers, data=data)
    oauth_error(resp, status, error)
    if challenge is not None:
        assert resp.headers["WWW-Authenticate"].startswith(challenge)


def test_reused_code_is_invalid_grant_and_revokes_the_first_token(api: MockServer) -> None:
    code = authorize(api)
    first = exchange(api, code)
    assert first.status_code == 200
    token = first.json()["access_token"]
    assert call(api, token).status_code == 200
    oauth_error(exchange(api, code), 400, "invalid_grant")
    refused = call(api, token)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("challenged_with", "verifier"),
    [
        pytest.param("a" * 50, "b" * 50, id="mismatch"),
        pytest.param(None, "c" * 50, id="downgrade-verifier-without-challenge"),
    ],
)
def test_pkce_failure_is_invalid_grant(
    api: MockServer, challenged_with: str | None, verifier: str
) -> None:
    extra = {}
    if challenged_with is not None:
        extra = {"code_challenge": pkce_challenge(challenged_with), "code_challenge_method": "S256"}
    code = authorize(api, **extra)
    oauth_error(exchange(api, code, code_verifier=verifier), 400, "invalid_grant")


def test_pkce_success(api: MockServer) -> None:
    verifier = "v" * 64
    code = authorize(api, code_challenge=pkce_challenge(verifier), code_challenge_method="S256")
    assert exchange(api, code, code_verifier=verifier).status_code == 200


def test_refresh_token_reuse_after_rotation_revokes_the_family(api: MockServer) -> None:
    first = exchange(api, authorize(api)).json()
    data = {"grant_type": "refresh_token", "client_id": "app", "client_secret": "app-secret"}
    rotated = requests.post(
        token_url(api), data={**data, "refresh_token": first["refresh_token"]}, timeout=5
    )
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["refresh_token"] != first["refresh_token"]
    replay = requests.post(
        token_url(api), data={**data, "refresh_token": first["refresh_token"]}, timeout=5
    )
    oauth_error(replay, 400, "invalid_grant")
    assert call(api, new["access_token"]).status_code == 401


def test_code_of_another_client_is_invalid_grant(api: MockServer) -> None:
    code = authorize(api, client="app")
    oauth_error(exchange(api, code, client="other", secret="other-secret"), 400, "invalid_grant")


def test_expired_token_is_invalid_token(api: MockServer, clock: Clock) -> None:
    token = client_credentials_token(api)
    assert call(api, token).status_code == 200
    clock.now += 61
    bearer_error(call(api, token), 401, "invalid_token")


def test_token_sent_two_ways_is_400(api: MockServer) -> None:
    token = client_credentials_token(api)
    resp = requests.get(
        f"{api.url}/v2/reference-data/urls/checkin-links",
        timeout=5,
        params={"airlineCode": "BA", "access_token": token},
        headers={"Authorization": f"Bearer {token}"},
    )
    bearer_error(resp, 400, "invalid_request")
