"""schemathesis property tests: the mock's answers conform to each contract.

For every operation, schemathesis generates valid requests from the contract and checks
the mock's answers: no server error, a declared status, a declared content type, a body
that matches the schema. Runs on a real server on a real port.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import CONTRACTS, EXTERNAL
from mockserver import MockServer
from mockserver.contract.loader import load_contract

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
MAX_EXAMPLES = 10

BUNDLED = sorted(
    p
    for p in [
        *CONTRACTS.glob("*.yaml"),
        *CONTRACTS.glob("*.json"),
        *CONTRACTS.glob("*/openapi.yaml"),
    ]
)
AMADEUS = sorted((EXTERNAL / "amadeus" / "json").glob("*.json")) if EXTERNAL.is_dir() else []
STRIPE = EXTERNAL / "stripe-spec3.json"


def _operations(path: Path, chunk: tuple[int, int] = (0, 1)) -> Iterator[Any]:
    document = copy.deepcopy(load_contract(path).document)
    schema = schemathesis.openapi.from_dict(document)
    index, count = chunk
    for i, result in enumerate(schema.get_all_operations()):
        if i % count == index:
            yield result.ok()


def _run(
    path: Path,
    server: MockServer,
    headers: dict[str, str],
    max_examples: int,
    chunk: tuple[int, int] = (0, 1),
) -> list[str]:
    failures: list[str] = []
    session = requests.Session()
    for operation in _operations(path, chunk):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(
                base_url=server.url + _base(path), session=session, headers=headers, checks=CHECKS
            )

        try:
            check()
        except Exception as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {str(exc)[:2000]}")
    return failures


def _base(path: Path) -> str:
    return load_contract(path).base_path


def _token(server: MockServer) -> dict[str, str]:
    return {}


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.relative_to(CONTRACTS).as_posix())
def test_bundled_contract_answers_conform(path: Path) -> None:
    with MockServer(path) as server:
        failures = _run(path, server, _token(server), MAX_EXAMPLES)
    assert not failures, "\n\n".join(failures)


@pytest.mark.skipif(not AMADEUS, reason="../shared/contracts-external is not present")
@pytest.mark.parametrize("path", AMADEUS, ids=lambda p: p.stem)
def test_amadeus_contract_answers_conform(path: Path) -> None:
    with MockServer(path) as server:
        failures = _run(path, server, {}, 10)
    assert not failures, "\n\n".join(failures)


STRIPE_CHUNKS = 8


# 417 operations: split so pytest-xdist spreads them over the workers.
@pytest.mark.slow
@pytest.mark.skipif(not STRIPE.is_file(), reason="../shared/contracts-external is not present")
@pytest.mark.parametrize("chunk", range(STRIPE_CHUNKS), ids=lambda i: f"part{i}")
def test_stripe_contract_answers_conform(chunk: int) -> None:
    with MockServer(STRIPE) as server:
        failures = _run(
            STRIPE, server, {"Authorization": "Bearer sk_test_mock"}, 1, (chunk, STRIPE_CHUNKS)
        )
    assert not failures, "\n\n".join(failures[:20])
