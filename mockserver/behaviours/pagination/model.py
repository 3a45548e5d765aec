"""Pagination's small value types: the style kinds, ``PageStyle`` (how an operation
pages), ``PageError`` (a request answered 400/404), ``PageWindow`` (one computed page),
the opaque offset cursor (``encode_cursor``/``decode_cursor``) and ``_to_int``."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any, Literal

from mockserver.http import Rejection

Kind = Literal["page", "offset", "pageoffset", "cursor", "link"]
KINDS: tuple[str, ...] = ("page", "offset", "pageoffset", "cursor", "link")


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
