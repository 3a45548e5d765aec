"""Contracts we did not write (../shared/contracts-external): all Amadeus APIs mounted at
once (JSON), each YAML edition alone, Stripe alone. Every operation answers without a
server error and the answer passes the mock's own self-check."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from conftest import EXTERNAL
from mockserver import MockServer

AMADEUS_JSON = sorted((EXTERNAL / "amadeus" / "json").glob("*.json")) if EXTERNAL.is_dir() else []
AMADEUS_YAML = sorted((EXTERNAL / "amadeus" / "yaml").glob("*.yaml")) if EXTERNAL.is_dir() else []
pytestmark = pytest.mark.skipif(not AMADEUS_JSON, reason="../shared/contracts-external is absent")


def _concrete(path: str) -> str:
    # a value for every {param}; items not in a dataset still answer (404 is an answer)
    import re

    return re.sub(r"{[^}]+}", "X1", path)


def _hit_every_operation(server: MockServer) -> list[str]:
    problems: list[str] = []
    session = requests.Session()
    for op in server.pipeline.operations:
        resp = session.request(
            op.method,
            server.url + _concrete(op.full_path),
            timeout=10,
            headers={"Authorization": "Bearer anything"},
        )
        if resp.status_code >= 500 and not op.declares(resp.status_code):
            problems.append(f"{op.key}: {resp.status_code} {resp.text[:200]}")
    for entry in server.journal.entries():
        errors = [f for f in entry.response_failures if f.severity == "error"]
        if errors:
            problems.append(f"{entry.operation}: self-check: {errors[0].message}")
    return problems


def test_all_amadeus_json_contracts_mounted_together() -> None:
    with MockServer(AMADEUS_JSON) as server:
        assert len(server.pipeline.contracts) == len(AMADEUS_JSON)
        # static segments beat templated ones across contracts
        health = requests.get(f"{server.url}/__mockserver/health", timeout=5).json()
        assert health["operations"] == len(server.pipeline.operations) >= 15
        assert not _hit_every_operation(server)


@pytest.mark.parametrize("path", AMADEUS_YAML, ids=lambda p: p.stem)
def test_each_amadeus_yaml_contract(path: Path) -> None:
    with MockServer(path) as server:
        assert not _hit_every_operation(server)


def test_stripe_alone() -> None:
    with MockServer(EXTERNAL / "stripe-spec3.json") as server:
        assert len(server.pipeline.operations) == 417
        resp = requests.get(
            f"{server.url}/v1/customers", timeout=10, headers={"Authorization": "Bearer sk_test_x"}
        )
        assert resp.status_code == 200
        assert resp.headers["Content-Type"] == "application/json"
        assert resp.json()["object"] == "list"
