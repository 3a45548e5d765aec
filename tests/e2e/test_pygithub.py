"""PyGithub from PyPI, unchanged, against the GitHub-style contract."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from github import Auth, Github, RateLimitExceededException, UnknownObjectException

from conftest import CONTRACTS
from mockserver import MockServer

pytestmark = pytest.mark.e2e
SIZE = 42


@pytest.fixture
def server() -> Iterator[MockServer]:
    config = {
        "pagination": {"collection_size": SIZE},
        "oauth": {
            "clients": {
                "app-id": {"secret": "app-secret", "redirect_uris": ["http://localhost/cb"]}
            }
        },
    }
    with MockServer(CONTRACTS / "github.yaml", config=config) as srv:
        yield srv


def gh(server: MockServer, token: str = "ghp_mocktoken") -> Github:
    return Github(
        base_url=server.url, auth=Auth.Token(token), seconds_between_requests=0, retry=None
    )


def test_authenticated_user(server: MockServer) -> None:
    user = gh(server).get_user()
    assert user.login
    assert isinstance(user.id, int)


def test_repos_paginate_over_pages_with_total_count(server: MockServer) -> None:
    user = gh(server).get_user("octocat")
    repos = user.get_repos()
    names = [r.full_name for r in repos]
    assert len(names) == SIZE
    assert len(set(names)) == SIZE
    assert repos.totalCount == SIZE
    pages = [e for e in server.journal.entries() if e.operation == "GET /users/{username}/repos"]
    assert len(pages) >= 2


def test_unknown_user_is_unknown_object(server: MockServer) -> None:
    server.scenario("GET /users/{username}", status=404, times=1)
    with pytest.raises(UnknownObjectException):
        gh(server).get_user("no-such-user-anywhere").login  # noqa: B018 - lazy load


def test_rate_limit_is_rate_limit_exceeded() -> None:
    # GitHub answers its primary rate limit with 403 and X-RateLimit-*; retry=None keeps
    # PyGithub from sleeping until X-RateLimit-Reset.
    with MockServer(
        CONTRACTS / "github.yaml",
        config={
            "rate_limit": {"requests": 2, "per_seconds": 3600, "status": 403},
        },
    ) as limited:
        g = gh(limited)
        g.get_user("a").login  # noqa: B018
        g.get_user("b").login  # noqa: B018
        with pytest.raises(RateLimitExceededException):
            g.get_user("c").login  # noqa: B018


def test_oauth_web_flow_with_pkce(server: MockServer) -> None:
    g = Github(base_url=server.url, seconds_between_requests=0, retry=None)
    app = g.get_oauth_application("app-id", "app-secret")
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    login_url = app.get_login_url(redirect_uri="http://localhost/cb", state="xyz")
    assert urlsplit(login_url).netloc == urlsplit(server.url).netloc
    url = (
        login_url
        + "&"
        + urlencode({"code_challenge": challenge.decode(), "code_challenge_method": "S256"})
    )
    redirect = requests.get(url, allow_redirects=False, timeout=5)
    assert redirect.status_code == 302
    location = urlsplit(redirect.headers["Location"])
    query = parse_qs(location.query)
    assert location.netloc == "localhost" and query["state"] == ["xyz"]
    token = app.get_access_token(query["code"][0], code_verifier=verifier)
    assert token.token
    me = Github(
        base_url=server.url, auth=Auth.Token(token.token), seconds_between_requests=0, retry=None
    ).get_user()
    assert me.login
    # the code is single use
    with pytest.raises(Exception):  # noqa: B017 - PyGithub raises its generic error type
        app.get_access_token(query["code"][0], code_verifier=verifier)


def test_wrong_verifier_is_refused(server: MockServer) -> None:
    g = Github(base_url=server.url, seconds_between_requests=0, retry=None)
    app = g.get_oauth_application("app-id", "app-secret")
    url = (
        app.get_login_url(redirect_uri="http://localhost/cb", state="s")
        + "&"
        + urlencode({"code_challenge": "x" * 43, "code_challenge_method": "plain"})
    )
    code = parse_qs(
        urlsplit(requests.get(url, allow_redirects=False, timeout=5).headers["Location"]).query
    )["code"][0]
    with pytest.raises(Exception):  # noqa: B017
        app.get_access_token(code, code_verifier="y" * 43)
