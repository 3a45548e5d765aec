"""Secrets out of recordings, before anything touches disk.

Credentials are replaced by *stable placeholders*: one secret gets the same placeholder
wherever it appears (the token endpoint's answer, the ``Authorization`` header of every
later call, an echo in a body), so an OAuth flow replayed from a scrubbed cassette still
hangs together. Placeholders are numbered in order of first sight
(``scrubbed-access_token-1``), so recording the same traffic twice writes the same file.

Two passes per interaction: a structured one that knows where credentials live
(headers, query strings, form and JSON bodies, ``Set-Cookie``, redirect ``Location``s),
then a literal one that replaces every secret learnt so far wherever else it shows up.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from mockserver.cassettes.format import Interaction
from mockserver.http import Headers

# Whole header values that are credentials. Proxy-Authorization never reaches a
# recording (it is hop-by-hop) but is listed in case a client sends it end to end.
SECRET_HEADERS = (
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "X-API-Key",
    "Api-Key",
    "X-Auth-Token",
    "Private-Token",
)
# Names of query, form and JSON fields that carry credentials.
SECRET_PARAMS = (
    "api_key",
    "apikey",
    "access_token",
    "client_secret",
    "code",
    "refresh_token",
    "id_token",
    "password",
    "code_verifier",
)
# In answers ``code`` is usually an error code ("NOT_FOUND", 38194), not a credential;
# it is scrubbed only where OAuth puts one: next to a ``state`` or in a redirect URL.
_RESPONSE_ONLY_WITH_STATE = frozenset({"code"})
# A secret shorter than this is only replaced where it is structured, never as free text:
# replacing "42" everywhere would wreck the recording.
MIN_LITERAL = 8


@dataclass(slots=True)
class ScrubConfig:
    """What to scrub: the built-in lists (``defaults``) plus extra names and literals."""

    headers: list[str] = field(default_factory=list)
    params: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    drop_headers: list[str] = field(default_factory=list)
    defaults: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> ScrubConfig:
        """From the ``cassettes.filters`` config section (already checked by config.py)."""
        data = data or {}
        return cls(
            headers=[str(h) for h in data.get("headers") or []],
            params=[str(p) for p in data.get("params") or []],
            values=[str(v) for v in data.get("values") or []],
            drop_headers=[str(h) for h in data.get("drop_headers") or []],
            defaults=bool(data.get("defaults", True)),
        )


class Scrubber:
    """Replaces credentials by stable placeholders; thread-safe, one per recording session."""

    def __init__(self, config: ScrubConfig | None = None) -> None:
        cfg = config or ScrubConfig()
        base_headers = SECRET_HEADERS if cfg.defaults else ()
        base_params = SECRET_PARAMS if cfg.defaults else ()
        self.headers = {h.lower() for h in (*base_headers, *cfg.headers)}
        self.params = {p.lower() for p in (*base_params, *cfg.params)}
        self.drop = {h.lower() for h in cfg.drop_headers}
        self._lock = threading.Lock()
        self._placeholders: dict[str, str] = {}
        self._issued: set[str] = set()
        self._counters: dict[str, int] = {}
        for value in cfg.values:
            if value:
                self.placeholder(value, "value")

    # -- the placeholder table -------------------------------------------------------------

    def placeholder(self, secret: str, label: str) -> str:
        """The placeholder for ``secret`` (created on first sight, labelled ``label``)."""
        if not secret or secret in self._issued:
            return secret  # nothing to hide, or already a placeholder
        with self._lock:
            found = self._placeholders.get(secret)
            if found is None:
                label = "".join(c if c.isalnum() or c == "_" else "_" for c in label.lower())
                count = self._counters.get(label, 0) + 1
                self._counters[label] = count
                found = f"scrubbed-{label or 'secret'}-{count}"
                self._placeholders[secret] = found
                self._issued.add(found)
            return found

    def secrets(self) -> list[str]:
        """Every secret seen so far (longest first), for the literal pass."""
        with self._lock:
            return sorted(self._placeholders, key=len, reverse=True)

    def is_secret_param(self, name: str) -> bool:
        """True for a query/form/JSON field name whose value is a credential."""
        return name.lower() in self.params

    def is_secret_header(self, name: str) -> bool:
        """True for a header whose value is a credential."""
        return name.lower() in self.headers

    # -- one interaction -------------------------------------------------------------------

    def scrub(self, interaction: Interaction) -> Interaction:
        """A scrubbed copy of ``interaction`` (the argument is left as it was)."""
        uri = self._scrub_url(interaction.uri, response=False)
        req_headers = self._scrub_headers(interaction.request_headers, response=False)
        req_body = interaction.request_body
        if req_body is not None:
            req_body = self._scrub_body(req_body, interaction.request_headers, response=False)
        resp_headers = self._scrub_headers(interaction.response_headers, response=True)
        resp_body = self._scrub_body(
            interaction.response_body, interaction.response_headers, response=True
        )
        secrets = self.secrets()
        if secrets:
            uri = self._literal_text(uri, secrets)
            req_headers = Headers(
                (n, self._literal_text(v, secrets)) for n, v in req_headers.items()
            )
            resp_headers = Headers(
                (n, self._literal_text(v, secrets)) for n, v in resp_headers.items()
            )
            if req_body is not None:
                req_body = self._literal_bytes(req_body, secrets)
            resp_body = self._literal_bytes(resp_body, secrets)
        if req_body is not None and "content-length" in {
            n.lower() for n in interaction.request_headers
        }:
            req_headers.set("Content-Length", str(len(req_body)))
        if "content-length" in {n.lower() for n in resp_headers}:
            resp_headers.set("Content-Length", str(len(resp_body)))
        return replace(
            interaction,
            uri=uri,
            request_headers=req_headers,
            request_body=req_body,
            response_headers=resp_headers,
            response_body=resp_body,
        )

    # -- structured pass ---------------------------------------------------------------

    def _scrub_headers(self, headers: Headers, *, response: bool) -> Headers:
        out = Headers()
        for name, value in headers.items():
            lname = name.lower()
            if lname in self.drop:
                continue
            if lname in self.headers:
                value = self._scrub_header_value(lname, value)
            elif lname in ("location", "content-location", "link", "refresh"):
                value = self._scrub_urls_in(value, response=response)
            out.add(name, value)
        return out

    def _scrub_header_value(self, lname: str, value: str) -> str:
        if lname in ("authorization", "proxy-authorization"):
            scheme, sep, credentials = value.strip().partition(" ")
            if not sep:
                return self.placeholder(value, "authorization")
            if scheme.lower() == "basic":
                return f"{scheme} {self._scrub_basic(credentials.strip())}"
            label = "access_token" if scheme.lower() in ("bearer", "token") else "authorization"
            return f"{scheme} {self.placeholder(credentials.strip(), label)}"
        if lname == "cookie":
            return "; ".join(
                self._scrub_cookie_pair(pair.strip()) for pair in value.split(";") if pair.strip()
            )
        if lname == "set-cookie":
            pair, sep, attributes = value.partition(";")
            return self._scrub_cookie_pair(pair.strip()) + (sep + attributes if sep else "")
        return self.placeholder(value, lname)

    def _scrub_basic(self, credentials: str) -> str:
        # Keep the user (a client id is no secret and helps reading), hide the password,
        # so it matches the client_secret the same client sends in a form elsewhere.
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return self.placeholder(credentials, "authorization")
        user, colon, password = decoded.partition(":")
        if not colon:
            return self.placeholder(credentials, "authorization")
        self.placeholder(credentials, "authorization")  # the encoded form, for echoes
        hidden = f"{user}:{self.placeholder(password, 'client_secret')}"
        return base64.b64encode(hidden.encode()).decode()

    def _scrub_cookie_pair(self, pair: str) -> str:
        name, eq, value = pair.partition("=")
        if not eq:
            return self.placeholder(pair, "cookie")
        return f"{name}={self.placeholder(value, 'cookie') if value else value}"

    def _scrub_urls_in(self, value: str, *, response: bool) -> str:
        # Link: <https://x/?page=2&access_token=...>; rel="next" -- every URL inside
        if "<" in value:
            parts = value.split("<")
            for i in range(1, len(parts)):
                url, gt, rest = parts[i].partition(">")
                if gt:
                    parts[i] = self._scrub_url(url, response=response, redirect=True) + gt + rest
            return "<".join(parts)
        return self._scrub_url(value, response=response, redirect=True)

    def _scrub_url(self, url: str, *, response: bool, redirect: bool = False) -> str:
        parts = urlsplit(url)
        query = self._scrub_query(parts.query, response=response and not redirect)
        fragment = parts.fragment
        if "=" in fragment:  # implicit grant: #access_token=...
            fragment = self._scrub_query(fragment, response=False)
        if query == parts.query and fragment == parts.fragment:
            return url
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, fragment))

    def _scrub_query(self, query: str, *, response: bool) -> str:
        if not query:
            return query
        pairs = parse_qsl(query, keep_blank_values=True)
        names = {k.lower() for k, _ in pairs}
        changed = False
        out: list[tuple[str, str]] = []
        for key, value in pairs:
            if value and self._secret_field(key, names, response):
                out.append((key, self.placeholder(value, key)))
                changed = True
            else:
                out.append((key, value))
        return urlencode(out, quote_via=quote) if changed else query

    def _secret_field(self, key: str, siblings: set[str], response: bool) -> bool:
        lkey = key.lower()
        if lkey not in self.params:
            return False
        if response and lkey in _RESPONSE_ONLY_WITH_STATE:
            return "state" in siblings
        return True

    def _scrub_body(self, body: bytes, headers: Headers, *, response: bool) -> bytes:
        if not body:
            return body
        media = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if media == "application/x-www-form-urlencoded":
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return body
            return self._scrub_query(text, response=response).encode("utf-8")
        if media == "application/json" or media.endswith("+json") or media == "text/json":
            try:
                data = json.loads(body)
            except ValueError:
                return body
            scrubbed, changed = self._scrub_json(data, response)
            if not changed:
                return body
            return json.dumps(scrubbed, ensure_ascii=False, separators=(",", ":")).encode()
        return body

    def _scrub_json(self, node: Any, response: bool) -> tuple[Any, bool]:
        if isinstance(node, dict):
            siblings = {str(k).lower() for k in node}
            changed = False
            out: dict[str, Any] = {}
            for key, value in node.items():
                if isinstance(value, str) and value and self._secret_field(key, siblings, response):
                    out[key] = self.placeholder(value, str(key))
                    changed = True
                else:
                    out[key], sub = self._scrub_json(value, response)
                    changed = changed or sub
            return out, changed
        if isinstance(node, list):
            items = [self._scrub_json(v, response) for v in node]
            return [v for v, _ in items], any(c for _, c in items)
        return node, False

    # -- literal pass ------------------------------------------------------------------

    def _literal_text(self, text: str, secrets: Iterable[str]) -> str:
        for secret in secrets:
            if len(secret) < MIN_LITERAL:
                continue
            hidden = self._placeholders[secret]
            for form in _forms(secret):
                if form in text:
                    text = text.replace(form, hidden)
        return text

    def _literal_bytes(self, body: bytes, secrets: Iterable[str]) -> bytes:
        for secret in secrets:
            if len(secret) < MIN_LITERAL:
                continue
            hidden = self._placeholders[secret].encode()
            for form in _forms(secret):
                raw = form.encode("utf-8")
                if raw in body:
                    body = body.replace(raw, hidden)
        return body


def _forms(secret: str) -> list[str]:
    """The secret as it may appear: raw, percent-encoded, form-encoded, JSON-escaped."""
    forms = [secret]
    for encoded in (quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]):
        if encoded not in forms:
            forms.append(encoded)
    return forms
