"""Deterministic synthesis of JSON values from JSON Schema (2020-12 dialect, OpenAPI flavoured).

The mock server answers with these values when a contract gives no example. The entry point is
:func:`synthesize`; everything random comes from the ``random.Random`` passed in, so the same
schema and seed always give the same value.

Schemas may contain ``$ref`` strings resolved through a callback, and the references may be
circular. Generation tracks the nesting depth: past ``max_depth`` (or once a node budget is
spent) it only emits what the schema requires, so it always terminates.

jsonschema is only used for the two checks that need a real validator (is an ``example`` valid,
does a ``oneOf`` value match exactly one branch); those validators are cached.
"""

from __future__ import annotations

import base64
import contextvars
import copy
import importlib
import math
import random
import re
import string
import uuid
import warnings
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from itertools import chain
from typing import Any, Final, Literal, TypeVar

from jsonschema import Draft202012Validator
from jsonschema import validators as _jsonschema_validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator
from rstr.xeger import Xeger

__all__ = ["Direction", "Resolve", "clear_caches", "synthesize"]

Resolve = Callable[[str], Mapping[str, Any]]
"""Maps a ``$ref`` string such as ``#/components/schemas/Customer`` to its (converted) schema."""

Direction = Literal["response", "request"]
"""``response`` omits ``writeOnly`` properties; ``request`` omits ``readOnly`` ones."""

_MISSING: Final = object()
_T = TypeVar("_T")

# Steps through $ref / allOf / anyOf / oneOf without entering an object or array. Only a
# degenerate contract (A is B, B is A) gets near this.
_MAX_HOPS: Final = 32
# Levels past max_depth at which generation gives up on satisfying required-only structures
# (a required self-reference has no finite instance at all).
_HARD_EXTRA_DEPTH: Final = 16
_PATTERN_TRIES: Final = 12
_ONE_OF_TRIES: Final = 8
_UNIQUE_TRIES: Final = 20
_CACHE_LIMIT: Final = 50_000
# Validators and example verdicts hold their schema alive, so keep fewer of them.
_VALIDATOR_CACHE_LIMIT: Final = 4_096
# What rstr raises on constructs it does not support (unknown opcode, group reference, ...).
_RSTR_ERRORS: Final = (LookupError, ValueError, TypeError, AttributeError, RecursionError)

# Private keys of merged (allOf) schemas; merged dicts are never handed to a validator.
_PATTERNS: Final = "$mockserver:patterns"
# (names, patterns, additionalProperties) of each merged part that restricts other names.
_CLOSED: Final = "$mockserver:closed"
# Set when parts visibly contradict each other (disjoint types, different formats, ...).
_CONFLICT: Final = "$mockserver:conflict"

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
_BOUND_PAIRS: Final = (
    ("minimum", "maximum"),
    ("minLength", "maxLength"),
    ("minItems", "maxItems"),
    ("minProperties", "maxProperties"),
)
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
_FORMAT_RANGES: Final = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}

_WORDS: Final = (
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "tempor",
    "magna",
    "aliqua",
)
_FIRST_NAMES: Final = ("Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken")
_LAST_NAMES: Final = (
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
)
_CITIES: Final = ("London", "Paris", "Berlin", "Tokyo", "Lisbon", "Toronto", "Sydney", "Nairobi")
_COUNTRIES: Final = ("US", "GB", "FR", "DE", "JP", "CA", "AU", "KE")
_CURRENCIES: Final = ("USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF")
_SENTENCES: Final = (
    "A short description.",
    "Created for testing.",
    "Example value generated by the mock server.",
    "Lorem ipsum dolor sit amet.",
)
_ALNUM_LOWER: Final = string.ascii_lowercase + string.digits
_ALNUM: Final = string.ascii_letters + string.digits
# What "." and negated character classes draw from: printable, no control characters.
_REGEX_ANY: Final = string.ascii_letters + string.digits + string.punctuation + " "
_EPOCH: Final = datetime(2024, 1, 1, tzinfo=UTC)
_TWO_YEARS: Final = 2 * 365 * 86_400


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


