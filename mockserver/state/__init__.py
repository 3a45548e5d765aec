"""Shared state: tokens, codes, counters, dataset changes, scenarios."""

from mockserver.state.base import StateStore
from mockserver.state.memory import MemoryStore

__all__ = ["MemoryStore", "StateStore"]
