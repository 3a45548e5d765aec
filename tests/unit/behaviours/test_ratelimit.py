"""Rate limiting: fixed windows, several rules, headers, concurrency. No sockets, fake clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from mockserver.behaviours.ratelimit import RateDecision, RateLimiter
from mockserver.config import RateLimitConfig, RateLimitRule
from mockserver.errors import ConfigError
from mockserver.http import Headers
from mockserver.state.memory import MemoryStore

OP = "GET /v1/reference-data/locations"
OTHER = "GET /v1/shopping/flight-offers"


@dataclass
class FakeClock:
    now: float = 1_000.5

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(clock: FakeClock, **config: object) -> RateLimiter:
    return RateLimiter(RateLimitConfig(**config), MemoryStore(clock=clock), clock)  # type: ignore[arg-type]


def hit(rl: RateLimiter, op: str = OP, identity: str = "app", ip: str = "10.0.0.1") -> RateDecision:
    decision = rl.check(op, identity, ip)
    assert decision is not None
    return decision


def parse_dict_header(value: str) -> dict[str, int]:
    out = {}
    for item in value.split(","):
        key, _, number = item.strip().partition("=")
        out[key] = int(number)
    return out


# -- windows -------------------------------------------------------------------------------


def test_no_rule_means_no_decision(clock: FakeClock) -> None:
    # Given only a per-operation rule
    rl = limiter(clock, operations={OP: RateLimitRule(1, 60)})
    # Then other operations are not limited, and nothing is counted for them
    assert rl.check(OTHER, "app", "10.0.0.1") is None
    assert rl.status(OTHER, "app", "10.0.0.1") is None
    assert not rl.limited(OTHER)
    assert rl.limited(OP)
    assert limiter(clock).check(OP, "app", "10.0.0.1") is None


def test_window_is_aligned_to_the_clock_and_resets(clock: FakeClock) -> None:
    # Given 3 requests per 60 s, starting 40.5 s into the window [960, 1020)
    rl = limiter(clock, requests=3, per_seconds=60)
    first = hit(rl)
    assert (first.allowed, first.limit, first.remaining, first.used) == (True, 3, 2, 1)
    assert first.reset == 1020.0
    assert first.window == 60.0
    assert first.policy == "global"
    assert [hit(rl).remaining for _ in range(2)] == [1, 0]

    # When the fourth arrives in the same window, it is denied until the window ends
    clock.now = 1019.9
    denied = hit(rl)
    assert not denied.allowed
    assert (denied.remaining, denied.used, denied.reset) == (0, 3, 1020.0)
    assert denied.retry_after(clock.now) == 1

    # Then at the boundary (0.1 s later) a fresh window starts
    clock.now = 1020.0
    fresh = hit(rl)
    assert fresh.allowed
    assert (fresh.remaining, fresh.reset) == (2, 1080.0)


def test_retry_after_is_whole_seconds_until_the_window_ends(clock: FakeClock) -> None:
    rl = limiter(clock, requests=0, per_seconds=60)
    denied = hit(rl)
    assert not denied.allowed
    assert denied.retry_after(1000.5) == 20  # ceil(1020 - 1000.5)
    assert denied.retry_after(1019.999) == 1
    assert denied.retry_after(1030.0) == 1  # never below one second when denied
    assert hit(limiter(clock, requests=1)).retry_after(clock.now) == 0


def test_counters_expire_from_the_store(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    rl = RateLimiter(RateLimitConfig(requests=5, per_seconds=10), store, clock)
    hit(rl)
    keys = store.keys("rl:")
    assert len(keys) == 1
    assert "app" not in keys[0]  # identities are hashed, never listed
    clock.advance(11.0)  # TTL = window + 1 s
    assert store.keys("rl:") == []


def test_reset_forgets_every_count(clock: FakeClock) -> None:
    rl = limiter(clock, requests=1, per_seconds=3600)
    assert hit(rl).allowed
    assert not hit(rl).allowed
    rl.reset()
    assert hit(rl).allowed


# -- several rules -------------------------------------------------------------------------


def test_denial_by_the_operation_rule_does_not_spend_the_global_budget(clock: FakeClock) -> None:
    # Given 5/s globally and 2/min for OP
    rl = limiter(clock, requests=5, per_seconds=1, operations={OP: RateLimitRule(2, 60)})
    # When OP is called 4 times in one second
    results = [hit(rl, OP) for _ in range(4)]
    # Then 2 pass, and the denials name the operation rule and its window
    assert [d.allowed for d in results] == [True, True, False, False]
    assert results[2].policy == OP
    assert results[2].reset == 1020.0
    # And the global budget only paid for the two allowed requests: 3 left for OTHER
    others = [hit(rl, OTHER) for _ in range(4)]
    assert [d.allowed for d in others] == [True, True, True, False]
    assert others[3].policy == "global"
    assert others[0].remaining == 2  # 5 - (2 OP + 1 OTHER)


def test_denial_by_the_global_rule_does_not_spend_the_operation_budget(clock: FakeClock) -> None:
    # Given 2/s globally and 5/min for OP
    rl = limiter(clock, requests=2, per_seconds=1, operations={OP: RateLimitRule(5, 60)})
    results = [hit(rl, OP) for _ in range(4)]
    assert [d.allowed for d in results] == [True, True, False, False]
    assert results[2].policy == "global"
    assert results[2].retry_after(clock.now) == 1
    # When the global window rolls over, OP has spent 2 of 5, not 4: 3 more pass
    clock.advance(1.0)
    assert [hit(rl, OP).allowed for _ in range(2)] == [True, True]
    clock.advance(1.0)
    last, over = hit(rl, OP), hit(rl, OP)
    assert last.allowed
    assert (last.policy, last.remaining) == (OP, 0)
    assert not over.allowed
    assert over.policy == OP


def test_the_most_restrictive_rule_is_reported(clock: FakeClock) -> None:
    rl = limiter(clock, requests=10, per_seconds=1, operations={OP: RateLimitRule(3, 60)})
    first = hit(rl, OP)
    assert (first.policy, first.limit, first.remaining) == (OP, 3, 2)
    # OTHER has only the global rule
    other = hit(rl, OTHER)
    assert (other.policy, other.limit, other.remaining) == ("global", 10, 8)


def test_when_both_rules_are_exhausted_the_later_reset_is_reported(clock: FakeClock) -> None:
    rl = limiter(clock, requests=1, per_seconds=1, operations={OP: RateLimitRule(1, 60)})
    assert hit(rl, OP).allowed
    denied = hit(rl, OP)
    assert not denied.allowed
    assert denied.policy == OP  # resets at 1020, the global one at 1001
    assert denied.retry_after(clock.now) == 20


def test_status_counts_nothing(clock: FakeClock) -> None:
    rl = limiter(clock, requests=2, per_seconds=60)
    for _ in range(5):
        status = rl.status(OP, "app", "10.0.0.1")
        assert status is not None
        assert (status.allowed, status.used, status.remaining) == (True, 0, 2)
    hit(rl)
    hit(rl)
    status = rl.status(OP, "app", "10.0.0.1")
    assert status is not None
    assert (status.allowed, status.used, status.remaining) == (False, 2, 0)


# -- who is counted ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("by", "same", "separate"),
    [
        # (identity, ip) pairs sharing a bucket with ("a", "1.1.1.1") / having their own
        ("client", [("a", "2.2.2.2")], [("b", "1.1.1.1"), ("", "1.1.1.1")]),
        ("ip", [("b", "1.1.1.1"), ("", "1.1.1.1")], [("a", "2.2.2.2")]),
        ("global", [("b", "2.2.2.2"), ("", "3.3.3.3")], []),
    ],
)
def test_by_modes(
    clock: FakeClock,
    by: str,
    same: list[tuple[str, str]],
    separate: list[tuple[str, str]],
) -> None:
    for identity, ip in same + separate:
        rl = limiter(clock, requests=1, per_seconds=60, by=by)
        # Given ("a", "1.1.1.1") used the single request of its bucket
        assert hit(rl, OP, "a", "1.1.1.1").allowed
        # Then a requester sharing the bucket is denied, one with its own is allowed
        assert hit(rl, OP, identity, ip).allowed is ((identity, ip) in separate)


def test_by_client_falls_back_to_the_remote_address(clock: FakeClock) -> None:
    rl = limiter(clock, requests=1, per_seconds=60, by="client")
    assert hit(rl, OP, "", "1.1.1.1").allowed
    assert not hit(rl, OP, "", "1.1.1.1").allowed
    assert hit(rl, OP, "", "2.2.2.2").allowed
    # A client named like an address does not share the address' bucket
    assert hit(rl, OP, "1.1.1.1", "9.9.9.9").allowed


# -- headers and the rejection -------------------------------------------------------------


def test_headers_on_an_allowed_answer(clock: FakeClock) -> None:
    rl = limiter(clock, requests=3, per_seconds=60)
    decision = hit(rl)
    h = rl.headers(decision)
    assert h.get("RateLimit-Policy") == "3;w=60"
    assert parse_dict_header(h.get("RateLimit") or "") == {
        "limit": 3,
        "remaining": 2,
        "reset": 20,  # ceil(1020 - 1000.5)
    }
    assert h.get("X-RateLimit-Limit") == "3"
    assert h.get("X-RateLimit-Remaining") == "2"
    assert h.get("X-RateLimit-Used") == "1"
    assert int(h.get("X-RateLimit-Reset") or 0) == 1020  # the window's end, epoch seconds
    assert h.get("X-RateLimit-Resource") == "core"
    assert "Retry-After" not in h


def test_headers_on_a_denial(clock: FakeClock) -> None:
    rl = limiter(clock, requests=1, per_seconds=60)
    hit(rl)
    clock.now = 1019.5
    decision = hit(rl)
    h = rl.headers(decision)
    assert int(h.get("Retry-After") or 0) == 1
    assert parse_dict_header(h.get("RateLimit") or "") == {"limit": 1, "remaining": 0, "reset": 1}
    assert h.get("X-RateLimit-Remaining") == "0"
    assert h.get("X-RateLimit-Used") == "1"
    assert h.get("X-RateLimit-Reset") == "1020"
    # An explicit "now" is honoured
    assert rl.headers(decision, now=1000.0).get("Retry-After") == "20"


def test_fractional_windows_round_up_in_headers(clock: FakeClock) -> None:
    clock.now = 100.25
    rl = limiter(clock, requests=1, per_seconds=0.5)
    decision = hit(rl)
    assert decision.reset == 100.5
    h = rl.headers(decision)
    assert h.get("RateLimit-Policy") == "1;w=1"
    assert h.get("X-RateLimit-Reset") == "101"


@pytest.mark.parametrize("status", [429, 403])
def test_rejection(clock: FakeClock, status: int) -> None:
    rl = limiter(clock, requests=1, per_seconds=60, status=status)
    hit(rl)
    rejection = rl.rejection(hit(rl))
    assert rejection.status == status
    assert rejection.title == "Too many requests"
    assert rejection.code == 38194
    assert rejection.error == "rate_limited"
    assert "20 s" in rejection.detail
    assert isinstance(rejection.headers, Headers)
    assert rejection.headers.get("Retry-After") == "20"
    assert rejection.headers.get("X-RateLimit-Remaining") == "0"


@pytest.mark.parametrize(
    ("config", "location"),
    [
        ({"status": 500}, "/rate_limit/status"),
        ({"by": "user"}, "/rate_limit/by"),
        ({"requests": 1, "per_seconds": 0}, "/rate_limit/per_seconds"),
        ({"requests": -1}, "/rate_limit/requests"),
        ({"operations": {OP: RateLimitRule(1, -5)}}, f"/rate_limit/operations/{OP}/per_seconds"),
    ],
)
def test_invalid_config(clock: FakeClock, config: dict[str, object], location: str) -> None:
    with pytest.raises(ConfigError) as info:
        limiter(clock, **config)
    assert info.value.location == location


# -- concurrency ---------------------------------------------------------------------------


def run_threads(rl: RateLimiter, op: str, threads: int, each: int) -> list[RateDecision]:
    results: list[RateDecision] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker() -> None:
        start.wait()
        mine = [hit(rl, op) for _ in range(each)]
        with lock:
            results.extend(mine)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return results


def test_exact_under_concurrency(clock: FakeClock) -> None:
    # Given a limit of 10 and 20 threads each sending 10 requests in one window
    rl = limiter(clock, requests=10, per_seconds=60)
    results = run_threads(rl, OP, threads=20, each=10)
    # Then exactly 10 of the 200 are allowed
    assert len(results) == 200
    assert sum(d.allowed for d in results) == 10
    assert sorted(d.remaining for d in results if d.allowed) == list(range(10))


def test_exact_under_concurrency_with_two_rules(clock: FakeClock) -> None:
    rl = limiter(clock, requests=10, per_seconds=60, operations={OP: RateLimitRule(5, 60)})
    results = run_threads(rl, OP, threads=20, each=10)
    assert sum(d.allowed for d in results) == 5
