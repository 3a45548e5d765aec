"""The seeded base of each dataset: deterministic items, recomputed per process and cached.

A scope's base is the conforming items of the contract's own example followed by
synthesised ones, ``collection_size`` in all, each fitted to its scope (``owner.login`` is
the ``{username}`` it is under), with distinct names and unique valid ids; the last
``_MAX_SCOPES`` bases are kept.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from mockserver.behaviours.resources.catalogue import Catalogue
from mockserver.behaviours.resources.ids import _Check, _code3
from mockserver.behaviours.resources.model import Collection, ItemFactory, Scope
from mockserver.behaviours.resources.shapes import success_media
from mockserver.config import PaginationConfig
from mockserver.contract.model import _MISSING, Operation

# Properties kept distinct between items where the schema allows (realistic datasets).
DISTINCT_FIELDS = ("iataCode", "login", "username", "name", "slug", "email")
_OWNER_SCOPES = ("username", "owner", "user", "login", "org", "organization", "account")
_MAX_SCOPES = 256


@dataclass(slots=True)
class _Base:
    items: list[Any]
    index: dict[str, int]  # str(id) -> position
    max_int: int = 0


class SeededCatalogue(Catalogue):
    """The catalogue and the seeded (unchanged) items of every collection, per scope."""

    def __init__(
        self, operations: Sequence[Operation], config: PaginationConfig, make_item: ItemFactory
    ) -> None:
        self.make_item = make_item
        self._checks: dict[tuple[str, str], _Check] = {}
        self._bases: OrderedDict[tuple[str, tuple[tuple[str, str], ...]], _Base] = OrderedDict()
        self._lock = threading.Lock()
        super().__init__(operations, config)

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
