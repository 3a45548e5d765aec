"""``check_client`` against a real mock: it catches the naive client and passes the careful one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer
from mockserver.clientcheck import (
    ClientCheckError,
    ClientCheckFailed,
    assert_client_handles,
    check_client,
)
from tests.clientcheck.clients import (
    LOCATIONS_PATH,
    ApiError,
    careful_first_airport,
    naive_first_airport,
    retry_after,
)

TRAVEL = CONTRACTS / "travel" / "openapi.yaml"
LOCATIONS = "GET /v1/reference-data/locations"
SEED = 20240611


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(TRAVEL) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _clean(server: MockServer) -> None:
    server.reset()


def test_the_naive_client_breaks_on_an_empty_page_and_the_minimal_answer_shows_it(
    server: MockServer,
) -> None:
    result = check_client(server, LOCATIONS, naive_first_airport, seed=SEED)

    assert not result.ok
    by_type = {type(f.error).__name__: f for f in result.failures}
    empty = by_type["IndexError"]
    assert (empty.answer.status, empty.answer.body) == (200, {"data": []})
    assert "clients.py" in empty.where
    assert f"seed={SEED}" in result.summary()
    assert '{"data": []}' in result.summary()


def test_the_naive_client_breaks_on_declared_errors_because_it_assumes_200(
    server: MockServer,
) -> None:
    result = check_client(server, LOCATIONS, naive_first_airport, seed=SEED)

    by_type = {type(f.error).__name__: f for f in result.failures}
    assumed_200 = by_type["KeyError"]
    assert str(assumed_200.error) == "'data'"
    assert assumed_200.answer.status >= 400
    # shrunk: the smallest error body the contract allows (one issue, no fields)
    assert assumed_200.answer.body == {"errors": [{}]}


def test_the_careful_client_survives_every_answer(server: MockServer) -> None:
    result = check_client(server, LOCATIONS, careful_first_airport, (ApiError,), seed=SEED)

    assert result.ok, result.summary()
    assert result.exercised == result.examples == 50
    # it met successes, declared errors, a 429 and a 401 (then renewed its token)
    statuses = {kind.split()[1] for kind in result.kinds}
    assert {"200", "401", "429", "500"} <= statuses
    assert "handled 50 contract-valid answers" in result.summary()


def test_the_same_seed_replays_the_same_findings(server: MockServer) -> None:
    first = check_client(server, LOCATIONS, naive_first_airport, seed=7, max_examples=20)
    again = check_client(server, LOCATIONS, naive_first_airport, seed=7, max_examples=20)

    assert [(f.title, f.answer) for f in first.failures] == [
        (f.title, f.answer) for f in again.failures
    ]


def test_assert_client_handles_fails_the_test_with_the_answer_and_the_seed(
    server: MockServer,
) -> None:
    with pytest.raises(AssertionError) as info:
        assert_client_handles(server, LOCATIONS, naive_first_airport, seed=SEED)

    assert isinstance(info.value, ClientCheckFailed)
    message = str(info.value)
    assert "IndexError: list index out of range" in message
    assert '{"data": []}' in message
    assert f"replay with seed={SEED}" in message


def test_contract_paths_start_and_stop_a_server_of_their_own() -> None:
    result = assert_client_handles(
        TRAVEL, "getAirportCitySearch", careful_first_airport, ApiError, max_examples=10
    )

    assert result.operation == LOCATIONS
    assert result.examples == 10


def test_the_server_keeps_no_scenario_afterwards(server: MockServer) -> None:
    check_client(server, LOCATIONS, naive_first_airport, seed=SEED, max_examples=10)

    assert server.pipeline.faults.list() == []
    # and the traffic is in its journal, for the conformance report
    assert any(e.operation == LOCATIONS for e in server.journal.entries())


def test_a_client_that_fails_on_the_ordinary_answer_is_reported_without_a_search(
    server: MockServer,
) -> None:
    def broken(base_url: str) -> None:
        requests.get(base_url + LOCATIONS_PATH, timeout=10)
        raise RuntimeError("always")

    result = check_client(server, LOCATIONS, broken, seed=1)

    assert [f.title for f in result.failures] == ["RuntimeError: always"]
    assert result.failures[0].answer.kind == "ordinary"
    assert result.failures[0].answer.status == 401  # it sent no token
    assert result.examples == 0


def test_a_client_that_never_calls_the_operation_cannot_be_checked(server: MockServer) -> None:
    def elsewhere(base_url: str) -> None:
        requests.get(base_url + "/v2/reference-data/urls/checkin-links", timeout=10)

    with pytest.raises(ClientCheckError, match="never called GET /v1/reference-data/locations"):
        check_client(server, LOCATIONS, elsewhere)


def test_an_unknown_operation_lists_the_known_ones(server: MockServer) -> None:
    with pytest.raises(ClientCheckError, match="known: GET /v1/reference-data/locations"):
        check_client(server, "GET /nope", naive_first_airport)


def test_documented_errors_of_the_client_are_not_failures(server: MockServer) -> None:
    def strict(base_url: str) -> Any:
        raise ApiError(500, "refuses everything")

    # never reaching the operation is the only problem left
    with pytest.raises(ClientCheckError, match="never called"):
        check_client(server, LOCATIONS, strict, ApiError)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, 0.0), ("0", 0.0), ("1", 0.1), ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("soon", 0.0)],
)
def test_the_careful_client_reads_both_retry_after_forms(
    header: str | None, seconds: float
) -> None:
    assert retry_after(header) == seconds


@pytest.mark.e2e
def test_the_amadeus_sdk_survives_every_answer_of_location_search(server: MockServer) -> None:
    from amadeus import Client, Location, ResponseError

    def sdk(base_url: str) -> list[str]:
        amadeus = Client(
            client_id="demo-client",
            client_secret="demo-secret",
            host="127.0.0.1",
            port=int(base_url.rsplit(":", 1)[1]),
            ssl=False,
        )
        page = amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
        return [item["name"] for item in page.data]

    result = check_client(server, LOCATIONS, sdk, ResponseError, seed=SEED, max_examples=30)

    assert result.ok, result.summary()
