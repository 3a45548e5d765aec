"""Drift: do the recordings still match the contract?

Every recorded request is routed and validated like the mock validates live traffic
(parameters with their styles, the body by media type), and every recorded answer like
the mock checks its own (status declared, media type, body schema, required headers).
A finding names the cassette file, the interaction's index, the operation and the rule.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from mockserver.cassettes.format import Cassette, Interaction
from mockserver.contract.model import Contract
from mockserver.contract.router import RouteMatch, Router
from mockserver.failures import Failure, Severity
from mockserver.http import MockRequest, MockResponse
from mockserver.validation import Validators


@dataclass(slots=True)
class Finding:
    """One rule one recorded interaction breaks."""

    file: str
    index: int
    request: str
    status: int
    operation: str | None
    failure: Failure

    @property
    def is_error(self) -> bool:
        """Warnings are reported but do not fail the check."""
        return self.failure.severity is Severity.ERROR

    def line(self) -> str:
        """``file#3 GET /x (GET /x): response body /id type: 'a' is not an integer``."""
        f = self.failure
        where = " ".join(p for p in (f.kind, f.location, f.name, f.pointer) if p)
        op = self.operation or "no operation"
        return f"{self.file}#{self.index} {self.request} [{op}] {where} {f.rule}: {f.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "file": self.file,
            "index": self.index,
            "request": self.request,
            "status": self.status,
            "operation": self.operation,
            "failure": self.failure.to_dict(),
        }


@dataclass(slots=True)
class DriftReport:
    """What ``check-cassettes`` found over every cassette."""

    cassettes: list[str] = field(default_factory=list)
    interactions: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        """The findings that fail the check."""
        return [f for f in self.findings if f.is_error]

    @property
    def ok(self) -> bool:
        """True when every recording conforms."""
        return not self.errors

    def offending(self) -> int:
        """How many interactions have at least one error."""
        return len({(f.file, f.index) for f in self.errors})

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary plus every finding."""
        return {
            "ok": self.ok,
            "cassettes": self.cassettes,
            "interactions": self.interactions,
            "offending_interactions": self.offending(),
            "findings": [f.to_dict() for f in self.findings],
        }

    def write(self, directory: Path) -> list[Path]:
        """``cassette-drift.json``, ``.md`` and JUnit ``.xml`` into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        out = [
            directory / "cassette-drift.json",
            directory / "cassette-drift.md",
            directory / "cassette-drift.xml",
        ]
        out[0].write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        out[1].write_text(self.markdown(), encoding="utf-8")
        ET.ElementTree(self.junit()).write(out[2], encoding="utf-8", xml_declaration=True)
        return out

    def markdown(self) -> str:
        """A Markdown table of the findings."""
        verdict = "conform" if self.ok else f"{self.offending()} interaction(s) drifted"
        lines = [
            "# Cassette drift",
            "",
            f"{len(self.cassettes)} cassette(s), {self.interactions} interaction(s): {verdict}.",
            "",
        ]
        if self.findings:
            lines += [
                "| cassette | # | request | operation | where | rule | message | severity |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for f in self.findings:
                fail = f.failure
                where = " ".join(p for p in (fail.location, fail.name, fail.pointer) if p)
                cells = [
                    f.file,
                    str(f.index),
                    f.request,
                    f.operation or "",
                    f"{f.failure.kind} {where}".strip(),
                    f.failure.rule,
                    f.failure.message,
                    f.failure.severity.value,
                ]
                lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def junit(self) -> ET.Element:
        """One test case per interaction, failed when it has errors."""
        suite = ET.Element(
            "testsuite",
            name="cassette-drift",
            tests=str(self.interactions),
            failures=str(self.offending()),
        )
        by_case: dict[tuple[str, int], list[Finding]] = {}
        for f in self.findings:
            by_case.setdefault((f.file, f.index), []).append(f)
        for (file, index), findings in sorted(by_case.items()):
            case = ET.SubElement(
                suite, "testcase", classname=file, name=f"#{index} {findings[0].request}"
            )
            errors = [f for f in findings if f.is_error]
            if errors:
                failure = ET.SubElement(case, "failure", message=errors[0].failure.message)
                failure.text = "\n".join(f.line() for f in errors)
        return suite


def check_cassettes(contracts: Sequence[Contract], cassettes: Sequence[Cassette]) -> DriftReport:
    """Validate every recorded request and answer against ``contracts``."""
    router = Router([op for c in contracts for op in c.operations])
    validators = Validators()
    report = DriftReport(cassettes=[str(c.path) for c in cassettes])
    for cassette in cassettes:
        for interaction in cassette.interactions:
            report.interactions += 1
            report.findings.extend(_check(interaction, router, validators))
    return report


def _check(interaction: Interaction, router: Router, validators: Validators) -> list[Finding]:
    parts = urlsplit(interaction.uri)
    request = MockRequest(
        method=interaction.method,
        path=unquote(parts.path or "/"),
        query=parse_qsl(parts.query, keep_blank_values=True),
        headers=interaction.request_headers.copy(),
        body=interaction.request_body or b"",
        root_url=f"{parts.scheme}://{parts.netloc}",
        raw_query=parts.query,
    )

    def finding(failure: Failure, operation: str | None) -> Finding:
        return Finding(
            file=interaction.file,
            index=interaction.index,
            request=f"{interaction.method} {request.path}"
            + (f"?{parts.query}" if parts.query else ""),
            status=interaction.status,
            operation=operation,
            failure=failure,
        )

    match = router.match(request.method, request.path)
    if not isinstance(match, RouteMatch):
        if match.allowed:
            allowed = ", ".join(match.allowed)
            message = f"{request.method} is not allowed on {request.path} (allowed: {allowed})"
            rule = "method"
        else:
            hint = f"; nearest: {', '.join(match.nearest)}" if match.nearest else ""
            message = f"no operation in the contract matches {request.path}{hint}"
            rule = "path"
        return [finding(Failure("request", rule, message, location="route"), None)]
    op = match.operation
    out: list[Finding] = []
    verdict = validators.validate_request(match, request)
    for failure in verdict.failures:
        out.append(finding(_with_operation(failure, op.key), op.key))
    response = MockResponse(
        interaction.status, interaction.response_headers.copy(), interaction.response_body
    )
    for failure in validators.validate_response(op, response):
        out.append(finding(_with_operation(failure, op.key), op.key))
    return out


def _with_operation(failure: Failure, key: str) -> Failure:
    if failure.operation:
        return failure
    from dataclasses import replace

    return replace(failure, operation=key)
