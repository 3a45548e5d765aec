"""The admin API while the shared state (Redis) is away: problem+json 503, never a bare
500, and everything works again once Redis is back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from tests.fixtures.redis_server import RedisServer
from tests.fixtures.serve import Serve

TOKEN = "/v1/security/oauth2/token"
FORM = {"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo"}
ADMIN_CALLS = [
    ("GET", "/__mockserver/journal"),
    ("GET", "/__mockserver/coverage"),
    ("GET", "/__mockserver/report?format=json"),
    ("POST", "/__mockserver/tokens/expire"),
    ("POST", "/__mockserver/reset"),
]


@pytest.fixture
def served() -> Iterator[tuple[str, RedisServer]]:
    redis = RedisServer(prefix="mockserver-admin-faults-")
    redis.start()
    serve = Serve("--state", redis.url)
    try:
        yield serve.wait().url, redis
    finally:
        serve.stop()
        redis.stop()


def test_admin_calls_answer_503_problem_json_while_redis_is_away(
    served: tuple[str, RedisServer],
) -> None:
    url, redis = served
    assert requests.post(url + TOKEN, data=FORM, timeout=5).status_code == 200
    redis.kill()
    for method, path in ADMIN_CALLS:
        resp = requests.request(method, url + path, timeout=10)
        assert resp.status_code == 503, (path, resp.status_code, resp.text[:200])
        assert resp.headers["Content-Type"] == "application/problem+json", path
        assert resp.headers["Retry-After"] == "1", path
        body = resp.json()
        assert body["type"] == "https://mockserver.dev/problems/state-unavailable", path
        assert "Traceback" not in resp.text
    # the health check itself needs no state
    assert requests.get(url + "/__mockserver/health", timeout=5).status_code == 200
    redis.start()
    deadline = time.monotonic() + 15
    while requests.post(url + TOKEN, data=FORM, timeout=5).status_code != 200:
        assert time.monotonic() < deadline, "no recovery after Redis came back"
        time.sleep(0.2)
    for method, path in ADMIN_CALLS:
        resp = requests.request(method, url + path, timeout=10)
        assert resp.status_code == 200, (path, resp.status_code, resp.text[:200])
    journal = requests.get(url + "/__mockserver/journal", timeout=5).json()["entries"]
    assert journal == []  # reset above, after recovery
