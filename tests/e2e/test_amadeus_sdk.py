"""The real ``amadeus`` SDK from PyPI, unchanged, against the mock.

Against the bundled travel contract and against Amadeus' own published contracts
(``../shared/contracts-external/amadeus/json``) with a config that adds what those omit
(they declare no security: ``oauth.require`` turns the token on for every operation).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from amadeus import AuthenticationError, Client, ClientError, Location, NotFoundError

from conftest import CONTRACTS, EXTERNAL
from mockserver import MockServer

pytestmark = pytest.mark.e2e

AMADEUS_DIR = EXTERNAL / "amadeus" / "json"
SIZE = 42
CLIENTS = {"demo-client": {"secret": "demo-secret"}}

BUNDLED_CONFIG: dict[str, Any] = {
    "oauth": {"clients": CLIENTS},
    "pagination": {"collection_size": SIZE},
    "rate_limit": {
        "operations": {
            "GET /v2/reference-data/urls/checkin-links": {"requests": 3, "per_seconds": 3600}
        }
    },
}
EXTERNAL_CONFIG: dict[str, Any] = {
    "oauth": {"clients": CLIENTS, "require": ["*"]},
    "pagination": {"collection_size": SIZE},
    "rate_limit": {
        "operations": {
            "GET /v2/reference-data/urls/checkin-links": {"requests": 3, "per_seconds": 3600}
        }
    },
}


def _targets() -> list[Any]:
    targets = [
        pytest.param(([CONTRACTS / "travel" / "openapi.yaml"], BUNDLED_CONFIG), id="bundled-travel")
    ]
    if AMADEUS_DIR.is_dir():
        targets.append(
            pytest.param(
                (sorted(AMADEUS_DIR.glob("*.json")), EXTERNAL_CONFIG), id="amadeus-published"
            )
        )
    else:
        targets.append(
            pytest.param(
                None,
                id="amadeus-published",
                marks=pytest.mark.skip(reason="../shared/contracts-external is not present"),
            )
        )
    return targets


@pytest.fixture(params=_targets())
def server(request: pytest.FixtureRequest) -> Iterator[MockServer]:
    contracts, config = request.param
    with MockServer(contracts, config=config) as srv:
        yield srv


def client(server: MockServer, secret: str = "demo-secret") -> Client:
    return Client(
        client_id="demo-client", client_secret=secret, host="127.0.0.1", port=server.port, ssl=False
    )


def test_token_is_issued_and_locations_answer(server: MockServer) -> None:
    amadeus = client(server)
    response = amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    assert response.status_code == 200
    assert isinstance(response.data, list) and response.data
    ops = [e.operation for e in server.journal.entries()]
    assert ops[0] == "POST /v1/security/oauth2/token"


def test_walking_next_yields_the_whole_collection(server: MockServer) -> None:
    amadeus = client(server)
    page = amadeus.reference_data.locations.get(
        keyword="LON", subType=Location.AIRPORT, page={"limit": 10}
    )
    seen: list[str] = []
    pages = 0
    while page is not None:
        pages += 1
        seen.extend(item["id"] for item in page.data)
        page = amadeus.next(page)
        assert pages <= SIZE, "next() never ended"
    assert len(seen) == SIZE
    assert len(set(seen)) == SIZE
    assert pages == 5


def test_wrong_secret_is_an_authentication_error(server: MockServer) -> None:
    amadeus = client(server, secret="wrong")
    with pytest.raises(AuthenticationError) as info:
        amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    assert info.value.response.status_code == 401


def test_unknown_location_is_not_found(server: MockServer) -> None:
    amadeus = client(server)
    with pytest.raises(NotFoundError) as info:
        amadeus.reference_data.location("ZZZZZZ").get()
    assert info.value.response.status_code == 404


def test_known_location_is_found(server: MockServer) -> None:
    amadeus = client(server)
    first = amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT).data[0]
    one = amadeus.reference_data.location(first["id"]).get()
    assert one.data["id"] == first["id"]


def test_past_the_limit_is_a_client_error_429(server: MockServer) -> None:
    amadeus = client(server)
    for _ in range(3):
        amadeus.reference_data.urls.checkin_links.get(airlineCode="BA")
    with pytest.raises(ClientError) as info:
        amadeus.reference_data.urls.checkin_links.get(airlineCode="BA")
    assert info.value.response.status_code == 429
    assert int(info.value.response.headers["Retry-After"]) >= 1
    body = info.value.response.result
    assert body["errors"][0]["code"] == 38194


def test_flight_offers_search_and_pricing(server: MockServer) -> None:
    amadeus = client(server)
    offers = amadeus.shopping.flight_offers_search.get(
        originLocationCode="MAD",
        destinationLocationCode="ATH",
        departureDate="2026-12-01",
        adults=1,
        max=2,
    )
    assert offers.status_code == 200
    assert offers.data and offers.data[0]["type"] == "flight-offer"
    priced = amadeus.shopping.flight_offers.pricing.post(offers.data[0])
    assert priced.status_code == 200
    # the bundled contract says "flight-offers-pricing"; Amadeus' own says "flight-offer-pricing"
    assert priced.data["type"] in ("flight-offers-pricing", "flight-offer-pricing")
    assert priced.data["flightOffers"]


def test_expired_token_is_refused_and_never_retried(server: MockServer) -> None:
    amadeus = client(server)
    amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    server.expire_tokens()
    # the SDK caches its token until expires_in runs out and never re-authenticates on 401
    with pytest.raises(AuthenticationError):
        amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)


def test_every_answer_conformed(server: MockServer) -> None:
    amadeus = client(server)
    amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    bad = [
        e.to_dict()
        for e in server.journal.entries()
        if e.response_failures and any(f.severity == "error" for f in e.response_failures)
    ]
    assert not bad
