"""Soak test: N concurrent clients for T seconds against a real ``mockserver serve``.

Bounded and loopback-only. Passes (exit 0) when, over the whole run:

- no answer is a 5xx (and no request fails at the socket);
- RSS after warm-up grows by less than 10 %;
- open file descriptors and threads stay steady (the spread after warm-up is small);
- the journal never holds more than its cap.

    python benchmarks/soak.py                      # 50 clients, 60 s, the travel contract
    python benchmarks/soak.py --clients 10 --seconds 15 --json soak.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_stats(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {
        "rss_kib": int(fields["VmRSS"].split()[0]),
        "threads": int(fields["Threads"]),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
    }


class Client(threading.Thread):
    """One user: gets a token, lists pages, reads items, makes mistakes."""

    def __init__(self, base: str, deadline: float, seed: int) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.statuses: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.session = requests.Session()

    def run(self) -> None:
        token = None
        while time.monotonic() < self.deadline:
            try:
                if token is None or self.rng.random() < 0.02:
                    resp = self.session.post(
                        f"{self.base}/v1/security/oauth2/token",
                        timeout=10,
                        data={
                            "grant_type": "client_credentials",
                            "client_id": "soak",
                            "client_secret": "soak",
                        },
                    )
                    self.statuses[resp.status_code] += 1
                    token = resp.json().get("access_token")
                    continue
                auth = {"Authorization": f"Bearer {token}"}
                pick = self.rng.random()
                if pick < 0.5:
                    offset = self.rng.randrange(0, 45, 5)
                    resp = self.session.get(
                        f"{self.base}/v1/reference-data/locations",
                        headers=auth,
                        timeout=10,
                        params={
                            "subType": "AIRPORT",
                            "keyword": "LON",
                            "page[limit]": "5",
                            "page[offset]": str(offset),
                        },
                    )
                elif pick < 0.7:
                    resp = self.session.get(
                        f"{self.base}/v1/reference-data/locations/X{self.rng.randrange(1000)}",
                        headers=auth,
                        timeout=10,
                    )
                elif pick < 0.85:
                    resp = self.session.get(
                        f"{self.base}/v2/shopping/flight-offers",
                        headers=auth,
                        timeout=10,
                        params={
                            "originLocationCode": "MAD",
                            "destinationLocationCode": "ATH",
                            "departureDate": "2026-12-01",
                            "adults": "1",
                        },
                    )
                elif pick < 0.95:
                    # invalid on purpose: missing required keyword
                    resp = self.session.get(
                        f"{self.base}/v1/reference-data/locations",
                        headers=auth,
                        timeout=10,
                        params={"subType": "AIRPORT"},
                    )
                else:
                    resp = self.session.get(f"{self.base}/no/such/path", timeout=10)
                self.statuses[resp.status_code] += 1
            except requests.RequestException as exc:
                self.errors[type(exc).__name__] += 1


def run(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "mockserver.yaml"
        config.write_text(f"journal_size: {args.journal_size}\n")
        # a file, not a pipe: nobody reads a pipe during the run and a full one blocks
        log = (Path(tmp) / "server.log").open("w")
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockserver",
                "serve",
                str(args.contract),
                "--port",
                str(port),
                "--config",
                str(config),
            ],
            stdout=log,
            stderr=log,
            text=True,
        )
        try:
            for _ in range(200):
                try:
                    requests.get(f"{base}/__mockserver/health", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            started = time.monotonic()
            deadline = started + args.warmup + args.seconds
            clients = [Client(base, deadline, seed) for seed in range(args.clients)]
            for c in clients:
                c.start()
            time.sleep(args.warmup)
            samples = []
            journal_max = 0
            while time.monotonic() < deadline:
                samples.append(proc_stats(server.pid))
                entries = requests.get(f"{base}/__mockserver/journal", timeout=10).json()
                journal_max = max(journal_max, len(entries["entries"]))
                time.sleep(args.interval)
            for c in clients:
                c.join(timeout=30)
            samples.append(proc_stats(server.pid))
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
    statuses: Counter[int] = Counter()
    errors: Counter[str] = Counter()
    for c in clients:
        statuses.update(c.statuses)
        errors.update(c.errors)
    rss = [s["rss_kib"] for s in samples]
    fds = [s["fds"] for s in samples]
    threads = [s["threads"] for s in samples]
    total = sum(statuses.values())
    result = {
        "clients": args.clients,
        "seconds": args.seconds,
        "requests": total,
        "requests_per_second": round(total / (args.seconds + args.warmup), 1),
        "statuses": dict(sorted(statuses.items())),
        "socket_errors": dict(errors),
        "server_errors": sum(n for code, n in statuses.items() if code >= 500),
        "rss_kib_after_warmup": rss[0],
        "rss_kib_end": rss[-1],
        "rss_growth_pct": round(100 * (rss[-1] - rss[0]) / rss[0], 2),
        "rss_kib_median": statistics.median(rss),
        "fds_min_max": [min(fds), max(fds)],
        "threads_min_max": [min(threads), max(threads)],
        "journal_cap": args.journal_size,
        "journal_max_seen": journal_max,
    }
    checks = {
        "no 5xx": result["server_errors"] == 0,
        "no socket errors": not errors,
        "RSS growth < 10%": result["rss_growth_pct"] < 10,
        "fds steady": max(fds) - min(fds) <= 10,
        "threads steady": max(threads) - min(threads) <= 10,
        "journal within cap": journal_max <= args.journal_size,
    }
    result["checks"] = checks
    result["passed"] = all(checks.values())
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contract", type=Path, default=ROOT / "contracts" / "travel")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=10)
    parser.add_argument("--interval", type=float, default=2)
    parser.add_argument("--journal-size", type=int, default=500)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args()
    if args.clients > 200 or args.seconds > 600:
        parser.error("bounded: at most 200 clients and 600 seconds")
    result = run(args)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
