"""Build an answer for an operation: the contract's example, ``Prefer``, or synthesis.

Everything here is deterministic for the same seed and request: the random generator is
seeded from a SHA-256 of (seed, operation, path, query, status), never from ``hash()``
(which differs between processes) or the clock.
"""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.contract.model import _MISSING, MediaType, Operation, ResponseSpec
from mockserver.failures import Failure, Severity
from mockserver.http import Headers, MockRequest, MockResponse, dump_json, is_json_media_type
from mockserver.synth import synthesize
from mockserver.validation import Validators

# Smallest valid files, so clients that decode images or PDFs get something they can open.
_DATA = Path(__file__).resolve().parent / "data"
_TINY_FILES: dict[str, bytes] = {
    "image/png": (_DATA / "tiny.png").read_bytes(),
    "image/gif": (_DATA / "tiny.gif").read_bytes(),
    "image/jpeg": (_DATA / "tiny.jpg").read_bytes(),
    "application/pdf": (
        b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    ),
}


@dataclass(slots=True)
class Preferences:
    """What a client asked for with ``Prefer`` (Prism's syntax)."""

    code: int | None = None
    example: str | None = None
    dynamic: bool = False


def parse_prefer(headers: Headers) -> Preferences:
    """Parse every ``Prefer`` header: ``code=404, example=name, dynamic=true``."""
    prefs = Preferences()
    for header in headers.get_all("Prefer"):
        for part in header.replace(";", ",").split(","):
            key, _, value = part.strip().partition("=")
            key, value = key.strip().lower(), value.strip().strip('"')
            if key == "code" and value.isdigit():
                prefs.code = int(value)
            elif key == "example" and value:
                prefs.example = value
            elif key == "dynamic":
                prefs.dynamic = value.lower() in ("true", "1", "")
    return prefs


