"""``mockserver clientcheck``: does a client survive every answer the contract allows?"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import click

from mockserver.cli import InputError, console, fail, main
from mockserver.errors import MockserverError


@main.command("clientcheck")
@click.argument("contracts", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--operation",
    "-o",
    required=True,
    help="The operation the client calls: 'GET /v1/reference-data/locations' or an operationId.",
)
@click.option(
    "--client",
    "client_ref",
    required=True,
    metavar="MODULE:FUNCTION",
    help="A callable taking the mock's base URL and making the client's call "
    "(imported with the current folder on sys.path).",
)
@click.option(
    "--expect",
    "expect_refs",
    multiple=True,
    metavar="MODULE:EXCEPTION",
    help="An error the client documents (repeatable); raising it is not a failure.",
)
@click.option("--config", "config_file", type=click.Path(path_type=Path), default=None)
@click.option("--max-examples", default=50, show_default=True, type=click.IntRange(1))
@click.option("--seed", type=int, default=None, help="Replay an earlier run.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write the client conformance report of the traffic into this folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def clientcheck(
    contracts: tuple[Path, ...],
    operation: str,
    client_ref: str,
    expect_refs: tuple[str, ...],
    config_file: Path | None,
    max_examples: int,
    seed: int | None,
    report_dir: Path | None,
    as_json: bool,
) -> None:
    """Drive CLIENT through contract-valid answers of CONTRACTS (default: the travel API).

    Exit 0 when the client survives them all, 1 with each minimal answer that made it
    raise an undocumented error and the seed to replay, 2 on bad input.
    """
    from mockserver.clientcheck import ClientCheckError, check_client
    from mockserver.conformance.report import client_report, write_reports
    from mockserver.server import MockServer

    client = _load(client_ref, "--client")
    expected = tuple(_exception(ref) for ref in expect_refs)
    try:
        server = MockServer(list(contracts) or None, config=config_file)
    except MockserverError as exc:
        raise fail(exc) from None
    with server:
        try:
            result = check_client(
                server, operation, client, expected, max_examples=max_examples, seed=seed
            )
        except ClientCheckError as exc:
            raise InputError(str(exc)) from None
        if report_dir is not None:
            report = client_report(server.journal, server.pipeline.contracts)
            for path in write_reports(report, report_dir):
                console.print(f"wrote {path}")
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


def _load(ref: str, option: str) -> Any:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise InputError(f"{option} {ref!r}: expected MODULE:NAME, e.g. myapp.client:search")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"{option} {ref!r}: cannot import {module_name}: {exc}") from None
    target = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise InputError(f"{option} {ref!r}: {module_name} has no attribute {attr!r}")
        target = getattr(target, part)
    return target


def _exception(ref: str) -> type[BaseException]:
    found = _load(ref, "--expect")
    if not (isinstance(found, type) and issubclass(found, BaseException)):
        raise InputError(f"--expect {ref!r}: not an exception class")
    return found
