"""Seeded, mutable datasets behind the contract's collections.

A *collection* is a GET operation whose success answer is a list of items, bare
(``[...]``) or inside a wrapper object (``{"data": [...], "meta": {...}}``). Behind each
one sits a dataset: ``collection_size`` items made by the synthesiser (after the items
of the contract's own example, so documented ids such as ``ALHR`` exist), each with a
unique, deterministic, schema-valid id. Item operations (``GET/PUT/PATCH/DELETE
/things/{id}``) read and change that dataset, ``POST /things`` adds to it, and unknown ids
answer 404 like the real API.

Collections under templated paths (``/users/{username}/repos``) hold one dataset per
*scope*, the values of those path parameters, each seeded differently.

The seeded base is recomputed per process (it is deterministic) and cached; changes
(create/replace/update/delete) live in the ``StateStore`` under ``res:`` keys as JSON, so
several workers sharing a Redis store see the same data.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import random
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote, unquote

import jsonschema_rs
import rstr

from mockserver.config import PaginationConfig
from mockserver.contract.model import _MISSING, MediaType, Operation
from mockserver.contract.schemas import SchemaSpace
from mockserver.http import Headers, MockRequest, Rejection
from mockserver.params import schema_types
from mockserver.state.base import StateStore

log = logging.getLogger("mockserver.resources")

ItemFactory = Callable[[Operation, Any, int], Any]
"""``(collection operation, item schema, index) -> item``: a deterministic synthesised item.

The item schema is converted (JSON Schema 2020-12, ``$ref`` kept, resolvable with
``operation.schemas.resolve``); the same index must always give the same item and
different indexes should give different items.
"""

Scope = Mapping[str, str]
"""Values of a collection's path parameters (``{"username": "octocat"}``); ``{}`` if none."""

# Array properties that hold a page of items in a wrapper object, in order of preference.
WRAPPER_NAMES = ("data", "items", "results", "values", "entries", "records", "elements", "list")
# Query parameters that make an operation a paged list.
PAGING_PARAMS = frozenset(
    {
        "page",
        "per_page",
        "perpage",
        "page_size",
        "pagesize",
        "size",
        "limit",
        "offset",
        "skip",
        "cursor",
        "after",
        "before",
        "starting_after",
        "ending_before",
        "page_token",
        "pagetoken",
        "page[offset]",
        "page[limit]",
        "page[number]",
        "page[size]",
        "page[cursor]",
        "max_results",
        "maxresults",
        "continuation_token",
        "next_token",
        "marker",
        "$top",
        "$skip",
    }
)
# Envelope properties that are paging metadata, not data.
ENVELOPE_KEYS = frozenset(
    {
        "meta",
        "metadata",
        "_meta",
        "links",
        "_links",
        "link",
        "pagination",
        "paging",
        "page",
        "page_info",
        "pageinfo",
        "total",
        "count",
        "total_count",
        "totalcount",
        "total_items",
        "totalitems",
        "total_results",
        "totalresults",
        "totalelements",
        "total_pages",
        "totalpages",
        "pages",
        "per_page",
        "page_size",
        "pagesize",
        "limit",
        "offset",
        "size",
        "next",
        "previous",
        "prev",
        "first",
        "last",
        "self",
        "next_url",
        "prev_url",
        "has_more",
        "hasmore",
        "has_next",
        "next_cursor",
        "nextcursor",
        "next_page_token",
        "nextpagetoken",
        "cursor",
        "object",
        "url",
        "kind",
        "type",
        "etag",
        "incomplete_results",
        "warnings",
        "errors",
        "status",
        "success",
        "message",
        "request_id",
        "requestid",
    }
)
# Properties that wrap one item in an item answer (``{"data": {...}}``).
ITEM_WRAPPER_NAMES = ("data", "item", "result", "resource", "value", "record")
# Properties kept distinct between items where the schema allows (realistic datasets).
DISTINCT_FIELDS = ("iataCode", "login", "username", "name", "slug", "email")
_ID_FALLBACKS = ("uuid", "key", "login", "slug", "name", "code")
_CREATED_FIELDS = ("created_at", "createdAt", "created", "creationDate", "date_created")
_UPDATED_FIELDS = (
    "updated_at",
    "updatedAt",
    "modified_at",
    "modifiedAt",
    "lastModified",
    "last_modified",
    "date_updated",
)
_OWNER_SCOPES = ("username", "owner", "user", "login", "org", "organization", "account")
_PARAM = re.compile(r"{([^}/]+)}")
_FOREVER = 10 * 365 * 86400.0
_MAX_SCOPES = 256
_PREFIX = "res:"


# -- schema helpers ------------------------------------------------------------------------


def _same(value: Any) -> Any:
    return value


def _deref(space: SchemaSpace, node: Any) -> Any:
    return space.deref(node, "response")


def _types(space: SchemaSpace, node: Any) -> set[str]:
    return schema_types(node, lambda n: _deref(space, n))


def properties(space: SchemaSpace, schema: Any, depth: int = 0) -> dict[str, Any]:
    """The (converted) properties of an object schema, merged through ``allOf``."""
    node = _deref(space, schema)
    if not isinstance(node, dict) or depth > 16:
        return {}
    out: dict[str, Any] = {}
    for sub in node.get("allOf") or []:
        out.update(properties(space, sub, depth + 1))
    props = node.get("properties")
    if isinstance(props, dict):
        out.update(props)
    return out


