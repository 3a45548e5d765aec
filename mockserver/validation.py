"""Compiled validators for requests and answers, cached per schema.

jsonschema-rs does the validating (it is ~170x faster than pure-Python jsonschema on a
typical answer); schemas are compiled on first use per operation and kept, so a contract
like Stripe's starts instantly and nothing is compiled twice.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

import jsonschema_rs

from mockserver.contract.model import MediaType, Operation, Parameter
from mockserver.contract.router import RouteMatch
from mockserver.contract.schemas import Direction, SchemaSpace
from mockserver.errors import ContractError
from mockserver.failures import Failure
from mockserver.http import MockRequest, MockResponse, is_json_media_type
from mockserver.params import MISSING, coerce, extract, parse_cookies

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_ERRORS = 20


@dataclass(slots=True)
class Issue:
    """One schema violation: where in the instance and which keyword."""

    pointer: str
    rule: str
    message: str


class CompiledSchema:
    """A compiled standalone schema."""

    __slots__ = ("_validator",)

    def __init__(self, document: dict[str, Any]) -> None:
        self._validator = jsonschema_rs.validator_for(document, validate_formats=True)

    def is_valid(self, instance: Any) -> bool:
        """True when ``instance`` conforms."""
        return bool(self._validator.is_valid(instance))

    def issues(self, instance: Any) -> list[Issue]:
        """Every violation (at most ``MAX_ERRORS``), shallowest first."""
        out: list[Issue] = []
        for error in self._validator.iter_errors(instance):
            pointer = "".join(
                "/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.instance_path
            )
            rule = str(error.schema_path[-1]) if error.schema_path else "schema"
            out.append(Issue(pointer, rule, str(error.message)))
            if len(out) >= MAX_ERRORS:
                break
        out.sort(key=lambda i: i.pointer.count("/"))
        return out


@dataclass(slots=True)
class RequestData:
    """A request's parameters and body, deserialised and coerced to their schema types."""

    path: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    cookie: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    media_type: str | None = None


@dataclass(slots=True)
class RequestVerdict:
    """The outcome of validating a request: data plus failures; ``status`` to answer."""

    data: RequestData
    failures: list[Failure]
    status: int = 400  # 415 when the media type is not accepted


def match_media_type(content_type: str, declared: dict[str, MediaType]) -> MediaType | None:
    """The declared media type a request/answer content type matches, wildcards included."""
    if not declared:
        return None
    ct = content_type.lower()
    for name, media in declared.items():
        if name.lower() == ct:
            return media
    main = ct.split("/", 1)[0]
    for name, media in declared.items():
        lname = name.lower()
        if lname in ("*/*", f"{main}/*"):
            return media
    if is_json_media_type(ct):
        for name, media in declared.items():
            if is_json_media_type(name):
                return media
    return None


_ANSWER_CACHE_SIZE = 512
_ANSWER_CACHE_BODY = 64 * 1024


