"""``mockserver verify``: a server checked against its contract by schemathesis.

Schemathesis' engine runs the contract's property tests: its examples, the coverage phase
(boundary and negative values), fuzzing and, where the contract has links, stateful
sequences; every answer goes through all its checks (status, content type, headers and
body schema, invalid data rejected, valid data accepted, auth not ignored, ...). The run
becomes a ``server`` ``Report``: coverage per operation from the requests sent and one
finding per broken check.

Two targets: ``target=URL`` over HTTP, or the mock itself in-process through
schemathesis' WSGI transport (``target=None``). The mock is then configured so its own
auth checks mean something: one known client, API key and bearer tokens it issued.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Severity as CheckSeverity
from schemathesis.engine import Status, from_schema
from schemathesis.engine import events as ev
from schemathesis.engine.recorder import CheckFailureInfo, ScenarioRecorder
from schemathesis.generation.case import Case
from schemathesis.transport.wsgi import WSGI_TRANSPORT, WSGITransport

from mockserver.app import create_app
from mockserver.config import Config, OAuthClient, merge
from mockserver.conformance.coverage import coverage_of
from mockserver.conformance.journal import OperationStats
from mockserver.conformance.report import Finding, Report, contracts_source
from mockserver.contract.loader import load_contract
from mockserver.contract.model import Contract, Operation
from mockserver.errors import MockserverError
from mockserver.failures import Failure, Severity
from mockserver.pipeline import Pipeline

# Credentials the in-process mock accepts during ``verify --mock`` (and only those, so
# schemathesis' ignored_auth check has something to find).
MOCK_CLIENT = ("mockserver-verify", "mockserver-verify-secret")
MOCK_API_KEY = "mockserver-verify-key"
PHASES = ("examples", "coverage", "fuzzing", "stateful")

# Which part of an exchange each schemathesis check judges (Failure.location).
_CHECK_LOCATION = {
    "not_a_server_error": "status",
    "status_code_conformance": "status",
    "negative_data_rejection": "status",
    "positive_data_acceptance": "status",
    "missing_required_header": "status",
    "unsupported_method": "status",
    "content_type_conformance": "content-type",
    "response_headers_conformance": "header",
    "allow_header_conformance": "header",
    "response_schema_conformance": "body",
    "ignored_auth": "auth",
    "use_after_free": "stateful",
    "ensure_resource_availability": "stateful",
}
# OAuth endpoints may refuse a schema-valid request (unknown client, missing redirect URI,
# RFC 6749 4.1.2.1 and 5.2): positive_data_acceptance accepts their 400 too.
_OAUTH_ACCEPTED = ["2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx"]


class VerifyError(MockserverError):
    """The run cannot start: unreachable target, no token, a contract schemathesis refuses."""


@dataclass(slots=True)
class VerifyOptions:
    """How hard and as whom to test."""

    max_examples: int = 25  # per operation and phase
    seed: int | None = None  # None: a random seed (printed in the report's source)
    auth: tuple[str, str] | None = None  # client_id, secret: OAuth2 client credentials
    api_key: str | None = None  # sent for every apiKey scheme
    headers: dict[str, str] = field(default_factory=dict)
    phases: tuple[str, ...] = PHASES
    workers: int = 1
    request_timeout: float = 10.0


class Progress(Protocol):
    """What a progress display is told while the run goes (see ``cli/verify.py``)."""

    def phase_started(self, phase: str, operations: int | None) -> None:
        """A phase begins; ``operations`` is how many it will test (None: unknown)."""

    def scenario_finished(self, phase: str, label: str, status: str) -> None:
        """One operation (or one stateful scenario) is done: success, failure, error, skip."""

    def phase_finished(self, phase: str, status: str) -> None:
        """A phase ended."""


def verify(
    contract: str | Path | Contract,
    *,
    target: str | None = None,
    options: VerifyOptions | None = None,
    progress: Progress | None = None,
) -> Report:
    """Run schemathesis against ``target`` (a URL) or, with ``target=None``, the mock of
    ``contract`` in-process; return the ``server`` report. Raises ``ContractError`` or
    ``VerifyError`` when the run cannot start."""
    opts = options or VerifyOptions()
    loaded = contract if isinstance(contract, Contract) else load_contract(contract)
    started = time.monotonic()
    http: _Http
    if target is None:
        app, base_url = _mock_app(loaded, opts), None
        http = _WsgiHttp(app)
    else:
        app, base_url = None, _base_url(target, loaded)
        _probe(base_url, opts.request_timeout)
        http = _RemoteHttp(base_url, opts.request_timeout)
    config = _config(loaded, opts, base_url, _credentials(loaded, opts, target is None, http))
    try:
        schema = schemathesis.openapi.from_dict(copy.deepcopy(loaded.document), config=config)
    except Exception as exc:  # noqa: BLE001 - schemathesis' loader errors share no base class
        raise VerifyError(f"{loaded.path}: schemathesis cannot load it: {exc}") from None
    if app is not None:
        _run_in_process(schema, app)
    run = _Run(loaded)
    for event in from_schema(schema).execute():
        run.handle(event, progress)
    return run.report(
        target=target,
        opts=opts,
        seed=config.seed,
        duration=time.monotonic() - started,
    )


# -- the target --------------------------------------------------------------------------


def _mock_app(contract: Contract, opts: VerifyOptions) -> Any:
    config = Config()
    if contract.extensions:
        config = merge(config, contract.extensions, f"{contract.path}#/x-mockserver")
    client_id, secret = opts.auth or MOCK_CLIENT
    if config.oauth.clients:  # registered clients only: ours joins them
        config.oauth.clients[client_id] = OAuthClient(secret)
    config.oauth.api_keys = [*config.oauth.api_keys, opts.api_key or MOCK_API_KEY]
    config.oauth.static_tokens_only = True
    # schemathesis checks every answer; the mock's own self-check would only log twice
    config.self_check = False
    return create_app(Pipeline([contract], config))


def _base_url(target: str, contract: Contract) -> str:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise VerifyError(f"{target}: the target must be an http:// or https:// URL")
    if parts.path in ("", "/"):
        # a bare origin: the API lives under the contract's base path
        return target.rstrip("/") + contract.base_path
    return target.rstrip("/")


def _probe(base_url: str, timeout: float) -> None:
    try:
        requests.get(base_url, timeout=timeout)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        raise VerifyError(f"{base_url}: cannot reach the target ({reason})") from None


@dataclass(slots=True)
class _Answer:
    status: int
    location: str
    body: Any


class _Http(Protocol):
    """The two calls a token needs, in-process or over the network; no redirects followed."""

    def get(self, path: str, params: Mapping[str, str]) -> _Answer: ...

    def post(
        self, path: str, form: Mapping[str, str], basic: tuple[str, str] | None
    ) -> _Answer: ...


class _WsgiHttp:
    def __init__(self, app: Any) -> None:
        from werkzeug.test import Client

        self.client = Client(app)

    def get(self, path: str, params: Mapping[str, str]) -> _Answer:
        resp = self.client.get(path, query_string=dict(params))
        return _Answer(resp.status_code, resp.headers.get("Location", ""), None)

    def post(self, path: str, form: Mapping[str, str], basic: tuple[str, str] | None) -> _Answer:
        resp = self.client.post(
            path, data=dict(form), auth=basic, headers={"Accept": "application/json"}
        )
        return _Answer(resp.status_code, "", resp.get_json(silent=True))


class _RemoteHttp:
    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return requests.request(
                method,
                self.origin + path,
                allow_redirects=False,
                timeout=self.timeout,
                headers={"Accept": "application/json"},
                **kwargs,
            )
        except requests.RequestException as exc:
            reason = type(exc).__name__
            raise VerifyError(f"{self.origin}{path}: token request failed ({reason})") from None

    def get(self, path: str, params: Mapping[str, str]) -> _Answer:
        resp = self._call("GET", path, params=dict(params))
        return _Answer(resp.status_code, resp.headers.get("Location", ""), None)

    def post(self, path: str, form: Mapping[str, str], basic: tuple[str, str] | None) -> _Answer:
        resp = self._call("POST", path, data=dict(form), auth=basic)
        try:
            return _Answer(resp.status_code, "", resp.json())
        except ValueError:
            return _Answer(resp.status_code, "", None)


def _endpoint_path(contract: Contract, url: str) -> str:
    """An OAuth endpoint URL as a path on the target (absolute URLs keep only their path)."""
    path = urlsplit(url).path or url
    return path if path.startswith("/") else f"{contract.base_path}/{path}"


def _credentials(
    contract: Contract, opts: VerifyOptions, mock: bool, http: _Http
) -> dict[str, dict[str, str]]:
    """schemathesis' ``auth.openapi`` block: a value for every scheme we can satisfy."""
    client = opts.auth or (MOCK_CLIENT if mock else None)
    api_key = opts.api_key or (MOCK_API_KEY if mock else None)
    schemes = list(contract.security_schemes.values())
    bearer_schemes = [
        s for s in schemes if s.type == "http" and (s.scheme or "").lower() == "bearer"
    ]
    token = None
    if client is not None and any(s.type == "oauth2" for s in schemes + bearer_schemes):
        try:
            token = _fetch_token(http, contract, client)
        except VerifyError:
            # the mock takes its API key as a static bearer token (oauth.api_keys)
            if opts.auth is not None or not mock or not bearer_schemes:
                raise
            token = api_key
    out: dict[str, dict[str, str]] = {}
    for scheme in schemes:
        kind = (scheme.scheme or "").lower()
        if token and (scheme.type == "oauth2" or (scheme.type == "http" and kind == "bearer")):
            out[scheme.name] = {"bearer": token}
        elif scheme.type == "apiKey" and api_key:
            out[scheme.name] = {"api_key": api_key}
        elif scheme.type == "http" and kind == "basic" and client is not None:
            out[scheme.name] = {"username": client[0], "password": client[1]}
    return out