def required(space: SchemaSpace, schema: Any, depth: int = 0) -> set[str]:
    """The required property names of an object schema, merged through ``allOf``."""
    node = _deref(space, schema)
    if not isinstance(node, dict) or depth > 16:
        return set()
    out = {str(n) for n in node.get("required") or [] if isinstance(n, str)}
    for sub in node.get("allOf") or []:
        out |= required(space, sub, depth + 1)
    return out


def array_items(space: SchemaSpace, schema: Any) -> tuple[bool, Any]:
    """``(True, item schema)`` when ``schema`` is an array (nullable arrays too)."""
    node = _deref(space, schema)
    if not isinstance(node, dict):
        return False, None
    types = _types(space, node)
    if "array" in types and "object" not in types:
        if "items" in node:
            return True, node.get("items") if isinstance(node.get("items"), dict) else {}
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key) or []:
                ok, items = array_items(space, sub)
                if ok:
                    return True, items
        return True, {}
    return False, None


def success_media(op: Operation) -> tuple[int, MediaType] | None:
    """The status and (JSON-preferred) media type of the operation's 2xx answer."""
    status = op.success_status()
    if not 200 <= status < 300:
        return None
    spec = op.response_for(status)
    if spec is None:
        return None
    media = spec.first_media_type()
    if media is None or media.schema is None:
        return None
    return status, media


def success_schema(op: Operation) -> Any:
    """The converted schema of the operation's success answer, or None."""
    found = success_media(op)
    if found is None:
        return None
    return op.schemas.convert(found[1].schema, "response")


@dataclass(frozen=True, slots=True)
class ListShape:
    """Where a list answer keeps its items: bare array or ``envelope[wrapper]``."""

    envelope: Any  # converted success schema
    wrapper: str | None
    item_schema: Any


def _has_paging_params(op: Operation) -> bool:
    return any(p.location == "query" and p.name.lower() in PAGING_PARAMS for p in op.parameters)


def list_shape(op: Operation) -> ListShape | None:
    """The list shape of an operation's success answer, or None when it is not a list.

    A bare array is a list. An object is a list envelope when exactly one of its array
    properties is named like a page (``data``, ``items``, ``results``...) or it has a single
    array property of objects; unless the property is ``data``, the envelope's other
    properties must look like paging metadata (``meta``, ``total``, ``next``...) or the
    operation must take paging parameters, so a repository with a ``topics`` array is
    not mistaken for a list of topics.
    """
    schema = success_schema(op)
    if schema is None:
        return None
    space = op.schemas
    ok, items = array_items(space, schema)
    if ok:
        return ListShape(schema, None, items)
    if "object" not in _types(space, schema):
        return None
    props = properties(space, schema)
    arrays = {
        name: array_items(space, s)[1] for name, s in props.items() if array_items(space, s)[0]
    }
    preferred = [n for n in arrays if n in WRAPPER_NAMES]
    name: str | None = None
    if len(preferred) == 1:
        name = preferred[0]
    elif not preferred and len(arrays) == 1:
        name = next(iter(arrays))
        if not {"object"} & _types(space, arrays[name]):
            return None
    if name is None:
        return None
    if name != "data" and not _has_paging_params(op):
        others = [k for k in props if k != name]
        if any(k.lower() not in ENVELOPE_KEYS for k in others):
            return None
    return ListShape(schema, name, arrays[name])


