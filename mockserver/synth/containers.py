"""Objects and arrays.

Objects get their declared properties (minus ``writeOnly`` ones in a response, ``readOnly``
ones in a request; only required ones past ``max_depth``), dependent required properties, and
pattern or additional properties up to ``minProperties``. Arrays honour ``prefixItems``,
``minItems``/``maxItems``, ``contains`` and ``uniqueItems``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any, Final

from mockserver.synth.base import _State
from mockserver.synth.patterns import _RSTR_ERRORS, _compiled_and_parsed, _search
from mockserver.synth.schema import _CLOSED, _CONFLICT, _MISSING, _canon, _number
from mockserver.synth.strings import _WORDS

_UNIQUE_TRIES: Final = 20

_BOUND_PAIRS: Final = (
    ("minimum", "maximum"),
    ("minLength", "maxLength"),
    ("minItems", "maxItems"),
    ("minProperties", "maxProperties"),
)


class _Containers(_State):
    """Objects and arrays."""

    def _hidden(self, schema: object) -> bool:
        """Is this property readOnly (request) or writeOnly (response)?"""
        flag = self.hidden_flag
        for _ in range(4):
            if not isinstance(schema, Mapping):
                return False
            if schema.get(flag) is True:
                return True
            subs = schema.get("allOf")
            if isinstance(subs, list) and any(
                isinstance(s, Mapping) and self._hidden_shallow(s, flag) for s in subs
            ):
                return True
            ref = schema.get("$ref")
            if not isinstance(ref, str):
                return False
            schema = self._resolve(ref)
        return False

    def _hidden_shallow(self, schema: Mapping[str, Any], flag: str) -> bool:
        if schema.get(flag) is True:
            return True
        ref = schema.get("$ref")
        return isinstance(ref, str) and self._resolve(ref).get(flag) is True

    def _object(self, schema: Mapping[str, Any], depth: int, minimal: bool) -> dict[str, Any]:
        props = schema.get("properties")
        props = props if isinstance(props, Mapping) else {}
        required_raw = schema.get("required")
        required = [r for r in required_raw if isinstance(r, str)] if required_raw else []
        required_set = set(required)
        closures = schema.get(_CLOSED) or ()
        pattern_props = schema.get("patternProperties")
        pattern_props = pattern_props if isinstance(pattern_props, Mapping) else {}
        out: dict[str, Any] = {}
        skipped: list[str] = []

        def value_for(prop: str) -> Any:
            return self.gen(self._property_schema(schema, prop), depth + 1, 0, prop)

        for prop, sub in props.items():
            if sub is False or self._hidden(sub):
                continue
            if prop not in required_set:
                allowed = all(c[2] is not False or not _uncovered(c, prop) for c in closures)
                if minimal or not allowed:
                    if allowed:
                        skipped.append(prop)
                    continue
                if self._contradictory(self._property_schema(schema, prop)):
                    continue
            out[prop] = value_for(prop)
        for prop in required:
            if prop not in out and not (prop in props and self._hidden(props[prop])):
                out[prop] = value_for(prop)

        dependents = schema.get("dependentRequired")
        if isinstance(dependents, Mapping):
            for _ in range(len(dependents)):
                missing = [
                    d for k in list(out) for d in dependents.get(k, ()) if isinstance(d, str)
                ]
                missing = [d for d in missing if d not in out]
                if not missing:
                    break
                for prop in missing:
                    out[prop] = value_for(prop)

        extra_ok = (
            schema.get("additionalProperties", True) is not False
            and schema.get("unevaluatedProperties", True) is not False
        )
        min_props = int(_number(schema.get("minProperties")) or 0)
        max_props = _number(schema.get("maxProperties"))
        for prop in skipped:
            if len(out) >= min_props:
                break
            out[prop] = value_for(prop)
        want_map_entry = (
            not minimal
            and not props
            and not pattern_props
            and isinstance(schema.get("additionalProperties"), Mapping)
            and (max_props is None or max_props > len(out))
        )
        if len(out) < min_props or want_map_entry:
            self._add_extra(schema, out, pattern_props, extra_ok, max(min_props, 1), depth)
        if max_props is not None:
            removable = [k for k in reversed(out) if k not in required_set]
            while len(out) > max_props and removable:
                del out[removable.pop(0)]
        return out

    def _contradictory(self, schema: object) -> bool:
        """Does this allOf visibly admit no value? (An optional property is then left out.)"""
        if isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str):
            schema = self._resolve(schema["$ref"])
        if not isinstance(schema, Mapping) or "allOf" not in schema:
            return False
        merged = self._merged(schema)
        if merged.get(_CONFLICT):
            return True
        for low, high in _BOUND_PAIRS:
            a, b = _number(merged.get(low)), _number(merged.get(high))
            if a is not None and b is not None and a > b:
                return True
        return False

    def _property_schema(self, schema: Mapping[str, Any], prop: str) -> object:
        """The schema a property's value must satisfy: declared, pattern and additional."""
        props = schema.get("properties")
        declared = props.get(prop, _MISSING) if isinstance(props, Mapping) else _MISSING
        pattern_props = schema.get("patternProperties")
        matching: list[Any] = []
        if isinstance(pattern_props, Mapping):
            matching = [s for p, s in pattern_props.items() if _search(p, prop)]
        if declared is _MISSING and not matching:
            additional = schema.get("additionalProperties", True)
            return True if additional is False else additional
        parts = ([] if declared is _MISSING else [declared]) + matching
        for closure in schema.get(_CLOSED) or ():
            # allOf: another part's additionalProperties also governs this name.
            if isinstance(closure[2], Mapping) and _uncovered(closure, prop):
                parts.append(closure[2])
        if len(parts) == 1:
            return parts[0]
        key = ("prop", id(schema), prop)
        merged = self._memo_get(key, schema)
        if merged is _MISSING:
            merged = {"allOf": parts}
            self.memo[key] = (schema, merged)
        return merged

    def _add_extra(
        self,
        schema: Mapping[str, Any],
        out: dict[str, Any],
        pattern_props: Mapping[str, Any],
        extra_ok: bool,
        wanted: int,
        depth: int,
    ) -> None:
        """Add pattern or additional properties until ``out`` has ``wanted`` entries."""
        names_schema = schema.get("propertyNames", True)
        for pattern in pattern_props:
            if len(out) >= wanted:
                return
            entry = _compiled_and_parsed(pattern)
            if entry is None:
                continue
            regex, parsed = entry
            for _ in range(3):
                try:
                    self.xeger.mode = "normal"
                    key = self.xeger.generate(parsed)
                except _RSTR_ERRORS:  # rstr cannot handle every construct re accepts
                    break
                if key not in out and regex.search(key):
                    out[key] = self.gen(self._property_schema(schema, key), depth + 1, 0, key)
                    break
        counter = 0
        while extra_ok and len(out) < wanted and counter < wanted + 10:
            counter += 1
            if isinstance(names_schema, Mapping):
                key = self.gen(names_schema, depth + 1, 0, None)
                if not isinstance(key, str):
                    key = str(key)
            else:
                key = (
                    self.rng.choice(_WORDS)
                    if counter == 1
                    else f"{self.rng.choice(_WORDS)}{counter}"
                )
            if key in out or any(_search(p, key) for p in pattern_props):
                continue
            out[key] = self.gen(self._property_schema(schema, key), depth + 1, 0, key)

    def _array(
        self, schema: Mapping[str, Any], depth: int, minimal: bool, name: str | None
    ) -> list[Any]:
        prefix = schema.get("prefixItems")
        items = schema.get("items", True)
        if isinstance(items, list):  # draft-04 tuple form left unconverted
            prefix, items = items, schema.get("additionalItems", True)
        prefix = prefix if isinstance(prefix, list) else []
        min_items = int(_number(schema.get("minItems")) or 0)
        max_raw = _number(schema.get("maxItems"))
        cap = int(max_raw) if max_raw is not None else None
        if items is False:
            cap = len(prefix) if cap is None else min(cap, len(prefix))
        contains = schema.get("contains")
        min_contains = 0
        if contains is not None:
            raw_min_contains = _number(schema.get("minContains"))
            min_contains = 1 if raw_min_contains is None else int(raw_min_contains)
        floor = max(min_items, min_contains)
        if minimal:
            count = floor
        else:
            hi = max(floor, 3) if cap is None else min(max(floor, 3), cap)
            count = self.rng.randint(min(max(floor, 1), hi), hi) if hi > 0 else 0
        if cap is not None:
            count = min(count, cap)
        unique = schema.get("uniqueItems") is True
        result: list[Any] = []
        seen: set[Hashable] = set()
        for index in range(count):
            item_schema = prefix[index] if index < len(prefix) else items
            if index < min_contains:
                item_schema = self._contains_schema(schema, item_schema, index)
            for _ in range(_UNIQUE_TRIES if unique else 1):
                value = self.gen(item_schema, depth + 1, 0, name)
                if not unique or _canon(value) not in seen:
                    break
            else:
                if len(result) >= min_items:
                    break
            if unique:
                seen.add(_canon(value))
            result.append(value)
        return result

    def _contains_schema(
        self, schema: Mapping[str, Any], item_schema: object, index: int
    ) -> object:
        key = ("contains", id(schema), index)
        merged = self._memo_get(key, schema)
        if merged is _MISSING:
            merged = {"allOf": [item_schema, schema["contains"]]}
            self.memo[key] = (schema, merged)
        return merged


def _uncovered(closure: tuple[frozenset[str], tuple[str, ...], Any], prop: str) -> bool:
    names, patterns, _ = closure
    return prop not in names and not any(_search(p, prop) for p in patterns)
