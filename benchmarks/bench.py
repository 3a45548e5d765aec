"""Load benchmarks: mockserver side by side with Prism and a bare Flask app, in one run.

    python benchmarks/bench.py                  # the README's table (about 10 minutes)
    python benchmarks/bench.py --quick          # 1 round, 3 s loads: a smoke run

Every server is up for the whole run and they are loaded in turn (mock, flask, prism,
mock, ...), so a slow phase of the machine hits all of them alike; each figure is the
median over ``--rounds``. Load comes from ``wrk`` (Debian's package) with a fixed number
of connections and a fixed duration, only ever at 127.0.0.1. Prism comes from
``benchmarks/node_modules`` (``npm ci`` here installs the pinned version).

Measured:
- ``get``: a validated, authenticated, paginated GET (travel API, Bearer token, 5 of 42
  locations); the bare Flask app answers the same bytes without doing anything.
- ``token``: token issuance (client_credentials, form body).
- ``replay-10`` / ``replay-10000``: cassette replay with 10 and 10,000 recorded
  interactions (when ``serve --cassettes`` exists).
- start-up to the first answer of an API path: the travel contract and Stripe's.
- RSS of the single mock worker under load (travel and Stripe).

Results go to ``benchmarks/results.json`` and the table to ``benchmarks/results.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TRAVEL = ROOT / "contracts" / "travel" / "openapi.yaml"
STRIPE = ROOT.parent / "shared" / "contracts-external" / "stripe-spec3.json"
PRISM = HERE / "node_modules" / ".bin" / "prism"
TOKEN_PATH = "/v1/security/oauth2/token"
GET_PATH = "/v1/reference-data/locations"
GET_QUERY = "subType=AIRPORT&keyword=LON&page%5Blimit%5D=5"
TOKEN_FORM = "grant_type=client_credentials&client_id=demo&client_secret=demo"
STRIPE_GET = "/v1/customers?limit=3"
STRIPE_AUTH = "Bearer sk_test_benchmark"
# Prism resolves Stripe's contract for minutes, if ever: give up after this many seconds.
PRISM_STRIPE_LIMIT = 60.0
_PRISM_FAILED: set[Path] = set()  # contracts Prism did not load within its limit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process under test."""

    name: str
    argv: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, logdir: Path) -> Server:
        self.log = logdir / f"{self.name}-{self.port}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                cwd=ROOT,
                start_new_session=True,
            )
        return self

    def wait(self, path: str, headers: dict[str, str] | None = None, limit: float = 60) -> float:
        """Seconds from now until ``path`` answers (any HTTP status)."""
        assert self.proc is not None
        started = time.monotonic()
        while time.monotonic() - started < limit:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited; see {self.log}")
            try:
                requests.get(self.url + path, headers=headers, timeout=(2, limit))
                return time.monotonic() - started
            except requests.ConnectionError:
                time.sleep(0.005)
        raise RuntimeError(f"{self.name} did not answer {path} within {limit} s; see {self.log}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # The whole session: gunicorn's workers, a private redis-server, node's children.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def pids(self) -> list[int]:
        """This server's process and its descendants (workers, a private redis-server)."""
        assert self.proc is not None
        found = [self.proc.pid]
        for parent in found:  # grows while iterating: breadth-first over the tree
            out = subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(parent)],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.split()
            found.extend(int(p) for p in out if int(p) not in found)
        return found

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's whole process tree."""
        total = 0.0
        for pid in self.pids():
            with contextlib.suppress(OSError):
                with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return total


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def worker_rss(server: Server) -> float:
    """RSS of the process that serves: the single gunicorn worker, else the server."""
    pids = server.pids()
    return rss_mib(pids[-1])