def _fetch_token(http: _Http, contract: Contract, client: tuple[str, str]) -> str:
    """An access token for ``client``: the client credentials grant at each token endpoint
    (credentials in the body, then by HTTP Basic), then the authorization code flow."""
    flows = [f for s in contract.security_schemes.values() for f in s.flows if f.token_url]
    if not flows:
        raise VerifyError(f"{contract.path}: no OAuth2 token endpoint to get a token from")
    flows.sort(key=lambda f: f.kind != "clientCredentials")
    client_id, secret = client
    last = ""
    for flow in flows:
        path = _endpoint_path(contract, flow.token_url or "")
        attempts: list[tuple[dict[str, str], tuple[str, str] | None]] = [
            (
                {
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": secret,
                },
                None,
            ),
            ({"grant_type": "client_credentials"}, client),
        ]
        if flow.kind == "authorizationCode" and flow.authorization_url:
            code = _authorization_code(
                http, _endpoint_path(contract, flow.authorization_url), client_id
            )
            if code:
                attempts.append(
                    (
                        {
                            "grant_type": "authorization_code",
                            "code": code,
                            "client_id": client_id,
                            "client_secret": secret,
                            "redirect_uri": _REDIRECT_URI,
                        },
                        None,
                    )
                )
        for form, basic in attempts:
            answer = http.post(path, form, basic)
            body = answer.body
            token = body.get("access_token") if isinstance(body, dict) else None
            if answer.status == 200 and isinstance(token, str) and token:
                return token
            last = f"{path} ({form['grant_type']}): {answer.status} {str(body)[:200]}"
    raise VerifyError(f"no access token for client {client_id!r}; last answer: {last}")


