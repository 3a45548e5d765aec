"""Conformance reports: one ``Report`` value, rendered as JSON, JUnit XML, HTML or Markdown.

A report says, for one run, what of each declared operation was exercised (coverage and a
score, see ``coverage``) and every distinct rule broken (``Finding``: a ``Failure`` with how
often it happened and an example). Three kinds share the shape: ``client`` (the traffic a
client sent through the mock, from the journal), ``server`` (``mockserver verify``) and
``cassettes`` (``mockserver check-cassettes``).

The JSON form is versioned (``REPORT_VERSION``); its shape is documented in the README
("Conformance reports") and read back by ``Report.from_dict``::

    {"version": 1, "kind": "client", "generated": "2025-01-01T00:00:00Z", "title": ...,
     "source": {...}, "summary": {...}, "operations": [...], "failures": [...],
     "exchanges": [...]}          # exchanges only when recorded
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from mockserver.conformance.coverage import OperationCoverage, coverage_of, overall_score
from mockserver.conformance.journal import Exchange, Journal
from mockserver.contract.model import Contract, Operation
from mockserver.failures import Failure, Severity

REPORT_VERSION = 1
KINDS = ("client", "server", "cassettes")
FORMATS = ("json", "junit", "html", "md")
# file name suffix per format: mockserver-client.json, mockserver-client.junit.xml, ...
SUFFIXES = {"json": ".json", "junit": ".junit.xml", "html": ".html", "md": ".md"}
MEDIA_TYPES = {
    "json": "application/json",
    "junit": "application/xml",
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
MAX_SAMPLE_IDS = 20  # exchange ids kept per finding


@dataclass(slots=True)
class Finding:
    """One distinct broken rule: the failure, how often it happened and an example."""

    failure: Failure
    count: int = 1
    sample: str = ""  # "GET /v1/x?y=1 -> 400": a request that broke it
    exchanges: list[int] = field(default_factory=list)  # journal ids (first few)

    @property
    def operation(self) -> str:
        """The operation key, ``""`` for requests that matched no operation."""
        return self.failure.operation

    def to_dict(self) -> dict[str, Any]:
        """``Failure.to_dict()`` plus ``count``, ``sample`` and ``exchanges``."""
        data = self.failure.to_dict()
        data["count"] = self.count
        if self.sample:
            data["sample"] = self.sample
        if self.exchanges:
            data["exchanges"] = self.exchanges
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """Read back what ``to_dict`` wrote."""
        failure = Failure(
            kind=str(data.get("kind", "")),
            rule=str(data.get("rule", "")),
            message=str(data.get("message", "")),
            location=str(data.get("location", "")),
            name=str(data.get("name", "")),
            pointer=str(data.get("pointer", "")),
            operation=str(data.get("operation", "")),
            severity=Severity(data.get("severity", "error")),
        )
        return cls(
            failure,
            int(data.get("count", 1)),
            str(data.get("sample", "")),
            [int(i) for i in data.get("exchanges", [])],
        )


@dataclass(slots=True)
class Summary:
    """The headline numbers of a report; ``extra`` holds kind-specific ones."""

    operations: int = 0  # declared
    operations_called: int = 0
    requests: int = 0  # every request seen, matched or not
    unmatched: int = 0  # requests that matched no declared operation
    request_violations: int = 0  # exchanges whose request broke the contract
    response_violations: int = 0  # exchanges whose answer broke the contract
    errors: int = 0  # distinct findings of severity error
    warnings: int = 0  # distinct findings of severity warning
    score: float = 0.0  # 0..1, see coverage.overall_score
    conforms: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``summary`` object (``extra`` keys merged in)."""
        data = {
            "operations": self.operations,
            "operations_called": self.operations_called,
            "requests": self.requests,
            "unmatched": self.unmatched,
            "request_violations": self.request_violations,
            "response_violations": self.response_violations,
            "errors": self.errors,
            "warnings": self.warnings,
            "score": self.score,
            "conforms": self.conforms,
        }
        return {**self.extra, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Summary:
        """Read back what ``to_dict`` wrote."""
        known = {
            "operations",
            "operations_called",
            "requests",
            "unmatched",
            "request_violations",
            "response_violations",
            "errors",
            "warnings",
            "score",
            "conforms",
        }
        return cls(
            **{k: data[k] for k in known if k in data},
            extra={k: v for k, v in data.items() if k not in known},
        )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Report:
    """A conformance report of one run; render it with ``render`` or ``write_reports``."""

    kind: str  # client | server | cassettes
    summary: Summary
    operations: list[OperationCoverage]
    failures: list[Finding]
    exchanges: list[dict[str, Any]] | None = None  # Exchange.to_dict() entries
    title: str = ""
    # where the run came from: contracts, target URL, tool version, settings
    source: dict[str, Any] = field(default_factory=dict)
    generated: str = field(default_factory=_now)
    version: int = REPORT_VERSION

    @classmethod
    def build(
        cls,
        kind: str,
        operations: Sequence[OperationCoverage],
        failures: Iterable[Failure | Finding],
        *,
        title: str = "",
        source: Mapping[str, Any] | None = None,
        requests: int | None = None,
        unmatched: int = 0,
        exchanges: list[dict[str, Any]] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Report:
        """A report from coverage and failures; the summary is computed.

        ``failures`` may repeat: equal failures (``Failure.key``) become one ``Finding``
        with a count. ``requests`` defaults to the calls counted in ``operations`` plus
        ``unmatched``.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown report kind {kind!r}; known: {', '.join(KINDS)}")
        findings = _merge(failures)
        errors = sum(1 for f in findings if f.failure.severity is Severity.ERROR)
        warnings = len(findings) - errors
        ops = list(operations)
        req_v = sum(o.request_violations for o in ops)
        resp_v = sum(o.response_violations for o in ops)
        summary = Summary(
            operations=len(ops),
            operations_called=sum(1 for o in ops if o.calls),
            requests=requests if requests is not None else sum(o.calls for o in ops) + unmatched,
            unmatched=unmatched,
            request_violations=req_v,
            response_violations=resp_v,
            errors=errors,
            warnings=warnings,
            score=overall_score(ops),
            conforms=errors == 0 and req_v == 0 and resp_v == 0,
            extra=dict(extra or {}),
        )
        return cls(
            kind=kind,
            summary=summary,
            operations=ops,
            failures=findings,
            exchanges=exchanges,
            title=title or f"mockserver {kind} conformance",
            source=dict(source or {}),
        )

    @property
    def conforms(self) -> bool:
        """True when nothing broke the contract."""
        return self.summary.conforms

    def findings_for(self, operation: str) -> list[Finding]:
        """The findings of one operation key (``""``: requests that matched none)."""
        return [f for f in self.failures if f.operation == operation]

    def to_dict(self) -> dict[str, Any]:
        """The versioned JSON shape (see the module docstring and the README)."""
        data: dict[str, Any] = {
            "version": self.version,
            "kind": self.kind,
            "generated": self.generated,
            "title": self.title,
            "source": self.source,
            "summary": self.summary.to_dict(),
            "operations": [o.to_dict() for o in self.operations],
            "failures": [f.to_dict() for f in self.failures],
        }
        if self.exchanges is not None:
            data["exchanges"] = self.exchanges
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        """Read a JSON report back; refuses versions newer than this code knows."""
        version = int(data.get("version", 0))
        if version != REPORT_VERSION:
            raise ValueError(
                f"report version {version} is not supported (this code reads {REPORT_VERSION})"
            )
        return cls(
            kind=str(data["kind"]),
            summary=Summary.from_dict(data.get("summary") or {}),
            operations=[OperationCoverage.from_dict(o) for o in data.get("operations") or []],
            failures=[Finding.from_dict(f) for f in data.get("failures") or []],
            exchanges=data.get("exchanges"),
            title=str(data.get("title") or ""),
            source=dict(data.get("source") or {}),
            generated=str(data.get("generated") or _now()),
            version=version,
        )


def _merge(failures: Iterable[Failure | Finding]) -> list[Finding]:
    merged: dict[tuple[str, ...], Finding] = {}
    for item in failures:
        finding = item if isinstance(item, Finding) else Finding(item)
        key = _finding_key(finding)
        known = merged.get(key)
        if known is None:
            merged[key] = replace(finding, exchanges=list(finding.exchanges))
        else:
            known.count += finding.count
            room = MAX_SAMPLE_IDS - len(known.exchanges)
            known.exchanges.extend(finding.exchanges[: max(room, 0)])
    # errors first, then by operation, so the worst is on top of every format
    return sorted(
        merged.values(),
        key=lambda f: (f.failure.severity is not Severity.ERROR, f.operation, f.failure.rule),
    )


def _finding_key(finding: Finding) -> tuple[str, ...]:
    key = finding.failure.key
    if finding.failure.operation:
        return key
    # requests that matched no operation: one finding per method and path, not one for all
    return (*key, finding.sample.split(" -> ")[0].split("?")[0])


# -- from the journal -------------------------------------------------------------------


def exchange_line(exchange: Exchange) -> str:
    """``GET /v1/x?y=1 -> 400``: how a finding names the request that broke it."""
    query = f"?{exchange.query}" if exchange.query else ""
    return f"{exchange.method} {exchange.path}{query} -> {exchange.status}"


def report_from_journal(
    journal: Journal,
    operations: Sequence[Operation],
    *,
    kind: str = "client",
    title: str = "",
    source: Mapping[str, Any] | None = None,
    max_exchanges: int = 200,
) -> Report:
    """The report of the traffic a journal saw, against the declared ``operations``.

    Coverage counts every request since the last reset; findings come from the exchanges
    the journal still holds (its capacity), with the latest ``max_exchanges`` of them
    attached (0: none).
    """
    stats = journal.stats()
    coverage = coverage_of(operations, stats)
    entries = journal.entries()
    failures: list[Finding] = []
    for exchange in entries:
        line = exchange_line(exchange)
        for failure in (*exchange.request_failures, *exchange.response_failures):
            if not failure.operation and exchange.operation:
                failure = replace(failure, operation=exchange.operation)
            failures.append(Finding(failure, 1, line, [exchange.id]))
    return Report.build(
        kind,
        coverage,
        failures,
        title=title or "mockserver client conformance",
        source=source,
        requests=sum(s.calls for s in stats.values()) + journal.unmatched,
        unmatched=journal.unmatched,
        exchanges=[e.to_dict() for e in entries[-max_exchanges:]] if max_exchanges else None,
    )


def contracts_source(contracts: Sequence[Contract]) -> dict[str, Any]:
    """The ``source`` of a report about ``contracts``: name, title, version, file."""
    return {
        "contracts": [
            {"name": c.name, "title": c.title, "version": c.version, "path": str(c.path)}
            for c in contracts
        ]
    }


def client_report(
    journal: Journal, contracts: Sequence[Contract], *, max_exchanges: int = 200
) -> Report:
    """The client report of a mock serving ``contracts``: every declared operation."""
    return report_from_journal(
        journal,
        [op for c in contracts for op in c.operations],
        title=f"{', '.join(c.title for c in contracts) or 'mockserver'}: client conformance",
        source=contracts_source(contracts),
        max_exchanges=max_exchanges,
    )


# -- rendering ----------------------------------------------------------------------------


def render(report: Report, fmt: str) -> str:
    """The report as ``json``, ``junit`` (XML), ``html`` (one self-contained file) or ``md``."""
    renderer = _RENDERERS.get(fmt)
    if renderer is None:
        raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")
    return renderer(report)


def write_reports(
    report: Report, directory: str | Path, formats: Iterable[str] = FORMATS
) -> list[Path]:
    """Write ``mockserver-<kind>.<suffix>`` per format into ``directory`` (created);
    each file is written atomically. Returns the paths written."""
    wanted = list(formats)
    for fmt in wanted:
        if fmt not in _RENDERERS:
            raise ValueError(f"unknown report format {fmt!r}; known: {', '.join(FORMATS)}")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in wanted:
        path = folder / f"mockserver-{report.kind}{SUFFIXES[fmt]}"
        _write_atomic(path, render(report, fmt))
        written.append(path)
    return written


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _render_junit(report: Report) -> str:
    """One testsuite per contract, one testcase per operation: a failure element when it
    broke a rule (all its findings in the text), skipped when it was never called."""
    suites: dict[str, list[OperationCoverage]] = {}
    for op in report.operations:
        suites.setdefault(op.contract or "contract", []).append(op)
    known = {op.operation for op in report.operations}
    orphans = [f for f in report.failures if f.operation not in known]
    root = ET.Element("testsuites", name=_xml_safe(report.title))
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for name, ops in suites.items():
        suite = ET.SubElement(root, "testsuite", name=_xml_safe(name), timestamp=report.generated)
        _junit_properties(suite, report)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        for op in ops:
            counts["tests"] += 1
            case = ET.SubElement(
                suite, "testcase", classname=name, name=_xml_safe(op.operation), time="0"
            )
            errors, warnings = _split(report.findings_for(op.operation))
            if errors:
                counts["failures"] += 1
                _junit_failure(case, errors)
            elif op.calls == 0:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message="not called")
            out = [f"calls: {op.calls}; score: {op.score:.0%}; statuses: {_statuses(op)}"]
            out += [f"warning: {_finding_text(f)}" for f in warnings]
            ET.SubElement(case, "system-out").text = _xml_safe("\n".join(out))
        _junit_counts(suite, counts, totals)
    if orphans:
        suite = ET.SubElement(root, "testsuite", name="unmatched", timestamp=report.generated)
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        groups: dict[str, list[Finding]] = {}
        for finding in orphans:
            label = finding.operation or finding.sample.split(" -> ")[0] or finding.failure.rule
            groups.setdefault(label, []).append(finding)
        for label, findings in groups.items():
            counts["tests"] += 1
            case = ET.SubElement(
                suite, "testcase", classname="unmatched", name=_xml_safe(label), time="0"
            )
            errors, warnings = _split(findings)
            if errors:
                counts["failures"] += 1
                _junit_failure(case, errors)
            if warnings:
                ET.SubElement(case, "system-out").text = _xml_safe(
                    "\n".join(f"warning: {_finding_text(f)}" for f in warnings)
                )
        _junit_counts(suite, counts, totals)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("errors", "0")
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _junit_properties(suite: ET.Element, report: Report) -> None:
    props = ET.SubElement(suite, "properties")
    for name, value in (
        ("mockserver.report.version", report.version),
        ("mockserver.report.kind", report.kind),
        ("mockserver.score", report.summary.score),
    ):
        ET.SubElement(props, "property", name=name, value=str(value))


def _junit_failure(case: ET.Element, errors: list[Finding]) -> None:
    first = errors[0].failure
    message = f"{first.rule}: {first.message}"
    if len(errors) > 1:
        message = f"{len(errors)} violations; first: {message}"
    element = ET.SubElement(case, "failure", message=_xml_safe(message), type=_xml_safe(first.rule))
    element.text = _xml_safe("\n".join(_finding_text(f) for f in errors))


def _junit_counts(suite: ET.Element, counts: dict[str, int], totals: dict[str, int]) -> None:
    for key, value in counts.items():
        suite.set(key, str(value))
        totals[key] += value
    suite.set("errors", "0")
    suite.set("time", "0")


def _xml_safe(text: str) -> str:
    # XML 1.0 cannot carry most control characters (fuzzed requests are full of them),
    # nor lone surrogates or U+FFFE/U+FFFF
    return "".join(c if _XML_CHAR.match(c) else "?" for c in text)


_XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _split(findings: list[Finding]) -> tuple[list[Finding], list[Finding]]:
    errors = [f for f in findings if f.failure.severity is Severity.ERROR]
    return errors, [f for f in findings if f.failure.severity is not Severity.ERROR]


def _finding_text(finding: Finding) -> str:
    f = finding.failure
    where = " ".join(x for x in (f.location, f.name, f.pointer) if x)
    text = f"[{f.kind} {f.rule}{' @ ' + where if where else ''}] {f.message}"
    if finding.count > 1:
        text += f" (x{finding.count})"
    if finding.sample:
        text += f"\n    e.g. {finding.sample}"
    return text


def _statuses(op: OperationCoverage) -> str:
    return ", ".join(f"{s} x{n}" for s, n in op.statuses_seen.items()) or "none"


def _render_markdown(report: Report) -> str:
    s = report.summary
    verdict = "Conforms" if report.conforms else "**Does not conform**"
    lines = [
        f"## {_md(report.title)}",
        "",
        f"{verdict}: "
        f"{s.operations_called}/{s.operations} operations called, {s.requests} requests, "
        f"{s.request_violations} request and {s.response_violations} response violations, "
        f"{s.unmatched} unmatched; coverage score **{s.score:.0%}**.",
        "",
        "| operation | calls | statuses seen | parameters | violations | score |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for op in report.operations:
        undeclared = set(op.statuses_undeclared)
        seen = ", ".join(
            f"{code}{' (undeclared)' if code in undeclared else ''}" for code in op.statuses_seen
        )
        lines.append(
            f"| `{_md(op.operation)}` | {op.calls} | {seen or '-'} | "
            f"{len(op.parameters_used)}/{len(op.parameters_declared)} | "
            f"{op.request_violations + op.response_violations} | {op.score:.0%} |"
        )
    if report.failures:
        lines += ["", f"### Violations ({len(report.failures)})", ""]
        for finding in report.failures[:50]:
            f = finding.failure
            where = " ".join(x for x in (f.location, f.name, f.pointer) if x)
            label = f.operation or "unmatched"
            lines.append(
                f"- **{f.severity.value}** `{_md(label)}` — `{f.kind}` rule `{_md(f.rule)}`"
                f"{' at `' + _md(where) + '`' if where else ''}: {_md(f.message)}"
                f"{' (' + str(finding.count) + ' times)' if finding.count > 1 else ''}"
                f"{' — e.g. `' + _md(finding.sample) + '`' if finding.sample else ''}"
            )
        if len(report.failures) > 50:
            lines.append(f"- … and {len(report.failures) - 50} more (see the JSON report)")
    lines += ["", f"<sub>mockserver report v{report.version}, {report.generated}</sub>", ""]
    return "\n".join(lines)


def _md(text: str) -> str:
    # table cells and code spans: no pipes, backticks or newlines that would break them
    return " ".join(text.replace("|", "\\|").replace("`", "'").split())[:300]


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mockserver.conformance", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pct"] = lambda v: f"{float(v):.0%}"
    return env


def _render_html(report: Report) -> str:
    by_op: dict[str, list[Finding]] = {}
    for finding in report.failures:
        by_op.setdefault(finding.operation, []).append(finding)
    known = {op.operation for op in report.operations}
    return (
        _templates()
        .get_template("report.html")
        .render(
            report=report,
            summary=report.summary,
            by_op=by_op,
            orphans=[f for f in report.failures if f.operation not in known],
        )
    )


def live_page(title: str, base: str = "/__mockserver") -> str:
    """The live traffic page served at ``GET /__mockserver/`` (polls ``journal`` and
    ``coverage`` under ``base``)."""
    return _templates().get_template("live.html").render(title=title, base=base)


_RENDERERS: dict[str, Callable[[Report], str]] = {
    "json": _render_json,
    "junit": _render_junit,
    "html": _render_html,
    "md": _render_markdown,
}