@dataclass
class Load:
    """One wrk run's figures."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    non2xx: int
    requests: int = 0
    cpu_us: float = 0.0  # server CPU per request (its whole process tree)


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    if m is None:
        raise ValueError(f"unexpected latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(
    url: str,
    duration: float,
    connections: int,
    headers: dict[str, str] | None = None,
    post_form: str | None = None,
    threads: int = 1,
) -> Load:
    """``wrk`` against ``url`` (loopback only), parsed."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("load only ever goes to 127.0.0.1")
    argv = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{round(duration)}s",
        "--latency",
        "--timeout",
        "5s",
    ]
    env = dict(os.environ)
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    if post_form is not None:
        argv += ["-s", str(HERE / "wrk" / "post_form.lua")]
        env["WRK_BODY"] = post_form
    argv.append(url)
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, env=env, timeout=duration + 30
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    errors = sum(
        int(n)
        for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)  # socket errors
    )
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = re.search(r"(\d+) requests in", out)
    return Load(
        rps, p50, p99, errors, int(m.group(1)) if m else 0, int(total.group(1)) if total else 0
    )


def measured(server: Server, url: str, *args: Any, **kwargs: Any) -> Load:
    """``wrk`` plus the server's CPU time per request over the run: a figure that holds
    when the machine is shared (requests per second drop when other work takes the cores;
    the CPU one request costs does not)."""
    before = server.cpu_seconds()
    load = wrk(url, *args, **kwargs)
    used = server.cpu_seconds() - before
    load.cpu_us = used / max(1, load.requests) * 1e6
    return load


def median_load(loads: list[Load]) -> dict[str, Any]:
    return {
        "rps": round(statistics.median(x.rps for x in loads), 1),
        "p50_ms": round(statistics.median(x.p50_ms for x in loads), 2),
        "p99_ms": round(statistics.median(x.p99_ms for x in loads), 2),
        "errors": sum(x.errors for x in loads),
        "non2xx": sum(x.non2xx for x in loads),
        "rounds": [round(x.rps, 1) for x in loads],
        "cpu_us_per_request": round(statistics.median(x.cpu_us for x in loads), 1),
    }


# -- servers -------------------------------------------------------------------------------


def mock_server(
    contract: Path,
    workers: int,
    threads: int,
    extra: list[str] | None = None,
    server: str = "gunicorn",
) -> Server:
    port = free_port()
    argv = [sys.executable, "-m", "mockserver", "serve", str(contract), "--port", str(port)]
    argv += ["--workers", str(workers), "--threads", str(threads), "--server", server]
    name = "mockserver" if server == "gunicorn" else f"mockserver-{server}"
    return Server(name, [*argv, *(extra or [])], port, env={"COLUMNS": "120"})


def flask_server(
    bodies: Path, workers: int, threads: int, server: str = "gunicorn", plain: bool = False
) -> Server:
    """The bare Flask app (or, ``plain``, a plain WSGI callable) answering ``bodies``."""
    port = free_port()
    argv = [sys.executable, str(HERE / "bare_flask.py"), "--port", str(port)]
    argv += ["--workers", str(workers), "--threads", str(threads), "--bodies", str(bodies)]
    argv += ["--server", server, *(["--plain"] if plain else [])]
    name = "wsgi" if plain else "flask"
    return Server(name if server == "gunicorn" else f"{name}-{server}", argv, port)


def prism_server(contract: Path) -> Server:
    port = free_port()
    argv = [str(PRISM), "mock", str(contract), "-p", str(port), "--errors", "-v", "error"]
    return Server("prism", argv, port)


