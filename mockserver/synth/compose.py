"""References and composition: ``$ref``, ``allOf`` merging, ``anyOf``/``oneOf`` branches.

``allOf`` parts (and a ``$ref`` with sibling keywords) are merged into one schema, an
intersection: properties and required lists united, bounds and types intersected, visible
contradictions flagged. ``anyOf``/``oneOf`` branches are tried in a random order (the cheapest
first past ``max_depth``), and a ``oneOf`` value is checked to match exactly one branch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any, Final

from mockserver.synth.base import _State
from mockserver.synth.numeric import _fraction
from mockserver.synth.schema import (
    _CLOSED,
    _CONFLICT,
    _MAX_HOPS,
    _MISSING,
    _PATTERNS,
    _canon,
    _has_type,
    _number,
    _type_list,
)
from mockserver.synth.validate import _is_valid

_ONE_OF_TRIES: Final = 8

_ANNOTATIONS: Final = frozenset(
    [
        "$comment",
        "$schema",
        "$id",
        "$anchor",
        "$dynamicAnchor",
        "$defs",
        "definitions",
        "title",
        "description",
        "default",
        "deprecated",
        "example",
        "examples",
        "readOnly",
        "writeOnly",
        "discriminator",
        "externalDocs",
        "xml",
        "nullable",
    ]
)
_DROPPED_ON_MERGE: Final = (_ANNOTATIONS - {"readOnly", "writeOnly"}) | {"$ref", "allOf"}
_MIN_KEYS: Final = frozenset(
    ["minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties", "minContains"]
)
_MAX_KEYS: Final = frozenset(
    ["maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties", "maxContains"]
)
_SUBSCHEMA_KEYS: Final = frozenset(
    [
        "items",
        "contains",
        "propertyNames",
        "additionalProperties",
        "unevaluatedProperties",
        "unevaluatedItems",
    ]
)


def _merge_types(first: Any, second: Any) -> Any:
    a = [first] if isinstance(first, str) else list(first) if isinstance(first, list) else []
    b = [second] if isinstance(second, str) else list(second) if isinstance(second, list) else []
    both: list[str] = []
    for t in a:
        if t in b or (t == "integer" and "number" in b):
            picked = t
        elif t == "number" and "integer" in b:
            picked = "integer"
        else:
            continue
        if picked not in both:
            both.append(picked)
    if not both:
        return _MISSING
    return both[0] if len(both) == 1 else both


def _combine_subschemas(first: Any, second: Any) -> Any:
    if first is False or second is False:
        return False
    if first is True:
        return second
    if second is True:
        return first
    return {"allOf": [first, second]}


def _closure(part: Mapping[str, Any]) -> tuple[frozenset[str], tuple[str, ...], Any]:
    """What a part's ``additionalProperties`` says about names other parts declare."""
    props = part.get("properties")
    patterns = part.get("patternProperties")
    return (
        frozenset(props) if isinstance(props, Mapping) else frozenset(),
        tuple(patterns) if isinstance(patterns, Mapping) else (),
        part["additionalProperties"],
    )