# --- validation (oneOf disambiguation and example checks only) --------------------------------

_RESOLVE: contextvars.ContextVar[Resolve | None] = contextvars.ContextVar(
    "mockserver_synth_resolve", default=None
)


def _ref_keyword(
    validator: Any, ref: Any, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    # Contract refs point into the whole OpenAPI document, which a per-node validator does not
    # hold; resolving them through the caller's callback also copes with circular refs.
    resolve = _RESOLVE.get()
    if resolve is None or not isinstance(ref, str):
        raise LookupError(f"cannot resolve {ref!r} outside synthesize()")
    yield from validator.descend(instance, resolve(ref))


_RefValidator = _jsonschema_validators.create(
    meta_schema=Draft202012Validator.META_SCHEMA,
    validators={**Draft202012Validator.VALIDATORS, "$ref": _ref_keyword},
    type_checker=Draft202012Validator.TYPE_CHECKER,
    format_checker=Draft202012Validator.FORMAT_CHECKER,
)

_VALIDATORS: dict[int, tuple[object, Validator]] = {}
_EXAMPLES: dict[int, tuple[object, Any]] = {}


def _cache_put(cache: dict[int, tuple[object, _T]], key_obj: object, value: _T) -> None:
    # Entries hold their key object so its id cannot be reused while cached.
    if len(cache) >= _VALIDATOR_CACHE_LIMIT:
        cache.clear()
    cache[id(key_obj)] = (key_obj, value)


def _is_valid(schema: object, instance: Any) -> bool:
    if schema is True:
        return True
    if not isinstance(schema, Mapping):
        return False
    entry = _VALIDATORS.get(id(schema))
    if entry is not None and entry[0] is schema:
        validator = entry[1]
    else:
        validator = _RefValidator(schema, format_checker=_RefValidator.FORMAT_CHECKER)
        _cache_put(_VALIDATORS, schema, validator)
    try:
        return validator.is_valid(instance)
    except Exception:  # noqa: BLE001 - whatever resolve() or the regex engine raises
        # An unresolvable ref, a regex Python cannot compile, ...: not proven valid.
        return False


def _valid_example(schema: Mapping[str, Any]) -> Any:
    if "example" in schema:
        candidate = schema["example"]
    else:
        examples = schema.get("examples")
        if not isinstance(examples, list) or not examples:
            return _MISSING
        candidate = examples[0]
    entry = _EXAMPLES.get(id(schema))
    if entry is not None and entry[0] is schema:
        return entry[1]
    verdict = candidate if _is_valid(schema, candidate) else _MISSING
    _cache_put(_EXAMPLES, schema, verdict)
    return verdict


# --- regex strings ------------------------------------------------------------------------


class _Xeger(Xeger):
    """rstr's regex generator with short repeats and output independent of hash seeds."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        self.mode: Literal["normal", "short", "long"] = "normal"
        cases = dict(self._cases)
        cases["any"] = lambda _value: self._random.choice(_REGEX_ANY)
        cases["not_literal"] = lambda value: self._random.choice(_REGEX_ANY.replace(chr(value), ""))
        self._cases = cases

    def _handle_in(self, value: Any) -> Any:
        candidates = list(chain(*(self._handle_state(item) for item in value)))
        if candidates and candidates[0] is False:
            # rstr builds this from a set, whose order changes with PYTHONHASHSEED.
            excluded = set(candidates[1:])
            candidates = [c for c in _REGEX_ANY if c not in excluded] or [
                c for c in string.printable if c not in excluded
            ]
        return self._random.choice(candidates)

    def _handle_repeat(self, start_range: int, end_range: int, value: str) -> str:
        if self.mode == "short":
            times = start_range
        elif self.mode == "long":
            times = min(end_range, start_range + 40)
        else:
            times = self._random.randint(start_range, min(end_range, start_range + 6))
        return "".join("".join(self._handle_state(item) for item in value) for _ in range(times))

    def generate(self, parsed: Any) -> str:
        """A string for a pattern already parsed by :func:`_parsed`."""
        try:
            return self._build_string(parsed)
        finally:
            self._cache.clear()


# The parser rstr itself uses; parsing once per pattern beats rstr re-parsing on every call.
_sre_parse: Any = importlib.import_module("re._parser")
_COMPILED: dict[str, tuple[re.Pattern[str], Any] | None] = {}


def _compiled_and_parsed(pattern: str) -> tuple[re.Pattern[str], Any] | None:
    if pattern not in _COMPILED:
        if len(_COMPILED) >= _CACHE_LIMIT:
            _COMPILED.clear()
        try:
            # Contract regexes like "[[a-z]" make re warn (FutureWarning); that is the
            # contract's business, and must not surface (or fail tests) on every request.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _COMPILED[pattern] = (re.compile(pattern), _sre_parse.parse(pattern))
        except (re.error, TypeError, ValueError, RecursionError):
            _COMPILED[pattern] = None
    return _COMPILED[pattern]


def _compiled(pattern: str) -> re.Pattern[str] | None:
    entry = _compiled_and_parsed(pattern)
    return None if entry is None else entry[0]


# --- small pure helpers ---------------------------------------------------------------------


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


def _fraction(value: int | float) -> Fraction:
    # str() first so 0.1 means one tenth, as the contract author meant.
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


def _multiple_ok(value: int | float, divisor: int | float) -> bool:
    """The check jsonschema's ``multipleOf`` performs, float quirks included."""
    if isinstance(divisor, float):
        try:
            quotient = value / divisor
            return int(quotient) == quotient
        except OverflowError:
            return (Fraction(value) / Fraction(divisor)).denominator == 1
    return value % divisor == 0


def _in_bounds(value: int | float, schema: Mapping[str, Any]) -> bool:
    minimum = _number(schema.get("minimum"))
    maximum = _number(schema.get("maximum"))
    ex_min = _number(schema.get("exclusiveMinimum"))
    ex_max = _number(schema.get("exclusiveMaximum"))
    return not (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (ex_min is not None and value <= ex_min)
        or (ex_max is not None and value >= ex_max)
    )


def _window(
    lo: Fraction | None, hi: Fraction | None, default: tuple[int, int], span: int
) -> tuple[Fraction, Fraction]:
    """A human-sized range inside [lo, hi], preferring ``default`` when the bounds allow."""
    a = Fraction(default[0]) if lo is None else max(lo, Fraction(default[0]))
    b = Fraction(default[1]) if hi is None else min(hi, Fraction(default[1]))
    if a <= b:
        return a, b
    if lo is not None and hi is not None and lo > hi:
        return lo, lo
    if lo is not None and (hi is None or lo > Fraction(default[1])):
        return lo, lo + span if hi is None else min(hi, lo + span)
    assert hi is not None
    return (hi - span if lo is None else max(lo, hi - span)), hi


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


# --- the generator --------------------------------------------------------------------------


class _Synth:
    """State of one :func:`synthesize` call: rng, node budget and memoised merges."""

    def __init__(
        self,
        rng: random.Random,
        resolve: Resolve,
        direction: Direction,
        max_depth: int,
        max_nodes: int,
    ) -> None:
        self.rng = rng
        self.resolve = resolve
        self.hidden_flag = "writeOnly" if direction == "response" else "readOnly"
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        # Minimal mode keeps finite schemas small; only an infinite required structure (a
        # binary tree whose children are both required) gets this far, and then stops.
        self.hard_nodes = 4 * max_nodes + 1_000
        self.nodes = 0
        self.xeger = _Xeger(rng)
        self.memo: dict[tuple[Any, ...], tuple[object, Any]] = {}

    def _memo_get(self, key: tuple[Any, ...], anchor: object) -> Any:
        entry = self.memo.get(key)
        if entry is not None and entry[0] is anchor:
            return entry[1]
        return _MISSING

    # --- dispatch ---------------------------------------------------------------------------

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

    # --- references and composition ---------------------------------------------------------

    def _resolve(self, ref: str) -> Mapping[str, Any]:
        key = ("ref", ref)
        entry = self.memo.get(key)
        if entry is not None:
            return entry[1]  # type: ignore[no-any-return]
        target = self.resolve(ref)
        self.memo[key] = (ref, target)
        return target

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

    # --- scalars ----------------------------------------------------------------------------

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

    def _integer(self, schema: Mapping[str, Any]) -> int:
        minimum = _number(schema.get("minimum"))
        maximum = _number(schema.get("maximum"))
        ex_min = _number(schema.get("exclusiveMinimum"))
        ex_max = _number(schema.get("exclusiveMaximum"))
        lows = [math.ceil(minimum)] if minimum is not None else []
        lows += [math.floor(ex_min) + 1] if ex_min is not None else []
        highs = [math.floor(maximum)] if maximum is not None else []
        highs += [math.ceil(ex_max) - 1] if ex_max is not None else []
        fmt = schema.get("format")
        if fmt in _FORMAT_RANGES:
            lows.append(_FORMAT_RANGES[fmt][0])
            highs.append(_FORMAT_RANGES[fmt][1])
        lo = Fraction(max(lows)) if lows else None
        hi = Fraction(min(highs)) if highs else None
        default = (1_600_000_000, 1_800_000_000) if fmt == "unix-time" else (0, 1000)
        multiple = _number(schema.get("multipleOf"))
        # Integer multiples of p/q (in lowest terms) are exactly the multiples of p.
        step = _fraction(multiple).numerator if multiple is not None and multiple > 0 else 1

        def accept(exact: Fraction) -> int | None:
            value = int(exact)
            if multiple is not None and multiple > 0 and not _multiple_ok(value, multiple):
                return None
            return value

        a, b = _window(lo, hi, default, 1000)
        value = self._pick_multiple(a, b, lo, hi, Fraction(step), accept)
        return int(a) if value is None else int(value)

    def _float(self, schema: Mapping[str, Any]) -> float | int:
        minimum = _number(schema.get("minimum"))
        maximum = _number(schema.get("maximum"))
        ex_min = _number(schema.get("exclusiveMinimum"))
        ex_max = _number(schema.get("exclusiveMaximum"))
        lows = [Fraction(v) for v in (minimum, ex_min) if v is not None]
        highs = [Fraction(v) for v in (maximum, ex_max) if v is not None]
        lo = max(lows) if lows else None
        hi = min(highs) if highs else None
        a, b = _window(lo, hi, (0, 1000), 1000)
        multiple = _number(schema.get("multipleOf"))
        if multiple is not None and multiple > 0:
            divisor = multiple

            def accept(exact: Fraction) -> int | float | None:
                value: int | float = int(exact) if isinstance(divisor, int) else float(exact)
                ok = _in_bounds(value, schema) and _multiple_ok(value, divisor)
                return value if ok else None

            found = self._pick_multiple(a, b, lo, hi, _fraction(multiple), accept)
            return float(a) if found is None else found
        fa, fb = float(a), float(b)
        for value in (round(self.rng.uniform(fa, fb), 2), self.rng.uniform(fa, fb), (fa + fb) / 2):
            if _in_bounds(value, schema):
                return value
        return fa

    def _pick_multiple(
        self,
        a: Fraction,
        b: Fraction,
        lo: Fraction | None,
        hi: Fraction | None,
        step: Fraction,
        accept: Callable[[Fraction], int | float | None],
    ) -> int | float | None:
        """A random ``k * step`` in [a, b] (else near the bounds) that ``accept`` approves."""
        ranges = [(math.ceil(a / step), math.floor(b / step))]
        full_lo = math.ceil(lo / step) if lo is not None else None
        full_hi = math.floor(hi / step) if hi is not None else None
        if full_lo is not None:
            last = full_hi if full_hi is not None else full_lo + 10
            ranges += [(full_lo, min(last, full_lo + 10)), (max(full_lo, last - 10), last)]
        elif full_hi is not None:
            ranges.append((full_hi - 10, full_hi))
        for k_lo, k_hi in ranges:
            if k_lo > k_hi:
                continue
            tries = [self.rng.randint(k_lo, k_hi) for _ in range(4)]
            tries += list(range(k_lo, min(k_hi, k_lo + 3) + 1))
            tries += list(range(k_hi, max(k_lo, k_hi - 3) - 1, -1))
            for k in tries:
                value = accept(k * step)
                if value is not None:
                    return value
        return None

    def _string(self, schema: Mapping[str, Any], name: str | None) -> str:
        min_len = int(_number(schema.get("minLength")) or 0)
        raw_max = _number(schema.get("maxLength"))
        max_len = None if raw_max is None else int(raw_max)
        patterns: list[Any] = list(schema.get(_PATTERNS) or ())
        if not patterns and isinstance(schema.get("pattern"), str):
            patterns = [schema["pattern"]]
        compiled = [_compiled_and_parsed(p) for p in patterns if isinstance(p, str)]
        regexes = [entry for entry in compiled if entry is not None]

        def fits(value: str) -> bool:
            if len(value) < min_len or (max_len is not None and len(value) > max_len):
                return False
            return all(regex.search(value) for regex, _ in regexes)

        fmt = schema.get("format")
        if isinstance(fmt, str):
            formatted = self._format(fmt, min_len, max_len)
            if formatted is not None and fits(formatted):
                return formatted
        if regexes:
            found = self._from_patterns(regexes, fits, min_len, max_len)
            if found is not None:
                return found
        else:
            hinted = self._hinted(name)
            if hinted is not None and fits(hinted):
                return hinted
        return self._text(min_len, max_len)

    def _from_patterns(
        self,
        regexes: list[tuple[re.Pattern[str], Any]],
        fits: Callable[[str], bool],
        min_len: int,
        max_len: int | None,
    ) -> str | None:
        """A string matching every pattern within the length bounds (best effort)."""
        best: str | None = None
        for _, parsed in regexes:
            self.xeger.mode = "normal"
            tried: set[str] = set()
            for _ in range(_PATTERN_TRIES):
                tried.add(self.xeger.mode)
                try:
                    value = self.xeger.generate(parsed)
                except _RSTR_ERRORS:  # rstr cannot handle every construct re accepts
                    break
                best = value if best is None else best
                if fits(value):
                    return value
                self.xeger.mode = "normal"
                if max_len is not None and len(value) > max_len:
                    # Cutting keeps a match for patterns like ^[a-z]+$ or unanchored ones.
                    cuts = (max_len, self.rng.randint(min(min_len, max_len), max_len))
                    for candidate in (value[:cut] for cut in cuts):
                        if fits(candidate):
                            return candidate
                    if "short" not in tried:
                        self.xeger.mode = "short"
                elif len(value) < min_len:
                    padding = self._text(min_len - len(value), min_len - len(value))
                    for candidate in (value + padding, padding + value):
                        if fits(candidate):
                            return candidate
                    if "long" not in tried:
                        self.xeger.mode = "long"
        self.xeger.mode = "normal"
        return best

    def _text(self, min_len: int, max_len: int | None) -> str:
        text = self.rng.choice(_WORDS)
        while len(text) < min_len:
            text += " " + self.rng.choice(_WORDS)
        return text if max_len is None else text[: max(max_len, min_len)]

    def _chars(self, alphabet: str, count: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(count))

    def _hinted(self, name: str | None) -> str | None:
        """A plausible value for a well-known property name, or None."""
        if not name:
            return None
        rng = self.rng
        key = name.lower().replace("_", "").replace("-", "")
        if key == "id" or name.endswith(("_id", "Id", "ID")):
            return self._chars(_ALNUM_LOWER, 16)
        if "email" in key:
            return f"{rng.choice(_FIRST_NAMES)}.{rng.choice(_LAST_NAMES)}@example.com".lower()
        if key in ("url", "href", "link", "website", "homepage", "uri") or key.endswith(
            ("url", "href")
        ):
            return f"https://example.com/{rng.choice(_WORDS)}/{rng.randint(1, 999)}"
        if key in ("country", "countrycode") or key.endswith("countrycode"):
            return rng.choice(_COUNTRIES)
        if key == "currency" or key.endswith("currency"):
            return rng.choice(_CURRENCIES)
        if key == "city":
            return rng.choice(_CITIES)
        if key in ("description", "summary", "comment", "note", "notes"):
            return rng.choice(_SENTENCES)
        if key == "username":
            return f"{rng.choice(_FIRST_NAMES).lower()}{rng.randint(1, 99)}"
        if key in ("firstname", "givenname"):
            return rng.choice(_FIRST_NAMES)
        if key in ("lastname", "surname", "familyname"):
            return rng.choice(_LAST_NAMES)
        if key == "name" or key.endswith("name"):
            return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        return None

    def _format(self, fmt: str, min_len: int, max_len: int | None) -> str | None:
        rng = self.rng
        match fmt:
            case "date-time":
                return self._moment().strftime("%Y-%m-%dT%H:%M:%SZ")
            case "date":
                return self._moment().date().isoformat()
            case "time":
                return self._moment().strftime("%H:%M:%SZ")
            case "email" | "idn-email":
                return f"{rng.choice(_FIRST_NAMES)}.{rng.choice(_LAST_NAMES)}@example.com".lower()
            case "uuid":
                return str(uuid.UUID(int=rng.getrandbits(128), version=4))
            case "uri" | "url" | "iri" | "uri-reference" | "iri-reference":
                return f"https://example.com/{rng.choice(_WORDS)}/{rng.randint(1, 999)}"
            case "hostname" | "idn-hostname":
                return f"{rng.choice(_WORDS)}.example.com"
            case "ipv4":
                return ".".join(str(rng.randint(1, 254)) for _ in range(4))
            case "ipv6":
                return "2001:db8:" + ":".join(f"{rng.randrange(65536):x}" for _ in range(6))
            case "byte":
                size = 12
                if max_len is not None:
                    size = min(size, (max_len // 4) * 3)
                size = max(size, math.ceil(min_len / 4) * 3)
                return base64.b64encode(rng.randbytes(size)).decode("ascii")
            case "binary" | "password":
                return self._chars(
                    _ALNUM, max(min(12, 12 if max_len is None else max_len), min_len)
                )
            case "duration":
                return f"P{rng.randint(1, 30)}D"
            case "uri-template":
                return "https://example.com/{id}"
            case "json-pointer":
                return f"/{rng.choice(_WORDS)}/{rng.randint(0, 9)}"
            case "relative-json-pointer":
                return f"0/{rng.choice(_WORDS)}"
            case "regex":
                return "^[a-z]+$"
            case "int32" | "int64" | "integer" | "unix-time":
                return str(rng.randint(0, 100_000))
            case "float" | "double" | "decimal" | "number":
                return f"{rng.randint(0, 9999)}.{rng.randint(0, 99):02d}"
        return None

    def _moment(self) -> datetime:
        return _EPOCH + timedelta(seconds=self.rng.randrange(_TWO_YEARS))

    # --- containers -------------------------------------------------------------------------

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


def _search(pattern: str, text: str) -> bool:
    regex = _compiled(pattern)
    return regex is not None and regex.search(text) is not None
