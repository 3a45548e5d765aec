"""OAuth2 for the mock: token and authorization endpoints (``service``), enforcing an
operation's security (``enforce``), the requests they read (``forms``), what the contract
declares about tokens (``shapes``) and the shared pieces (``base``)."""

from mockserver.behaviours.oauth.base import (
    ANONYMOUS,
    DEFAULT_AUTHORIZE_PATHS,
    DEFAULT_TOKEN_PATHS,
    GRANT_TYPES,
    Identity,
    _endpoint_paths,
)
from mockserver.behaviours.oauth.service import OAuth

__all__ = [
    "ANONYMOUS",
    "DEFAULT_AUTHORIZE_PATHS",
    "DEFAULT_TOKEN_PATHS",
    "GRANT_TYPES",
    "Identity",
    "OAuth",
    "_endpoint_paths",
]
