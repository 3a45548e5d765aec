"""Paging styles: detection, walking every style to the end, links, meta and clamping."""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockserver.behaviours.pagination import (
    PageError,
    PageStyle,
    Pagination,
    decode_cursor,
    encode_cursor,
)
from mockserver.config import PaginationConfig
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract, Operation
from mockserver.contract.router import RouteMatch, Router
from mockserver.http import Headers, MockRequest
from mockserver.validation import RequestData, Validators

ROOT = "http://127.0.0.1:8123"

CONTRACT = """
openapi: 3.0.3
info: {title: paging, version: "1"}
components:
  parameters:
    PerPage: {name: per_page, in: query, schema: {type: integer, minimum: 1, maximum: 100,
              default: 30}}
    Page: {name: page, in: query, schema: {type: integer, minimum: 1, default: 1}}
    Limit: {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100,
            default: 10}}
  schemas:
    Item:
      type: object
      required: [id]
      properties: {id: {type: integer}}
    Items: {type: array, items: {$ref: "#/components/schemas/Item"}}
  headers:
    Link: {schema: {type: string}}
paths:
  /users/{username}/repos:
    get:
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}}
        - {$ref: "#/components/parameters/PerPage"}
        - {$ref: "#/components/parameters/Page"}
      responses:
        "200":
          description: GitHub
          headers: {Link: {$ref: "#/components/headers/Link"}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Items"}
  /notes:
    get:
      parameters:
        - {$ref: "#/components/parameters/Limit"}
        - {name: offset, in: query, schema: {type: integer, minimum: 0, default: 0}}
        - {name: api_key, in: query, schema: {type: string}}
      responses:
        "200":
          description: offset/limit
          headers:
            X-Total-Count: {schema: {type: integer}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Items"}
  /v1/locations:
    get:
      parameters:
        - name: subType
          in: query
          style: form
          explode: false
          schema: {type: array, items: {type: string, enum: [AIRPORT, CITY]}}
        - {name: "page[limit]", in: query, schema: {type: integer, minimum: 1, maximum: 100,
           default: 10}}
        - {name: "page[offset]", in: query, schema: {type: integer, minimum: 0, default: 0}}
      responses:
        "200":
          description: Amadeus
          content:
            application/vnd.amadeus+json:
              schema:
                type: object
                required: [data]
                properties:
                  meta:
                    type: object
                    properties:
                      count: {type: integer}
                      links:
                        type: object
                        properties:
                          self: {type: string, format: uri}
                          next: {type: string, format: uri}
                          previous: {type: string, format: uri}
                          last: {type: string, format: uri}
                  data: {$ref: "#/components/schemas/Items"}
  /deep:
    get:
      parameters:
        - name: page
          in: query
          style: deepObject
          explode: true
          schema:
            type: object
            properties:
              offset: {type: integer, minimum: 0}
              limit: {type: integer, minimum: 1, maximum: 100, default: 5}
      responses:
        "200":
          description: deepObject page
          content:
            application/json:
              schema:
                type: object
                properties:
                  meta: {type: object, properties: {count: {type: integer},
                         links: {type: object}}}
                  data: {$ref: "#/components/schemas/Items"}
  /events:
    get:
      parameters:
        - {name: cursor, in: query, schema: {type: string}}
        - {$ref: "#/components/parameters/Limit"}
      responses:
        "200":
          description: opaque cursor
          content:
            application/json:
              schema:
                type: object
                required: [items, has_more]
                properties:
                  items: {$ref: "#/components/schemas/Items"}
                  next_cursor: {type: string, nullable: true}
                  has_more: {type: boolean}
                  total: {type: integer}
  /v1/customers:
    get:
      parameters:
        - {name: starting_after, in: query, schema: {type: string}}
        - {name: ending_before, in: query, schema: {type: string}}
        - {$ref: "#/components/parameters/Limit"}
      responses:
        "200":
          description: Stripe
          content:
            application/json:
              schema:
                type: object
                required: [object, data, has_more, url]
                properties:
                  object: {type: string, enum: [list]}
                  data: {$ref: "#/components/schemas/Items"}
                  has_more: {type: boolean}
                  url: {type: string}
  /plain:
    get:
      responses:
        "200":
          description: Link only
          headers: {Link: {$ref: "#/components/headers/Link"}}
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Items"}
  /jsonapi:
    get:
      parameters:
        - {name: "page[number]", in: query, schema: {type: integer, minimum: 1}}
        - {name: "page[size]", in: query, schema: {type: integer, minimum: 1, maximum: 100}}
      responses:
        "200":
          description: JSON:API
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {$ref: "#/components/schemas/Items"}
                  links:
                    type: object
                    properties:
                      first: {type: string}
                      prev: {type: string, nullable: true}
                      next: {type: string, nullable: true}
                      last: {type: string}
  /offers:
    get:
      parameters:
        - {name: max, in: query, schema: {type: integer, minimum: 1, maximum: 250,
           default: 250}}
      responses:
        "200":
          description: a size alone truncates
          content:
            application/json:
              schema: {type: object, properties: {data: {$ref: "#/components/schemas/Items"}}}
  /status:
    get:
      responses:
        "200":
          description: not paged
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Items"}
"""

