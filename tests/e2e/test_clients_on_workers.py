"""Real clients against ``serve --workers 2`` under each server (gunicorn, granian), state
in the private redis-server: what the single-process tests show must hold when requests
land on different workers (and, under granian, when Rust writes the HTTP)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest
import yaml
from amadeus import Client, ClientError, Location, NotFoundError

from tests.fixtures.serve import Serve

pytestmark = pytest.mark.e2e

SIZE = 42
CONFIG = {
    "oauth": {"clients": {"demo-client": {"secret": "demo-secret"}}},
    "pagination": {"collection_size": SIZE},
    "rate_limit": {
        "operations": {
            "GET /v2/reference-data/urls/checkin-links": {"requests": 3, "per_seconds": 86400}
        }
    },
}


@pytest.fixture(scope="module", params=["gunicorn", "granian"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[int]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    config = tmp_path_factory.mktemp("workers") / "mockserver.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    serve = Serve(
        "--workers", "2", "--threads", "2", "--server", request.param, "--config", str(config)
    )  # fmt: skip
    try:
        yield serve.wait().port
    finally:
        serve.stop()


def amadeus(port: int) -> Client:
    return Client(
        client_id="demo-client", client_secret="demo-secret", host="127.0.0.1", port=port, ssl=False
    )


def test_amadeus_sdk_walks_every_page_across_workers(served: int) -> None:
    client = amadeus(served)
    page = client.reference_data.locations.get(
        keyword="LON", subType=Location.AIRPORT, page={"limit": 10}
    )
    seen: list[str] = []
    while page is not None:
        seen.extend(item["id"] for item in page.data)
        page = client.next(page)
        assert len(seen) <= SIZE, "next() never ended"
    assert len(seen) == len(set(seen)) == SIZE


def test_amadeus_sdk_not_found_and_shared_rate_limit(served: int) -> None:
    client = amadeus(served)
    with pytest.raises(NotFoundError):
        client.reference_data.location("ZZZZZZ").get()
    codes = []
    for _ in range(6):  # new connections each time: both workers count into one limit
        try:
            codes.append(client.reference_data.urls.checkin_links.get(airlineCode="BA").status_code)
        except ClientError as exc:
            codes.append(exc.response.status_code)
            assert int(exc.response.headers["Retry-After"]) >= 1
    assert codes == [200, 200, 200, 429, 429, 429]


def test_httpx_keep_alive_token_from_one_connection_works_on_many(served: int) -> None:
    base = f"http://127.0.0.1:{served}"
    token = httpx.post(
        base + "/v1/security/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "demo-client",
            "client_secret": "demo-secret",
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    params = {"subType": "AIRPORT", "keyword": "LON", "page[limit]": "5"}
    with httpx.Client(base_url=base, headers=headers) as kept:  # one connection, reused
        for _ in range(20):
            resp = kept.get("/v1/reference-data/locations", params=params)
            assert resp.status_code == 200
            assert resp.headers["content-type"] == "application/vnd.amadeus+json"
            assert len(resp.json()["data"]) == 5
    for _ in range(10):  # fresh connections, spread over the workers
        assert (
            httpx.get(
                base + "/v1/reference-data/locations", params=params, headers=headers
            ).status_code
            == 200
        )
    bad = httpx.get(
        base + "/v1/reference-data/locations", params={"page[limit]": "x"}, headers=headers
    )
    assert bad.status_code == 400
    assert "subType" in bad.text and "page[limit]" in bad.text