def token_for(base: str) -> str:
    resp = requests.post(
        base + TOKEN_PATH,
        data=dict(kv.split("=") for kv in TOKEN_FORM.split("&")),
        timeout=10,
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


@contextlib.contextmanager
def running(servers: list[Server], logdir: Path) -> Iterator[None]:
    try:
        for s in servers:
            s.start(logdir)
        yield
    finally:
        for s in servers:
            s.stop()


# -- the run -------------------------------------------------------------------------------


def throughput(args: argparse.Namespace, logdir: Path, results: dict[str, Any]) -> None:
    """The validated GET and token issuance: mockserver and the bare Flask app under each
    of ``args.servers`` (the same settings for both), and Prism, up together and loaded
    in turn."""
    mocks = [mock_server(TRAVEL, args.workers, args.threads, server=k) for k in args.servers]
    with running(mocks, logdir):
        for mock in mocks:
            mock.wait("/__mockserver/health")
        first = mocks[0]
        auths = {m.name: {"Authorization": f"Bearer {token_for(m.url)}"} for m in mocks}
        auth = auths[first.name]
        got = requests.get(f"{first.url}{GET_PATH}?{GET_QUERY}", headers=auth, timeout=10)
        issued = requests.post(
            first.url + TOKEN_PATH,
            data=TOKEN_FORM,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=10,
        )
        assert got.status_code == 200 and issued.status_code == 200
        bodies = {
            f"GET {GET_PATH}": {
                "status": 200,
                "content_type": got.headers["Content-Type"],
                "body": got.text,
            },
            f"POST {TOKEN_PATH}": {
                "status": 200,
                "content_type": issued.headers["Content-Type"],
                "body": issued.text,
            },
        }
        bodies_file = logdir / "bodies.json"
        bodies_file.write_text(json.dumps(bodies))
        flasks = [
            flask_server(bodies_file, args.workers, args.threads, k, plain)
            for plain in (False, True)
            for k in args.servers
        ]
        prism = prism_server(TRAVEL)
        with running([*flasks, prism], logdir):
            for flask in flasks:
                flask.wait(f"{GET_PATH}?{GET_QUERY}")
            prism.wait(f"{GET_PATH}?{GET_QUERY}", auth)
            servers = [*mocks, *flasks, prism]
            scenarios: list[tuple[str, str | None, str]] = [
                ("get", None, f"{GET_PATH}?{GET_QUERY}"),
                ("token", TOKEN_FORM, TOKEN_PATH),
            ]
            rss: list[float] = []
            for name, form, path in scenarios:

                def headers(s: Server, name: str = name) -> dict[str, str]:
                    # each mock's own token; Prism checks only that one is there
                    return auths.get(s.name, auth) if name == "get" else {}

                loads: dict[str, list[Load]] = {s.name: [] for s in servers}
                for _ in range(args.warmup_rounds):
                    for s in servers:
                        wrk(s.url + path, 2, args.connections, headers(s), form)
                for _ in range(args.rounds):
                    for s in servers:
                        loads[s.name].append(
                            measured(
                                s, s.url + path, args.duration, args.connections, headers(s), form
                            )
                        )
                        if s is first and args.workers == 1:
                            rss.append(worker_rss(first))
                results["throughput"][name] = {k: median_load(v) for k, v in loads.items()}
                print(f"{name}: " + json.dumps(results["throughput"][name]), flush=True)
            if rss:
                results["rss_mib"]["travel"] = round(max(rss), 1)
            results["rss_mib"]["prism-travel"] = round(worker_rss(prism), 1)


def write_cassette(path: Path, count: int, body: str, item_id: str, content_type: str) -> str:
    """A vcrpy JSON cassette of ``count`` item reads; returns the path of the last one."""
    interactions = []
    for i in range(count):
        new_id = f"BX{i:05d}"
        interactions.append(
            {
                "request": {
                    "body": None,
                    "headers": {},
                    "method": "GET",
                    "uri": f"https://test.api.amadeus.com{GET_PATH}/{new_id}",
                },
                "response": {
                    "status": {"code": 200, "message": "OK"},
                    "headers": {"Content-Type": [content_type]},
                    "body": {"string": body.replace(item_id, new_id)},
                },
            }
        )
    path.write_text(json.dumps({"version": 1, "interactions": interactions}))
    return f"{GET_PATH}/BX{count - 1:05d}"


def replay(args: argparse.Namespace, logdir: Path, results: dict[str, Any]) -> None:
    """Cassette replay with 10 and 10,000 interactions, the same request (the last one)."""
    probe = mock_server(TRAVEL, 1, args.threads)
    with running([probe], logdir):
        probe.wait("/__mockserver/health")
        auth = {"Authorization": f"Bearer {token_for(probe.url)}"}
        first = requests.get(f"{probe.url}{GET_PATH}?{GET_QUERY}", headers=auth, timeout=10)
        item_id = str(first.json()["data"][0]["id"])
        item = requests.get(f"{probe.url}{GET_PATH}/{item_id}", headers=auth, timeout=10)
        assert item.status_code == 200, item.text
    servers: dict[str, tuple[Server, str]] = {}
    for count in (10, 10_000):
        cassette = logdir / f"replay-{count}.json"
        target = write_cassette(cassette, count, item.text, item_id, item.headers["Content-Type"])
        server = mock_server(TRAVEL, args.workers, args.threads, ["--cassettes", str(cassette)])
        servers[f"replay-{count}"] = (server, target)
    with running([s for s, _ in servers.values()], logdir):
        tokens = {}
        for name, (server, target) in servers.items():
            server.wait("/__mockserver/health", limit=120)
            tokens[name] = {"Authorization": f"Bearer {token_for(server.url)}"}
            check = requests.get(server.url + target, headers=tokens[name], timeout=10)
            assert check.status_code == 200 and "BX" in check.text, check.text[:300]
        loads: dict[str, list[Load]] = {name: [] for name in servers}
        for _ in range(args.warmup_rounds):
            for name, (server, target) in servers.items():
                wrk(server.url + target, 2, args.connections, tokens[name])
        for _ in range(args.rounds):
            for name, (server, target) in servers.items():
                loads[name].append(
                    measured(
                        server, server.url + target, args.duration, args.connections, tokens[name]
                    )
                )
        results["throughput"]["replay"] = {k: median_load(v) for k, v in loads.items()}
        print(f"replay: {json.dumps(results['throughput']['replay'])}", flush=True)


def startup(args: argparse.Namespace, logdir: Path, results: dict[str, Any]) -> None:
    cases: list[tuple[str, Path, str, dict[str, str]]] = [
        ("travel", TRAVEL, f"{GET_PATH}?{GET_QUERY}", {"Authorization": "Bearer x"}),
    ]
    if STRIPE.exists():
        # the first answer, and the first page of a collection (which synthesises the 42
        # customers of its dataset, Stripe's largest schema, on that first request)
        cases.append(("stripe", STRIPE, "/v1/balance", {"Authorization": STRIPE_AUTH}))
        cases.append(("stripe-list", STRIPE, STRIPE_GET, {"Authorization": STRIPE_AUTH}))
    for name, contract, path, headers in cases:
        timings: dict[str, list[float]] = {
            "mockserver": [],
            "mockserver-workers-1": [],
            "prism": [],
        }
        for _ in range(args.startup_rounds):
            port = free_port()
            single = Server(
                "mockserver",
                [sys.executable, "-m", "mockserver", "serve", str(contract), "--port", str(port)],
                port,
                env={"COLUMNS": "120"},
            )
            for key, server in (
                ("mockserver", single),
                ("mockserver-workers-1", mock_server(contract, 1, args.threads)),
                ("prism", prism_server(contract)),
            ):
                limit = PRISM_STRIPE_LIMIT if key == "prism" and contract == STRIPE else 120
                if key == "prism" and contract in _PRISM_FAILED:
                    timings[key].append(math.inf)  # it did not load this contract before
                    continue
                with running([server], logdir):
                    try:
                        timings[key].append(server.wait(path, headers, limit=limit))
                    except RuntimeError:
                        timings[key].append(math.inf)
                        if key == "prism":
                            _PRISM_FAILED.add(contract)
        medians = {k: statistics.median(v) for k, v in timings.items()}
        results["startup_s"][name] = {
            k: round(v, 2) if math.isfinite(v) else None for k, v in medians.items()
        }
        print(f"startup {name}: {results['startup_s'][name]}", flush=True)


def stripe_rss(args: argparse.Namespace, logdir: Path, results: dict[str, Any]) -> None:
    if not STRIPE.exists():
        return
    mock = mock_server(STRIPE, 1, args.threads)
    prism = prism_server(STRIPE)
    headers = {"Authorization": STRIPE_AUTH}
    with running([mock, prism], logdir):
        mock.wait(STRIPE_GET, headers, limit=120)
        servers = [mock]
        try:
            prism.wait(STRIPE_GET, headers, limit=PRISM_STRIPE_LIMIT)
            servers.append(prism)
        except RuntimeError as exc:  # Prism may not get through Stripe's contract at all
            _PRISM_FAILED.add(STRIPE)
            print(f"stripe: {exc}", flush=True)
            results["notes"].append(
                f"Prism did not answer on Stripe's contract within {PRISM_STRIPE_LIMIT:g} s"
            )
        loads: dict[str, list[Load]] = {s.name: [] for s in servers}
        rss: list[float] = []
        for _ in range(args.rounds):
            for s in servers:
                loads[s.name].append(
                    measured(s, s.url + STRIPE_GET, args.duration, args.connections, headers)
                )
            rss.append(worker_rss(mock))
        results["throughput"]["stripe-get"] = {k: median_load(v) for k, v in loads.items()}
        results["rss_mib"]["stripe"] = round(max(rss), 1)
        if prism in servers:
            results["rss_mib"]["prism-stripe"] = round(worker_rss(prism), 1)
        print(f"stripe: {results['throughput']['stripe-get']} rss {results['rss_mib']}", flush=True)


def _cell(load: dict[str, Any]) -> str:
    return f"{load['rps']:,.0f} (p99 {load['p99_ms']:.1f} ms)"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def render(results: dict[str, Any]) -> str:
    """The README's table from ``results.json``."""
    t = results["throughput"]
    st = results["settings"]
    lines = [
        "| measure | mockserver | bare Flask | Prism | mock / Prism | mock / Flask |",
        "|---|---|---|---|---|---|",
    ]
    titles = {
        "get": "validated, authenticated, paginated GET (req/s)",
        "token": "token issuance, client_credentials (req/s)",
    }
    kinds = st.get("servers", ["gunicorn"])
    for key, title in titles.items():
        row = t.get(key)
        if not row:
            continue
        p = row["prism"]
        for kind in kinds:
            suffix = "" if kind == "gunicorn" else f"-{kind}"
            m, f = row.get("mockserver" + suffix), row.get("flask" + suffix)
            if not m or not f:
                continue
            lines.append(
                f"| {title}, {kind} | {_cell(m)} | {_cell(f)} | {_cell(p)} | "
                f"{_ratio(m['rps'], p['rps'])} | {_ratio(m['rps'], f['rps'])} |"
            )
            lines.append(
                "| ... server CPU per request, µs (ratios: theirs / ours) | "
                f"{m['cpu_us_per_request']:.0f} | "
                f"{f['cpu_us_per_request']:.0f} | {p['cpu_us_per_request']:.0f} | "
                f"{_ratio(p['cpu_us_per_request'], m['cpu_us_per_request'])} | "
                f"{_ratio(f['cpu_us_per_request'], m['cpu_us_per_request'])} |"
            )
    for kind in kinds:
        suffix = "" if kind == "gunicorn" else f"-{kind}"
        get, plain = t.get("get", {}), t.get("get", {}).get("wsgi" + suffix)
        if plain:
            lines.append(
                f"| the server's ceiling: a plain WSGI app (no Flask) answering the same GET, "
                f"{kind} | - | {_cell(plain)} | {_cell(get['prism'])} | "
                f"{_ratio(plain['rps'], get['prism']['rps'])} (wsgi / Prism) | - |"
            )
    stripe = t.get("stripe-get")
    if stripe:
        m, p = stripe["mockserver"], stripe.get("prism")
        prism_cell = f"{p['rps']:,.0f} (p99 {p['p99_ms']:.1f} ms)" if p else "did not start"
        lines.append(
            f"| Stripe `GET /v1/customers?limit=3`, 1 worker (req/s) | {m['rps']:,.0f} "
            f"(p99 {m['p99_ms']:.1f} ms) | - | {prism_cell} | "
            f"{_ratio(m['rps'], p['rps']) if p else '-'} | - |"
        )
    replay = t.get("replay")
    if replay:
        small, large = replay["replay-10"], replay["replay-10000"]
        lines.append(
            f"| cassette replay, 10 / 10,000 interactions (req/s) | {small['rps']:,.0f} / "
            f"{large['rps']:,.0f} | - | - | - | 10,000 vs 10: "
            f"{_ratio(large['rps'], small['rps'])} |"
        )
    for name, label in (
        ("travel", "travel API (3 files), `GET /v1/reference-data/locations`"),
        ("stripe", "Stripe (4 MB JSON), `GET /v1/balance`"),
        ("stripe-list", "Stripe, first `GET /v1/customers` (seeds 42 customers)"),
    ):
        times = results["startup_s"].get(name)
        if times:
            prism_s = times["prism"]
            prism_cell = f"{prism_s:.2f}" if prism_s is not None else f"> {PRISM_STRIPE_LIMIT:g}"
            faster = f"{_ratio(prism_s, times['mockserver'])} faster" if prism_s else "-"
            lines.append(
                f"| start-up to first answer, {label} (s) | {times['mockserver']:.2f} "
                f"(`--workers 1`: {times['mockserver-workers-1']:.2f}) | - | {prism_cell} | "
                f"{faster} | - |"
            )
    rss = results["rss_mib"]
    if "travel" in rss or "stripe" in rss:
        lines.append(
            f"| RSS of the one worker under load, travel / Stripe (MiB) | "
            f"{rss.get('travel', '-')} / {rss.get('stripe', '-')} | - | "
            f"{rss.get('prism-travel', '-')} / {rss.get('prism-stripe', '-')} | - | - |"
        )
    mach = results["machine"]
    lines += [
        "",
        f"Medians of {st['rounds']} rounds of {st['duration']:g} s per server and measure, "
        f"wrk with 1 thread and {st['connections']} keep-alive connections; mockserver and "
        f"the bare Flask app under the same server settings ({st['workers']} workers x "
        f"{st['threads']} thread(s); gunicorn: gthread, SO_REUSEPORT; granian: WSGI, HTTP/1"
        + (", mockserver's state in its private redis-server" if st["workers"] > 1 else "")
        + f"); Prism {mach['prism']} (`prism mock --errors -v error`) on node "
        f"{mach['node']}. {mach['cores']} cores ({mach['cpu']}), Python {mach['python']}, "
        f"{mach['date']}; the load generator, the servers and Redis share those cores.",
    ]
    return "\n".join(lines) + "\n"


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    prism_version = ""
    with contextlib.suppress(OSError, ValueError):
        lock = json.loads((HERE / "package-lock.json").read_text())
        prism_version = lock["packages"]["node_modules/@stoplight/prism-cli"]["version"]
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "node": subprocess.run(["node", "-v"], capture_output=True, text=True).stdout.strip(),
        "prism": prism_version,
        "wrk": (wrk_version.stdout or wrk_version.stderr).split("\n")[0][:40],
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="workers (mock, flask)")
    parser.add_argument("--threads", type=int, default=1, help="threads per worker")
    parser.add_argument(
        "--servers",
        type=lambda v: v.split(","),
        default=["gunicorn", "granian"],
        help="comma-separated: the servers mock and Flask run under (gunicorn,granian)",
    )
    parser.add_argument("--warmup-rounds", type=int, default=1)
    parser.add_argument("--startup-rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 round of 3 s: a smoke run")
    parser.add_argument(
        "--only", choices=["throughput", "replay", "startup", "stripe"], default=None
    )
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--render", type=Path, help="only print the table of a results file")
    args = parser.parse_args()
    if args.render is not None:
        print(render(json.loads(args.render.read_text())), end="")
        return 0
    if args.quick:
        args.rounds, args.duration, args.startup_rounds = 1, 3.0, 1
    for tool in ("wrk", "node"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} is not installed (apt-get install {tool})", file=sys.stderr)
            return 2
    if not PRISM.exists():
        print("bench: Prism missing: (cd benchmarks && npm ci)", file=sys.stderr)
        return 2
    results: dict[str, Any] = {
        "settings": {
            k: getattr(args, k)
            for k in ("rounds", "duration", "connections", "workers", "threads", "servers")
        },
        "machine": machine(),
        "throughput": {},
        "startup_s": {},
        "rss_mib": {},
        "notes": [],
    }
    logdir = Path(tempfile.mkdtemp(prefix="mockserver-bench-"))
    print(f"bench: logs in {logdir}", flush=True)
    if args.only in (None, "throughput"):
        throughput(args, logdir, results)
    if args.only in (None, "replay"):
        replay(args, logdir, results)
    if args.only in (None, "stripe"):
        stripe_rss(args, logdir, results)
    if args.only in (None, "startup"):
        startup(args, logdir, results)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    table = render(results)
    args.out.with_suffix(".md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
