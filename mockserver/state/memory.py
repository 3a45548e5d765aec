"""In-process ``StateStore``: a dict under a lock, with lazy expiry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class MemoryStore:
    """The default store: fast, exact under threads, gone when the process ends."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._data: dict[str, tuple[str, float | None]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._writes = 0
        # Bumped by every change: equal versions, equal state (but for TTL expiry). Lets
        # the pipeline reuse work done for an identical request while nothing changed.
        self.version = 0

    def _live(self, key: str, now: float) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= now:
            del self._data[key]
            return None
        return value

    def _expiry(self, ttl: float | None, now: float) -> float | None:
        return None if ttl is None else now + ttl

    def _gc(self, now: float) -> None:
        # Amortised sweep so expired keys never accumulate without bound.
        self._writes += 1
        if self._writes % 1024:
            return
        dead = [k for k, (_, exp) in self._data.items() if exp is not None and exp <= now]
        for k in dead:
            del self._data[k]

    def get(self, key: str) -> str | None:
        """The value of ``key`` or None."""
        with self._lock:
            return self._live(key, self._clock())

    def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Store ``value`` for ``ttl`` seconds (forever with None)."""
        with self._lock:
            now = self._clock()
            self._data[key] = (value, self._expiry(ttl, now))
            self.version += 1
            self._gc(now)

    def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Store only when absent; True when stored."""
        with self._lock:
            now = self._clock()
            if self._live(key, now) is not None:
                return False
            self._data[key] = (value, self._expiry(ttl, now))
            self.version += 1
            self._gc(now)
            return True

    def delete(self, key: str) -> None:
        """Remove ``key``."""
        with self._lock:
            if self._data.pop(key, None) is not None:
                self.version += 1

    def take(self, key: str) -> str | None:
        """Atomic get-and-delete."""
        with self._lock:
            value = self._live(key, self._clock())
            if value is not None:
                del self._data[key]
                self.version += 1
            return value

    def incr(self, key: str, ttl: float) -> int:
        """Atomic increment; the expiry is set when the key is created."""
        with self._lock:
            self.version += 1
            now = self._clock()
            current = self._live(key, now)
            if current is None:
                self._data[key] = ("1", now + ttl)
                self._gc(now)
                return 1
            count = int(current) + 1
            self._data[key] = (str(count), self._data[key][1])
            return count

    def keys(self, prefix: str) -> list[str]:
        """Live keys with ``prefix``."""
        with self._lock:
            now = self._clock()
            return [k for k in list(self._data) if k.startswith(prefix) and self._live(k, now)]

    def clear(self, prefix: str = "") -> None:
        """Remove keys with ``prefix``."""
        with self._lock:
            self.version += 1
            if not prefix:
                self._data.clear()
                return
            for k in [k for k in self._data if k.startswith(prefix)]:
                del self._data[k]
