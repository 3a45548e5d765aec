"""Parameter styles: each OpenAPI 3 style/explode and Swagger 2 collectionFormat."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import pytest

from mockserver.contract.model import Parameter
from mockserver.http import Headers
from mockserver.params import MISSING, coerce, extract

ARRAY = {"type": "array", "items": {"type": "integer"}}
STRINGS = {"type": "array", "items": {"type": "string"}}
OBJECT = {
    "type": "object",
    "properties": {"limit": {"type": "integer"}, "offset": {"type": "integer"}},
}


def ident(schema: Any) -> Any:
    return schema


def param(
    location: str,
    schema: dict[str, Any],
    style: str,
    explode: bool,
    fmt: str | None = None,
    name: str = "p",
) -> Parameter:
    return Parameter(
        name=name,
        location=location,
        required=False,
        schema=schema,  # type: ignore[arg-type]
        style=style,
        explode=explode,
        collection_format=fmt,
    )


@pytest.mark.parametrize(
    ("p", "query", "expected"),
    [
        (param("query", ARRAY, "form", True), [("p", "1"), ("p", "2")], [1, 2]),
        (param("query", ARRAY, "form", False), [("p", "1,2")], [1, 2]),
        (param("query", ARRAY, "spaceDelimited", False), [("p", "1 2")], [1, 2]),
        (param("query", ARRAY, "pipeDelimited", False), [("p", "1|2")], [1, 2]),
        (param("query", ARRAY, "form", False, fmt="pipes"), [("p", "1|2")], [1, 2]),
        (param("query", ARRAY, "form", True, fmt="multi"), [("p", "1"), ("p", "2")], [1, 2]),
        (param("query", ARRAY, "form", False, fmt="csv"), [("p", "3,4")], [3, 4]),
        (param("query", ARRAY, "form", True), [("p[]", "1"), ("p[]", "2")], [1, 2]),
        (
            param("query", OBJECT, "deepObject", True, name="page"),
            [("page[limit]", "5"), ("page[offset]", "10")],
            {"limit": 5, "offset": 10},
        ),
        (
            param("query", {"type": "integer"}, "form", True, name="page[limit]"),
            [("page[limit]", "5")],
            5,
        ),
        (param("query", {"type": "boolean"}, "form", True), [("p", "true")], True),
        (param("query", {"type": "number"}, "form", True), [("p", "1.5")], 1.5),
        (param("query", {"type": "integer"}, "form", True), [("p", "x1")], "x1"),
    ],
)
def test_query_styles(p: Parameter, query: list[tuple[str, str]], expected: Any) -> None:
    raw = extract(p, path_params={}, query=query, headers=Headers(), cookies={}, deref=ident)
    assert coerce(raw, p.schema, ident) == expected


@pytest.mark.parametrize(
    ("p", "raw", "expected"),
    [
        (param("path", ARRAY, "simple", False), "1,2", [1, 2]),
        (param("path", ARRAY, "label", False), ".1,2", [1, 2]),
        (param("path", ARRAY, "matrix", False), ";p=1,2", [1, 2]),
        (param("path", ARRAY, "matrix", True), ";p=1;p=2", [1, 2]),
        (param("path", OBJECT, "simple", False), "limit,5,offset,1", {"limit": 5, "offset": 1}),
        (param("path", OBJECT, "simple", True), "limit=5,offset=1", {"limit": 5, "offset": 1}),
    ],
)
def test_path_styles(p: Parameter, raw: str, expected: Any) -> None:
    value = extract(p, path_params={"p": raw}, query=[], headers=Headers(), cookies={}, deref=ident)
    assert coerce(value, p.schema, ident) == expected


def test_header_array_and_missing() -> None:
    p = param("header", ARRAY, "simple", False, name="X-Ids")
    headers = Headers({"x-ids": "1, 2"})
    value = extract(p, path_params={}, query=[], headers=headers, cookies={}, deref=ident)
    assert coerce(value, p.schema, ident) == [1, 2]
    absent = extract(p, path_params={}, query=[], headers=Headers(), cookies={}, deref=ident)
    assert absent is MISSING


def test_journal_never_keeps_credentials_from_the_query() -> None:
    from mockserver.conformance.journal import Exchange, scrub_query

    assert scrub_query("a=1&api_key=s3cret&access_token=t0k&keep=yes") == (
        "a=1&api_key=***&access_token=***&keep=yes"
    )
    assert scrub_query("page%5Blimit%5D=5") == "page%5Blimit%5D=5"
    ex = Exchange("GET", "/x", "client_secret=abc", 200, None, "route")
    assert "abc" not in ex.query


@pytest.mark.parametrize(
    ("p", "raw_query", "expected"),
    [
        (param("query", STRINGS, "form", False, fmt="csv"), "p=a%2Cb,c", ["a,b", "c"]),
        (param("query", STRINGS, "form", False), "x=1&p=a%2cb,c+d", ["a,b", "c d"]),
        (param("query", STRINGS, "form", False), "p=a,b", ["a", "b"]),
        (param("query", STRINGS, "form", False, fmt="pipes"), "p=a%2Cb|c", ["a,b", "c"]),
    ],
)
def test_an_encoded_comma_stays_inside_its_item(
    p: Parameter, raw_query: str, expected: list[str]
) -> None:
    # Given: the decoded query a server sees, and the raw one it came from
    query = parse_qsl(raw_query, keep_blank_values=True)

    value = extract(
        p,
        path_params={},
        query=query,
        headers=Headers(),
        cookies={},
        deref=ident,
        raw_query=raw_query,
    )

    assert value == expected
