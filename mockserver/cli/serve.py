"""``mockserver serve``: the mock API on a port, in the foreground."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from mockserver.cli import InputError, console, fail, main
from mockserver.errors import MockserverError


@main.command()
@click.argument("contracts", nargs=-1, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port (0: any free).")
@click.option("--seed", type=int, default=None, help="Synthesis seed: same seed, same answers.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=None,
    help="A mockserver.yaml file.",
)
@click.option(
    "--cassettes",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A folder (or file) of VCR.py cassettes whose recorded answers win (repeatable).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Run N worker processes (under --server); N > 1 shares state "
    "through --state, or a private redis-server started for the purpose.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Threads per worker (with --workers).",
)
@click.option(
    "--server",
    "server_kind",
    type=click.Choice(["gunicorn", "granian"]),
    default="gunicorn",
    show_default=True,
    help="The HTTP server of --workers: gunicorn (gthread, SO_REUSEPORT) or granian "
    "(HTTP in Rust: a fifth of gunicorn's CPU per request).",
)
@click.option(
    "--state",
    default=None,
    metavar="URL",
    help="Shared state: redis://HOST:PORT/DB[?prefix=P&max_ttl=S] (tokens, limits, data, "
    "scenarios and the journal shared by every process using the same URL and prefix).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="On shutdown, write the client conformance report here (JSON, JUnit XML, HTML, Markdown).",
)
def serve(
    contracts: tuple[Path, ...],
    host: str,
    port: int,
    seed: int | None,
    config_file: Path | None,
    cassettes: tuple[Path, ...],
    workers: int | None,
    threads: int,
    server_kind: str,
    state: str | None,
    report_dir: Path | None,
) -> None:
    """Serve CONTRACTS (default: the bundled travel API) as a mock API."""
    from werkzeug.serving import make_server

    from mockserver.server import MockServer, _QuietHandler

    if workers is not None and server_kind == "granian":
        try:
            import granian  # noqa: F401
        except ImportError:
            raise InputError(
                "--server granian needs granian: pip install 'mockserver[granian]'"
            ) from None
    try:
        # several processes, or a report the master writes: one journal for all of them
        if workers is not None and (workers > 1 or report_dir) and state is None:
            from mockserver.wsgi import PrivateRedis

            state = PrivateRedis().start().url
        if workers is not None and workers > 1 and state in ("memory", "memory://"):
            raise InputError(
                "--workers > 1 needs shared state: with --state memory:// every worker "
                "would keep its own tokens, counters and data"
            )
        server = MockServer(
            list(contracts) or None,
            config=config_file,
            cassettes=list(cassettes) or None,
            host=host,
            port=port,
            seed=seed,
            state=state,
        )
    except MockserverError as exc:
        raise fail(exc) from None
    if workers is not None:
        master = os.getpid()
        _serve_workers(server, host, port, workers, threads, server_kind)
        if os.getpid() == master:
            _write_report(server, report_dir)
        return
    try:
        httpd = make_server(host, port, server.app, threaded=True, request_handler=_QuietHandler)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    httpd.daemon_threads = True  # type: ignore[attr-defined]
    url = f"http://{host}:{httpd.server_port}"
    _banner(server, url)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        httpd.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        httpd.server_close()
        console.print("mockserver stopped")
        _write_report(server, report_dir)


def _write_report(server: Any, report_dir: Path | None) -> None:
    if report_dir is None:
        return
    from mockserver.conformance.report import write_reports

    try:
        for path in write_reports(server.report(), report_dir):
            console.print(f"report: {path}")
    except OSError as exc:
        console.print(f"mockserver: cannot write the report to {report_dir}: {exc.strerror}")


def _serve_workers(
    server: Any, host: str, port: int, workers: int, threads: int, kind: str
) -> None:
    import socket

    from mockserver.wsgi import serve_forever

    # gunicorn binds in each worker (SO_REUSEPORT), granian in a Rust thread: a port taken
    # by another program would make workers fail over and over (gunicorn) or panic
    # (granian). Bind once here first, as they will (SO_REUSEADDR), to refuse in one line;
    # with port 0, choose the port now to print it.
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
        port = int(probe.getsockname()[1])
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}"
    master = os.getpid()
    try:
        serve_forever(
            server.app,
            kind,
            host,
            port,
            workers,
            threads,
            on_ready=lambda: _banner(server, url, workers, kind),
        )
    except SystemExit as exc:
        # Workers are forks that leave through here too: let them exit as their server says.
        if os.getpid() != master:
            raise
        if exc.code not in (0, None):
            raise InputError(f"cannot serve on {host}:{port} (see the messages above)") from None
    except OSError as exc:
        if os.getpid() != master:
            raise
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if os.getpid() == master:
        console.print("mockserver stopped")


def _banner(server: Any, url: str, workers: int = 0, kind: str = "gunicorn") -> None:
    table = Table(title=f"mockserver on {url}", show_lines=False)
    table.add_column("contract")
    table.add_column("version")
    table.add_column("base path")
    table.add_column("operations", justify="right")
    for contract in server.pipeline.contracts:
        table.add_row(
            contract.title,
            contract.version,
            contract.base_path or "/",
            str(len(contract.operations)),
        )
    console.print(table)
    if workers:
        store = type(server.pipeline.store).__name__
        console.print(f"{workers} {kind} worker(s), state: {store}")
    console.print(f"health: {url}/__mockserver/health   (Ctrl-C to stop)")
    console.print(f"live page: {url}/__mockserver/")
    if server.admin_token and not server.config.admin.token:
        # generated because the server is reachable beyond loopback
        console.print(f"admin token (send as 'Authorization: Bearer …'): {server.admin_token}")
