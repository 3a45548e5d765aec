"""Rate limiting: fixed windows counted in the ``StateStore``, answered the way real APIs do.

Every request to a limited operation is counted against each rule that applies to it: the
global rule (``rate_limit.requests`` per ``rate_limit.per_seconds``) and the operation's own
rule (``rate_limit.operations["GET /v1/x"]``). Windows are fixed and aligned to the clock
(``floor(now / per_seconds)``), so every worker sharing a store agrees on them, and counts
use the store's atomic ``incr``: with N concurrent requests against a limit L in one window
exactly L are allowed, in one process (``MemoryStore``) or across hosts (``RedisStore``).

Answers carry three families of headers so every kind of client finds what it looks for:

- IETF ``RateLimit-Policy`` and ``RateLimit``, in the syntax of
  draft-ietf-httpapi-ratelimit-headers-07 (June 2023), the last revision with the
  ``limit=, remaining=, reset=`` dictionary that most clients and gateways parse
  (draft-08 moved to ``"name";r=;t=`` items, which few clients read yet);
- GitHub's ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset`` (epoch seconds), ``-Used`` and
  ``-Resource``;
- ``Retry-After`` (RFC 9110, delay in whole seconds) on a denial.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from mockserver.config import RateLimitConfig, RateLimitRule
from mockserver.errors import ConfigError
from mockserver.http import Headers, Rejection
from mockserver.state.base import StateStore

# Epoch seconds; injected so tests (and the pytest plugin) can drive time.
Clock = Callable[[], float]

PREFIX = "rl:"
GLOBAL_POLICY = "global"
# Amadeus' error code for "too many requests"; GitHub-style renderers ignore it.
RATE_LIMITED_CODE = 38194


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The outcome of counting one request against the rules of its operation.

    ``reset`` is the epoch second at which the deciding rule's window ends; ``policy`` names
    that rule: ``"global"`` or the operation key (``"GET /v1/x"``).
    """

    allowed: bool
    limit: int
    remaining: int
    used: int
    reset: float
    window: float
    policy: str

    def retry_after(self, now: float) -> int:
        """Whole seconds until a retry can succeed: >= 1 when denied, 0 when allowed."""
        if self.allowed:
            return 0
        return max(1, math.ceil(self.reset - now))


@dataclass(frozen=True, slots=True)
class _Slot:
    """One rule's counter for one client in the current window."""

    policy: str
    limit: int
    window: float
    reset: float
    key: str


