"""Many processes, one API: two ``serve`` processes sharing one real redis-server, and
``serve --workers N`` under gunicorn (with a private redis-server when no --state)."""

from __future__ import annotations

import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import yaml

from tests.fixtures.redis_server import free_port, redis_url, running_redis
from tests.fixtures.serve import Serve, alive, descendants

__all__ = ["redis_url"]

TOKEN = "/v1/security/oauth2/token"
LOCATIONS = "/v1/reference-data/locations"
QUERY = {"subType": "AIRPORT", "keyword": "LON"}
# A window so long that no test run straddles two of them.
WINDOW = 30 * 86400


@pytest.fixture
def limited_config(tmp_path: Path) -> Path:
    path = tmp_path / "mockserver.yaml"
    rule = {"requests": 10, "per_seconds": WINDOW}
    path.write_text(
        yaml.safe_dump({"rate_limit": {"by": "global", "operations": {f"GET {LOCATIONS}": rule}}})
    )
    return path


def token(base: str) -> str:
    resp = requests.post(
        base + TOKEN,
        data={"grant_type": "client_credentials", "client_id": "demo", "client_secret": "demo"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def locations(base: str, access: str) -> requests.Response:
    return requests.get(
        base + LOCATIONS, params=QUERY, headers={"Authorization": f"Bearer {access}"}, timeout=10
    )


@pytest.fixture
def two_servers(
    redis_url: str, limited_config: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[Serve, Serve]]:
    prefix = f"?prefix=t-{request.node.name[:40]}:"
    a = Serve("--state", redis_url + prefix, "--config", str(limited_config))
    b = Serve("--state", redis_url + prefix, "--config", str(limited_config))
    try:
        yield a.wait(), b.wait()
    finally:
        a.stop()
        b.stop()


def test_token_issued_by_one_process_works_on_the_other(two_servers: tuple[Serve, Serve]) -> None:
    a, b = two_servers
    access = token(a.url)
    assert locations(b.url, access).status_code == 200
    assert locations(a.url, access).status_code == 200
    assert locations(b.url, "not-a-token").status_code == 401
    # expiring on one expires everywhere
    assert requests.post(b.url + "/__mockserver/tokens/expire", timeout=5).status_code == 200
    assert locations(a.url, access).status_code == 401


def test_200_concurrent_requests_across_two_processes_exactly_10_succeed(
    two_servers: tuple[Serve, Serve],
) -> None:
    a, b = two_servers
    access = token(a.url)
    barrier = threading.Barrier(200)

    def one(i: int) -> int:
        barrier.wait()
        return locations((a, b)[i % 2].url, access).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=200) as pool:
        codes = list(pool.map(one, range(200)))
    assert codes.count(200) == 10, codes
    assert codes.count(429) == 190, codes
    # the shared journal saw every request, from both processes
    journal = requests.get(a.url + "/__mockserver/journal", timeout=5).json()["entries"]
    assert sum(1 for e in journal if e["path"] == LOCATIONS) == 200
    ids = [e["id"] for e in journal]
    assert ids == sorted(set(ids))


def test_dataset_changes_and_scenarios_are_shared(two_servers: tuple[Serve, Serve]) -> None:
    a, b = two_servers
    created = requests.post(
        a.url + "/__mockserver/scenario",
        json={"operation": f"GET {LOCATIONS}", "status": 503, "times": 1},
        timeout=5,
    )
    assert created.status_code == 201
    access = token(a.url)
    assert locations(b.url, access).status_code == 503
    assert locations(a.url, access).status_code == 200  # times: 1, counted across both
    assert requests.post(b.url + "/__mockserver/reset", timeout=5).status_code == 200
    assert requests.get(a.url + "/__mockserver/journal", timeout=5).json()["entries"] == []


def test_unreachable_redis_at_start_is_one_line_and_exit_2() -> None:
    port = free_port()
    served = Serve("--state", f"redis://127.0.0.1:{port}/0")
    assert served.proc.wait(timeout=30) == 2
    out = served.output()
    assert out.startswith("mockserver: error: ")
    assert f"127.0.0.1:{port}" in out
    assert out.count("\n") == 1


def test_redis_lost_while_running_fails_closed_with_503() -> None:
    with running_redis() as url:
        served = Serve("--state", url).wait()
        access = token(served.url)
        assert locations(served.url, access).status_code == 200
    try:
        resp = locations(served.url, access)
        assert resp.status_code == 503
        assert resp.headers["Retry-After"] == "1"
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert "unreachable" in resp.json()["detail"]
    finally:
        served.stop()


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_workers_share_a_private_redis_and_stop_it(server: str) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    served = Serve("--workers", "2", "--threads", "2", "--server", server).wait()
    try:
        # the private redis-server among serve's own processes (other tests may run theirs
        # meanwhile), and its folder, which holds its unix socket
        (redis_args,) = [
            args
            for pid in descendants(served.proc.pid)
            if "redis-server" in (args := Path(f"/proc/{pid}/cmdline").read_text())
        ]
        found = re.search(r"/\S*?mockserver-redis-[^/\s\x00]+", redis_args)
        assert found is not None, redis_args
        folder = Path(found.group(0))
        assert folder.parent == Path(tempfile.gettempdir()) and folder.is_dir()
        access = token(served.url)
        # new connections each time, spread over both workers
        codes = [locations(served.url, access).status_code for _ in range(30)]
        assert codes == [200] * 30
        journal = requests.get(served.url + "/__mockserver/journal", timeout=5).json()
        assert sum(1 for e in journal["entries"] if e["path"] == LOCATIONS) == 30
    finally:
        assert served.stop() == 0
    out = served.output()
    assert f"2 {server} worker(s), state: RedisStore" in out
    assert "mockserver stopped" in out
    assert not folder.exists()
    procs = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True)
    assert str(folder) not in procs.stdout


