"""pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:

- ``mock_api``: a running :class:`mockserver.MockServer` (``.url``, ``.host``, ``.port``,
  ``.journal``, ``.scenario()``, ``.expire_tokens()``, ``.reset()``). One server per
  (contract, config, cassettes, seed) is started for the whole session and reset after
  every test, so each test starts from the same state at no start-up cost. Configure it
  with ``@pytest.mark.mockserver(contract=..., cassettes=..., config=..., seed=...)``, or
  for every test with ``--mockserver-contract`` and the ``mockserver_contract`` /
  ``mockserver_config`` fixtures (override them in a ``conftest.py``).
- ``mock_api_factory``: ``factory(contract=None, **MockServer kwargs)`` starts more
  servers; each is stopped at the end of the test.
- ``client_check``: ``client_check(operation, client, expected=(), **kwargs)`` runs
  :func:`mockserver.clientcheck.check_client` against ``mock_api`` and fails the test with
  the minimal answers that broke the client.

``--mockserver-report DIR`` writes one client conformance report for the session
(``mockserver-client.json``, ``.junit.xml``, ``.html``, ``.md``): the traffic of every
server the fixtures started, merged. Under pytest-xdist each worker sends its traffic to
the controller when it finishes, and the controller writes the one report; workers never
write files, so there is nothing to clash.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockserver.config import Config
from mockserver.conformance.journal import OperationStats
from mockserver.conformance.report import (
    FORMATS,
    Finding,
    Report,
    contracts_source,
    report_from_journal,
    write_reports,
)
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract
from mockserver.server import MockServer

if TYPE_CHECKING:
    from mockserver.clientcheck import ClientCheckResult

MARKER_KWARGS = ("contract", "cassettes", "config", "seed")
MAX_EXCHANGES = 200  # exchanges kept in the session report (the latest)
_WORKER_KEY = "mockserver_traffic"

ConfigLike = Config | dict[str, Any] | str | Path | None
ContractLike = str | Path | Sequence[str | Path] | None


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``mockserver`` option group."""
    group = parser.getgroup("mockserver", "mock API servers from OpenAPI contracts")
    group.addoption(
        "--mockserver-contract",
        action="append",
        default=[],
        metavar="PATH",
        help="contract for the mock_api fixture when its marker names none "
        "(repeat for several; default: the bundled travel API)",
    )
    group.addoption(
        "--mockserver-report",
        default=None,
        metavar="DIR",
        help="write a client conformance report of the session's mock traffic into DIR",
    )
    group.addoption(
        "--mockserver-report-format",
        default=",".join(FORMATS),
        metavar="FORMATS",
        help=f"comma-separated report formats (default: {','.join(FORMATS)})",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mockserver`` marker; collect traffic when a report is wanted."""
    config.addinivalue_line(
        "markers",
        "mockserver(contract=None, cassettes=None, config=None, seed=None): the contract(s), "
        "cassette folder, config (dict, Config or YAML path) and synthesis seed of the "
        "mock_api fixture",
    )
    if config.getoption("mockserver_report", None):
        formats = [f.strip() for f in config.getoption("mockserver_report_format").split(",")]
        unknown = [f for f in formats if f not in FORMATS]
        if unknown:
            raise pytest.UsageError(
                f"--mockserver-report-format: unknown format {unknown[0]!r}; "
                f"known: {', '.join(FORMATS)}"
            )
        config.stash[_TRAFFIC] = SessionTraffic()


# -- the session's traffic, for the report -------------------------------------------------


class SessionTraffic:
    """The traffic of every mock server of a session, merged into one report.

    Harvested from each server before it is reset or stopped: counters from
    ``journal.stats()`` (complete since the last reset), findings and the latest exchanges
    from what the journal still holds (``journal_size``).
    """

    def __init__(self) -> None:
        self.stats: dict[str, OperationStats] = {}
        self.unmatched = 0
        self.findings: list[Finding] = []
        self.exchanges: list[dict[str, Any]] = []
        self.contracts: dict[str, Contract] = {}
        self.servers = 0
        self.workers = 0

    def harvest(self, server: MockServer) -> None:
        """Add what ``server`` saw since its last reset."""
        journal = server.journal
        part = report_from_journal(journal, server.pipeline.operations, max_exchanges=MAX_EXCHANGES)
        self.findings.extend(part.failures)
        self._add_exchanges(part.exchanges or [])
        for key, stats in journal.stats().items():
            _add_stats(self.stats.setdefault(key, OperationStats()), stats)
        self.unmatched += journal.unmatched
        for contract in server.pipeline.contracts:
            self.contracts.setdefault(str(contract.path), contract)

    def _add_exchanges(self, exchanges: list[dict[str, Any]]) -> None:
        self.exchanges.extend(exchanges)
        del self.exchanges[:-MAX_EXCHANGES]

    def to_json(self) -> dict[str, Any]:
        """What a pytest-xdist worker sends to the controller (plain JSON types)."""
        return {
            "stats": {
                key: {
                    "calls": s.calls,
                    "statuses": {str(code): n for code, n in s.statuses.items()},
                    "parameters": sorted(s.parameters),
                    "request_violations": s.request_violations,
                    "response_violations": s.response_violations,
                }
                for key, s in self.stats.items()
            },
            "unmatched": self.unmatched,
            "findings": [f.to_dict() for f in self.findings],
            "exchanges": self.exchanges,
            "contracts": sorted(self.contracts),
            "servers": self.servers,
        }

    def absorb(self, data: dict[str, Any]) -> None:
        """Merge a worker's ``to_json()`` (on the pytest-xdist controller)."""
        self.workers += 1
        for key, raw in data.get("stats", {}).items():
            stats = OperationStats(
                raw["calls"],
                Counter({int(code): n for code, n in raw["statuses"].items()}),
                set(raw["parameters"]),
                raw["request_violations"],
                raw["response_violations"],
            )
            _add_stats(self.stats.setdefault(key, OperationStats()), stats)
        self.unmatched += int(data.get("unmatched", 0))
        self.findings.extend(Finding.from_dict(f) for f in data.get("findings", []))
        self._add_exchanges(list(data.get("exchanges", [])))
        self.servers += int(data.get("servers", 0))
        for path in data.get("contracts", []):
            if path not in self.contracts:
                self.contracts[path] = load_contract(path)

    def report(self) -> Report:
        """The session's client conformance report over every contract served."""
        from mockserver.conformance.coverage import coverage_of

        contracts = list(self.contracts.values())
        operations = {op.key: op for c in contracts for op in c.operations}
        extra: dict[str, Any] = {"servers": self.servers}
        if self.workers:
            extra["workers"] = self.workers
        return Report.build(
            "client",
            coverage_of(operations.values(), self.stats),
            self.findings,
            title=f"{', '.join(c.title for c in contracts) or 'mockserver'}: "
            "client conformance (pytest session)",
            source=contracts_source(contracts),
            requests=sum(s.calls for s in self.stats.values()) + self.unmatched,
            unmatched=self.unmatched,
            exchanges=self.exchanges,
            extra=extra,
        )


def _add_stats(into: OperationStats, more: OperationStats) -> None:
    into.calls += more.calls
    into.statuses.update(more.statuses)
    into.parameters |= more.parameters
    into.request_violations += more.request_violations
    into.response_violations += more.response_violations


_TRAFFIC = pytest.StashKey[SessionTraffic]()
_WRITTEN = pytest.StashKey[list[Path]]()


def _traffic(config: pytest.Config) -> SessionTraffic | None:
    return config.stash.get(_TRAFFIC, None)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write the report (or, on a pytest-xdist worker, hand the traffic to the controller)."""
    config = session.config
    traffic = _traffic(config)
    if traffic is None:
        return
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput[_WORKER_KEY] = traffic.to_json()
        return
    formats = [f.strip() for f in config.getoption("mockserver_report_format").split(",")]
    config.stash[_WRITTEN] = write_reports(
        traffic.report(), config.getoption("mockserver_report"), formats
    )


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist controller: merge a finished worker's traffic."""
    traffic = _traffic(node.config)
    data = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if traffic is not None and data:
        traffic.absorb(data)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Name the report files written."""
    written = config.stash.get(_WRITTEN, None)
    if written:
        terminalreporter.write_sep("-", "mockserver conformance report")
        for path in written:
            terminalreporter.write_line(str(path))


# -- servers ---------------------------------------------------------------------------------


class MockServerPool:
    """The session's ``mock_api`` servers, one per configuration, reset after each test."""

    def __init__(self, traffic: SessionTraffic | None) -> None:
        self.traffic = traffic
        self._servers: dict[str, MockServer] = {}

    def get(
        self,
        contract: ContractLike,
        *,
        config: ConfigLike = None,
        cassettes: str | Path | None = None,
        seed: int | None = None,
    ) -> MockServer:
        """The running server for this configuration (started on first use)."""
        key = _pool_key(contract, config, cassettes, seed)
        server = self._servers.get(key)
        if server is None:
            server = start_server(contract, config=config, cassettes=cassettes, seed=seed)
            self._servers[key] = server
            if self.traffic is not None:
                self.traffic.servers += 1
        return server

    def release(self, server: MockServer) -> None:
        """After a test: its traffic into the report, then the server back to the start."""
        if self.traffic is not None:
            self.traffic.harvest(server)
        server.reset()

    def close(self) -> None:
        """Stop every server."""
        for server in self._servers.values():
            server.stop()
        self._servers.clear()


def start_server(contract: ContractLike = None, **kwargs: Any) -> MockServer:
    """``MockServer(contract, **kwargs).start()``; ``cassettes``/``seed`` only when given."""
    options = {k: v for k, v in kwargs.items() if v is not None or k not in ("cassettes", "seed")}
    return MockServer(contract, **options).start()


def _pool_key(contract: ContractLike, config: ConfigLike, cassettes: Any, seed: Any) -> str:
    if contract is None:
        contracts: list[str] = []
    elif isinstance(contract, str | Path):
        contracts = [str(Path(contract).resolve())]
    else:
        contracts = [str(Path(c).resolve()) for c in contract]
    if isinstance(config, Config):
        config_key: Any = f"Config@{id(config)}"  # the server keeps the object alive
    elif isinstance(config, str | Path):
        config_key = str(Path(config).resolve())
    else:
        config_key = config
    return json.dumps(
        [contracts, config_key, str(cassettes) if cassettes else None, seed],
        sort_keys=True,
        default=repr,
    )


def _marker_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("mockserver")
    if marker is None:
        return {}
    if marker.args:
        raise pytest.UsageError(
            f"{request.node.nodeid}: @pytest.mark.mockserver takes keywords only "
            f"({', '.join(MARKER_KWARGS)}), e.g. mockserver(contract='contracts/x.yaml')"
        )
    unknown = sorted(set(marker.kwargs) - set(MARKER_KWARGS))
    if unknown:
        raise pytest.UsageError(
            f"{request.node.nodeid}: @pytest.mark.mockserver got unknown keyword "
            f"{unknown[0]!r}; known: {', '.join(MARKER_KWARGS)}"
        )
    return dict(marker.kwargs)


@pytest.fixture(scope="session")
def mockserver_contract(request: pytest.FixtureRequest) -> list[Path] | None:
    """The contract(s) ``mock_api`` serves when its marker names none.

    ``--mockserver-contract``, else None (the bundled travel API). Override it in a
    ``conftest.py`` to set the project's default.
    """
    paths = request.config.getoption("mockserver_contract")
    return [Path(p) for p in paths] or None


@pytest.fixture(scope="session")
def mockserver_config() -> ConfigLike:
    """The config ``mock_api`` uses when its marker gives none (None: the contract's own
    ``x-mockserver``). Override it in a ``conftest.py``: a dict, a ``Config`` or a YAML path."""
    return None


@pytest.fixture(scope="session")
def mockserver_pool(request: pytest.FixtureRequest) -> Iterator[MockServerPool]:
    """The session's servers behind ``mock_api``."""
    pool = MockServerPool(_traffic(request.config))
    yield pool
    pool.close()


@pytest.fixture
def mock_api(
    request: pytest.FixtureRequest,
    mockserver_pool: MockServerPool,
    mockserver_contract: ContractLike,
    mockserver_config: ConfigLike,
) -> Iterator[MockServer]:
    """A running mock API for this test, fresh from a reset (``.url``, ``.journal``, ...)."""
    kwargs = _marker_kwargs(request)
    server = mockserver_pool.get(
        kwargs.get("contract", mockserver_contract),
        config=kwargs.get("config", mockserver_config),
        cassettes=kwargs.get("cassettes"),
        seed=kwargs.get("seed"),
    )
    yield server
    mockserver_pool.release(server)


@pytest.fixture
def mock_api_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., MockServer]]:
    """Start ``MockServer(contract, **kwargs)`` instances that stop after the test."""
    started: list[MockServer] = []
    traffic = _traffic(request.config)

    def factory(contract: ContractLike = None, **kwargs: Any) -> MockServer:
        server = start_server(contract, **kwargs)
        started.append(server)
        if traffic is not None:
            traffic.servers += 1
        return server

    yield factory
    for server in started:
        if traffic is not None:
            traffic.harvest(server)
        server.stop()


@pytest.fixture
def client_check(mock_api: MockServer) -> Callable[..., ClientCheckResult]:
    """``client_check(operation, client, expected=(), **kwargs)``: ``check_client`` on
    ``mock_api``; fails the test showing each minimal answer that broke the client."""
    from mockserver.clientcheck import assert_client_handles

    def run(
        operation: str,
        client: Callable[[str], object],
        expected: type[BaseException] | tuple[type[BaseException], ...] = (),
        **kwargs: Any,
    ) -> ClientCheckResult:
        return assert_client_handles(mock_api, operation, client, expected, **kwargs)

    return run
