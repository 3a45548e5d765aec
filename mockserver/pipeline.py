"""The request pipeline: ``handle(MockRequest) -> MockResponse``. No Flask, no sockets.

Steps, in order (see the README's architecture section): route -> faults -> auth
(identify) -> rate limit -> auth (enforce) -> request validation -> answer -> self-check
-> journal. The caller is identified before the rate limit so limits count per client,
but an auth failure is only answered after the limit: a client hammering with a bad
token is still throttled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from mockserver.behaviours.faults import FaultAction, Faults
from mockserver.behaviours.oauth import ANONYMOUS, Identity, OAuth
from mockserver.behaviours.ratelimit import RateDecision, RateLimiter
from mockserver.config import Config
from mockserver.conformance.journal import Exchange, Journal
from mockserver.contract.model import Contract, Operation
from mockserver.contract.router import RouteMatch, Router
from mockserver.errorbody import render_error
from mockserver.errors import ContractError
from mockserver.failures import Failure
from mockserver.http import Headers, MockRequest, MockResponse, Rejection, dump_json, problem
from mockserver.responder import ExampleNotFound, Preferences, Responder, parse_prefer
from mockserver.state.base import StateStore
from mockserver.state.memory import MemoryStore
from mockserver.validation import RequestData, Validators

log = logging.getLogger("mockserver")
Clock = Callable[[], float]


class Pipeline:
    """Everything between a parsed request and its answer, for a set of contracts."""

    def __init__(
        self,
        contracts: Sequence[Contract],
        config: Config | None = None,
        *,
        store: StateStore | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.contracts = list(contracts)
        self.config = config or Config()
        self.store: StateStore = store if store is not None else MemoryStore()
        self.clock = clock
        self.operations: list[Operation] = [op for c in self.contracts for op in c.operations]
        self.router = Router(self.operations)
        self.validators = Validators()
        self.responder = Responder(self.validators, self.config.seed)
        self.journal = Journal(self.config.journal_size)
        self.oauth = OAuth(self.contracts, self.config.oauth, self.store, clock)
        self.limiter = RateLimiter(self.config.rate_limit, self.store, clock)
        self.faults = Faults(self.config.faults, self.store)

    def reset(self) -> None:
        """Back to the state at start: tokens, counters, scenarios, data, journal."""
        self.oauth.reset()
        self.limiter.reset()
        self.faults.reset()
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
            log.error("contract problem answering %s %s: %s", request.method, request.path, exc)
            response = problem(
                500,
                "Contract error",
                f"the contract cannot answer this request: {exc.one_line()}",
                type_="https://mockserver.dev/problems/contract-error",
            )
            exchange.source = "error"
        except Exception:  # the client gets problem+json, the log gets the traceback
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

    # -- the steps ------------------------------------------------------------------------

    def _handle(self, request: MockRequest, exchange: Exchange) -> MockResponse:
        if len(request.body) > self.config.max_body_bytes:
            return problem(
                413,
                "Payload Too Large",
                f"the body is larger than the limit of {self.config.max_body_bytes} bytes",
            )
        match = self.router.match(request.method, request.path)
        op = match.operation if isinstance(match, RouteMatch) else None
        if op is not None:
            exchange.operation = op.key
        if self.oauth.handles(request.method, request.path):
            return self._oauth_endpoint(request, op, exchange)
        if not isinstance(match, RouteMatch):
            return self._no_route(request, match.allowed, match.nearest, exchange)
        assert op is not None
        action = self.faults.apply(op.key, request)
        if action is not None and action.drop:
            exchange.source = f"fault:{action.scenario_id}"
            return MockResponse(0, drop_connection=True, delay=action.delay)
        auth = self.oauth.enforce(op, request)
        identity = auth if isinstance(auth, Identity) else ANONYMOUS
        exchange.client = identity.client_id or request.remote_addr
        decision = self.limiter.check(op.key, identity.client_id, request.remote_addr)
        response = self._after_limit(op, match, request, exchange, auth, decision, action)
        if decision is not None:
            for name, value in self.limiter.headers(decision).items():
                response.headers.set(name, value)
        if action is not None:
            response.delay = max(response.delay, action.delay)
            for name, value in action.headers.items():
                response.headers.set(name, value)
        self._self_check(op, response, exchange)
        return response

    def _after_limit(
        self,
        op: Operation,
        match: RouteMatch,
        request: MockRequest,
        exchange: Exchange,
        auth: Identity | Rejection,
        decision: RateDecision | None,
        action: FaultAction | None,
    ) -> MockResponse:
        if decision is not None and not decision.allowed:
            exchange.source = "rate-limit"
            return self._reject(op, self.limiter.rejection(decision))
        if isinstance(auth, Rejection):
            exchange.source = "auth"
            exchange.request_failures.append(
                Failure(
                    "request",
                    auth.error or "auth",
                    auth.detail or auth.title,
                    location="auth",
                    operation=op.key,
                )
            )
            return self._reject(op, auth)
        if action is not None and action.status is not None:
            exchange.source = f"fault:{action.scenario_id}"
            return self._forced(op, request, action)
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
        return self._answer(op, match, request, prefs, verdict.data, exchange)

    def _oauth_endpoint(
        self, request: MockRequest, op: Operation | None, exchange: Exchange
    ) -> MockResponse:
        exchange.source = "oauth"
        decision = None
        if op is not None:
            decision = self.limiter.check(op.key, "", request.remote_addr)
            if decision is not None and not decision.allowed:
                exchange.source = "rate-limit"
                return self._reject(op, self.limiter.rejection(decision))
        if request.method == "GET":
            response = self.oauth.authorize(request)
        else:
            response = self.oauth.token(request)
        if decision is not None:
            for name, value in self.limiter.headers(decision).items():
                response.headers.set(name, value)
        if op is not None:
            self._self_check(op, response, exchange)
        return response

    def _no_route(
        self, request: MockRequest, allowed: list[str], nearest: list[str], exchange: Exchange
    ) -> MockResponse:
        if allowed:
            detail = (
                f"{request.method} is not allowed on {request.path}; allowed: {', '.join(allowed)}"
            )
            resp = problem(405, "Method Not Allowed", detail, headers={"Allow": ", ".join(allowed)})
            rule = "method"
        else:
            hint = f"; did you mean {', '.join(nearest)}?" if nearest else ""
            detail = f"no operation in the contract matches {request.path}{hint}"
            resp = problem(404, "Not Found", detail)
            rule = "path"
        exchange.request_failures.append(Failure("request", rule, detail, location="route"))
        return resp

    def _reject(self, op: Operation, rejection: Rejection) -> MockResponse:
        return render_error(
            self.responder,
            op,
            rejection.status,
            rejection.title,
            rejection.detail,
            code=rejection.code,
            error=rejection.error,
            headers=rejection.headers,
            prefer_example=True,
            hint="bad credentials invalid" if rejection.error == "invalid_token" else "",
        )

    def _forced(self, op: Operation, request: MockRequest, action: FaultAction) -> MockResponse:
        status = action.status
        assert status is not None
        if action.body is not None:
            media = op.response_for(status)
            mt = media.first_media_type() if media is not None else None
            content_type = mt.media_type if mt is not None else "application/json"
            headers = Headers({"Content-Type": content_type})
            body = action.body
            return MockResponse(
                status, headers, body.encode() if isinstance(body, str) else dump_json(body)
            )
        if op.response_for(status) is None or status >= 400:
            return render_error(
                self.responder,
                op,
                status,
                _reason(status),
                f"scenario {action.scenario_id} forced status {status}",
                prefer_example=True,
            )
        return self.responder.build(op, status, request, Preferences(), [])

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
        data: RequestData,
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
        return response

    def _self_check(self, op: Operation, response: MockResponse, exchange: Exchange) -> None:
        if not self.config.self_check or response.drop_connection:
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


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"