# path -> (first query, parameter holding the page size)
WALKS: dict[str, tuple[str, str]] = {
    "/users/octocat/repos": ("access_token=secret", "per_page"),
    "/notes": ("api_key=k", "limit"),
    "/v1/locations": ("subType=AIRPORT,CITY", "page[limit]"),
    "/deep": ("", "page[limit]"),
    "/events": ("", "limit"),
    "/v1/customers": ("", "limit"),
    "/plain": ("", ""),
    "/jsonapi": ("", "page[size]"),
}


@pytest.fixture(scope="module")
def contract(tmp_path_factory: pytest.TempPathFactory) -> Contract:
    path = tmp_path_factory.mktemp("paging") / "paging.yaml"
    path.write_text(CONTRACT)
    return load_contract(path)


def op_of(contract: Contract, key: str) -> Operation:
    return next(op for op in contract.operations if op.key == key)


def items_of(n: int) -> list[dict[str, Any]]:
    return [{"id": i + 1} for i in range(n)]


class Client:
    """Calls the paginator the way the pipeline does: route, validate, paginate."""

    def __init__(self, contract: Contract, config: PaginationConfig | None = None) -> None:
        self.router = Router(contract.operations)
        self.validators = Validators()
        self.pagination = Pagination(config or PaginationConfig())

    def get(self, url: str, items: list[Any], envelope: Any = None) -> tuple[Any, Headers]:
        request = MockRequest.from_url("GET", url)
        match = self.router.match("GET", request.path)
        assert isinstance(match, RouteMatch)
        verdict = self.validators.validate_request(match, request)
        assert not verdict.failures, verdict.failures
        op = match.operation
        return self.pagination.paginate(
            op, self.pagination.style(op), items, request, verdict.data, envelope, id_field="id"
        )


def parse_link(header: str | None) -> dict[str, str]:
    """Parse a Link header exactly the way PyGithub does."""
    links: dict[str, str] = {}
    if not header:
        return links
    for part in header.split(", "):
        url, rel, *_ = part.split("; ")
        links[rel[5:-1]] = url[1:-1]
    return links


def page_items(body: Any) -> list[Any]:
    if isinstance(body, list):
        return body
    for key in ("data", "items"):
        if key in body:
            return list(body[key])
    raise AssertionError(body)


def with_query(url: str, **updates: str) -> str:
    query = dict(parse_qsl(urlsplit(url).query))
    query.update(updates)
    return urlsplit(url)._replace(query=urlencode(query)).geturl()


def next_url(url: str, body: Any, headers: Headers) -> str | None:
    """Where a client goes next: Link, meta.links, next_cursor, has_more or X-Total-Count."""
    links = parse_link(headers.get("Link"))
    if links:
        return links.get("next")
    if "X-Total-Count" in headers:  # offset/limit: the client counts for itself
        offset = int(dict(parse_qsl(urlsplit(url).query)).get("offset", "0")) + len(body)
        total = int(headers.get("X-Total-Count") or 0)
        return None if offset >= total else with_query(url, offset=str(offset))
    if isinstance(body, dict):
        meta_links = (body.get("meta") or {}).get("links") or body.get("links")
        if isinstance(meta_links, dict) and meta_links:
            return meta_links.get("next")
        if "next_cursor" in body:
            cursor = body["next_cursor"]
            assert (cursor is not None) == body["has_more"]
            return None if cursor is None else with_query(url, cursor=cursor)
        if "has_more" in body:  # Stripe: the last item's id
            if not body["has_more"]:
                return None
            return with_query(url, starting_after=str(body["data"][-1]["id"]))
    return None


def walk(client: Client, path: str, n: int, size: int | None) -> list[list[Any]]:
    first, size_param = WALKS[path]
    query = [first] if first else []
    if size is not None and size_param:
        query.append(f"{size_param.replace('[', '%5B').replace(']', '%5D')}={size}")
    url: str | None = f"{ROOT}{path}" + ("?" + "&".join(query) if query else "")
    items = items_of(n)
    pages: list[list[Any]] = []
    while url is not None:
        assert url.startswith(ROOT)
        body, headers = client.get(url, items)
        pages.append(page_items(body))
        url = next_url(url, body, headers)
        assert len(pages) <= n + 2, "walking never ends"
    return pages


