"""Error answers in the contract's own shape.

A client written against Amadeus expects ``{"errors": [{status, code, title, detail}]}``,
one written against GitHub ``{"message": ..., "documentation_url": ...}``, Stripe
``{"error": {type, message, param}}``. When the operation declares a response for the
status, the body is built to that schema (a synthesised valid body with the known fields
filled in, checked against the schema); otherwise it is RFC 9457 problem+json.
"""

from __future__ import annotations

import copy
from typing import Any

from mockserver.contract.model import _MISSING, Operation
from mockserver.http import PROBLEM_JSON, Headers, MockResponse, dump_json, is_json_media_type
from mockserver.params import schema_types
from mockserver.responder import Responder, request_seed


def render_error(
    responder: Responder,
    op: Operation | None,
    status: int,
    title: str,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    code: int | None = None,
    error: str | None = None,
    headers: Headers | None = None,
    problem_type: str = "about:blank",
    prefer_example: bool = False,
    hint: str = "",
) -> MockResponse:
    """An error answer for ``status`` that the contract's schema accepts, if it has one.

    With ``prefer_example`` (auth failures, limits, not found) the contract's own example
    for that status is sent when it conforms: clients match on those exact words (PyGithub
    raises ``RateLimitExceededException`` only for "API rate limit exceeded..."). Among
    named examples the one whose name or text mentions ``hint`` wins.
    Validation errors are always filled in, so they name the parameter.
    """
    out_headers = headers.copy() if headers is not None else Headers()
    spec = op.response_for(status) if op is not None else None
    media = spec.first_media_type() if spec is not None else None
    if op is None or spec is None or media is None or not is_json_media_type(media.media_type):
        return _problem(status, title, detail, errors, code, error, out_headers, problem_type)
    if media.media_type.lower() == PROBLEM_JSON or media.schema is None:
        resp = _problem(status, title, detail, errors, code, error, out_headers, problem_type)
        resp.headers.set("Content-Type", media.media_type)
        return resp
    if prefer_example:
        example = _contract_example(responder, op, media, hint)
        if example is not None:
            out_headers.set("Content-Type", media.media_type)
            return MockResponse(status, out_headers, dump_json(example))
    space = op.schemas
    schema = space.deref(space.converted(media.schema, "response"))
    rng = request_seed(responder.seed, op.key, status, "error")
    base = responder._synth(op, media.schema, rng)
    facts = _Facts(status, title, detail, errors or [], code, error)
    body = _fill(copy.deepcopy(base), schema, facts, space)
    compiled = responder.validators.compiled(space, media.schema, "response")
    if not compiled.is_valid(body):
        body = base
    out_headers.set("Content-Type", media.media_type)
    return MockResponse(status, out_headers, dump_json(body))


def _contract_example(responder: Responder, op: Operation, media: Any, hint: str) -> Any:
    candidates: list[tuple[str, Any]] = []
    if media.has_example and media.example is not _MISSING:
        candidates.append(("example", media.example))
    candidates.extend(media.examples.items())
    if hint:
        words = hint.lower().replace("_", " ").split()
        candidates.sort(key=lambda c: -sum(w in (c[0] + " " + str(c[1])).lower() for w in words))
    for name, value in candidates:
        if responder.example_is_valid(op, media, name, value):
            return value
    return None


class _Facts:
    __slots__ = ("code", "detail", "error", "errors", "status", "title")

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        errors: list[dict[str, Any]],
        code: int | None,
        error: str | None,
    ) -> None:
        self.status = status
        self.title = title
        self.detail = detail or title
        self.errors = errors
        self.code = code
        self.error = error


def _problem(
    status: int,
    title: str,
    detail: str,
    errors: list[dict[str, Any]] | None,
    code: int | None,
    error: str | None,
    headers: Headers,
    problem_type: str,
) -> MockResponse:
    body: dict[str, Any] = {"type": problem_type, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    if code is not None:
        body["code"] = code
    if error:
        body["error"] = error
    headers.set("Content-Type", PROBLEM_JSON)
    return MockResponse(status, headers, dump_json(body))


def _props(schema: Any, space: Any) -> dict[str, Any]:
    node = space.deref(schema)
    if not isinstance(node, dict):
        return {}
    props: dict[str, Any] = dict(node.get("properties") or {})
    for sub in node.get("allOf") or []:
        props.update(_props(sub, space))
    return props


def _typed(value: Any, schema: Any, space: Any) -> Any:
    types = schema_types(schema, space.deref)
    if isinstance(value, int) and "integer" not in types and "number" not in types:
        return str(value) if "string" in types or not types else None
    if isinstance(value, str) and "string" not in types and types:
        if ("integer" in types or "number" in types) and value.isdigit():
            return int(value)
        return None
    return value


def _fill(body: Any, schema: Any, facts: _Facts, space: Any, depth: int = 0) -> Any:
    if not isinstance(body, dict) or depth > 3:
        return body
    props = _props(schema, space)
    for name, prop in props.items():
        lname = name.lower()
        value: Any = None
        if lname in ("message", "error_description", "detail"):
            value = facts.detail
        elif lname in ("title", "reason"):
            value = facts.title
        elif lname == "status":
            value = facts.status
        elif lname == "code":
            # an API-specific code when the behaviour has one, else the HTTP status
            value = facts.code if facts.code is not None else facts.status
        elif lname == "error" and facts.error and "string" in schema_types(prop, space.deref):
            value = facts.error
        elif lname == "error" and isinstance(body.get(name), dict):
            body[name] = _fill(body[name], prop, facts, space, depth + 1)
            continue
        elif lname == "errors" and "array" in schema_types(prop, space.deref):
            item_schema = (space.deref(prop) or {}).get("items", {})
            current = body.get(name)
            template = current[0] if isinstance(current, list) and current else {}
            items = facts.errors or [{"message": facts.detail}]
            body[name] = [
                _fill_item(copy.deepcopy(template), item_schema, facts, e, space)
                for e in items[:20]
            ]
            continue
        if value is not None:
            typed = _typed(value, prop, space)
            if typed is not None:
                body[name] = typed
    return body


def _fill_item(item: Any, schema: Any, facts: _Facts, error: dict[str, Any], space: Any) -> Any:
    if not isinstance(item, dict):
        return item
    props = _props(schema, space)
    message = str(error.get("message") or facts.detail)
    for name, prop in props.items():
        lname = name.lower()
        simple = {
            "status": facts.status,
            "code": facts.code if facts.code is not None else facts.status,
            "title": facts.title,
        }
        if lname in simple:
            typed = _typed(simple[lname], prop, space)
            if typed is not None:
                item[name] = typed
        elif lname in ("detail", "message"):
            item[name] = _typed(message, prop, space) or item.get(name)
        elif lname == "source" and isinstance(item.get(name), dict):
            src_props = _props(prop, space)
            src = item[name]
            if "parameter" in src_props and error.get("name"):
                src["parameter"] = error["name"]
            if "pointer" in src_props and error.get("pointer"):
                src["pointer"] = error["pointer"]
        elif lname in ("field", "param", "parameter") and error.get("name"):
            item[name] = _typed(str(error["name"]), prop, space) or item.get(name)
    return item