class Validators:
    """Validates requests and answers against their operations; caches compiled schemas."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[int, Direction], CompiledSchema] = {}
        self._lock = threading.Lock()
        # Verdicts of whole answers: a mock sends the same bytes again and again (the same
        # page, the same example), and the check is a pure function of operation, status,
        # headers and body. Bounded; small bodies only.
        self._answers: OrderedDict[tuple[Any, ...], tuple[Failure, ...]] = OrderedDict()

    def compiled(self, space: SchemaSpace, schema: Any, direction: Direction) -> CompiledSchema:
        """The compiled validator of ``schema`` (compiled once, then cached)."""
        key = (id(schema), direction)
        hit = self._compiled.get(key)
        if hit is not None:
            return hit
        document = space.standalone(schema, direction)
        try:
            compiled = CompiledSchema(document)
        except (ValueError, jsonschema_rs.ValidationError) as exc:
            raise ContractError("contract", "schema", f"invalid schema: {exc}") from None
        with self._lock:
            self._compiled[key] = compiled
        return compiled

    # -- requests -------------------------------------------------------------------------

    def validate_request(self, match: RouteMatch, request: MockRequest) -> RequestVerdict:
        """Deserialise and validate parameters and body; collect every failure."""
        op = match.operation
        space = op.schemas
        failures: list[Failure] = []
        data = RequestData()

        def deref(schema: Any) -> Any:
            return space.deref(space.converted(schema, "request"), "request")

        cookies = parse_cookies(request.headers.get("Cookie"))
        for param in op.parameters:
            raw = extract(
                param,
                path_params=match.path_params,
                query=request.query,
                headers=request.headers,
                cookies=cookies,
                deref=deref,
                raw_query=request.raw_query,
            )
            where = "header" if param.location == "header" else param.location
            if raw is MISSING:
                if param.required:
                    failures.append(
                        Failure(
                            kind="request",
                            rule="required",
                            message=f"{param.location} parameter '{param.name}' is required",
                            location=where,
                            name=param.name,
                            operation=op.key,
                        )
                    )
                continue
            if (
                raw == ""
                and param.location == "query"
                and not param.required
                and (param.allow_empty or self._accepts_empty(space, param, deref))
            ):
                # `?a=` is an empty, optional value: absent. Unless its schema refuses ""
                # (`since=` for a date-time) without allowEmptyValue: then it is invalid.
                continue
            value = coerce(raw, param.schema, deref)
            getattr(data, param.location)[param.name] = value
            compiled = self.compiled(space, param.schema, "request")
            if compiled.is_valid(value):
                continue
            for issue in compiled.issues(value):
                failures.append(
                    Failure(
                        kind="request",
                        rule=issue.rule,
                        message=f"{param.location} parameter '{param.name}': {issue.message}",
                        location=where,
                        name=param.name,
                        pointer=issue.pointer,
                        operation=op.key,
                    )
                )
        status = 400
        if op.request_body is not None:
            body_failures, status = self._validate_body(op, request, data)
            failures.extend(body_failures)
        return RequestVerdict(data, failures, status if failures else 400)

    def _accepts_empty(self, space: SchemaSpace, param: Parameter, deref: Any) -> bool:
        value = coerce("", param.schema, deref)
        return self.compiled(space, param.schema, "request").is_valid(value)

    def _validate_body(
        self, op: Operation, request: MockRequest, data: RequestData
    ) -> tuple[list[Failure], int]:
        spec = op.request_body
        assert spec is not None
        if not request.body:
            if spec.required:
                return [
                    Failure(
                        "request",
                        "required",
                        "the request body is required",
                        location="body",
                        operation=op.key,
                    )
                ], 400
            return [], 400
        content_type = request.content_type
        if not content_type:
            # No Content-Type: assume the contract's only/first media type (lenient like
            # most servers), JSON first.
            media = next(
                (m for m in spec.content.values() if is_json_media_type(m.media_type)),
                next(iter(spec.content.values()), None),
            )
        else:
            media = match_media_type(content_type, spec.content)
        if media is None:
            accepted = ", ".join(spec.content) or "no body"
            return [
                Failure(
                    "request",
                    "media-type",
                    f"Content-Type '{content_type or '(none)'}' is not accepted; "
                    f"this operation accepts: {accepted}",
                    location="header",
                    name="Content-Type",
                    operation=op.key,
                )
            ], 415
        data.media_type = media.media_type
        try:
            value = self._parse_body(request, media, op)
        except _BodyError as exc:
            return [
                Failure("request", exc.rule, exc.message, location="body", operation=op.key)
            ], 400
        data.body = value
        if media.schema is None or value is _BINARY:
            return [], 400
        compiled = self.compiled(op.schemas, media.schema, "request")
        if compiled.is_valid(value):
            return [], 400
        return [
            Failure(
                "request",
                issue.rule,
                f"body{issue.pointer or ''}: {issue.message}"
                if issue.pointer
                else f"body: {issue.message}",
                location="body",
                pointer=issue.pointer or "/",
                operation=op.key,
            )
            for issue in compiled.issues(value)
        ], 400

    def _parse_body(self, request: MockRequest, media: MediaType, op: Operation) -> Any:
        mt = media.media_type.lower()
        space = op.schemas

        def deref(schema: Any) -> Any:
            return space.deref(space.converted(schema, "request"), "request")

        if is_json_media_type(mt) or is_json_media_type(request.content_type):
            try:
                return json.loads(request.body)
            except UnicodeDecodeError:
                raise _BodyError("json", "the body is not UTF-8 JSON") from None
            except json.JSONDecodeError as exc:
                raise _BodyError(
                    "json", f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
                ) from None
        if mt == "application/x-www-form-urlencoded":
            try:
                pairs = parse_qsl(request.body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                raise _BodyError("form", "the form body is not UTF-8") from None
            return coerce(_group(pairs, media.schema, deref), media.schema or {}, deref)
        if mt == "multipart/form-data":
            return coerce(_parse_multipart(request), media.schema or {}, deref)
        if mt.startswith("text/"):
            try:
                return request.body.decode("utf-8")
            except UnicodeDecodeError:
                raise _BodyError("encoding", "the text body is not UTF-8") from None
        return _BINARY

    # -- answers --------------------------------------------------------------------------

    def validate_response(self, op: Operation, response: MockResponse) -> list[Failure]:
        """Check an answer against the contract: status, media type, headers, body."""
        if len(response.body) > _ANSWER_CACHE_BODY:
            return self._validate_response(op, response)
        key = (id(op), response.status, tuple(response.headers.items()), response.body)
        hit = self._answers.get(key)
        if hit is not None:
            return list(hit)
        failures = self._validate_response(op, response)
        with self._lock:
            self._answers[key] = tuple(failures)
            if len(self._answers) > _ANSWER_CACHE_SIZE:
                self._answers.popitem(last=False)
        return failures

    def _validate_response(self, op: Operation, response: MockResponse) -> list[Failure]:
        spec = op.response_for(response.status)
        if spec is None:
            return [
                Failure(
                    "response",
                    "status",
                    f"status {response.status} is not declared for {op.key}",
                    location="status",
                    operation=op.key,
                )
            ]
        failures: list[Failure] = []
        space = op.schemas

        def deref(schema: Any) -> Any:
            return space.deref(space.converted(schema, "response"), "response")

        for header in spec.headers.values():
            if header.name.lower() == "content-type":
                continue
            value = response.headers.get(header.name)
            if value is None:
                if header.required:
                    failures.append(
                        Failure(
                            "response",
                            "required",
                            f"required header '{header.name}' is missing",
                            location="header",
                            name=header.name,
                            operation=op.key,
                        )
                    )
                continue
            typed = coerce(value, header.schema, deref)
            compiled = self.compiled(space, header.schema, "response")
            for issue in [] if compiled.is_valid(typed) else compiled.issues(typed):
                failures.append(
                    Failure(
                        "response",
                        issue.rule,
                        f"header '{header.name}': {issue.message}",
                        location="header",
                        name=header.name,
                        operation=op.key,
                    )
                )
        if not spec.content:
            return failures
        if (not response.body and response.status in (204, 304)) or response.status == 304:
            return failures
        ct = response.content_type
        media = None
        for name, m in spec.content.items():
            if name.lower() == ct:
                media = m
                break
        if media is None:
            media = match_media_type(ct, spec.content) if ct else None
            failures.append(
                Failure(
                    "response",
                    "content-type",
                    f"Content-Type '{ct or '(none)'}' is not declared for status "
                    f"{response.status}; declared: {', '.join(spec.content)}",
                    location="content-type",
                    operation=op.key,
                )
            )
            if media is None:
                return failures
        if media.schema is None or not is_json_media_type(media.media_type):
            return failures
        try:
            value = json.loads(response.body)
        except ValueError:
            failures.append(
                Failure(
                    "response",
                    "json",
                    "the answer body is not valid JSON",
                    location="body",
                    operation=op.key,
                )
            )
            return failures
        compiled = self.compiled(op.schemas, media.schema, "response")
        if not compiled.is_valid(value):
            failures.extend(
                Failure(
                    "response",
                    issue.rule,
                    f"body{issue.pointer}: {issue.message}",
                    location="body",
                    pointer=issue.pointer or "/",
                    operation=op.key,
                )
                for issue in compiled.issues(value)
            )
        return failures


class _BodyError(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


_BINARY: Any = object()


def _group(pairs: list[tuple[str, str]], schema: Any, deref: Any) -> dict[str, Any]:
    from mockserver.params import schema_types

    node = deref(schema) if schema is not None else {}
    props = node.get("properties", {}) if isinstance(node, dict) else {}
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            prev = out[k]
            out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
        elif "array" in schema_types(props.get(k, {}), deref):
            out[k] = [v]
        else:
            out[k] = v
    return out


def _parse_multipart(request: MockRequest) -> dict[str, Any]:
    header = request.headers.get("Content-Type") or ""
    if "boundary=" not in header:
        raise _BodyError("multipart", "multipart/form-data without a boundary parameter")
    raw = b"Content-Type: " + header.encode("latin-1") + b"\r\n\r\n" + request.body
    message = BytesParser(policy=HTTP).parsebytes(raw)
    if not message.is_multipart():
        raise _BodyError("multipart", "the multipart body could not be parsed")
    out: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None or not isinstance(payload, bytes):
            value: Any = "(binary)"
        else:
            value = payload.decode("utf-8", errors="replace")
        out[name] = value
    return out
