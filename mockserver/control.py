"""The admin API under ``/__mockserver/`` (JSON in and out).

``GET health``, ``POST reset``, ``GET journal``, ``GET/POST/DELETE scenario``,
``POST tokens/expire``, ``GET coverage``, ``GET report?format=json|junit|html|md`` and
the live page at ``GET /__mockserver/``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from mockserver.adminspec import admin_openapi
from mockserver.behaviours.faults import Scenario
from mockserver.conformance.report import (
    FORMATS,
    MEDIA_TYPES,
    client_report,
    live_page,
    render,
)
from mockserver.errors import ConfigError
from mockserver.pipeline import Pipeline
from mockserver.state.base import StateUnavailable

log = logging.getLogger("mockserver")


def create_blueprint(pipeline: Pipeline) -> Blueprint:
    """The admin blueprint bound to one pipeline."""
    bp = Blueprint("mockserver_admin", __name__)

    @bp.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        body: dict[str, Any] = {
            "type": "about:blank",
            "title": exc.name,
            "status": exc.code,
            "detail": exc.description,
        }
        resp = jsonify(body)
        resp.status_code = exc.code or 500
        resp.content_type = "application/problem+json"
        return resp

    @bp.errorhandler(StateUnavailable)
    def _state_unavailable(exc: StateUnavailable) -> ResponseReturnValue:
        # as the pipeline answers mocked traffic: the shared state is away, retry shortly
        log.error("admin %s %s: state unavailable: %s", request.method, request.path, exc)
        return _problem(
            503,
            "State unavailable",
            "the mock's shared state (Redis) is unreachable; retry shortly",
            type_="https://mockserver.dev/problems/state-unavailable",
            headers={"Retry-After": "1"},
        )

    @bp.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        # HTTPExceptions never get here: Flask picks _http_error, the closer handler
        log.exception("admin %s %s failed", request.method, request.path)
        return _problem(
            500,
            "Internal mock error",
            "mockserver hit an unexpected error answering this admin request; "
            "the server log has the details",
            type_="https://mockserver.dev/problems/internal-error",
        )

    @bp.get("/health")
    def health() -> ResponseReturnValue:
        return jsonify({"status": "ok", **pipeline.describe()})

    @bp.post("/reset")
    def reset() -> ResponseReturnValue:
        pipeline.reset()
        return jsonify({"status": "reset"})

    @bp.get("/journal")
    def journal() -> ResponseReturnValue:
        since = request.args.get("since", default=0, type=int)
        limit = request.args.get("limit", default=None, type=int)
        entries = pipeline.journal.entries(since=since, limit=limit)
        return jsonify(
            {"entries": [e.to_dict() for e in entries], "capacity": pipeline.journal.capacity}
        )

    @bp.get("/scenario")
    def list_scenarios() -> ResponseReturnValue:
        return jsonify({"scenarios": [s.to_json() for s in pipeline.faults.list()]})

    @bp.post("/scenario")
    def add_scenario() -> ResponseReturnValue:
        data = request.get_json(silent=True)
        if data is None:
            return _problem(400, "Invalid scenario", "the body must be a JSON object")
        try:
            scenario = Scenario.from_json(data, "POST /__mockserver/scenario")
        except ConfigError as exc:
            return _problem(400, "Invalid scenario", exc.problem, pointer=exc.location)
        added = pipeline.faults.add(scenario)
        resp = jsonify(added.to_json())
        resp.status_code = 201
        return resp

    @bp.delete("/scenario")
    def delete_scenarios() -> ResponseReturnValue:
        removed = pipeline.faults.remove(request.args.get("id") or None)
        return jsonify({"removed": removed})

    @bp.get("/openapi.json")
    def openapi() -> ResponseReturnValue:
        return jsonify(admin_openapi(pipeline.oauth.token_paths, pipeline.oauth.authorize_paths))

    @bp.post("/tokens/expire")
    def expire_tokens() -> ResponseReturnValue:
        return jsonify({"expired": pipeline.oauth.expire_all()})

    @bp.get("/")
    def live() -> ResponseReturnValue:
        title = ", ".join(c.title for c in pipeline.contracts) or "mockserver"
        return Response(live_page(title), content_type=MEDIA_TYPES["html"])

    @bp.get("/coverage")
    def coverage() -> ResponseReturnValue:
        data = client_report(pipeline.journal, pipeline.contracts, max_exchanges=0).to_dict()
        return jsonify({"summary": data["summary"], "operations": data["operations"]})

    @bp.get("/report")
    def report_() -> ResponseReturnValue:
        fmt = request.args.get("format", "json")
        if fmt not in FORMATS:
            return _problem(
                400,
                "Unknown report format",
                f"format {fmt!r} is not one of: {', '.join(FORMATS)}",
            )
        report = client_report(pipeline.journal, pipeline.contracts)
        return Response(render(report, fmt), content_type=MEDIA_TYPES[fmt])

    return bp


def _problem(
    status: int,
    title: str,
    detail: str,
    *,
    type_: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    resp = jsonify({"type": type_, "title": title, "status": status, "detail": detail, **extra})
    resp.status_code = status
    resp.content_type = "application/problem+json"
    for name, value in (headers or {}).items():
        resp.headers[name] = value
    return resp
