"""Contracts: load OpenAPI/Swagger files, model their operations, route requests to them."""

from mockserver.contract.loader import load_contract, load_contracts
from mockserver.contract.model import Contract, MediaType, Operation, Parameter, ResponseSpec
from mockserver.contract.router import RouteMatch, Router

__all__ = [
    "Contract",
    "MediaType",
    "Operation",
    "Parameter",
    "ResponseSpec",
    "RouteMatch",
    "Router",
    "load_contract",
    "load_contracts",
]
