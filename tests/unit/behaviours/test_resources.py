"""Datasets behind collections: detection, deterministic ids, CRUD, scopes, shared state."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mockserver.behaviours.resources import Collection, Resources, list_shape, match_template
from mockserver.config import PaginationConfig
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract, Operation
from mockserver.http import MockRequest
from mockserver.state.memory import MemoryStore
from mockserver.validation import Validators

CONTRACT = """
openapi: 3.0.3
info: {title: things, version: "1"}
paths:
  /things:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}
    post:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
  /things/{thingId}:
    parameters:
      - {name: thingId, in: path, required: true, schema: {type: integer}}
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
    put:
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
    patch:
      requestBody:
        content:
          application/json:
            schema: {type: object}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
    delete:
      responses:
        "204": {description: gone}
  /v1/locations:
    get:
      parameters:
        - {name: "page[limit]", in: query, schema: {type: integer, default: 10, maximum: 100}}
        - {name: "page[offset]", in: query, schema: {type: integer, default: 0}}
      responses:
        "200":
          description: ok
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
                      links: {type: object, properties: {self: {type: string}}}
                  data: {type: array, items: {$ref: "#/components/schemas/Location"}}
              example:
                meta: {count: 2}
                data:
                  - {type: location, subType: CITY, name: LONDON, id: CLON, iataCode: LON}
                  - {type: location, subType: AIRPORT, name: HEATHROW, id: ALHR, iataCode: LHR}
  /v1/locations/{locationId}:
    get:
      parameters:
        - {name: locationId, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/vnd.amadeus+json:
              schema:
                type: object
                properties:
                  meta:
                    type: object
                    properties:
                      links: {type: object, properties: {self: {type: string}}}
                  data: {$ref: "#/components/schemas/Location"}
  /users/{username}/repos:
    get:
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Repo"}}
    post:
      parameters:
        - {name: username, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Repo"}
      responses:
        "201":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Repo"}
  /repos/{owner}/{repo}:
    get:
      parameters:
        - {name: owner, in: path, required: true, schema: {type: string}}
        - name: repo
          in: path
          required: true
          schema: {type: string, pattern: "^[A-Za-z0-9_.-]{1,100}$"}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Repo"}
  /pages:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  items: {type: array, items: {$ref: "#/components/schemas/Code"}}
                  total: {type: integer}
  /orders/{orderId}:
    get:
      parameters:
        - {name: orderId, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: an order is not a list of its items
          content:
            application/json:
              schema:
                type: object
                properties:
                  id: {type: string}
                  customer: {type: string}
                  items: {type: array, items: {type: object}}
  /members:
    get:
      responses:
        "200":
          description: thin list items
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Member"}}
  /members/{login}:
    get:
      parameters:
        - {name: login, in: path, required: true, schema: {type: string}}
      responses:
        "200":
          description: a richer item
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/Member"}
                  - {type: object, required: [bio], properties: {bio: {type: string}}}
  /tags:
    get:
      responses:
        "200":
          description: no id at all
          content:
            application/json:
              schema: {type: array, items: {type: string}}
  /colours:
    get:
      responses:
        "200":
          description: ids from an enum
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  properties:
                    name: {type: string, enum: [red, green, blue]}
  /widgets:
    get:
      responses:
        "200":
          description: widget ids are uuids
          content:
            application/json:
              schema:
                type: array
                items:
                  type: object
                  required: [uuid]
                  properties:
                    uuid: {type: string, format: uuid}
                    label: {type: string}
components:
  schemas:
    Thing:
      type: object
      required: [id, title]
      properties:
        id: {type: integer, minimum: 1, readOnly: true}
        title: {type: string, minLength: 1}
        note: {type: string, nullable: true}
        colour: {type: string}
        updated_at: {type: string, format: date-time, readOnly: true}
    Location:
      type: object
      required: [type, subType, name, id]
      properties:
        type: {type: string, enum: [location]}
        subType: {type: string, enum: [AIRPORT, CITY]}
        name: {type: string}
        id: {type: string, pattern: "^[A-Z0-9]{1,20}$"}
        iataCode: {type: string, pattern: "^[A-Z]{3}$"}
    Repo:
      type: object
      required: [id, name, full_name, owner]
      properties:
        id: {type: integer, minimum: 1}
        name: {type: string, pattern: "^[A-Za-z0-9_.-]{1,100}$"}
        full_name: {type: string}
        owner:
          type: object
          properties:
            login: {type: string}
    Member:
      type: object
      required: [id, login]
      properties:
        id: {type: integer}
        login: {type: string}
    Code:
      type: object
      properties:
        code: {type: string, pattern: "^[A-Z]{4}[0-9]{4}$", maxLength: 8}
        label: {type: string}
"""


def fake_item(op: Operation, schema: Any, index: int) -> Any:
    """A trivial deterministic item: every string the same, so uniqueness is our job."""
    space = op.schemas
    node = space.deref(schema)
    if not isinstance(node, dict) or "properties" not in node:
        return f"value-{index}"
    out: dict[str, Any] = {}
    for name, prop in node["properties"].items():
        p = space.deref(prop)
        if "enum" in p:
            out[name] = p["enum"][0]
        elif p.get("type") == "integer":
            out[name] = 7
        elif p.get("type") == "object":
            out[name] = {"login": "someone"}
        elif p.get("format") == "date-time":
            out[name] = "2024-01-01T00:00:00Z"
        elif name == "iataCode":
            out[name] = "LHR"
        else:
            out[name] = f"{name}-{index % 3}"
    return out


@pytest.fixture
def contract(tmp_path: Path) -> Contract:
    path = tmp_path / "things.yaml"
    path.write_text(CONTRACT)
    return load_contract(path)


def op_of(contract: Contract, key: str) -> Operation:
    return next(op for op in contract.operations if op.key == key)


def make(
    contract: Contract, size: int = 12, store: MemoryStore | None = None, **config: Any
) -> Resources:
    cfg = PaginationConfig(collection_size=size, **config)
    return Resources(contract.operations, cfg, store or MemoryStore(), fake_item)


def coll(res: Resources, contract: Contract, key: str) -> Collection:
    found = res.collection_for(op_of(contract, key))
    assert found is not None
    return found


def got(res: Resources, c: Collection, item_id: Any, scope: dict[str, str]) -> Any:
    item = res.get(c, item_id, scope)
    assert item is not None, item_id
    return item


def assert_valid(contract: Contract, c: Collection, items: list[Any]) -> None:
    compiled = Validators().compiled(contract.schemas, c.item_schema, "response")
    for item in items:
        assert compiled.is_valid(item), (item, compiled.issues(item))


# -- detection -------------------------------------------------------------------------------


def test_collections_are_detected_on_bare_and_wrapped_arrays(contract: Contract) -> None:
    res = make(contract)
    keys = {c.key: c for c in res.collections}
    assert set(keys) == {
        "/things",
        "/v1/locations",
        "/users/{username}/repos",
        "/pages",
        "/members",
        "/tags",
        "/colours",
        "/widgets",
    }
    assert keys["/things"].wrapper is None
    assert keys["/v1/locations"].wrapper == "data"  # {meta, data}
    assert keys["/pages"].wrapper == "items"  # {items, total}
    assert keys["/users/{username}/repos"].scope_params == ("username",)


def test_an_object_with_an_array_field_is_not_a_list(contract: Contract) -> None:
    assert list_shape(op_of(contract, "GET /orders/{orderId}")) is None
    assert make(contract).collection_for(op_of(contract, "GET /orders/{orderId}")) is None


def test_id_fields(contract: Contract) -> None:
    res = make(contract)
    assert coll(res, contract, "GET /things").id_field == "id"
    assert coll(res, contract, "GET /v1/locations").id_field == "id"
    assert coll(res, contract, "GET /pages").id_field == "code"
    assert coll(res, contract, "GET /colours").id_field == "name"
    assert coll(res, contract, "GET /widgets").id_field == "uuid"
    assert coll(res, contract, "GET /tags").id_field is None
    res = make(contract, operations={"GET /pages": {"id_field": "label"}})
    assert coll(res, contract, "GET /pages").id_field == "label"


def test_item_routes(contract: Contract) -> None:
    res = make(contract)
    things = coll(res, contract, "GET /things")
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        assert res.item_route(op_of(contract, f"{method} /things/{{thingId}}")) == (
            things,
            "thingId",
        )
    route = res.route(op_of(contract, "GET /v1/locations/{locationId}"))
    assert route is not None
    assert route.wrapper == "data" and route.field == "id"
    # found by schema: a repository is addressed by owner and name
    route = res.route(op_of(contract, "GET /repos/{owner}/{repo}"))
    assert route is not None
    assert route.collection.key == "/users/{username}/repos"
    assert (route.param, route.field, route.scope_map) == ("repo", "name", (("username", "owner"),))
    assert res.creator_for(op_of(contract, "POST /things")) is things
    assert res.item_route(op_of(contract, "GET /orders/{orderId}")) is None


def test_resource_false_disables_a_dataset(contract: Contract) -> None:
    res = make(contract, operations={"GET /things": {"resource": False}})
    assert res.collection_for(op_of(contract, "GET /things")) is None
    assert res.route(op_of(contract, "GET /things/{thingId}")) is None


# -- seeding ---------------------------------------------------------------------------------


def test_seeded_ids_are_unique_deterministic_and_valid(contract: Contract) -> None:
    first = make(contract, size=30)
    second = make(contract, size=30)
    for c in first.collections:
        if c.id_field is None:
            continue
        items = first.items(c, {"username": "ada"})
        again = second.items(coll(second, contract, c.operation.key), {"username": "ada"})
        assert items == again
        ids = [str(item[c.id_field]) for item in items]
        assert len(ids) == len(set(ids)), c.key
        assert all(re.fullmatch(r"[A-Za-z0-9_.~-]+", i) for i in ids), ids  # URL-safe
        assert_valid(contract, c, items)


def test_integer_ids_count_from_one(contract: Contract) -> None:
    res = make(contract, size=5)
    things = coll(res, contract, "GET /things")
    assert [t["id"] for t in res.items(things, {})] == [1, 2, 3, 4, 5]


def test_string_ids_respect_pattern_and_length(contract: Contract) -> None:
    res = make(contract, size=20)
    pages = coll(res, contract, "GET /pages")
    codes = [item["code"] for item in res.items(pages, {})]
    assert all(re.fullmatch(r"[A-Z]{4}[0-9]{4}", c) for c in codes)
    assert len(set(codes)) == 20


def test_enum_ids_cap_the_collection(contract: Contract) -> None:
    res = make(contract, size=10)
    colours = coll(res, contract, "GET /colours")
    assert [c["name"] for c in res.items(colours, {})] == ["red", "green", "blue"]


def test_uuid_ids(contract: Contract) -> None:
    res = make(contract, size=4)
    widgets = coll(res, contract, "GET /widgets")
    ids = [w["uuid"] for w in res.items(widgets, {})]
    assert all(
        re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", i)
        for i in ids
    )
    assert len(set(ids)) == 4


def test_amadeus_like_locations(contract: Contract) -> None:
    res = make(contract, size=20)
    locations = coll(res, contract, "GET /v1/locations")
    items = res.items(locations, {})
    # the contract's example comes first, so documented ids exist
    assert [i["id"] for i in items[:2]] == ["CLON", "ALHR"]
    codes = [i["iataCode"] for i in items]
    assert len(set(codes)) == len(codes)  # distinct IATA codes
    for item in items:  # subType initial + IATA code, like ALHR
        assert item["id"] == item["subType"][0] + item["iataCode"]
    assert_valid(contract, locations, items)
    assert got(res, locations, "ALHR", {})["name"] == "HEATHROW"


def test_seed_examples_can_be_switched_off(contract: Contract) -> None:
    res = make(contract, size=3, seed_examples=False)
    items = res.items(coll(res, contract, "GET /v1/locations"), {})
    assert "CLON" not in [i["id"] for i in items]


def test_items_without_ids_are_still_listed(contract: Contract) -> None:
    res = make(contract, size=4)
    tags = coll(res, contract, "GET /tags")
    assert res.items(tags, {}) == ["value-0", "value-1", "value-2", "value-3"]
    assert res.get(tags, "x", {}) is None


def test_collection_size_per_operation(contract: Contract) -> None:
    res = make(contract, size=5, operations={"GET /things": {"collection_size": 2}})
    assert len(res.items(coll(res, contract, "GET /things"), {})) == 2
    assert make(contract, size=0).items(coll(res, contract, "GET /things"), {}) == []


# -- scopes ----------------------------------------------------------------------------------


def test_scoped_collections_differ_and_belong_to_their_scope(contract: Contract) -> None:
    res = make(contract, size=6)
    repos = coll(res, contract, "GET /users/{username}/repos")
    ada = res.items(repos, MockRequest.from_url("GET", "http://h/users/ada/repos"))
    alan = res.items(repos, {"username": "alan"})
    assert {r["id"] for r in ada}.isdisjoint({r["id"] for r in alan})
    assert all(r["owner"]["login"] == "ada" for r in ada)
    assert all(r["full_name"] == f"ada/{r['name']}" for r in ada)
    assert len({r["name"] for r in ada}) == 6  # names kept distinct


def test_find_by_another_field_within_the_scope(contract: Contract) -> None:
    res = make(contract, size=4)
    repos = coll(res, contract, "GET /users/{username}/repos")
    name = res.items(repos, {"username": "ada"})[2]["name"]
    get_repo = op_of(contract, "GET /repos/{owner}/{repo}")
    target = res.target(get_repo, {"owner": "ada", "repo": name})
    assert target is not None and target.kind == "item"
    found = res.find(target)
    assert found is not None and found[1]["name"] == name
    missing = res.target(get_repo, {"owner": "ada", "repo": "nope"})
    assert missing is not None and res.find(missing) is None
    rejection = res.not_found(missing)
    assert rejection.status == 404 and "nope" in rejection.detail


def test_targets(contract: Contract) -> None:
    res = make(contract)
    target = res.target(op_of(contract, "GET /users/{username}/repos"), {"username": "ada"})
    assert target is not None and (target.kind, target.scope) == ("list", {"username": "ada"})
    target = res.target(op_of(contract, "POST /things"), {})
    assert target is not None and target.kind == "create"
    target = res.target(op_of(contract, "DELETE /things/{thingId}"), {"thingId": "3"})
    assert target is not None and (target.kind, target.value) == ("item", "3")
    assert res.target(op_of(contract, "GET /orders/{orderId}"), {"orderId": "1"}) is None


# -- changes ---------------------------------------------------------------------------------


def test_create_then_read(contract: Contract) -> None:
    res = make(contract, size=3)
    things = coll(res, contract, "GET /things")
    made = res.create(things, {"title": "new", "id": 99, "updated_at": "x"}, {})
    assert made["id"] == 4 and made["title"] == "new"  # server-assigned id, readOnly ignored
    assert made["updated_at"] != "x"
    assert res.items(things, {})[-1] == made
    assert res.get(things, "4", {}) == made
    assert res.create(things, {"title": "again"}, {})["id"] == 5
    assert_valid(contract, things, res.items(things, {}))


def test_replace_update_delete(contract: Contract) -> None:
    res = make(contract, size=3)
    things = coll(res, contract, "GET /things")
    assert res.replace(things, 2, {"title": "replaced"}, {}) is not None
    item = got(res, things, 2, {})
    assert item["title"] == "replaced" and "note" not in item and "colour" not in item
    updated = res.update(things, 2, {"note": "hello", "id": 55, "title": None}, {})
    assert updated is not None
    assert updated["note"] == "hello" and updated["id"] == 2 and updated["title"] == "replaced"
    assert res.update(things, 2, {"note": None}, {}) is not None
    assert "note" not in got(res, things, 2, {})  # merge patch: null removes
    assert res.delete(things, 2, {}) is True
    assert res.get(things, 2, {}) is None
    assert res.delete(things, 2, {}) is False
    assert res.replace(things, 2, {"title": "x"}, {}) is None
    assert res.update(things, 2, {"title": "x"}, {}) is None
    assert [t["id"] for t in res.items(things, {})] == [1, 3]
    assert_valid(contract, things, res.items(things, {}))


def test_changes_keep_positions(contract: Contract) -> None:
    res = make(contract, size=3)
    things = coll(res, contract, "GET /things")
    res.update(things, 1, {"title": "first"}, {})
    assert res.items(things, {})[0]["title"] == "first"


def test_changes_are_isolated_per_scope(contract: Contract) -> None:
    res = make(contract, size=2)
    repos = coll(res, contract, "GET /users/{username}/repos")
    made = res.create(repos, {"name": "mine", "full_name": "x", "owner": {}}, {"username": "ada"})
    assert made["owner"]["login"] == "ada" and made["full_name"] == "ada/mine"
    assert made in res.items(repos, {"username": "ada"})
    assert all(r["name"] != "mine" for r in res.items(repos, {"username": "alan"}))
    victim = res.items(repos, {"username": "alan"})[0]["id"]
    assert res.delete(repos, victim, {"username": "ada"}) is False  # not ada's


def test_reset_forgets_changes(contract: Contract) -> None:
    res = make(contract, size=2)
    things = coll(res, contract, "GET /things")
    res.create(things, {"title": "new"}, {})
    res.delete(things, 1, {})
    res.reset()
    assert [t["id"] for t in res.items(things, {})] == [1, 2]
    assert res.create(things, {"title": "new"}, {})["id"] == 3


def test_workers_sharing_a_store_see_each_others_changes(contract: Contract) -> None:
    store = MemoryStore()
    one, two = make(contract, size=3, store=store), make(contract, size=3, store=store)
    made = one.create(coll(one, contract, "GET /things"), {"title": "shared"}, {})
    other = two.create(coll(two, contract, "GET /things"), {"title": "second"}, {})
    assert made["id"] != other["id"]
    assert got(two, coll(two, contract, "GET /things"), made["id"], {})["title"] == "shared"
    two.delete(coll(two, contract, "GET /things"), 1, {})
    assert one.get(coll(one, contract, "GET /things"), 1, {}) is None
    assert all(k.startswith("res:") for k in store.keys(""))


def test_items_are_copies(contract: Contract) -> None:
    res = make(contract, size=2)
    things = coll(res, contract, "GET /things")
    res.items(things, {})[0]["title"] = "mutated"
    got(res, things, 2, {})["title"] = "mutated"
    assert "mutated" not in [t["title"] for t in res.items(things, {})]


# -- answers ---------------------------------------------------------------------------------


def test_wrap_item_and_location(contract: Contract) -> None:
    res = make(contract, size=2)
    get_location = op_of(contract, "GET /v1/locations/{locationId}")
    request = MockRequest.from_url("GET", "http://127.0.0.1:9/v1/locations/ALHR")
    envelope = {"meta": {"links": {"self": "https://elsewhere/x", "other": "y"}}, "data": {}}
    body = res.wrap_item(get_location, {"id": "ALHR"}, envelope, request)
    assert body == {
        "meta": {"links": {"self": "http://127.0.0.1:9/v1/locations/ALHR"}},
        "data": {"id": "ALHR"},
    }
    get_thing = op_of(contract, "GET /things/{thingId}")
    assert res.wrap_item(get_thing, {"id": 1}) == {"id": 1}
    things = coll(res, contract, "GET /things")
    assert res.location(things, {"id": 7}, {}, "http://h:1") == "http://h:1/things/7"
    repos = coll(res, contract, "GET /users/{username}/repos")
    assert res.location(repos, {"id": 1, "name": "a b"}, {"username": "ada"}) == (
        "/repos/ada/a%20b"
    )


def test_match_template() -> None:
    assert match_template("/users/{u}/repos", "/users/ada/repos") == {"u": "ada"}
    assert match_template("/users/{u}/repos", "/users/ada") is None


def test_richer_item_answers_merge_the_item_over_the_synthesised_one(contract: Contract) -> None:
    res = make(contract, size=3)
    members = coll(res, contract, "GET /members")
    get_member = op_of(contract, "GET /members/{login}")
    route = res.route(get_member)
    assert route is not None and (route.field, route.exact) == ("login", False)
    login = res.items(members, {})[1]["login"]
    target = res.target(get_member, {"login": login})
    assert target is not None
    found = res.find(target)
    assert found is not None
    body = res.wrap_item(get_member, found[1], {"id": 0, "login": "synth", "bio": "hi"})
    assert body == {"id": found[1]["id"], "login": login, "bio": "hi"}
