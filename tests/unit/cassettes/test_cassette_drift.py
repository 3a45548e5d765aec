"""Drift: each recorded interaction against the contract, findings that say where."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import CONTRACTS
from mockserver.cassettes.drift import check_cassettes
from mockserver.cassettes.format import Cassette, Interaction
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract
from mockserver.http import Headers

NOTE = {
    "id": 1,
    "title": "t",
    "body": "b",
    "tags": [],
    "created_at": "2026-01-01T00:00:00Z",
    "updated_at": "2026-01-01T00:00:00Z",
}


JSON = "application/json"


@pytest.fixture(scope="module")
def notes() -> Contract:
    return load_contract(CONTRACTS / "notes.json")


def _get(
    path: str, status: int, body: object, content_type: str = "application/json"
) -> Interaction:
    return Interaction(
        "GET",
        f"https://notes.example.com{path}",
        Headers({"X-API-Key": "scrubbed-x_api_key-1"}),
        None,
        status,
        "",
        Headers({"Content-Type": content_type}),
        json.dumps(body).encode(),
        file="notes.yaml",
    )


def _check(contract: Contract, *interactions: Interaction) -> list[str]:
    for n, i in enumerate(interactions):
        i.index = n
    report = check_cassettes([contract], [Cassette(Path("notes.yaml"), list(interactions))])
    return [f.line() for f in report.errors]


def test_a_conforming_recording_has_no_findings(notes: Contract) -> None:
    assert _check(notes, _get("/api/notes/1", 200, NOTE)) == []


@pytest.mark.parametrize(
    ("interaction", "words"),
    [
        (_get("/api/notes/1", 200, {**NOTE, "id": "one"}), ["/id", "type"]),
        (_get("/api/notes/1", 200, {"body": "no title"}), ["required"]),
        (_get("/api/notes/1", 418, NOTE), ["status 418"]),
        (_get("/api/notes/1", 200, NOTE, "text/html"), ["content-type"]),
        (_get("/api/nothing", 200, {}), ["no operation", "path"]),
        (_get("/api/notes?limit=zero", 200, [NOTE]), ["query", "limit"]),
    ],
)
def test_drift_names_file_index_operation_and_rule(
    notes: Contract, interaction: Interaction, words: list[str]
) -> None:
    lines = _check(notes, _get("/api/notes/1", 200, NOTE), interaction)
    assert lines, "the tampered interaction must be reported"
    assert all(line.startswith("notes.yaml#1 GET /api/") for line in lines)
    for word in words:
        assert any(word in line for line in lines), (word, lines)


def test_reports_in_json_markdown_and_junit(notes: Contract, tmp_path: Path) -> None:
    interactions = [_get("/api/notes/1", 200, NOTE), _get("/api/notes/1", 200, {"title": 1})]
    for n, i in enumerate(interactions):
        i.index = n
    report = check_cassettes([notes], [Cassette(Path("notes.yaml"), interactions)])
    assert not report.ok and report.offending() == 1
    json_file, md_file, xml_file = report.write(tmp_path)
    data = json.loads(json_file.read_text())
    assert data["interactions"] == 2 and data["offending_interactions"] == 1
    assert data["findings"][0]["operation"] == "GET /api/notes/{noteId}"
    assert "| notes.yaml | 1 |" in md_file.read_text()
    suite = ET.parse(xml_file).getroot()
    assert suite.get("failures") == "1"
