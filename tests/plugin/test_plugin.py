"""The pytest plugin, through pytester: fixtures, marker, options, report, pytest-xdist."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest

from conftest import CONTRACTS
from mockserver import MockServer

pytest_plugins = ["pytester"]

TRAVEL = CONTRACTS / "travel" / "openapi.yaml"
GITHUB = CONTRACTS / "github.yaml"
NOTES = CONTRACTS / "notes.json"
CLIENTS = Path(__file__).resolve().parent.parent / "clientcheck" / "clients.py"


def test_one_server_per_configuration_is_reused_and_reset_between_tests(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import requests

        PORTS = []

        def test_first(mock_api):
            PORTS.append(mock_api.port)
            requests.get(mock_api.url + "/v1/reference-data/locations")
            mock_api.scenario("GET /v1/reference-data/locations", status=503)
            assert len(mock_api.journal) == 1

        def test_second_sees_a_fresh_server(mock_api):
            PORTS.append(mock_api.port)
            assert PORTS[0] == PORTS[1]  # the same session server...
            assert len(mock_api.journal) == 0  # ...reset: no traffic, no scenario
            assert mock_api.pipeline.faults.list() == []
            assert mock_api.host == "127.0.0.1" and mock_api.url.endswith(str(mock_api.port))
        """
    )

    pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_the_marker_chooses_contract_config_and_seed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest, requests

        @pytest.mark.mockserver(contract={str(GITHUB)!r}, config={{"journal_size": 7}}, seed=3)
        def test_github(mock_api):
            assert requests.get(mock_api.url + "/users/octocat").json()["login"]
            assert mock_api.config.seed == 3 and mock_api.config.journal_size == 7

        def test_default_is_the_travel_api(mock_api):
            assert mock_api.pipeline.contracts[0].name == "travel"

        @pytest.mark.mockserver(contract={str(GITHUB)!r}, seed=4)
        def test_another_seed_is_another_server(mock_api):
            assert mock_api.config.seed == 4
        """
    )

    pytester.runpytest().assert_outcomes(passed=3)


def test_a_marker_keyword_it_does_not_know_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.mockserver(contracts="x.yaml")
        def test_x(mock_api):
            pass
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown keyword 'contracts'; known: contract, cassettes*"])


def test_the_contract_option_and_the_config_fixture_set_the_defaults(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def mockserver_config():
            return {"pagination": {"collection_size": 5}}
        """
    )
    pytester.makepyfile(
        """
        def test_notes(mock_api, mockserver_contract):
            assert [c.name for c in mock_api.pipeline.contracts] == ["notes"]
            assert mock_api.config.pagination.collection_size == 5
        """
    )

    pytester.runpytest("--mockserver-contract", str(NOTES)).assert_outcomes(passed=1)


def test_factory_servers_are_stopped_after_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest, requests

        SERVERS = []

        def test_start_two(mock_api_factory):
            SERVERS.append(mock_api_factory({str(GITHUB)!r}, seed=1))
            SERVERS.append(mock_api_factory(config={{"seed": 2}}))
            assert SERVERS[0].port != SERVERS[1].port
            assert requests.get(SERVERS[0].url + "/users/octocat").status_code == 200

        def test_they_are_gone():
            with pytest.raises(Exception, match="not running"):
                SERVERS[0].port
        """
    )

    pytester.runpytest().assert_outcomes(passed=2)


def test_the_option_group_and_the_marker_are_documented(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest("--help").stdout.str()
    markers = pytester.runpytest("--markers").stdout.str()

    assert "mock API servers from OpenAPI contracts" in help_text
    for option in ("--mockserver-contract", "--mockserver-report", "--mockserver-report-format"):
        assert option in help_text
    assert "@pytest.mark.mockserver(contract=None, cassettes=None, config=None, seed=None)" in (
        markers
    )


def test_an_unknown_report_format_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_x(): pass")

    result = pytester.runpytest("--mockserver-report", "out", "--mockserver-report-format", "pdf")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown format 'pdf'; known: json, junit, html, md*"])


def test_no_report_option_no_files(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import requests

        def test_x(mock_api):
            requests.get(mock_api.url + "/v1/reference-data/locations")
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)

    assert not list(pytester.path.rglob("mockserver-client.*"))


REPORT_TESTS = """
import pytest, requests

