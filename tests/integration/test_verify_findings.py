"""What ``mockserver verify --mock`` found in the mock, one test per finding, so each
fix stays fixed without a schemathesis run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from conftest import CONTRACTS
from mockserver import MockServer

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture(scope="module")
def github() -> Iterator[MockServer]:
    with MockServer(CONTRACTS / "github.yaml") as api:
        yield api


@pytest.fixture(scope="module")
def notes() -> Iterator[MockServer]:
    with MockServer(CONTRACTS / "notes.json") as api:
        yield api


def test_invalid_input_uses_the_contracts_422_when_it_declares_no_400(github: MockServer) -> None:
    resp = requests.get(
        f"{github.url}/user/repos", params={"visibility": "nope"}, headers=_token(), timeout=5
    )

    assert resp.status_code == 422
    assert "visibility" in resp.json()["message"]
    empty = requests.get(f"{github.url}/user/repos?since=", headers=_token(), timeout=5)
    assert empty.status_code == 422  # "" is no date-time


def test_an_empty_value_the_schema_refuses_is_invalid(tmp_path: Path) -> None:
    contract = tmp_path / "api.json"
    contract.write_text(
        json.dumps(
            {
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {
                    "/things": {
                        "get": {
                            "parameters": [
                                {"name": "q", "in": "query", "schema": {"type": "string"}},
                                {"name": "n", "in": "query", "schema": {"type": "integer"}},
                            ],
                            "responses": {
                                "200": {"description": "ok"},
                                "400": {"description": "bad"},
                            },
                        }
                    }
                },
            }
        )
    )
    with MockServer(contract) as api:
        # "" is a string: an empty q is just absent; "" is no integer: n= is invalid
        assert requests.get(f"{api.url}/things?q=", timeout=5).status_code == 200
        bad = requests.get(f"{api.url}/things?n=", timeout=5)

    assert bad.status_code == 400
    assert "'n'" in bad.text


def test_required_headers_are_on_error_answers_too(github: MockServer) -> None:
    resp = requests.get(f"{github.url}/user", timeout=5)  # no token

    assert resp.status_code == 401
    for name in RATE_HEADERS:
        assert resp.headers.get(name), name


def test_token_errors_are_400_where_the_contract_declares_no_401(github: MockServer) -> None:
    resp = requests.post(
        f"{github.url}/login/oauth/access_token",
        data={"grant_type": "authorization_code", "client_id": "x", "code": "never-issued"},
        headers={"Accept": "application/json"},
        timeout=5,
    )

    assert resp.status_code == 400
    assert resp.json()["error"] == "invalid_grant"


def test_a_token_request_that_breaks_the_contract_is_refused() -> None:
    with MockServer(CONTRACTS / "travel" / "openapi.yaml") as api:
        url = f"{api.url}/v1/security/oauth2/token"
        form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}

        ok = requests.post(url, data=form, timeout=5)
        bad = requests.post(url, data={**form, "refresh_token": ""}, timeout=5)

    assert ok.status_code == 200
    assert bad.status_code == 400
    assert "refresh_token" in bad.text


def test_a_form_field_the_contract_does_not_declare_is_refused(notes: MockServer) -> None:
    note = requests.get(f"{notes.url}/api/notes", params={"api_key": "k"}, timeout=5).json()[0]
    url = f"{notes.url}/api/notes/{note['id']}/attachments?api_key=k"
    jpeg = {"file": ("a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg")}

    assert requests.post(url, files=jpeg, data={"description": "x"}, timeout=5).status_code == 201
    bad = requests.post(url, files=jpeg, data={"colour": "red"}, timeout=5)

    assert bad.status_code == 400
    assert "colour" in bad.text


def test_sub_resources_of_a_deleted_item_are_gone(notes: MockServer) -> None:
    note = requests.get(f"{notes.url}/api/notes", params={"api_key": "k"}, timeout=5).json()[-1]
    attachment = f"{notes.url}/api/notes/{note['id']}/attachments/cat.jpg?api_key=k"
    assert requests.get(attachment, timeout=5).status_code == 200

    requests.delete(f"{notes.url}/api/notes/{note['id']}?api_key=k", timeout=5)

    assert requests.get(attachment, timeout=5).status_code == 404


def test_huge_ids_are_outside_int64(notes: MockServer) -> None:
    url = f"{notes.url}/api/notes/{2**63}/attachments/cat.jpg?api_key=k"

    assert requests.get(url, timeout=5).status_code == 400


def test_an_encoded_comma_stays_inside_its_tag(notes: MockServer) -> None:
    tags = ",".join(f"t{i}" for i in range(9)) + ",a%2Cb"  # 10 tags, the maximum

    resp = requests.get(f"{notes.url}/api/notes?api_key=k&tag={tags}", timeout=5)

    assert resp.status_code == 200


def _token() -> dict[str, str]:
    # GitHub's http bearer scheme takes any token unless static_tokens_only
    return {"Authorization": "Bearer ghp_test"}
