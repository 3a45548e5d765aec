"""The example cassettes in ``cassettes/``: they conform (drift check passes), a tampered
copy fails naming the interaction, and each replays through the mock as recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests
import yaml
from click.testing import CliRunner

from conftest import CONTRACTS, ROOT
from mockserver import MockServer
from mockserver.cassettes.format import cassette_files, load_all
from mockserver.cli import main

SHIPPED = ROOT / "cassettes"
PAIRS = {
    "travel": (CONTRACTS / "travel" / "openapi.yaml", "https://test.api.amadeus.com"),
    "github": (CONTRACTS / "github.yaml", "https://api.github.com"),
    "notes": (CONTRACTS / "notes.json", "https://notes.example.com"),
}


def _check(contract: Path, folder: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        main, ["check-cassettes", str(contract), "--cassettes", str(folder), *extra]
    )
    return result.exit_code, result.output


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_shipped_cassettes_conform(name: str) -> None:
    contract, _ = PAIRS[name]
    code, output = _check(contract, SHIPPED / name)
    assert code == 0, output
    assert output.startswith("ok: ")


def test_tampered_cassette_fails_naming_the_interaction(tmp_path: Path) -> None:
    # Given a copy of the travel cassettes where one recorded answer lost a required field
    folder = tmp_path / "travel"
    shutil.copytree(SHIPPED / "travel", folder)
    file = folder / "getAirportCitySearch.yaml"
    data = yaml.safe_load(file.read_text())
    body = data["interactions"][1]["response"]["body"]
    body["string"] = body["string"].replace('"id":"ANCM"', '"id":42', 1)
    file.write_text(yaml.safe_dump(data))
    contract, _ = PAIRS["travel"]

    # When check-cassettes runs
    code, output = _check(contract, folder, "--report", str(tmp_path / "report"))

    # Then it exits 1 naming the file, the interaction, the operation and the rule
    assert code == 1, output
    drift = [line for line in output.splitlines() if line.startswith("DRIFT")]
    assert len(drift) == 1, output
    assert f"{file}#1" in drift[0]
    assert "GET /v1/reference-data/locations" in drift[0]
    assert "/data/0/id" in drift[0] and "type" in drift[0]
    assert "drift: 1 of 7 interaction(s)" in output
    report = (tmp_path / "report" / "cassette-drift.json").read_text()
    assert '"offending_interactions": 1' in report
    assert (tmp_path / "report" / "cassette-drift.xml").read_text().count("<failure") == 1


def test_unreadable_cassette_is_exit_2_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions:\n- request: {method: GET\n")
    code, output = _check(PAIRS["notes"][0], tmp_path)
    assert code == 2
    assert f"{bad}: line " in output and "invalid YAML" in output


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_shipped_cassettes_replay_through_the_mock(name: str) -> None:
    contract, origin = PAIRS[name]
    folder = SHIPPED / name
    interactions = [i for c in load_all([folder]) for i in c.interactions]
    assert len(cassette_files([folder])) >= 5
    with MockServer(contract, cassettes=folder, config={"oauth": {"enforce": False}}) as mock:
        for i in interactions:
            r = requests.request(
                i.method,
                mock.url + i.uri[len(origin) :],
                data=i.request_body,
                headers={
                    k: v
                    for k, v in i.request_headers.items()
                    if k.lower() not in ("host", "content-length")
                },
                allow_redirects=False,
                timeout=10,
            )
            assert r.status_code == i.status, i.describe()
            assert r.content == i.response_body.replace(origin.encode(), mock.url.encode())
        bad = [e.to_dict() for e in mock.journal.entries() if e.verdict != "ok"]
        assert not bad
        assert {e.source for e in mock.journal.entries()} == {"cassette"}


def test_a_schemathesis_cassette_is_converted_and_replays() -> None:
    # A real `st run --report vcr` file (Ruby-VCR dialect: http_interactions)
    file = ROOT / "tests" / "cassettes" / "schemathesis-notes.yaml"
    (cassette,) = load_all([file])
    assert cassette.dialect == "ruby-vcr" and len(cassette.interactions) == 8
    recorded_host = cassette.interactions[0].uri.split("/api/")[0]
    with MockServer(CONTRACTS / "notes.json", cassettes=file) as mock:
        for i in cassette.interactions:
            r = requests.request(
                i.method,
                mock.url + i.uri[len(recorded_host) :],
                data=i.request_body,
                headers={"Content-Type": "application/json", "X-API-Key": "k"},
                timeout=10,
            )
            assert (r.status_code, r.content) == (i.status, i.response_body)
        assert {e.source for e in mock.journal.entries()} == {"cassette"}