@pytest.mark.parametrize("n", range({n}))
def test_travel(mock_api, n):
    requests.get(mock_api.url + "/v1/reference-data/locations")  # 401: no token

@pytest.mark.parametrize("n", range({n}))
@pytest.mark.mockserver(contract={github!r})
def test_github(mock_api, n):
    requests.get(mock_api.url + "/users/octocat")

def test_factory(mock_api_factory):
    requests.get(mock_api_factory({github!r}).url + "/nope")
"""


def _report(folder: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((folder / "mockserver-client.json").read_text())
    return data


def _calls(report: dict[str, object]) -> dict[str, int]:
    operations = report["operations"]
    assert isinstance(operations, list)
    return {o["operation"]: o["calls"] for o in operations}


def test_the_session_report_merges_every_server_and_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(REPORT_TESTS.format(n=3, github=str(GITHUB)))

    result = pytester.runpytest("--mockserver-report", "reports")

    result.assert_outcomes(passed=7)
    result.stdout.fnmatch_lines(["*mockserver conformance report*", "*mockserver-client.json"])
    folder = pytester.path / "reports"
    assert sorted(p.name for p in folder.iterdir()) == [
        "mockserver-client.html",
        "mockserver-client.json",
        "mockserver-client.junit.xml",
        "mockserver-client.md",
    ]
    report = _report(folder)
    calls = _calls(report)
    assert calls["GET /v1/reference-data/locations"] == 3
    assert calls["GET /users/{username}"] == 3
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["requests"] == 7 and summary["unmatched"] == 1
    assert summary["servers"] == 3  # travel and github from the pool, one from the factory
    assert summary["request_violations"] == 3  # the travel calls without a token


def test_under_xdist_the_controller_writes_one_report_of_every_worker(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(REPORT_TESTS.format(n=6, github=str(GITHUB)))

    result = pytester.runpytest_subprocess(
        "-n", "2", "--mockserver-report", "reports", "--mockserver-report-format", "json,md"
    )

    result.assert_outcomes(passed=13)
    folder = pytester.path / "reports"
    assert sorted(p.name for p in folder.iterdir()) == [
        "mockserver-client.json",
        "mockserver-client.md",
    ]
    report = _report(folder)
    calls = _calls(report)
    assert calls["GET /v1/reference-data/locations"] == 6
    assert calls["GET /users/{username}"] == 6
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["requests"] == 13 and summary["workers"] == 2


def test_client_check_fails_the_test_with_the_minimal_answer(pytester: pytest.Pytester) -> None:
    pytester.syspathinsert(CLIENTS.parent)
    pytester.makepyfile(
        """
        from clients import ApiError, careful_first_airport, naive_first_airport

        OP = "GET /v1/reference-data/locations"

        def test_naive(client_check):
            client_check(OP, naive_first_airport, seed=5, max_examples=30)

        def test_careful(client_check):
            result = client_check(OP, careful_first_airport, ApiError, max_examples=20)
            assert result.ok
        """
    )

    result = pytester.runpytest()

    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*ClientCheckFailed*replay with seed=5*",
            "*IndexError: list index out of range*",
            '*{"data": []}*',
        ]
    )


CASSETTE = """\
version: 1
interactions:
- request:
    method: GET
    uri: https://api.github.com/users/octocat
    body: null
    headers: {}
  response:
    status: {code: 200, message: OK}
    headers:
      Content-Type: [application/json]
    body: {string: '{"login": "from-the-cassette", "id": 1}'}
"""


@pytest.mark.skipif(
    "cassettes" not in inspect.signature(MockServer).parameters,
    reason="MockServer(cassettes=...) is not there yet",
)
def test_the_cassettes_keyword_replays_recordings(pytester: pytest.Pytester) -> None:
    (pytester.path / "tapes").mkdir()
    (pytester.path / "tapes" / "octocat.yaml").write_text(CASSETTE)
    pytester.makepyfile(
        f"""
        import pytest, requests

        @pytest.mark.mockserver(contract={str(GITHUB)!r}, cassettes="tapes")
        def test_recorded(mock_api):
            user = requests.get(mock_api.url + "/users/octocat").json()
            assert user["login"] == "from-the-cassette"
            assert mock_api.journal.entries()[-1].source == "cassette"
        """
    )

    pytester.runpytest().assert_outcomes(passed=1)
