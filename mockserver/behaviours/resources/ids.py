"""Unique, deterministic, schema-valid ids for the items of a collection.

``_Ids`` proposes candidates that fit the id property's schema (integers past its
``minimum``, enum values, uuids, prefixed codes, strings matching its ``pattern``) and
keeps the first one not taken; ``_Check`` is the compiled validator of one property schema.
"""

from __future__ import annotations

import hashlib
import random
import re
import uuid
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import rstr

from mockserver.behaviours.resources.model import Collection
from mockserver.behaviours.resources.shapes import _deref, _types
from mockserver.contract.schemas import SchemaSpace


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
