"""OpenAPI schema objects -> standalone JSON Schema 2020-12 documents.

OpenAPI 3.0 and Swagger 2.0 schemas are a JSON Schema dialect of their own (``nullable``,
boolean ``exclusiveMinimum``, ``readOnly`` properties that are required only in answers).
``SchemaSpace`` converts them node by node without following ``$ref`` (so circular
schemas are fine) and builds, for any schema, a standalone document that carries just the
referenced definitions at their original JSON pointers, so ``#/components/...`` refs
resolve unchanged. Results are cached: nothing is converted twice.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

from mockserver.contract.documents import resolve_pointer, split_pointer

Direction = Literal["request", "response"]
Schema = dict[str, Any]
DIALECT_2020_12 = "https://json-schema.org/draft/2020-12/schema"

_SCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LIST_KEYS = ("allOf", "anyOf", "oneOf", "prefixItems")
_SCHEMA_KEYS = (
    "additionalProperties",
    "items",
    "not",
    "contains",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)


class SchemaSpace:
    """The schemas of one contract document, converted on demand and cached."""

    def __init__(self, document: dict[str, Any], dialect: str) -> None:
        self.document = document
        self.dialect = dialect
        self._converted: dict[tuple[str, Direction], Any] = {}
        self._standalone: dict[tuple[int, Direction], Schema] = {}
        self._root_converted: dict[tuple[int, Direction], Any] = {}
        self._lock = threading.Lock()
        # keep the schemas we were asked about alive so their id() stays unique
        self._pinned: list[Any] = []

    def resolve_raw(self, ref: str) -> Any:
        """The raw (unconverted) node a local ``#/...`` ref points to."""
        return resolve_pointer(self.document, ref[1:] if ref.startswith("#") else ref)

    def resolve(self, ref: str, direction: Direction = "response") -> Any:
        """The converted schema a local ``#/...`` ref points to."""
        key = (ref, direction)
        hit = self._converted.get(key)
        if hit is None:
            hit = self.convert(self.resolve_raw(ref), direction)
            self._converted[key] = hit
        return hit

    def converted(self, schema: Any, direction: Direction = "response") -> Any:
        """``convert(schema)``, cached per schema object: call it on hot paths."""
        key = (id(schema), direction)
        hit = self._root_converted.get(key)
        if hit is None:
            hit = self.convert(schema, direction)
            with self._lock:
                self._pinned.append(schema)
                self._root_converted[key] = hit
        return hit

    def deref(self, node: Any, direction: Direction = "response", limit: int = 32) -> Any:
        """Follow ``$ref`` chains (converted) until a node without ``$ref``."""
        seen = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < limit:
            node = self.resolve(node["$ref"], direction)
            seen += 1
        return node

    def standalone(self, schema: Any, direction: Direction = "response") -> Schema:
        """A self-contained JSON Schema 2020-12 document equivalent to ``schema``."""
        key = (id(schema), direction)
        hit = self._standalone.get(key)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._standalone.get(key)
            if hit is not None:
                return hit
            root = self.convert(schema, direction)
            if not isinstance(root, dict):
                root = {} if root is True else {"not": {}}
            doc: Schema = dict(root)
            doc["$schema"] = DIALECT_2020_12
            pending = list(_refs_in(root))
            done: set[str] = set()
            while pending:
                ref = pending.pop()
                if ref in done or not ref.startswith("#/"):
                    continue
                done.add(ref)
                target = self.resolve(ref, direction)
                _place(doc, ref[1:], target)
                pending.extend(_refs_in(target))
            self._pinned.append(schema)
            self._standalone[key] = doc
            return doc

    def convert(self, node: Any, direction: Direction) -> Any:
        """Convert one schema node (not following refs) to JSON Schema 2020-12."""
        if not isinstance(node, dict):
            return node
        out: Schema = {}
        for key, value in node.items():
            if key in _SCHEMA_MAP_KEYS and isinstance(value, dict):
                out[key] = {k: self.convert(v, direction) for k, v in value.items()}
            elif key in _SCHEMA_LIST_KEYS and isinstance(value, list):
                out[key] = [self.convert(v, direction) for v in value]
            elif key in _SCHEMA_KEYS and isinstance(value, dict):
                out[key] = self.convert(value, direction)
            elif key == "items" and isinstance(value, list):
                out["prefixItems"] = [self.convert(v, direction) for v in value]
            elif key in ("nullable", "x-nullable", "discriminator", "xml", "externalDocs"):
                continue
            else:
                out[key] = value
        if self.dialect != "oas31":
            _convert_exclusive(out)
            if out.get("type") == "file":  # Swagger 2.0 file upload: any bytes
                out.pop("type")
                out.setdefault("format", "binary")
        bounds = _FORMAT_BOUNDS.get(str(out.get("format"))) if direction == "request" else None
        if bounds is not None:
            # int32/int64 are ranges (OAS "Data Types"); JSON Schema ignores the format, so a
            # request with noteId=2**63 would pass. Answers keep the synthesiser's own ranges.
            if "minimum" not in out and "exclusiveMinimum" not in out:
                out["minimum"] = bounds[0]
            if "maximum" not in out and "exclusiveMaximum" not in out:
                out["maximum"] = bounds[1]
        if (node.get("nullable") is True or node.get("x-nullable") is True) and self.dialect != (
            "oas31-strict"
        ):
            out = _make_nullable(out)
        if "required" in out and isinstance(out.get("properties"), dict):
            skip = "readOnly" if direction == "request" else "writeOnly"
            required = [
                name
                for name in out["required"]
                if not self._flag(out["properties"].get(name), skip, direction)
            ]
            if required != out["required"]:
                out["required"] = required
        return out

    def _flag(self, prop: Any, flag: str, direction: Direction) -> bool:
        if not isinstance(prop, dict):
            return False
        if prop.get(flag) is True:
            return True
        ref = prop.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            try:
                target = self.resolve_raw(ref)
            except LookupError:
                return False
            return isinstance(target, dict) and target.get(flag) is True
        return False


_FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def _convert_exclusive(out: Schema) -> None:
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        flag = out.get(exclusive)
        if isinstance(flag, bool):
            if flag and bound in out:
                out[exclusive] = out.pop(bound)
            else:
                out.pop(exclusive)


def _make_nullable(out: Schema) -> Schema:
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list):
        if "null" not in kind:
            out["type"] = [*kind, "null"]
    elif any(k in out for k in ("$ref", "allOf", "oneOf", "anyOf")):
        return {"anyOf": [out, {"type": "null"}]}
    if isinstance(out.get("enum"), list) and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _refs_in(node: Any) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.append(ref)
            for key, value in item.items():
                if key not in ("example", "examples", "enum", "const", "default") and isinstance(
                    value, dict | list
                ):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(v for v in item if isinstance(v, dict | list))
    return found


def _place(doc: Schema, pointer: str, target: Any) -> None:
    # Dicts on the way down are copied: they may be cached conversions shared by others.
    tokens = split_pointer(pointer)
    if not tokens:
        return
    node = doc
    for token in tokens[:-1]:
        child = node.get(token)
        child = dict(child) if isinstance(child, dict) else {}
        node[token] = child
        node = child
    last = tokens[-1]
    existing = node.get(last)
    if isinstance(existing, dict) and isinstance(target, dict):
        node[last] = {**existing, **target}
    else:
        node[last] = target
