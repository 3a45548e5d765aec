"""``mockserver verify``: check a server (or the mock itself) against its contract."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)
from rich.table import Table

from mockserver.cli import InputError, console, fail, main
from mockserver.errors import MockserverError

if TYPE_CHECKING:
    from mockserver.conformance.report import Report

_PHASE_TITLES = {
    "examples": "contract examples",
    "coverage": "boundaries and negative data",
    "fuzzing": "property-based fuzzing",
    "stateful": "stateful links",
}


def _auth(
    _ctx: click.Context, _param: click.Parameter, value: str | None
) -> tuple[str, str] | None:
    if value is None:
        return None
    client_id, sep, secret = value.partition(":")
    if not sep or not client_id or not secret:
        raise click.BadParameter("expected client_id:secret")
    return client_id, secret


def _headers(
    _ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{value!r}: expected 'Name: value'")
        out[name.strip()] = content.strip()
    return out


@main.command()
@click.argument("contract", type=click.Path(path_type=Path))
@click.option("--target", metavar="URL", help="The server to check (its base URL).")
@click.option("--mock", is_flag=True, help="Check the mock of CONTRACT itself, in-process.")
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write the server report here (JSON, JUnit XML, HTML, Markdown).",
)
@click.option(
    "--max-examples",
    type=click.IntRange(min=1),
    default=25,
    show_default=True,
    help="Generated cases per operation and phase.",
)
@click.option(
    "--auth",
    callback=_auth,
    metavar="CLIENT_ID:SECRET",
    help="Fetch an OAuth2 token (client credentials) from the contract's token endpoint.",
)
@click.option("--api-key", metavar="KEY", help="The value for the contract's apiKey schemes.")
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    callback=_headers,
    metavar="'NAME: VALUE'",
    help="A header sent with every request (repeatable).",
)
@click.option("--seed", type=int, default=None, help="Generation seed (default: random).")
@click.option(
    "--phases",
    default="examples,coverage,fuzzing,stateful",
    show_default=True,
    help="Which schemathesis phases run.",
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True)
def verify(
    contract: Path,
    target: str | None,
    mock: bool,
    report_dir: Path | None,
    max_examples: int,
    auth: tuple[str, str] | None,
    api_key: str | None,
    headers: dict[str, str],
    seed: int | None,
    phases: str,
    workers: int,
) -> None:
    """Property-test a server against CONTRACT with schemathesis (exit 1 on violations)."""
    if (target is None) == (not mock):
        raise click.UsageError("give exactly one of --target URL or --mock")
    try:
        from mockserver.conformance.report import write_reports
        from mockserver.contract.loader import load_contract
        from mockserver.verify import PHASES, VerifyOptions
        from mockserver.verify import verify as run_verify
    except ImportError as exc:  # schemathesis is an optional dependency
        raise InputError(
            f"mockserver verify needs schemathesis ({exc.name} is missing): "
            "pip install 'mockserver[verify]'"
        ) from None
    chosen = tuple(p.strip() for p in phases.split(",") if p.strip())
    unknown = [p for p in chosen if p not in PHASES]
    if unknown or not chosen:
        raise click.BadParameter(
            f"{', '.join(unknown) or 'none'}; known: {', '.join(PHASES)}", param_hint="--phases"
        )
    options = VerifyOptions(
        max_examples=max_examples,
        seed=seed,
        auth=auth,
        api_key=api_key,
        headers=headers,
        phases=chosen,
        workers=workers,
    )
    try:
        loaded = load_contract(contract)
        where = target or "the mock (in-process)"
        console.print(f"verifying [bold]{escape(where)}[/bold] against {escape(str(contract))}")
        with _RichProgress() as progress:
            report = run_verify(loaded, target=target, options=options, progress=progress)
    except MockserverError as exc:
        raise fail(exc) from None
    _print_summary(report)
    if report_dir is not None:
        for path in write_reports(report, report_dir):
            console.print(f"report: {path}")
    if not report.conforms:
        raise SystemExit(1)


class _RichProgress:
    """verify's ``Progress`` on a rich progress display: one bar per phase."""

    def __init__(self) -> None:
        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}
        self.failed: dict[str, int] = {}

    def __enter__(self) -> _RichProgress:
        self.bars.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.__exit__(None, None, None)

    def phase_started(self, phase: str, operations: int | None) -> None:
        self.failed[phase] = 0
        self.tasks[phase] = self.bars.add_task(
            _PHASE_TITLES.get(phase, phase), total=operations, failed=""
        )

    def scenario_finished(self, phase: str, label: str, status: str) -> None:
        task = self.tasks.get(phase)
        if task is None:
            return
        if status in ("failure", "error"):
            self.failed[phase] += 1
        failed = self.failed[phase]
        self.bars.update(
            task,
            advance=1,
            failed=f"[red]{failed} failing[/red]" if failed else "",
            description=f"{_PHASE_TITLES.get(phase, phase)}: {escape(label)}",
        )

    def phase_finished(self, phase: str, status: str) -> None:
        task = self.tasks.get(phase)
        if task is None:
            return
        done = self.bars.tasks[task].completed
        title = _PHASE_TITLES.get(phase, phase)
        self.bars.update(task, total=max(done, 1), completed=max(done, 1), description=title)


def _print_summary(report: Report) -> None:
    table = Table(title=escape(report.title), show_lines=False)
    table.add_column("operation")
    table.add_column("cases", justify="right")
    table.add_column("statuses seen")
    table.add_column("violations", justify="right")
    table.add_column("score", justify="right")
    for op in report.operations:
        bad = len([f for f in report.findings_for(op.operation) if f.failure.severity == "error"])
        table.add_row(
            escape(op.operation),
            str(op.calls),
            escape(", ".join(op.statuses_seen)) or "-",
            f"[red]{bad}[/red]" if bad else "0",
            f"{op.score:.0%}",
        )
    console.print(table)
    for finding in report.failures[:15]:
        f = finding.failure
        colour = "red" if f.severity == "error" else "yellow"
        first = f.message.splitlines()[0] if f.message else ""
        example = f"\n    e.g. {escape(finding.sample)}" if finding.sample else ""
        console.print(
            f"[{colour}]{f.severity}[/{colour}] {escape(f.operation or 'run')}: "
            f"[bold]{escape(f.rule)}[/bold] {escape(first)}{example}"
        )
    if len(report.failures) > 15:
        console.print(f"... and {len(report.failures) - 15} more in the report")
    s = report.summary
    verdict = "[green]conforms[/green]" if report.conforms else "[red]does not conform[/red]"
    console.print(
        f"{verdict}: {s.extra.get('cases', 0)} cases, {s.extra.get('checks_failed', 0)} failed "
        f"checks, {s.errors} distinct violations; coverage score {s.score:.0%}"
    )
