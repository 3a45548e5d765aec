"""The ``StateStore`` protocol: the only way behaviours keep state.

Values are strings (callers JSON-encode); every write may carry a TTL so nothing lives
forever; ``take`` and ``incr`` are atomic, which is what makes "one authorization code,
one token" and "exactly N requests per window" hold under concurrency, in one process
(``MemoryStore``) or across many hosts (``RedisStore``).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from mockserver.errors import MockserverError


class StateUnavailable(MockserverError):
    """The shared state (Redis) cannot be reached: at start a clear error, while running a
    503 for the request (fail closed: a limit or a token is never waved through)."""


@runtime_checkable
class StateStore(Protocol):
    """Key-value state with expiry and atomic operations."""

    def get(self, key: str) -> str | None:
        """The value of ``key`` or None."""
        ...

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value``; ``ttl`` seconds later it is gone."""
        ...

    def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Store only when ``key`` is absent; True when stored (atomic)."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if absent)."""
        ...

    def take(self, key: str) -> str | None:
        """Get and delete in one atomic step: of many concurrent callers one gets it."""
        ...

    def incr(self, key: str, ttl: float) -> int:
        """Add one and return the new count; the key expires ``ttl`` after its creation."""
        ...

    def keys(self, prefix: str) -> list[str]:
        """Every live key starting with ``prefix``."""
        ...

    def clear(self, prefix: str = "") -> None:
        """Remove every key starting with ``prefix`` (all with ``""``)."""
        ...
