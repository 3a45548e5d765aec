"""What a contract's token operation declares beyond RFC 6749: the answer's extra
fields, the error bodies, the token type, whether ``grant_type`` may be left out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockserver.behaviours.oauth.base import _norm, _TokenShape
from mockserver.contract.model import Contract, Operation


def _token_shape(contracts: Sequence[Contract], path: str) -> _TokenShape:
    for contract in contracts:
        for op in contract.operations:
            if op.method == "POST" and _norm(op.full_path) == path:
                success = _response_properties(op, 200)
                token_type = "Bearer"
                enum = success.get("token_type", {}).get("enum")
                if isinstance(enum, list) and enum and "Bearer" not in enum:
                    token_type = str(enum[0])  # GitHub declares "bearer"
                errors = {status: _response_properties(op, status) for status in (400, 401)}
                infer = op.request_body is not None and not any(
                    "grant_type" in _required(op.contract, media.schema, 0)
                    for media in op.request_body.content.values()
                )
                return _TokenShape(success, errors, token_type, infer)
    return _TokenShape({}, {})


def _response_properties(op: Operation, status: int) -> dict[str, Any]:
    spec = op.response_for(status)
    media = spec.first_media_type() if spec is not None else None
    if media is None or media.schema is None:
        return {}
    return _properties(op.contract, media.schema, 0)


def _properties(contract: Contract, node: Any, depth: int) -> dict[str, Any]:
    """Every property a schema may have, through $ref, allOf, oneOf and anyOf."""
    node = _deref(contract, node)
    if not isinstance(node, dict) or depth > 16:
        return {}
    props: dict[str, Any] = {}
    for keyword in ("allOf", "oneOf", "anyOf"):
        for sub in node.get(keyword) or []:
            props.update(_properties(contract, sub, depth + 1))
    for name, sub in (node.get("properties") or {}).items():
        resolved = _deref(contract, sub)
        props[str(name)] = resolved if isinstance(resolved, dict) else {}
    return props


def _required(contract: Contract, node: Any, depth: int) -> set[str]:
    """Property names a schema requires, through $ref and allOf."""
    node = _deref(contract, node)
    if not isinstance(node, dict) or depth > 16:
        return set()
    names = {str(n) for n in node.get("required") or []}
    for sub in node.get("allOf") or []:
        names |= _required(contract, sub, depth + 1)
    return names


def _deref(contract: Contract, node: Any) -> Any:
    for _ in range(32):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        try:
            node = contract.schemas.resolve_raw(node["$ref"])
        except (LookupError, ValueError):
            return {}
    return {}


def _example(schema: dict[str, Any]) -> Any:
    if "example" in schema:
        return schema["example"]
    for keyword in ("examples", "enum"):
        values = schema.get(keyword)
        if isinstance(values, list) and values:
            return values[0]
    return None


def _add_extras(body: dict[str, Any], declared: dict[str, Any], client_id: str) -> None:
    """Amadeus-style fields, added only when the token schema declares them."""
    defaults = {
        "type": "amadeusOAuth2Token",
        "username": "mockserver@example.com",
        "application_name": "mockserver",
    }
    for name, default in defaults.items():
        if name in declared:
            value = _example(declared[name])
            body[name] = value if isinstance(value, str) else default
    if "client_id" in declared:
        body["client_id"] = client_id
    if "state" in declared:
        body["state"] = "approved"