class RateLimiter:
    """Counts requests per client and operation and decides allowed or denied.

    **Several rules, one request.** A request is denied when any applicable rule is
    exhausted, and a denied request must not use up another rule's budget. The store offers
    ``incr`` but no decrement, so the limiter first *peeks* at every counter (``get``) and
    denies without counting anything when one is already exhausted; only then does it
    ``incr`` each counter in turn. Sequentially this is exact: no denied request is ever
    counted. The remaining gap is a race on the last unit of a later rule (two requests
    both peek ``L-1``, both count the earlier rule, one then loses the later rule), which
    costs the earlier rule one unit. Counters are therefore taken **shortest window first**
    (ties: the global rule first): a unit lost there returns soonest, while the longer,
    usually scarcer operation budget (``3 per 60 s``) is never spent by a request that ends
    up denied. Over-admission is impossible: each rule admits only ``incr`` results <= its
    limit.
    """

    def __init__(
        self, config: RateLimitConfig, store: StateStore, clock: Clock = time.time
    ) -> None:
        if not 400 <= config.status <= 499:
            raise ConfigError(
                "config",
                "/rate_limit/status",
                f"a rate-limit answer must be a 4xx status (429, or 403 like GitHub), "
                f"got {config.status}",
            )
        if config.by not in ("client", "ip", "global"):
            raise ConfigError("config", "/rate_limit/by", "'by' must be one of: client, ip, global")
        rules = [("/rate_limit", config.requests, config.per_seconds)] + [
            (f"/rate_limit/operations/{op}", rule.requests, rule.per_seconds)
            for op, rule in config.operations.items()
        ]
        for where, requests, per_seconds in rules:
            if requests is not None and requests < 0:
                raise ConfigError("config", f"{where}/requests", "must not be negative")
            if per_seconds <= 0:
                raise ConfigError(
                    "config", f"{where}/per_seconds", f"must be positive, got {per_seconds}"
                )
        self.config = config
        self.store = store
        self.clock = clock

    # -- public API ---------------------------------------------------------------------

    def limited(self, operation_key: str) -> bool:
        """Whether any rule applies to ``operation_key``."""
        return self.config.requests is not None or operation_key in self.config.operations

    def check(self, operation_key: str, identity: str, remote_addr: str) -> RateDecision | None:
        """Count this request and decide; None when no rule applies to the operation.

        ``identity`` is the client the caller recognised (the token's client id or the API
        key); with ``by: client`` an empty identity falls back to ``remote_addr``.
        """
        now = self.clock()
        slots = self._slots(operation_key, identity, remote_addr, now)
        if not slots:
            return None
        counts = [self._peek(slot) for slot in slots]
        exhausted = [(slot, n) for slot, n in zip(slots, counts, strict=True) if n >= slot.limit]
        if exhausted:
            return self._denied(exhausted)
        counted: list[tuple[_Slot, int]] = []
        for slot in slots:
            # Created anywhere in its window, the key still outlives the window's end.
            n = self.store.incr(slot.key, slot.window + 1.0)
            if n > slot.limit:
                return self._denied([(slot, n)])
            counted.append((slot, n))
        return self._most_restrictive(counted)

    def status(self, operation_key: str, identity: str, remote_addr: str) -> RateDecision | None:
        """The current state without counting (GitHub's ``GET /rate_limit``).

        ``allowed`` says whether the next request would be allowed; None when no rule
        applies to the operation. An ``operation_key`` no rule names (``""``) reports the
        global rule alone: GitHub's ``resources.core``.
        """
        slots = self._slots(operation_key, identity, remote_addr, self.clock())
        if not slots:
            return None
        counts = [(slot, self._peek(slot)) for slot in slots]
        exhausted = [(slot, n) for slot, n in counts if n >= slot.limit]
        if exhausted:
            return self._denied(exhausted)
        return self._most_restrictive(counts)

    def headers(self, decision: RateDecision, now: float | None = None) -> Headers:
        """Rate-limit headers for every answer of a limited operation, allowed or not.

        A denial also gets ``Retry-After``.
        """
        now = self.clock() if now is None else now
        until_reset = max(0, math.ceil(decision.reset - now))
        h = Headers()
        # draft-ietf-httpapi-ratelimit-headers-07: RateLimit-Policy is the quota and its
        # window (an integer number of seconds, so sub-second windows round up); RateLimit
        # the current limit, remaining quota and delta-seconds until it resets.
        h.add("RateLimit-Policy", f"{decision.limit};w={max(1, math.ceil(decision.window))}")
        h.add(
            "RateLimit",
            f"limit={decision.limit}, remaining={decision.remaining}, reset={until_reset}",
        )
        # GitHub REST API: X-RateLimit-Reset is the window end in UTC epoch seconds.
        h.add("X-RateLimit-Limit", str(decision.limit))
        h.add("X-RateLimit-Remaining", str(decision.remaining))
        h.add("X-RateLimit-Reset", str(math.ceil(decision.reset)))
        h.add("X-RateLimit-Used", str(decision.used))
        h.add("X-RateLimit-Resource", "core")
        if not decision.allowed:
            h.add("Retry-After", str(decision.retry_after(now)))
        return h

    def rejection(self, decision: RateDecision) -> Rejection:
        """The "no" for a denied request, rendered by the pipeline in the contract's shape."""
        now = self.clock()
        retry = decision.retry_after(now)
        return Rejection(
            status=self.config.status,
            title="Too many requests",
            detail=(
                f"rate limit of {decision.limit} requests per {_seconds(decision.window)} "
                f"exceeded ({decision.policy}); retry in {retry} s"
            ),
            headers=self.headers(decision, now),
            code=RATE_LIMITED_CODE,
            error="rate_limited",
        )

    def reset(self) -> None:
        """Forget every count (``POST /__mockserver/reset``)."""
        self.store.clear(PREFIX)

    # -- internals ----------------------------------------------------------------------

    def _who(self, identity: str, remote_addr: str) -> str:
        if self.config.by == "global":
            return "*"
        if self.config.by == "ip":
            return f"ip={remote_addr}"
        return f"client={identity}" if identity else f"ip={remote_addr}"

    def _rules(self, operation_key: str) -> list[tuple[str, RateLimitRule]]:
        rules: list[tuple[str, RateLimitRule]] = []
        if self.config.requests is not None:
            rules.append(
                (GLOBAL_POLICY, RateLimitRule(self.config.requests, self.config.per_seconds))
            )
        op_rule = self.config.operations.get(operation_key)
        if op_rule is not None:
            rules.append((operation_key, op_rule))
        # Shortest window first, global first on a tie: see the class docstring. The sort
        # is stable and the global rule is appended first.
        rules.sort(key=lambda item: item[1].per_seconds)
        return rules

    def _slots(
        self, operation_key: str, identity: str, remote_addr: str, now: float
    ) -> list[_Slot]:
        rules = self._rules(operation_key)
        if not rules:
            return []
        # Hashed so identities (API keys) never show in key listings, and so a ':' in an
        # identity cannot make two keys collide.
        who = hashlib.sha256(self._who(identity, remote_addr).encode()).hexdigest()[:24]
        slots = []
        for policy, rule in rules:
            window = rule.per_seconds
            index = math.floor(now / window)
            slots.append(
                _Slot(
                    policy=policy,
                    limit=rule.requests,
                    window=window,
                    reset=(index + 1) * window,
                    # policy first: it may contain ':'; the two fixed-shape parts after it
                    # keep keys unambiguous.
                    key=f"{PREFIX}{policy}:{window:g}:{index}:{who}",
                )
            )
        return slots

    def _peek(self, slot: _Slot) -> int:
        raw = self.store.get(slot.key)
        return int(raw) if raw else 0

    @staticmethod
    def _denied(exhausted: list[tuple[_Slot, int]]) -> RateDecision:
        # The request succeeds again only once every exhausted rule has reset: report the
        # one that resets last.
        slot, _ = max(exhausted, key=lambda item: item[0].reset)
        return RateDecision(
            allowed=False,
            limit=slot.limit,
            remaining=0,
            used=slot.limit,
            reset=slot.reset,
            window=slot.window,
            policy=slot.policy,
        )

    @staticmethod
    def _most_restrictive(counted: list[tuple[_Slot, int]]) -> RateDecision:
        # Fewest requests left wins; on a tie the window that ends last.
        slot, n = min(counted, key=lambda item: (item[0].limit - item[1], -item[0].reset))
        return RateDecision(
            allowed=True,
            limit=slot.limit,
            remaining=max(0, slot.limit - n),
            used=min(n, slot.limit),
            reset=slot.reset,
            window=slot.window,
            policy=slot.policy,
        )


def _seconds(window: float) -> str:
    return f"{window:g} s"
