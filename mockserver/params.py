"""Parameter deserialisation: the wire form of path/query/header/cookie values -> JSON.

Implements OpenAPI 3 ``style``/``explode`` (form, simple, label, matrix, spaceDelimited,
pipeDelimited, deepObject) and Swagger 2.0 ``collectionFormat``, then coerces strings to
the schema's types so the JSON Schema validator sees ``5`` rather than ``"5"``.
No library implements this against our model without dragging in its own (openapi-core
does, but only over its own request objects and spec wrapper), hence by hand.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import unquote_plus

from mockserver.contract.model import Parameter

_INT = re.compile(r"^[+-]?\d+$")
_NUM = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|"}
_STYLE_SEPARATORS = {"spaceDelimited": " ", "pipeDelimited": "|"}
_MISSING: Any = object()

Deref = Callable[[Any], Any]


def schema_types(schema: Any, deref: Deref) -> set[str]:
    """The JSON types a (converted) schema allows, looking through refs and combinators."""
    node = deref(schema)
    if not isinstance(node, dict):
        return set()
    kind = node.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {str(k) for k in kind}
    types: set[str] = set()
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            types |= schema_types(sub, deref)
    if not types and isinstance(node.get("properties"), dict):
        types.add("object")
    if not types and "items" in node:
        types.add("array")
    return types


def coerce(value: Any, schema: Any, deref: Deref) -> Any:
    """Convert wire strings to the types ``schema`` wants; leave what does not convert."""
    node = deref(schema)
    if not isinstance(node, dict):
        return value
    types = schema_types(node, deref)
    if isinstance(value, list):
        if "array" not in types and len(value) == 1:
            return coerce(value[0], node, deref)
        items = node.get("items", {})
        return [coerce(v, items, deref) for v in value]
    if isinstance(value, dict):
        props = node.get("properties") or {}
        extra = node.get("additionalProperties")
        return {
            k: coerce(v, props.get(k, extra if isinstance(extra, dict) else {}), deref)
            for k, v in value.items()
        }
    if not isinstance(value, str):
        return value
    if "array" in types and "string" not in types:
        return [coerce(value, node.get("items", {}), deref)] if value != "" else []
    if "integer" in types and _INT.match(value):
        return int(value)
    if "number" in types and _NUM.match(value):
        number = float(value)
        return int(number) if number.is_integer() and "integer" in types else number
    if "boolean" in types and value.lower() in ("true", "false"):
        # Case-insensitive: the Amadeus SDK sends Python's `True`.
        return value.lower() == "true"
    if "null" in types and value in ("", "null") and "string" not in types:
        return None
    if "object" in types and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def parse_cookies(header: str | None) -> dict[str, str]:
    """The cookies of a ``Cookie`` header."""
    if not header:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:  # a malformed Cookie header is simply no cookies
        return {}
    return {k: m.value for k, m in jar.items()}


def _split(value: str, sep: str) -> list[str]:
    return value.split(sep) if value != "" else []


def _pairs_to_object(items: list[str]) -> dict[str, str]:
    return {items[i]: items[i + 1] if i + 1 < len(items) else "" for i in range(0, len(items), 2)}


def _kv_object(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def extract(
    param: Parameter,
    *,
    path_params: dict[str, str],
    query: list[tuple[str, str]],
    headers: Any,
    cookies: dict[str, str],
    deref: Deref,
    raw_query: str = "",
) -> Any:
    """The raw (uncoerced) value of ``param`` in a request, or ``MISSING``.

    ``raw_query`` (still percent-encoded) lets comma-separated arrays keep an item's
    encoded comma: ``tag=a%2Cb,c`` is ``["a,b", "c"]``, not three items.
    """
    types = schema_types(param.schema, deref)
    is_array = "array" in types
    is_object = "object" in types and not is_array
    if param.content_type is not None:
        raw = _first(param, path_params, query, headers, cookies)
        if raw is _MISSING:
            return raw
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    if param.location == "query":
        found = _query_value(param, query, is_array, is_object)
        if is_array and raw_query and "%2C" in raw_query.upper() and _comma_separated(param):
            items = _raw_comma_items(raw_query, param.name)
            if items is not None and isinstance(found, list) and len(found) != len(items):
                return items
        return found
    raw = _first(param, path_params, query, headers, cookies)
    if raw is _MISSING:
        return raw
    if param.location == "path":
        if param.style == "label" and raw.startswith("."):
            raw = raw[1:]
            sep = "." if param.explode else ","
        elif param.style == "matrix" and raw.startswith(";"):
            raw = raw[1:]
            if is_array and param.explode:
                return [p.partition("=")[2] for p in raw.split(";")]
            if not is_object and raw.startswith(param.name + "="):
                raw = raw[len(param.name) + 1 :]
            sep = ";" if param.explode else ","
        else:
            sep = ","
        if is_array:
            return _split(raw, sep)
        if is_object:
            parts = _split(raw, sep)
            return _kv_object(parts) if param.explode else _pairs_to_object(parts)
        return raw
    # header and cookie: "simple"/"form" with commas
    if is_array:
        sep = _SEPARATORS.get(param.collection_format or "csv", ",")
        return [v.strip() for v in _split(raw, sep)]
    if is_object:
        parts = [p.strip() for p in _split(raw, ",")]
        return _kv_object(parts) if param.explode else _pairs_to_object(parts)
    return raw


MISSING = _MISSING


def _comma_separated(param: Parameter) -> bool:
    if param.collection_format is not None:
        return param.collection_format == "csv"
    return param.style == "form" and not param.explode


def _raw_comma_items(raw_query: str, name: str) -> list[str] | None:
    """The items of the last ``name=`` in a raw query, split before decoding."""
    value = None
    for pair in raw_query.split("&"):
        key, _, raw = pair.partition("=")
        if unquote_plus(key) == name:
            value = raw
    if value is None:
        return None
    return [unquote_plus(item) for item in _split(value, ",")]


def _first(
    param: Parameter,
    path_params: dict[str, str],
    query: list[tuple[str, str]],
    headers: Any,
    cookies: dict[str, str],
) -> Any:
    if param.location == "path":
        return path_params.get(param.name, _MISSING)
    if param.location == "header":
        value = headers.get(param.name)
        return _MISSING if value is None else value
    if param.location == "cookie":
        return cookies.get(param.name, _MISSING)
    for k, v in query:
        if k == param.name:
            return v
    return _MISSING


def _query_value(
    param: Parameter, query: list[tuple[str, str]], is_array: bool, is_object: bool
) -> Any:
    name = param.name
    if param.style == "deepObject" or (is_object and not any(k == name for k, _ in query)):
        prefix = name + "["
        found = {k[len(prefix) : -1]: v for k, v in query if k.startswith(prefix) and k[-1] == "]"}
        if found:
            return found
        if param.style == "deepObject":
            return _MISSING
    values = [v for k, v in query if k == name]
    if not values and is_array:
        # PHP/Rails style `tag[]=a&tag[]=b`, which many clients send.
        values = [v for k, v in query if k == name + "[]"]
    if not values:
        return _MISSING
    if is_array:
        if param.collection_format is not None:
            if param.collection_format == "multi":
                return values
            return _split(values[-1], _SEPARATORS.get(param.collection_format, ","))
        sep = _STYLE_SEPARATORS.get(param.style)
        if sep is not None:
            return _split(values[-1], sep)
        if param.explode:
            return values
        return _split(values[-1], ",")
    if is_object:
        parts = _split(values[-1], ",")
        return _pairs_to_object(parts)
    return values[0]
