"""Shared state: tokens, codes, counters, dataset changes, scenarios."""

from __future__ import annotations

from mockserver.state.base import StateStore, StateUnavailable
from mockserver.state.memory import MemoryStore

__all__ = ["MemoryStore", "StateStore", "StateUnavailable", "open_store"]


def open_store(url: str | None) -> StateStore:
    """The store for ``--state``: None or ``memory://`` is in-process, ``redis://...``,
    ``rediss://...`` or ``unix://...`` is Redis (checked once: ``StateUnavailable`` names
    the URL and the reason when it does not answer)."""
    if url is None or url in ("memory", "memory://"):
        return MemoryStore()
    from mockserver.state.redis import RedisStore

    return RedisStore.connect(url)