_REDIRECT_URI = "http://localhost/mockserver-verify/callback"


def _authorization_code(http: _Http, path: str, client_id: str) -> str | None:
    """The code a headless authorization request gets redirected with (mocks grant it)."""
    answer = http.get(
        path,
        {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": _REDIRECT_URI,
            "state": "mockserver-verify",
        },
    )
    if answer.status not in (301, 302, 303, 307, 308):
        return None
    codes = parse_qs(urlsplit(answer.location).query).get("code")
    return codes[0] if codes else None


def _config(
    contract: Contract,
    opts: VerifyOptions,
    base_url: str | None,
    auth: dict[str, dict[str, str]],
) -> SchemathesisConfig:
    data: dict[str, Any] = {
        "generation": {"max-examples": opts.max_examples},
        "phases": {name: {"enabled": name in opts.phases} for name in PHASES},
        "request-timeout": opts.request_timeout,
        "workers": opts.workers,
        "continue-on-failure": True,
    }
    if opts.seed is not None:
        data["seed"] = opts.seed
    if base_url is not None:
        data["base-url"] = base_url
    if opts.headers:
        data["headers"] = dict(opts.headers)
    if auth:
        data["auth"] = {"openapi": auth}
    oauth_paths = _oauth_operation_paths(contract)
    if oauth_paths:
        data["operations"] = [
            {
                "include-path": oauth_paths,
                "checks": {"positive_data_acceptance": {"expected-statuses": _OAUTH_ACCEPTED}},
            }
        ]
    try:
        return SchemathesisConfig.from_dict(data)
    except Exception as exc:  # noqa: BLE001 - config errors are usage errors here
        raise VerifyError(f"invalid verify settings: {exc}") from None


