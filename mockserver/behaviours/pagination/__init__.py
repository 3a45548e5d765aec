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

The modules, each depending only on those before it:

- ``names``: the parameter names, envelope keys and headers pagination recognises.
- ``model``: the value types (``PageStyle``, ``PageError``, ``PageWindow``) and the
  opaque cursor (``encode_cursor``/``decode_cursor``).
- ``base``: the config and caches the ``Pagination`` mixins share.
- ``detect``: style detection and page-size bounds.
- ``envelope``: link URLs, the ``Link`` and total headers, envelope fields.
- ``paging``: ``Pagination``, which computes the page and answers it.
"""

from __future__ import annotations

from mockserver.behaviours.pagination.model import (
    KINDS,
    Kind,
    PageError,
    PageStyle,
    PageWindow,
    decode_cursor,
    encode_cursor,
)
from mockserver.behaviours.pagination.names import CREDENTIAL_PARAMS
from mockserver.behaviours.pagination.paging import Pagination

__all__ = [
    "CREDENTIAL_PARAMS",
    "KINDS",
    "Kind",
    "PageError",
    "PageStyle",
    "PageWindow",
    "Pagination",
    "decode_cursor",
    "encode_cursor",
]
