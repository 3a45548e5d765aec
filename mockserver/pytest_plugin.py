"""pytest plugin (registered through the ``pytest11`` entry point).

Fixtures:

- ``mock_api``: a running :class:`mockserver.MockServer` for the test, reset between
  tests; configure it with ``@pytest.mark.mockserver(contract=..., config=...)`` or the
  ``--mockserver-contract`` option.
- ``mock_api_factory``: start extra servers; each is stopped at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mockserver.server import MockServer


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``mockserver`` option group."""
    group = parser.getgroup("mockserver", "mock API servers from OpenAPI contracts")
    group.addoption(
        "--mockserver-contract",
        action="append",
        default=[],
        metavar="PATH",
        help="contract for the mock_api fixture (repeat for several; default: bundled travel)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``mockserver`` marker."""
    config.addinivalue_line(
        "markers",
        "mockserver(contract=None, config=None, seed=None): configure the mock_api fixture",
    )


def _marker_kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("mockserver")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
def mock_api_factory() -> Iterator[Callable[..., MockServer]]:
    """Start ``MockServer(...)`` instances that are stopped after the test."""
    started: list[MockServer] = []

    def factory(*args: Any, **kwargs: Any) -> MockServer:
        server = MockServer(*args, **kwargs).start()
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture
def mock_api(
    request: pytest.FixtureRequest, mock_api_factory: Callable[..., MockServer]
) -> MockServer:
    """A running mock API for this test (``.url``, ``.journal``, ``.reset()``)."""
    kwargs = _marker_kwargs(request)
    contract = (
        kwargs.pop("contract", None)
        or [Path(p) for p in request.config.getoption("--mockserver-contract")]
        or None
    )
    return mock_api_factory(contract, **kwargs)
