"""Contract loading: versions, cross-file refs, normalisation, and every bad-contract case."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mockserver.contract.loader import load_contract
from mockserver.errors import ContractError

MINIMAL_30 = """
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: integer}}
      responses:
        200:
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Thing"}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: integer}
        parent: {$ref: "#/components/schemas/Thing"}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_yaml_integer_status_keys_are_normalised(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, "api.yaml", MINIMAL_30))
    (op,) = contract.operations
    assert list(op.responses) == ["200"]
    assert op.key == "GET /things/{id}"
    assert op.success_status() == 200


def test_circular_schema_loads_and_standalone_resolves(tmp_path: Path) -> None:
    contract = load_contract(write(tmp_path, "api.yaml", MINIMAL_30))
    (op,) = contract.operations
    schema = op.responses["200"].content["application/json"].schema
    doc = contract.schemas.standalone(schema)
    assert doc["components"]["schemas"]["Thing"]["properties"]["parent"] == {
        "$ref": "#/components/schemas/Thing"
    }


def test_dates_stay_strings(tmp_path: Path) -> None:
    text = MINIMAL_30.replace("description: ok", "description: ok\n          x-when: 2024-01-01")
    contract = load_contract(write(tmp_path, "api.yaml", text))
    assert contract.document["paths"]["/things/{id}"]["get"]["responses"]["200"]["x-when"] == (
        "2024-01-01"
    )


def test_cross_file_refs_are_bundled(tmp_path: Path) -> None:
    write(
        tmp_path,
        "schemas/thing.yaml",
        "Thing:\n  type: object\n  properties:\n"
        "    other: {$ref: '#/Other'}\nOther: {type: string}\n",
    )
    root = write(
        tmp_path,
        "api.yaml",
        MINIMAL_30.replace(
            '"#/components/schemas/Thing"}\ncomponents',
            '"schemas/thing.yaml#/Thing"}\ncomponents',
            1,
        ),
    )
    contract = load_contract(root)
    (op,) = contract.operations
    schema = op.responses["200"].content["application/json"].schema
    assert schema == {"$ref": "#/x-mockserver-files/schemas~1thing.yaml/Thing"}
    doc = contract.schemas.standalone(schema)
    thing = contract.schemas.resolve(schema["$ref"])
    assert thing["properties"]["other"]["$ref"] == "#/x-mockserver-files/schemas~1thing.yaml/Other"
    assert doc["x-mockserver-files"]["schemas/thing.yaml"]["Other"] == {"type": "string"}


def test_swagger2_body_and_form_are_request_bodies(tmp_path: Path) -> None:
    spec = {
        "swagger": "2.0",
        "info": {"title": "t", "version": "1"},
        "basePath": "/api",
        "paths": {
            "/a": {
                "post": {
                    "parameters": [
                        {"in": "body", "name": "b", "required": True, "schema": {"type": "object"}}
                    ],
                    "responses": {
                        "201": {
                            "description": "made",
                            "schema": {"type": "object"},
                            "examples": {"application/json": {"x": 1}},
                        }
                    },
                }
            },
            "/f": {
                "post": {
                    "consumes": ["multipart/form-data"],
                    "parameters": [
                        {"in": "formData", "name": "file", "type": "file", "required": True}
                    ],
                    "responses": {"204": {"description": "none"}},
                }
            },
        },
    }
    contract = load_contract(write(tmp_path, "api.json", json.dumps(spec)))
    a, f = contract.operations
    assert a.full_path == "/api/a"
    assert a.request_body is not None and a.request_body.required
    assert list(a.request_body.content) == ["application/json"]
    assert a.responses["201"].content["application/json"].example == {"x": 1}
    assert f.request_body is not None
    assert f.request_body.content["multipart/form-data"].schema == {
        "type": "object",
        "properties": {"file": {"type": "file"}},
        "additionalProperties": False,
        "required": ["file"],
    }


def test_servers_path_is_the_base_path(tmp_path: Path) -> None:
    text = MINIMAL_30.replace(
        "paths:",
        "servers: [{url: 'https://x.example/v{n}', variables: {n: {default: '2'}}}]\npaths:",
        1,
    )
    contract = load_contract(write(tmp_path, "api.yaml", text))
    assert contract.base_path == "/v2"
    assert contract.operations[0].full_path == "/v2/things/{id}"


