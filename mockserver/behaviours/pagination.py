"""Pagination: detect an operation's paging style and cut a collection into pages.

Styles, detected from the query parameter names (and the answer's shape):

- ``page``: ``page``/``per_page`` (GitHub), ``page``/``pageSize``, ``page``/``size``,
  ``page``/``limit``, JSON:API ``page[number]``/``page[size]``; links in ``Link``.
- ``offset``: ``offset``/``limit`` (also ``skip``/``start``); a size parameter alone
  (``limit``, ``max``) only truncates.
- ``pageoffset``: Amadeus ``page[offset]``/``page[limit]`` (literal names or a deepObject
  ``page``), with ``meta.count`` and ``meta.links`` whose brackets are percent-encoded
  (``page%5Boffset%5D=10``) because the Amadeus SDK splits the URL on exactly that.
- ``cursor``: ``cursor``/``after``/``page_token`` (an opaque base64 of the offset) or
  Stripe's ``starting_after``/``ending_before`` (item ids, with ``has_more``).
- ``link``: the answer declares a ``Link`` header but no known parameter; pages are
  addressed by an added ``page`` parameter.

Every style keeps pages disjoint and complete, leaves ``next`` off the last page, takes
the page size's default from the parameter schema's ``default`` and clamps it to its
``maximum``, and answers an out-of-range page with an empty page (200). Links point at
``request.root_url`` (the host the client called: PyGithub refuses other hosts), keep the
other query parameters and never carry credentials (``access_token``, ``api_key``...).
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import quote, urlencode

import jsonschema_rs

from mockserver.behaviours.resources import (
    TOTAL_KEYS,
    ListShape,
    list_shape,
    properties,
    required,
)
from mockserver.config import PaginationConfig
from mockserver.contract.model import Operation
from mockserver.contract.schemas import SchemaSpace
from mockserver.http import Headers, MockRequest, Rejection
from mockserver.params import schema_types
from mockserver.validation import RequestData

Kind = Literal["page", "offset", "pageoffset", "cursor", "link"]
KINDS: tuple[str, ...] = ("page", "offset", "pageoffset", "cursor", "link")

# Query parameters never copied into links: whoever follows a link must not leak them.
CREDENTIAL_PARAMS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "api-key",
        "client_secret",
        "token",
        "key",
        "password",
        "secret",
        "refresh_token",
    }
)

_PAGE_NAMES = ("page", "page[number]", "page_number", "pagenumber", "pageno", "page_no")
_SIZE_NAMES = (
    "per_page",
    "perpage",
    "page_size",
    "pagesize",
    "page[size]",
    "page[limit]",
    "limit",
    "size",
    "max_results",
    "maxresults",
    "$top",
    "top",
    "count",
    "max",
)
_OFFSET_NAMES = ("page[offset]", "offset", "skip", "$skip", "start", "start_index", "startindex")
_OPAQUE_CURSORS = (
    "cursor",
    "page[cursor]",
    "after",
    "page[after]",
    "page_token",
    "pagetoken",
    "next_token",
    "nexttoken",
    "continuation_token",
    "continuationtoken",
    "continuation",
    "next_cursor",
    "nextcursor",
)
_ID_CURSORS = ("starting_after", "after_id", "since_id", "marker", "since")
_BEFORE_NAMES = ("ending_before", "before", "page[before]", "before_id")

# Envelope keys we fill, by meaning (compared lower-cased); the total counts are
# TOTAL_KEYS, which list-shape detection also reads as paging metadata.
_PAGE_KEYS = frozenset(
    {"page", "current_page", "currentpage", "page_number", "pagenumber", "number"}
)
_SIZE_KEYS = frozenset({"per_page", "perpage", "page_size", "pagesize", "limit", "size"})
_OFFSET_KEYS = frozenset({"offset", "skip", "start"})
_PAGES_KEYS = frozenset(
    {
        "total_pages",
        "totalpages",
        "pages",
        "page_count",
        "pagecount",
        "last_page",
        "lastpage",
        "num_pages",
    }
)
_MORE_KEYS = frozenset(
    {"has_more", "hasmore", "has_next", "hasnext", "has_next_page", "hasnextpage", "more"}
)
_LESS_KEYS = frozenset(
    {"has_prev", "hasprev", "has_previous", "hasprevious", "has_previous_page", "haspreviouspage"}
)
_NEXT_CURSOR_KEYS = frozenset(
    {
        "next_cursor",
        "nextcursor",
        "next_page_token",
        "nextpagetoken",
        "next_token",
        "nexttoken",
        "end_cursor",
        "endcursor",
    }
)
_PREV_CURSOR_KEYS = frozenset(
    {
        "prev_cursor",
        "prevcursor",
        "previous_cursor",
        "previouscursor",
        "prev_page_token",
        "start_cursor",
        "startcursor",
    }
)
_URL_KEYS = {
    "next": "next",
    "next_url": "next",
    "nexturl": "next",
    "next_page_url": "next",
    "nextpageurl": "next",
    "next_link": "next",
    "previous": "prev",
    "prev": "prev",
    "prev_url": "prev",
    "prevurl": "prev",
    "previous_url": "prev",
    "previous_page_url": "prev",
    "prev_page_url": "prev",
    "prev_link": "prev",
    "first": "first",
    "first_url": "first",
    "first_page_url": "first",
    "last": "last",
    "last_url": "last",
    "last_page_url": "last",
    "self": "self",
}
_CONTAINERS = ("meta", "pagination", "paging", "page_info", "pageInfo", "_meta", "page")
_LINK_CONTAINERS = ("links", "_links")
_FREE_LINKS = ("self", "first", "last", "next", "previous", "prev")
_TOTAL_HEADERS = {
    "x-total-count": "total",
    "x-total": "total",
    "x-total-pages": "pages",
    "x-page": "page",
    "x-per-page": "size",
    "x-next-page": "next_page",
    "x-prev-page": "prev_page",
}


@dataclass(frozen=True, slots=True)
class PageStyle:
    """How an operation pages: the kind and the (wire) names of its query parameters."""

    kind: Kind
    page_param: str | None = None  # page, page[number]
    size_param: str | None = None  # per_page, limit, page[limit]
    offset_param: str | None = None  # offset, page[offset] (None with a size alone: truncate)
    cursor_param: str | None = None  # cursor, after, starting_after
    before_param: str | None = None  # ending_before (id cursors)
    cursor_by_id: bool = False  # the cursor is an item id (Stripe) rather than opaque
    default_size: int = 20
    max_size: int | None = None
    min_size: int = 1
    first_page: int = 1  # 0 for zero-based page numbers
    link_header: bool = False  # answer with an RFC 8288 Link header


class PageError(Exception):
    """A paging request that cannot be answered (an undecodable cursor): answer 400."""

    def __init__(self, rejection: Rejection) -> None:
        super().__init__(rejection.detail)
        self.rejection = rejection


@dataclass(slots=True)
class PageWindow:
    """One computed page: its slice and, per relation, the query values that address it."""

    start: int
    size: int
    items: list[Any]
    total: int
    page: int  # 1-based page number (or the zero-based one for such APIs)
    pages: int  # number of pages (>= 1)
    rels: dict[str, dict[str, str | None]]  # rel -> {param: value | None (remove)}
    next_cursor: str | None = None
    prev_cursor: str | None = None

    @property
    def has_more(self) -> bool:
        return "next" in self.rels


def _deref(space: SchemaSpace, node: Any) -> Any:
    return space.deref(space.convert(node, "request"), "request")


def _to_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def encode_cursor(offset: int) -> str:
    """The opaque cursor of an offset: unpadded URL-safe base64 of ``o:<offset>``."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The offset in a cursor made by ``encode_cursor`` (None when it is not one of ours)."""
    if cursor.isdigit():
        return int(cursor)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith("o:") or not raw[2:].isdigit():
        return None
    return int(raw[2:])