class _Compose(_State):
    """Merging and branch choice."""

    def _deref(self, schema: Mapping[str, Any]) -> object:
        ref = schema["$ref"]
        if not isinstance(ref, str):
            return {k: v for k, v in schema.items() if k != "$ref"}
        if all(k == "$ref" or k in _ANNOTATIONS or k.startswith("x-") for k in schema):
            return self._resolve(ref)
        return self._merged(schema)

    def _merged(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        key = ("merged", id(schema))
        merged = self._memo_get(key, schema)
        if merged is _MISSING:
            merged = self._merge([schema])
            self.memo[key] = (schema, merged)
        return merged  # type: ignore[no-any-return]

    def _merge(self, parts: Sequence[object]) -> dict[str, Any]:
        """Flatten ``$ref`` and ``allOf`` of ``parts`` into one schema (an intersection).

        Properties are united (a property declared twice gets an ``allOf`` of both), required
        lists united, bounds intersected, types intersected (first wins if disjoint). A second
        ``anyOf``/``oneOf`` waits in ``allOf`` until the first one has been decided.
        """
        out: dict[str, Any] = {}
        for part in parts:
            self._merge_into(out, part, frozenset(), 0)
        return out

    def _merge_into(
        self, out: dict[str, Any], part: object, seen: frozenset[str], level: int
    ) -> None:
        if not isinstance(part, Mapping) or level > _MAX_HOPS:
            return
        ref = part.get("$ref")
        if isinstance(ref, str) and ref not in seen:
            self._merge_into(out, self._resolve(ref), seen | {ref}, level + 1)
        subs = part.get("allOf")
        if isinstance(subs, list):
            for sub in subs:
                self._merge_into(out, sub, seen, level + 1)
        for key, value in part.items():
            if key in _DROPPED_ON_MERGE or key.startswith("x-"):
                continue
            if key == _CONFLICT:
                out[key] = True
                continue
            if key in (_PATTERNS, _CLOSED):
                out[key] = [*out.get(key, ()), *value]
                continue
            if key == "additionalProperties" and value is not True:
                out[_CLOSED] = [*out.get(_CLOSED, ()), _closure(part)]
            if key == "pattern" and value not in out.get(_PATTERNS, ()):
                out[_PATTERNS] = [*out.get(_PATTERNS, ()), value]
            if key not in out:
                out[key] = value
                continue
            current = out[key]
            if key == "type":
                merged_type = _merge_types(current, value)
                if merged_type is _MISSING:
                    out[_CONFLICT] = True
                else:
                    out[key] = merged_type
            elif key in ("properties", "patternProperties") and isinstance(value, Mapping):
                combined = dict(current)
                for name, sub in value.items():
                    combined[name] = (
                        _combine_subschemas(combined[name], sub) if name in combined else sub
                    )
                out[key] = combined
            elif key == "required" and isinstance(value, list):
                out[key] = [*current, *(r for r in value if r not in current)]
            elif key == "dependentRequired" and isinstance(value, Mapping):
                deps = {k: list(v) for k, v in current.items()}
                for name, extra in value.items():
                    deps[name] = [*deps.get(name, []), *extra]
                out[key] = deps
            elif key == "enum" and isinstance(value, list):
                allowed = {_canon(v) for v in value}
                common = [v for v in current if _canon(v) in allowed]
                out[key] = common or current
                if not common:
                    out[_CONFLICT] = True
            elif key in _MIN_KEYS:
                if _number(value) is not None and _number(current) is not None:
                    out[key] = max(current, value)
            elif key in _MAX_KEYS:
                if _number(value) is not None and _number(current) is not None:
                    out[key] = min(current, value)
            elif key == "multipleOf":
                a, b = _number(current), _number(value)
                if a and b and a > 0 and b > 0:
                    fa, fb = _fraction(a), _fraction(b)
                    lcm = Fraction(
                        math.lcm(fa.numerator, fb.numerator),
                        math.gcd(fa.denominator, fb.denominator),
                    )
                    out[key] = int(lcm) if lcm.denominator == 1 else float(lcm)
            elif key in ("uniqueItems", "readOnly", "writeOnly"):
                out[key] = bool(current) or bool(value)
            elif key in _SUBSCHEMA_KEYS:
                out[key] = _combine_subschemas(current, value)
            elif key == "prefixItems" and isinstance(value, list):
                longer, shorter = (
                    (current, value) if len(current) >= len(value) else (value, current)
                )
                out[key] = [
                    _combine_subschemas(longer[i], shorter[i]) if i < len(shorter) else longer[i]
                    for i in range(len(longer))
                ]
            elif key in ("anyOf", "oneOf"):
                out["allOf"] = [*out.get("allOf", ()), {key: value}]
            elif key in ("format", "const") and _canon(current) != _canon(value):
                out[_CONFLICT] = True
            # Anything else (not, if, ...): the first occurrence wins.

    def _with_branch(self, schema: Mapping[str, Any], key: str, index: int) -> object:
        """The ``index``-th branch of ``schema[key]`` intersected with the sibling keywords."""
        branch = schema[key][index]
        if all(k == key or k in _ANNOTATIONS or k.startswith("x-") for k in schema):
            return branch
        memo_key = ("branch", id(schema), key, index)
        merged = self._memo_get(memo_key, schema)
        if merged is _MISSING:
            siblings = {k: v for k, v in schema.items() if k != key}
            merged = self._merge([siblings, branch])
            self.memo[memo_key] = (schema, merged)
        return merged

    def _branch_order(self, branches: object, minimal: bool) -> list[int]:
        if not isinstance(branches, list) or not branches:
            return []
        indices = list(range(len(branches)))
        if minimal:
            return sorted(indices, key=lambda i: self._cost(branches[i], 3))
        self.rng.shuffle(indices)
        # Nullable wrappers (anyOf: [X, {type: null}]) should usually show X.
        return sorted(indices, key=lambda i: self._null_only(branches[i]))

    def _null_only(self, schema: object) -> bool:
        if not isinstance(schema, Mapping):
            return False
        if "$ref" in schema and isinstance(schema["$ref"], str):
            return False
        if "const" in schema:
            return schema["const"] is None
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return all(v is None for v in enum)
        return _type_list(schema) == ["null"]

    def _one_of(
        self, schema: Mapping[str, Any], depth: int, hops: int, name: str | None, minimal: bool
    ) -> Any:
        branches = schema["oneOf"]
        order = self._branch_order(branches, minimal)
        first: Any = _MISSING
        for index in order[:_ONE_OF_TRIES]:
            value = self.gen(self._with_branch(schema, "oneOf", index), depth, hops + 1, name)
            if first is _MISSING:
                first = value
            if self._matches_exactly_one(branches, index, value):
                return value
        if first is _MISSING:
            rest = {k: v for k, v in schema.items() if k != "oneOf"}
            return self.gen(rest, depth, hops + 1, name)
        return first

    def _matches_exactly_one(self, branches: list[Any], index: int, value: Any) -> bool:
        own = self._shallow_types(branches[index])
        if own is not None and all(
            not self._types_overlap(own, self._shallow_types(b))
            for i, b in enumerate(branches)
            if i != index
        ):
            return True
        matches = 0
        for branch in branches:
            if _is_valid(branch, value):
                matches += 1
                if matches > 1:
                    return False
        return matches == 1

    def _shallow_types(self, schema: object) -> frozenset[str] | None:
        """JSON types a branch can take, from its own (or its ref target's) keywords."""
        for _ in range(_MAX_HOPS):
            if not isinstance(schema, Mapping):
                return None
            ref = schema.get("$ref")
            unconstrained = _type_list(schema) is None and "const" not in schema
            if isinstance(ref, str) and unconstrained and "enum" not in schema:
                # Sibling keywords can only narrow the target's types, so use the target's.
                schema = self._resolve(ref)
                continue
            if any(k in schema for k in ("allOf", "anyOf", "oneOf")):
                return None
            if "const" in schema:
                values = [schema["const"]]
            elif isinstance(schema.get("enum"), list):
                values = schema["enum"]
            else:
                types = _type_list(schema)
                return frozenset(types) if types else None
            kinds = ("null", "boolean", "integer", "number", "string", "array", "object")
            return frozenset(t for v in values for t in kinds if _has_type(v, t))
        return None

    @staticmethod
    def _types_overlap(a: frozenset[str], b: frozenset[str] | None) -> bool:
        if b is None:
            return True
        if a & b:
            return True
        return ("number" in a and "integer" in b) or ("integer" in a and "number" in b)

    def _cost(self, schema: object, budget: int) -> float:
        """Rough size of the smallest instance, to pick the cheapest branch past max_depth."""
        key = ("cost", id(schema), budget)
        cached = self._memo_get(key, schema)
        if cached is not _MISSING:
            return float(cached)
        cost = self._compute_cost(schema, budget)
        self.memo[key] = (schema, cost)
        return cost

    def _compute_cost(self, schema: object, budget: int) -> float:
        if schema is False:
            return math.inf
        if not isinstance(schema, Mapping):
            return 1.0
        if budget <= 0:
            return 4.0
        if "const" in schema:
            return 1.0
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return 0.0 if None in enum else 1.0
        if isinstance(schema.get("$ref"), str):
            return self._cost(self._resolve(schema["$ref"]), budget - 1)
        for key in ("anyOf", "oneOf"):
            branches = schema.get(key)
            if isinstance(branches, list) and branches:
                return min(self._cost(b, budget - 1) for b in branches)
        if isinstance(schema.get("allOf"), list):
            return sum(self._cost(b, budget - 1) for b in schema["allOf"]) or 1.0
        types = _type_list(schema)
        if types is not None and "null" in types:
            return 0.0
        kind = types[0] if types else self._infer_type(schema)
        if kind == "object":
            props = schema.get("properties")
            props = props if isinstance(props, Mapping) else {}
            required = schema.get("required")
            required = required if isinstance(required, list) else []
            return 1.0 + sum(self._cost(props.get(r, True), budget - 1) for r in required)
        if kind == "array":
            min_items = int(schema.get("minItems", 0))
            return 1.0 + (min_items * self._cost(schema.get("items", True), budget - 1))
        return 1.0
