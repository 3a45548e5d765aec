"""The live datasets: the seeded base plus the changes kept in the state store.

``Resources`` reads a collection's items (the seeded base with the changes applied, in
order), creates, replaces, merge-patches and deletes items, and shapes item answers
(wrapped in the answer's envelope, ``Location`` URLs, 404s). Changes live in the
``StateStore`` under ``res:`` keys as JSON, so workers sharing a Redis store see the same
data.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

from mockserver.behaviours.resources.model import Collection, ItemFactory, Scope, Target
from mockserver.behaviours.resources.seeding import SeededCatalogue
from mockserver.behaviours.resources.shapes import (
    ITEM_WRAPPER_NAMES,
    _deref,
    _same_schema,
    properties,
    success_schema,
)
from mockserver.config import PaginationConfig
from mockserver.contract.model import Operation
from mockserver.contract.router import PATH_PARAM
from mockserver.http import Headers, MockRequest, Rejection
from mockserver.state.base import StateStore

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
_FOREVER = 10 * 365 * 86400.0
_PREFIX = "res:"


def _same(value: Any) -> Any:
    return value


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


class Resources(SeededCatalogue):
    """The collections of a set of operations and their live datasets."""

    def __init__(
        self,
        operations: Sequence[Operation],
        config: PaginationConfig,
        store: StateStore,
        make_item: ItemFactory,
    ) -> None:
        self.store = store
        super().__init__(operations, config, make_item)

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

    def _existing(
        self, coll: Collection, item_id: Any, scope: Scope
    ) -> tuple[dict[str, str], float, Any] | None:
        """The scope, order and current value of an item PUT/PATCH may change; None when
        it is unknown or the collection has no id field."""
        scope_d = self._scope_from(coll, scope)
        found = self._lookup(coll, str(item_id), scope_d)
        if found is None or coll.id_field is None:
            return None
        return scope_d, found[0], found[1]

    def replace(self, collection: Collection, item_id: Any, body: Any, scope: Scope) -> Any | None:
        """Replace an item (PUT): optional fields absent from ``body`` are dropped; the id,
        read-only and required fields the body does not give are kept. None if unknown."""
        coll = collection
        found = self._existing(coll, item_id, scope)
        if found is None:
            return None
        scope_d, order, current = found
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
        found = self._existing(coll, item_id, scope)
        if found is None:
            return None
        scope_d, order, current = found
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
                quote(values.get(seg[1:-1], ""), safe="") if PATH_PARAM.fullmatch(seg) else seg
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
