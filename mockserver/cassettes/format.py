"""Cassette files in VCR.py's format (``version: 1``), read and written by vcrpy's own code.

vcrpy's serializers parse and print the files and ``vcr.serialize`` turns them into
requests and responses, so what vcrpy or pytest-recording wrote loads here and what we
write loads there. Two things vcrpy does not do are added: Schemathesis' Ruby-VCR
dialect (``http_interactions``) is converted, and every failure becomes a
``CassetteError`` naming the file and the place in it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from vcr import serialize as vcr_serialize
from vcr.filters import decode_response
from vcr.request import Request as VcrRequest
from vcr.serializers import jsonserializer, yamlserializer

from mockserver.errors import CassetteError
from mockserver.http import Headers

SUFFIXES = (".yaml", ".yml", ".json")
# Per RFC 9110 section 7.6.1 these describe one connection, never the message.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


@dataclass(slots=True)
class Interaction:
    """One recorded request and its answer, bodies as bytes (decompressed on load)."""

    method: str
    uri: str
    request_headers: Headers
    request_body: bytes | None
    status: int
    reason: str
    response_headers: Headers
    response_body: bytes
    file: str = ""
    index: int = 0

    def describe(self) -> str:
        """``GET https://api.github.com/users/octocat``."""
        return f"{self.method} {self.uri}"


@dataclass(slots=True)
class Cassette:
    """The interactions of one file, plus vcrpy's optional ``metadata`` block."""

    path: Path
    interactions: list[Interaction]
    metadata: dict[str, Any] = field(default_factory=dict)
    dialect: str = "vcrpy"


def serializer_for(path: Path) -> Any:
    """vcrpy's JSON serializer for ``.json`` files, its YAML one for everything else."""
    return jsonserializer if path.suffix.lower() == ".json" else yamlserializer


def cassette_files(paths: Iterable[str | Path]) -> list[Path]:
    """Every cassette under ``paths`` (files or folders, searched recursively), sorted.

    Dotfiles are skipped: the recorder's temporary files and lock live there.
    """
    found: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*"))
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        elif path.is_file():
            found.append(path)
        else:
            raise CassetteError(str(path), "", "no such file or folder")
    return found


