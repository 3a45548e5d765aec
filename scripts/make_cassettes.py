"""Regenerate the example cassettes in ``cassettes/`` (run from the repository root).

    python scripts/make_cassettes.py [--out cassettes]

For each bundled contract a mock of it plays the real API (fixed seed, fixed clock) on
127.0.0.1; ``mockserver record`` (the ``RecordingServer``, record mode ``all``) sits in
front of it, named per operation; the real client libraries the contracts target drive
it (the Amadeus SDK, PyGithub, plain ``requests``). Secrets are scrubbed by the recorder
as always. Afterwards the upstream's address (127.0.0.1 and a random port) is replaced by
the API's real origin, so the files read like recordings of the real host and do not
change from run to run. Same code, same seed: same files.
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mockserver import MockServer  # noqa: E402
from mockserver.cassettes.format import Cassette, cassette_files, dump_cassette, load_cassette  # noqa: E402
from mockserver.cli.record import RecordingServer  # noqa: E402
from mockserver.http import Headers  # noqa: E402

CONTRACTS = ROOT / "contracts"
CLOCK = 1_767_225_600.0  # 2026-01-01T00:00:00Z: tokens, limits and dates never move
FILTERS = {"drop_headers": ["Date", "Server"]}  # vary per run, carry nothing
USER_AGENT = "mockserver-make-cassettes"


def travel(url: str) -> None:
    """The Amadeus SDK: token, search, next page, one location, an unknown one, offers."""
    from amadeus import Client, Location, NotFoundError

    host, port = url.removeprefix("http://").split(":")
    amadeus = Client(
        client_id="demo-client", client_secret="demo-secret", host=host, port=int(port), ssl=False
    )
    page = amadeus.reference_data.locations.get(
        keyword="LON", subType=Location.AIRPORT, page={"limit": 5}
    )
    amadeus.next(page)
    amadeus.reference_data.location(page.data[0]["id"]).get()
    with contextlib.suppress(NotFoundError):  # the 404 is part of the recording
        amadeus.reference_data.location("ZZZZZZ").get()
    amadeus.shopping.flight_offers_search.get(
        originLocationCode="MAD",
        destinationLocationCode="ATH",
        departureDate="2026-11-01",
        adults=1,
        max=2,
    )
    amadeus.reference_data.urls.checkin_links.get(airlineCode="BA")


def github(url: str) -> None:
    """PyGithub: the OAuth web flow, the user, a repo list over two pages, one repo."""
    from urllib.parse import parse_qs, urlsplit

    from github import Auth, Github

    g = Github(base_url=url, seconds_between_requests=0, retry=None, user_agent=USER_AGENT)
    app = g.get_oauth_application("demo-app", "demo-app-secret")
    login = app.get_login_url(redirect_uri="http://localhost:8080/callback", state="state-1")
    redirect = requests.get(login, allow_redirects=False, timeout=10, headers=_ua())
    code = parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]
    token = app.get_access_token(code)
    me = Github(
        base_url=url,
        auth=Auth.Token(token.token),
        seconds_between_requests=0,
        retry=None,
        user_agent=USER_AGENT,
    )
    me.get_user().login  # noqa: B018 - PyGithub loads lazily
    octocat = me.get_user("octocat")
    octocat.name  # noqa: B018
    repos = list(octocat.get_repos())
    me.get_repo(repos[0].full_name).description  # noqa: B018
    me.get_rate_limit()


def notes(url: str) -> None:
    """Plain requests: status, list, create, read, update, delete, and a 404."""
    s = requests.Session()
    s.headers.update({"X-API-Key": "notes-key-0001", **_ua()})
    api = f"{url}/api"
    s.get(f"{api}/status", headers={"X-Request-Id": "req-1"}, timeout=10)
    s.get(f"{api}/notes", params={"limit": 3, "offset": 0}, timeout=10)
    created = s.post(f"{api}/notes", json={"title": "Recorded", "body": "by the proxy"}, timeout=10)
    note = created.json()["id"]
    s.get(f"{api}/notes/{note}", timeout=10)
    s.patch(f"{api}/notes/{note}", json={"tags": ["recorded"]}, timeout=10)
    s.delete(f"{api}/notes/{note}", timeout=10)
    s.get(f"{api}/notes/999999", timeout=10)


SCENARIOS: dict[str, tuple[Path, str, Callable[[str], None], dict[str, object]]] = {
    "travel": (CONTRACTS / "travel" / "openapi.yaml", "https://test.api.amadeus.com", travel, {}),
    "github": (
        CONTRACTS / "github.yaml",
        "https://api.github.com",
        github,
        {
            "oauth": {
                "clients": {
                    "demo-app": {
                        "secret": "demo-app-secret",
                        "redirect_uris": ["http://localhost:8080/callback"],
                    }
                }
            }
        },
    ),
    "notes": (CONTRACTS / "notes.json", "https://notes.example.com", notes, {}),
}


def _ua() -> dict[str, str]:
    return {"User-Agent": USER_AGENT}


def record(name: str, out: Path) -> list[Path]:
    """Record one scenario into ``out/name``; returns the cassette files."""
    from mockserver.behaviours.resources import datasets

    # Created items are stamped with the wall clock, not the injected one.
    datasets._now = lambda: "2026-01-01T00:00:00Z"
    contract, origin, drive, config = SCENARIOS[name]
    folder = out / name
    shutil.rmtree(folder, ignore_errors=True)
    with (
        MockServer(contract, seed=1, config=config, clock=lambda: CLOCK) as upstream,
        RecordingServer(
            upstream.url,
            folder,
            mode="all",
            contracts=[contract],
            config={"cassettes": {"filters": FILTERS}},
        ) as recorder,
    ):
        drive(recorder.url)
        local = upstream.url
    files = cassette_files([folder])
    for file in files:
        _rehost(file, local, origin)
    (folder / ".mockserver-record.lock").unlink(missing_ok=True)
    return files


def _rehost(file: Path, local: str, origin: str) -> None:
    """Make the recording read as one of ``origin`` (the API's real host)."""
    cassette = load_cassette(file)
    netloc = origin.split("://", 1)[1]
    for i in cassette.interactions:
        i.uri = i.uri.replace(local, origin)
        i.request_headers = Headers(
            (n, netloc if n.lower() == "host" else v.replace(local, origin))
            for n, v in i.request_headers.items()
        )
        i.response_headers = Headers(
            (n, v.replace(local, origin)) for n, v in i.response_headers.items()
        )
        i.response_body = i.response_body.replace(local.encode(), origin.encode())
        if i.request_body:
            i.request_body = i.request_body.replace(local.encode(), origin.encode())
    text = dump_cassette(Cassette(file, cassette.interactions, cassette.metadata))
    assert not re.search(r"127\.0\.0\.1:\d+", text), f"{file} still names the local upstream"
    file.write_text(text, encoding="utf-8")


def main() -> None:
    """Record every scenario (or those named) into ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "cassettes")
    parser.add_argument("names", nargs="*", help=f"scenarios (default: {', '.join(SCENARIOS)})")
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}; known: {', '.join(SCENARIOS)}")
    for name in args.names or list(SCENARIOS):
        files = record(name, args.out)
        total = sum(len(load_cassette(f).interactions) for f in files)
        print(f"{name}: {len(files)} cassettes, {total} interactions -> {args.out / name}")


if __name__ == "__main__":
    main()
