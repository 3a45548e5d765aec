"""The request pipeline: ``handle(MockRequest) -> MockResponse``. No Flask, no sockets.

Steps, in order (see the README's architecture section): route -> faults -> auth
(identify) -> rate limit -> auth (enforce) -> request validation -> answer -> self-check
-> journal. The caller is identified before the rate limit so limits count per client,
but an auth failure is only answered after the limit: a client hammering with a bad
token is still throttled.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from mockserver.behaviours.faults import FaultAction, Faults
from mockserver.behaviours.oauth import ANONYMOUS, Identity, OAuth
from mockserver.behaviours.pagination import PageError, Pagination
from mockserver.behaviours.ratelimit import RateDecision, RateLimiter
from mockserver.behaviours.resources import Resources, Target
from mockserver.config import Config
from mockserver.conformance.journal import Exchange, Journal
from mockserver.contract.model import Contract, Operation
from mockserver.contract.router import RouteMatch, Router
from mockserver.errorbody import render_error
from mockserver.errors import ContractError
from mockserver.failures import Failure
from mockserver.http import Headers, MockRequest, MockResponse, Rejection, dump_json, problem
from mockserver.responder import (
    ExampleNotFound,
    Preferences,
    Responder,
    parse_prefer,
    request_seed,
)
from mockserver.state.base import StateStore, StateUnavailable
from mockserver.state.memory import MemoryStore
from mockserver.validation import RequestData, Validators

if TYPE_CHECKING:
    # Imported where used: the replayer brings vcrpy (and the HTTP clients it patches),
    # which would slow every start-up without cassettes.
    from mockserver.cassettes.replay import Replayer

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
        journal: Journal | None = None,
        clock: Clock = time.time,
        cassettes: Replayer | None = None,
    ) -> None:
        self.contracts = list(contracts)
        # Recorded answers (cassettes/replay.py), consulted in the answer step.
        self.cassettes = cassettes
        self.config = config or Config()
        self.store: StateStore = store if store is not None else MemoryStore()
        self.clock = clock
        self.operations: list[Operation] = [op for c in self.contracts for op in c.operations]
        self.router = Router(self.operations)
        self.validators = Validators()
        self.responder = Responder(self.validators, self.config.seed)
        # A shared store comes with a shared journal (conformance/redis_journal.py).
        self.journal = journal if journal is not None else Journal(self.config.journal_size)
        self.oauth = OAuth(self.contracts, self.config.oauth, self.store, clock)
        self.limiter = RateLimiter(self.config.rate_limit, self.store, clock)
        self.faults = Faults(self.config.faults, self.store)
        self.resources = Resources(
            self.operations, self.config.pagination, self.store, self._make_item
        )
        self.pagination = Pagination(self.config.pagination)
        self._origins = _server_origins(self.contracts)
        self._answers = _AnswerCache()

    def _make_item(self, op: Operation, schema: Any, index: int) -> Any:
        # Item 0 may be the schema's own example; the others are synthesised so a
        # collection is not 42 copies of the documentation's one example.
        space = op.schemas
        node = space.deref(schema)
        if index and isinstance(node, dict) and ("example" in node or "examples" in node):
            node = {k: v for k, v in node.items() if k not in ("example", "examples")}
        # A dataset is collection_size items made at once, per scope: a smaller node budget
        # keeps seeding a Stripe-sized collection well under a second (past the budget only
        # required parts are generated, so items still conform).
        return self.responder.synth_value(
            op, node, request_seed(self.config.seed, "item", op.key, index), max_nodes=300
        )

    def reset(self) -> None:
        """Back to the state at start: tokens, counters, scenarios, data, journal."""
        self.oauth.reset()
        self.limiter.reset()
        self.faults.reset()
        self.resources.reset()
        self.journal.clear()
        if self.cassettes is not None:
            self.cassettes.rewind()

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
            # A shared store (Redis) serves repeated reads from memory while nothing changed.
            scope = getattr(self.store, "request_scope", None)
            with scope() if scope is not None else contextlib.nullcontext():
                response = self._handle(request, exchange)
        except StateUnavailable as exc:
            # Fail closed: without the shared state no token, limit or dataset is right.
            log.error("state unavailable answering %s %s: %s", request.method, request.path, exc)
            response = problem(
                503,
                "State unavailable",
                "the mock's shared state (Redis) is unreachable; retry shortly",
                type_="https://mockserver.dev/problems/state-unavailable",
                headers={"Retry-After": "1"},
            )
            exchange.source = "error"
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
            # A recording of a path the contract lacks still answers (pytest-recording
            # cassettes of whole APIs); the contract cannot self-check it.
            replayed = self._replay(request, exchange)
            if replayed is not None:
                return replayed
            return self._no_route(request, match.allowed, match.nearest, exchange)
        assert op is not None
        action = self.faults.apply(op.key, request)
        if action is not None and action.drop:
            exchange.source = f"fault:{action.scenario_id}"
            return MockResponse(0, drop_connection=True, delay=action.delay)
        auth = self.oauth.enforce(op, request)
        identity = auth if isinstance(auth, Identity) else ANONYMOUS
        exchange.client = _journal_client(identity) or request.remote_addr
        decision = self.limiter.check(op.key, identity.client_id, request.remote_addr)
        response = self._after_limit(op, match, request, exchange, auth, decision, action)
        if decision is not None:
            for name, value in self.limiter.headers(decision).items():
                response.headers.set(name, value)
        if action is not None:
            response.delay = max(response.delay, action.delay)
            for name, value in action.headers.items():
                response.headers.set(name, value)
        self._rewrite_hosts(request, response)
        if exchange.source != "cassette":  # a recording stays as recorded: drift shows
            self._complete_headers(op, request, response)
        self._self_check(op, response, exchange)
        return response

    def _rewrite_hosts(
        self, request: MockRequest, response: MockResponse, recorded: Sequence[bytes] = ()
    ) -> None:
        """Point absolute URLs of the real API at the mock the client called.

        Clients follow them (PyGithub loads objects from their ``url``; every client
        follows ``Link``), and PyGithub refuses a host other than its base URL's.
        ``recorded`` adds the host a replayed cassette interaction was recorded from.
        """
        origins = self._origins
        if recorded:
            origins = sorted({*origins, *recorded}, key=len, reverse=True)
        if not origins:
            return
        root = request.root_url.encode()
        body = response.body
        for origin in origins:
            if origin in body:
                body = body.replace(origin, root)
        response.body = body
        link = response.headers.get("Link")
        if link:
            for origin in origins:
                link = link.replace(origin.decode(), request.root_url)
            response.headers.set("Link", link)

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
        if self.cassettes is not None:  # replay plays interactions in order: never reused
            return self._validated_answer(op, match, request, exchange)
        version = getattr(self.store, "version", None)
        cached = self._answers.get(op, request, exchange, version)
        if cached is not None:
            return cached
        before = (len(exchange.request_failures), len(exchange.response_failures))
        response = self._validated_answer(op, match, request, exchange)
        if version is not None and getattr(self.store, "version", None) == version:
            self._answers.put(op, request, exchange, version, response, before)
        return response

    def _validated_answer(
        self, op: Operation, match: RouteMatch, request: MockRequest, exchange: Exchange
    ) -> MockResponse:
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
        replayed = self._replay(request, exchange)
        if replayed is not None:
            # The recorded token (a scrubbed placeholder) must open the recorded API calls.
            from mockserver.cassettes.replay import granted_token

            grant = granted_token(replayed) if exchange.source == "cassette" else None
            if grant is not None:
                self.oauth.adopt(grant[0], grant[1] or self._scopes())
            if op is not None:
                self._self_check(op, replayed, exchange)
            return replayed
        if request.method == "GET":
            response = self.oauth.authorize(request)
            if op is not None and response.status == 200 and op.response_for(200) is None:
                # The headless {code, state} answer is ours; a contract that only knows the
                # redirect gets the RFC error for a missing redirect URI instead.
                return render_error(
                    self.responder,
                    op,
                    400,
                    "Invalid request",
                    "redirect_uri is required: no redirect URI is registered for this client",
                    error="invalid_request",
                )
        else:
            response = self.oauth.token(request)
            if op is not None and response.status != _fit_auth_status(op, response.status):
                response.status = 401
                response.headers.setdefault(
                    "WWW-Authenticate", f'Basic realm="{self.config.oauth.realm}"'
                )
            elif op is not None and response.status == 401 and op.response_for(401) is None:
                # RFC 6749 5.2: every token error may be 400, 401 is an option the contract
                # does not declare (GitHub's token endpoint)
                response.status = 400
                response.headers.remove("WWW-Authenticate")
        if op is not None and response.status < 400:
            response = self._contract_checked(op, request, response, exchange)
        if op is not None and response.status >= 400:
            response = self._oauth_error_in_contract_shape(op, response)
        if decision is not None:
            for name, value in self.limiter.headers(decision).items():
                response.headers.set(name, value)
        if op is not None:
            self._self_check(op, response, exchange)
        return response

    def _oauth_error_in_contract_shape(self, op: Operation, response: MockResponse) -> MockResponse:
        """An RFC 6749 error body, completed to the contract's error schema if it wants more
        (Amadeus' published token contract requires ``code`` and ``title`` too)."""
        if not response.status or response.status < 400:
            return response
        if self.validators.validate_response(op, response) == []:
            return response
        try:
            data = response.json_body()
        except ValueError:
            return response
        if not isinstance(data, dict):
            return response
        error = str(data.get("error") or "invalid_request")
        headers = response.headers.copy()
        headers.remove("Content-Type")
        return render_error(
            self.responder,
            op,
            response.status,
            str(data.get("title") or error.replace("_", " ").capitalize()),
            str(data.get("error_description") or ""),
            error=error,
            code=data["code"] if isinstance(data.get("code"), int) else None,
            headers=headers,
        )

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
            _fit_auth_status(op, rejection.status) if rejection.error else rejection.status,
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
        if status == 400 and op.response_for(400) is None and op.response_for(422) is not None:
            status = 422  # the contract's own status for invalid input (GitHub's)
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
        if prefs.code is None and prefs.example is None and not prefs.dynamic:
            replayed = self._replay(request, exchange)
            if replayed is not None:
                return replayed
        if prefs.code is None and prefs.example is None:
            target = self.resources.target(op, match.path_params)
            if target is not None:
                exchange.source = "resource"
                return self._resource(op, target, request, prefs, data)
            parent = self._missing_parent(op, match)
            if parent is not None:
                exchange.source = "resource"
                return self._reject(op, Resources.not_found(parent))
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

    def _resource(
        self,
        op: Operation,
        target: Target,
        request: MockRequest,
        prefs: Preferences,
        data: RequestData,
    ) -> MockResponse:
        """Answers backed by the dataset: pages of a collection, items, CRUD."""
        status = op.success_status()
        spec = op.response_for(status)
        media = self.responder.choose_media(spec, request) if spec is not None else None
        envelope: Any = None
        if media is not None:
            envelope = self.responder.body_for(op, status, media, request, prefs, [])
        coll = target.collection
        extra = Headers()
        if target.kind == "list":
            items = self.resources.items(coll, target.scope, copies=False)
            try:
                body, extra = self.pagination.paginate(
                    op,
                    self.pagination.style(op),
                    items,
                    request,
                    data,
                    envelope,
                    id_field=coll.id_field,
                )
            except PageError as exc:
                return self._reject(op, exc.rejection)
        elif target.kind == "create":
            item = self.resources.create(coll, data.body, target.scope)
            body = self.resources.wrap_item(op, item, envelope, request)
            location = self.resources.location(coll, item, target.scope, request.root_url)
            if location:
                extra.set("Location", location)
        else:
            found = self.resources.find(target)
            if found is None:
                return self._reject(op, Resources.not_found(target))
            item_id, item = found
            if op.method == "DELETE":
                self.resources.delete(coll, item_id, target.scope)
                item = None
            elif op.method == "PUT":
                item = self.resources.replace(coll, item_id, data.body, target.scope)
            elif op.method == "PATCH":
                item = self.resources.update(coll, item_id, data.body, target.scope)
            body = None if item is None else self.resources.wrap_item(op, item, envelope, request)
        response = self.responder.build(
            op, status, request, prefs, [], body=body, has_body=body is not None
        )
        for name, value in extra.items():
            response.headers.set(name, value)
        return response

    def _self_check(self, op: Operation, response: MockResponse, exchange: Exchange) -> None:
        if not self.config.self_check or response.drop_connection:
            return
        failures = self.validators.validate_response(op, response)
        if failures:
            for f in failures:
                log.warning("answer for %s breaks the contract: %s", op.key, f.message)
            exchange.response_failures.extend(failures)

    def _replay(self, request: MockRequest, exchange: Exchange) -> MockResponse | None:
        """The cassette step: a recorded answer, a refusal (strict, or every match played
        with ``repeat: error``), or None to let the contract answer."""
        if self.cassettes is None:
            return None
        from mockserver.cassettes.replay import Played

        outcome = self.cassettes.play(request)
        if isinstance(outcome, Played):
            exchange.source = "cassette"
            response = outcome.response
            self._rewrite_hosts(request, response, [outcome.origin.encode()])
            return response
        if not (self.cassettes.strict or outcome.exhausted):
            return None
        exchange.source = "cassette"
        exchange.request_failures.append(
            Failure(
                "request",
                "cassette",
                outcome.detail(),
                location="cassette",
                operation=exchange.operation or "",
            )
        )
        return outcome.to_response()

    def _scopes(self) -> list[str]:
        """Every scope the contracts declare: what a recorded token without one gets."""
        return sorted(
            {
                scope
                for contract in self.contracts
                for scheme in contract.security_schemes.values()
                for flow in scheme.flows
                for scope in flow.scopes
            }
        )

    def _missing_parent(self, op: Operation, match: RouteMatch) -> Target | None:
        """The item a sub-resource hangs under (``/notes/{noteId}`` for
        ``/notes/{noteId}/attachments/{name}``) when that item does not exist: the
        sub-resource is 404 too, before and after the item's DELETE."""
        if op.response_for(404) is None:
            return None
        for parent in self.operations:
            if parent.method != "GET" or not op.full_path.startswith(parent.full_path + "/"):
                continue
            if self.resources.route(parent) is None:
                continue
            target = self.resources.target(parent, match.path_params)
            if target is not None and target.kind == "item" and self.resources.find(target) is None:
                return target
        return None

    def _complete_headers(
        self, op: Operation, request: MockRequest, response: MockResponse
    ) -> None:
        """Required response headers the answer lacks (errors, behaviours), synthesised."""
        spec = op.response_for(response.status) if not response.drop_connection else None
        if spec is None:
            return
        missing = [
            h.name for h in spec.headers.values() if h.required and not response.headers.get(h.name)
        ]
        if missing:
            values = self.responder.headers_for(op, spec, request, response.status)
            for name in missing:
                value = values.get(name)
                if value is not None:
                    response.headers.set(name, value)

    def _contract_checked(
        self, op: Operation, request: MockRequest, response: MockResponse, exchange: Exchange
    ) -> MockResponse:
        """An OAuth endpoint's success, unless the request breaks the contract.

        The OAuth flow only reads the fields it needs, so a token request with a
        schema-violating extra field would succeed; it answers invalid_request instead.
        (What the flow issued stays unused: nobody ever saw it.)
        """
        match = self.router.match(request.method, request.path)
        if not self.config.validate_requests or not isinstance(match, RouteMatch):
            return response
        verdict = self.validators.validate_request(match, request)
        if not verdict.failures:
            return response
        exchange.request_failures.extend(verdict.failures)
        return render_error(
            self.responder,
            op,
            400,
            "Invalid request",
            "; ".join(f.message for f in verdict.failures[:5]),
            errors=[f.to_problem_error() for f in verdict.failures],
            error="invalid_request",
        )

    def describe(self) -> dict[str, Any]:
        """Summary for the health endpoint."""
        if self.cassettes is not None:
            return {**self._describe(), "cassettes": self.cassettes.describe()}
        return self._describe()

    def _describe(self) -> dict[str, Any]:
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


class _AnswerCache:
    """Answers to repeated reads, reused while the state is unchanged.

    Validating a request and building its answer (a page of a dataset, a synthesised or
    example body) is a pure function of the request, the configuration and the state: a
    client polling ``GET /locations?page[limit]=5`` gets the same bytes every time until
    something changes. So for a GET or HEAD without a body, the answer (and what the
    journal records about it) is kept under the whole request (method, path, query,
    headers, client address, host) and the state store's version (every write bumps it;
    a store without a version is never cached). Auth, rate limits, faults and the journal
    still run for every request; only validation and answering are skipped. Cassette
    replay is never cached (interactions play in order). Entries live one second at most
    (keys can expire without a write) and the cache is bounded.
    """

    MAX_ENTRIES = 1024
    MAX_BODY = 64 * 1024
    SECONDS = 1.0

    def __init__(self) -> None:
        self._entries: dict[tuple[Any, ...], tuple[Any, float, MockResponse, tuple[Any, ...]]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(op: Operation, request: MockRequest) -> tuple[Any, ...] | None:
        if request.method not in ("GET", "HEAD") or request.body:
            return None
        return (
            op.key,
            request.method,
            request.path,
            request.raw_query,
            tuple(request.query),
            tuple(request.headers.items()),
            request.remote_addr,
            request.root_url,
        )

    def get(
        self, op: Operation, request: MockRequest, exchange: Exchange, version: Any
    ) -> MockResponse | None:
        """The kept answer for this request at ``version``, journal fields set, or None."""
        key = self._key(op, request)
        if version is None or key is None:
            return None
        hit = self._entries.get(key)
        if hit is None or hit[0] != version or hit[1] < time.monotonic():
            return None
        _, _, response, (source, parameters, req_failures, resp_failures) = hit
        exchange.source = source
        exchange.parameters = list(parameters)
        exchange.request_failures.extend(req_failures)
        exchange.response_failures.extend(resp_failures)
        return _copy_response(response)

    def put(
        self,
        op: Operation,
        request: MockRequest,
        exchange: Exchange,
        version: Any,
        response: MockResponse,
        before: tuple[int, int],
    ) -> None:
        """Keep ``response``, computed at ``version``, when it may be reused."""
        key = self._key(op, request)
        if (
            key is None
            or exchange.source == "cassette"
            or response.drop_connection
            or len(response.body) > self.MAX_BODY
        ):
            return
        journal = (
            exchange.source,
            tuple(exchange.parameters),
            tuple(exchange.request_failures[before[0] :]),
            tuple(exchange.response_failures[before[1] :]),
        )
        entry = (version, time.monotonic() + self.SECONDS, _copy_response(response), journal)
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = entry


def _copy_response(response: MockResponse) -> MockResponse:
    return MockResponse(
        response.status,
        response.headers.copy(),
        response.body,
        drop_connection=response.drop_connection,
        delay=response.delay,
    )


def _journal_client(identity: Identity) -> str:
    # The journal names who called without keeping a credential: an API key (and a
    # foreign bearer token, already hashed by oauth) shows as a short digest.
    if identity.kind == "apiKey" and identity.client_id:
        digest = hashlib.sha256(identity.client_id.encode()).hexdigest()[:12]
        return f"apikey:{digest}"
    return identity.client_id


def _fit_auth_status(op: Operation, status: int) -> int:
    """401 for an auth 400 (malformed credentials, RFC 6750 invalid_request) when the
    contract declares 401 but no 400: the answer stays within what the contract allows."""
    if status == 400 and op.response_for(400) is None and op.response_for(401) is not None:
        return 401
    return status


def _server_origins(contracts: Sequence[Contract]) -> list[bytes]:
    """``https://api.github.com``-style origins the contracts say the real API lives at."""
    from urllib.parse import urlsplit

    found: list[str] = []
    for contract in contracts:
        doc = contract.document
        urls = [s.get("url", "") for s in doc.get("servers") or [] if isinstance(s, dict)]
        for item in (doc.get("paths") or {}).values():
            if isinstance(item, dict):
                urls.extend(
                    s.get("url", "") for s in item.get("servers") or [] if isinstance(s, dict)
                )
        if doc.get("host"):
            for scheme in doc.get("schemes") or ["https"]:
                urls.append(f"{scheme}://{doc['host']}")
        for url in urls:
            parts = urlsplit(str(url))
            if parts.scheme in ("http", "https") and parts.netloc:
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in found:
                    found.append(origin)
    # longest first so https://api.github.com is replaced before https://github.com
    return [o.encode() for o in sorted(found, key=len, reverse=True)]


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Status {status}"
