"""mockserver: mock APIs and contract conformance from OpenAPI contracts and cassettes."""

from typing import TYPE_CHECKING, Any

# First, before anything imports jsonschema: makes slow, rarely needed imports lazy.
from mockserver import _lazyimports  # noqa: F401
from mockserver.config import Config
from mockserver.errors import (
    CassetteError,
    ConfigError,
    ContractError,
    MockserverError,
    ServerError,
)
from mockserver.http import MockRequest, MockResponse

if TYPE_CHECKING:
    from mockserver.server import MockServer

__version__ = "0.1.0"

__all__ = [
    "CassetteError",
    "Config",
    "ConfigError",
    "ContractError",
    "MockRequest",
    "MockResponse",
    "MockServer",
    "MockserverError",
    "ServerError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # MockServer pulls in Flask, the pipeline and every validator (about a second);
    # importing it on first use keeps `mockserver record` and other light commands fast.
    if name == "MockServer":
        from mockserver.server import MockServer

        return MockServer
    raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