def request_seed(seed: int, *parts: object) -> random.Random:
    """A generator seeded from ``seed`` and the given parts, stable across processes."""
    digest = hashlib.sha256(repr((seed, *parts)).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class ExampleNotFound(LookupError):
    """``Prefer: example=name`` names no example of the chosen response."""

    def __init__(self, name: str, available: list[str]) -> None:
        self.name = name
        self.available = available
        super().__init__(name)


class Responder:
    """Makes contract-conformant answers."""

    def __init__(self, validators: Validators, seed: int) -> None:
        self.validators = validators
        self.seed = seed
        self._example_ok: dict[tuple[int, str], bool] = {}
        self._lock = threading.Lock()

    def choose_media(self, spec: ResponseSpec, request: MockRequest) -> MediaType | None:
        """The media type to answer with: what ``Accept`` prefers, else JSON first."""
        if not spec.content:
            return None
        accept = request.headers.get("Accept") or ""
        for item in accept.split(","):
            wanted = item.split(";", 1)[0].strip().lower()
            if not wanted or wanted == "*/*":
                continue
            for name, media in spec.content.items():
                lname = name.lower()
                if lname == wanted or (wanted.endswith("/*") and lname.startswith(wanted[:-1])):
                    return media
        return spec.first_media_type()

    def example_is_valid(self, op: Operation, media: MediaType, name: str, value: Any) -> bool:
        """Whether the contract's example conforms to its own schema (cached)."""
        if media.schema is None or not is_json_media_type(media.media_type):
            return True
        key = (id(media), name)
        hit = self._example_ok.get(key)
        if hit is None:
            compiled = self.validators.compiled(op.schemas, media.schema, "response")
            hit = compiled.is_valid(value)
            self._example_ok[key] = hit
        return hit

    def body_for(
        self,
        op: Operation,
        status: int,
        media: MediaType,
        request: MockRequest,
        prefs: Preferences,
        warnings: list[Failure],
    ) -> Any:
        """The JSON value (or ``bytes``) to answer with."""
        if prefs.example is not None:
            if prefs.example in media.examples:
                return media.examples[prefs.example]
            raise ExampleNotFound(prefs.example, sorted(media.examples))
        if not prefs.dynamic:
            candidates: list[tuple[str, Any]] = []
            if media.has_example and media.example is not _MISSING:
                candidates.append(("example", media.example))
            candidates.extend(media.examples.items())
            for name, value in candidates:
                if self.example_is_valid(op, media, name, value):
                    return value
                warnings.append(
                    Failure(
                        "contract",
                        "example",
                        f"the contract's example {name!r} for {status} {media.media_type} "
                        "does not match its schema; a synthesised answer was sent instead",
                        location="body",
                        operation=op.key,
                        severity=Severity.WARNING,
                    )
                )
        rng = request_seed(
            self.seed,
            op.key,
            request.path,
            request.query,
            status,
            media.media_type,
            prefs.dynamic and request.headers.get("X-Request-Id"),
        )
        if not is_json_media_type(media.media_type):
            if media.media_type.lower().startswith("text/"):
                return "OK" if media.schema is None else str(self._synth(op, media.schema, rng))
            return _TINY_FILES.get(
                media.media_type.lower(), bytes(rng.getrandbits(8) for _ in range(16))
            )
        if media.schema is None:
            return {}
        return self._synth(op, media.schema, rng)

    def synth_value(
        self, op: Operation, converted: Any, rng: random.Random, *, max_nodes: int = 2_000
    ) -> Any:
        """Synthesise from an already converted schema (dataset items)."""
        space = op.schemas
        return synthesize(
            converted,
            rng,
            resolve=lambda ref: space.resolve(ref, "response"),
            direction="response",
            max_nodes=max_nodes,
        )

    def _synth(self, op: Operation, schema: Any, rng: random.Random) -> Any:
        space = op.schemas
        return synthesize(
            space.converted(schema, "response"),
            rng,
            resolve=lambda ref: space.resolve(ref, "response"),
            direction="response",
        )

    def headers_for(
        self, op: Operation, spec: ResponseSpec, request: MockRequest, status: int
    ) -> Headers:
        """Values for the headers the response declares (synthesised, deterministic)."""
        headers = Headers()
        for header in spec.headers.values():
            lname = header.name.lower()
            if lname in ("content-type", "content-length", "transfer-encoding", "connection"):
                continue
            if lname == "x-request-id" and request.headers.get("X-Request-Id"):
                headers.set(header.name, request.headers.get("X-Request-Id") or "")
                continue
            rng = request_seed(self.seed, op.key, status, header.name)
            value = self._synth(op, header.schema or {"type": "string"}, rng)
            if isinstance(value, bool):
                text = "true" if value else "false"
            elif isinstance(value, list):
                text = ",".join(str(v) for v in value)
            elif value is None:
                continue
            else:
                text = str(value)
            headers.set(header.name, text.replace("\r", " ").replace("\n", " "))
        return headers

    def build(
        self,
        op: Operation,
        status: int,
        request: MockRequest,
        prefs: Preferences,
        warnings: list[Failure],
        body: Any = None,
        has_body: bool = False,
    ) -> MockResponse:
        """The whole answer for ``status``: declared headers, exact media type, body.

        With ``has_body`` the caller supplies the JSON value (a behaviour's answer).
        """
        spec = op.response_for(status)
        if spec is None:
            return MockResponse(status)
        headers = self.headers_for(op, spec, request, status)
        media = self.choose_media(spec, request)
        if media is None or status in (204, 304):
            if spec.bodiless_media_type:
                headers.set("Content-Type", spec.bodiless_media_type)
            return MockResponse(status, headers)
        value = body if has_body else self.body_for(op, status, media, request, prefs, warnings)
        headers.set("Content-Type", media.media_type)
        if isinstance(value, bytes):
            return MockResponse(status, headers, value)
        if is_json_media_type(media.media_type):
            return MockResponse(status, headers, dump_json(value))
        return MockResponse(status, headers, str(value).encode())
