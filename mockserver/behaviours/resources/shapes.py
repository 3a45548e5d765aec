"""What a list answer looks like: list shapes, schema helpers and path templates.

Decides whether an operation's success answer is a list (a bare array or an envelope such
as ``{"data": [...], "meta": {...}}``) and where its items are, with the names that
recognise envelopes (page wrappers, paging parameters, paging metadata), the schema
helpers this needs (properties and required names merged through ``allOf``) and the
matching of concrete paths against path templates.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from mockserver.contract.model import MediaType, Operation
from mockserver.contract.router import PATH_PARAM, template_pattern
from mockserver.contract.schemas import SchemaSpace
from mockserver.params import schema_types

# Array properties that hold a page of items in a wrapper object, in order of preference.
WRAPPER_NAMES = ("data", "items", "results", "values", "entries", "records", "elements", "list")
# Query parameters that make an operation a paged list.
PAGING_PARAMS = frozenset(
    {
        "page",
        "per_page",
        "perpage",
        "page_size",
        "pagesize",
        "size",
        "limit",
        "offset",
        "skip",
        "cursor",
        "after",
        "before",
        "starting_after",
        "ending_before",
        "page_token",
        "pagetoken",
        "page[offset]",
        "page[limit]",
        "page[number]",
        "page[size]",
        "page[cursor]",
        "max_results",
        "maxresults",
        "continuation_token",
        "next_token",
        "marker",
        "$top",
        "$skip",
    }
)
# Properties meaning "how many items in all" (compared lower-cased): paging metadata in an
# envelope, which pagination fills with the collection's size.
TOTAL_KEYS = frozenset(
    {
        "count",
        "total",
        "total_count",
        "totalcount",
        "total_items",
        "totalitems",
        "total_results",
        "totalresults",
        "totalelements",
        "total_elements",
        "total_entries",
        "totalentries",
        "totalrecords",
        "total_records",
        "total_hits",
        "totalhits",
    }
)
# Envelope properties that are paging metadata, not data (the total counts among them).
ENVELOPE_KEYS = (
    frozenset(
        {
            "meta",
            "metadata",
            "_meta",
            "links",
            "_links",
            "link",
            "pagination",
            "paging",
            "page",
            "page_info",
            "pageinfo",
            "total_pages",
            "totalpages",
            "pages",
            "per_page",
            "page_size",
            "pagesize",
            "limit",
            "offset",
            "size",
            "next",
            "previous",
            "prev",
            "first",
            "last",
            "self",
            "next_url",
            "prev_url",
            "has_more",
            "hasmore",
            "has_next",
            "next_cursor",
            "nextcursor",
            "next_page_token",
            "nextpagetoken",
            "cursor",
            "object",
            "url",
            "kind",
            "type",
            "etag",
            "incomplete_results",
            "warnings",
            "errors",
            "status",
            "success",
            "message",
            "request_id",
            "requestid",
        }
    )
    | TOTAL_KEYS
)
# Properties that wrap one item in an item answer (``{"data": {...}}``).
ITEM_WRAPPER_NAMES = ("data", "item", "result", "resource", "value", "record")


# -- schema helpers ------------------------------------------------------------------------


def _deref(space: SchemaSpace, node: Any) -> Any:
    return space.deref(node, "response")


def _types(space: SchemaSpace, node: Any) -> set[str]:
    return schema_types(node, lambda n: _deref(space, n))


def properties(space: SchemaSpace, schema: Any, depth: int = 0) -> dict[str, Any]:
    """The (converted) properties of an object schema, merged through ``allOf``."""
    node = _deref(space, schema)
    if not isinstance(node, dict) or depth > 16:
        return {}
    out: dict[str, Any] = {}
    for sub in node.get("allOf") or []:
        out.update(properties(space, sub, depth + 1))
    props = node.get("properties")
    if isinstance(props, dict):
        out.update(props)
    return out


def required(space: SchemaSpace, schema: Any, depth: int = 0) -> set[str]:
    """The required property names of an object schema, merged through ``allOf``."""
    node = _deref(space, schema)
    if not isinstance(node, dict) or depth > 16:
        return set()
    out = {str(n) for n in node.get("required") or [] if isinstance(n, str)}
    for sub in node.get("allOf") or []:
        out |= required(space, sub, depth + 1)
    return out


def array_items(space: SchemaSpace, schema: Any) -> tuple[bool, Any]:
    """``(True, item schema)`` when ``schema`` is an array (nullable arrays too)."""
    node = _deref(space, schema)
    if not isinstance(node, dict):
        return False, None
    types = _types(space, node)
    if "array" in types and "object" not in types:
        if "items" in node:
            return True, node.get("items") if isinstance(node.get("items"), dict) else {}
        for key in ("anyOf", "oneOf", "allOf"):
            for sub in node.get(key) or []:
                ok, items = array_items(space, sub)
                if ok:
                    return True, items
        return True, {}
    return False, None


def success_media(op: Operation) -> tuple[int, MediaType] | None:
    """The status and (JSON-preferred) media type of the operation's 2xx answer."""
    status = op.success_status()
    if not 200 <= status < 300:
        return None
    spec = op.response_for(status)
    if spec is None:
        return None
    media = spec.first_media_type()
    if media is None or media.schema is None:
        return None
    return status, media


