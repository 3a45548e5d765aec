"""Paging: the ``Pagination`` class, which cuts a collection into the page a request
addresses (page numbers, offsets, opaque or id cursors) and answers it with its links,
headers and envelope fields."""

from __future__ import annotations

import math
from typing import Any

import jsonschema_rs

from mockserver.behaviours.pagination.detect import _Detection
from mockserver.behaviours.pagination.envelope import _Envelope
from mockserver.behaviours.pagination.model import (
    PageError,
    PageStyle,
    PageWindow,
    _to_int,
    decode_cursor,
    encode_cursor,
)
from mockserver.contract.model import Operation
from mockserver.http import Headers, MockRequest, Rejection
from mockserver.validation import RequestData


class Pagination(_Detection, _Envelope):
    """Detects paging styles (cached per operation) and paginates collections."""

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
