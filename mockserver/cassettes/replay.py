"""Replay: find the recorded answer for a request, with vcrpy's matchers, in O(1).

Interactions are indexed by the parts of the request the configured matchers compare
exactly (method, path, query); vcrpy's matchers then run only on that handful of
candidates, and only those the index does not already guarantee. 10,000 interactions
answer as fast as 10.

Semantics follow vcrpy: the interactions that match a request play in recorded order;
once all have played the last one repeats (``repeat: last``), they start over
(``cycle``) or the request is refused (``error``). Host, scheme and port are not
compared by default, so recordings of ``https://api.github.com`` serve on
``http://127.0.0.1:PORT``; credentials (query/form/JSON fields and headers the scrubber
knows) are left out of matching, so a scrubbed cassette matches the live client's
requests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from vcr import matchers as vcr_matchers
from vcr.request import Request as VcrRequest

from mockserver.cassettes.format import HOP_BY_HOP, Cassette, Interaction, load_all
from mockserver.cassettes.scrub import SECRET_HEADERS, SECRET_PARAMS
from mockserver.config import CASSETTE_MATCHERS, CassetteConfig
from mockserver.errors import CassetteError
from mockserver.http import Headers, MockRequest, MockResponse, problem
from mockserver.state.base import StateStore
from mockserver.state.memory import MemoryStore

Matcher = Callable[[VcrRequest, VcrRequest], Any]

MATCHERS: dict[str, Matcher] = {
    "method": vcr_matchers.method,
    "uri": vcr_matchers.uri,
    "url": vcr_matchers.uri,
    "scheme": vcr_matchers.scheme,
    "host": vcr_matchers.host,
    "port": vcr_matchers.port,
    "path": vcr_matchers.path,
    "query": vcr_matchers.query,
    "headers": vcr_matchers.headers,
    "body": vcr_matchers.body,
    "raw_body": vcr_matchers.raw_body,
}
assert set(MATCHERS) == set(CASSETTE_MATCHERS), "config.py and replay.py list the same matchers"

# Never compared by the headers matcher: they differ per connection or per client run.
_UNMATCHED_HEADERS = frozenset({"host", "content-length", "user-agent", "accept-encoding"})
_PATH_SAFE = "/:@!$&'()*+,;=~"
_NEAREST = 3
_SCAN = 300
MISS_TYPE = "https://mockserver.dev/problems/cassette-miss"
_PLAYS = "cassettes:plays:"
_FOREVER = 10 * 365 * 86400.0


@dataclass(slots=True)
class Played:
    """A recorded answer for a request; ``origin`` is the host it was recorded from."""

    response: MockResponse
    interaction: Interaction
    origin: str


@dataclass(slots=True)
class Candidate:
    """A recorded request close to one that matched nothing, and what differed."""

    interaction: Interaction
    matched: list[str]
    failed: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the file, the index, the request and each matcher's verdict."""
        return {
            "cassette": self.interaction.file,
            "index": self.interaction.index,
            "request": self.interaction.describe(),
            "matched": self.matched,
            "failed": [{"matcher": m, "message": msg} for m, msg in self.failed],
        }


@dataclass(slots=True)
class Miss:
    """No recorded answer: ``exhausted`` when matches exist but were all played."""

    request: str
    exhausted: int = 0
    candidates: list[Candidate] = field(default_factory=list)
    match_on: list[str] = field(default_factory=list)

    def detail(self) -> str:
        """One sentence for the problem's ``detail``."""
        if self.exhausted:
            return (
                f"all {self.exhausted} recorded answers for {self.request} were already "
                "played (cassettes.repeat is 'error')"
            )
        on = ", ".join(self.match_on)
        text = f"no recorded request matches {self.request} (matching on {on})"
        if self.candidates:
            best = self.candidates[0]
            failed = "; ".join(f"{m}: {msg}" for m, msg in best.failed)
            text += f"; closest: {best.interaction.describe()} ({failed})"
        return text

    def to_response(self) -> MockResponse:
        """The 404 problem+json a strict mock answers with."""
        return problem(
            404,
            "No recorded interaction",
            self.detail(),
            type_=MISS_TYPE,
            match_on=self.match_on,
            candidates=[c.to_dict() for c in self.candidates],
        )


