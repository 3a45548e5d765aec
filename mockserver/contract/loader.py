"""Turn a contract file into a ``Contract``: version check, normalisation, operations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mockserver.contract.documents import (
    Bundler,
    PointerError,
    escape_pointer_token,
    resolve_pointer,
)
from mockserver.contract.model import (
    _MISSING,
    Contract,
    Dialect,
    HeaderSpec,
    MediaType,
    OAuthFlow,
    Operation,
    Parameter,
    RequestBodySpec,
    ResponseSpec,
    SecurityRequirement,
    SecurityScheme,
)
from mockserver.contract.schemas import SchemaSpace
from mockserver.errors import ContractError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}
_SWAGGER_FLOWS = {
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
    "password": "password",
    "implicit": "implicit",
}
_SWAGGER_PARAM_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
    "x-nullable",
)


def load_contracts(paths: Iterable[str | Path]) -> list[Contract]:
    """Load several contracts; the first bad one raises ``ContractError``."""
    return [load_contract(p) for p in paths]


def load_contract(path: str | Path) -> Contract:
    """Load, bundle and normalise one contract file (Swagger 2.0, OpenAPI 3.0 or 3.1)."""
    file = Path(path)
    if file.is_dir():
        candidates = [file / n for n in ("openapi.yaml", "openapi.yml", "openapi.json")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise ContractError(str(file), "", "a folder needs an openapi.yaml or openapi.json")
        file = found
    if not file.is_file():
        raise ContractError(str(file), "", "no such file")
    document = Bundler(file).bundle()
    return _Builder(file, document).build()


def _dialect(file: Path, document: dict[str, Any]) -> tuple[Dialect, str]:
    if "swagger" in document:
        version = str(document["swagger"])
        if version != "2.0":
            raise ContractError(
                str(file),
                "/swagger",
                f"unsupported Swagger version {version!r}: mockserver reads Swagger 2.0 "
                "and OpenAPI 3.0/3.1",
            )
        return "swagger2", version
    if "openapi" in document:
        version = str(document["openapi"])
        if re.match(r"^3\.0(\.\d+)?$", version):
            return "oas30", version
        if re.match(r"^3\.[12](\.\d+)?$", version):
            return "oas31", version
        raise ContractError(
            str(file),
            "/openapi",
            f"unsupported OpenAPI version {version!r}: mockserver reads Swagger 2.0 and "
            "OpenAPI 3.0/3.1",
        )
    raise ContractError(
        str(file), "", "not an OpenAPI contract: no 'openapi' or 'swagger' field at the top"
    )


def _normalise_status_keys(responses: dict[Any, Any]) -> dict[str, Any]:
    # YAML reads `200:` as an int; the spec means the string "200".
    return {str(k): v for k, v in responses.items()}


def _base_path_from_servers(servers: Any) -> str:
    if not isinstance(servers, list) or not servers or not isinstance(servers[0], dict):
        return ""
    url = str(servers[0].get("url", ""))
    variables = servers[0].get("variables") or {}
    for name, var in variables.items() if isinstance(variables, dict) else []:
        default = var.get("default", "") if isinstance(var, dict) else ""
        url = url.replace("{" + str(name) + "}", str(default))
    path = urlsplit(url).path if "://" in url else url
    return path.rstrip("/")


class _Builder:
    def __init__(self, file: Path, document: dict[str, Any]) -> None:
        self.file = file
        self.doc = document
        self.dialect, self.version = _dialect(file, document)
        self.schemas = SchemaSpace(document, self.dialect)

    def error(self, pointer: str, problem: str) -> ContractError:
        return ContractError(str(self.file), pointer, problem)

    def deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains of non-schema objects (parameters, responses, ...)."""
        hops = 0
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            try:
                node = resolve_pointer(self.doc, ref[1:])
            except PointerError as exc:
                raise self.error(pointer, f"dangling $ref {ref!r}: {exc}") from None
            pointer = ref[1:]
            hops += 1
            if hops > 32:
                raise self.error(pointer, "circular $ref chain")
        return node, pointer

    def build(self) -> Contract:
        doc = self.doc
        info: dict[str, Any] = doc["info"] if isinstance(doc.get("info"), dict) else {}
        if self.dialect == "swagger2":
            base_path = str(doc.get("basePath") or "").rstrip("/")
        else:
            base_path = _base_path_from_servers(doc.get("servers"))
        extensions = doc.get("x-mockserver") or {}
        if not isinstance(extensions, dict):
            raise self.error("/x-mockserver", "x-mockserver must be a mapping")
        contract = Contract(
            path=self.file,
            dialect=self.dialect,
            version=self.version,
            title=str(info.get("title") or self.file.stem),
            base_path=base_path,
            document=doc,
            schemas=self.schemas,
            security_schemes=self._security_schemes(),
            extensions=extensions,
        )
        paths = doc.get("paths")
        if paths is None:
            paths = {}
        if not isinstance(paths, dict):
            raise self.error("/paths", "paths must be a mapping of path templates")
        global_security = self._security(doc.get("security"), "/security") or []
        for template, item in paths.items():
            ptr = f"/paths/{escape_pointer_token(str(template))}"
            if not str(template).startswith("/"):
                raise self.error(ptr, f"path {template!r} must start with '/'")
            item, item_ptr = self.deref(item, ptr)
            if item is None:
                continue
            if not isinstance(item, dict):
                raise self.error(ptr, "a path item must be a mapping")
            shared = self._parameters(item.get("parameters"), f"{item_ptr}/parameters", {})
            for method in HTTP_METHODS:
                op = item.get(method)
                if op is None:
                    continue
                op_ptr = f"{item_ptr}/{method}"
                if not isinstance(op, dict):
                    raise self.error(op_ptr, "an operation must be a mapping")
                contract.operations.append(
                    self._operation(
                        contract, str(template), method, op, op_ptr, shared, global_security
                    )
                )
        return contract

    # -- security -------------------------------------------------------------------------

    def _security_schemes(self) -> dict[str, SecurityScheme]:
        if self.dialect == "swagger2":
            raw = self.doc.get("securityDefinitions") or {}
            ptr = "/securityDefinitions"
        else:
            raw = (self.doc.get("components") or {}).get("securitySchemes") or {}
            ptr = "/components/securitySchemes"
        schemes: dict[str, SecurityScheme] = {}
        if not isinstance(raw, dict):
            raise self.error(ptr, "security schemes must be a mapping")
        for name, node in raw.items():
            node, node_ptr = self.deref(node, f"{ptr}/{escape_pointer_token(name)}")
            if not isinstance(node, dict) or "type" not in node:
                raise self.error(node_ptr, "a security scheme needs a 'type'")
            kind = str(node["type"])
            scheme = SecurityScheme(name=name, type=kind)
            if kind == "basic":  # Swagger 2.0
                scheme.type, scheme.scheme = "http", "basic"
            elif kind == "http":
                scheme.scheme = str(node.get("scheme", "bearer")).lower()
            elif kind == "apiKey":
                scheme.location = str(node.get("in", "header"))
                scheme.param_name = str(node.get("name", ""))
                if not scheme.param_name:
                    raise self.error(node_ptr, "an apiKey scheme needs a 'name'")
            elif kind == "oauth2":
                scheme.flows = self._flows(node)
            schemes[name] = scheme
        return schemes

    def _flows(self, node: dict[str, Any]) -> list[OAuthFlow]:
        if self.dialect == "swagger2":
            kind = _SWAGGER_FLOWS.get(str(node.get("flow")), str(node.get("flow")))
            return [
                OAuthFlow(
                    kind=kind,
                    token_url=node.get("tokenUrl"),
                    authorization_url=node.get("authorizationUrl"),
                    refresh_url=None,
                    scopes=dict(node.get("scopes") or {}),
                )
            ]
        flows = node.get("flows") or {}
        return [
            OAuthFlow(
                kind=kind,
                token_url=flow.get("tokenUrl"),
                authorization_url=flow.get("authorizationUrl"),
                refresh_url=flow.get("refreshUrl"),
                scopes=dict(flow.get("scopes") or {}),
            )
            for kind, flow in flows.items()
            if isinstance(flow, dict)
        ]

    def _security(self, raw: Any, ptr: str) -> list[SecurityRequirement] | None:
        if raw is None:
            return None
        if not isinstance(raw, list):
            raise self.error(ptr, "security must be a list of requirement objects")
        out: list[SecurityRequirement] = []
        for i, req in enumerate(raw):
            if not isinstance(req, dict):
                raise self.error(f"{ptr}/{i}", "a security requirement must be a mapping")
            out.append({str(k): list(v or []) for k, v in req.items()})
        return out

    # -- operations -----------------------------------------------------------------------

    def _operation(
        self,
        contract: Contract,
        template: str,
        method: str,
        op: dict[str, Any],
        ptr: str,
        shared: dict[tuple[str, str], Parameter],
        global_security: list[SecurityRequirement],
    ) -> Operation:
        params = self._parameters(op.get("parameters"), f"{ptr}/parameters", dict(shared))
        body = None
        if self.dialect == "swagger2":
            body = self._swagger_body(op, ptr)
        elif op.get("requestBody") is not None:
            body = self._request_body(op["requestBody"], f"{ptr}/requestBody")
        responses_raw = op.get("responses")
        if not isinstance(responses_raw, dict) or not responses_raw:
            raise self.error(f"{ptr}/responses", "an operation needs at least one response")
        responses_raw = _normalise_status_keys(responses_raw)
        op["responses"] = responses_raw
        responses = {
            status: self._response(status, node, f"{ptr}/responses/{status}", op)
            for status, node in responses_raw.items()
            if not status.startswith("x-")
        }
        for status in responses:
            if not (status == "default" or re.fullmatch(r"[1-5](\d\d|XX|xx)", status)):
                raise self.error(f"{ptr}/responses/{status}", f"{status!r} is not a status code")
        security = self._security(op.get("security"), f"{ptr}/security")
        if security is None:
            security = global_security
        base = contract.base_path
        full_path = (base + template) if base else template
        for name in re.findall(r"{([^}]+)}", template):
            if (name, "path") not in params:
                # Lenient like most servers: an undeclared path parameter is a string.
                params[(name, "path")] = Parameter(
                    name=name,
                    location="path",
                    required=True,
                    schema={"type": "string"},
                    style="simple",
                    explode=False,
                )
        extensions = op.get("x-mockserver") or {}
        return Operation(
            contract=contract,
            method=method.upper(),
            path=template,
            full_path=full_path,
            operation_id=op.get("operationId"),
            pointer=ptr,
            parameters=list(params.values()),
            request_body=body,
            responses=responses,
            security=security,
            summary=str(op.get("summary") or ""),
            extensions=extensions if isinstance(extensions, dict) else {},
        )

    def _parameters(
        self, raw: Any, ptr: str, into: dict[tuple[str, str], Parameter]
    ) -> dict[tuple[str, str], Parameter]:
        if raw is None:
            return into
        if not isinstance(raw, list):
            raise self.error(ptr, "parameters must be a list")
        for i, node in enumerate(raw):
            node, node_ptr = self.deref(node, f"{ptr}/{i}")
            if not isinstance(node, dict) or "name" not in node or "in" not in node:
                raise self.error(node_ptr, "a parameter needs 'name' and 'in'")
            location = str(node["in"])
            if location in ("body", "formData"):
                continue  # Swagger 2.0: handled as the request body
            if location not in _DEFAULT_STYLE:
                raise self.error(f"{node_ptr}/in", f"unknown parameter location {location!r}")
            name = str(node["name"])
            content_type = None
            schema: Any
            if self.dialect == "swagger2":
                schema = {k: node[k] for k in _SWAGGER_PARAM_SCHEMA_KEYS if k in node}
                fmt = node.get("collectionFormat", "csv") if schema.get("type") == "array" else None
                style, explode = _DEFAULT_STYLE[location], fmt == "multi"
            else:
                schema = node.get("schema")
                if schema is None and isinstance(node.get("content"), dict) and node["content"]:
                    content_type, media = next(iter(node["content"].items()))
                    schema = (media or {}).get("schema")
                schema = schema if isinstance(schema, dict | bool) else {}
                fmt = None
                style = str(node.get("style") or _DEFAULT_STYLE[location])
                explode = bool(node.get("explode", style == "form"))
            into[(name, location)] = Parameter(
                name=name,
                location=location,  # type: ignore[arg-type]
                required=bool(node.get("required", location == "path")),
                schema=schema if isinstance(schema, dict) else {},
                style=style,
                explode=explode,
                allow_empty=bool(node.get("allowEmptyValue", False)),
                collection_format=fmt,
                content_type=content_type,
            )
        return into

    def _media_types(self, content: Any, ptr: str) -> dict[str, MediaType]:
        if content is None:
            return {}
        if not isinstance(content, dict):
            raise self.error(ptr, "content must be a mapping of media types")
        out: dict[str, MediaType] = {}
        for media_type, node in content.items():
            node = node or {}
            examples: dict[str, Any] = {}
            for name, ex in (node.get("examples") or {}).items():
                ex, _ = self.deref(ex, f"{ptr}/{escape_pointer_token(media_type)}/examples")
                if isinstance(ex, dict) and "value" in ex:
                    examples[str(name)] = ex["value"]
            out[str(media_type)] = MediaType(
                media_type=str(media_type),
                schema=node.get("schema"),
                example=node.get("example", _MISSING),
                examples=examples,
                encoding=dict(node.get("encoding") or {}),
            )
        return out

    def _request_body(self, raw: Any, ptr: str) -> RequestBodySpec:
        node, node_ptr = self.deref(raw, ptr)
        if not isinstance(node, dict):
            raise self.error(node_ptr, "requestBody must be a mapping")
        return RequestBodySpec(
            required=bool(node.get("required", False)),
            content=self._media_types(node.get("content"), f"{node_ptr}/content"),
        )

    def _swagger_body(self, op: dict[str, Any], ptr: str) -> RequestBodySpec | None:
        consumes = op.get("consumes") or self.doc.get("consumes") or ["application/json"]
        body_param = None
        form: dict[str, Any] = {}
        form_required: list[str] = []
        params = [self.deref(p, ptr)[0] for p in op.get("parameters") or []]
        for p in params:
            if not isinstance(p, dict):
                continue
            if p.get("in") == "body":
                body_param = p
            elif p.get("in") == "formData":
                form[str(p["name"])] = {k: p[k] for k in _SWAGGER_PARAM_SCHEMA_KEYS if k in p}
                if p.get("required"):
                    form_required.append(str(p["name"]))
        if body_param is not None:
            schema = body_param.get("schema") or {}
            return RequestBodySpec(
                required=bool(body_param.get("required", False)),
                content={mt: MediaType(mt, schema) for mt in consumes},
            )
        if form:
            # the formData parameters are the whole form: another field is not a parameter
            schema = {"type": "object", "properties": form, "additionalProperties": False}
            if form_required:
                schema["required"] = form_required
            form_types = [
                mt
                for mt in consumes
                if mt in ("multipart/form-data", "application/x-www-form-urlencoded")
            ] or ["application/x-www-form-urlencoded"]
            return RequestBodySpec(
                required=bool(form_required),
                content={mt: MediaType(mt, schema) for mt in form_types},
            )
        return None

    def _response(self, status: str, raw: Any, ptr: str, op: dict[str, Any]) -> ResponseSpec:
        node, node_ptr = self.deref(raw, ptr)
        if not isinstance(node, dict):
            raise self.error(node_ptr, "a response must be a mapping")
        headers: dict[str, HeaderSpec] = {}
        for name, h in (node.get("headers") or {}).items():
            h, _ = self.deref(h, f"{node_ptr}/headers")
            if not isinstance(h, dict):
                continue
            if self.dialect == "swagger2":
                schema = {k: h[k] for k in _SWAGGER_PARAM_SCHEMA_KEYS if k in h}
            else:
                schema = h.get("schema") or {}
            headers[str(name)] = HeaderSpec(str(name), bool(h.get("required", False)), schema)
        bodiless = None
        if self.dialect == "swagger2":
            content: dict[str, MediaType] = {}
            produces = op.get("produces") or self.doc.get("produces") or ["application/json"]
            if node.get("schema") is None:
                bodiless = str(produces[0]) if produces else None
            else:
                examples = node.get("examples") or {}
                for mt in produces:
                    content[mt] = MediaType(mt, node["schema"], example=examples.get(mt, _MISSING))
        else:
            content = self._media_types(node.get("content"), f"{node_ptr}/content")
        return ResponseSpec(
            status=status,
            description=str(node.get("description") or ""),
            content=content,
            headers=headers,
            bodiless_media_type=bodiless,
        )
