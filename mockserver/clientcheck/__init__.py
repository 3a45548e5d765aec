"""Property-based client checks: contract-valid answers a client must survive.

>>> from mockserver.clientcheck import check_client
>>> result = check_client(
...     "contracts/travel/openapi.yaml",
...     "GET /v1/reference-data/locations",
...     lambda base_url: my_client(base_url).first_location_name(),
...     expected=(ApiError,),
... )
>>> print(result.summary())

``answers`` builds the answers (hypothesis strategies over the contract); ``check`` runs
the client against a ``MockServer`` forced to give them and shrinks what breaks it.
"""

from mockserver.clientcheck.answers import Answer, AnswerSpace
from mockserver.clientcheck.check import (
    DEFAULT_MAX_EXAMPLES,
    Client,
    ClientCheckError,
    ClientCheckFailed,
    ClientCheckResult,
    ClientFailure,
    assert_client_handles,
    check_client,
    find_operation,
)

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "Answer",
    "AnswerSpace",
    "Client",
    "ClientCheckError",
    "ClientCheckFailed",
    "ClientCheckResult",
    "ClientFailure",
    "assert_client_handles",
    "check_client",
    "find_operation",
]
