"""Real clients replay the shipped, scrubbed recordings, OAuth flows included.

The Amadeus SDK asks for a token with its own credentials, gets the recorded (scrubbed)
token, and that placeholder opens the recorded calls; PyGithub walks the GitHub web flow
(authorize redirect, code, token) from the recording, then the user and two pages of
repositories. Another seed makes the mock's own answers differ, so equality with the
recording shows the cassette answered.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from amadeus import Client, Location, NotFoundError
from github import Auth, Github

from conftest import CONTRACTS, ROOT
from mockserver import MockServer
from mockserver.cassettes.format import load_cassette

pytestmark = pytest.mark.e2e
SHIPPED = ROOT / "cassettes"


def test_amadeus_sdk_replays_the_recorded_token_flow() -> None:
    recorded = load_cassette(SHIPPED / "travel" / "getAirportCitySearch.yaml").interactions
    with MockServer(
        CONTRACTS / "travel" / "openapi.yaml", cassettes=SHIPPED / "travel", seed=99
    ) as mock:
        amadeus = Client(
            client_id="someone-else", client_secret="x", host="127.0.0.1", port=mock.port, ssl=False
        )
        page = amadeus.reference_data.locations.get(
            keyword="LON", subType=Location.AIRPORT, page={"limit": 5}
        )
        expected = recorded[0].response_body.replace(
            b"https://test.api.amadeus.com", mock.url.encode()
        )
        assert page.body == expected.decode()
        second = amadeus.next(page)
        assert second is not None and second.data[0]["id"] == "ANCM"
        assert amadeus.reference_data.location(page.data[0]["id"]).get().data["id"] == "CLON"
        with pytest.raises(NotFoundError):
            amadeus.reference_data.location("ZZZZZZ").get()
        entries = mock.journal.entries()
        assert entries[0].operation == "POST /v1/security/oauth2/token"
        assert {e.source for e in entries} == {"cassette"}
        assert {e.verdict for e in entries} == {"ok"}


def test_pygithub_replays_the_recorded_web_flow() -> None:
    with MockServer(CONTRACTS / "github.yaml", cassettes=SHIPPED / "github", seed=99) as mock:
        g = Github(base_url=mock.url, seconds_between_requests=0, retry=None)
        app = g.get_oauth_application("demo-app", "not-the-recorded-secret")
        login = app.get_login_url(redirect_uri="http://localhost:8080/callback", state="state-1")
        redirect = requests.get(login, allow_redirects=False, timeout=10)
        assert redirect.status_code == 302
        code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]
        assert code.startswith("scrubbed-code-")
        token = app.get_access_token(code)
        assert token.token.startswith("scrubbed-access_token-")
        me = Github(
            base_url=mock.url, auth=Auth.Token(token.token), seconds_between_requests=0, retry=None
        )
        assert me.get_user().login
        repos = [r.full_name for r in me.get_user("octocat").get_repos()]
        pages = load_cassette(SHIPPED / "github" / "repos_list-for-user.yaml").interactions
        assert repos == [r["full_name"] for p in pages for r in json.loads(p.response_body)]
        assert len(repos) == 42
        assert {e.source for e in mock.journal.entries()} == {"cassette"}