def load_cassette(path: str | Path) -> Cassette:
    """Read one cassette file (vcrpy YAML or JSON, or the Ruby-VCR dialect)."""
    file = Path(path)
    name = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CassetteError(name, "", f"cannot read the cassette: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CassetteError(name, f"byte {exc.start}", "the file is not UTF-8 text") from None
    if not text.strip():
        # vcrpy treats an empty file like a missing cassette: nothing recorded yet.
        return Cassette(file, [])
    data = _parse(text, file)
    if isinstance(data, dict) and "http_interactions" in data:
        return Cassette(file, _from_ruby_vcr(data, name), dialect="ruby-vcr")
    if isinstance(data, list):
        raise CassetteError(
            name, "", "a cassette from vcrpy before 1.0 (a bare list); re-record it with vcrpy 1+"
        )
    if not isinstance(data, dict) or "interactions" not in data:
        raise CassetteError(
            name, "", "not a VCR cassette: expected 'version: 1' and 'interactions'"
        )
    if data.get("version") != vcr_serialize.CASSETTE_FORMAT_VERSION:
        raise CassetteError(
            name,
            "/version",
            f"cassette format version {data.get('version')!r}; mockserver reads vcrpy's version 1",
        )
    _check_structure(data, name)
    try:
        requests, responses, *rest = vcr_serialize.deserialize(text, _Parsed(data))
    except (ValueError, TypeError, KeyError) as exc:
        raise CassetteError(name, "/interactions", f"vcrpy cannot read it: {exc}") from None
    metadata = rest[0] if rest else {}
    interactions = [
        _from_vcr(req, resp, name, i)
        for i, (req, resp) in enumerate(zip(requests, responses, strict=True))
    ]
    return Cassette(file, interactions, dict(metadata or {}))


def load_all(paths: Iterable[str | Path]) -> list[Cassette]:
    """Every cassette under ``paths``; the first unreadable one raises ``CassetteError``."""
    return [load_cassette(p) for p in cassette_files(paths)]


def dump_cassette(cassette: Cassette, path: Path | None = None) -> str:
    """The text of ``cassette`` as vcrpy would save it (YAML or JSON by the file suffix)."""
    target = path or cassette.path
    requests = [to_vcr_request(i) for i in cassette.interactions]
    responses = [to_vcr_response(i) for i in cassette.interactions]
    data: dict[str, Any] = {"requests": requests, "responses": responses}
    if cassette.metadata:
        data["metadata"] = cassette.metadata
    text: str = vcr_serialize.serialize(data, serializer_for(target))
    return text


def interaction_yaml(interaction: Interaction) -> str:
    """One interaction as the YAML list item vcrpy's serializer writes for it.

    ``append_yaml`` joins these into a file identical to what ``dump_cassette`` (vcrpy's
    ``serialize``) would write for all of them at once, without representing every
    earlier interaction again on each append (that made recording quadratic).
    """
    data = vcr_serialize.serialize(
        {"requests": [to_vcr_request(interaction)], "responses": [to_vcr_response(interaction)]},
        _Capture,
    )
    text: str = yamlserializer.serialize(data["interactions"])
    return text


_YAML_HEAD = "interactions:\n"
_YAML_TAIL = f"version: {vcr_serialize.CASSETTE_FORMAT_VERSION}\n"


def append_yaml(old: str | None, items: str) -> str | None:
    """``old`` (a YAML cassette's text) with the ``interaction_yaml`` ``items`` added, or
    None when ``old`` is not in the exact layout vcrpy writes (then parse and re-dump)."""
    if not old or not old.strip() or old == f"interactions: []\n{_YAML_TAIL}":
        return f"{_YAML_HEAD}{items}{_YAML_TAIL}" if items else f"interactions: []\n{_YAML_TAIL}"
    # vcrpy sorts the top-level keys (interactions, metadata, version); values are
    # indented, so a line starting with "metadata:" is the key itself.
    if old.startswith(_YAML_HEAD) and old.endswith("\n" + _YAML_TAIL) and "\nmetadata:" not in old:
        return old[: -len(_YAML_TAIL)] + items + _YAML_TAIL
    return None


class _Capture:
    """A serializer that returns vcrpy's cassette dict instead of text."""

    @staticmethod
    def serialize(data: Any) -> Any:
        return data


def to_vcr_request(interaction: Interaction) -> VcrRequest:
    """vcrpy's request object for an interaction."""
    # vcrpy keeps one value per request header (HeadersDict): the last one wins here too.
    headers = dict(interaction.request_headers.items())
    return VcrRequest(interaction.method, interaction.uri, interaction.request_body, headers)


def to_vcr_response(interaction: Interaction) -> dict[str, Any]:
    """vcrpy's response dict: ``status{code,message}``, ``headers{name:[values]}``, body."""
    return {
        "status": {"code": interaction.status, "message": interaction.reason},
        "headers": interaction.response_headers.to_multidict(),
        "body": {"string": interaction.response_body},
    }


# -- reading ------------------------------------------------------------------------------


class _Parsed:
    """A serializer that hands vcrpy data we already parsed (to check it first)."""

    def __init__(self, data: Any) -> None:
        self._data = data

    def deserialize(self, _text: str) -> Any:
        return self._data


def _parse(text: str, file: Path) -> Any:
    name = str(file)
    serializer = serializer_for(file)
    if serializer is yamlserializer and text.lstrip().startswith("{"):
        serializer = jsonserializer  # a .yaml file holding JSON (YAML 1.1 chokes on tabs)
    try:
        return serializer.deserialize(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CassetteError(name, where, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise CassetteError(name, "", f"invalid YAML: {exc}") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise CassetteError(name, where, f"invalid JSON: {exc.msg}") from None


def _check_structure(data: dict[str, Any], name: str) -> None:
    interactions = data["interactions"]
    if not isinstance(interactions, list):
        raise CassetteError(name, "/interactions", "expected a list of interactions")
    for i, item in enumerate(interactions):
        where = f"/interactions/{i}"
        if not isinstance(item, dict):
            raise CassetteError(name, where, "expected a mapping with 'request' and 'response'")
        request, response = item.get("request"), item.get("response")
        if not isinstance(request, dict) or not {"method", "uri"} <= request.keys():
            raise CassetteError(name, f"{where}/request", "expected 'method' and 'uri'")
        if not isinstance(response, dict) or not isinstance(response.get("status"), dict):
            raise CassetteError(name, f"{where}/response", "expected 'status: {code, message}'")
        try:
            int(response["status"].get("code"))
        except (TypeError, ValueError):
            raise CassetteError(
                name, f"{where}/response/status/code", "expected an HTTP status code"
            ) from None
        headers = response.get("headers", {})
        if headers is not None and not isinstance(headers, dict):
            raise CassetteError(name, f"{where}/response/headers", "expected a mapping")


def _from_vcr(request: VcrRequest, response: dict[str, Any], file: str, index: int) -> Interaction:
    response = _normalised_response(response)
    if any(k.lower() == "content-encoding" for k in response["headers"]):
        response = decode_response(response)
    body = (response.get("body") or {}).get("string")
    headers = _headers(response.get("headers"))
    encoding = headers.get("Content-Encoding")
    if encoding is None or encoding.lower() == "identity":
        headers.remove("Content-Encoding")
    status = response["status"]
    req_body = request.body
    if hasattr(req_body, "read"):
        req_body = req_body.read()
    elif req_body is not None and not isinstance(req_body, bytes | str):
        req_body = b"".join(c if isinstance(c, bytes) else str(c).encode() for c in req_body)
    return Interaction(
        method=str(request.method).upper(),
        uri=str(request.uri),
        request_headers=_headers(request.headers),
        request_body=_to_bytes(req_body) if req_body not in (None, b"", "") else None,
        status=int(status["code"]),
        reason=str(status.get("message") or ""),
        response_headers=headers,
        response_body=_to_bytes(body),
        file=file,
        index=index,
    )


def _normalised_response(response: dict[str, Any]) -> dict[str, Any]:
    # decode_response expects header values as lists and a body dict; old or hand-written
    # cassettes have single strings.
    out = dict(response)
    headers = response.get("headers") or {}
    out["headers"] = {k: v if isinstance(v, list) else [v] for k, v in headers.items()}
    body = response.get("body")
    out["body"] = {"string": _to_bytes(body.get("string") if isinstance(body, dict) else body)}
    return out


def _headers(raw: Any) -> Headers:
    headers = Headers()
    for name, values in (raw or {}).items():
        for value in values if isinstance(values, list | tuple) else [values]:
            headers.add(str(name), _text(value))
    return headers


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _to_bytes(value: Any) -> bytes:
    if value is None:
        return b""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _from_ruby_vcr(data: dict[str, Any], name: str) -> list[Interaction]:
    """Schemathesis' cassettes (Ruby VCR's layout): ``http_interactions`` with string
    status codes and ``base64_string`` bodies. Interactions without an answer (a network
    error during the run) are skipped; anything else unexpected is refused."""
    items = data["http_interactions"]
    if items is None:
        return []
    if not isinstance(items, list):
        raise CassetteError(name, "/http_interactions", "expected a list of interactions")
    out: list[Interaction] = []
    for i, item in enumerate(items):
        where = f"/http_interactions/{i}"
        if not isinstance(item, dict) or not isinstance(item.get("request"), dict):
            raise CassetteError(name, where, "a Ruby-VCR interaction needs a 'request' mapping")
        request, response = item["request"], item.get("response")
        if response is None:
            continue
        if not isinstance(response, dict) or not isinstance(response.get("status"), dict):
            raise CassetteError(name, f"{where}/response", "expected 'status: {code, message}'")
        if "truncated_from" in response:
            raise CassetteError(
                name,
                f"{where}/response",
                "the body was truncated when recorded; replaying it would serve half an answer",
            )
        try:
            status = int(response["status"]["code"])
        except (KeyError, TypeError, ValueError):
            raise CassetteError(
                name, f"{where}/response/status/code", "expected an HTTP status code"
            ) from None
        if "uri" not in request or "method" not in request:
            raise CassetteError(name, f"{where}/request", "expected 'method' and 'uri'")
        req_body = _ruby_body(request.get("body"), name, f"{where}/request/body")
        resp_body = decode_response(
            {
                "headers": {
                    k: v if isinstance(v, list) else [v]
                    for k, v in (response.get("headers") or {}).items()
                },
                "body": {"string": _ruby_body(response.get("body"), name, f"{where}/response")},
            }
        )
        headers = _headers(resp_body["headers"])
        out.append(
            Interaction(
                method=str(request["method"]).upper(),
                uri=str(request["uri"]),
                request_headers=_headers(request.get("headers")),
                request_body=req_body or None,
                status=status,
                reason=str(response["status"].get("message") or ""),
                response_headers=headers,
                response_body=resp_body["body"]["string"],
                file=name,
                index=i,
            )
        )
    return out


def _ruby_body(body: Any, name: str, where: str) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, dict):
        return _to_bytes(body)
    if "base64_string" in body:
        try:
            return base64.b64decode(body["base64_string"] or "", validate=False)
        except (ValueError, TypeError):
            raise CassetteError(name, where, "base64_string is not valid base64") from None
    return _to_bytes(body.get("string"))


def iter_interactions(cassettes: Iterable[Cassette]) -> Iterator[Interaction]:
    """Every interaction of every cassette, in file order."""
    for cassette in cassettes:
        yield from cassette.interactions