class Pagination:
    """Detects paging styles (cached per operation) and paginates collections."""

    def __init__(self, config: PaginationConfig) -> None:
        self.config = config
        self._styles: dict[int, PageStyle | None] = {}
        self._shapes: dict[int, ListShape | None] = {}
        self._checks: dict[int, Any] = {}
        self._cursor_checks: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._pinned: list[Operation] = []

    # -- detection -------------------------------------------------------------------------

    def style(self, op: Operation) -> PageStyle | None:
        """The paging style of ``op``; ``config.operations[op.key]`` overrides detection."""
        key = id(op)
        if key in self._styles:
            return self._styles[key]
        found = self._detect(op)
        with self._lock:
            self._styles[key] = found
            self._pinned.append(op)
        return found

    def _shape(self, op: Operation) -> ListShape | None:
        key = id(op)
        if key not in self._shapes:
            self._shapes[key] = list_shape(op)
        return self._shapes[key]

    def _query_params(self, op: Operation) -> dict[str, tuple[str, Any]]:
        """Lower-cased wire name -> (wire name, dereferenced schema) of every query parameter,
        with ``name[prop]`` entries for object (deepObject) parameters."""
        space = op.schemas
        out: dict[str, tuple[str, Any]] = {}
        for p in op.parameters:
            if p.location != "query":
                continue
            node = _deref(space, p.schema)
            out.setdefault(p.name.lower(), (p.name, node))
            types = schema_types(node, lambda n: space.deref(n, "request"))
            if "object" in types:
                for prop, sub in properties(space, node).items():
                    wire = f"{p.name}[{prop}]"
                    out.setdefault(wire.lower(), (wire, space.deref(sub, "request")))
        return out

    @staticmethod
    def _is_int(space: SchemaSpace, node: Any) -> bool:
        types = schema_types(node, lambda n: space.deref(n, "request"))
        return bool(types & {"integer", "number"}) or not types

    @staticmethod
    def _is_dateish(node: Any) -> bool:
        return isinstance(node, dict) and node.get("format") in ("date", "date-time", "time")

    def _link_declared(self, op: Operation) -> tuple[bool, bool]:
        """(declared, required) for a ``Link`` header on the success answer."""
        spec = op.response_for(op.success_status())
        if spec is None:
            return False, False
        for name, header in spec.headers.items():
            if name.lower() == "link":
                return True, header.required
        return False, False

    def _envelope_carries_next(self, op: Operation) -> bool:
        shape = self._shape(op)
        if shape is None or shape.wrapper is None:
            return False
        space = op.schemas
        keys: set[str] = set()
        props = properties(space, shape.envelope)
        keys |= {k.lower() for k in props}
        for name in (*_CONTAINERS, *_LINK_CONTAINERS):
            if name in props:
                inner = properties(space, props[name])
                keys |= {k.lower() for k in inner}
                for link_name in _LINK_CONTAINERS:
                    if link_name in inner:
                        keys |= {k.lower() for k in properties(space, inner[link_name])}
        wanted = _NEXT_CURSOR_KEYS | _MORE_KEYS | {k for k, v in _URL_KEYS.items() if v == "next"}
        return bool(keys & wanted)

    def _detect(self, op: Operation) -> PageStyle | None:
        override = self.config.operations.get(op.key)
        override = override if isinstance(override, dict) else {}
        if override.get("style") in ("none", False):
            return None
        space = op.schemas
        params = self._query_params(op)

        def pick(names: tuple[str, ...], integer: bool | None = True) -> str | None:
            for name in names:
                hit = params.get(name)
                if hit is None or self._is_dateish(hit[1]):
                    continue
                if integer is True and not self._is_int(space, hit[1]):
                    continue
                return hit[0]
            return None

        size = pick(_SIZE_NAMES)
        style: PageStyle | None = None
        offset = pick(("page[offset]",))
        if offset is not None:
            size = pick(("page[limit]", "page[size]")) or size
            style = PageStyle("pageoffset", size_param=size, offset_param=offset)
        if style is None:
            cursor = pick(_OPAQUE_CURSORS, integer=None)
            by_id = False
            if cursor is None:
                cursor = pick(_ID_CURSORS[:-1], integer=None) or pick(("since",))
                by_id = cursor is not None
            if cursor is not None:
                before = pick(_BEFORE_NAMES, integer=None) if by_id else None
                style = PageStyle(
                    "cursor",
                    size_param=size,
                    cursor_param=cursor,
                    before_param=before,
                    cursor_by_id=by_id,
                )
        if style is None:
            offset = pick(_OFFSET_NAMES)
            if offset is not None:
                style = PageStyle("offset", size_param=size, offset_param=offset)
        if style is None:
            page = pick(_PAGE_NAMES)
            if page is not None:
                if size == page:
                    size = None
                first = 1
                node = params[page.lower()][1]
                if isinstance(node, dict) and 0 in (node.get("minimum"), node.get("default")):
                    first = 0
                style = PageStyle("page", page_param=page, size_param=size, first_page=first)
        declared, _ = self._link_declared(op)
        if style is None and size is not None:
            style = (
                PageStyle("link", page_param="page", size_param=size)
                if declared
                else PageStyle("offset", size_param=size)
            )
        if style is None and declared:
            style = PageStyle("link", page_param="page")
        if isinstance(override.get("style"), str) and override["style"] in KINDS:
            style = replace(style or PageStyle(override["style"]), kind=override["style"])
            if style.kind in ("page", "link") and style.page_param is None:
                style = replace(style, page_param="page")
            if style.kind in ("offset", "pageoffset") and style.offset_param is None:
                style = replace(
                    style, offset_param="page[offset]" if style.kind == "pageoffset" else "offset"
                )
            if style.kind == "cursor" and style.cursor_param is None:
                style = replace(style, cursor_param="cursor")
        if style is None:
            return None
        for name in ("page_param", "size_param", "offset_param", "cursor_param", "before_param"):
            if isinstance(override.get(name), str):
                style = replace(style, **{name: override[name]})
        if isinstance(override.get("cursor_by_id"), bool):
            style = replace(style, cursor_by_id=override["cursor_by_id"])
        return self._sizes(op, style, params, declared, override)

    def _sizes(
        self,
        op: Operation,
        style: PageStyle,
        params: dict[str, tuple[str, Any]],
        declared: bool,
        override: Mapping[str, Any],
    ) -> PageStyle:
        default = max(1, self.config.default_page_size)
        maximum: int | None = None
        minimum = 1
        if style.size_param is not None and style.size_param.lower() in params:
            node = params[style.size_param.lower()][1]
            if isinstance(node, dict):
                d, mx, mn = (_to_int(node.get(k)) for k in ("default", "maximum", "minimum"))
                if mx is None and isinstance(node.get("exclusiveMaximum"), int | float):
                    mx = math.ceil(node["exclusiveMaximum"]) - 1
                maximum = mx
                minimum = max(1, mn or 1)
                default = d if d is not None and d >= 1 else default
        if isinstance(override.get("default_size"), int):
            default = override["default_size"]
        if isinstance(override.get("max_size"), int):
            maximum = override["max_size"]
        if maximum is not None:
            maximum = max(minimum, maximum)
            default = min(default, maximum)
        default = max(minimum, default)
        first = _to_int(override.get("first_page"))
        link = (
            declared
            or style.kind in ("page", "link")
            or (style.kind == "cursor" and not self._envelope_carries_next(op))
        )
        if isinstance(override.get("link_header"), bool):
            link = override["link_header"]
        return replace(
            style,
            default_size=default,
            max_size=maximum,
            min_size=minimum,
            first_page=style.first_page if first is None else first,
            link_header=link,
        )

    # -- paging ----------------------------------------------------------------------------

    @staticmethod
    def _value(name: str | None, request: MockRequest, data: RequestData | None) -> Any:
        if name is None:
            return None
        if data is not None:
            if name in data.query:
                return data.query[name]
            if "[" in name and name.endswith("]"):
                base, _, sub = name[:-1].partition("[")
                holder = data.query.get(base)
                if isinstance(holder, dict) and sub in holder:
                    return holder[sub]
        values = request.query_values(name)
        return values[-1] if values else None

    def page_size(self, style: PageStyle, request: MockRequest, data: RequestData | None) -> int:
        """The page size a request asks for, defaulted and clamped to the schema's bounds."""
        size = _to_int(self._value(style.size_param, request, data))
        if size is None:
            size = style.default_size
        size = max(style.min_size, size)
        if style.max_size is not None:
            size = min(size, style.max_size)
        return max(1, size)

    def _cursor_value(self, op: Operation, offset: int) -> str:
        cursor = encode_cursor(offset)
        check = self._cursor_check(op)
        if check is not None and not check.is_valid(cursor):
            return str(offset)
        return cursor

    def _cursor_check(self, op: Operation) -> Any:
        key = id(op)
        if key in self._cursor_checks:
            return self._cursor_checks[key]
        style = self.style(op)
        check: Any = None
        if style is not None and style.cursor_param is not None:
            for p in op.parameters:
                if p.location == "query" and p.name == style.cursor_param:
                    try:
                        check = jsonschema_rs.validator_for(
                            op.schemas.standalone(p.schema, "request")
                        )
                    except Exception:  # noqa: BLE001 - no usable schema: anything goes
                        check = None
        self._cursor_checks[key] = check
        return check

    def window(
        self,
        op: Operation,
        style: PageStyle | None,
        items: list[Any],
        request: MockRequest,
        data: RequestData | None = None,
        *,
        id_field: str | None = None,
    ) -> PageWindow:
        """The page a request addresses and the query values of its neighbours."""
        total = len(items)
        if style is None:
            return PageWindow(0, max(total, 1), list(items), total, 1, 1, {})
        size = self.page_size(style, request, data)
        pages = max(1, math.ceil(total / size))
        sp = style.size_param
        with_size: dict[str, str | None] = {sp: str(size)} if sp else {}
        rels: dict[str, dict[str, str | None]] = {}
        if style.kind in ("page", "link"):
            pp = style.page_param or "page"
            first = style.first_page
            number = _to_int(self._value(pp, request, data))
            number = first if number is None or number < first else number
            start = (number - first) * size
            last = first + pages - 1
            if start + size < total:
                rels["next"] = {pp: str(number + 1), **with_size}
            rels["last"] = {pp: str(last), **with_size}
            rels["first"] = {pp: str(first), **with_size}
            if number > first:
                rels["prev"] = {pp: str(min(number - 1, last)), **with_size}
            chunk = items[start : start + size]
            return PageWindow(start, size, chunk, total, number, pages, rels)
        if style.kind in ("offset", "pageoffset"):
            op_name = style.offset_param
            if op_name is None:  # a size alone: the first page, nothing to walk to
                return PageWindow(0, size, items[:size], total, 1, 1, {})
            start = _to_int(self._value(op_name, request, data)) or 0
            start = max(0, start)
            last_start = ((total - 1) // size) * size if total else 0
            if start + size < total:
                rels["next"] = {op_name: str(start + size), **with_size}
            rels["last"] = {op_name: str(last_start), **with_size}
            rels["first"] = {op_name: "0", **with_size}
            if start > 0:
                rels["prev"] = {op_name: str(max(0, min(start - size, last_start))), **with_size}
            return PageWindow(
                start, size, items[start : start + size], total, start // size + 1, pages, rels
            )
        return self._cursor_window(op, style, items, request, data, size, id_field)

    def _cursor_window(
        self,
        op: Operation,
        style: PageStyle,
        items: list[Any],
        request: MockRequest,
        data: RequestData | None,
        size: int,
        id_field: str | None,
    ) -> PageWindow:
        total = len(items)
        pages = max(1, math.ceil(total / size))
        cp = style.cursor_param or "cursor"
        bp = style.before_param
        sp = style.size_param
        with_size: dict[str, str | None] = {sp: str(size)} if sp else {}
        reset: dict[str, str | None] = {cp: None, **({bp: None} if bp else {})}
        rels: dict[str, dict[str, str | None]] = {"first": {**reset, **with_size}}
        raw_after = self._value(cp, request, data)
        raw_before = self._value(bp, request, data) if bp else None
        if not style.cursor_by_id:
            start = 0
            if raw_after not in (None, ""):
                decoded = decode_cursor(str(raw_after))
                if decoded is None:
                    raise PageError(
                        Rejection(
                            400,
                            "Invalid cursor",
                            f"'{cp}' is not a cursor this API issued",
                            error="invalid_cursor",
                        )
                    )
                start = decoded
            chunk = items[start : start + size]
            window = PageWindow(start, size, chunk, total, start // size + 1, pages, rels)
            if start + size < total:
                window.next_cursor = self._cursor_value(op, start + size)
                rels["next"] = {**reset, cp: window.next_cursor, **with_size}
            if start > 0:
                window.prev_cursor = self._cursor_value(op, max(0, start - size))
                rels["prev"] = {**reset, cp: window.prev_cursor, **with_size}
            return window
        key = id_field or "id"

        def ident(item: Any) -> str | None:
            if isinstance(item, dict) and item.get(key) is not None:
                return str(item[key])
            return None

        def position(value: Any, after: bool) -> int:
            text = str(value)
            for i, item in enumerate(items):
                if ident(item) == text:
                    return i + 1 if after else i
            number = _to_int(text)
            if number is not None:  # numeric ids: the first item past the value
                for i, item in enumerate(items):
                    own = _to_int(ident(item))
                    if own is not None and (own > number if after else own >= number):
                        return i
                return total
            raise PageError(
                Rejection(
                    404 if style.cursor_param == "starting_after" else 400,
                    "Invalid cursor",
                    f"no object with id {text!r}",
                    error="resource_missing",
                )
            )

        if raw_after not in (None, ""):
            start = position(raw_after, True)
            end = start + size
        elif raw_before not in (None, ""):
            end = position(raw_before, False)
            start = max(0, end - size)
        else:
            start, end = 0, size
        chunk = items[start:end]
        window = PageWindow(start, size, chunk, total, start // size + 1, pages, rels)
        if end < total and chunk:
            window.next_cursor = ident(chunk[-1])
            if window.next_cursor is not None:
                rels["next"] = {**reset, cp: window.next_cursor, **with_size}
        if start > 0 and chunk:
            window.prev_cursor = ident(chunk[0])
            if bp and window.prev_cursor is not None:
                rels["prev"] = {**reset, bp: window.prev_cursor, **with_size}
        return window

    def paginate(
        self,
        op: Operation,
        style: PageStyle | None,
        items: list[Any],
        request: MockRequest,
        data: RequestData | None,
        envelope: Any,
        *,
        id_field: str | None = None,
    ) -> tuple[Any, Headers]:
        """One page of ``items`` as the answer body, and the paging headers.

        The body is the page itself for a bare-array answer, else ``envelope`` (a
        synthesised answer) with the page in its list property and the paging fields the
        schema declares filled (``meta.count``, ``meta.links``, ``has_more``,
        ``next_cursor``...). ``style`` None answers every item. ``id_field`` names the id
        of items for id cursors (Stripe's ``starting_after``). Raises ``PageError`` (answer
        its ``rejection``) for a cursor that is not one of ours. ``items`` are never
        changed and the page shares them: the pipeline passes the dataset's own items
        (uncopied) and only serialises the body.
        """
        window = self.window(op, style, items, request, data, id_field=id_field)
        secrets = self._secret_params(op)
        urls = {rel: self.url(request, values, secrets) for rel, values in window.rels.items()}
        urls["self"] = self.url(request, {}, secrets)
        headers = Headers()
        if style is not None and style.link_header:
            link = self._link_header(op, window, urls)
            if link:
                headers.set("Link", link)
        self._total_headers(op, window, headers)
        shape = self._shape(op)
        if shape is None or shape.wrapper is None:
            return window.items, headers
        body: dict[str, Any] = dict(envelope) if isinstance(envelope, dict) else {}
        body[shape.wrapper] = window.items
        self._fill(op.schemas, shape.envelope, body, window, urls, request, top=True)
        return body, headers

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
