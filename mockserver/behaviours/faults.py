"""Scenarios and fault injection: forced statuses, latency and dropped connections.

Faults come from three places:

- the config's ``faults:`` block (``{"GET /v1/x": {status: 503, times: 2}}``; ``"*"`` is
  every operation), present from the start and back after every reset;
- scenarios added at run time (``POST /__mockserver/scenario`` or the Python API);
- the request itself: ``Prefer: delay=250`` (milliseconds) and ``Prefer: fault=drop``.

Added scenarios live in the ``StateStore`` as JSON under ``fault:`` so every worker sharing
the store sees them; ``times`` is counted down with the store's atomic ``incr``, so exactly
``times`` requests get the fault however many arrive at once. Config scenarios stay in
memory (every worker reads the same config); only their removal and their counts are
stored.

Which scenario applies: one for the request's operation beats one for every operation;
among equals the most recently added wins (config scenarios count as the oldest). A
scenario whose ``times`` has run out drops out and the next one in line applies.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.errors import ConfigError
from mockserver.http import Headers, MockRequest
from mockserver.state.base import StateStore

log = logging.getLogger("mockserver")

PREFIX = "fault:"
_SCENARIO = f"{PREFIX}scenario:"  # + id -> {"seq": n, "scenario": {...}}
_USED = f"{PREFIX}used:"  # + id -> how many requests got it (incr)
_REMOVED = f"{PREFIX}removed:"  # + id -> a removed config scenario
_SEQ = f"{PREFIX}seq"  # order of additions (incr)
_VERSION = f"{PREFIX}version"  # random token, changed on every add/remove

MAX_DELAY_MS = 60_000
# ``incr`` needs a TTL; counters should outlive any test run or dev session.
_COUNTER_TTL = 10 * 365 * 86400.0
_OPERATION = re.compile(r"^[A-Za-z]+ /\S*$")
_KNOWN = ("operation", "status", "times", "delay_ms", "drop", "body", "headers", "id")


@dataclass(slots=True)
class Scenario:
    """A fault to inject: what ``POST /__mockserver/scenario`` accepts and ``faults:`` holds.

    With ``status`` the pipeline answers that status (with ``body`` when given, else the
    contract's response for it); ``headers`` are added to whatever is answered; ``drop``
    closes the connection without an answer; ``delay_ms`` waits first. ``times`` limits how
    many requests get it (None: until removed).
    """

    operation: str | None = None
    status: int | None = None
    times: int | None = None
    delay_ms: int = 0
    drop: bool = False
    body: Any = None
    headers: dict[str, str] | None = None
    id: str = ""

    @classmethod
    def from_json(cls, data: Any, where: str, pointer: str = "") -> Scenario:
        """Validate and build a scenario from JSON (or the config's YAML).

        Raises ``ConfigError(where, pointer + "/key", why)`` naming the offending key;
        ``where`` names the source (a config file, ``"POST /__mockserver/scenario"``).
        """
        if not isinstance(data, Mapping):
            raise ConfigError(
                where, pointer, f"a scenario must be a JSON object, got {type(data).__name__}"
            )
        for key in data:
            if key not in _KNOWN:
                raise ConfigError(
                    where,
                    f"{pointer}/{key}",
                    f"unknown key {key!r}; known keys: {', '.join(_KNOWN)}",
                )

        def at(key: str) -> str:
            return f"{pointer}/{key}"

        operation = data.get("operation")
        if operation is not None:
            if not isinstance(operation, str) or not (
                operation == "*" or _OPERATION.match(operation)
            ):
                raise ConfigError(
                    where,
                    at("operation"),
                    f"expected 'METHOD /path' such as 'GET /v1/items' (or '*'), got {operation!r}",
                )
            method, _, path = operation.partition(" ")
            operation = None if operation == "*" else f"{method.upper()} {path}"

        status = _optional_int(data, "status", where, at("status"))
        if status is not None and not 100 <= status <= 599:
            raise ConfigError(where, at("status"), f"must be an HTTP status 100..599, got {status}")

        times = _optional_int(data, "times", where, at("times"))
        if times is not None and times < 1:
            raise ConfigError(
                where, at("times"), f"must be at least 1 (omit it for 'until removed'), got {times}"
            )

        delay = data.get("delay_ms", 0)
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise ConfigError(where, at("delay_ms"), f"expected milliseconds, got {delay!r}")
        if not 0 <= delay <= MAX_DELAY_MS:
            raise ConfigError(
                where, at("delay_ms"), f"must be between 0 and {MAX_DELAY_MS}, got {delay}"
            )

        drop = data.get("drop", False)
        if not isinstance(drop, bool):
            raise ConfigError(where, at("drop"), f"expected true or false, got {drop!r}")

        headers = data.get("headers")
        if headers is not None:
            if not isinstance(headers, Mapping):
                raise ConfigError(where, at("headers"), "expected an object of header: value")
            for name, value in headers.items():
                if not isinstance(name, str) or not name or not _is_scalar(value):
                    raise ConfigError(
                        where,
                        f"{at('headers')}/{name}",
                        f"expected a header name and a string value, got {value!r}",
                    )
            headers = {name: _header_value(value) for name, value in headers.items()}

        body = data.get("body")
        if body is not None and status is None:
            raise ConfigError(where, at("body"), "a body needs a 'status' to answer with")

        sid = data.get("id", "")
        if not isinstance(sid, str):
            raise ConfigError(where, at("id"), f"expected a string, got {sid!r}")

        if status is None and not drop and not delay and not headers:
            raise ConfigError(
                where,
                pointer,
                "a scenario needs at least one of: status, delay_ms, drop, headers",
            )
        return cls(
            operation=operation,
            status=status,
            times=times,
            delay_ms=round(delay),
            drop=drop,
            body=body,
            headers=headers,
            id=sid,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form (``GET /__mockserver/scenario``); ``from_json`` reads it back."""
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "status": self.status,
            "times": self.times,
            "delay_ms": self.delay_ms,
            "drop": self.drop,
        }
        if self.body is not None:
            out["body"] = self.body
        if self.headers:
            out["headers"] = dict(self.headers)
        return out

    def matches(self, operation_key: str) -> bool:
        """Whether this scenario applies to ``operation_key`` (``"GET /v1/x"``)."""
        return self.operation is None or self.operation == operation_key


@dataclass(slots=True)
class FaultAction:
    """What the pipeline must do to this request.

    ``status``: answer it (``body`` when not None, else the contract's response for that
    status), None: answer normally; ``headers``: add them to the answer; ``delay``: seconds
    to wait before answering; ``drop``: close the connection without answering.
    ``scenario_id`` names the scenario, ``"prefer"`` when only ``Prefer`` asked.
    """

    status: int | None = None
    delay: float = 0.0
    drop: bool = False
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    scenario_id: str = ""


@dataclass(frozen=True, slots=True)
class _Active:
    """A live scenario and its place in the order of additions."""

    scenario: Scenario
    seq: int


class Faults:
    """The scenarios in force and their application to requests."""

    def __init__(self, config_faults: Mapping[str, Mapping[str, Any]], store: StateStore) -> None:
        self.store = store
        self._config: list[Scenario] = []
        for op, spec in config_faults.items():
            pointer = f"/faults/{op}"
            if isinstance(spec, Mapping) and "operation" in spec:
                raise ConfigError(
                    "config", f"{pointer}/operation", "the key of a config fault is its operation"
                )
            data = {**spec, "operation": op} if isinstance(spec, Mapping) else spec
            scenario = Scenario.from_json(data, "config", pointer)
            scenario.id = scenario.id or f"config:{scenario.operation or '*'}"
            self._config.append(scenario)
        self._lock = threading.Lock()
        # (version token, live scenarios): reloaded only when another add/remove happened.
        self._cache: tuple[str | None, tuple[_Active, ...]] | None = None

    # -- managing scenarios -------------------------------------------------------------

    def add(self, scenario: Scenario) -> Scenario:
        """Put ``scenario`` in force and return it with its id.

        An existing scenario with the same id (a config one too) is replaced. A scenario
        built in Python is validated like JSON (``ConfigError`` naming the key).
        """
        seq = self.store.incr(_SEQ, _COUNTER_TTL)
        added = Scenario.from_json(scenario.to_json(), "scenario")
        added.id = scenario.id or f"s{seq}-{uuid.uuid4().hex[:8]}"
        if any(s.id == added.id for s in self._config):
            self.store.set(_REMOVED + added.id, "1")
        else:
            self.store.delete(_REMOVED + added.id)
        self.store.delete(_USED + added.id)
        record = {"seq": seq, "scenario": added.to_json()}
        self.store.set(_SCENARIO + added.id, json.dumps(record))
        self._changed()
        return added

    def remove(self, scenario_id: str | None = None) -> int:
        """Remove one scenario, or all with None; returns how many were in force.

        Removed config scenarios come back on ``reset``.
        """
        live = self._live()
        targets = [a.scenario for a in live if scenario_id is None or a.scenario.id == scenario_id]
        for scenario in targets:
            self._drop(scenario.id)
        if targets:
            self._changed()
        return len(targets)

    def list(self) -> builtins.list[Scenario]:
        """The scenarios in force, oldest first (config ones first)."""
        return [a.scenario for a in self._live()]

    def reset(self) -> None:
        """Back to the config's faults: added scenarios and every count forgotten."""
        for prefix in (_SCENARIO, _USED, _REMOVED):
            self.store.clear(prefix)
        self._changed()

    # -- applying -----------------------------------------------------------------------

    def apply(self, operation_key: str, request: MockRequest) -> FaultAction | None:
        """The fault for this request, None when nothing applies.

        Counts the request against the chosen scenario's ``times``. A ``Prefer`` delay and a
        scenario's delay combine to the larger; ``Prefer: fault=drop`` drops regardless.
        """
        prefer_delay_ms, prefer_drop = parse_prefer_faults(request.headers)
        scenario = self._choose(operation_key)
        if scenario is None:
            if not prefer_delay_ms and not prefer_drop:
                return None
            return FaultAction(delay=prefer_delay_ms / 1000, drop=prefer_drop, scenario_id="prefer")
        return FaultAction(
            status=scenario.status,
            delay=max(scenario.delay_ms, prefer_delay_ms) / 1000,
            drop=scenario.drop or prefer_drop,
            body=scenario.body,
            headers=dict(scenario.headers or {}),
            scenario_id=scenario.id,
        )

    # -- internals ----------------------------------------------------------------------

    def _choose(self, operation_key: str) -> Scenario | None:
        candidates = [a for a in self._live() if a.scenario.matches(operation_key)]
        # Operation-specific before every-operation, then the most recently added.
        candidates.sort(key=lambda a: (a.scenario.operation is not None, a.seq), reverse=True)
        for active in candidates:
            scenario = active.scenario
            if scenario.times is None:
                return scenario
            used = self.store.incr(_USED + scenario.id, _COUNTER_TTL)
            if used == scenario.times:
                # The last one: take it out of the running for everybody.
                self._drop(scenario.id)
                self._changed()
            if used <= scenario.times:
                return scenario
        return None

    def _drop(self, scenario_id: str) -> None:
        if any(s.id == scenario_id for s in self._config):
            self.store.set(_REMOVED + scenario_id, "1")
        self.store.delete(_SCENARIO + scenario_id)

    def _changed(self) -> None:
        # A random token rather than a counter: after a store-wide clear a counter would
        # restart and could repeat a value some worker has cached.
        self.store.set(_VERSION, uuid.uuid4().hex)

    def _live(self) -> tuple[_Active, ...]:
        # Read the version before the data: a change during the load only causes one more
        # reload next time, never a stale cache.
        version = self.store.get(_VERSION)
        cache = self._cache
        if cache is not None and cache[0] == version:
            return cache[1]
        with self._lock:
            live = self._load()
            self._cache = (version, live)
        return live

    def _load(self) -> tuple[_Active, ...]:
        removed = {key[len(_REMOVED) :] for key in self.store.keys(_REMOVED)}
        live = [_Active(s, 0) for s in self._config if s.id not in removed]
        added: builtins.list[_Active] = []
        for key in self.store.keys(_SCENARIO):
            raw = self.store.get(key)
            if raw is None:
                continue
            try:
                record = json.loads(raw)
                scenario = Scenario.from_json(record["scenario"], "state store", key)
                added.append(_Active(scenario, int(record["seq"])))
            except (ValueError, KeyError, TypeError, ConfigError) as exc:
                # Written by another (older or newer) mockserver sharing the store: skip it
                # rather than fail every request.
                log.warning("ignoring unreadable scenario %s: %s", key, exc)
        added.sort(key=lambda a: a.seq)
        return (*live, *added)


def parse_prefer_faults(headers: Headers) -> tuple[int, bool]:
    """``(delay in ms, drop)`` from every ``Prefer`` header (``delay=250``, ``fault=drop``).

    The delay is capped at 60000 ms; other preferences (``code=``, ``example=``) are left to
    the responder.
    """
    delay_ms = 0
    drop = False
    for header in headers.get_all("Prefer"):
        for part in header.replace(";", ",").split(","):
            key, _, value = part.strip().partition("=")
            key, value = key.strip().lower(), value.strip().strip('"').lower()
            if key == "delay" and value.isdigit():
                delay_ms = max(delay_ms, min(int(value), MAX_DELAY_MS))
            elif key == "fault" and value == "drop":
                drop = True
    return delay_ms, drop


def _optional_int(data: Mapping[str, Any], key: str, where: str, pointer: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(where, pointer, f"expected an integer, got {value!r}")
    return value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


def _header_value(value: Any) -> str:
    return value if isinstance(value, str) else str(value)