def check_walk(pages: list[list[Any]], n: int, size: int) -> None:
    seen = [item["id"] for page in pages for item in page]
    assert seen == list(range(1, n + 1))  # every item exactly once, in order
    assert all(0 < len(page) <= size for page in pages) or n == 0
    assert len(pages) == max(1, math.ceil(n / size))


# -- detection ---------------------------------------------------------------------------------


def test_styles_are_detected(contract: Contract) -> None:
    p = Pagination(PaginationConfig())

    def style(key: str) -> PageStyle | None:
        return p.style(op_of(contract, key))

    gh = style("GET /users/{username}/repos")
    assert gh == PageStyle(
        "page",
        page_param="page",
        size_param="per_page",
        default_size=30,
        max_size=100,
        link_header=True,
    )
    notes = style("GET /notes")
    assert notes is not None and (notes.kind, notes.offset_param, notes.size_param) == (
        "offset",
        "offset",
        "limit",
    )
    assert not notes.link_header
    ama = style("GET /v1/locations")
    assert ama is not None and (ama.kind, ama.offset_param, ama.size_param) == (
        "pageoffset",
        "page[offset]",
        "page[limit]",
    )
    deep = style("GET /deep")
    assert deep is not None and (deep.kind, deep.offset_param, deep.default_size) == (
        "pageoffset",
        "page[offset]",
        5,
    )
    events = style("GET /events")
    assert events is not None and (events.kind, events.cursor_by_id, events.link_header) == (
        "cursor",
        False,
        False,
    )
    stripe = style("GET /v1/customers")
    assert stripe is not None and (
        stripe.kind,
        stripe.cursor_param,
        stripe.before_param,
        stripe.cursor_by_id,
    ) == ("cursor", "starting_after", "ending_before", True)
    plain = style("GET /plain")
    assert plain is not None and (plain.kind, plain.page_param, plain.link_header) == (
        "link",
        "page",
        True,
    )
    jsonapi = style("GET /jsonapi")
    assert jsonapi is not None and (jsonapi.kind, jsonapi.page_param, jsonapi.size_param) == (
        "page",
        "page[number]",
        "page[size]",
    )
    offers = style("GET /offers")
    assert offers is not None and (offers.kind, offers.offset_param, offers.default_size) == (
        "offset",
        None,
        250,
    )
    assert style("GET /status") is None


def test_config_overrides_detection(contract: Contract) -> None:
    config = PaginationConfig(
        operations={
            "GET /status": {"style": "page", "default_size": 7, "link_header": False},
            "GET /notes": {"style": "none"},
        }
    )
    p = Pagination(config)
    status = p.style(op_of(contract, "GET /status"))
    assert status is not None
    assert (status.kind, status.page_param, status.default_size, status.link_header) == (
        "page",
        "page",
        7,
        False,
    )
    assert p.style(op_of(contract, "GET /notes")) is None


# -- walking ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(WALKS))
@pytest.mark.parametrize(("n", "size"), [(42, 5), (42, 42), (42, 41), (0, 5), (1, 1), (7, 100)])
def test_walking_next_covers_every_item_once(
    contract: Contract, path: str, n: int, size: int
) -> None:
    client = Client(contract)
    effective = size if WALKS[path][1] else PaginationConfig().default_page_size
    check_walk(walk(client, path, n, size), n, effective)


@pytest.mark.parametrize("path", list(WALKS))
@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), size=st.integers(1, 100))
def test_walking_property(contract: Contract, path: str, n: int, size: int) -> None:
    """For any collection and page size, following next covers every item exactly once."""
    client = Client(contract, PaginationConfig(default_page_size=size))
    check_walk(walk(client, path, n, size), n, size)


def test_default_page_size_comes_from_the_schema(contract: Contract) -> None:
    client = Client(contract)
    pages = walk(client, "/users/octocat/repos", 42, None)
    assert [len(p) for p in pages] == [30, 12]


# -- Link ---------------------------------------------------------------------------------------