def success_schema(op: Operation) -> Any:
    """The converted schema of the operation's success answer, or None."""
    found = success_media(op)
    if found is None:
        return None
    return op.schemas.convert(found[1].schema, "response")


@dataclass(frozen=True, slots=True)
class ListShape:
    """Where a list answer keeps its items: bare array or ``envelope[wrapper]``."""

    envelope: Any  # converted success schema
    wrapper: str | None
    item_schema: Any


def _has_paging_params(op: Operation) -> bool:
    return any(p.location == "query" and p.name.lower() in PAGING_PARAMS for p in op.parameters)


def list_shape(op: Operation) -> ListShape | None:
    """The list shape of an operation's success answer, or None when it is not a list.

    A bare array is a list. An object is a list envelope when exactly one of its array
    properties is named like a page (``data``, ``items``, ``results``...) or it has a single
    array property of objects; unless the property is ``data``, the envelope's other
    properties must look like paging metadata (``meta``, ``total``, ``next``...) or the
    operation must take paging parameters, so a repository with a ``topics`` array is
    not mistaken for a list of topics.
    """
    schema = success_schema(op)
    if schema is None:
        return None
    space = op.schemas
    ok, items = array_items(space, schema)
    if ok:
        return ListShape(schema, None, items)
    if "object" not in _types(space, schema):
        return None
    props = properties(space, schema)
    arrays = {
        name: array_items(space, s)[1] for name, s in props.items() if array_items(space, s)[0]
    }
    preferred = [n for n in arrays if n in WRAPPER_NAMES]
    name: str | None = None
    if len(preferred) == 1:
        name = preferred[0]
    elif not preferred and len(arrays) == 1:
        name = next(iter(arrays))
        if not {"object"} & _types(space, arrays[name]):
            return None
    if name is None:
        return None
    if name != "data" and not _has_paging_params(op):
        others = [k for k in props if k != name]
        if any(k.lower() not in ENVELOPE_KEYS for k in others):
            return None
    return ListShape(schema, name, arrays[name])


def _same_schema(space: SchemaSpace, a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        ra, rb = a.get("$ref"), b.get("$ref")
        if isinstance(ra, str) and isinstance(rb, str) and ra == rb:
            return True
    da, db = _deref(space, a), _deref(space, b)
    return isinstance(da, dict) and bool(da) and da == db


def _path_params(template: str) -> list[str]:
    return PATH_PARAM.findall(template)


@functools.lru_cache(maxsize=512)
def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + template_pattern(template, "[^/]+?") + "/?$")


def match_template(template: str, path: str) -> dict[str, str] | None:
    """The path parameters of ``path`` under ``template`` (None when it does not match)."""
    m = _template_regex(template).match(path)
    if m is None:
        return None
    return dict(zip(_path_params(template), m.groups(), strict=True))


def _singular(word: str) -> str:
    word = re.sub(r"[^A-Za-z0-9]+(.)", lambda m: m.group(1).upper(), word)
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _resource_name(path: str) -> str:
    statics = [s for s in path.strip("/").split("/") if s and "{" not in s]
    return _singular(statics[-1]) if statics else "item"
