"""Reports from a journal: coverage counts, findings with their rule, and the four formats.

No sockets: exchanges are recorded into a ``Journal`` directly, the way the pipeline does.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Failure as JUnitFailure
from junitparser import JUnitXml, Skipped

from conftest import CONTRACTS
from mockserver.conformance.coverage import declared_key, operation_coverage
from mockserver.conformance.journal import Exchange, Journal, OperationStats
from mockserver.conformance.report import (
    FORMATS,
    REPORT_VERSION,
    Finding,
    Report,
    render,
    report_from_journal,
    write_reports,
)
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Operation
from mockserver.failures import Failure, Severity

NOTES = CONTRACTS / "notes.json"


@pytest.fixture(scope="module")
def operations() -> list[Operation]:
    return load_contract(NOTES).operations


def _exchange(
    method: str,
    path: str,
    status: int,
    operation: str | None,
    *,
    query: str = "",
    parameters: list[str] | None = None,
    request_failures: list[Failure] | None = None,
    response_failures: list[Failure] | None = None,
) -> Exchange:
    return Exchange(
        method=method,
        path=path,
        query=query,
        status=status,
        operation=operation,
        source="test",
        parameters=parameters or [],
        request_failures=request_failures or [],
        response_failures=response_failures or [],
    )


@pytest.fixture
def journal() -> Journal:
    # Given: a client that lists notes twice (one with a bad limit), calls an unknown path,
    # uses the wrong method on /status and forgets its API key once
    j = Journal(capacity=50)
    j.record(_exchange("GET", "/api/notes", 200, "GET /api/notes", parameters=["query:limit"]))
    j.record(
        _exchange(
            "GET",
            "/api/notes",
            400,
            "GET /api/notes",
            query="limit=abc",
            parameters=["query:limit"],
            request_failures=[
                Failure(
                    "request",
                    "type",
                    'query parameter \'limit\': "abc" is not of type "integer"',
                    location="query",
                    name="limit",
                    operation="GET /api/notes",
                )
            ],
        )
    )
    j.record(
        _exchange(
            "GET",
            "/api/nope",
            404,
            None,
            request_failures=[Failure("request", "path", "no operation", location="route")],
        )
    )
    j.record(
        _exchange(
            "DELETE",
            "/api/status",
            405,
            None,
            request_failures=[Failure("request", "method", "DELETE not allowed", location="route")],
        )
    )
    j.record(
        _exchange(
            "GET",
            "/api/notes/7",
            401,
            "GET /api/notes/{noteId}",
            parameters=["path:noteId"],
            request_failures=[
                Failure(
                    "request",
                    "auth",
                    "The API key is required",
                    location="auth",
                    operation="GET /api/notes/{noteId}",
                )
            ],
        )
    )
    return j


def test_coverage_counts_match_the_requests_made(
    journal: Journal, operations: list[Operation]
) -> None:
    report = report_from_journal(journal, operations)

    s = report.summary
    assert (s.operations, s.operations_called, s.requests, s.unmatched) == (9, 2, 5, 2)
    assert (s.request_violations, s.response_violations) == (2, 0)
    assert s.errors == 4 and not s.conforms
    ops = {o.operation: o for o in report.operations}
    notes = ops["GET /api/notes"]
    assert notes.calls == 2
    assert notes.statuses_seen == {"200": 1, "400": 1}
    assert notes.statuses_covered == ["200", "400"]
    assert notes.parameters_used == ["query:limit"]
    assert notes.request_violations == 1
    assert ops["POST /api/notes"].calls == 0 and ops["POST /api/notes"].score == 0


def test_each_broken_rule_is_a_finding_under_its_operation(
    journal: Journal, operations: list[Operation]
) -> None:
    report = report_from_journal(journal, operations)

    rules = {(f.operation, f.failure.rule, f.failure.location) for f in report.failures}
    assert rules == {
        ("GET /api/notes", "type", "query"),
        ("GET /api/notes/{noteId}", "auth", "auth"),
        ("", "path", "route"),
        ("", "method", "route"),
    }
    bad_limit = report.findings_for("GET /api/notes")[0]
    assert bad_limit.failure.name == "limit"
    assert bad_limit.sample == "GET /api/notes?limit=abc -> 400"
    unmatched = {f.sample for f in report.findings_for("")}
    assert unmatched == {"GET /api/nope -> 404", "DELETE /api/status -> 405"}


def test_repeated_failures_are_counted_once_per_rule(operations: list[Operation]) -> None:
    j = Journal()
    failure = Failure("request", "required", "missing", location="query", name="q", operation="x")
    for _ in range(3):
        j.record(_exchange("GET", "/api/notes", 400, "GET /api/notes", request_failures=[failure]))

    report = report_from_journal(j, operations)

    assert [(f.failure.rule, f.count, len(f.exchanges)) for f in report.failures] == [
        ("required", 3, 3)
    ]


def test_unknown_paths_stay_distinct_findings(operations: list[Operation]) -> None:
    j = Journal()
    for path in ("/a", "/b", "/a"):
        j.record(
            _exchange(
                "GET", path, 404, None, request_failures=[Failure("request", "path", "no op")]
            )
        )

    report = report_from_journal(j, operations)

    assert sorted((f.sample, f.count) for f in report.failures) == [
        ("GET /a -> 404", 2),
        ("GET /b -> 404", 1),
    ]


def test_score_formula() -> None:
    op = load_contract(NOTES).operations[0]  # GET /api/notes: 4 statuses, 3 parameters
    assert len(op.responses) == 4 and len(op.parameters) == 3
    stats = OperationStats(calls=5, parameters={"query:limit", "query:other"})
    stats.statuses.update({200: 4, 500: 1})

    cov = operation_coverage(op, stats)

    # statuses: 200 of 200/400/401/429 -> 1/4; parameters: limit of 3 -> 1/3; 500 undeclared
    assert cov.statuses_undeclared == ["500"]
    assert cov.score == round((1 / 4 + 1 / 3) / 2, 4)
    assert operation_coverage(op, None).score == 0


@pytest.mark.parametrize(
    ("declared", "status", "key"),
    [
        (["200", "4XX", "default"], 200, "200"),
        (["200", "4XX", "default"], 404, "4XX"),
        (["200", "4xx"], 404, "4xx"),
        (["200", "default"], 503, "default"),
        (["200"], 404, None),
    ],
)
def test_status_falls_under_exact_then_range_then_default(
    declared: list[str], status: int, key: str | None
) -> None:
    assert declared_key(declared, status) == key


def test_json_is_versioned_and_reads_back(journal: Journal, operations: list[Operation]) -> None:
    report = report_from_journal(journal, operations, source={"contracts": [{"name": "notes"}]})

    data = json.loads(render(report, "json"))

    assert data["version"] == REPORT_VERSION
    assert data["kind"] == "client"
    assert {"generated", "summary", "operations", "failures", "exchanges"} <= set(data)
    assert data["summary"]["score"] == report.summary.score
    assert data["failures"][0]["rule"] and data["failures"][0]["count"] >= 1
    assert len(data["exchanges"]) == 5
    again = Report.from_dict(data)
    assert again.to_dict() == data


def test_newer_json_versions_are_refused() -> None:
    with pytest.raises(ValueError, match="version 2"):
        Report.from_dict({"version": 2, "kind": "client"})


def test_junit_parses_with_a_standard_parser(
    journal: Journal, operations: list[Operation], tmp_path: Path
) -> None:
    report = report_from_journal(journal, operations)
    path = tmp_path / "r.xml"
    path.write_text(render(report, "junit"), encoding="utf-8")

    xml = JUnitXml.fromfile(str(path))

    suites = {suite.name: suite for suite in xml}
    assert set(suites) == {"notes", "unmatched"}
    cases = {case.name: case for case in suites["notes"]}
    assert len(cases) == 9
    failures = [r for r in cases["GET /api/notes"].result if isinstance(r, JUnitFailure)]
    assert failures and failures[0].type == "type"
    assert "limit" in (failures[0].text or "")
    assert any(isinstance(r, Skipped) for r in cases["POST /api/notes"].result)
    assert {case.name for case in suites["unmatched"]} == {"GET /api/nope", "DELETE /api/status"}
    assert int(ET.parse(path).getroot().get("failures", "0")) == 4


def test_junit_survives_control_characters(operations: list[Operation]) -> None:
    j = Journal()
    failure = Failure("request", "path", "bad \x00\x1b path \ud800", location="route")
    j.record(_exchange("GET", "/\x01", 404, None, request_failures=[failure]))

    ET.fromstring(render(report_from_journal(j, operations), "junit").split("?>", 1)[1])


def test_html_is_self_contained_and_escapes_what_clients_sent(
    operations: list[Operation],
) -> None:
    j = Journal()
    evil = "/<script>alert(1)</script>"
    j.record(_exchange("GET", evil, 404, None, request_failures=[Failure("request", "path", evil)]))

    html = render(report_from_journal(j, operations), "html")

    assert '<table id="operations">' in html
    assert 'class="violation' in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html
    for external in ("http://", "https://", 'rel="stylesheet"', "src="):
        assert external not in html
    assert '<link rel="icon" href="data:,">' in html  # no favicon request to the mock


def test_markdown_summary(journal: Journal, operations: list[Operation]) -> None:
    md = render(report_from_journal(journal, operations), "md")

    assert md.startswith("## mockserver client conformance")
    assert "**Does not conform**" in md
    assert "| `GET /api/notes` | 2 | 200, 400 | 1/3 | 1 |" in md
    assert "rule `type` at `query limit`" in md


def test_write_reports_writes_every_format(
    journal: Journal, operations: list[Operation], tmp_path: Path
) -> None:
    written = write_reports(report_from_journal(journal, operations), tmp_path / "out")

    assert [p.name for p in written] == [
        "mockserver-client.json",
        "mockserver-client.junit.xml",
        "mockserver-client.html",
        "mockserver-client.md",
    ]
    assert all(p.stat().st_size > 0 for p in written)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(p.name for p in written)


def test_unknown_format_names_the_known_ones(journal: Journal, operations: list[Operation]) -> None:
    report = report_from_journal(journal, operations)
    with pytest.raises(ValueError, match="json, junit, html, md"):
        render(report, "pdf")
    with pytest.raises(ValueError, match="unknown report format"):
        write_reports(report, "/nonexistent", formats=["json", "pdf"])
    assert FORMATS == ("json", "junit", "html", "md")


def test_build_from_other_runs() -> None:
    # Given: findings from a run that is not the journal (verify, clientcheck, cassettes)
    failure = Failure("response", "status_code_conformance", "418", operation="GET /x")
    warning = Failure("response", "slow", "slow", operation="GET /x", severity=Severity.WARNING)

    report = Report.build(
        "server", [], [failure, Finding(failure, 2), warning], extra={"checks": 10}
    )

    assert [(f.failure.rule, f.count) for f in report.failures] == [
        ("status_code_conformance", 3),
        ("slow", 1),
    ]
    assert report.summary.to_dict()["checks"] == 10
    assert (report.summary.errors, report.summary.warnings, report.conforms) == (1, 1, False)
    with pytest.raises(ValueError, match="unknown report kind"):
        Report.build("nope", [], [])
