"""Style detection: an operation's paging style from its query parameters (and the
answer's shape and ``Link`` header), with ``config.operations`` overrides and the page
size's default and bounds taken from the size parameter's schema."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from mockserver.behaviours.pagination.base import _PaginationBase
from mockserver.behaviours.pagination.model import KINDS, PageStyle, _to_int
from mockserver.behaviours.pagination.names import (
    _BEFORE_NAMES,
    _CONTAINERS,
    _ID_CURSORS,
    _LINK_CONTAINERS,
    _MORE_KEYS,
    _NEXT_CURSOR_KEYS,
    _OFFSET_NAMES,
    _OPAQUE_CURSORS,
    _PAGE_NAMES,
    _SIZE_NAMES,
    _URL_KEYS,
)
from mockserver.behaviours.resources import ListShape, list_shape, properties
from mockserver.contract.model import Operation
from mockserver.contract.schemas import SchemaSpace
from mockserver.params import schema_types


def _deref(space: SchemaSpace, node: Any) -> Any:
    return space.deref(space.convert(node, "request"), "request")


class _Detection(_PaginationBase):
    """Detects (and caches) each operation's ``PageStyle``."""

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
