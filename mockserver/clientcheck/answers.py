"""Contract-valid answers for one operation, as hypothesis strategies.

An answer is drawn in three steps:

1. **Which answer**: one of the statuses the operation declares (its 2xx first, then every
   declared 4xx/5xx: 401, 404, 429, 5xx...), or "every token expired" when the operation
   needs a token the mock issues.
2. **A realistic body**: the mock's own synthesiser (``synth.synthesize``) driven by a
   hypothesis ``Random``, so each of its choices is a hypothesis draw and shrinks. Every
   absolute URL in it (``meta.links.next``, ``self.href``) is pointed at a request the
   client really made, so a client that follows links stays on the mock.
3. **Edits toward the edges**, node by node, each drawn by hypothesis and kept only while
   the whole body still validates against the contract: drop a property, shorten an
   array (down to empty), null a value, an empty, long or non-ASCII string, zero or
   negative numbers, a flipped boolean (``has_more: false``: the last page), an extra
   property where ``additionalProperties`` allows one.

Hypothesis shrinks every draw toward its simplest choice, and the simplest choice of each
edit is the smallest answer: a property dropped, an array emptied, a scalar left as it is.
A failure therefore shrinks to the smallest answer the contract allows that still breaks
the client, such as ``{"data": []}``.

Nothing here knows the schema's shape: validity is decided by the compiled contract
validator after each edit (a few microseconds with jsonschema-rs), so ``allOf``, ``oneOf``,
``$ref`` cycles and formats are handled exactly as the mock's self-check handles them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from hypothesis import reject
from hypothesis import strategies as st

from mockserver.contract.model import MediaType, Operation, ResponseSpec
from mockserver.failures import Severity
from mockserver.http import Headers, MockResponse, dump_json, is_json_media_type
from mockserver.synth import synthesize
from mockserver.validation import Validators

Draw = Callable[[st.SearchStrategy[Any]], Any]
# A whole-body check: True when the contract allows this JSON value.
Valid = Callable[[Any], bool]

EXTRA_PROPERTY = "x-mockserver-extra"
# Tried in order for a "long string" until one the contract allows (maxLength, patterns).
LONG_LENGTHS = (4096, 256, 64)
UNICODE_TAIL = " Ünïcödé ✈ 東京 🙂"
LARGE_NUMBER = 2**53 - 1  # the largest integer every JSON parser reads exactly
# Retry-After forms a client may meet: seconds, or an HTTP-date (already past: retry now).
RETRY_AFTER = ("0", "1", "Wed, 21 Oct 2015 07:28:00 GMT")
WWW_AUTHENTICATE = 'Bearer error="invalid_token", error_description="The access token expired"'
BODY_PREVIEW = 2000

SUCCESS = "success"
ERROR = "error"
EXPIRED = "expired-token"
ORDINARY = "ordinary"

_STRING_EDITS = ("as-is", "empty", "long", "unicode", "null")
_NUMBER_EDITS = ("as-is", "zero", "negative", "large", "null")
_BOOL_EDITS = ("as-is", "flip", "null")
_CONTAINER_EDITS = ("as-is", "null")
_TOKEN_SCHEMES = ("oauth2", "openIdConnect")


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer the mock gave the client in place of its ordinary one.

    ``kind``: ``success`` (a declared 2xx), ``error`` (a declared 4xx/5xx, sent once: a
    client that retries gets the ordinary answer next), ``expired-token`` (every access
    token was expired first, so the mock's own 401 answers a stale token) or ``ordinary``
    (the mock's normal answer, before any variation). ``body`` is the JSON value sent
    (``has_body`` False: the contract's own answer for the status); ``edits`` say how it
    differs from a plain synthesised answer.
    """

    kind: str
    status: int
    body: Any = None
    has_body: bool = False
    headers: tuple[tuple[str, str], ...] = ()
    media_type: str | None = None
    edits: tuple[str, ...] = ()

    def describe(self) -> str:
        """A few lines for a failure message: status, headers, body, edits."""
        lines = [f"{self.status} {self.media_type or ''}".rstrip()]
        if self.kind == EXPIRED:
            lines[0] += " (every access token expired: the mock refuses the client's old one)"
        elif self.kind == ORDINARY:
            lines[0] += " (the mock's ordinary answer)"
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        if self.has_body:
            text = json.dumps(self.body, ensure_ascii=False)
            if len(text) > BODY_PREVIEW:
                text = f"{text[:BODY_PREVIEW]}... ({len(text)} characters)"
            lines.append(text)
        if self.edits:
            lines.append("edits: " + "; ".join(_grouped(self.edits)))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (reports, the CLI's ``--json``)."""
        out: dict[str, Any] = {"kind": self.kind, "status": self.status}
        if self.media_type:
            out["media_type"] = self.media_type
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.has_body:
            out["body"] = self.body
        if self.edits:
            out["edits"] = list(self.edits)
        return out


@dataclass(frozen=True, slots=True)
class _Kind:
    """One branch of the answer space: a status and what the contract says about it."""

    kind: str
    status: int
    spec: ResponseSpec | None
    media: MediaType | None


class AnswerSpace:
    """Every contract-valid answer of ``op``, as one hypothesis strategy.

    ``link`` is the absolute URL of a request the client made (on the mock); URLs in
    generated bodies are replaced by it. ``tokens``: the operation takes tokens the mock
    issues, so "every token expired" is one of the answers.
    """

    def __init__(
        self,
        op: Operation,
        validators: Validators,
        *,
        link: str | None = None,
        tokens: bool = False,
    ) -> None:
        self.op = op
        self.validators = validators
        self.link = link
        self.kinds = _kinds(op, tokens)

    def strategy(self) -> st.SearchStrategy[Answer]:
        """Answers, simplest first: the first success status, no edits."""

        # Half the answers are successes, whatever the number of declared error statuses:
        # that is where bodies vary most. one_of shrinks toward its first branch.
        groups = [
            st.sampled_from(kinds)
            for kinds in (
                [k for k in self.kinds if k.kind == SUCCESS],
                [k for k in self.kinds if k.kind != SUCCESS],
            )
            if kinds
        ]

        @st.composite
        def answers(draw: Draw) -> Answer:
            return self.draw(draw, draw(st.one_of(groups)))

        return answers()

    # -- drawing ----------------------------------------------------------------------------

    def draw(self, draw: Draw, kind: _Kind) -> Answer:
        """One answer of ``kind``; rejects (hypothesis ``reject``) what the contract refuses."""
        if kind.kind == EXPIRED:
            return Answer(EXPIRED, 401)
        rng = draw(st.randoms(use_true_random=False))
        headers = self._declared_headers(kind, rng)
        body: Any = None
        edits: tuple[str, ...] = ()
        media = kind.media
        if media is not None and media.schema is not None:
            valid = self.body_validator(media)
            body = self.synthesize(media, rng)
            if body is None or not valid(body):
                reject()
            body, edits = Varier(draw, valid).run(relink(body, self.link, valid))
        extra = self._status_headers(draw, kind, headers, body)
        answer = Answer(
            kind.kind,
            kind.status,
            body=body,
            has_body=media is not None and media.schema is not None,
            headers=tuple(headers.items()) + extra,
            media_type=media.media_type if media is not None else None,
            edits=edits,
        )
        if not self.conforms(answer):
            reject()
        return answer

    def body_validator(self, media: MediaType) -> Valid:
        """The contract's check for a body of ``media``."""
        compiled = self.validators.compiled(self.op.schemas, media.schema, "response")
        return compiled.is_valid

    def synthesize(self, media: MediaType, rng: Any) -> Any:
        """A realistic body from the contract's schema, every choice taken from ``rng``."""
        space = self.op.schemas
        return synthesize(
            space.converted(media.schema, "response"),
            rng,
            resolve=lambda ref: space.resolve(ref, "response"),
            direction="response",
        )

    def conforms(self, answer: Answer) -> bool:
        """The whole answer (status, headers, body) against the contract.

        Without a body of ours the mock sends the contract's own for the status, so only
        the headers are ours to check.
        """
        headers = Headers(answer.headers)
        body = b""
        if answer.has_body and answer.media_type is not None:
            headers.set("Content-Type", answer.media_type)
            body = dump_json(answer.body)
        failures = self.validators.validate_response(
            self.op, MockResponse(answer.status, headers, body)
        )
        return not any(
            f.severity is Severity.ERROR and (answer.has_body or f.location == "header")
            for f in failures
        )

    def _declared_headers(self, kind: _Kind, rng: Any) -> Headers:
        headers = Headers()
        if kind.spec is None:
            return headers
        space = self.op.schemas
        for header in kind.spec.headers.values():
            if header.name.lower() in ("content-type", "content-length", "transfer-encoding"):
                continue
            value = synthesize(
                space.converted(header.schema or {"type": "string"}, "response"),
                rng,
                resolve=lambda ref: space.resolve(ref, "response"),
                direction="response",
            )
            text = _header_text(value)
            if text is not None:
                headers.set(header.name, text)
        return headers

    def _status_headers(
        self, draw: Draw, kind: _Kind, headers: Headers, body: Any
    ) -> tuple[tuple[str, str], ...]:
        """``WWW-Authenticate`` on a 401, a ``Retry-After`` the contract allows on 429/503."""
        extra: list[tuple[str, str]] = []
        if kind.status == 401 and headers.get("WWW-Authenticate") is None:
            extra.append(("WWW-Authenticate", WWW_AUTHENTICATE))
        if kind.status in (429, 503):
            options = [
                value
                for value in RETRY_AFTER
                if self.conforms(
                    Answer(
                        kind.kind,
                        kind.status,
                        body=body,
                        has_body=kind.media is not None and kind.media.schema is not None,
                        headers=(*_without(headers, "Retry-After"), ("Retry-After", value)),
                        media_type=kind.media.media_type if kind.media is not None else None,
                    )
                )
            ]
            if options:
                headers.remove("Retry-After")
                extra.append(("Retry-After", draw(st.sampled_from(options))))
        return tuple(extra)


class Varier:
    """Edits a valid JSON value toward the contract's edges, one hypothesis draw per node.

    Each edit is kept only if the whole value still passes ``valid``; the value is edited
    in place (callers pass a fresh one) and returned with a list of the edits kept.
    """

    def __init__(self, draw: Draw, valid: Valid) -> None:
        self.draw = draw
        self.valid = valid
        self.root: Any = None
        self.edits: list[str] = []

    def run(self, root: Any) -> tuple[Any, tuple[str, ...]]:
        """The edited value and the edits, e.g. ``("emptied /data", "dropped /meta")``."""
        self.root = root
        self.edits = []
        self._node(None, None, "")
        return self.root, tuple(self.edits)

    def _node(self, parent: Any, key: Any, pointer: str) -> None:
        value = self.root if parent is None else parent[key]
        if isinstance(value, dict | list):
            edit = self.draw(st.sampled_from(_CONTAINER_EDITS)) if parent is not None else "as-is"
            if edit == "null" and self._replace(parent, key, None, f"null at {pointer}"):
                return
            if isinstance(value, dict):
                self._object(value, pointer)
            else:
                self._array(value, pointer)
            return
        if parent is None:
            return
        for candidate, edit in self._scalar_edits(value, pointer):
            if self._replace(parent, key, candidate, edit):
                return

    def _object(self, obj: dict[str, Any], pointer: str) -> None:
        for name in list(obj):
            child = f"{pointer}/{_escape(name)}"
            # False (what hypothesis shrinks to) drops the property, if the contract lets it go.
            if not self.draw(st.booleans()) and self._drop(obj, name, child):
                continue
            self._node(obj, name, child)
        if EXTRA_PROPERTY not in obj and self.draw(st.booleans()):
            value = self.draw(_SMALL_JSON)
            obj[EXTRA_PROPERTY] = value
            if self.valid(self.root):
                self.edits.append(f"extra property {pointer}/{EXTRA_PROPERTY}")
            else:
                del obj[EXTRA_PROPERTY]

    def _array(self, arr: list[Any], pointer: str) -> None:
        keep = self.draw(st.integers(0, len(arr)))
        if keep < len(arr):
            removed = arr[keep:]
            del arr[keep:]
            if self.valid(self.root):
                self.edits.append(
                    f"emptied {pointer or '/'}"
                    if keep == 0
                    else f"kept {keep} of {keep + len(removed)} items at {pointer or '/'}"
                )
            else:
                arr.extend(removed)
        for index in range(len(arr)):
            self._node(arr, index, f"{pointer}/{index}")

    def _scalar_edits(self, value: Any, pointer: str) -> Iterable[tuple[Any, str]]:
        if isinstance(value, bool):
            edit = self.draw(st.sampled_from(_BOOL_EDITS))
            if edit == "flip":
                yield not value, f"{str(not value).lower()} at {pointer}"
        elif isinstance(value, int | float):
            edit = self.draw(st.sampled_from(_NUMBER_EDITS))
            if edit == "zero":
                yield type(value)(0), f"zero at {pointer}"
            elif edit == "negative":
                yield -abs(value) - 1, f"negative number at {pointer}"
            elif edit == "large":
                yield type(value)(LARGE_NUMBER), f"large number at {pointer}"
        elif isinstance(value, str):
            edit = self.draw(st.sampled_from(_STRING_EDITS))
            if edit == "empty":
                yield "", f"empty string at {pointer}"
            elif edit == "long":
                for length in LONG_LENGTHS:
                    text = (value or "x") * (length // max(len(value), 1) + 1)
                    yield text[:length], f"{length}-character string at {pointer}"
            elif edit == "unicode":
                yield value + UNICODE_TAIL, f"non-ASCII string at {pointer}"
        else:
            return
        if edit == "null":
            yield None, f"null at {pointer}"

    def _replace(self, parent: Any, key: Any, value: Any, edit: str) -> bool:
        old = parent[key]
        parent[key] = value
        if self.valid(self.root):
            self.edits.append(edit)
            return True
        parent[key] = old
        return False

    def _drop(self, obj: dict[str, Any], name: str, pointer: str) -> bool:
        items = list(obj.items())
        del obj[name]
        if self.valid(self.root):
            self.edits.append(f"dropped {pointer}")
            return True
        obj.clear()
        obj.update(items)  # back in the original order
        return False


_SMALL_JSON: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(max_size=20),
    st.dictionaries(st.text(max_size=8), st.integers(0, 9), max_size=2),
)


def relink(value: Any, link: str | None, valid: Valid) -> Any:
    """Point every absolute URL in ``value`` at ``link`` (where the contract allows it).

    Synthesised links (``https://example.com/...``) lead nowhere; a client that follows
    ``next`` or ``self`` must reach the mock, so they become a request the client made.
    """
    if link is None:
        return value
    holder = [value]

    def walk(node: Any) -> None:
        items: Iterable[tuple[Any, Any]]
        if isinstance(node, dict):
            items = list(node.items())
        elif isinstance(node, list):
            items = list(enumerate(node))
        else:
            return
        for key, child in items:
            if isinstance(child, str) and child.startswith(("http://", "https://")):
                if child != link:
                    node[key] = link
                    if not valid(holder[0]):
                        node[key] = child
            else:
                walk(child)

    walk(value)
    return value


def _kinds(op: Operation, tokens: bool) -> list[_Kind]:
    codes: set[int] = set()
    for status in op.responses:
        upper = status.upper()
        if status.isdigit():
            codes.add(int(status))
        elif upper == "2XX":
            codes.add(200)
        elif upper == "4XX":
            codes.update((400, 404, 429))
        elif upper == "5XX":
            codes.update((500, 503))
    if not any(200 <= c < 300 for c in codes):
        codes.add(op.success_status())
    kinds: list[_Kind] = []
    for code in sorted(codes, key=lambda c: (not 200 <= c < 300, c)):
        if not (200 <= code < 300 or code >= 400):
            continue  # 1xx and redirects are the HTTP library's business, not the client's
        spec = op.response_for(code)
        media = _json_media(spec) if spec is not None and code not in (204, 304) else None
        kinds.append(_Kind(SUCCESS if code < 400 else ERROR, code, spec, media))
    if tokens:
        kinds.append(_Kind(EXPIRED, 401, op.response_for(401), None))
    return kinds


def takes_issued_tokens(op: Operation) -> bool:
    """True when ``op`` accepts a token the mock issues (oauth2 / OpenID Connect)."""
    schemes = op.contract.security_schemes
    return any(
        name in schemes and schemes[name].type in _TOKEN_SCHEMES
        for requirement in op.security
        for name in requirement
    )


def _json_media(spec: ResponseSpec) -> MediaType | None:
    media = spec.first_media_type()
    if media is None or not is_json_media_type(media.media_type):
        return media if media is not None and media.schema is None else None
    return media


def _header_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = ",".join(str(v) for v in value)
    else:
        text = str(value)
    return text.replace("\r", " ").replace("\n", " ")


def _without(headers: Headers, name: str) -> tuple[tuple[str, str], ...]:
    return tuple((n, v) for n, v in headers.items() if n.lower() != name.lower())


def _grouped(edits: Iterable[str]) -> list[str]:
    """``dropped /a; dropped /b`` -> ``dropped /a, /b`` (edits of one verb, in order)."""
    groups: dict[str, list[str]] = {}
    for edit in edits:
        verb, _, where = edit.partition(" /")
        if where and " " not in verb:
            groups.setdefault(verb, []).append("/" + where)
        else:
            groups.setdefault(edit, [])
    return [f"{verb} {', '.join(places)}" if places else verb for verb, places in groups.items()]


def _escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")
