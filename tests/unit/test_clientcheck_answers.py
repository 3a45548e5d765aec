"""The answers client checks send: always contract-valid, shrinking to the smallest one."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from conftest import CONTRACTS
from mockserver.clientcheck.answers import (
    ERROR,
    EXPIRED,
    SUCCESS,
    Answer,
    AnswerSpace,
    Varier,
    relink,
    takes_issued_tokens,
)
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Operation
from mockserver.validation import Validators

TRAVEL = load_contract(CONTRACTS / "travel" / "openapi.yaml")
GITHUB = load_contract(CONTRACTS / "github.yaml")
NOTES = load_contract(CONTRACTS / "notes.json")
LOCATIONS = "GET /v1/reference-data/locations"
LINK = "http://127.0.0.1:9/v1/reference-data/locations?subType=AIRPORT&keyword=LON"
FAST = settings(
    max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


def operation(key: str) -> Operation:
    for contract in (TRAVEL, GITHUB, NOTES):
        for op in contract.operations:
            if op.key == key:
                return op
    raise LookupError(key)


def space(key: str, link: str | None = LINK) -> AnswerSpace:
    op = operation(key)
    return AnswerSpace(op, Validators(), link=link, tokens=takes_issued_tokens(op))


def test_the_answers_of_an_operation_are_its_declared_statuses_successes_first() -> None:
    # Given the travel location search (200, 400, 401, 429, 500 and default; oauth2)
    kinds = space(LOCATIONS).kinds

    # Then every declared status is an answer, 2xx first, plus "every token expired"
    assert [(k.kind, k.status) for k in kinds] == [
        (SUCCESS, 200),
        (ERROR, 400),
        (ERROR, 401),
        (ERROR, 429),
        (ERROR, 500),
        (EXPIRED, 401),
    ]


def test_404_is_an_answer_only_where_the_contract_declares_it() -> None:
    item = space("GET /v1/reference-data/locations/{locationId}").kinds

    assert (ERROR, 404) in [(k.kind, k.status) for k in item]
    assert all(k.status != 404 for k in space(LOCATIONS).kinds)


def test_an_operation_without_tokens_has_no_expired_token_answer() -> None:
    assert takes_issued_tokens(operation("POST /v1/security/oauth2/token")) is False
    assert all(k.kind != EXPIRED for k in space("POST /v1/security/oauth2/token").kinds)


ALL_OPERATIONS = [op.key for c in (TRAVEL, GITHUB, NOTES) for op in c.operations]


@pytest.mark.parametrize("key", ALL_OPERATIONS)
def test_every_answer_conforms_to_the_contract(key: str) -> None:
    answers = space(key)

    @FAST
    @given(answers.strategy())
    def conforms(answer: Answer) -> None:
        # an expired token is answered by the mock itself, not by a drawn answer
        assert answer.kind == EXPIRED or answers.conforms(answer), answer.describe()

    conforms()


def test_the_smallest_success_is_the_emptiest_body_the_contract_allows() -> None:
    minimal = find(
        space(LOCATIONS).strategy(),
        lambda a: a.kind == SUCCESS,
        settings=settings(database=None, suppress_health_check=list(HealthCheck)),
    )

    assert (minimal.status, minimal.body) == (200, {"data": []})
    assert minimal.media_type == "application/vnd.amadeus+json"


def test_a_failure_that_needs_an_item_shrinks_to_one_with_only_required_fields() -> None:
    def has_item(answer: Answer) -> bool:
        return answer.kind == SUCCESS and bool(answer.body["data"])

    minimal = find(
        space(LOCATIONS).strategy(),
        has_item,
        settings=settings(database=None, suppress_health_check=list(HealthCheck)),
    )

    item = minimal.body["data"][0]
    assert set(item) == {"type", "subType", "name", "id"}  # Location's required fields


def test_429_answers_carry_a_retry_after_the_contract_allows() -> None:
    answers = space(LOCATIONS)
    kind = next(k for k in answers.kinds if k.status == 429)

    @FAST
    @given(st.data())
    def check(data: st.DataObject) -> None:
        answer = answers.draw(data.draw, kind)
        headers = dict(answer.headers)
        assert headers["Retry-After"] in ("0", "1", "Wed, 21 Oct 2015 07:28:00 GMT")

    check()


def test_401_answers_say_the_token_is_invalid() -> None:
    answers = space(LOCATIONS)
    kind = next(k for k in answers.kinds if k.kind == ERROR and k.status == 401)

    @FAST
    @given(st.data())
    def check(data: st.DataObject) -> None:
        answer = answers.draw(data.draw, kind)
        assert 'error="invalid_token"' in dict(answer.headers)["WWW-Authenticate"]

    check()


# -- the edits, on a toy schema ----------------------------------------------------------


def valid_page(value: Any) -> bool:
    """A toy contract: {"items": [ {"id": str, "note": str|null} ], "next"?: str}."""
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        return False
    if "next" in value and not isinstance(value["next"], str):
        return False
    for item in value["items"]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return False
        if set(item) - {"id", "note"} or not isinstance(item.get("note", ""), str | None):
            return False
    return set(value) <= {"items", "next"}


PAGE = {"items": [{"id": "a", "note": "x"}, {"id": "b", "note": "y"}], "next": "https://x/2"}


@FAST
@given(st.data())
def test_edits_keep_the_value_valid(data: st.DataObject) -> None:
    value, edits = Varier(data.draw, valid_page).run(_copy(PAGE))

    assert valid_page(value)
    assert all(isinstance(e, str) for e in edits)


def test_edits_reach_every_edge_the_contract_allows() -> None:
    @st.composite
    def varied(draw: Any) -> tuple[Any, tuple[str, ...]]:
        return Varier(draw, valid_page).run(_copy(PAGE))

    def seen(predicate: Any) -> Any:
        return find(
            varied(),
            lambda pair: predicate(pair[0]),
            settings=settings(database=None, suppress_health_check=list(HealthCheck)),
        )

    # the last page: no next link
    assert seen(lambda v: "next" not in v)[0] == {"items": []}
    # an empty page
    assert "emptied /items" in seen(lambda v: v["items"] == [])[1]
    # null where nullable
    nulled = seen(lambda v: v["items"] and v["items"][0].get("note", 1) is None)
    assert "null at /items/0/note" in nulled[1]
    # a long string
    long_id = seen(lambda v: v["items"] and len(v["items"][0]["id"]) > 100)[0]["items"][0]["id"]
    assert len(long_id) == 4096


def test_edits_the_contract_refuses_are_undone() -> None:
    # Given a contract that forbids extra properties and requires ids
    @FAST
    @given(st.data())
    def check(data: st.DataObject) -> None:
        value, _ = Varier(data.draw, valid_page).run(_copy(PAGE))
        # Then no item lost its id and nothing foreign was added
        assert all("id" in item for item in value["items"])
        assert "x-mockserver-extra" not in value

    check()


def test_relink_points_urls_at_the_request_the_client_made() -> None:
    value = {"links": {"next": "https://example.com/a", "self": "http://b/c"}, "name": "http"}

    relinked = relink(value, LINK, lambda v: True)

    assert relinked == {"links": {"next": LINK, "self": LINK}, "name": "http"}


def test_relink_leaves_urls_the_contract_would_refuse() -> None:
    value = {"next": "https://example.com/a"}

    assert relink(value, LINK, lambda v: v["next"].startswith("https:")) == value


def test_describe_shows_status_headers_body_and_grouped_edits() -> None:
    answer = Answer(
        ERROR,
        429,
        body={"errors": [{}]},
        has_body=True,
        headers=(("Retry-After", "0"),),
        media_type="application/json",
        edits=("dropped /errors/0/code", "dropped /errors/0/title", "emptied /x"),
    )

    assert answer.describe().splitlines() == [
        "429 application/json",
        "Retry-After: 0",
        '{"errors": [{}]}',
        "edits: dropped /errors/0/code, /errors/0/title; emptied /x",
    ]
    assert answer.to_dict()["body"] == {"errors": [{}]}


def test_describe_truncates_large_bodies() -> None:
    answer = Answer(SUCCESS, 200, body={"x": "y" * 5000}, has_body=True)

    assert "... (5009 characters)" in answer.describe()


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)