def test_workers_without_redis_server_refuse_with_a_reason(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    served = Serve("--workers", "2", env={"PATH": str(bin_dir)})
    assert served.proc.wait(timeout=30) == 2
    out = served.output()
    assert "--workers > 1 needs shared state" in out
    assert "--state redis://" in out


def test_workers_refuse_in_process_state() -> None:
    served = Serve("--workers", "2", "--state", "memory://")
    assert served.proc.wait(timeout=30) == 2
    assert "--workers > 1 needs shared state" in served.output()


def test_granian_workers_drop_on_purpose_and_ignore_header_like_variables() -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    # granian builds each WSGI environ from os.environ: a variable named like a header
    # must not read as one the client sent (here it would drop every request)
    served = Serve(
        "--workers", "2", "--threads", "1", "--server", "granian",
        env={"HTTP_PREFER": "fault=drop"},
    ).wait()  # fmt: skip
    try:
        access = token(served.url)
        assert locations(served.url, access).status_code == 200
        with pytest.raises(requests.exceptions.RequestException):
            requests.get(
                served.url + LOCATIONS,
                params=QUERY,
                headers={"Authorization": f"Bearer {access}", "Prefer": "fault=drop"},
                timeout=5,
            )
        assert locations(served.url, access).status_code == 200
    finally:
        assert served.stop() == 0


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_workers_refuse_a_port_in_use_in_one_line(server: str) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(port),
             "--workers", "2", "--server", server],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "COLUMNS": "120"},
        )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_master_killed_with_sigkill_leaves_no_process_behind(server: str) -> None:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    served = Serve("--workers", "2", "--server", server).wait()
    token(served.url)  # a worker answers; the other may still be starting
    deadline = time.monotonic() + 15
    children = descendants(served.proc.pid)
    while len(children) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
        children = descendants(served.proc.pid)
    assert len(children) >= 3, children  # two workers and the private redis-server
    os.kill(served.proc.pid, signal.SIGKILL)
    served.proc.wait(timeout=10)
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)], "left behind after kill -9"


def test_granian_not_installed_is_one_line_with_the_install_command(tmp_path: Path) -> None:
    shadow = tmp_path / "granian"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('not installed here')\n")
    served = Serve(
        "--workers", "2", "--server", "granian", env={"PYTHONPATH": str(tmp_path)}
    )  # fmt: skip
    assert served.proc.wait(timeout=30) == 2
    out = served.output()
    assert "--server granian needs granian: pip install 'mockserver[granian]'" in out
    assert "Traceback" not in out
