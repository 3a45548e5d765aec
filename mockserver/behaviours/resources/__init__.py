"""Seeded, mutable datasets behind the contract's collections.

A *collection* is a GET operation whose success answer is a list of items, bare
(``[...]``) or inside a wrapper object (``{"data": [...], "meta": {...}}``). Behind each
one sits a dataset: ``collection_size`` items made by the synthesiser (after the items
of the contract's own example, so documented ids such as ``ALHR`` exist), each with a
unique, deterministic, schema-valid id. Item operations (``GET/PUT/PATCH/DELETE
/things/{id}``) read and change that dataset, ``POST /things`` adds to it, and unknown ids
answer 404 like the real API.

Collections under templated paths (``/users/{username}/repos``) hold one dataset per
*scope*, the values of those path parameters, each seeded differently.

The seeded base is recomputed per process (it is deterministic) and cached; changes
(create/replace/update/delete) live in the ``StateStore`` under ``res:`` keys as JSON, so
several workers sharing a Redis store see the same data.

The modules, each depending only on those before it:

- ``shapes``: whether an answer is a list and where its items are; schema helpers, the
  names that recognise envelopes, path templates.
- ``model``: the public values (``Collection``, ``ItemRoute``, ``Target``, ``Scope``).
- ``ids``: unique, deterministic, schema-valid ids for a collection's items.
- ``catalogue``: which operations list, create and address the items of which collection.
- ``seeding``: the seeded base of each dataset, per scope.
- ``datasets``: ``Resources``, the live datasets (reads, changes, item answers).
"""

from __future__ import annotations

import logging

from mockserver.behaviours.resources.datasets import Resources, merge_patch
from mockserver.behaviours.resources.model import (
    Collection,
    ItemFactory,
    ItemRoute,
    Scope,
    Target,
)
from mockserver.behaviours.resources.seeding import DISTINCT_FIELDS
from mockserver.behaviours.resources.shapes import (
    ENVELOPE_KEYS,
    ITEM_WRAPPER_NAMES,
    PAGING_PARAMS,
    TOTAL_KEYS,
    WRAPPER_NAMES,
    ListShape,
    array_items,
    list_shape,
    match_template,
    properties,
    required,
    success_media,
    success_schema,
)

log = logging.getLogger("mockserver.resources")

__all__ = [
    "DISTINCT_FIELDS",
    "ENVELOPE_KEYS",
    "ITEM_WRAPPER_NAMES",
    "PAGING_PARAMS",
    "TOTAL_KEYS",
    "WRAPPER_NAMES",
    "Collection",
    "ItemFactory",
    "ItemRoute",
    "ListShape",
    "Resources",
    "Scope",
    "Target",
    "array_items",
    "list_shape",
    "match_template",
    "merge_patch",
    "properties",
    "required",
    "success_media",
    "success_schema",
]
