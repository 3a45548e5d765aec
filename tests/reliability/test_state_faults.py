"""Shared state (Redis) failing under a running mock: fail closed with 503 problem+json,
recover when Redis is back; a gunicorn worker killed with -9 is replaced and tokens hold."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mockserver import MockServer
from tests.fixtures.redis_server import RedisServer, free_port

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="redis-server is not installed (apt-get install redis-server)",
)

TOKEN = "/v1/security/oauth2/token"
LOCATIONS = "/v1/reference-data/locations"
QUERY = {"subType": "AIRPORT", "keyword": "LON"}


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, on a port it keeps when killed and started again."""
    server = RedisServer(prefix="mockserver-rel-redis-")
    try:
        server.start()
        yield server
    finally:
        server.stop()


def get_token(base: str) -> requests.Response:
    return requests.post(
        base + TOKEN,
        data={"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo"},
        timeout=5,
    )


def locations(base: str, access: str) -> requests.Response:
    return requests.get(
        base + LOCATIONS, params=QUERY, headers={"Authorization": f"Bearer {access}"}, timeout=5
    )


def assert_unavailable(resp: requests.Response) -> None:
    assert resp.status_code == 503, resp.text
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert resp.headers["Retry-After"] == "1"
    body = resp.json()
    assert body["status"] == 503
    assert body["title"] == "State unavailable"
    assert body["type"] == "https://mockserver.dev/problems/state-unavailable"
    assert "Traceback" not in resp.text


def test_redis_stopped_fails_closed_then_recovers(redis_server: RedisServer) -> None:
    with MockServer(state=redis_server.url) as mock:
        first = get_token(mock.url)
        assert first.status_code == 200, first.text
        access = first.json()["access_token"]
        assert locations(mock.url, access).status_code == 200

        redis_server.kill()
        assert_unavailable(get_token(mock.url))
        assert_unavailable(locations(mock.url, access))

        redis_server.start()
        deadline = time.monotonic() + 10
        while True:
            again = get_token(mock.url)
            if again.status_code == 200 or time.monotonic() > deadline:
                break
            assert_unavailable(again)
            time.sleep(0.1)
        assert again.status_code == 200, again.text
        fresh = again.json()["access_token"]
        resp = locations(mock.url, fresh)
        assert resp.status_code == 200, resp.text
        # the restarted Redis kept nothing (no persistence): the old token is unknown, not a 5xx
        assert locations(mock.url, access).status_code == 401


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return sorted(out)


def wait_health(url: str, proc: subprocess.Popen[str], limit: float = 30) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        assert proc.poll() is None, "serve exited early"
        with contextlib.suppress(requests.ConnectionError):
            requests.get(url + "/__mockserver/health", timeout=0.5)
            return
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {limit} s")


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds worker PIDs through /proc")
@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_worker_killed_with_sigkill_is_replaced_and_tokens_hold(
    redis_server: RedisServer, server: str
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "mockserver", "serve", "--port", str(port),
            "--workers", "2", "--threads", "2", "--server", server,
            "--state", f"{redis_server.url}?prefix=kill9-{server}:",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "COLUMNS": "120"},
    )  # fmt: skip
    try:
        wait_health(url, proc)
        deadline = time.monotonic() + 10
        workers = children(proc.pid)
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
            workers = children(proc.pid)
        assert len(workers) == 2, workers
        issued = get_token(url)
        assert issued.status_code == 200, issued.text
        access = issued.json()["access_token"]

        victim = workers[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            now = children(proc.pid)
            if victim not in now and len(now) == 2:
                break
            time.sleep(0.1)
        now = children(proc.pid)
        assert victim not in now and len(now) == 2, now

        # every new connection (spread over both workers) succeeds within a few seconds
        ok = 0
        deadline = time.monotonic() + 10
        while ok < 10 and time.monotonic() < deadline:
            try:
                resp = locations(url, access)
            except requests.ConnectionError:
                ok = 0
                time.sleep(0.1)
                continue
            assert resp.status_code == 200, resp.text
            ok += 1
        assert ok == 10
        assert proc.poll() is None
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
