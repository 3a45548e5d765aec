"""Offline tests of code that uses the Amadeus SDK: the mock plays the Amadeus API."""

import pytest
from amadeus import AuthenticationError, Client, Location, NotFoundError, ResponseError


@pytest.fixture(scope="session")
def mockserver_config():
    # only this application may get a token; every key of mockserver.yaml works here
    return {"oauth": {"clients": {"my-app": {"secret": "my-secret"}}}}


def connect(mock_api):
    return Client(
        client_id="my-app",
        client_secret="my-secret",
        host=mock_api.host,
        port=mock_api.port,
        ssl=False,
    )


@pytest.fixture
def amadeus(mock_api):
    return connect(mock_api)


def test_airports_matching_a_keyword(amadeus):
    response = amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    assert response.status_code == 200
    assert response.data and all(place["name"] for place in response.data)


def test_next_walks_every_page_once(amadeus):
    page = amadeus.reference_data.locations.get(
        keyword="LON", subType=Location.AIRPORT, page={"limit": 10}
    )
    seen = []
    while page is not None:
        seen += [place["id"] for place in page.data]
        page = amadeus.next(page)
    assert len(seen) == len(set(seen)) == 42  # the contract's collection_size


def test_an_unknown_location_is_not_found(amadeus):
    with pytest.raises(NotFoundError):
        amadeus.reference_data.location("ZZZZZZ").get()


def test_a_429_is_a_response_error(amadeus, mock_api):
    mock_api.scenario("GET /v1/reference-data/locations", status=429, times=1)
    with pytest.raises(ResponseError) as info:
        amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    assert info.value.response.status_code == 429


def test_a_revoked_token_is_an_authentication_error(amadeus, mock_api):
    amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
    mock_api.expire_tokens()  # the SDK keeps its token until it thinks it ran out
    with pytest.raises(AuthenticationError):
        amadeus.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)


def test_the_sdk_survives_every_answer_the_contract_allows(mock_api, client_check):
    def search(base_url):  # a new SDK client per answer, as in each test above
        sdk = connect(mock_api)
        places = sdk.reference_data.locations.get(keyword="LON", subType=Location.AIRPORT)
        return [place["name"] for place in places.data]

    client_check("GET /v1/reference-data/locations", search, ResponseError, max_examples=25)
