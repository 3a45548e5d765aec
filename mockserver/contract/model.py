"""The contract model: small values the rest of mockserver reads instead of raw dicts.

Swagger 2.0 and OpenAPI 3.x are normalised into one shape here (request bodies with
media types, responses with content, security schemes), so nothing downstream cares
which version a contract was written in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from mockserver.contract.schemas import SchemaSpace

Location = Literal["path", "query", "header", "cookie"]
Dialect = Literal["swagger2", "oas30", "oas31"]
Schema = dict[str, Any]

_MISSING: Any = object()


@dataclass(slots=True, eq=False)
class Parameter:
    """One path/query/header/cookie parameter with its serialisation style."""

    name: str
    location: Location
    required: bool
    schema: Schema
    style: str
    explode: bool
    allow_empty: bool = False
    # Swagger 2.0 collectionFormat (csv, ssv, tsv, pipes, multi); None for OpenAPI 3.
    collection_format: str | None = None
    content_type: str | None = None  # OpenAPI 3 `content` parameters (JSON in a query)


@dataclass(slots=True, eq=False)
class MediaType:
    """A media type in a request body or response: its schema and examples."""

    media_type: str
    schema: Schema | None
    example: Any = _MISSING
    examples: dict[str, Any] = field(default_factory=dict)
    # For form bodies: property name -> serialisation (style/explode/contentType)
    encoding: dict[str, Any] = field(default_factory=dict)

    @property
    def has_example(self) -> bool:
        """True when the contract gives at least one example."""
        return self.example is not _MISSING or bool(self.examples)


@dataclass(slots=True, eq=False)
class RequestBodySpec:
    """What an operation accepts as a body."""

    required: bool
    content: dict[str, MediaType]


@dataclass(slots=True, eq=False)
class HeaderSpec:
    """A response header the contract declares."""

    name: str
    required: bool
    schema: Schema


@dataclass(slots=True, eq=False)
class ResponseSpec:
    """One declared response (``status`` is ``"200"``, ``"4XX"`` or ``"default"``)."""

    status: str
    description: str
    content: dict[str, MediaType]
    headers: dict[str, HeaderSpec]
    # Swagger 2.0 `produces` applies even to answers without a schema; tools such as
    # schemathesis then expect that Content-Type on an empty answer too.
    bodiless_media_type: str | None = None

    def first_media_type(self) -> MediaType | None:
        """The first declared media type, JSON-ish ones preferred."""
        from mockserver.http import is_json_media_type

        for mt in self.content.values():
            if is_json_media_type(mt.media_type):
                return mt
        return next(iter(self.content.values()), None)


@dataclass(slots=True, eq=False)
class OAuthFlow:
    """One OAuth2 flow of a security scheme."""

    kind: str  # clientCredentials, authorizationCode, password, implicit
    token_url: str | None
    authorization_url: str | None
    refresh_url: str | None
    scopes: dict[str, str]


@dataclass(slots=True, eq=False)
class SecurityScheme:
    """A security scheme: oauth2, http bearer/basic, apiKey, openIdConnect."""

    name: str
    type: str
    scheme: str | None = None  # for type http: bearer, basic
    location: str | None = None  # for apiKey: header, query, cookie
    param_name: str | None = None  # for apiKey
    flows: list[OAuthFlow] = field(default_factory=list)


# One alternative of an operation's `security`: scheme name -> required scopes.
# An operation holds a list of these; any one satisfied is enough, `{}` means anonymous.
SecurityRequirement = dict[str, list[str]]


@dataclass(slots=True, eq=False)
class Operation:
    """One method on one path of one contract."""

    contract: Contract
    method: str
    path: str  # template as written in the contract, e.g. /users/{username}
    full_path: str  # with the contract's base path
    operation_id: str | None
    pointer: str  # JSON pointer to the operation object in the contract document
    parameters: list[Parameter]
    request_body: RequestBodySpec | None
    responses: dict[str, ResponseSpec]
    security: list[SecurityRequirement]
    summary: str = ""
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """``"GET /v1/reference-data/locations"``: how config and reports name it."""
        return f"{self.method} {self.full_path}"

    @property
    def schemas(self) -> SchemaSpace:
        """The schema space of the contract this operation belongs to."""
        return self.contract.schemas

    def response_for(self, status: int) -> ResponseSpec | None:
        """The declared response for ``status``: exact, then ``4XX``, then ``default``."""
        exact = self.responses.get(str(status))
        if exact is not None:
            return exact
        ranged = self.responses.get(f"{str(status)[0]}XX") or self.responses.get(
            f"{str(status)[0]}xx"
        )
        if ranged is not None:
            return ranged
        return self.responses.get("default")

    def success_status(self) -> int:
        """The status of the answer a client expects by default: the lowest 2xx declared."""
        codes = sorted(int(s) for s in self.responses if s.isdigit() and s.startswith("2"))
        if codes:
            return codes[0]
        if any(s.upper() == "2XX" for s in self.responses):
            return 200
        if "default" in self.responses:
            return 200
        codes = sorted(int(s) for s in self.responses if s.isdigit())
        return codes[0] if codes else 200

    def declares(self, status: int) -> bool:
        """True when the contract has a response for ``status`` (exactly or by range)."""
        return str(status) in self.responses or f"{str(status)[0]}XX" in {
            s.upper() for s in self.responses
        }


@dataclass(slots=True, eq=False)
class Contract:
    """One loaded contract: its file, version, base path and operations."""

    path: Path
    dialect: Dialect
    version: str
    title: str
    base_path: str
    document: dict[str, Any]
    schemas: SchemaSpace
    security_schemes: dict[str, SecurityScheme]
    operations: list[Operation] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """A short name: the file's stem, or its folder for ``openapi.yaml``-style roots."""
        if self.path.stem in {"openapi", "swagger", "api", "index", "spec"}:
            return self.path.parent.name
        return self.path.stem

    def token_urls(self) -> set[str]:
        """Every OAuth2 token URL this contract declares."""
        return {f.token_url for s in self.security_schemes.values() for f in s.flows if f.token_url}
