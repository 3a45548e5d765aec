"""Vocabulary shared by the synthesiser's modules.

The public type aliases (:data:`Resolve`, :data:`Direction`), the hop limit, the private keys
of merged (``allOf``) schemas, and small pure helpers over schema values: a schema's type list,
JSON type checks, JSON equality keys and finite numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Final, Literal

Resolve = Callable[[str], Mapping[str, Any]]
"""Maps a ``$ref`` string such as ``#/components/schemas/Customer`` to its (converted) schema."""

Direction = Literal["response", "request"]
"""``response`` omits ``writeOnly`` properties; ``request`` omits ``readOnly`` ones."""

_MISSING: Final = object()

# Steps through $ref / allOf / anyOf / oneOf without entering an object or array. Only a
# degenerate contract (A is B, B is A) gets near this.
_MAX_HOPS: Final = 32

# Private keys of merged (allOf) schemas; merged dicts are never handed to a validator.
_PATTERNS: Final = "$mockserver:patterns"
# (names, patterns, additionalProperties) of each merged part that restricts other names.
_CLOSED: Final = "$mockserver:closed"
# Set when parts visibly contradict each other (disjoint types, different formats, ...).
_CONFLICT: Final = "$mockserver:conflict"


def _canon(value: Any) -> Hashable:
    """A hashable key equal for values JSON Schema considers equal (1 == 1.0, True != 1)."""
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if value is None:
        return ("z",)
    if isinstance(value, list):
        return ("a", tuple(_canon(v) for v in value))
    if isinstance(value, dict):
        return ("o", frozenset((k, _canon(v)) for k, v in value.items()))
    return ("?", repr(value))


def _type_list(schema: Mapping[str, Any]) -> list[str] | None:
    types = schema.get("type")
    if isinstance(types, str):
        return [types]
    if isinstance(types, list):
        return [t for t in types if isinstance(t, str)]
    return None


def _has_type(value: Any, type_name: str) -> bool:
    if type_name == "null":
        return value is None
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "integer":
        if isinstance(value, float):
            return value.is_integer()
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "array":
        return isinstance(value, list)
    if type_name == "object":
        return isinstance(value, dict)
    return False


def _number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
