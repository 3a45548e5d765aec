"""Which operations list, create and address the items of which collection.

``Catalogue`` finds the collections of a set of operations (GETs answering a list), guesses
each one's id field, pairs ``POST`` on a collection's path with it as its create endpoint
and routes item operations (``/things/{id}``, or ``/repos/{owner}/{repo}`` by another
field) to their collection, honouring the per-operation ``resource``, ``collection``,
``id_field`` and ``id_param`` settings; then answers what a request to an operation
addresses (``target``) and in which scope.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mockserver.behaviours.resources.ids import _Ids
from mockserver.behaviours.resources.model import Collection, ItemRoute, Scope, Target
from mockserver.behaviours.resources.shapes import (
    ENVELOPE_KEYS,
    ITEM_WRAPPER_NAMES,
    ListShape,
    _deref,
    _path_params,
    _resource_name,
    _same_schema,
    _types,
    list_shape,
    match_template,
    properties,
    required,
    success_schema,
)
from mockserver.config import PaginationConfig
from mockserver.contract.model import Operation
from mockserver.http import MockRequest

_ID_FALLBACKS = ("uuid", "key", "login", "slug", "name", "code")


class Catalogue:
    """The collections of a set of operations and the operations that address their items."""

    def __init__(self, operations: Sequence[Operation], config: PaginationConfig) -> None:
        self.config = config
        self._by_list: dict[int, Collection] = {}
        self._by_key: dict[str, Collection] = {}
        self._creators: dict[int, Collection] = {}
        self._routes: dict[int, ItemRoute] = {}
        self._ids: dict[str, _Ids] = {}
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
