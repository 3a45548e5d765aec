"""``mockserver serve``: the mock API on a port, in the foreground."""

from __future__ import annotations

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
def serve(
    contracts: tuple[Path, ...],
    host: str,
    port: int,
    seed: int | None,
    config_file: Path | None,
) -> None:
    """Serve CONTRACTS (default: the bundled travel API) as a mock API."""
    from werkzeug.serving import make_server

    from mockserver.server import MockServer, _QuietHandler

    try:
        server = MockServer(
            list(contracts) or None, config=config_file, host=host, port=port, seed=seed
        )
    except MockserverError as exc:
        raise fail(exc) from None
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


def _banner(server: Any, url: str) -> None:
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
    console.print(f"health: {url}/__mockserver/health   (Ctrl-C to stop)")
    if server.admin_token and not server.config.admin.token:
        # generated because the server is reachable beyond loopback
        console.print(f"admin token (send as 'Authorization: Bearer …'): {server.admin_token}")
