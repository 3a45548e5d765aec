"""Cassette files: vcrpy's format both ways, the Ruby-VCR dialect, and clear errors."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path

import pytest
import yaml
from vcr import serialize as vcr_serialize
from vcr.persisters.filesystem import FilesystemPersister
from vcr.request import Request
from vcr.serializers import jsonserializer, yamlserializer

from mockserver.cassettes.format import (
    Cassette,
    Interaction,
    append_yaml,
    cassette_files,
    dump_cassette,
    interaction_yaml,
    load_cassette,
)
from mockserver.errors import CassetteError
from mockserver.http import Headers


def _vcrpy_file(path: Path, serializer: object, responses: list[dict[str, object]]) -> Path:
    """A cassette written by vcrpy's own code, as vcrpy/pytest-recording would."""
    requests = [
        Request("GET", f"https://api.example.com/items/{n}", None, {"Accept": "*/*"})
        for n in range(len(responses))
    ]
    text = vcr_serialize.serialize({"requests": requests, "responses": responses}, serializer)
    path.write_text(text)
    return path


def _response(body: bytes, **headers: str) -> dict[str, object]:
    return {
        "status": {"code": 200, "message": "OK"},
        "headers": {k.replace("_", "-"): [v] for k, v in headers.items()},
        "body": {"string": body},
    }


def test_vcrpy_yaml_with_gzip_and_binary_bodies_loads(tmp_path: Path) -> None:
    png = bytes(range(256))
    payload = json.dumps({"id": 1}).encode()
    file = _vcrpy_file(
        tmp_path / "c.yaml",
        yamlserializer,
        [
            _response(payload, Content_Type="application/json"),
            _response(gzip.compress(payload), Content_Encoding="gzip", Content_Length="99"),
            _response(png, Content_Type="image/png"),
        ],
    )
    assert "!!binary" in file.read_text()
    plain, zipped, binary = load_cassette(file).interactions
    assert plain.response_body == payload
    assert zipped.response_body == payload  # decompressed, header dropped, length fixed
    assert "Content-Encoding" not in zipped.response_headers
    assert zipped.response_headers.get("content-length") == str(len(payload))
    assert binary.response_body == png
    assert (plain.file, plain.index, binary.index) == (str(file), 0, 2)


def test_vcrpy_json_serializer_loads(tmp_path: Path) -> None:
    file = _vcrpy_file(tmp_path / "c.json", jsonserializer, [_response(b'{"ok": true}')])
    (only,) = load_cassette(file).interactions
    assert only.method == "GET" and only.uri == "https://api.example.com/items/0"
    assert only.response_body == b'{"ok": true}'


def test_written_cassettes_load_in_vcrpy_unchanged(tmp_path: Path) -> None:
    interaction = Interaction(
        "POST",
        "https://api.example.com/items?x=1",
        Headers({"Content-Type": "application/json"}),
        b'{"a": 1}',
        201,
        "Created",
        Headers([("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Type", "image/png")]),
        b"\x89PNG\x00\xff",
    )
    file = tmp_path / "out.yaml"
    file.write_text(dump_cassette(Cassette(file, [interaction])))
    requests, responses = FilesystemPersister.load_cassette(file, yamlserializer)
    assert requests[0].method == "POST" and requests[0].body == b'{"a": 1}'
    assert responses[0]["status"] == {"code": 201, "message": "Created"}
    assert responses[0]["headers"]["Set-Cookie"] == ["a=1", "b=2"]
    assert responses[0]["body"]["string"] == b"\x89PNG\x00\xff"


def test_appending_item_by_item_writes_what_vcrpy_writes_at_once() -> None:
    items = [
        Interaction(
            "GET",
            f"https://x/items/{n}",
            Headers({"Accept": "*/*"}),
            None if n % 2 else b"\x00\xffbinary",
            200,
            "OK",
            Headers({"Content-Type": "application/json"}),
            json.dumps({"n": n, "long": "y" * 150}).encode(),
        )
        for n in range(5)
    ]
    text: str | None = None
    for item in items:
        text = append_yaml(text, interaction_yaml(item))
    assert text == dump_cassette(Cassette(Path("x.yaml"), items))
    assert append_yaml(None, "") == dump_cassette(Cassette(Path("x.yaml"), []))
    with_metadata = "interactions: []\nmetadata:\n  a: 1\nversion: 1\n"
    assert append_yaml(with_metadata, interaction_yaml(items[0])) is None  # parse instead


