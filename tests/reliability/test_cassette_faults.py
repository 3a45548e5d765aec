"""Cassettes that are broken, hostile, or written while things fail: exact errors, and
nothing on disk is lost or written where it must not be."""

from __future__ import annotations

import contextlib
import errno
import gzip
import os
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from mockserver import MockServer
from mockserver.cassettes import store as store_module
from mockserver.cassettes.format import Cassette, Interaction, dump_cassette, load_cassette
from mockserver.cassettes.store import CassetteStore
from mockserver.cli.record import RecordingServer
from mockserver.errors import CassetteError
from mockserver.http import Headers

ONE = (
    "interactions:\n"
    "- request:\n"
    "    body: null\n"
    "    headers: {}\n"
    "    method: GET\n"
    "    uri: http://upstream.test/a\n"
    "  response:\n"
    "    body: {string: ok}\n"
    "    headers: {Content-Type: [text/plain]}\n"
    "    status: {code: 200, message: OK}\n"
)

BROKEN = [
    ("truncated", "cut.yaml", ONE[:-40], r"line \d+, column \d+: invalid YAML"),
    ("wrong-version", "v2.yaml", ONE + "version: 2\n", r"/version: cassette format version 2"),
    (
        "ruby-vcr-missing-fields",
        "ruby.yaml",
        "http_interactions:\n- request: {method: get}\n"
        "  response: {status: {code: '200', message: OK}}\nrecorded_with: VCR 6.0\n",
        r"/http_interactions/0/request: expected 'method' and 'uri'",
    ),
]


