"""mockserver: mock APIs and contract conformance from OpenAPI contracts and cassettes."""

from mockserver.config import Config
from mockserver.errors import (
    CassetteError,
    ConfigError,
    ContractError,
    MockserverError,
    ServerError,
)
from mockserver.http import MockRequest, MockResponse
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
