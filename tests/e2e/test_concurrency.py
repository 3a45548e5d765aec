"""Exactness under concurrency, over real HTTP: limits and one-time codes."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer

pytestmark = pytest.mark.e2e


def test_200_concurrent_requests_against_a_limit_of_10() -> None:
    config = {"rate_limit": {"requests": 10, "per_seconds": 3600, "by": "global"}}
    with MockServer(CONTRACTS / "github.yaml", config=config) as server:
        barrier = threading.Barrier(50)

        def call(_: int) -> int:
            session = requests.Session()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)
            return session.get(f"{server.url}/users/octocat", timeout=30).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            statuses = list(pool.map(call, range(200)))
    assert statuses.count(200) == 10
    assert statuses.count(429) == 190


def test_20_concurrent_redemptions_of_one_code_give_one_token() -> None:
    config = {
        "oauth": {"clients": {"app": {"secret": "s", "redirect_uris": ["http://localhost/cb"]}}}
    }
    with MockServer(CONTRACTS / "github.yaml", config=config) as server:
        location = requests.get(
            f"{server.url}/login/oauth/authorize",
            params={"client_id": "app", "redirect_uri": "http://localhost/cb", "state": "s"},
            allow_redirects=False,
            timeout=5,
        ).headers["Location"]
        code = parse_qs(urlsplit(location).query)["code"][0]
        barrier = threading.Barrier(20)

        def redeem(_: int) -> requests.Response:
            barrier.wait(timeout=10)
            return requests.post(
                f"{server.url}/login/oauth/access_token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "client_id": "app",
                    "client_secret": "s",
                    "redirect_uri": "http://localhost/cb",
                },
                headers={"Accept": "application/json"},
                timeout=30,
            )

        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(redeem, range(20)))
    tokens = [a.json()["access_token"] for a in answers if a.status_code == 200]
    assert len(tokens) == 1
    assert all(a.json()["error"] == "invalid_grant" for a in answers if a.status_code != 200)
