"""Recording: which cassette an exchange belongs in, record modes, scrub, then store.

No sockets here: the proxy (``cassettes/proxy.py``) forwards and calls ``decide`` before
and ``record`` after. Cassettes are named per operation (the contract's operationId, with
``--contract``), per test (a name set by the pytest plugin or an ``X-Mockserver-Cassette``
header), or else by method and path.

Record modes, as in vcrpy:

- ``once``: cassettes that existed when first touched are replayed, never extended (a
  request they do not hold is refused); new cassettes record everything.
- ``new_episodes``: replay what is recorded, record what is not.
- ``all``: forward and record everything; each cassette touched starts afresh.
- ``none``: never forward; replay or refuse.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mockserver.cassettes.format import Interaction, load_cassette
from mockserver.cassettes.replay import Miss, Played, Replayer
from mockserver.cassettes.scrub import Scrubber, ScrubConfig
from mockserver.cassettes.store import CassetteStore
from mockserver.config import CassetteConfig
from mockserver.contract.model import Contract
from mockserver.contract.router import RouteMatch, Router
from mockserver.errors import CassetteError
from mockserver.http import MockRequest

RecordMode = Literal["once", "new_episodes", "all", "none"]
RECORD_MODES: tuple[RecordMode, ...] = ("once", "new_episodes", "all", "none")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 120


@dataclass(slots=True)
class Forward:
    """Send the request upstream and record the answer in cassette ``path``."""

    path: Path


@dataclass(slots=True)
class Refuse:
    """Record mode forbids forwarding and nothing recorded matches."""

    miss: Miss
    mode: str
    path: Path


Decision = Played | Forward | Refuse


class Recorder:
    """Decides per request whether to replay or forward, and records scrubbed answers."""

    def __init__(
        self,
        directory: str | Path,
        *,
        mode: RecordMode = "once",
        contracts: Sequence[Contract] = (),
        config: CassetteConfig | None = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        if mode not in RECORD_MODES:
            raise CassetteError(str(directory), "", f"unknown record mode {mode!r}")
        self.mode: RecordMode = mode
        self.config = config or CassetteConfig()
        self.store = CassetteStore(directory)
        self.store.remove_stale_temporaries()
        self.scrubber = scrubber or Scrubber(ScrubConfig.from_mapping(self.config.filters))
        operations = [op for c in contracts for op in c.operations]
        self.router = Router(operations) if operations else None
        # Set by the pytest plugin (or the proxy's admin endpoint): every exchange goes
        # to this cassette until cleared.
        self.cassette_name: str | None = None
        self._lock = threading.Lock()
        self._known: dict[Path, Replayer | None] = {}

    # -- naming --------------------------------------------------------------------------

    def name_for(self, request: MockRequest, override: str | None = None) -> str:
        """The cassette an exchange goes to: a test name, the operation, or method+path."""
        explicit = override or self.cassette_name
        if explicit:
            return safe_name(explicit, keep_folders=True)
        if self.router is not None:
            match = self.router.match(request.method, request.path)
            if isinstance(match, RouteMatch):
                op = match.operation
                return safe_name(op.operation_id or f"{op.method.lower()}_{op.path}")
        return safe_name(f"{request.method.lower()}_{request.path.strip('/')}")

    # -- before forwarding ---------------------------------------------------------------

    def decide(self, request: MockRequest, name: str) -> Decision:
        """Replay, forward, or refuse ``request`` for cassette ``name``, per the mode."""
        path = self.store.path_for(name)
        recorded = self._first_touch(path)
        if self.mode == "all":
            return Forward(path)
        if recorded is None:
            if self.mode == "none":
                return Refuse(Miss(f"{request.method} {request.path}"), self.mode, path)
            return Forward(path)
        outcome = recorded.play(request)
        if isinstance(outcome, Played):
            return outcome
        if self.mode == "new_episodes":
            return Forward(path)
        return Refuse(outcome, self.mode, path)

    def _first_touch(self, path: Path) -> Replayer | None:
        with self._lock:
            if path in self._known:
                return self._known[path]
            replayer: Replayer | None = None
            if self.mode == "all":
                if path.exists():
                    self.store.truncate(path)
            elif path.exists():
                replayer = Replayer([load_cassette(path)], self.config)
            self._known[path] = replayer
            return replayer

    # -- after forwarding ----------------------------------------------------------------

    def record(self, path: Path, interaction: Interaction) -> Interaction:
        """Scrub ``interaction`` and append it to ``path``; returns what was written."""
        scrubbed = self.scrubber.scrub(interaction)
        self.store.append(path, scrubbed)
        return scrubbed


def safe_name(name: str, *, keep_folders: bool = False) -> str:
    """A file name from an operation or test name (``users/get-by-username`` ->
    ``users_get-by-username``; with ``keep_folders``, ``tests/test_x`` stays a path)."""
    parts = name.replace("\\", "/").split("/") if keep_folders else [name.replace("/", "_")]
    cleaned = [re.sub("_+", "_", _UNSAFE.sub("_", p)).strip("._")[:_MAX_NAME] for p in parts]
    cleaned = [p for p in cleaned if p]
    return "/".join(cleaned) or "cassette"
