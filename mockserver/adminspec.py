"""The admin API (and the OAuth endpoints the mock serves) described in OpenAPI 3.0.

Served at ``GET /__mockserver/openapi.json`` so the mock's own surface can be explored
and fuzzed with the same tools as any API (the reliability suite runs schemathesis on it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_PROBLEM = {
    "description": "RFC 9457 problem",
    "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
}
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}
_HTML = {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}
_REPORT = {
    "description": "Conformance report (see the README, Conformance reports)",
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "application/xml": {"schema": {"type": "string"}},
        "text/html": {"schema": {"type": "string"}},
        "text/markdown": {"schema": {"type": "string"}},
    },
}
_OAUTH_ERROR = {
    "description": "OAuth 2.0 error (RFC 6749 5.2)",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}},
}


def admin_openapi(
    token_paths: Iterable[str] = (), authorize_paths: Iterable[str] = ()
) -> dict[str, Any]:
    """The OpenAPI document of ``/__mockserver/`` plus the given OAuth endpoints."""
    ok = {"description": "OK", "content": _JSON_OBJECT}
    paths: dict[str, Any] = {
        "/__mockserver/health": {"get": {"operationId": "health", "responses": {"200": ok}}},
        "/__mockserver/reset": {"post": {"operationId": "reset", "responses": {"200": ok}}},
        "/__mockserver/journal": {
            "get": {
                "operationId": "journal",
                "parameters": [
                    {"name": "since", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {"200": ok, "400": _PROBLEM},
            }
        },
        "/__mockserver/scenario": {
            "get": {"operationId": "listScenarios", "responses": {"200": ok}},
            "post": {
                "operationId": "addScenario",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Scenario"}}
                    },
                },
                "responses": {"201": ok, "400": _PROBLEM, "415": _PROBLEM},
            },
            "delete": {
                "operationId": "deleteScenarios",
                "parameters": [{"name": "id", "in": "query", "schema": {"type": "string"}}],
                "responses": {"200": ok},
            },
        },
        "/__mockserver/tokens/expire": {
            "post": {"operationId": "expireTokens", "responses": {"200": ok}}
        },
        "/__mockserver/": {"get": {"operationId": "livePage", "responses": {"200": _HTML}}},
        "/__mockserver/coverage": {"get": {"operationId": "coverage", "responses": {"200": ok}}},
        "/__mockserver/report": {
            "get": {
                "operationId": "report",
                "parameters": [
                    {
                        "name": "format",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["json", "junit", "html", "md"]},
                    }
                ],
                "responses": {"200": _REPORT, "400": _PROBLEM},
            }
        },
    }
    for path in sorted(set(token_paths)):
        paths[path] = {"post": _token_operation(path)}
    for path in sorted(set(authorize_paths)):
        paths[path] = {"get": _authorize_operation(path)}
    return {
        "openapi": "3.0.3",
        "info": {"title": "mockserver admin API", "version": "1"},
        "paths": paths,
        "components": {"schemas": _SCHEMAS},
    }


def _token_operation(path: str) -> dict[str, Any]:
    form = {"$ref": "#/components/schemas/TokenRequest"}
    return {
        "operationId": "token" + path.replace("/", "_"),
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": form},
                "application/json": {"schema": form},
            },
        },
        "responses": {
            "200": {
                "description": "token",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Token"}}},
            },
            "400": _OAUTH_ERROR,
            "401": _OAUTH_ERROR,
            "415": _PROBLEM,
        },
    }


def _authorize_operation(path: str) -> dict[str, Any]:
    text = {"type": "string"}
    params = [
        {"name": n, "in": "query", "schema": text}
        for n in (
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
        )
    ]
    return {
        "operationId": "authorize" + path.replace("/", "_"),
        "parameters": params,
        "responses": {
            "200": {"description": "code without a redirect", "content": _JSON_OBJECT},
            "302": {"description": "redirect with code or error"},
            "400": _OAUTH_ERROR,
        },
    }


_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
        },
    },
    "Scenario": {
        "type": "object",
        "properties": {
            "operation": {"type": "string", "nullable": True},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "times": {"type": "integer", "minimum": 1, "nullable": True},
            "delay_ms": {"type": "integer", "minimum": 0, "maximum": 60000},
            "drop": {"type": "boolean"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {},
            "id": {"type": "string"},
        },
    },
    "TokenRequest": {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in (
                "grant_type",
                "client_id",
                "client_secret",
                "code",
                "redirect_uri",
                "code_verifier",
                "refresh_token",
                "scope",
            )
        },
    },
    "Token": {
        "type": "object",
        "required": ["access_token", "token_type", "expires_in"],
        "properties": {
            "access_token": {"type": "string"},
            "token_type": {"type": "string"},
            "expires_in": {"type": "integer"},
            "scope": {"type": "string"},
            "refresh_token": {"type": "string"},
        },
    },
    "OAuthError": {
        "type": "object",
        "required": ["error"],
        "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
    },
}
