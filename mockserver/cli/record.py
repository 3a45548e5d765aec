"""``mockserver record``: a reverse proxy that records the upstream into cassettes.

The proxy itself is ``cassettes/proxy.py`` (plain WSGI); this module serves it with
werkzeug, in the foreground (the command) or in a thread (``RecordingServer``, for the
pytest plugin and tests).
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from mockserver.cli import InputError, console, fail, main
from mockserver.errors import MockserverError, ServerError

if TYPE_CHECKING:
    from mockserver.server import BackgroundServer


class RecordingServer:
    """The recording proxy on ``host:port`` (0: a free one) in a daemon thread.

    >>> with RecordingServer("http://127.0.0.1:9000", "cassettes") as rec:
    ...     requests.get(rec.url + "/users/octocat")
    """

    def __init__(
        self,
        upstream: str,
        cassettes: str | Path = "cassettes",
        *,
        mode: str = "once",
        contracts: Sequence[str | Path] = (),
        config: Any = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        from mockserver.cassettes.proxy import RecordingProxy
        from mockserver.cassettes.record import RECORD_MODES, Recorder

        if mode not in RECORD_MODES:
            raise ServerError(f"unknown record mode {mode!r}; one of {', '.join(RECORD_MODES)}")
        loaded = _contracts(contracts)
        self.config = _config(loaded, config)
        self.recorder = Recorder(
            cassettes,
            mode=mode,
            contracts=loaded,
            config=self.config.cassettes,
        )
        self.app = RecordingProxy(self.recorder, upstream)
        self._host, self._port = host, port
        self._background: BackgroundServer | None = None

    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy."""
        if self._background is None:
            raise ServerError("the recorder is not running: call start() or use 'with'")
        return self._background.url

    def use_cassette(self, name: str | None) -> None:
        """Record everything into cassette ``name`` from now on (None: per operation)."""
        from mockserver.cassettes.record import safe_name

        self.recorder.cassette_name = safe_name(name, keep_folders=True) if name else None

    def start(self) -> RecordingServer:
        """Bind and serve in a daemon thread."""
        # imported here: the server module brings Flask, which `mockserver record` (served
        # in the foreground by _bind alone) does without
        from mockserver.server import BackgroundServer

        server = _bind(self.app, self._host, self._port)
        self._background = BackgroundServer(server, name="mockserver-recorder").start()
        return self

    def stop(self) -> None:
        """Stop serving (every recorded interaction is already on disk)."""
        if self._background is None:
            return
        self._background.stop()
        self._background = None

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _contracts(paths: Sequence[str | Path]) -> list[Any]:
    if not paths:
        return []
    from mockserver.contract.loader import load_contract

    return [load_contract(p) for p in paths]


def _config(contracts: Sequence[Any], config: Any) -> Any:
    # server.build_config's precedence without importing the server (and Flask, and
    # every validator): `mockserver record` starts in a fraction of a second.
    from mockserver.config import Config, load_config_file, merge

    result = Config()
    for contract in contracts:
        if contract.extensions:
            result = merge(result, contract.extensions, f"{contract.path}#/x-mockserver")
    if isinstance(config, Config):
        return config
    if isinstance(config, dict):
        return merge(result, config, "config")
    if config is not None:
        return load_config_file(config, result)
    return result


def _bind(app: Any, host: str, port: int) -> Any:
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as clients such as requests.Session use
        timeout = 60

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            pass

    try:
        server = make_server(host, port, app, threaded=True, request_handler=Handler)
    except OSError as exc:
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    server.daemon_threads = True  # type: ignore[attr-defined]
    return server


@main.command()
@click.option("--upstream", required=True, metavar="URL", help="The real API to record.")
@click.option(
    "--cassettes",
    "directory",
    default="cassettes",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder the cassettes are written to.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8001, show_default=True, type=int, help="Port (0: any free).")
@click.option(
    "--mode",
    type=click.Choice(["once", "new_episodes", "all", "none"]),
    default="once",
    show_default=True,
    help="vcrpy record mode: once (existing cassettes replay), new_episodes, all, none.",
)
@click.option(
    "--contract",
    "contracts",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Name cassettes after this contract's operations (repeatable).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    default=None,
    help="A mockserver.yaml file (its cassettes.filters section adds scrubbing rules).",
)
def record(
    upstream: str,
    directory: Path,
    host: str,
    port: int,
    mode: str,
    contracts: tuple[Path, ...],
    config_file: Path | None,
) -> None:
    """Record UPSTREAM through a reverse proxy into VCR.py cassettes, secrets scrubbed."""
    try:
        recorder = RecordingServer(
            upstream, directory, mode=mode, contracts=contracts, config=config_file, host=host
        )
    except MockserverError as exc:
        raise fail(exc) from None
    try:
        server = _bind(recorder.app, host, port)
    except ServerError as exc:
        raise InputError(str(exc)) from None
    shown = f"[{host}]" if ":" in host else host
    # One plain line (not rich, which wraps): scripts read the port from it.
    click.echo(
        f"recording {upstream} on http://{shown}:{server.server_port} "
        f"into {directory}/ (mode {mode}; secrets scrubbed)   Ctrl-C to stop",
        err=True,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.server_close()
        console.print("recorder stopped")