RUBY_VCR = """\
command: 'st run http://localhost/openapi.json'
recorded_with: 'Schemathesis 4.0'
seed: 1
http_interactions:
- id: '1'
  status: 'SUCCESS'
  recorded_at: '2026-01-01T00:00:00'
  checks: []
  request:
    uri: 'http://localhost/api/notes?limit=1'
    method: 'GET'
    headers:
      "X-API-Key":
      - "[Filtered]"
  response:
    status:
      code: '200'
      message: "OK"
    elapsed: '0.01'
    headers:
      "Content-Type":
      - "application/json"
    body:
      encoding: 'utf-8'
      base64_string: '{b64}'
    http_version: '1.1'
- id: '2'
  status: 'ERROR'
  request:
    uri: 'http://localhost/api/status'
    method: 'GET'
    headers: {{}}
  response: null
"""


def test_schemathesis_ruby_vcr_dialect_is_converted(tmp_path: Path) -> None:
    body = b'[{"id": 1}]'
    file = tmp_path / "st.yaml"
    file.write_text(RUBY_VCR.format(b64=base64.b64encode(body).decode()))
    cassette = load_cassette(file)
    assert cassette.dialect == "ruby-vcr"
    (only,) = cassette.interactions  # the one without an answer is skipped
    assert (only.method, only.status, only.response_body) == ("GET", 200, body)
    assert only.request_headers.get("X-API-Key") == "[Filtered]"


def test_truncated_ruby_vcr_body_is_refused(tmp_path: Path) -> None:
    text = RUBY_VCR.format(b64="e30=").replace(
        "    http_version: '1.1'", "    truncated_from: 999999\n    http_version: '1.1'"
    )
    file = tmp_path / "st.yaml"
    file.write_text(text)
    with pytest.raises(CassetteError, match="truncated") as info:
        load_cassette(file)
    assert info.value.location == "/http_interactions/0/response"


@pytest.mark.parametrize(
    ("text", "location", "words"),
    [
        ("interactions:\n- request: {method: GET\n", "line 3, column 1", "invalid YAML"),
        ("version: 2\ninteractions: []\n", "/version", "version 2"),
        ("- request: {}\n  response: {}\n", "", "before 1.0"),
        ("just: text\n", "", "not a VCR cassette"),
        (
            "version: 1\ninteractions:\n- request: {method: GET}\n  response: {}\n",
            "/interactions/0/request",
            "'method' and 'uri'",
        ),
        (
            "version: 1\ninteractions:\n- request: {method: GET, uri: /}\n"
            "  response: {status: {code: abc}}\n",
            "/interactions/0/response/status/code",
            "status code",
        ),
    ],
)
def test_bad_cassettes_name_the_place(tmp_path: Path, text: str, location: str, words: str) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text(text)
    with pytest.raises(CassetteError) as info:
        load_cassette(file)
    assert info.value.file == str(file)
    assert info.value.location == location
    assert words in info.value.problem


def test_empty_file_is_an_empty_cassette_like_in_vcrpy(tmp_path: Path) -> None:
    file = tmp_path / "empty.yaml"
    file.write_text("")
    assert load_cassette(file).interactions == []


def test_folders_are_searched_and_dotfiles_skipped(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/one.yaml", "two.json", "three.yml", ".hidden.yaml", "a/.x.yaml.1.tmp"):
        (tmp_path / name).write_text("")
    (tmp_path / "notes.txt").write_text("")
    found = [p.relative_to(tmp_path).as_posix() for p in cassette_files([tmp_path])]
    assert found == ["a/one.yaml", "three.yml", "two.json"]
    with pytest.raises(CassetteError, match="no such file"):
        cassette_files([tmp_path / "missing"])


def test_yaml_is_what_pyyaml_reads_back(tmp_path: Path) -> None:
    interaction = Interaction(
        "GET", "https://x/a", Headers(), None, 204, "No Content", Headers(), b""
    )
    data = yaml.safe_load(dump_cassette(Cassette(tmp_path / "c.yaml", [interaction])))
    assert data["version"] == 1
    assert data["interactions"][0]["response"]["status"]["code"] == 204
