"""Filling a page's answer: the link URLs (on the caller's host, without credentials),
the RFC 8288 ``Link`` header, total-count headers (``X-Total-Count``...) and the paging
fields an envelope declares (``meta.count``, ``links.next``, ``has_more``,
``next_cursor``...), each written only when the schema accepts it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import jsonschema_rs

from mockserver.behaviours.pagination.base import _PaginationBase
from mockserver.behaviours.pagination.model import PageWindow
from mockserver.behaviours.pagination.names import (
    _CONTAINERS,
    _FREE_LINKS,
    _LESS_KEYS,
    _LINK_CONTAINERS,
    _MORE_KEYS,
    _NEXT_CURSOR_KEYS,
    _OFFSET_KEYS,
    _PAGE_KEYS,
    _PAGES_KEYS,
    _PREV_CURSOR_KEYS,
    _SIZE_KEYS,
    _TOTAL_HEADERS,
    _URL_KEYS,
    CREDENTIAL_PARAMS,
)
from mockserver.behaviours.resources import TOTAL_KEYS, properties, required
from mockserver.contract.model import Operation
from mockserver.contract.schemas import SchemaSpace
from mockserver.http import Headers, MockRequest
from mockserver.params import schema_types


class _Envelope(_PaginationBase):
    """Links, paging headers and envelope fields of a computed page."""

    # -- links -----------------------------------------------------------------------------

    @staticmethod
    def _secret_params(op: Operation) -> frozenset[str]:
        names = {
            s.param_name.lower()
            for s in op.contract.security_schemes.values()
            if s.type == "apiKey" and s.location == "query" and s.param_name
        }
        return CREDENTIAL_PARAMS | names

    @staticmethod
    def url(
        request: MockRequest,
        updates: Mapping[str, str | None],
        secrets: frozenset[str] = CREDENTIAL_PARAMS,
    ) -> str:
        """The request's URL on its own host with ``updates`` applied to the query.

        Credentials are dropped; brackets are percent-encoded (``page%5Boffset%5D=5``);
        updated parameters keep their place, new ones go last, ``None`` removes one.
        """
        pairs = [(k, v) for k, v in request.query if k.lower() not in secrets]
        for name, value in updates.items():
            at = next((i for i, (k, _) in enumerate(pairs) if k == name), None)
            pairs = [(k, v) for k, v in pairs if k != name]
            if value is None:
                continue
            if at is None:
                pairs.append((name, value))
            else:
                pairs.insert(at, (name, value))
        query = urlencode(pairs, quote_via=quote, safe=",")
        path = quote(request.path, safe="/:@!$&'()*+,;=-._~")
        return f"{request.root_url}{path}" + (f"?{query}" if query else "")

    def _link_header(self, op: Operation, window: PageWindow, urls: dict[str, str]) -> str:
        _, required_header = self._link_declared(op)
        several = window.total > window.size or window.start > 0 or "next" in window.rels
        if several:
            order = ["next", "last", "first", "prev"]
        elif required_header:
            order = ["first", "last"]
        else:
            return ""
        if window.total == 0:
            order = [r for r in order if r != "last"]
        return ", ".join(f'<{urls[rel]}>; rel="{rel}"' for rel in order if rel in urls)

    def _total_headers(self, op: Operation, window: PageWindow, headers: Headers) -> None:
        spec = op.response_for(op.success_status())
        if spec is None:
            return
        values: dict[str, str] = {
            "total": str(window.total),
            "pages": str(window.pages),
            "page": str(window.page),
            "size": str(window.size),
            "next_page": str(window.page + 1) if window.has_more else "",
            "prev_page": str(window.page - 1) if "prev" in window.rels else "",
        }
        for name in spec.headers:
            meaning = _TOTAL_HEADERS.get(name.lower())
            if meaning is not None and values[meaning] != "":
                headers.set(name, values[meaning])

    # -- envelope --------------------------------------------------------------------------

    def _check(self, space: SchemaSpace, schema: Any) -> Any:
        key = id(schema)
        hit = self._checks.get(key)
        if hit is None:
            try:
                hit = jsonschema_rs.validator_for(space.standalone(schema, "response"))
            except Exception:  # noqa: BLE001 - cannot compile: accept anything
                hit = False
            self._checks[key] = hit
        return hit

    def _valid(self, space: SchemaSpace, schema: Any, value: Any) -> bool:
        check = self._check(space, schema)
        return check is False or bool(check.is_valid(value))

    def _meaning(self, key: str, window: PageWindow, urls: dict[str, str]) -> tuple[bool, Any]:
        low = key.lower()
        if low in TOTAL_KEYS:
            return True, window.total
        if low in _PAGE_KEYS:
            return True, window.page
        if low in _SIZE_KEYS:
            return True, window.size
        if low in _OFFSET_KEYS:
            return True, window.start
        if low in _PAGES_KEYS:
            return True, window.pages
        if low in _MORE_KEYS:
            return True, window.has_more
        if low in _LESS_KEYS:
            return True, "prev" in window.rels
        if low in _NEXT_CURSOR_KEYS:
            return True, window.next_cursor
        if low in _PREV_CURSOR_KEYS:
            return True, window.prev_cursor
        rel = _URL_KEYS.get(low)
        if rel is not None:
            return True, urls.get(rel)
        return False, None

    def _put(
        self,
        space: SchemaSpace,
        schema: Any,
        obj: dict[str, Any],
        key: str,
        value: Any,
        is_required: bool,
    ) -> None:
        if value is None:
            if self._valid(space, schema, None):
                obj[key] = None
            elif not is_required:
                obj.pop(key, None)
            return
        if isinstance(value, str) and not self._valid(space, schema, value):
            node = space.deref(schema, "response")
            if isinstance(node, dict) and "href" in properties(space, node):
                value = {"href": value}
        if self._valid(space, schema, value):
            obj[key] = value

    def _fill(
        self,
        space: SchemaSpace,
        schema: Any,
        obj: dict[str, Any],
        window: PageWindow,
        urls: dict[str, str],
        request: MockRequest,
        *,
        top: bool,
    ) -> None:
        props = properties(space, schema)
        needed = required(space, schema)
        for key, sub in props.items():
            kinds = schema_types(sub, lambda n: space.deref(n, "response"))
            if key in _LINK_CONTAINERS and "object" in kinds:
                current = obj.get(key)
                obj[key] = self._links(
                    space, sub, current if isinstance(current, dict) else {}, urls
                )
                continue
            if key in _CONTAINERS and "object" in kinds and not (kinds & {"integer", "number"}):
                current = obj.get(key)
                inner = dict(current) if isinstance(current, dict) else {}
                self._fill(space, sub, inner, window, urls, request, top=False)
                obj[key] = inner
                continue
            if top and key.lower() == "url" and obj.get("object") == "list":
                self._put(space, sub, obj, key, request.path, key in needed)
                continue
            managed, value = self._meaning(key, window, urls)
            if managed:
                self._put(space, sub, obj, key, value, key in needed)

    def _links(
        self, space: SchemaSpace, schema: Any, current: dict[str, Any], urls: dict[str, str]
    ) -> dict[str, Any]:
        props = properties(space, schema)
        needed = required(space, schema)
        out: dict[str, Any] = {}
        if not props:
            for name in _FREE_LINKS:
                url = urls.get(_URL_KEYS[name])
                if url is not None:
                    out[name] = url
            return out
        for key, sub in props.items():
            rel = _URL_KEYS.get(key.lower())
            if rel is None:
                if key in needed and key in current:
                    out[key] = current[key]
                continue
            self._put(space, sub, out, key, urls.get(rel), key in needed)
            if key not in out and key in needed and key in current:
                out[key] = current[key]
        return out
