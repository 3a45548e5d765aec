"""The names pagination recognises: query parameters by role, envelope keys by meaning,
the containers that hold paging fields and links, paging headers, and the credential
parameters never copied into links."""

from __future__ import annotations

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
