"""The request pipeline: ``handle(MockRequest) -> MockResponse``. No Flask, no sockets.

Steps, in order (see the README's architecture section):
route -> faults -> rate limit -> auth -> request validation -> answer -> self-check -> journal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from mockserver.config import Config
from mockserver.conformance.journal import Exchange, Journal
from mockserver.contract.model import Contract, Operation
from mockserver.contract.router import RouteMatch, Router
from mockserver.errorbody import render_error
from mockserver.errors import ContractError
from mockserver.failures import Failure
from mockserver.http import MockRequest, MockResponse, problem
from mockserver.responder import ExampleNotFound, Preferences, Responder, parse_prefer
from mockserver.validation import Validators

log = logging.getLogger("mockserver")


class Pipeline:
    """Everything between a parsed request and its answer, for a set of contracts."""

    def __init__(self, contracts: Sequence[Contract], config: Config | None = None) -> None:
        self.contracts = list(contracts)
        self.config = config or Config()
        self.operations: list[Operation] = [op for c in self.contracts for op in c.operations]
        self.router = Router(self.operations)
        self.validators = Validators()
        self.responder = Responder(self.validators, self.config.seed)
        self.journal = Journal(self.config.journal_size)

    def reset(self) -> None:
        """Back to the state at start: journal emptied."""
        self.journal.clear()

    def handle(self, request: MockRequest) -> MockResponse:
        """Answer one request; never raises, never leaks a traceback to the client."""
        started = time.perf_counter()
        exchange = Exchange(
            method=request.method,
            path=request.path,
            query=request.raw_query or urlencode(request.query),
            status=0,
            operation=None,
            source="route",
            client=request.remote_addr,
        )
        try:
            response = self._handle(request, exchange)
        except ContractError as exc:
            log.error(
                "contract problem while answering %s %s: %s", request.method, request.path, exc
            )
            response = problem(
                500,
                "Contract error",
                f"the contract cannot answer this request: {exc.one_line()}",
                type_="https://mockserver.dev/problems/contract-error",
            )
            exchange.source = "error"
        except Exception:
            log.exception("mockserver failed on %s %s", request.method, request.path)
            response = problem(
                500,
                "Internal mock error",
                "mockserver hit an unexpected error answering this request; "
                "the server log has the details",
                type_="https://mockserver.dev/problems/internal-error",
            )
            exchange.source = "error"
        exchange.status = response.status
        exchange.duration_ms = (time.perf_counter() - started) * 1000
        self.journal.record(exchange)
        return response

    def _handle(self, request: MockRequest, exchange: Exchange) -> MockResponse:
        if len(request.body) > self.config.max_body_bytes:
            return problem(
                413,
                "Payload Too Large",
                f"the body is {len(request.body)} bytes; the limit is {self.config.max_body_bytes}",
            )
        match = self.router.match(request.method, request.path)
        if not isinstance(match, RouteMatch):
            failure_rule = "method" if match.allowed else "path"
            if match.allowed:
                resp = problem(
                    405,
                    "Method Not Allowed",
                    f"{request.method} is not allowed on {request.path}; allowed: "
                    f"{', '.join(match.allowed)}",
                    headers={"Allow": ", ".join(match.allowed)},
                )
            else:
                hint = f"; did you mean {', '.join(match.nearest)}?" if match.nearest else ""
                resp = problem(
                    404, "Not Found", f"no operation in the contract matches {request.path}{hint}"
                )
            exchange.request_failures.append(
                Failure("request", failure_rule, resp.json_body()["detail"], location="route")
            )
            return resp
        op = match.operation
        exchange.operation = op.key
        prefs = parse_prefer(request.headers)
        verdict = self.validators.validate_request(match, request)
        exchange.parameters = sorted(
            f"{where}:{name}"
            for where in ("path", "query", "header", "cookie")
            for name in getattr(verdict.data, where)
        )
        if verdict.failures:
            exchange.request_failures.extend(verdict.failures)
            if self.config.validate_requests:
                exchange.source = "validation"
                return self._invalid_request(op, verdict.status, verdict.failures)
        return self._answer(op, match, request, prefs, exchange)

    def _invalid_request(self, op: Operation, status: int, failures: list[Failure]) -> MockResponse:
        title = "Unsupported Media Type" if status == 415 else "Invalid request"
        detail = "; ".join(f.message for f in failures[:5])
        if len(failures) > 5:
            detail += f" (and {len(failures) - 5} more)"
        return render_error(
            self.responder,
            op,
            status,
            title,
            detail,
            errors=[f.to_problem_error() for f in failures],
            problem_type="https://mockserver.dev/problems/invalid-request",
        )

    def _answer(
        self,
        op: Operation,
        match: RouteMatch,
        request: MockRequest,
        prefs: Preferences,
        exchange: Exchange,
    ) -> MockResponse:
        status = prefs.code or op.success_status()
        warnings: list[Failure] = []
        if op.response_for(status) is None:
            exchange.source = "prefer"
            response = problem(
                status,
                "Preferred status not in the contract",
                f"Prefer asked for {status}; {op.key} declares {', '.join(sorted(op.responses))}",
            )
        else:
            try:
                response = self.responder.build(op, status, request, prefs, warnings)
            except ExampleNotFound as exc:
                exchange.source = "prefer"
                return problem(
                    422,
                    "Unknown example",
                    f"Prefer asked for example {exc.name!r}; available: "
                    f"{', '.join(exc.available) or 'none'}",
                )
            exchange.source = "example" if not warnings and not prefs.dynamic else "synthesis"
        exchange.response_failures.extend(warnings)
        self._self_check(op, response, exchange)
        return response

    def _self_check(self, op: Operation, response: MockResponse, exchange: Exchange) -> None:
        if not self.config.self_check:
            return
        failures = self.validators.validate_response(op, response)
        if failures:
            for f in failures:
                log.warning("answer for %s breaks the contract: %s", op.key, f.message)
            exchange.response_failures.extend(failures)

    def describe(self) -> dict[str, Any]:
        """Summary for the health endpoint."""
        return {
            "contracts": [
                {
                    "name": c.name,
                    "title": c.title,
                    "version": c.version,
                    "base_path": c.base_path or "/",
                    "operations": len(c.operations),
                }
                for c in self.contracts
            ],
            "operations": len(self.operations),
        }
