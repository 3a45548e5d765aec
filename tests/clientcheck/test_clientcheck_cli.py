"""``mockserver clientcheck``: exit 0 when the client survives, 1 with answers, 2 on bad input."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from conftest import CONTRACTS
from mockserver.cli import main

TRAVEL = str(CONTRACTS / "travel" / "openapi.yaml")
CLIENTS = "tests.clientcheck.clients"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["clientcheck", *args])
    return result.exit_code, result.output


def test_a_naive_client_exits_1_with_the_minimal_answer_and_the_seed() -> None:
    code, out = run(
        TRAVEL,
        "-o",
        "GET /v1/reference-data/locations",
        "--client",
        f"{CLIENTS}:naive_first_airport",
        "--seed",
        "1",
        "--max-examples",
        "25",
    )

    assert code == 1
    assert "replay with seed=1" in out
    assert '{"data": []}' in out


def test_a_careful_client_exits_0_and_the_report_is_written(tmp_path: Path) -> None:
    code, out = run(
        "-o",
        "getAirportCitySearch",
        "--client",
        f"{CLIENTS}:careful_first_airport",
        "--expect",
        f"{CLIENTS}:ApiError",
        "--max-examples",
        "10",
        "--report",
        str(tmp_path),
        "--json",
    )

    assert code == 0, out
    result = json.loads(out[out.index("{") :])
    assert result["ok"] is True and result["examples"] == 10
    report = json.loads((tmp_path / "mockserver-client.json").read_text())
    calls = {o["operation"]: o["calls"] for o in report["operations"]}
    assert calls["GET /v1/reference-data/locations"] >= 11  # the baseline and ten answers


def test_bad_input_exits_2_with_one_line() -> None:
    cases = [
        ("-o", "GET /nope", "--client", f"{CLIENTS}:naive_first_airport"),
        ("-o", "getAirportCitySearch", "--client", f"{CLIENTS}:nothing_here"),
        ("-o", "getAirportCitySearch", "--client", "no_such_module_here:f"),
        ("-o", "getAirportCitySearch", "--client", "no-colon"),
        ("-o", "x", "--client", f"{CLIENTS}:naive_first_airport", "--expect", f"{CLIENTS}:QUERY"),
        ("missing.yaml", "-o", "x", "--client", f"{CLIENTS}:naive_first_airport"),
    ]
    for args in cases:
        code, out = run(*args)
        assert code == 2, (args, out)
        assert out.startswith("mockserver: error: "), out
        assert len(out.strip().splitlines()) == 1, out
