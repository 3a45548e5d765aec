"""The admin API under ``/__mockserver/``: health, reset, journal (JSON in and out)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from mockserver.pipeline import Pipeline


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

    return bp