def _oauth_operation_paths(contract: Contract) -> list[str]:
    urls = {
        url
        for s in contract.security_schemes.values()
        for f in s.flows
        for url in (f.token_url, f.authorization_url, f.refresh_url)
        if url
    }
    paths = {urlsplit(u).path or u for u in urls}
    return sorted({op.path for op in contract.operations if {op.path, op.full_path} & paths})


class _InProcessTransport(WSGITransport):
    """schemathesis' WSGI transport, minus socket-level settings it forwards in-process.

    schemathesis 4.32's ignored_auth check re-sends a case with ``max_redirects``,
    ``verify`` and ``cert`` but without the session that would drop them, and werkzeug's
    test client refuses those keywords (TypeError). In-process they mean nothing.
    """

    def __init__(self) -> None:
        super().__init__()
        self._serializers = WSGI_TRANSPORT._serializers  # the registered ones, shared

    def send(self, case: Case[Any], *, session: Any = None, **kwargs: Any) -> Any:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return super().send(case, session=session, **kwargs)


_TRANSPORT: _InProcessTransport | None = None


def _run_in_process(schema: Any, app: Any) -> None:
    global _TRANSPORT
    if _TRANSPORT is None:
        _TRANSPORT = _InProcessTransport()
    transport = _TRANSPORT
    base = type(schema)
    # `transport` is a read-only property of the schema; a subclass answers ours.
    schema.__class__ = type(
        f"InProcess{base.__name__}", (base,), {"transport": property(lambda _: transport)}
    )
    schema.app = app


# -- collecting the run ------------------------------------------------------------------