def test_link_header_like_github(contract: Contract) -> None:
    client = Client(contract)
    url = f"{ROOT}/users/octocat/repos?per_page=5&page=3&access_token=secret&type=owner"
    _, headers = client.get(url, items_of(42))
    links = parse_link(headers.get("Link"))
    assert set(links) == {"first", "prev", "next", "last"}
    for rel, page in (("first", "1"), ("prev", "2"), ("next", "4"), ("last", "9")):
        parts = urlsplit(links[rel])
        assert f"{parts.scheme}://{parts.netloc}" == ROOT
        assert parts.path == "/users/octocat/repos"
        query = dict(parse_qsl(parts.query))
        assert query == {"per_page": "5", "page": page, "type": "owner"}
    assert "access_token" not in (headers.get("Link") or "")


def test_total_count_the_pygithub_way(contract: Contract) -> None:
    client = Client(contract)
    _, headers = client.get(f"{ROOT}/users/octocat/repos?per_page=1", items_of(42))
    last = parse_link(headers.get("Link"))["last"]
    assert dict(parse_qsl(urlsplit(last).query))["page"] == "42"


def test_no_link_when_everything_fits_on_one_page(contract: Contract) -> None:
    client = Client(contract)
    _, headers = client.get(f"{ROOT}/users/octocat/repos", items_of(5))
    assert "Link" not in headers
    _, headers = client.get(f"{ROOT}/users/octocat/repos?per_page=1", [])
    assert "Link" not in headers


def test_last_page_has_no_next(contract: Contract) -> None:
    client = Client(contract)
    _, headers = client.get(f"{ROOT}/users/octocat/repos?per_page=10&page=5", items_of(42))
    links = parse_link(headers.get("Link"))
    assert "next" not in links and links["prev"].endswith("page=4")


def test_out_of_range_page_is_empty(contract: Contract) -> None:
    client = Client(contract)
    body, headers = client.get(f"{ROOT}/users/octocat/repos?per_page=10&page=99", items_of(42))
    assert body == []
    links = parse_link(headers.get("Link"))
    assert "next" not in links and links["prev"].endswith("page=5")
    body, _ = client.get(f"{ROOT}/v1/locations?page%5Boffset%5D=500", items_of(42))
    assert body["data"] == [] and "next" not in body["meta"]["links"]


def test_page_size_is_clamped_to_the_maximum(contract: Contract) -> None:
    p = Pagination(PaginationConfig())
    op = op_of(contract, "GET /users/{username}/repos")
    request = MockRequest.from_url("GET", f"{ROOT}/users/octocat/repos?per_page=500")
    style = p.style(op)
    assert style is not None
    body, headers = p.paginate(op, style, items_of(250), request, RequestData(), None)
    assert len(body) == 100
    assert "per_page=100" in (headers.get("Link") or "")
    zero = MockRequest.from_url("GET", f"{ROOT}/users/octocat/repos?per_page=0")
    assert len(p.paginate(op, style, items_of(5), zero, None, None)[0]) == 1


def test_credentials_never_reach_links(contract: Contract) -> None:
    client = Client(contract)
    url = f"{ROOT}/notes?limit=5&api_key=k&offset=5"
    body, headers = client.get(url, items_of(42))
    assert [i["id"] for i in body] == [6, 7, 8, 9, 10]
    assert headers.get("X-Total-Count") == "42"
    assert "Link" not in headers  # not declared, not page-numbered
    assert (
        Pagination.url(
            MockRequest.from_url("GET", f"{ROOT}/x?a=1&ACCESS_TOKEN=t&token=u&key=v&b=2"),
            {"c": "3"},
        )
        == f"{ROOT}/x?a=1&b=2&c=3"
    )


# -- Amadeus ------------------------------------------------------------------------------------


def test_amadeus_meta(contract: Contract) -> None:
    from amadeus.mixins.pagination import Pagination as SdkPagination

    client = Client(contract)
    url = f"{ROOT}/v1/locations?subType=AIRPORT,CITY&page%5Blimit%5D=5&page%5Boffset%5D=10"
    envelope = {"meta": {"count": 1, "links": {"self": "x", "next": "junk", "up": "y"}}, "data": []}
    body, _ = client.get(url, items_of(42), envelope)
    assert [i["id"] for i in body["data"]] == [11, 12, 13, 14, 15]
    meta = body["meta"]
    assert meta["count"] == 42
    assert set(meta["links"]) == {"self", "next", "previous", "last"}  # only declared keys
    assert meta["links"]["next"] == (
        f"{ROOT}/v1/locations?subType=AIRPORT,CITY&page%5Blimit%5D=5&page%5Boffset%5D=15"
    )
    assert meta["links"]["previous"].endswith("page%5Boffset%5D=5")
    assert meta["links"]["last"].endswith("page%5Boffset%5D=40")
    assert meta["links"]["self"] == url

    class Response:
        result = body

    page_number_for = SdkPagination._Pagination__page_number_for
    assert page_number_for("next", Response) == "15"
    assert page_number_for("previous", Response) == "5"
    assert page_number_for("last", Response) == "40"
    assert page_number_for("first", Response) is None  # not declared by this contract


