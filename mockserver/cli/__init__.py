"""The ``mockserver`` command. Exit codes: 0 conform, 1 violations, 2 bad usage or input.

Each subcommand lives in its own module and registers itself on ``main``.
"""

from __future__ import annotations

import logging
from typing import Any

import click
from rich.console import Console

from mockserver.errors import MockserverError

console = Console(stderr=True, highlight=False)


class InputError(click.ClickException):
    """Bad input: printed as one line, exit code 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print ``mockserver: error: <one line>`` to stderr."""
        click.echo(f"mockserver: error: {self.format_message()}", err=True)


def fail(exc: MockserverError) -> InputError:
    """The CLI error for a mockserver error (one line naming file and place)."""
    one_line = exc.one_line() if hasattr(exc, "one_line") else str(exc)
    return InputError(one_line)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mockserver")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Log contract warnings (answers that break the contract) and server events.",
)
def main(verbose: bool) -> None:
    """Mock servers, recordings and conformance reports from OpenAPI contracts."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register() -> None:
    # Imported for their side effect: each module adds its command to `main`.
    from mockserver.cli import check_cassettes, clientcheck, record, serve, verify  # noqa: F401


_register()
