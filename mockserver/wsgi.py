"""Many workers: the mock under gunicorn or granian, and a private redis-server when none
is given.

``mockserver serve --workers N`` builds one ``MockServer`` in the master process
(contracts loaded once), then forks N workers that share its state through Redis.

gunicorn (the default): every worker listens on the port with ``SO_REUSEPORT`` so the
kernel spreads new connections over them; without it, keep-alive connections pile onto
whichever worker accepted first and throughput halves. Workers are gthread (threads in
each worker): sync workers close every connection after one answer (no keep-alive, so
every request pays a new connection, which clients such as ``requests.Session`` and SDKs
never expect), and with threads a ``Prefer: delay=`` answer or a slow client blocks one
thread, not the whole worker. ``--threads 1`` served the validated GET as fast as 4 in the
benchmarks (the work is CPU-bound under the GIL).

granian (``--server granian``): HTTP parsing, keep-alive and writes in Rust; the workers
accept on one shared socket. Its HTTP layer costs about a fifth of gunicorn's CPU per
request, which is most of what a cached mock answer costs (see the README's benchmarks).

With N > 1 and no ``--state``, the workers need one shared state: a private redis-server
(no persistence, a unix socket in a temporary folder, stopped with the mock) is started
when ``redis-server`` is installed; otherwise ``serve`` refuses with a one-line reason.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from mockserver.errors import ServerError

WSGIApp = Callable[..., Any]

DEFAULT_THREADS = 4


class MockserverApplication(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving one already-built WSGI app."""

    def __init__(self, app: WSGIApp, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply ``options`` (gunicorn setting names) to gunicorn's config."""
        for key, value in self.options.items():
            if key in self.cfg.settings and value is not None:
                self.cfg.set(key.lower(), value)

    def load(self) -> WSGIApp:
        """The WSGI app (built before the fork: ``preload_app``)."""
        return self.application


def gunicorn_options(
    host: str,
    port: int,
    workers: int,
    threads: int = DEFAULT_THREADS,
    *,
    on_ready: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """The gunicorn settings ``serve --workers`` runs with (also used by the benchmarks)."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    options: dict[str, Any] = {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "reuse_port": True,
        "preload_app": True,
        "keepalive": 30,
        # A client that stops sending frees its thread after this many seconds, as with the
        # single-process server.
        "timeout": 30,
        "graceful_timeout": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "mockserver",
        "worker_tmp_dir": "/dev/shm" if os.path.isdir("/dev/shm") else None,
    }
    if on_ready is not None:
        options["when_ready"] = lambda _arbiter: on_ready()
    return options


def _freeze() -> None:
    # What is loaded by now (contracts, cassettes: 10,000 recorded interactions are a big
    # heap) lives as long as the process. Frozen, the cyclic GC no longer walks it on every
    # full collection, so a request costs the same however much was loaded, and the
    # workers' copies stay shared with the master instead of being written by the GC.
    gc.collect()
    gc.freeze()


def run(app: WSGIApp, options: dict[str, Any]) -> None:
    """Run gunicorn in the foreground until SIGINT/SIGTERM."""
    _freeze()
    MockserverApplication(app, options).run()


SERVERS = ("gunicorn", "granian")


def serve_forever(
    app: WSGIApp,
    server: str,
    host: str,
    port: int,
    workers: int,
    threads: int = DEFAULT_THREADS,
    *,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``app`` with N worker processes under ``server`` (one of ``SERVERS``) in the
    foreground until SIGINT/SIGTERM; ``serve --workers`` and the benchmarks' bare Flask
    app both run through here, so they run under the same settings."""
    if server == "granian":
        run_granian(app, host, port, workers, threads, on_ready=on_ready)
    else:
        run(app, gunicorn_options(host, port, workers, threads, on_ready=on_ready))


def run_granian(
    app: WSGIApp,
    host: str,
    port: int,
    workers: int,
    threads: int = DEFAULT_THREADS,
    *,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Run ``app`` under granian (HTTP in Rust, WSGI workers forked from this process)
    until SIGINT/SIGTERM.

    The HTTP layer costs a fifth of gunicorn's CPU per request (parsing, the event loop
    and the writes happen outside Python; see the README's benchmarks). The workers are
    forks of this process (``fork`` start method), so the app built here, contracts
    loaded, is theirs, as with gunicorn's ``preload_app``; they accept on one socket the
    master bound. A worker that dies is started again.
    """
    import multiprocessing

    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    if multiprocessing.get_start_method(allow_none=True) not in (None, "fork"):
        raise ServerError("--server granian needs the 'fork' start method (Linux, macOS)")
    multiprocessing.set_start_method("fork", force=True)
    # granian starts every WSGI environ from a copy of os.environ. A variable named like a
    # request header (HTTP_PROXY: "httpoxy") would then read as one the client sent.
    for name in [n for n in os.environ if n.startswith("HTTP_")]:
        del os.environ[name]
    _freeze()
    server = Granian(
        "mockserver",  # a label: the app is handed over by target_loader, not imported
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        http=HTTPModes.http1,
        websockets=False,
        # a client that stops sending its headers frees the connection after 30 s
        http1_settings=HTTP1Settings(header_read_timeout=30_000, keep_alive=True),
        log_level=LogLevels.warning,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        workers_kill_timeout=5,
    )
    if on_ready is not None:
        on_ready()

    def load(*_: Any) -> WSGIApp:
        # runs in each worker: a worker must not outlive a master killed by SIGKILL (it
        # would keep the port); gunicorn's workers watch their parent themselves
        _die_with_parent()
        return app

    server.serve(target_loader=load, wrap_loader=False)


def _die_with_parent() -> None:
    # In a child (a private redis-server before exec, a granian worker): Linux sends it
    # SIGTERM when its parent dies, even by SIGKILL, which runs no atexit handler;
    # elsewhere the parent's atexit stop is all there is.
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PrivateRedis:
    """A redis-server for this mock alone: unix socket, no persistence, no TCP port.

    ``start()`` raises ``ServerError`` when redis-server is not installed or does not
    start. ``stop()`` (also run at exit) stops it by PID and removes its folder, only in
    the process that started it: gunicorn workers are forks and exit through the same
    code, and must not take the master's Redis with them.
    """

    def __init__(self) -> None:
        self.url = ""
        self._proc: subprocess.Popen[bytes] | None = None
        self._folder = ""
        self._owner = os.getpid()

    def start(self, timeout: float = 10.0) -> PrivateRedis:
        """Start the server and wait for its socket; returns self."""
        exe = shutil.which("redis-server")
        if exe is None:
            raise ServerError(
                "--workers > 1 needs shared state: pass --state redis://HOST:PORT, or install "
                "redis-server (apt-get install redis-server) so mockserver starts a private one"
            )
        self._folder = tempfile.mkdtemp(prefix="mockserver-redis-")
        sock = os.path.join(self._folder, "redis.sock")
        self._proc = subprocess.Popen(
            [
                exe,
                "--port", "0",
                "--unixsocket", sock,
                "--unixsocketperm", "700",
                "--save", "",
                "--appendonly", "no",
                "--dir", self._folder,
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C goes to the mock, which then stops this server
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while not os.path.exists(sock):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise ServerError("the private redis-server did not start")
            time.sleep(0.01)
        self.url = f"unix://{sock}"
        return self

    def stop(self) -> None:
        """Stop the server (by PID) and remove its folder; idempotent."""
        proc, self._proc = self._proc, None
        if proc is None or os.getpid() != self._owner:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(self._folder, ignore_errors=True)
