"""The state a ``Pagination`` carries: the config and the per-operation caches of styles,
list shapes and compiled checks. ``Pagination`` is assembled from mixins over it (style
detection, links/headers/envelope filling, paging); the methods they call on each other
are declared here for the type checker."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from mockserver.behaviours.pagination.model import PageStyle
from mockserver.behaviours.resources import ListShape
from mockserver.config import PaginationConfig
from mockserver.contract.model import Operation


class _PaginationBase:
    """Config and caches shared by the ``Pagination`` mixins."""

    def __init__(self, config: PaginationConfig) -> None:
        self.config = config
        self._styles: dict[int, PageStyle | None] = {}
        self._shapes: dict[int, ListShape | None] = {}
        self._checks: dict[int, Any] = {}
        self._cursor_checks: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._pinned: list[Operation] = []

    if TYPE_CHECKING:

        def _link_declared(self, op: Operation) -> tuple[bool, bool]: ...
