"""The ``mockserver`` command. Exit codes: 0 conform, 1 violations, 2 bad usage or input."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from mockserver.errors import MockserverError

console = Console(stderr=True, highlight=False)


class InputError(click.ClickException):
    """Bad input: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"mockserver: error: {self.format_message()}", err=True)


def _fail(exc: MockserverError) -> InputError:
    one_line = exc.one_line() if hasattr(exc, "one_line") else str(exc)
    return InputError(one_line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mockserver")
@click.option("-v", "--verbose", is_flag=True, help="Log every request and contract warning.")
def main(verbose: bool) -> None:
    """Mock servers, recordings and conformance reports from OpenAPI contracts."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


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
        raise _fail(exc) from None
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


if __name__ == "__main__":  # pragma: no cover
    main()
