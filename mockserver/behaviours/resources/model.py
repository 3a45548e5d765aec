"""The public values of the resource datasets: collections, item routes and targets.

A ``Collection`` is a list operation and what it lists, an ``ItemRoute`` how an item
operation addresses one of its items, a ``Target`` what one request addresses; with the
types of the item factory and of a collection's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mockserver.contract.model import Operation

ItemFactory = Callable[[Operation, Any, int], Any]
"""``(collection operation, item schema, index) -> item``: a deterministic synthesised item.

The item schema is converted (JSON Schema 2020-12, ``$ref`` kept, resolvable with
``operation.schemas.resolve``); the same index must always give the same item and
different indexes should give different items.
"""

Scope = Mapping[str, str]
"""Values of a collection's path parameters (``{"username": "octocat"}``); ``{}`` if none."""


@dataclass(frozen=True, slots=True, eq=False)
class Collection:
    """A list operation and what it lists."""

    key: str  # the list operation's full path template, e.g. /users/{username}/repos
    operation: Operation  # the GET that lists it
    item_schema: Any  # converted item schema ($ref kept): validate items against it
    wrapper: str | None  # the array property of the envelope; None for a bare array
    id_field: str | None  # the item property holding its id (None: items have no id)
    scope_params: tuple[str, ...]  # path parameters of ``key``
    resource: str  # singular resource name, e.g. "location"
    properties: dict[str, Any] = field(default_factory=dict)
    required: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True, eq=False)
class ItemRoute:
    """How an item operation addresses one item of a collection."""

    operation: Operation
    collection: Collection
    param: str  # path parameter holding the id value
    field: str  # item property it is compared with (usually the collection's id field)
    scope_map: tuple[tuple[str, str], ...]  # (collection scope param, this op's param)
    wrapper: str | None  # property wrapping the item in the answer ({"data": item})
    # The answer's item schema is the collection's item schema. When it is not (a richer
    # /users/{username} under a /users list), the item is merged over a synthesised answer.
    exact: bool = True


@dataclass(frozen=True, slots=True)
class Target:
    """What a request addresses: a list, the create endpoint, or one item."""

    kind: Literal["list", "create", "item"]
    collection: Collection
    scope: dict[str, str]
    route: ItemRoute | None = None
    value: str | None = None  # the id value from the path (kind "item")