def _same_schema(space: SchemaSpace, a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        ra, rb = a.get("$ref"), b.get("$ref")
        if isinstance(ra, str) and isinstance(rb, str) and ra == rb:
            return True
    da, db = _deref(space, a), _deref(space, b)
    return isinstance(da, dict) and bool(da) and da == db


def _path_params(template: str) -> list[str]:
    return _PARAM.findall(template)


@functools.lru_cache(maxsize=512)
def _template_regex(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    for m in _PARAM.finditer(template):
        parts.append(re.escape(template[last : m.start()]))
        parts.append(f"(?P<p{len(parts)}>[^/]+?)")
        last = m.end()
    parts.append(re.escape(template[last:]))
    return re.compile("^" + "".join(parts) + "/?$")


def match_template(template: str, path: str) -> dict[str, str] | None:
    """The path parameters of ``path`` under ``template`` (None when it does not match)."""
    m = _template_regex(template).match(path)
    if m is None:
        return None
    return dict(zip(_path_params(template), m.groups(), strict=True))


def _singular(word: str) -> str:
    word = re.sub(r"[^A-Za-z0-9]+(.)", lambda m: m.group(1).upper(), word)
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _resource_name(path: str) -> str:
    statics = [s for s in path.strip("/").split("/") if s and "{" not in s]
    return _singular(statics[-1]) if statics else "item"


# -- public values -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Collection:
    """A list operation and what it lists."""

    key: str  # the list operation's full path template, e.g. /users/{username}/repos
    operation: Operation  # the GET that lists it
    item_schema: Any  # converted item schema ($ref kept): validate items against it
    wrapper: str | None  # the array property of the envelope; None for a bare array
    id_field: str | None  # the item property holding its id (None: items have no id)
    scope_params: tuple[str, ...]  # path parameters of ``key``
    resource: str  # singular resource name, e.g. "location"
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, eq=False)
class ItemRoute:
    """How an item operation addresses one item of a collection."""

    operation: Operation
    collection: Collection
    param: str  # path parameter holding the id value
    field: str  # item property it is compared with (usually the collection's id field)
    scope_map: tuple[tuple[str, str], ...]  # (collection scope param, this op's param)
    wrapper: str | None  # property wrapping the item in the answer ({"data": item})
    # The answer's item schema is the collection's item schema. When it is not (a richer
    # /users/{username} under a /users list), the item is merged over a synthesised answer.
    exact: bool = True


@dataclass(frozen=True, slots=True)
class Target:
    """What a request addresses: a list, the create endpoint, or one item."""

    kind: Literal["list", "create", "item"]
    collection: Collection
    scope: dict[str, str]
    route: ItemRoute | None = None
    value: str | None = None  # the id value from the path (kind "item")


# -- id generation ---------------------------------------------------------------------------


class _Check:
    """A compiled validator for one property schema (everything passes if it cannot compile)."""

    __slots__ = ("_validator",)

    def __init__(self, space: SchemaSpace, schema: Any) -> None:
        self._validator: Any = None
        try:
            self._validator = jsonschema_rs.validator_for(
                space.standalone(schema, "response"), validate_formats=True
            )
        except Exception:  # noqa: BLE001 - a schema we cannot compile constrains nothing here
            self._validator = None

    def __call__(self, value: Any) -> bool:
        return self._validator is None or bool(self._validator.is_valid(value))


def _code3(n: int) -> str:
    # A bijection of 0..17575 onto three-letter codes, scrambled so neighbours differ.
    v = (n * 7919 + 4409) % 17576
    return "".join(chr(65 + (v // 26**k) % 26) for k in (2, 1, 0))


def _rng(*parts: object) -> random.Random:
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class _Ids:
    """Unique, deterministic, schema-valid ids for one collection."""

    def __init__(self, coll: Collection) -> None:
        self.coll = coll
        space = coll.operation.schemas
        self.schema = coll.properties.get(coll.id_field, {}) if coll.id_field else {}
        node = _deref(space, self.schema)
        self.node: dict[str, Any] = node if isinstance(node, dict) else {}
        types = _types(space, self.schema)
        self.kind: str = (
            "integer"
            if "integer" in types and "string" not in types
            else "number"
            if "number" in types and "string" not in types
            else "string"
        )
        self.check = _Check(space, self.schema)
        letters = re.sub(r"[^A-Za-z]", "", coll.resource).upper() or "ITEM"
        self.prefix = (letters + "XXXX")[:4]
        self.slug = re.sub(r"[^a-z0-9]+", "-", coll.resource.lower()).strip("-") or "item"

    def _int_candidates(self, i: int, base: int) -> Iterator[int]:
        low = self.node.get("minimum")
        start = int(low) if isinstance(low, int | float) and low > 1 else 1
        yield base + start + i
        yield start + i
        for k in range(64):
            yield start + i + (k + 1) * 1000

    def _str_candidates(self, i: int, item: Any) -> Iterator[str]:
        enum = self.node.get("enum")
        if isinstance(enum, list):
            yield from (str(v) for v in enum if isinstance(v, str))
            return
        if isinstance(item, dict) and isinstance(item.get("iataCode"), str):
            kind = item.get("subType") or item.get("type") or ""
            initial = str(kind)[:1].upper() if str(kind)[:1].isalpha() else "L"
            yield initial + str(item["iataCode"])
        if self.node.get("format") == "uuid":
            yield str(uuid.uuid5(uuid.NAMESPACE_URL, f"mockserver:{self.coll.key}:{i}"))
        n = i + 1
        yield f"{self.prefix}{n:04d}"
        yield f"{self.slug}-{n}"
        yield str(n)
        min_len = self.node.get("minLength")
        if isinstance(min_len, int) and min_len > 1:
            yield f"{self.prefix}{n:0{max(min_len - 4, 4)}d}"
            yield f"{n:0{min_len}d}"
        yield uuid.uuid5(uuid.NAMESPACE_URL, f"mockserver:{self.coll.key}:{i}").hex
        pattern = self.node.get("pattern")
        if isinstance(pattern, str):
            try:
                gen = rstr.Rstr(_rng(self.coll.key, i))
                for _ in range(20):
                    yield str(gen.xeger(pattern))
            except Exception:  # noqa: BLE001 - an unsupported pattern: no more candidates
                return

    def make(self, i: int, item: Any, used: set[str], base: int = 0) -> Any:
        """The id for the item at index ``i`` (None when no unique valid id exists)."""
        candidates: Iterator[Any]
        if self.kind in ("integer", "number"):
            candidates = self._int_candidates(i, base)
        else:
            candidates = self._str_candidates(i, item)
        for value in candidates:
            if str(value) not in used and self.check(value):
                return value
        return None


# -- the datasets --------------------------------------------------------------------------


@dataclass(slots=True)
class _Base:
    items: list[Any]
    index: dict[str, int]  # str(id) -> position
    max_int: int = 0


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


class Resources:
    """The collections of a set of operations and their live datasets."""

    def __init__(
        self,
        operations: Sequence[Operation],
        config: PaginationConfig,
        store: StateStore,
        make_item: ItemFactory,
    ) -> None:
        self.config = config
        self.store = store
        self.make_item = make_item
        self._by_list: dict[int, Collection] = {}
        self._by_key: dict[str, Collection] = {}
        self._creators: dict[int, Collection] = {}
        self._routes: dict[int, ItemRoute] = {}
        self._ids: dict[str, _Ids] = {}
        self._checks: dict[tuple[str, str], _Check] = {}
        self._bases: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], _Base] = OrderedDict()
        self._lock = threading.Lock()
        self._index(list(operations))

    # -- discovery -------------------------------------------------------------------------

    def _op_config(self, op: Operation) -> dict[str, Any]:
        found = self.config.operations.get(op.key)
        return found if isinstance(found, dict) else {}

    def _index(self, operations: list[Operation]) -> None:
        lists: list[tuple[Operation, ListShape]] = []
        for op in operations:
            if op.method != "GET" or self._op_config(op).get("resource") is False:
                continue
            if any(o.full_path == op.full_path for o, _ in lists):
                continue  # the first contract mounted wins, as in the router
            shape = list_shape(op)
            if shape is not None:
                lists.append((op, shape))
        for op, shape in lists:
            coll = self._collection(op, shape, operations)
            self._by_list[id(op)] = coll
            self._by_key[coll.key] = coll
            self._ids[coll.key] = _Ids(coll)
        for op in operations:
            if (
                op.method == "POST"
                and op.full_path in self._by_key
                and self._op_config(op).get("resource") is not False
                # a POST answering a list is a search (Amadeus flight offers), not a create
                and list_shape(op) is None
            ):
                self._creators[id(op)] = self._by_key[op.full_path]
        self._index_routes(operations)

    def _collection(self, op: Operation, shape: ListShape, ops: list[Operation]) -> Collection:
        space = op.schemas
        props = properties(space, shape.item_schema)
        resource = _resource_name(op.full_path)
        id_field = self._op_config(op).get("id_field")
        if not isinstance(id_field, str) or not id_field:
            id_field = self._guess_id(op, props, resource, shape.item_schema, ops)
        return Collection(
            key=op.full_path,
            operation=op,
            item_schema=shape.item_schema,
            wrapper=shape.wrapper,
            id_field=id_field,
            scope_params=tuple(_path_params(op.full_path)),
            resource=resource,
            properties=props,
            required=frozenset(required(space, shape.item_schema)),
        )

    def _guess_id(
        self,
        op: Operation,
        props: dict[str, Any],
        resource: str,
        item: Any,
        ops: list[Operation],
    ) -> str | None:
        if not props:
            return None
        if "id" in props:
            return "id"
        for other in ops:
            sub = other.full_path[len(op.full_path) :]
            if other.full_path.startswith(op.full_path) and re.fullmatch(r"/{[^}/]+}", sub):
                name = sub[2:-1]
                if name in props:
                    return name
        names = [resource]
        ref = item.get("$ref") if isinstance(item, dict) else None
        if isinstance(ref, str):
            token = ref.rsplit("/", 1)[-1]
            names.append(token[:1].lower() + token[1:])
        for name in names:
            for candidate in (f"{name}Id", f"{name}_id", f"{name}ID"):
                if candidate in props:
                    return candidate
        for candidate in _ID_FALLBACKS:
            if candidate in props:
                return candidate
        return None

    def _item_wrapper(self, op: Operation, coll: Collection) -> tuple[bool, str | None]:
        """(matches, wrapper): does ``op`` answer the collection's item, and wrapped how."""
        if op.contract is not coll.operation.contract:
            return False, None
        schema = success_schema(op)
        if schema is None:
            return op.method in ("DELETE", "PUT", "PATCH"), None
        space = op.schemas
        if _same_schema(space, schema, coll.item_schema):
            return True, None
        props = properties(space, schema)
        for name in ITEM_WRAPPER_NAMES:
            if name in props and _same_schema(space, props[name], coll.item_schema):
                return True, name
        for name in ITEM_WRAPPER_NAMES:  # {data: <another schema>, meta: ...}
            others = [k for k in props if k != name]
            if (
                name in props
                and "object" in _types(space, props[name])
                and all(k.lower() in ENVELOPE_KEYS for k in others)
            ):
                return False, name
        return False, None

    def _index_routes(self, operations: list[Operation]) -> None:
        by_path: dict[str, list[Operation]] = {}
        for op in operations:
            by_path.setdefault(op.full_path, []).append(op)
        for path, ops in by_path.items():
            m = re.fullmatch(r"(.*)/{([^}/]+)}", path)
            if m is None:
                continue
            param = m.group(2)
            override = next((self._op_config(o) for o in ops if self._op_config(o)), {})
            if override.get("resource") is False:
                continue
            found = self._route_for(path, m.group(1), param, ops, override)
            if found is None:
                continue
            coll, param, field_name, scope_map = found
            beneath = path == f"{coll.key}/{{{param}}}" or isinstance(
                override.get("collection"), str
            )
            for op in ops:
                if op.method not in ("GET", "PUT", "PATCH", "DELETE"):
                    continue
                matches, wrapper = self._item_wrapper(op, coll)
                if matches or beneath:
                    self._routes[id(op)] = ItemRoute(
                        op, coll, param, field_name, scope_map, wrapper, exact=matches
                    )

    def _route_for(
        self, path: str, parent: str, param: str, ops: list[Operation], override: dict[str, Any]
    ) -> tuple[Collection, str, str, tuple[tuple[str, str], ...]] | None:
        """(collection, id param, item field, scope map) of an item path, or None."""
        params = _path_params(path)
        coll: Collection | None = None
        configured = override.get("collection")
        if isinstance(configured, str):
            coll = self._by_key.get(configured)
            if coll is None:
                return None
        elif parent in self._by_key:
            coll = self._by_key[parent]
        else:
            getter = next((o for o in ops if o.method == "GET"), None)
            if getter is None:
                return None
            found = [
                c
                for c in self._by_list.values()
                if len(c.scope_params) + 1 == len(params) and self._item_wrapper(getter, c)[0]
            ]
            if len(found) != 1:
                return None
            coll = found[0]
        id_param = override.get("id_param")
        if isinstance(id_param, str) and id_param in params:
            param = id_param
        others = [p for p in params if p != param]
        if len(others) != len(coll.scope_params):
            return None
        scope_map = tuple(zip(coll.scope_params, others, strict=True))
        field_name = override.get("id_field")
        if not isinstance(field_name, str) or not field_name:
            field_name = self._route_field(coll, param, ops)
        if field_name is None:
            return None
        return coll, param, field_name, scope_map

    def _route_field(self, coll: Collection, param: str, ops: list[Operation]) -> str | None:
        if param in coll.properties:
            return param
        space = coll.operation.schemas
        pschema: Any = {}
        for op in ops:
            for p in op.parameters:
                if p.location == "path" and p.name == param:
                    pschema = space.deref(space.convert(p.schema, "request"), "request")
        ptypes = _types(space, pschema) if pschema else set()
        if coll.id_field is not None:
            itypes = _types(space, coll.properties.get(coll.id_field, {}))
            numeric = {"integer", "number"}
            if (
                not ptypes
                or (ptypes & numeric and itypes & numeric)
                or ("string" in ptypes and "string" in itypes)
            ):
                return coll.id_field
        pattern = pschema.get("pattern") if isinstance(pschema, dict) else None
        if isinstance(pattern, str):
            for name, prop in coll.properties.items():
                node = _deref(space, prop)
                if isinstance(node, dict) and node.get("pattern") == pattern:
                    return name
        return None

    # -- lookups ---------------------------------------------------------------------------

    @property
    def collections(self) -> list[Collection]:
        """Every collection, in contract order."""
        return list(self._by_list.values())

    def collection_for(self, op: Operation) -> Collection | None:
        """The collection ``op`` lists (``op`` is a GET returning an array), or None."""
        return self._by_list.get(id(op))

    def creator_for(self, op: Operation) -> Collection | None:
        """The collection ``op`` adds to (``op`` is a POST on a collection's path), or None."""
        return self._creators.get(id(op))

    def route(self, op: Operation) -> ItemRoute | None:
        """How item operation ``op`` addresses an item, or None."""
        return self._routes.get(id(op))

    def item_route(self, op: Operation) -> tuple[Collection, str] | None:
        """The collection of item operation ``op`` and the path parameter with the id."""
        found = self._routes.get(id(op))
        return None if found is None else (found.collection, found.param)

    def scope_of(self, op: Operation, path_params: Mapping[str, Any]) -> dict[str, str]:
        """The collection scope of a request to ``op`` given its (raw) path parameters."""
        route = self._routes.get(id(op))
        if route is not None:
            return {c: str(path_params.get(p, "")) for c, p in route.scope_map}
        coll = self._by_list.get(id(op)) or self._creators.get(id(op))
        if coll is None:
            return {}
        return {p: str(path_params.get(p, "")) for p in coll.scope_params}

    def target(self, op: Operation, path_params: Mapping[str, Any]) -> Target | None:
        """What a request to ``op`` addresses (None: no dataset behind this operation)."""
        coll = self._by_list.get(id(op))
        if coll is not None:
            return Target("list", coll, self.scope_of(op, path_params))
        coll = self._creators.get(id(op))
        if coll is not None:
            return Target("create", coll, self.scope_of(op, path_params))
        route = self._routes.get(id(op))
        if route is not None:
            value = path_params.get(route.param)
            return Target(
                "item",
                route.collection,
                self.scope_of(op, path_params),
                route,
                None if value is None else str(value),
            )
        return None

    def _scope_from(self, coll: Collection, scope: Scope | MockRequest) -> dict[str, str]:
        if isinstance(scope, MockRequest):
            found = match_template(coll.key, scope.path) or {}
            return {p: found.get(p, "") for p in coll.scope_params}
        return {p: str(scope.get(p, "")) for p in coll.scope_params}

    # -- the seeded base ---------------------------------------------------------------------

    def _size(self, coll: Collection) -> int:
        size = self._op_config(coll.operation).get("collection_size")
        if isinstance(size, int) and not isinstance(size, bool) and size >= 0:
            return size
        return max(0, self.config.collection_size)

    def _base(self, coll: Collection, scope: dict[str, str]) -> _Base:
        key = (coll.key, tuple(sorted(scope.items())))
        with self._lock:
            hit = self._bases.get(key)
            if hit is not None:
                self._bases.move_to_end(key)
                return hit
        base = self._seed(coll, scope)
        with self._lock:
            self._bases[key] = base
            while len(self._bases) > _MAX_SCOPES:
                self._bases.popitem(last=False)
        return base

    def _examples(self, coll: Collection) -> list[Any]:
        if not self.config.seed_examples:
            return []
        found = success_media(coll.operation)
        if found is None:
            return []
        media = found[1]
        value: Any = None if media.example is _MISSING else media.example
        if not isinstance(value, list | dict) and media.examples:
            value = next(iter(media.examples.values()))
        if coll.wrapper is not None:
            value = value.get(coll.wrapper) if isinstance(value, dict) else None
        if not isinstance(value, list):
            return []
        # published examples do not always match their schema (Amadeus' give latitudes
        # as strings): only conforming ones become data
        check = self._check(coll, "")
        return [copy.deepcopy(v) for v in value if check(v)]

    def _seed(self, coll: Collection, scope: dict[str, str]) -> _Base:
        n = self._size(coll)
        ids = self._ids[coll.key]
        offset = 0
        if scope:
            digest = hashlib.sha256(json.dumps(sorted(scope.items())).encode()).digest()
            offset = (1 + int.from_bytes(digest[:4], "big") % 9973) * 100_000
        examples = self._examples(coll)
        items: list[Any] = []
        index: dict[str, int] = {}
        seen: dict[str, set[str]] = {}
        max_int = 0
        i = 0
        attempts = 0
        while len(items) < n and attempts < n + 64:
            attempts += 1
            if i < len(examples):
                item = examples[i]
            else:
                item = copy.deepcopy(self.make_item(coll.operation, coll.item_schema, offset + i))
            position = i
            i += 1
            if isinstance(item, dict):
                self._fit_scope(coll, item, scope)
                self._distinct(coll, item, position, seen)
                if coll.id_field is not None:
                    current = item.get(coll.id_field)
                    keep = (
                        position < len(examples)
                        and current is not None
                        and (str(current) not in index and ids.check(current))
                    )
                    if not keep:
                        new_id = ids.make(position, item, set(index), offset)
                        if new_id is None:
                            continue  # no unique valid id left (e.g. a small enum)
                        item[coll.id_field] = new_id
                    self._derive(coll, item)
                    value = item[coll.id_field]
                    index[str(value)] = len(items)
                    if isinstance(value, int) and not isinstance(value, bool):
                        max_int = max(max_int, value)
            items.append(item)
        return _Base(items, index, max_int)

    def _check(self, coll: Collection, name: str) -> _Check:
        """Validator of property ``name`` of the items ("": the whole item)."""
        key = (coll.key, name)
        hit = self._checks.get(key)
        if hit is None:
            schema = coll.properties.get(name, {}) if name else coll.item_schema
            hit = _Check(coll.operation.schemas, schema)
            self._checks[key] = hit
        return hit

    def _set_if_valid(self, coll: Collection, item: dict[str, Any], name: str, value: Any) -> bool:
        if name in coll.properties and self._check(coll, name)(value):
            item[name] = value
            return True
        return False

    def _fit_scope(self, coll: Collection, item: dict[str, Any], scope: Scope) -> None:
        """Make an item belong to its scope: ``owner.login`` = the ``{username}`` it is under."""
        for name, value in scope.items():
            if name in item and isinstance(item[name], str) and name != coll.id_field:
                self._set_if_valid(coll, item, name, value)
            if name in _OWNER_SCOPES and isinstance(item.get("owner"), dict):
                owner = dict(item["owner"])
                if owner.get("login") is None or isinstance(owner.get("login"), str):
                    owner["login"] = value
                    self._set_if_valid(coll, item, "owner", owner)

    def _derive(self, coll: Collection, item: dict[str, Any]) -> None:
        owner = item.get("owner")
        if (
            isinstance(item.get("full_name"), str)
            and isinstance(owner, dict)
            and isinstance(owner.get("login"), str)
            and isinstance(item.get("name"), str)
        ):
            self._set_if_valid(coll, item, "full_name", f"{owner['login']}/{item['name']}")

    def _distinct(
        self, coll: Collection, item: dict[str, Any], i: int, seen: dict[str, set[str]]
    ) -> None:
        for name in DISTINCT_FIELDS:
            value = item.get(name)
            if name == coll.id_field or not isinstance(value, str):
                continue
            used = seen.setdefault(name, set())
            if value in used:
                for candidate in self._alternatives(name, value, i):
                    if candidate not in used and self._set_if_valid(coll, item, name, candidate):
                        break
            used.add(str(item[name]))

    @staticmethod
    def _alternatives(name: str, value: str, i: int) -> Iterator[str]:
        if re.fullmatch(r"[A-Z]{3}", value):
            for k in range(64):
                yield _code3(i + k * 101)
            return
        n = i + 1
        if name == "email" and "@" in value:
            local, _, domain = value.partition("@")
            yield f"{local}{n}@{domain}"
            yield f"{local}+{n}@{domain}"
            return
        yield f"{value}-{n}"
        yield f"{value}{n}"
        yield f"{value} {n}"
        yield f"{value[: max(1, len(value) - len(str(n)))]}{n}"

    # -- changes in the store --------------------------------------------------------------

    @staticmethod
    def _scope_key(coll: Collection, scope: Scope) -> str:
        encoded = quote(json.dumps(sorted(scope.items()), separators=(",", ":")), safe="")
        return f"{_PREFIX}{quote(coll.key, safe='')}:{encoded}"

    def _item_key(self, coll: Collection, scope: Scope, item_id: str) -> str:
        return f"{self._scope_key(coll, scope)}:{quote(item_id, safe='')}"

    def _load(self, raw: str | None) -> tuple[float, Any] | None:
        if raw is None:
            return None
        try:
            doc = json.loads(raw)
            return float(doc["o"]), doc.get("v")
        except (ValueError, KeyError, TypeError):
            return None

    def _write(self, coll: Collection, scope: Scope, item_id: str, order: float, item: Any) -> None:
        self.store.set(
            self._item_key(coll, scope, item_id),
            json.dumps({"o": order, "v": item}, separators=(",", ":")),
        )

    def _changes(self, coll: Collection, scope: Scope) -> dict[str, tuple[float, Any]]:
        prefix = self._scope_key(coll, scope) + ":"
        out: dict[str, tuple[float, Any]] = {}
        for key in self.store.keys(prefix):
            found = self._load(self.store.get(key))
            if found is not None:
                out[unquote(key[len(prefix) :])] = found
        return out

    # -- reading ---------------------------------------------------------------------------

    def items(
        self, collection: Collection, request: MockRequest | Scope, *, copies: bool = True
    ) -> list[Any]:
        """Every live item of the collection in its scope (seeded + changes), in order.

        ``request`` is the list request (its path gives the scope) or the scope itself.
        The items are copies: change them freely. With ``copies=False`` the seeded items
        are the dataset's own, to read only: the list path only serialises its page
        (copying all 42 items was most of a list request's time).
        """
        scope = self._scope_from(collection, request)
        base = self._base(collection, scope)
        dup: Callable[[Any], Any] = copy.deepcopy if copies else _same
        if collection.id_field is None:
            return copy.deepcopy(base.items) if copies else list(base.items)
        changes = self._changes(collection, scope)
        if not changes:
            return copy.deepcopy(base.items) if copies else list(base.items)
        rows: list[tuple[float, Any]] = []
        for pos, item in enumerate(base.items):
            key = str(item.get(collection.id_field)) if isinstance(item, dict) else None
            if key is not None and key in changes:
                order, value = changes.pop(key)
                if value is not None:
                    rows.append((order, value))
            else:
                rows.append((float(pos), dup(item)))
        rows.extend((order, value) for order, value in changes.values() if value is not None)
        rows.sort(key=lambda r: r[0])
        return [value for _, value in rows]

    def _lookup(
        self, coll: Collection, item_id: str, scope: dict[str, str]
    ) -> tuple[float, Any] | None:
        changed = self._load(self.store.get(self._item_key(coll, scope, item_id)))
        if changed is not None:
            return None if changed[1] is None else changed
        base = self._base(coll, scope)
        pos = base.index.get(item_id)
        if pos is None:
            return None
        return float(pos), copy.deepcopy(base.items[pos])

    def get(self, collection: Collection, item_id: Any, scope: Scope) -> Any | None:
        """The live item with id ``item_id`` in ``scope``, or None (answer 404)."""
        if collection.id_field is None:
            return None
        found = self._lookup(collection, str(item_id), self._scope_from(collection, scope))
        return None if found is None else found[1]

    def find(self, target: Target) -> tuple[str, Any] | None:
        """``(id, item)`` of the item an item request addresses, or None (answer 404).

        Resolves routes that name items by another field than the id
        (``/repos/{owner}/{repo}`` finds a repository by ``name``).
        """
        coll = target.collection
        if target.kind != "item" or target.value is None or coll.id_field is None:
            return None
        route = target.route
        if route is None or route.field == coll.id_field:
            item = self.get(coll, target.value, target.scope)
            return None if item is None else (target.value, item)
        for item in self.items(coll, target.scope):
            if isinstance(item, dict) and str(item.get(route.field)) == target.value:
                return str(item.get(coll.id_field)), item
        return None

    # -- changing --------------------------------------------------------------------------

    def _stamp(self, coll: Collection, item: dict[str, Any], names: Sequence[str]) -> None:
        now = _now()
        for name in names:
            if name in coll.properties:
                self._set_if_valid(coll, item, name, now)

    def _body_fields(self, coll: Collection, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            return {}
        space = coll.operation.schemas
        out: dict[str, Any] = {}
        for key, value in body.items():
            prop = coll.properties.get(key)
            if key == coll.id_field:
                continue
            node = _deref(space, prop) if prop is not None else None
            if isinstance(node, dict) and node.get("readOnly") is True:
                continue
            if prop is None and coll.properties and self._closed(coll):
                continue
            if prop is not None and not self._check(coll, key)(value):
                continue  # e.g. a form field "" for an object: keep the synthesised value
            out[key] = copy.deepcopy(value)
        return out

    def _closed(self, coll: Collection) -> bool:
        node = _deref(coll.operation.schemas, coll.item_schema)
        return isinstance(node, dict) and (
            node.get("additionalProperties") is False or node.get("unevaluatedProperties") is False
        )

    def create(self, collection: Collection, body: Any, scope: Scope) -> Any:
        """Add an item made from ``body`` (POST to the collection); returns the stored item.

        The item is a synthesised one overlaid with the body's fields, with a new id, the
        scope's values and fresh creation/update timestamps.
        """
        coll = collection
        scope_d = self._scope_from(coll, scope)
        base = self._base(coll, scope_d)
        n = len(base.items)
        seq = self.store.incr(self._scope_key(coll, scope_d) + "#seq", _FOREVER)
        index = n + seq - 1
        made = copy.deepcopy(self.make_item(coll.operation, coll.item_schema, 10_000_000 + index))
        if not isinstance(made, dict):
            return body if body is not None else made
        made.update(self._body_fields(coll, body))
        self._fit_scope(coll, made, scope_d)
        self._stamp(coll, made, _CREATED_FIELDS + _UPDATED_FIELDS)
        if coll.id_field is not None:
            ids = self._ids[coll.key]
            live = set(base.index) | set(self._changes(coll, scope_d))
            if ids.kind in ("integer", "number"):
                new_id: Any = None
                for k in range(64):
                    candidate = base.max_int + seq + k * 1_000_000
                    if str(candidate) not in live and ids.check(candidate):
                        new_id = candidate
                        break
            else:
                new_id = ids.make(index, made, live)
            if new_id is None:
                new_id = uuid.uuid4().hex
            made[coll.id_field] = new_id
            self._derive(coll, made)
            self._write(coll, scope_d, str(new_id), float(index), made)
        return made

    def replace(self, collection: Collection, item_id: Any, body: Any, scope: Scope) -> Any | None:
        """Replace an item (PUT): optional fields absent from ``body`` are dropped; the id,
        read-only and required fields the body does not give are kept. None if unknown."""
        coll = collection
        scope_d = self._scope_from(coll, scope)
        found = self._lookup(coll, str(item_id), scope_d)
        if found is None or coll.id_field is None:
            return None
        order, current = found
        if not isinstance(current, dict):
            return current
        fields = self._body_fields(coll, body)
        space = coll.operation.schemas
        new: dict[str, Any] = {}
        for key, value in current.items():
            node = _deref(space, coll.properties.get(key))
            read_only = isinstance(node, dict) and node.get("readOnly") is True
            if key == coll.id_field or read_only or key in coll.required:
                new[key] = value
        new.update(fields)
        self._stamp(coll, new, _UPDATED_FIELDS)
        self._write(coll, scope_d, str(item_id), order, new)
        return new

    def update(self, collection: Collection, item_id: Any, patch: Any, scope: Scope) -> Any | None:
        """Merge-patch an item (PATCH, RFC 7396); the id and required fields stay. None if
        the item is unknown."""
        coll = collection
        scope_d = self._scope_from(coll, scope)
        found = self._lookup(coll, str(item_id), scope_d)
        if found is None or coll.id_field is None:
            return None
        order, current = found
        if not isinstance(current, dict):
            return current
        fields = self._body_fields(coll, patch)
        for key in list(fields):
            if fields[key] is None and key in coll.required:
                del fields[key]  # a required field cannot be removed
        new = merge_patch(current, fields)
        new[coll.id_field] = current[coll.id_field]
        self._stamp(coll, new, _UPDATED_FIELDS)
        self._write(coll, scope_d, str(item_id), order, new)
        return new

    def delete(self, collection: Collection, item_id: Any, scope: Scope) -> bool:
        """Delete an item (DELETE); False when it does not exist (answer 404)."""
        coll = collection
        scope_d = self._scope_from(coll, scope)
        found = self._lookup(coll, str(item_id), scope_d)
        if found is None:
            return False
        self._write(coll, scope_d, str(item_id), found[0], None)
        return True

    def reset(self) -> None:
        """Forget every change: the datasets are back to their seeded state."""
        self.store.clear(_PREFIX)

    # -- answers ---------------------------------------------------------------------------

    def wrap_item(
        self, op: Operation, item: Any, envelope: Any = None, request: MockRequest | None = None
    ) -> Any:
        """The answer body of item operation (or create) ``op`` carrying ``item``.

        ``envelope`` is a synthesised answer of ``op``. Bare items are returned as they
        are; wrapped ones (``{"data": item, "meta": ...}``) go into a copy of ``envelope``,
        with ``meta.links.self`` pointing at the request when the schema declares it. When
        the operation answers a different (richer) schema than the list's items, the item
        is merged over the synthesised one so every required field is there.
        """
        route = self._routes.get(id(op))
        wrapper = route.wrapper if route is not None else None
        if route is not None and not route.exact and isinstance(item, dict):
            inner = envelope.get(wrapper) if wrapper and isinstance(envelope, dict) else envelope
            if isinstance(inner, dict):
                item = {**inner, **item}
        if wrapper is None and route is None:
            schema = success_schema(op)
            coll = self._creators.get(id(op))
            if schema is not None and coll is not None:
                props = properties(op.schemas, schema)
                wrapper = next(
                    (
                        n
                        for n in ITEM_WRAPPER_NAMES
                        if n in props and _same_schema(op.schemas, props[n], coll.item_schema)
                    ),
                    None,
                )
        if wrapper is None:
            return item
        body = dict(envelope) if isinstance(envelope, dict) else {}
        body[wrapper] = item
        meta = body.get("meta")
        if request is not None and isinstance(meta, dict) and isinstance(meta.get("links"), dict):
            links = {k: v for k, v in meta["links"].items() if k == "self"}
            if "self" in links:
                links["self"] = request.url
            body["meta"] = {**meta, "links": links}
        return body

    def location(
        self, collection: Collection, item: Any, scope: Scope, root_url: str = ""
    ) -> str | None:
        """The URL of an item (for ``Location`` after a create), or None without a route."""
        if not isinstance(item, dict) or collection.id_field is None:
            return None
        for route in self._routes.values():
            if route.collection is not collection or route.operation.method != "GET":
                continue
            values = {p: scope.get(c, "") for c, p in route.scope_map}
            values[route.param] = str(item.get(route.field, ""))
            segments = [
                quote(values.get(seg[1:-1], ""), safe="") if _PARAM.fullmatch(seg) else seg
                for seg in route.operation.full_path.split("/")
            ]
            return root_url + "/".join(segments)
        return None

    @staticmethod
    def not_found(target: Target) -> Rejection:
        """The 404 for an item that does not exist."""
        name = target.collection.resource
        value = target.value or ""
        return Rejection(
            404,
            "Not Found",
            f"no {name} with {target.route.param if target.route else 'id'} {value!r}",
            headers=Headers(),
            error="not_found",
        )
