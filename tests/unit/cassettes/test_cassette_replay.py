"""Replay: vcrpy's matchers over an index, play order, repeat policies, misses explained."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from mockserver.cassettes.format import Cassette, Interaction
from mockserver.cassettes.replay import Miss, Played, Replayer, granted_token
from mockserver.config import CassetteConfig
from mockserver.http import Headers, MockRequest, MockResponse


def _interaction(
    method: str = "GET",
    uri: str = "https://api.example.com/items?page=1",
    body: bytes | None = None,
    answer: str = "a",
    headers: dict[str, str] | None = None,
    index: int = 0,
) -> Interaction:
    return Interaction(
        method,
        uri,
        Headers(headers or {"Content-Type": "application/json"}),
        body,
        200,
        "OK",
        Headers({"Content-Type": "text/plain", "Date": "x", "Connection": "close"}),
        answer.encode(),
        file="c.yaml",
        index=index,
    )


def _replayer(*interactions: Interaction, **config: object) -> Replayer:
    return Replayer([Cassette(Path("c.yaml"), list(interactions))], CassetteConfig(**config))  # type: ignore[arg-type]


def _request(
    method: str = "GET",
    url: str = "http://127.0.0.1:5000/items?page=1",
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> MockRequest:
    return MockRequest.from_url(
        method, url, body=body, headers=headers or {"Content-Type": "application/json"}
    )


def _answer(outcome: Played | Miss) -> str:
    assert isinstance(outcome, Played), outcome
    return outcome.response.body.decode()


def test_recorded_host_is_ignored_and_server_headers_are_not_replayed() -> None:
    replayer = _replayer(_interaction())
    outcome = replayer.play(_request())
    assert _answer(outcome) == "a"
    assert isinstance(outcome, Played)
    assert outcome.origin == "https://api.example.com"
    assert outcome.response.headers.get("Date") is None
    assert outcome.response.headers.get("Connection") is None


def test_matches_play_in_order_then_the_last_repeats() -> None:
    replayer = _replayer(_interaction(answer="1"), _interaction(answer="2"))
    assert [_answer(replayer.play(_request())) for _ in range(4)] == ["1", "2", "2", "2"]
    replayer.rewind()
    assert _answer(replayer.play(_request())) == "1"


def test_cycle_starts_over() -> None:
    replayer = _replayer(_interaction(answer="1"), _interaction(answer="2"), repeat="cycle")
    assert [_answer(replayer.play(_request())) for _ in range(5)] == ["1", "2", "1", "2", "1"]


def test_error_refuses_once_every_match_played() -> None:
    replayer = _replayer(_interaction(answer="1"), repeat="error")
    assert _answer(replayer.play(_request())) == "1"
    miss = replayer.play(_request())
    assert isinstance(miss, Miss) and miss.exhausted == 1
    assert "already played" in miss.detail()


# One request differs from the recording in one attribute per row.
BODY = b'{"x": 1}'
DIFFERENCES = {
    "method": _request(method="POST", body=BODY),
    "path": _request(url="http://127.0.0.1:5000/other?page=1", body=BODY),
    "query": _request(url="http://127.0.0.1:5000/items?page=2", body=BODY),
    "body": _request(body=b'{"x": 2}'),
    "headers": _request(headers={"Content-Type": "application/json", "X-Trace": "1"}, body=BODY),
}
MATCHERS = ["method", "path", "query", "body", "headers"]


@pytest.mark.parametrize(
    ("differs", "match_on"),
    [
        (d, list(m))
        for d in DIFFERENCES
        for n in (1, 2, 3)
        for m in itertools.combinations(MATCHERS, n)
    ],
)
def test_difference_table(differs: str, match_on: list[str]) -> None:
    recorded = _interaction(body=BODY)
    replayer = _replayer(recorded, match_on=match_on)
    base = _request(body=BODY)
    assert isinstance(replayer.play(base), Played), "the base request always matches"
    outcome = replayer.play(DIFFERENCES[differs])
    if differs in match_on:
        assert isinstance(outcome, Miss)
        if len(match_on) > 1:  # like vcrpy, a recording that agrees on nothing is not "close"
            assert [f for f, _ in outcome.candidates[0].failed] == [differs]
    else:
        assert isinstance(outcome, Played)


def test_json_bodies_match_by_value_not_spelling() -> None:
    replayer = _replayer(
        _interaction(method="POST", body=b'{"a": 1, "b": [1, 2]}'),
        match_on=["method", "path", "body"],
    )
    assert isinstance(replayer.play(_request("POST", body=b'{"b":[1,2],"a":1}')), Played)


def test_credentials_are_left_out_of_matching() -> None:
    # a scrubbed recording matches the live client's real secrets
    recorded = _interaction(
        method="POST",
        uri="https://api.example.com/items?api_key=scrubbed-api_key-1&page=1",
        body=b"client_secret=scrubbed-client_secret-1&grant_type=client_credentials",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Bearer scrubbed-access_token-1",
        },
    )
    replayer = _replayer(recorded, match_on=["method", "path", "query", "body", "headers"])
    live = _request(
        "POST",
        "http://127.0.0.1:1/items?page=1&api_key=the-real-key",
        body=b"grant_type=client_credentials&client_secret=real",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Bearer real-token",
        },
    )
    assert isinstance(replayer.play(live), Played)


def test_strict_miss_lists_the_closest_recordings_and_what_failed() -> None:
    replayer = _replayer(
        _interaction(uri="https://api.example.com/items?page=1", index=0),
        _interaction(uri="https://api.example.com/items?page=2", index=1),
        _interaction(uri="https://api.example.com/users", index=2),
        strict=True,
    )
    miss = replayer.play(_request(url="http://127.0.0.1:1/items?page=9"))
    assert isinstance(miss, Miss)
    response = miss.to_response()
    assert response.status == 404
    problem = response.json_body()
    assert problem["type"].endswith("/cassette-miss")
    first = problem["candidates"][0]
    assert first["cassette"] == "c.yaml" and first["index"] == 0
    assert first["matched"] == ["method", "path"]
    assert first["failed"][0]["matcher"] == "query"
    assert "page" in first["failed"][0]["message"]
    assert "closest: GET https://api.example.com/items?page=1" in problem["detail"]


def _lookup_seconds(replayer: Replayer, request: MockRequest, rounds: int = 300) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(rounds):
            replayer.play(request)
        best = min(best, time.perf_counter() - started)
    return best / rounds


def test_ten_thousand_interactions_answer_as_fast_as_ten() -> None:
    def many(n: int) -> Replayer:
        return _replayer(
            *(
                _interaction(uri=f"https://api.example.com/items/{i}?page={i % 7}", answer=str(i))
                for i in range(n)
            )
        )

    small, large = many(10), many(10_000)
    small_request = _request(url="http://127.0.0.1:1/items/9?page=2")
    large_request = _request(url="http://127.0.0.1:1/items/9999?page=3")
    assert _answer(large.play(large_request)) == "9999"
    small_time = _lookup_seconds(small, small_request)
    large_time = _lookup_seconds(large, large_request)
    # an index lookup: the same cost (a linear scan would be about 1000x slower)
    assert large_time < small_time * 3 + 0.0002, (small_time, large_time)


def test_granted_token_reads_json_and_form_token_answers() -> None:
    json_answer = MockResponse.json(200, {"access_token": "t1", "scope": "read write"})
    form_answer = MockResponse(
        200,
        Headers({"Content-Type": "application/x-www-form-urlencoded"}),
        b"access_token=t2&scope=repo%2Cuser&token_type=bearer",
    )
    assert granted_token(json_answer) == ("t1", ["read", "write"])
    assert granted_token(form_answer) == ("t2", ["repo", "user"])
    assert granted_token(MockResponse.json(400, {"error": "invalid_grant"})) is None


def test_workers_sharing_a_store_play_a_sequence_once_between_them() -> None:
    # two workers (two replayers of the same cassettes) over one shared state store
    from mockserver.state.memory import MemoryStore

    store = MemoryStore()
    cassette = Cassette(Path("c.yaml"), [_interaction(answer="1"), _interaction(answer="2")])
    first = Replayer([cassette], CassetteConfig(), store)
    second = Replayer([cassette], CassetteConfig(), store)
    assert _answer(first.play(_request())) == "1"
    assert _answer(second.play(_request())) == "2"
    assert _answer(first.play(_request())) == "2"
    second.rewind()  # the admin reset on any worker rewinds them all
    assert _answer(first.play(_request())) == "1"