class Replayer:
    """The interactions of some cassettes, indexed for lookup, with play counts."""

    def __init__(
        self,
        cassettes: Sequence[Cassette],
        config: CassetteConfig | None = None,
        store: StateStore | None = None,
    ) -> None:
        self.config = config or CassetteConfig()
        # Play counts live in the state store, so several workers sharing one (Redis)
        # replay a sequence once between them, in order, and the admin reset rewinds it.
        self.store: StateStore = store if store is not None else MemoryStore()
        self.cassettes = list(cassettes)
        names = list(dict.fromkeys(self.config.match_on))
        unknown = [n for n in names if n not in MATCHERS]
        if unknown:
            raise CassetteError("config", "/cassettes/match_on", f"unknown matcher {unknown[0]!r}")
        self.match_on = names
        self._keyed = _index_parts(names)
        covered = set(self._keyed) | ({"path", "query"} if "uri" in names else set())
        # Matchers the index key does not already decide.
        self._residual = [MATCHERS[n] for n in names if n not in covered or n in ("uri", "url")]
        self._matchers = [MATCHERS[n] for n in names]
        filters = self.config.filters or {}
        defaults = bool(filters.get("defaults", True))
        self._secret_params = {
            p.lower() for p in (*(SECRET_PARAMS if defaults else ()), *filters.get("params", []))
        }
        self._unmatched_headers = (
            _UNMATCHED_HEADERS
            | HOP_BY_HOP
            | {
                h.lower()
                for h in (*(SECRET_HEADERS if defaults else ()), *filters.get("headers", []))
            }
        )
        self.interactions: list[Interaction] = [i for c in self.cassettes for i in c.interactions]
        self._views = [self._view_of(i) for i in self.interactions]
        self._origins = [_origin(i.uri) for i in self.interactions]
        self._index: dict[tuple[Any, ...], list[int]] = {}
        self._by_path: dict[str, list[int]] = {}
        self._by_method: dict[str, list[int]] = {}
        for n, view in enumerate(self._views):
            self._index.setdefault(self._key(view), []).append(n)
            self._by_path.setdefault(_path(view), []).append(n)
            self._by_method.setdefault(view.method, []).append(n)
        # Counter keys: this set of cassettes, then the index bucket.
        fingerprint = hashlib.blake2b(digest_size=6)
        for cassette in self.cassettes:
            fingerprint.update(f"{cassette.path}:{len(cassette.interactions)};".encode())
        self._prefix = f"{_PLAYS}{fingerprint.hexdigest()}:"
        self._buckets = {key: str(n) for n, key in enumerate(self._index)}

    @classmethod
    def from_paths(
        cls,
        paths: Iterable[str | Path],
        config: CassetteConfig | None = None,
        store: StateStore | None = None,
    ) -> Replayer:
        """Load every cassette under ``paths`` (files or folders)."""
        return cls(load_all(paths), config, store)

    @property
    def strict(self) -> bool:
        """True: a request that matches nothing is refused, never synthesised."""
        return self.config.strict

    def __len__(self) -> int:
        return len(self.interactions)

    def rewind(self) -> None:
        """Every interaction unplayed again (the admin reset)."""
        self.store.clear(self._prefix)

    def describe(self) -> dict[str, Any]:
        """Summary for the health endpoint."""
        return {
            "cassettes": len(self.cassettes),
            "interactions": len(self.interactions),
            "match_on": self.match_on,
            "strict": self.strict,
        }

    # -- lookup --------------------------------------------------------------------------

    def play(self, request: MockRequest) -> Played | Miss:
        """The next recorded answer for ``request``, or why there is none."""
        view = self.view_of_request(request)
        key = self._key(view)
        group: Sequence[int] = self._index.get(key, ())
        chosen: int | None = None
        if self._residual:
            group = [n for n in group if _agrees(view, self._views[n], self._residual)]
        if group:
            counter = self._prefix + self._buckets[key]
            if self._residual:  # the matches depend on the body/headers: count per set
                counter += ":" + hashlib.blake2b(repr(group).encode(), digest_size=6).hexdigest()
            # incr is atomic in every store: of concurrent requests each gets its own turn
            chosen = self._choose(group, self.store.incr(counter, _FOREVER))
        if chosen is None:
            label = f"{request.method} {request.path}" + (
                f"?{request.raw_query}" if request.raw_query else ""
            )
            if group:
                return Miss(label, exhausted=len(group), match_on=self.match_on)
            return Miss(label, candidates=self.nearest(view), match_on=self.match_on)
        interaction = self.interactions[chosen]
        return Played(_response(interaction), interaction, self._origins[chosen])

    def _choose(self, group: Sequence[int], turn: int) -> int | None:
        """The interaction for the ``turn``-th (1-based) request matching ``group``."""
        if turn <= len(group):
            return group[turn - 1]
        if self.config.repeat == "cycle":
            return group[(turn - 1) % len(group)]
        if self.config.repeat == "error":
            return None
        return group[-1]

    def nearest(self, view: VcrRequest) -> list[Candidate]:
        """The recorded requests most like ``view``, with what each matcher said."""
        pool = list(
            dict.fromkeys(
                [
                    *self._by_path.get(_path(view), [])[:_SCAN],
                    *self._by_method.get(view.method, [])[:_SCAN],
                    *range(min(_SCAN, len(self._views))),
                ]
            )
        )
        scored: list[tuple[int, int, Candidate]] = []
        for n in pool:
            passed, failed = vcr_matchers.get_matchers_results(view, self._views[n], self._matchers)
            if passed:
                candidate = Candidate(self.interactions[n], list(passed), list(failed))
                scored.append((-len(passed), n, candidate))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [c for _, _, c in scored[:_NEAREST]]

    # -- what is compared ----------------------------------------------------------------

    def view_of_request(self, request: MockRequest) -> VcrRequest:
        """vcrpy's request for a live request, normalised like the recorded ones."""
        query = self._public_query(request.raw_query or urlencode(request.query))
        uri = f"{request.root_url}{_canonical_path(request.path)}" + (f"?{query}" if query else "")
        return self._vcr_request(request.method, uri, request.body, request.headers)

    def _view_of(self, interaction: Interaction) -> VcrRequest:
        parts = urlsplit(interaction.uri)
        query = self._public_query(parts.query)
        uri = f"{parts.scheme}://{parts.netloc}{_canonical_path(unquote(parts.path))}" + (
            f"?{query}" if query else ""
        )
        return self._vcr_request(
            interaction.method,
            uri,
            interaction.request_body or b"",
            interaction.request_headers,
        )

    def _vcr_request(self, method: str, uri: str, body: bytes, headers: Headers) -> VcrRequest:
        kept = {n: v for n, v in headers.items() if n.lower() not in self._unmatched_headers}
        content_type = headers.get("Content-Type") or ""
        return VcrRequest(method.upper(), uri, self._public_body(body, content_type) or None, kept)

    def _public_query(self, query: str) -> str:
        if not query:
            return ""
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(k.lower() in self._secret_params for k, _ in pairs):
            return query
        return urlencode([(k, v) for k, v in pairs if k.lower() not in self._secret_params])

    def _public_body(self, body: bytes, content_type: str) -> bytes:
        if not body:
            return body
        media = content_type.split(";", 1)[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            return self._public_query(body.decode("utf-8", "replace")).encode()
        if media == "application/json" or media.endswith("+json"):
            try:
                data = json.loads(body)
            except ValueError:
                return body
            return json.dumps(_without(data, self._secret_params), sort_keys=True).encode()
        return body

    def _key(self, view: VcrRequest) -> tuple[Any, ...]:
        parts: list[Any] = []
        if "method" in self._keyed:
            parts.append(view.method)
        if "path" in self._keyed:
            parts.append(_path(view))
        if "query" in self._keyed:
            parts.append(tuple(view.query))
        return tuple(parts)


def granted_token(response: MockResponse) -> tuple[str, list[str]] | None:
    """The access token and scopes a (replayed) token endpoint answer hands out."""
    if response.status != 200 or not response.body:
        return None
    data: Any
    if response.content_type == "application/x-www-form-urlencoded":
        data = dict(parse_qsl(response.body.decode("utf-8", "replace")))
    else:
        try:
            data = json.loads(response.body)
        except ValueError:
            return None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        return None
    scope = data.get("scope")
    scopes = scope.replace(",", " ").split() if isinstance(scope, str) else []
    return data["access_token"], scopes


# The serving HTTP server sets these itself; recorded copies would be sent twice.
_SERVER_SET = frozenset({"content-length", "date", "server"})


def _response(interaction: Interaction) -> MockResponse:
    headers = Headers(
        (n, v)
        for n, v in interaction.response_headers.items()
        if n.lower() not in HOP_BY_HOP and n.lower() not in _SERVER_SET
    )
    return MockResponse(interaction.status, headers, interaction.response_body)


def _agrees(view: VcrRequest, recorded: VcrRequest, matchers: Sequence[Matcher]) -> bool:
    for matcher in matchers:
        try:
            if matcher(view, recorded) is False:
                return False
        except AssertionError:
            return False
    return True


def _index_parts(names: Sequence[str]) -> list[str]:
    parts = [n for n in ("method", "path", "query") if n in names]
    if "uri" in names or "url" in names:
        parts.extend(n for n in ("path", "query") if n not in parts)
    return parts


def _path(view: VcrRequest) -> str:
    return str(view.path or "/")


def _canonical_path(path: str) -> str:
    return quote(path or "/", safe=_PATH_SAFE)


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _without(node: Any, names: set[str]) -> Any:
    if isinstance(node, dict):
        return {k: _without(v, names) for k, v in node.items() if str(k).lower() not in names}
    if isinstance(node, list):
        return [_without(v, names) for v in node]
    return node