# -- bad contracts: each names the file, the place and the problem -------------------------

BAD_CASES = [
    pytest.param(
        "api.yaml",
        "openapi: 3.0.0\npaths: {a: [1, 2}\n",
        r"api\.yaml: line 2, column \d+: invalid YAML",
        id="bad-yaml",
    ),
    pytest.param(
        "api.json",
        '{"openapi": "3.0.0",\n "paths": {,}}',
        r"api\.json: line 2, column \d+: invalid JSON",
        id="bad-json",
    ),
    pytest.param(
        "api.yaml",
        MINIMAL_30.replace(
            '#/components/schemas/Thing"}\ncomponents', '#/components/schemas/Thingy"}\ncomponents'
        ),
        r"api\.yaml: /paths/~1things~1\{id\}/get/responses/200/content/application~1json"
        r"/schema/\$ref: dangling \$ref '#/components/schemas/Thingy': 'Thingy' not found",
        id="dangling-ref",
    ),
    pytest.param(
        "api.yaml",
        MINIMAL_30.replace(
            '#/components/schemas/Thing"}\ncomponents', 'missing.yaml#/X"}\ncomponents'
        ),
        r"\$ref 'missing\.yaml#/X': file .*missing\.yaml not found",
        id="missing-file",
    ),
    pytest.param(
        "api.yaml",
        MINIMAL_30.replace(
            '#/components/schemas/Thing"}\ncomponents',
            'https://evil.example/x.yaml#/X"}\ncomponents',
        ),
        r"remote \$ref 'https://evil\.example/x\.yaml#/X' is not allowed",
        id="remote-ref",
    ),
    pytest.param(
        "api.yaml",
        MINIMAL_30.replace(
            '#/components/schemas/Thing"}\ncomponents', '../../etc/passwd#/X"}\ncomponents'
        ),
        r"points outside the contract's folder",
        id="ref-outside-folder",
    ),
    pytest.param(
        "api.yaml",
        MINIMAL_30.replace("openapi: 3.0.3", "openapi: 4.0.0"),
        r"api\.yaml: /openapi: unsupported OpenAPI version '4\.0\.0'",
        id="unknown-openapi-version",
    ),
    pytest.param(
        "api.yaml",
        MINIMAL_30.replace("openapi: 3.0.3", "swagger: '1.2'"),
        r"api\.yaml: /swagger: unsupported Swagger version '1\.2'",
        id="unknown-swagger-version",
    ),
    pytest.param(
        "api.yaml",
        "info: {title: t}\npaths: {}\n",
        r"api\.yaml: not an OpenAPI contract: no 'openapi' or 'swagger' field",
        id="no-version",
    ),
    pytest.param(
        "api.yaml",
        "- just\n- a list\n",
        r"a contract must be a mapping at the top level",
        id="not-a-mapping",
    ),
    pytest.param(
        "api.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /a:\n    get:\n      responses: {}\n",
        r"/paths/~1a/get/responses: an operation needs at least one response",
        id="no-responses",
    ),
    pytest.param(
        "api.yaml",
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /a:\n    get:\n      responses: {'2000': {description: x}}\n",
        r"/paths/~1a/get/responses/2000: '2000' is not a status code",
        id="bad-status",
    ),
    pytest.param(
        "api.yaml",
        "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, "
            f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
            f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
            for i in range(9)
        )
        + "openapi: 3.0.0\npaths: {}\n",
        r"invalid YAML: aliases expand to more than \d+ nodes \(alias bomb\?\)",
        id="alias-bomb",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_CASES)
def test_bad_contracts_raise_one_line_errors(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ContractError, match=message) as info:
        load_contract(path)
    line = info.value.one_line()
    assert "\n" not in line
    assert line.startswith(str(path))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="no such file"):
        load_contract(tmp_path / "nope.yaml")


def test_circular_ref_chain_is_refused(tmp_path: Path) -> None:
    text = MINIMAL_30.replace(
        "    Thing:\n      type: object",
        "    Thing: {$ref: '#/components/schemas/Other'}\n"
        "    Other: {$ref: '#/components/schemas/Thing'}\n    Unused:\n      type: object",
    )
    with pytest.raises(ContractError, match=r"circular \$ref chain: #/components/schemas/"):
        load_contract(write(tmp_path, "api.yaml", text))
