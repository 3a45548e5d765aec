"""The traffic journal: every exchange with its verdict, capped in memory.

Recent exchanges live in a bounded ring (``journal_size``); coverage counters per
operation are kept for the whole run (they are bounded by the number of operations, not
by traffic), so reports stay right however long the mock runs.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from mockserver.failures import Failure, Severity

SECRET_QUERY_KEYS = frozenset(
    {
        "access_token",
        "api_key",
        "apikey",
        "api-key",
        "client_secret",
        "code",
        "code_verifier",
        "id_token",
        "key",
        "password",
        "refresh_token",
        "secret",
        "token",
    }
)


@functools.lru_cache(maxsize=4096)  # every request journals its query: clients repeat them
def scrub_query(query: str) -> str:
    """``query`` with the values of credential parameters replaced by ``***``."""
    if not query or not any(
        k in query.lower() for k in ("token", "key", "secret", "code", "password")
    ):
        return query
    parts = []
    for pair in query.split("&"):
        name, sep, _ = pair.partition("=")
        if sep and unquote_plus(name).lower() in SECRET_QUERY_KEYS:
            parts.append(f"{name}=***")
        else:
            parts.append(pair)
    return "&".join(parts)


@dataclass(slots=True)
class Exchange:
    """One request and its answer, with what was wrong on either side."""

    method: str
    path: str
    query: str
    status: int
    operation: str | None
    source: str  # route, validation, example, synthesis, behaviour, cassette, fault
    client: str = ""
    started: float = field(default_factory=time.time)
    duration_ms: float = 0.0
    request_failures: list[Failure] = field(default_factory=list)
    response_failures: list[Failure] = field(default_factory=list)
    parameters: list[str] = field(default_factory=list)
    id: int = 0

    def __post_init__(self) -> None:
        # The journal feeds reports and the live page: never keep credentials from the URL.
        self.query = scrub_query(self.query)

    @property
    def verdict(self) -> str:
        """``ok``, ``request-violation``, ``response-violation`` or ``warning``."""
        if any(f.severity is Severity.ERROR for f in self.request_failures):
            return "request-violation"
        if any(f.severity is Severity.ERROR for f in self.response_failures):
            return "response-violation"
        if self.request_failures or self.response_failures:
            return "warning"
        return "ok"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by ``GET /__mockserver/journal`` and reports."""
        return {
            "id": self.id,
            "started": self.started,
            "duration_ms": round(self.duration_ms, 3),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "operation": self.operation,
            "source": self.source,
            "client": self.client,
            "verdict": self.verdict,
            "parameters": self.parameters,
            "request_failures": [f.to_dict() for f in self.request_failures],
            "response_failures": [f.to_dict() for f in self.response_failures],
        }


@dataclass(slots=True)
class OperationStats:
    """Coverage counters of one operation over the whole run."""

    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    parameters: set[str] = field(default_factory=set)
    request_violations: int = 0
    response_violations: int = 0


class Journal:
    """Thread-safe, capped record of exchanges plus per-operation coverage."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity = max(1, capacity)
        self._entries: deque[Exchange] = deque(maxlen=self.capacity)
        self._stats: dict[str, OperationStats] = {}
        self._unmatched = 0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def record(self, exchange: Exchange) -> Exchange:
        """Add an exchange (the oldest falls out past the cap)."""
        with self._lock:
            exchange.id = next(self._ids)
            self._entries.append(exchange)
            if exchange.operation is None:
                self._unmatched += 1
            else:
                stats = self._stats.setdefault(exchange.operation, OperationStats())
                stats.calls += 1
                stats.statuses[exchange.status] += 1
                stats.parameters.update(exchange.parameters)
                verdict = exchange.verdict
                if verdict == "request-violation":
                    stats.request_violations += 1
                elif verdict == "response-violation":
                    stats.response_violations += 1
        return exchange

    def entries(self, since: int = 0, limit: int | None = None) -> list[Exchange]:
        """Recorded exchanges with ``id > since``, oldest first."""
        with self._lock:
            items = [e for e in self._entries if e.id > since]
        return items[-limit:] if limit else items

    def stats(self) -> dict[str, OperationStats]:
        """A snapshot of the per-operation counters."""
        with self._lock:
            return {
                k: OperationStats(
                    v.calls,
                    Counter(v.statuses),
                    set(v.parameters),
                    v.request_violations,
                    v.response_violations,
                )
                for k, v in self._stats.items()
            }

    @property
    def unmatched(self) -> int:
        """Requests that matched no operation."""
        return self._unmatched

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._stats.clear()
            self._unmatched = 0
