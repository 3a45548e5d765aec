"""Routing: static beats templated, 404 vs 405 with Allow, base paths, partial segments."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.contract.loader import load_contract
from mockserver.contract.router import RouteMatch, RouteMiss, Router

SPEC = """
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: /v1}]
paths:
  /locations/{id}:
    get: {responses: {"200": {description: ok}}}
    delete: {responses: {"204": {description: gone}}}
  /locations/cities:
    get: {responses: {"200": {description: ok}}}
  /locations/hotels/by-city:
    get: {responses: {"200": {description: ok}}}
  /files/{name}.{ext}:
    get: {responses: {"200": {description: ok}}}
  /files/{name}:
    put: {responses: {"200": {description: ok}}}
  /:
    get: {responses: {"200": {description: root}}}
"""


@pytest.fixture(scope="module")
def router(tmp_path_factory: pytest.TempPathFactory) -> Router:
    path = Path(tmp_path_factory.mktemp("r")) / "api.yaml"
    path.write_text(SPEC)
    return Router(load_contract(path).operations)


@pytest.mark.parametrize(
    ("method", "path", "template", "params"),
    [
        ("GET", "/v1/locations/cities", "/v1/locations/cities", {}),
        ("GET", "/v1/locations/CMUC", "/v1/locations/{id}", {"id": "CMUC"}),
        # static `cities` has no DELETE: the templated route takes it
        ("DELETE", "/v1/locations/cities", "/v1/locations/{id}", {"id": "cities"}),
        ("GET", "/v1/locations/hotels/by-city", "/v1/locations/hotels/by-city", {}),
        ("GET", "/v1/files/report.pdf", "/v1/files/{name}.{ext}", {"name": "report", "ext": "pdf"}),
        ("PUT", "/v1/files/report.pdf", "/v1/files/{name}", {"name": "report.pdf"}),
        ("HEAD", "/v1/locations/x", "/v1/locations/{id}", {"id": "x"}),
        ("GET", "/v1/locations/x/", "/v1/locations/{id}", {"id": "x"}),
        ("GET", "/v1", "/v1/", {}),
    ],
)
def test_matches(
    router: Router, method: str, path: str, template: str, params: dict[str, str]
) -> None:
    match = router.match(method, path)
    assert isinstance(match, RouteMatch), match
    assert match.operation.full_path == template
    assert match.path_params == params


def test_wrong_method_lists_allowed(router: Router) -> None:
    miss = router.match("POST", "/v1/locations/abc")
    assert isinstance(miss, RouteMiss)
    assert miss.allowed == ["DELETE", "GET"]


def test_unknown_path_suggests_nearest(router: Router) -> None:
    miss = router.match("GET", "/v1/location/cities")
    assert isinstance(miss, RouteMiss)
    assert miss.allowed == []
    assert "/v1/locations/cities" in miss.nearest


def test_outside_base_path_is_unknown(router: Router) -> None:
    assert isinstance(router.match("GET", "/locations/cities"), RouteMiss)
