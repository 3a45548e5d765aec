"""Recording under pressure: many threads, two recorders, and kill -9 at random moments."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from mockserver.cassettes.format import cassette_files, load_cassette
from mockserver.cli.record import RecordingServer
from tests.cassettes.upstream import upstream

ROOT = Path(__file__).resolve().parents[2]


def test_eight_threads_times_fifty_requests_record_exactly_400(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    with upstream() as up, RecordingServer(up, folder) as rec:

        def worker(t: int) -> list[int]:
            with requests.Session() as s:
                return [
                    s.get(f"{rec.url}/api/items", params={"t": t, "n": n}, timeout=30).status_code
                    for n in range(50)
                ]

        with ThreadPoolExecutor(8) as pool:
            statuses = [code for codes in pool.map(worker, range(8)) for code in codes]
    assert statuses == [200] * 400
    cassette = load_cassette(folder / "get_api_items.yaml")
    assert len(cassette.interactions) == 400
    seen = sorted(i.uri.split("?", 1)[1] for i in cassette.interactions)
    assert seen == sorted(f"t={t}&n={n}" for t in range(8) for n in range(50))


def test_two_recorders_on_one_folder_lose_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "cassettes"
    with upstream() as up, RecordingServer(up, folder) as a, RecordingServer(up, folder) as b:

        def worker(args: tuple[str, int]) -> None:
            url, t = args
            with requests.Session() as s:
                for n in range(25):
                    assert s.get(f"{url}/api/items", params={"t": t, "n": n}, timeout=30).ok

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(worker, [(a.url, 0), (b.url, 1), (a.url, 2), (b.url, 3)]))
    cassette = load_cassette(folder / "get_api_items.yaml")
    assert len(cassette.interactions) == 100
    assert len({i.uri for i in cassette.interactions}) == 100


def _start_recorder(upstream_url: str, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockserver",
            "record",
            "--upstream",
            upstream_url,
            "--cassettes",
            str(folder),
            "--port",
            "0",
            "--mode",
            "new_episodes",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline().decode()
    match = re.search(r" on (http://127\.0\.0\.1:\d+) ", line)
    assert match, f"recorder did not start: {line!r}"
    return proc, match.group(1)


def test_kill_9_twenty_times_leaves_every_cassette_loadable(tmp_path: Path) -> None:
    # Given recorders killed with SIGKILL at random moments while 4 clients record
    folder = tmp_path / "cassettes"
    rng = random.Random(4)
    kills = 0
    lanes = 2  # recorders alive at once (they share the folder, and its lock)
    answered = 0
    lock = threading.Lock()
    with upstream() as up:

        def lane(lane_id: int) -> None:
            nonlocal kills, answered
            for round_ in range(10):
                proc, url = _start_recorder(up, folder)
                stop = threading.Event()

                def client(
                    c: int, url: str = url, stop: threading.Event = stop, round_: int = round_
                ) -> None:
                    nonlocal answered
                    with requests.Session() as s:
                        n = 0
                        while not stop.is_set():
                            n += 1
                            try:
                                r = s.get(
                                    f"{url}/api/items/{c % 3}",
                                    params={"lane": lane_id, "round": round_, "c": c, "n": n},
                                    timeout=5,
                                )
                            except requests.RequestException:
                                return
                            if r.ok:
                                with lock:
                                    answered += 1

                clients = [threading.Thread(target=client, args=(c,)) for c in range(4)]
                for t in clients:
                    t.start()
                time.sleep(rng.uniform(0.05, 0.4))
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                stop.set()
                for t in clients:
                    t.join(timeout=10)
                with lock:
                    kills += 1

        threads = [threading.Thread(target=lane, args=(i,)) for i in range(lanes)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    # Then every cassette still loads, and holds what the clients were answered (or more)
    assert kills == 20
    files = cassette_files([folder])
    assert files, "nothing was recorded"
    total = 0
    for file in files:
        total += len(load_cassette(file).interactions)
    assert total >= answered > 0
