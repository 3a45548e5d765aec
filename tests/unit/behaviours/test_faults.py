"""Scenarios and fault injection: config, admin API shape, precedence, Prefer, concurrency."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from mockserver.behaviours.faults import FaultAction, Faults, Scenario, parse_prefer_faults
from mockserver.errors import ConfigError
from mockserver.http import Headers, MockRequest
from mockserver.state.memory import MemoryStore

OP = "GET /v1/reference-data/locations"
OTHER = "POST /v1/shopping/flight-offers"


def request(prefer: str | None = None) -> MockRequest:
    headers = {"Prefer": prefer} if prefer else None
    return MockRequest.from_url("GET", "http://mock/v1/reference-data/locations", headers=headers)


def faults(config: dict[str, dict[str, Any]] | None = None) -> Faults:
    return Faults(config or {}, MemoryStore())


def statuses(f: Faults, op: str, n: int) -> list[int | None]:
    out = []
    for _ in range(n):
        action = f.apply(op, request())
        out.append(action.status if action else None)
    return out


# -- config faults -------------------------------------------------------------------------


def test_nothing_configured_nothing_applied() -> None:
    assert faults().apply(OP, request()) is None
    assert faults().list() == []


def test_config_fault_with_times_and_delay() -> None:
    f = faults({OP: {"status": 503, "times": 2, "delay_ms": 100}})
    action = f.apply(OP, request())
    assert action == FaultAction(status=503, delay=0.1, scenario_id=f"config:{OP}")
    assert f.apply(OTHER, request()) is None
    assert statuses(f, OP, 3) == [503, None, None]
    # Used up: no longer listed; reset brings it back with a fresh count
    assert f.list() == []
    f.reset()
    assert statuses(f, OP, 3) == [503, 503, None]


def test_config_star_means_every_operation() -> None:
    f = faults({"*": {"delay_ms": 250}})
    for op in (OP, OTHER):
        action = f.apply(op, request())
        assert action is not None
        assert (action.status, action.delay, action.scenario_id) == (None, 0.25, "config:*")
    [listed] = f.list()
    assert listed.operation is None


@pytest.mark.parametrize(
    ("config", "location"),
    [
        ({OP: {"status": "503"}}, f"/faults/{OP}/status"),
        ({OP: {"statsu": 503}}, f"/faults/{OP}/statsu"),
        ({OP: {"status": 503, "operation": OTHER}}, f"/faults/{OP}/operation"),
        ({"nonsense": {"status": 503}}, "/faults/nonsense/operation"),
        ({OP: ["status", 503]}, f"/faults/{OP}"),
    ],
)
def test_invalid_config_names_the_key(config: dict[str, Any], location: str) -> None:
    with pytest.raises(ConfigError) as info:
        faults(config)
    assert info.value.file == "config"
    assert info.value.location == location


# -- add / remove / list -------------------------------------------------------------------


def test_add_list_remove() -> None:
    f = faults({OTHER: {"status": 500}})
    first = f.add(Scenario(operation=OP, status=429, times=1))
    second = f.add(Scenario(status=503, id="outage"))
    assert first.id
    assert second.id == "outage"
    assert [s.id for s in f.list()] == [f"config:{OTHER}", first.id, "outage"]

    assert f.remove("outage") == 1
    assert f.remove("outage") == 0
    assert f.remove("no-such-id") == 0
    assert [s.id for s in f.list()] == [f"config:{OTHER}", first.id]

    # Removing everything takes the config fault too; reset brings only that back
    assert f.remove() == 2
    assert f.list() == []
    assert f.apply(OTHER, request()) is None
    f.add(Scenario(status=418))
    f.reset()
    assert [s.id for s in f.list()] == [f"config:{OTHER}"]


def test_add_with_an_existing_id_replaces_it() -> None:
    f = faults({OP: {"status": 500}})
    f.add(Scenario(operation=OP, status=503, id="x"))
    f.add(Scenario(operation=OP, status=504, id="x"))
    assert statuses(f, OP, 1) == [504]
    assert [s.id for s in f.list()] == [f"config:{OP}", "x"]
    # Even a config fault can be replaced by id, until reset
    f.add(Scenario(operation=OP, status=502, id=f"config:{OP}"))
    assert [(s.id, s.status) for s in f.list()] == [("x", 504), (f"config:{OP}", 502)]
    f.reset()
    assert [(s.id, s.status) for s in f.list()] == [(f"config:{OP}", 500)]


def test_add_does_not_mutate_the_callers_scenario_and_validates_it() -> None:
    mine = Scenario(operation="get /v1/x", status=503, headers={"X-Fault": "yes"})
    added = faults().add(mine)
    assert mine.id == ""
    assert added.operation == "GET /v1/x"
    with pytest.raises(ConfigError) as info:
        faults().add(Scenario(status=99))
    assert info.value.location == "/status"


def test_scenarios_are_shared_through_the_store() -> None:
    # Given two workers sharing one store
    store = MemoryStore()
    a, b = Faults({}, store), Faults({}, store)
    assert b.apply(OP, request()) is None  # b has cached "nothing"
    # When a scenario is added through a
    added = a.add(Scenario(operation=OP, status=503, times=2))
    # Then b applies it, and both count down the same budget
    assert statuses(b, OP, 1) == [503]
    assert statuses(a, OP, 2) == [503, None]
    assert b.list() == []
    # And a removal through b is seen by a
    a.add(Scenario(status=500, id="all"))
    assert b.remove("all") == 1
    assert a.apply(OTHER, request()) is None
    assert added.id not in [s.id for s in a.list()]


# -- precedence ----------------------------------------------------------------------------


def test_operation_specific_beats_every_operation() -> None:
    f = faults()
    f.add(Scenario(operation=OP, status=429))
    f.add(Scenario(status=503))  # more recent, but for every operation
    assert statuses(f, OP, 1) == [429]
    assert statuses(f, OTHER, 1) == [503]


def test_config_operation_fault_beats_an_added_every_operation_one() -> None:
    f = faults({OP: {"status": 500}})
    f.add(Scenario(status=503))
    assert statuses(f, OP, 1) == [500]


def test_most_recently_added_wins_and_a_used_up_one_falls_through() -> None:
    f = faults({OP: {"status": 500}})
    f.add(Scenario(operation=OP, status=502))
    f.add(Scenario(operation=OP, status=429, times=2))
    assert statuses(f, OP, 4) == [429, 429, 502, 502]
    f.remove(f.list()[-1].id)
    assert statuses(f, OP, 1) == [500]


# -- explicit answers and drop -------------------------------------------------------------


def test_explicit_body_headers_and_drop() -> None:
    f = faults()
    f.add(
        Scenario(
            operation=OP,
            status=503,
            body={"message": "down"},
            headers={"Retry-After": "5"},
            id="down",
        )
    )
    action = f.apply(OP, request())
    assert action == FaultAction(
        status=503, body={"message": "down"}, headers={"Retry-After": "5"}, scenario_id="down"
    )
    f.add(Scenario(drop=True, id="reset"))
    dropped = f.apply(OTHER, request())
    assert dropped is not None
    assert (dropped.drop, dropped.status) == (True, None)


# -- Prefer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefer", "expected"),
    [
        ("delay=250", (250, False)),
        ("delay=999999", (60000, False)),
        ("fault=drop", (0, True)),
        ('fault="drop", delay=10', (10, True)),
        ("code=503", (0, False)),
        ("delay=abc; fault=reset", (0, False)),
        ("respond-async, delay=5", (5, False)),
    ],
)
def test_parse_prefer_faults(prefer: str, expected: tuple[int, bool]) -> None:
    assert parse_prefer_faults(Headers({"Prefer": prefer})) == expected


def test_prefer_delay_and_drop() -> None:
    f = faults()
    assert f.apply(OP, request("code=503")) is None
    assert f.apply(OP, request("delay=250")) == FaultAction(delay=0.25, scenario_id="prefer")
    assert f.apply(OP, request("fault=drop")) == FaultAction(drop=True, scenario_id="prefer")


def test_prefer_delay_combines_with_a_scenario_delay_as_the_larger() -> None:
    f = faults({OP: {"status": 503, "delay_ms": 100}})
    slower = f.apply(OP, request("delay=400"))
    faster = f.apply(OP, request("delay=50"))
    dropped = f.apply(OP, request("fault=drop"))
    assert slower is not None
    assert faster is not None
    assert dropped is not None
    assert (slower.status, slower.delay) == (503, 0.4)
    assert faster.delay == 0.1
    assert (dropped.status, dropped.drop) == (503, True)


# -- scenario JSON -------------------------------------------------------------------------


def test_from_json_and_back() -> None:
    data = {
        "operation": "GET /v1/reference-data/locations",
        "status": 429,
        "times": 1,
        "delay_ms": 0,
    }
    scenario = Scenario.from_json(data, "POST /__mockserver/scenario")
    assert scenario == Scenario(operation=OP, status=429, times=1)
    assert Scenario.from_json(scenario.to_json(), "x") == scenario
    assert Scenario.from_json({"operation": "*", "delay_ms": 12.0}, "x") == Scenario(delay_ms=12)


@pytest.mark.parametrize(
    ("data", "location"),
    [
        ({"statsu": 429}, "/statsu"),
        ({"status": "429"}, "/status"),
        ({"status": True}, "/status"),
        ({"status": 99}, "/status"),
        ({"status": 600}, "/status"),
        ({"status": 429, "times": 0}, "/times"),
        ({"status": 429, "times": 1.5}, "/times"),
        ({"delay_ms": -1}, "/delay_ms"),
        ({"delay_ms": 60001}, "/delay_ms"),
        ({"delay_ms": "100"}, "/delay_ms"),
        ({"drop": "yes"}, "/drop"),
        ({"status": 429, "headers": ["X-A"]}, "/headers"),
        ({"status": 429, "headers": {"X-A": {"nested": 1}}}, "/headers/X-A"),
        ({"body": {"a": 1}}, "/body"),
        ({"status": 429, "operation": "locations"}, "/operation"),
        ({"status": 429, "operation": 5}, "/operation"),
        ({"status": 429, "id": 5}, "/id"),
        ({}, ""),
        ({"operation": OP, "times": 3}, ""),
        ([429], ""),
        ("429", ""),
    ],
)
def test_invalid_scenario_json_names_the_key(data: Any, location: str) -> None:
    with pytest.raises(ConfigError) as info:
        Scenario.from_json(data, "POST /__mockserver/scenario")
    assert info.value.file == "POST /__mockserver/scenario"
    assert info.value.location == location
    assert info.value.one_line().startswith("POST /__mockserver/scenario")


def test_unknown_key_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known keys: operation, status"):
        Scenario.from_json({"code": 429}, "req")


# -- concurrency ---------------------------------------------------------------------------


def test_times_is_exact_under_concurrency() -> None:
    # Given a scenario for 7 requests, behind which another scenario waits
    f = faults({OP: {"status": 500}})
    f.add(Scenario(operation=OP, status=429, times=7))
    results: list[int | None] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def worker() -> None:
        start.wait()
        mine = statuses(f, OP, 5)
        with lock:
            results.extend(mine)

    # When 20 threads send 5 requests each
    pool = [threading.Thread(target=worker) for _ in range(20)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    # Then exactly 7 got the scenario and the rest fell through to the config fault
    assert len(results) == 100
    assert results.count(429) == 7
    assert results.count(500) == 93
