"""``MockServer``: the mock on a real port in a background thread, as a context manager."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from mockserver.app import create_app
from mockserver.behaviours.faults import Scenario
from mockserver.config import Config, load_config_file, merge
from mockserver.conformance.report import Report, client_report
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract
from mockserver.errors import ServerError
from mockserver.pipeline import Pipeline
from mockserver.state import StateStore, open_store

BUNDLED = Path(__file__).resolve().parent.parent / "contracts"
_INSTALLED = Path(__file__).resolve().parent / "_bundled_contracts"


def bundled_contracts_dir() -> Path:
    """Where the contracts shipped with mockserver live (source tree or wheel)."""
    return BUNDLED if BUNDLED.is_dir() else _INSTALLED


def default_contract() -> Path:
    """The contract ``mockserver serve`` uses with no argument: the travel API."""
    return bundled_contracts_dir() / "travel" / "openapi.yaml"


class _QuietHandler(WSGIRequestHandler):
    # HTTP/1.1 keeps connections alive: clients such as requests.Session reuse them.
    protocol_version = "HTTP/1.1"
    # A client that stops sending (slowloris) frees its thread after this many seconds.
    timeout = 30

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own errors (line too long, too many headers, bad request line)
        # answer problem+json like everything else, never an HTML page.
        body = json.dumps(
            {
                "type": "about:blank",
                "title": message or "Bad Request",
                "status": code,
                "detail": explain or message or "",
            }
        ).encode()
        if self.request_version == "HTTP/0.9":
            # an unparsable request line: answer with a real status line anyway
            self.request_version = "HTTP/1.1"
        try:
            self.send_response(code, message)
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)
        except OSError:
            pass
        self.close_connection = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        pass


class BackgroundServer:
    """A bound werkzeug server answering in a daemon thread until ``stop``.

    ``MockServer`` and the recorder (``cli/record.py``) both run on it; each binds its own
    server first (its request handler, threaded or not, its host and port, 0: a free one).
    """

    def __init__(self, server: BaseWSGIServer, name: str | None = None) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name=name or f"mockserver-{self.port}", daemon=True
        )

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server.server_port)

    @property
    def url(self) -> str:
        """``http://host:port`` (an IPv6 host in brackets)."""
        host = self.server.host
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{self.port}"

    def start(self) -> BackgroundServer:
        """Serve in the daemon thread; the socket already accepts connections."""
        self._thread.start()
        return self

    def stop(self, timeout: float = 5) -> None:
        """Stop serving, release the port and wait up to ``timeout`` s for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=timeout)


def build_config(
    contracts: Sequence[Contract],
    config: Config | dict[str, Any] | str | Path | None,
    seed: int | None = None,
) -> Config:
    """Contract ``x-mockserver`` blocks, then the config file or dict, then ``seed``."""
    result = Config()
    for contract in contracts:
        if contract.extensions:
            result = merge(result, contract.extensions, f"{contract.path}#/x-mockserver")
    if isinstance(config, Config):
        result = config
    elif isinstance(config, dict):
        result = merge(result, config, "config")
    elif config is not None:
        result = load_config_file(config, result)
    if seed is not None:
        result.seed = seed
    return result


class MockServer:
    """A mock API server for ``contracts`` on ``host:port`` (port 0: a free one).

    >>> with MockServer("contracts/github.yaml") as server:
    ...     requests.get(server.url + "/users/octocat")
    """

    def __init__(
        self,
        contracts: str | Path | Sequence[str | Path] | None = None,
        *,
        config: Config | dict[str, Any] | str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        cassettes: str | Path | Sequence[str | Path] | None = None,
        clock: Callable[[], float] = time.time,
        state: str | StateStore | None = None,
    ) -> None:
        if contracts is None:
            paths: list[str | Path] = [default_contract()]
        elif isinstance(contracts, str | Path):
            paths = [contracts]
        else:
            paths = list(contracts)
        loaded = [load_contract(p) for p in paths]
        self.config = build_config(loaded, config, seed)
        # state: None (in-process), "redis://..." (shared by every worker and host with
        # the same URL and prefix) or a StateStore; a Redis store brings a shared journal.
        store = state if state is None or not isinstance(state, str) else open_store(state)
        journal = None
        if store is not None:
            # imported here: redis-py costs start-up time a single process does not need
            from mockserver.conformance.redis_journal import shared_journal

            journal = shared_journal(store, self.config.journal_size)
        self.pipeline = Pipeline(loaded, self.config, store=store, journal=journal, clock=clock)
        if cassettes is not None:
            # cassettes: folders or files of VCR.py recordings; they answer first.
            from mockserver.cassettes.replay import Replayer  # vcrpy: only when needed

            sources = [cassettes] if isinstance(cassettes, str | Path) else list(cassettes)
            self.pipeline.cassettes = Replayer.from_paths(
                sources, self.config.cassettes, self.pipeline.store
            )
        self.app = create_app(self.pipeline, bind_host=host)
        self._host = host
        self._port = port
        self._background: BackgroundServer | None = None

    @property
    def host(self) -> str:
        """The address the server listens on."""
        return self._host

    def _running(self) -> BackgroundServer:
        if self._background is None:
            raise ServerError("the server is not running: call start() or use 'with'")
        return self._background

    @property
    def port(self) -> int:
        """The port it listens on (known once started)."""
        return self._running().port

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return self._running().url

    @property
    def admin_token(self) -> str | None:
        """The token admin calls need (None on loopback without a configured token)."""
        guard = self.app.extensions["mockserver_admin_guard"]
        return guard.token  # type: ignore[no-any-return]

    @property
    def journal(self) -> Any:
        """The traffic journal."""
        return self.pipeline.journal

    def start(self) -> MockServer:
        """Bind and serve in a daemon thread; returns once the port accepts connections."""
        if self._background is not None:
            raise ServerError("the server is already running")
        try:
            server = make_server(
                self._host, self._port, self.app, threaded=True, request_handler=_QuietHandler
            )
        except OSError as exc:
            raise ServerError(
                f"cannot listen on {self._host}:{self._port}: {exc.strerror}"
            ) from None
        server.daemon_threads = True  # type: ignore[attr-defined]
        self._background = BackgroundServer(server).start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        if self._background is None:
            return
        self._background.stop()
        self._background = None

    def reset(self) -> None:
        """State back to the start (journal, tokens, counters, scenarios)."""
        self.pipeline.reset()

    def scenario(
        self,
        operation: str | None = None,
        *,
        status: int | None = None,
        times: int | None = None,
        delay_ms: int = 0,
        drop: bool = False,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Scenario:
        """Force a fault: ``scenario("GET /v1/x", status=429, times=1)``."""
        data: dict[str, Any] = {
            "operation": operation,
            "times": times,
            "delay_ms": delay_ms,
            "drop": drop,
        }
        if status is not None:
            data["status"] = status
        if body is not None:
            data["body"] = body
        if headers is not None:
            data["headers"] = headers
        return self.pipeline.faults.add(Scenario.from_json(data, "MockServer.scenario"))

    def clear_scenarios(self) -> int:
        """Remove every scenario added at run time; returns how many."""
        return self.pipeline.faults.remove(None)

    def report(self, *, max_exchanges: int = 200) -> Report:
        """The client conformance report of the traffic so far (``conformance.report``):
        render it with ``render(report, "html")`` or ``write_reports(report, folder)``."""
        return client_report(
            self.pipeline.journal, self.pipeline.contracts, max_exchanges=max_exchanges
        )

    def expire_tokens(self) -> int:
        """Expire every access token issued so far (clients must get new ones)."""
        return self.pipeline.oauth.expire_all()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