def test_amadeus_last_page(contract: Contract) -> None:
    client = Client(contract)
    body, _ = client.get(
        f"{ROOT}/v1/locations?page%5Blimit%5D=10&page%5Boffset%5D=40", items_of(42)
    )
    assert len(body["data"]) == 2
    assert "next" not in body["meta"]["links"]


def test_deep_object_links_are_free_form(contract: Contract) -> None:
    client = Client(contract)
    body, _ = client.get(f"{ROOT}/deep?page%5Boffset%5D=5&page%5Blimit%5D=5", items_of(12))
    links = body["meta"]["links"]
    assert links["next"].endswith("page%5Boffset%5D=10&page%5Blimit%5D=5")
    assert {"self", "first", "last", "next", "previous"} <= set(links)


# -- cursors ------------------------------------------------------------------------------------


def test_opaque_cursor(contract: Contract) -> None:
    client = Client(contract)
    body, headers = client.get(f"{ROOT}/events?limit=4", items_of(10))
    assert body["has_more"] is True and body["total"] == 10
    assert decode_cursor(body["next_cursor"]) == 4
    assert "Link" not in headers  # the envelope carries the cursor
    body, _ = client.get(f"{ROOT}/events?limit=4&cursor={encode_cursor(8)}", items_of(10))
    assert [i["id"] for i in body["items"]] == [9, 10]
    assert body["next_cursor"] is None and body["has_more"] is False
    with pytest.raises(PageError) as caught:
        client.get(f"{ROOT}/events?cursor=not-ours", items_of(10))
    assert caught.value.rejection.status == 400


def test_stripe_cursor(contract: Contract) -> None:
    client = Client(contract)
    envelope = {"object": "list", "data": [], "has_more": True, "url": "junk"}
    body, _ = client.get(f"{ROOT}/v1/customers?limit=3&starting_after=3", items_of(7), envelope)
    assert [i["id"] for i in body["data"]] == [4, 5, 6]
    assert body["has_more"] is True and body["url"] == "/v1/customers"
    body, _ = client.get(f"{ROOT}/v1/customers?limit=3&ending_before=4", items_of(7), envelope)
    assert [i["id"] for i in body["data"]] == [1, 2, 3]
    body, _ = client.get(f"{ROOT}/v1/customers?limit=3&starting_after=6", items_of(7), envelope)
    assert [i["id"] for i in body["data"]] == [7] and body["has_more"] is False


def test_stripe_unknown_id(contract: Contract) -> None:
    client = Client(contract)
    items = [{"id": f"cus_{i}"} for i in range(3)]
    with pytest.raises(PageError) as caught:
        client.get(f"{ROOT}/v1/customers?starting_after=cus_nope", items)
    assert caught.value.rejection.status in (400, 404)


def test_cursor_round_trip() -> None:
    for offset in (0, 1, 99, 123456):
        assert decode_cursor(encode_cursor(offset)) == offset
    assert decode_cursor("%%%") is None


# -- envelopes ----------------------------------------------------------------------------------


def test_jsonapi_links(contract: Contract) -> None:
    client = Client(contract)
    body, headers = client.get(f"{ROOT}/jsonapi?page%5Bnumber%5D=2&page%5Bsize%5D=10", items_of(25))
    assert [i["id"] for i in body["data"]][:1] == [11]
    links = body["links"]
    assert links["next"].endswith("page%5Bnumber%5D=3&page%5Bsize%5D=10")
    assert links["prev"].endswith("page%5Bnumber%5D=1&page%5Bsize%5D=10")
    assert parse_link(headers.get("Link"))["last"].endswith("page%5Bnumber%5D=3&page%5Bsize%5D=10")
    body, _ = client.get(f"{ROOT}/jsonapi?page%5Bnumber%5D=3&page%5Bsize%5D=10", items_of(25))
    assert body["links"]["next"] is None  # nullable: null on the last page


def test_size_alone_truncates(contract: Contract) -> None:
    client = Client(contract)
    body, headers = client.get(f"{ROOT}/offers?max=3", items_of(10))
    assert [i["id"] for i in body["data"]] == [1, 2, 3]
    assert "Link" not in headers


def test_no_style_answers_everything(contract: Contract) -> None:
    client = Client(contract)
    body, headers = client.get(f"{ROOT}/status", items_of(50))
    assert len(body) == 50 and len(headers) == 0
