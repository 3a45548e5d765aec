"""``mockserver check-cassettes``: do the recordings still match the contract (drift)?"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mockserver.cli import console, fail, main
from mockserver.errors import MockserverError


@main.command("check-cassettes")
@click.argument("contracts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--cassettes",
    "sources",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="A folder (searched recursively) or file of VCR.py cassettes (repeatable).",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write cassette-drift.json, .md and JUnit .xml into this folder.",
)
def check_cassettes(
    contracts: tuple[Path, ...], sources: tuple[Path, ...], report_dir: Path | None
) -> None:
    """Validate every recorded request and answer in the cassettes against CONTRACTS.

    Exit 0 when all conform, 1 naming each interaction that drifted (file, index,
    operation, rule), 2 when a contract or cassette cannot be read.
    """
    from mockserver.cassettes.drift import check_cassettes as check
    from mockserver.cassettes.format import load_all
    from mockserver.contract.loader import load_contract

    try:
        loaded = [load_contract(p) for p in contracts]
        cassettes = load_all(sources)
    except MockserverError as exc:
        raise fail(exc) from None
    report = check(loaded, cassettes)
    for finding in report.findings:
        label = "DRIFT" if finding.is_error else "warn "
        click.echo(f"{label} {finding.line()}")
    if report_dir is not None:
        for path in report.write(report_dir):
            console.print(f"wrote {path}")
    if report.ok:
        click.echo(
            f"ok: {report.interactions} interaction(s) in {len(report.cassettes)} "
            "cassette(s) conform to the contract"
        )
        return
    click.echo(
        f"drift: {report.offending()} of {report.interactions} interaction(s) in "
        f"{len(report.cassettes)} cassette(s) no longer match the contract"
    )
    sys.exit(1)