def serve_cassettes(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--cassettes", str(folder), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


@pytest.mark.parametrize(("case", "name", "text", "where"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_cassette_raises_located_error(
    tmp_path: Path, case: str, name: str, text: str, where: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(CassetteError) as info:
        load_cassette(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert str(path) in line
    assert re.search(where, line), line


@pytest.mark.parametrize(("case", "name", "text", "where"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_cassette_serve_exits_2_with_one_line(
    tmp_path: Path, case: str, name: str, text: str, where: str
) -> None:
    (tmp_path / "good.yaml").write_text(ONE + "version: 1\n")
    (tmp_path / name).write_text(text)
    result = serve_cassettes(tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    assert len(lines) == 1, lines
    assert str(tmp_path / name) in lines[0]
    assert "Traceback" not in result.stderr


def test_binary_gzip_body_replays_byte_for_byte(tmp_path: Path) -> None:
    payload = gzip.compress(bytes(range(256)) * 64, mtime=0)
    interaction = Interaction(
        method="GET",
        uri="http://upstream.test/v1/blob",
        request_headers=Headers(),
        request_body=None,
        status=200,
        reason="OK",
        response_headers=Headers([("Content-Type", "application/gzip")]),
        response_body=payload,
    )
    path = tmp_path / "blob.yaml"
    path.write_text(dump_cassette(Cassette(path, [interaction])))
    assert load_cassette(path).interactions[0].response_body == payload
    with MockServer(cassettes=tmp_path) as mock:
        r = requests.get(mock.url + "/v1/blob", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/gzip"
    assert r.content == payload


@pytest.fixture
def upstream_app() -> object:
    """A local upstream on a free port; ``stop()`` makes it go away."""

    @Request.application
    def app(request: Request) -> Response:
        return Response(f'{{"path": "{request.path}"}}', content_type="application/json")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    class Up:
        url = f"http://127.0.0.1:{server.server_port}"

        @staticmethod
        def stop() -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

    yield Up
    if thread.is_alive():
        Up.stop()


@pytest.mark.parametrize("how", ["admin", "header"])
def test_dotdot_cassette_name_stays_inside_the_folder(
    tmp_path: Path, upstream_app: object, how: str
) -> None:
    folder = tmp_path / "inside" / "cassettes"
    before = set(tmp_path.rglob("*"))
    evil = "../../../escaped/../../x"
    with RecordingServer(upstream_app.url, folder) as rec:  # type: ignore[attr-defined]
        headers = {}
        if how == "admin":
            r = requests.post(f"{rec.url}/__mockserver/cassette", json={"name": evil}, timeout=5)
            assert r.status_code == 200
            assert ".." not in r.json()["cassette"]
        else:
            headers = {"X-Mockserver-Cassette": evil}
        r = requests.get(f"{rec.url}/a", headers=headers, timeout=5)
        assert r.status_code == 200
    created = set(tmp_path.rglob("*")) - before
    # only the cassette folder, its parents, and files inside it appear
    outside = [p for p in created if folder not in p.parents and p not in (folder, *folder.parents)]
    assert outside == []
    assert not list(tmp_path.parent.glob("escaped*")) and not list(tmp_path.glob("x.yaml"))
    written = list(folder.rglob("*.yaml"))
    assert len(written) == 1
    assert written[0].resolve().is_relative_to(folder.resolve())
    assert len(load_cassette(written[0]).interactions) == 1


def test_upstream_dies_between_requests(tmp_path: Path, upstream_app: object) -> None:
    folder = tmp_path / "cassettes"
    with RecordingServer(upstream_app.url, folder) as rec:  # type: ignore[attr-defined]
        requests.post(f"{rec.url}/__mockserver/cassette", json={"name": "run"}, timeout=5)
        for i in range(3):
            assert requests.get(f"{rec.url}/ok/{i}", timeout=5).status_code == 200
        upstream_app.stop()  # type: ignore[attr-defined]
        r = requests.get(f"{rec.url}/after", timeout=15)
    assert r.status_code in (502, 504)
    assert r.headers["Content-Type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == r.status_code
    assert body["title"] in ("Bad Gateway", "Gateway Timeout")
    cassette = load_cassette(folder / "run.yaml")
    assert [i.uri.rsplit("/", 2)[-2:] for i in cassette.interactions] == [
        ["ok", "0"],
        ["ok", "1"],
        ["ok", "2"],
    ]


def test_disk_full_while_saving_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CassetteStore(tmp_path)
    path = store.path_for("full")

    def item(n: int) -> Interaction:
        return Interaction(
            "GET", f"http://u.test/{n}", Headers(), None, 200, "OK", Headers(), b"x" * 10
        )

    store.append(path, item(0))
    store.append(path, item(1))
    before = path.read_bytes()

    def enospc(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store_module.os, "fsync", enospc)
    with pytest.raises(OSError) as info:
        store.append(path, item(2))
    assert info.value.errno == errno.ENOSPC
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [i.uri for i in load_cassette(path).interactions] == [
        "http://u.test/0",
        "http://u.test/1",
    ]
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    # the failed interaction is not lost: the next successful save writes it too
    store.append(path, item(3))
    assert [i.uri[-1] for i in load_cassette(path).interactions] == ["0", "1", "2", "3"]


@pytest.mark.parametrize("how", ["closed-before-answer", "half-an-answer"])
def test_upstream_dies_in_flight(tmp_path: Path, how: str) -> None:
    """A raw upstream that answers /ok/* and drops the connection mid-exchange on /die."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                with conn:
                    head = b""
                    while b"\r\n\r\n" not in head:
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        head += chunk
                    if b" /die" in head.split(b"\r\n", 1)[0]:
                        if how == "half-an-answer":
                            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc")
                        continue  # closed without the rest
                    body = b'{"ok": true}'
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
                    )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    folder = tmp_path / "cassettes"
    try:
        with RecordingServer(f"http://127.0.0.1:{port}", folder) as rec:
            requests.post(f"{rec.url}/__mockserver/cassette", json={"name": "run"}, timeout=5)
            for i in range(2):
                assert requests.get(f"{rec.url}/ok/{i}", timeout=5).status_code == 200
            r = requests.get(f"{rec.url}/die", timeout=15)
    finally:
        listener.close()
    assert r.status_code in (502, 504), r.text
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json()["status"] == r.status_code
    assert "Traceback" not in r.text
    cassette = load_cassette(folder / "run.yaml")
    assert [i.uri.rsplit("/", 1)[-1] for i in cassette.interactions] == ["0", "1"]


def test_disk_full_through_the_recorder_is_reported(
    tmp_path: Path,
    upstream_app: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "cassettes"
    with RecordingServer(upstream_app.url, folder) as rec:  # type: ignore[attr-defined]
        requests.post(f"{rec.url}/__mockserver/cassette", json={"name": "run"}, timeout=5)
        assert requests.get(f"{rec.url}/ok/0", timeout=5).status_code == 200
        before = (folder / "run.yaml").read_bytes()

        def enospc(_fd: int) -> None:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(store_module.os, "fsync", enospc)
        r = requests.get(f"{rec.url}/ok/1", timeout=5)
        monkeypatch.undo()
    assert r.status_code == 500
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json() == {
        "type": "about:blank",
        "title": "Recording proxy error",
        "status": 500,
        "detail": "see the recorder's log",
    }
    assert "No space left on device" in caplog.text
    assert (folder / "run.yaml").read_bytes() == before
    assert [i.uri.rsplit("/", 1)[-1] for i in load_cassette(folder / "run.yaml").interactions] == [
        "0"
    ]