class _Run:
    """Coverage counters and findings gathered from the engine's events."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.by_route: dict[tuple[str, str], Operation] = {
            (op.method, op.path): op for op in contract.operations
        }
        self.stats: dict[str, OperationStats] = {}
        self.findings: list[Finding] = []
        self.cases = 0
        self.checks_passed = 0
        self.checks_failed = 0
        self.run_errors = 0
        self.skipped: list[str] = []

    def handle(self, event: ev.EngineEvent, progress: Progress | None) -> None:
        if isinstance(event, ev.FatalError):
            raise VerifyError(f"{self.contract.path}: the run stopped: {event.exception}")
        if isinstance(event, ev.PhaseStarted) and event.phase.name.value in PHASES:
            if progress is not None:
                count = len(event.operations) if event.operations is not None else None
                if count is None and event.phase.name.value != "stateful":
                    count = len(self.contract.operations)
                progress.phase_started(event.phase.name.value, count)
        elif isinstance(event, ev.PhaseFinished) and event.phase.name.value in PHASES:
            if progress is not None:
                progress.phase_finished(event.phase.name.value, event.status.value)
        elif isinstance(event, ev.ScenarioFinished) and event.is_test_scenario:
            self._scenario(event.recorder)
            if event.status is Status.SKIP and event.skip_reason:
                self.skipped.append(f"{event.label or event.recorder.label}: {event.skip_reason}")
            if progress is not None:
                progress.scenario_finished(
                    event.phase.value, event.label or event.recorder.label, event.status.value
                )
        elif isinstance(event, ev.NonFatalError):
            self._error(event)

    def _key(self, case: Case[Any]) -> str:
        op = self.by_route.get((case.operation.method.upper(), case.operation.path))
        return op.key if op is not None else case.operation.label

    def _scenario(self, recorder: ScenarioRecorder) -> None:
        for case_id, interaction in recorder.interactions.items():
            node = recorder.cases.get(case_id)
            if node is None:
                continue
            case = node.value
            key = self._key(case)
            stats = self.stats.setdefault(key, OperationStats())
            self.cases += 1
            response = interaction.response
            # probes with another method (unsupported_method) are not calls of this one
            if interaction.request.method.upper() == case.operation.method.upper():
                stats.calls += 1
                if response is not None:
                    stats.statuses[response.status_code] += 1
                stats.parameters.update(_parameters(case))
            checks = recorder.checks.get(case_id, [])
            failed = [c for c in checks if c.failure_info is not None]
            self.checks_passed += len(checks) - len(failed)
            self.checks_failed += len(failed)
            line = _sample(interaction.request.method, interaction.request.uri, response)
            findings = [
                _finding(check.name, c_info, case, key, line)
                for check in failed
                if (c_info := check.failure_info) is not None
            ]
            if any(f.failure.severity is Severity.ERROR for f in findings):
                stats.response_violations += 1
            self.findings.extend(findings)

    def _error(self, event: ev.NonFatalError) -> None:
        self.run_errors += 1
        network = isinstance(event.value, requests.RequestException)
        method, _, path = event.label.partition(" ")
        op = self.by_route.get((method.upper(), path))
        message = f"{event.info.title}: {event.info.message}".strip()
        self.findings.append(
            Finding(
                Failure(
                    "response" if network else "run",
                    "network-error" if network else "not-tested",
                    message,
                    operation=op.key if op is not None else "",
                    # a server that drops connections fails; a case schemathesis could not
                    # build (an unsupported media type) is a gap in the run, not a violation
                    severity=Severity.ERROR if network else Severity.WARNING,
                ),
                1,
                "" if op is not None else event.label,
            )
        )

    def report(
        self, *, target: str | None, opts: VerifyOptions, seed: int | None, duration: float
    ) -> Report:
        source = contracts_source([self.contract])
        source.update(
            {
                "target": target or "mock (in-process, WSGI)",
                "schemathesis": schemathesis.__version__,
                "max_examples": opts.max_examples,
                "seed": seed,
                "phases": list(opts.phases),
                "skipped": self.skipped,
            }
        )
        title = f"{self.contract.title}: server conformance"
        return Report.build(
            "server",
            coverage_of(self.contract.operations, self.stats),
            self.findings,
            title=f"{title} ({target})" if target else f"{title} (mock)",
            source=source,
            extra={
                "cases": self.cases,
                "checks_passed": self.checks_passed,
                "checks_failed": self.checks_failed,
                "run_errors": self.run_errors,
                "duration_s": round(duration, 2),
            },
        )


_FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def _finding(check: str, info: CheckFailureInfo, case: Case[Any], key: str, line: str) -> Finding:
    failure = info.failure
    message = f"{failure.title}: {failure.message}" if failure.message else failure.title
    severity = Severity.WARNING if failure.severity is CheckSeverity.LOW else Severity.ERROR
    media = (case.media_type or "").split(";")[0].strip().lower()
    if check == "negative_data_rejection" and media in _FORM_TYPES and "violates `type`" in message:
        # every form field travels as text: "123" is as much a string as the original, so
        # the server cannot see this mutation (a false positive of negative testing)
        severity = Severity.WARNING
        message = f"form fields are text, so this type change is invisible: {message}"
    return Finding(
        Failure(
            "response",
            check,
            message.strip(),
            location=_CHECK_LOCATION.get(check, ""),
            operation=key,
            severity=severity,
        ),
        1,
        line,
    )


def _parameters(case: Case[Any]) -> Iterable[str]:
    for where, values in (
        ("path", case.path_parameters),
        ("query", case.query),
        ("header", case.headers),
        ("cookie", case.cookies),
    ):
        for name in values or {}:
            yield f"{where}:{name}"


def _sample(method: str, uri: str, response: Any) -> str:
    parts = urlsplit(uri)
    query = f"?{parts.query}" if parts.query else ""
    status = response.status_code if response is not None else "no answer"
    line = f"{method} {parts.path}{query}"
    if len(line) > 300:
        line = line[:300] + "..."
    return f"{line} -> {status}"
