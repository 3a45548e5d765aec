"""The recording proxy on a real port: one upstream only, redirects passed back, modes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mockserver.cassettes.format import cassette_files, load_cassette
from mockserver.cli.record import RecordingServer


@contextmanager
def _upstream(seen: list[str]) -> Iterator[str]:
    @Request.application
    def app(request: Request) -> Response:
        seen.append(request.full_path.rstrip("?"))
        if request.path == "/away":
            return Response("", status=302, headers={"Location": "http://elsewhere.invalid/x"})
        if request.path == "/gz":
            import gzip

            return Response(
                gzip.compress(b'{"zipped": true}'),
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
        return Response(f'{{"path": "{request.path}", "self": "{request.host_url}x"}}')

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def _raw(url: str, request_line: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"{request_line}\r\nHost: evil.invalid\r\nConnection: close\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_only_the_upstream_is_ever_reached(tmp_path: Path) -> None:
    seen: list[str] = []
    with _upstream(seen) as up, RecordingServer(up, tmp_path) as rec:
        # an absolute URI and a foreign Host header still go to the one upstream
        answer = _raw(rec.url, "GET http://evil.invalid/steal?x=1 HTTP/1.1")
        assert answer.startswith(b"HTTP/1.1 200")
        assert seen == ["/steal?x=1"]
        assert _raw(rec.url, "CONNECT evil.invalid:443 HTTP/1.1").startswith(b"HTTP/1.1 405")
        # a redirect off the upstream goes back to the client, unfollowed
        r = requests.get(f"{rec.url}/away", allow_redirects=False, timeout=10)
        assert (r.status_code, r.headers["Location"]) == (302, "http://elsewhere.invalid/x")
        assert seen == ["/steal?x=1", "/away"]
        # the upstream's own absolute URLs point the client back at the proxy
        assert requests.get(f"{rec.url}/links", timeout=10).json()["self"] == f"{rec.url}/x"
    recorded = load_cassette(tmp_path / "get_steal.yaml").interactions[0]
    assert recorded.uri == f"{up}/steal?x=1"
    assert recorded.request_headers.get("Host") == up.removeprefix("http://")
    assert load_cassette(tmp_path / "get_away.yaml").interactions[0].status == 302
    assert (
        f'"self": "{up}/x"'
        in load_cassette(tmp_path / "get_links.yaml").interactions[0].response_body.decode()
    )


def test_compressed_answers_are_recorded_decoded(tmp_path: Path) -> None:
    with _upstream([]) as up, RecordingServer(up, tmp_path) as rec:
        r = requests.get(f"{rec.url}/gz", timeout=10)
        assert r.json() == {"zipped": True}
    (recorded,) = load_cassette(tmp_path / "get_gz.yaml").interactions
    assert recorded.response_body == b'{"zipped": true}'
    assert "Content-Encoding" not in recorded.response_headers


def test_an_upstream_that_is_down_is_a_502_and_nothing_is_recorded(tmp_path: Path) -> None:
    with _upstream([]) as up:
        pass  # stopped: the port refuses connections now
    with RecordingServer(up, tmp_path) as rec:
        r = requests.get(f"{rec.url}/x", timeout=10)
    assert r.status_code == 502 and r.headers["Content-Type"] == "application/problem+json"
    assert cassette_files([tmp_path]) == []


def test_once_replays_without_the_upstream_and_refuses_what_it_lacks(tmp_path: Path) -> None:
    with _upstream([]) as up, RecordingServer(up, tmp_path) as rec:
        assert requests.get(f"{rec.url}/a", timeout=10).ok
    with RecordingServer(up, tmp_path, mode="once") as rec:  # the upstream is gone
        again = requests.get(f"{rec.url}/a", timeout=10)
        assert again.json()["path"] == "/a"
        assert again.json()["self"] == f"{rec.url}/x"
        refused = requests.get(f"{rec.url}/a", params={"other": 1}, timeout=10)
        assert refused.status_code == 404
        assert "record mode 'once'" in refused.json()["detail"]


def test_the_pytest_plugin_can_name_the_cassette(tmp_path: Path) -> None:
    with _upstream([]) as up, RecordingServer(up, tmp_path) as rec:
        assert requests.post(
            f"{rec.url}/__mockserver/cassette", json={"name": "tests/test_login"}, timeout=10
        ).json() == {"cassette": "tests/test_login"}
        requests.get(f"{rec.url}/a", timeout=10)
        requests.get(f"{rec.url}/b", timeout=10)
        requests.delete(f"{rec.url}/__mockserver/cassette", timeout=10)
        requests.get(f"{rec.url}/c", headers={"X-Mockserver-Cassette": "one-off"}, timeout=10)
        health = requests.get(f"{rec.url}/__mockserver/health", timeout=10).json()
        assert health["role"] == "recorder" and health["mode"] == "once"
        rec.use_cassette("via-python")
        requests.get(f"{rec.url}/d", timeout=10)
    assert len(load_cassette(tmp_path / "tests" / "test_login.yaml").interactions) == 2
    (one_off,) = load_cassette(tmp_path / "one-off.yaml").interactions
    assert "X-Mockserver-Cassette" not in one_off.request_headers
    assert len(load_cassette(tmp_path / "via-python.yaml").interactions) == 1
