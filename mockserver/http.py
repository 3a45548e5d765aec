"""Sans-IO HTTP values the pipeline works on: no Flask, no sockets.

``MockRequest`` and ``MockResponse`` are what behaviours, validators and cassettes see;
``app.py`` converts between them and werkzeug at the edge.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

PROBLEM_JSON = "application/problem+json"


class Headers:
    """Case-insensitive, multi-valued, order-preserving headers.

    A list of pairs rather than a dict because HTTP allows repeated headers
    (``Set-Cookie``, ``Link``) and cassettes record them as lists.
    """

    __slots__ = ("_items",)

    def __init__(
        self, items: Iterable[tuple[str, str]] | Mapping[str, str | list[str]] | None = None
    ) -> None:
        self._items: list[tuple[str, str]] = []
        if items is None:
            return
        if isinstance(items, Mapping):
            for name, value in items.items():
                if isinstance(value, list):
                    self._items.extend((name, str(v)) for v in value)
                else:
                    self._items.append((name, str(value)))
        else:
            self._items.extend((str(n), str(v)) for n, v in items)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of ``name``, or ``default``."""
        lname = name.lower()
        for n, v in self._items:
            if n.lower() == lname:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name`` in order."""
        lname = name.lower()
        return [v for n, v in self._items if n.lower() == lname]

    def set(self, name: str, value: str) -> None:
        """Replace every value of ``name`` with one value."""
        self.remove(name)
        self._items.append((name, value))

    def setdefault(self, name: str, value: str) -> None:
        """Set ``name`` only when it is absent."""
        if name not in self:
            self._items.append((name, value))

    def add(self, name: str, value: str) -> None:
        """Append a value, keeping earlier ones."""
        self._items.append((name, value))

    def remove(self, name: str) -> None:
        """Drop every value of ``name``."""
        lname = name.lower()
        self._items = [(n, v) for n, v in self._items if n.lower() != lname]

    def items(self) -> list[tuple[str, str]]:
        """All pairs, in order."""
        return list(self._items)

    def to_multidict(self) -> dict[str, list[str]]:
        """``{name: [values]}`` as cassettes store them (first spelling of a name wins)."""
        out: dict[str, list[str]] = {}
        canon: dict[str, str] = {}
        for n, v in self._items:
            key = canon.setdefault(n.lower(), n)
            out.setdefault(key, []).append(v)
        return out

    def copy(self) -> Headers:
        """An independent copy."""
        return Headers(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(n for n, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@dataclass(slots=True)
class MockRequest:
    """One request as the pipeline sees it.

    ``path`` is percent-decoded; ``query`` keeps repeated keys in order (``a=1&a=2``).
    ``root_url`` is the scheme and host the client used (``http://127.0.0.1:8000``),
    so links we build point back to the host the client trusts.
    """

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    remote_addr: str = "127.0.0.1"
    root_url: str = "http://localhost"
    raw_query: str = ""

    @classmethod
    def from_url(
        cls,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        body: bytes | str = b"",
        remote_addr: str = "127.0.0.1",
    ) -> MockRequest:
        """Build a request from a URL (handy in tests and the Python API)."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}" if parts.netloc else "http://localhost"
        from urllib.parse import unquote

        return cls(
            method=method.upper(),
            path=unquote(parts.path or "/"),
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=Headers(headers),
            body=body.encode() if isinstance(body, str) else body,
            remote_addr=remote_addr,
            root_url=root,
            raw_query=parts.query,
        )

    def query_values(self, name: str) -> list[str]:
        """Every value of query parameter ``name``."""
        return [v for k, v in self.query if k == name]

    @property
    def content_type(self) -> str:
        """The media type of the body without parameters, lower-cased ('' if none)."""
        raw = self.headers.get("Content-Type") or ""
        return raw.split(";", 1)[0].strip().lower()

    @property
    def url(self) -> str:
        """The full URL the client asked for."""
        q = f"?{self.raw_query}" if self.raw_query else ""
        return f"{self.root_url}{self.path}{q}"


@dataclass(slots=True)
class MockResponse:
    """One answer: status, headers and body bytes."""

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    # Set when the connection must be dropped without an answer (fault injection).
    drop_connection: bool = False
    # Seconds to wait before answering (fault injection); applied by the adapter.
    delay: float = 0.0

    @classmethod
    def json(
        cls,
        status: int,
        payload: Any,
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> MockResponse:
        """A JSON answer with exactly ``content_type`` (no charset parameter added)."""
        h = Headers(headers)
        h.set("Content-Type", content_type)
        return cls(status, h, dump_json(payload))

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' if none)."""
        raw = self.headers.get("Content-Type") or ""
        return raw.split(";", 1)[0].strip().lower()

    def json_body(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` if it is not JSON)."""
        return json.loads(self.body)


def dump_json(payload: Any) -> bytes:
    """Compact UTF-8 JSON, the way APIs send it."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def problem(
    status: int,
    title: str,
    detail: str = "",
    *,
    type_: str = "about:blank",
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> MockResponse:
    """An RFC 9457 ``application/problem+json`` answer.

    ``errors`` lists each individual failure with the parameter or JSON pointer it names.
    """
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    body.update(extra)
    return MockResponse.json(status, body, content_type=PROBLEM_JSON, headers=headers)


def is_json_media_type(media_type: str) -> bool:
    """``application/json``, ``application/vnd.x+json``, ``application/problem+json``..."""
    mt = media_type.split(";", 1)[0].strip().lower()
    return mt == "application/json" or mt.endswith("+json") or mt == "text/json"


@dataclass(slots=True)
class Rejection:
    """A behaviour's "no": status, headers and words, rendered by the pipeline in the
    contract's own error shape (Amadeus ``errors[]``, GitHub ``message``, problem+json).

    ``code`` is an API-specific error number (Amadeus 38194 for a rate limit); ``error``
    a machine-readable token such as ``invalid_token``.
    """

    status: int
    title: str
    detail: str = ""
    headers: Headers = field(default_factory=Headers)
    code: int | None = None
    error: str | None = None
