"""The entry point and the walk: :func:`synthesize` and the dispatch over a schema node.

Each node is answered, in order, by its valid ``example``, its ``$ref``, ``oneOf``, ``anyOf``,
``allOf``, ``const`` or ``enum``, else by its type (given, or inferred from its keywords).
Depth and node budgets switch generation to required-only values and, far past them, to a
value found without recursing, so circular references terminate.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from typing import Any, Final

from mockserver.synth.compose import _Compose
from mockserver.synth.containers import _Containers
from mockserver.synth.numeric import _Numbers
from mockserver.synth.patterns import _COMPILED
from mockserver.synth.schema import (
    _MAX_HOPS,
    _MISSING,
    Direction,
    Resolve,
    _has_type,
    _number,
    _type_list,
)
from mockserver.synth.strings import _Strings
from mockserver.synth.validate import _EXAMPLES, _RESOLVE, _VALIDATORS, _valid_example

# Levels past max_depth at which generation gives up on satisfying required-only structures
# (a required self-reference has no finite instance at all).
_HARD_EXTRA_DEPTH: Final = 16

_OBJECT_KEYS: Final = frozenset(
    [
        "properties",
        "required",
        "additionalProperties",
        "patternProperties",
        "minProperties",
        "maxProperties",
        "propertyNames",
        "dependentRequired",
        "unevaluatedProperties",
    ]
)
_ARRAY_KEYS: Final = frozenset(
    ["items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems", "unevaluatedItems"]
)
_STRING_KEYS: Final = frozenset({"minLength", "maxLength", "pattern"})
_NUMBER_KEYS: Final = frozenset(
    ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]
)
_INTEGER_FORMATS: Final = frozenset({"int32", "int64", "unix-time"})
_NUMBER_FORMATS: Final = frozenset({"float", "double"})


def synthesize(
    schema: Mapping[str, Any] | bool,
    rng: random.Random,
    *,
    resolve: Resolve,
    direction: Direction = "response",
    max_depth: int = 6,
    max_nodes: int = 2_000,
) -> Any:
    """Return a JSON value (dict/list/str/int/float/bool/None) valid against ``schema``.

    ``schema`` is JSON Schema 2020-12 that may contain ``$ref`` strings (resolved with
    ``resolve``) and OpenAPI annotations. A schema-level ``example`` (or the first of
    ``examples``) is returned when it validates. Objects carry every declared property except
    ``writeOnly`` ones in a response and ``readOnly`` ones in a request (even when required, as
    OpenAPI prescribes). Past ``max_depth`` nested levels, or after ``max_nodes`` generated
    values, only what is required is produced (required properties, the cheapest ``anyOf`` /
    ``oneOf`` branch, ``minItems`` items, ``None`` where null is allowed), so circular
    references terminate. Output depends only on the schema and on ``rng``'s state.

    A ``$ref`` that ``resolve`` cannot resolve propagates whatever ``resolve`` raises.
    """
    token = _RESOLVE.set(resolve)
    try:
        return _Synth(rng, resolve, direction, max_depth, max_nodes).gen(schema, 0, 0, None)
    finally:
        _RESOLVE.reset(token)


def clear_caches() -> None:
    """Forget cached validators, example verdicts and regexes (e.g. after reloading a contract)."""
    _VALIDATORS.clear()
    _EXAMPLES.clear()
    _COMPILED.clear()


class _Synth(_Containers, _Compose, _Strings, _Numbers):
    """The generator: dispatches each node to the composition, container and scalar mixins."""

    def gen(self, schema: object, depth: int, hops: int, name: str | None) -> Any:
        self.nodes += 1
        if not isinstance(schema, Mapping):
            # True (or junk) allows anything; False allows nothing, so any value will do.
            return self._text(0, None)
        if (
            depth > self.max_depth + _HARD_EXTRA_DEPTH
            or hops > _MAX_HOPS
            or self.nodes > self.hard_nodes
        ):
            return self._bottom(schema)
        if "example" in schema or "examples" in schema:
            example = _valid_example(schema)
            if example is not _MISSING:
                return copy.deepcopy(example)
        if "$ref" in schema:
            return self.gen(self._deref(schema), depth, hops + 1, name)
        minimal = depth > self.max_depth or self.nodes > self.max_nodes
        if "oneOf" in schema:
            return self._one_of(schema, depth, hops, name, minimal)
        if "anyOf" in schema:
            order = self._branch_order(schema["anyOf"], minimal)
            if order:
                branch = self._with_branch(schema, "anyOf", order[0])
                return self.gen(branch, depth, hops + 1, name)
        if "allOf" in schema:
            return self.gen(self._merged(schema), depth, hops + 1, name)
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self._enum(schema, minimal)
        types = _type_list(schema)
        if types is None:
            kind = self._infer_type(schema)
        else:
            if minimal and "null" in types:
                return None
            kind = next((t for t in types if t != "null"), "null" if types else "string")
        if kind == "object":
            return self._object(schema, depth, minimal)
        if kind == "array":
            return self._array(schema, depth, minimal, name)
        if kind == "integer":
            return self._integer(schema)
        if kind == "number":
            return self._float(schema)
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind == "null":
            return None
        return self._string(schema, name)

    @staticmethod
    def _infer_type(schema: Mapping[str, Any]) -> str:
        keys = schema.keys()
        if not _OBJECT_KEYS.isdisjoint(keys):
            return "object"
        if not _ARRAY_KEYS.isdisjoint(keys):
            return "array"
        fmt = schema.get("format")
        numeric_format = fmt in _INTEGER_FORMATS or fmt in _NUMBER_FORMATS
        if not _STRING_KEYS.isdisjoint(keys) or (fmt is not None and not numeric_format):
            return "string"
        if not _NUMBER_KEYS.isdisjoint(keys) or numeric_format:
            multiple = schema.get("multipleOf")
            is_int = fmt in _INTEGER_FORMATS or isinstance(multiple, int)
            return "integer" if is_int else "number"
        return "string"

    def _bottom(self, schema: Mapping[str, Any]) -> Any:
        """A value found without recursing, for when recursion has gone on too long."""
        if "const" in schema:
            return copy.deepcopy(schema["const"])
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return copy.deepcopy(enum[0])
        types = _type_list(schema)
        if types is None or "null" in types:
            return None
        kind = types[0] if types else "null"
        if kind == "string":
            return "x" * int(_number(schema.get("minLength")) or 0)
        return {"object": {}, "array": [], "integer": 0, "number": 0, "boolean": False}.get(kind)

    def _enum(self, schema: Mapping[str, Any], minimal: bool) -> Any:
        values: list[Any] = schema["enum"]
        types = _type_list(schema)
        if minimal and None in values and (types is None or "null" in types):
            return None
        candidates = [
            v
            for v in values
            if v is not None and (types is None or any(_has_type(v, t) for t in types))
        ]
        return copy.deepcopy(self.rng.choice(candidates or values))
