"""Broken and hostile contracts through the CLI: exit 2, one line, file + place + problem."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from mockserver import MockServer

HEAD = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\n"


def serve_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", str(path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def bomb() -> str:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(lines) + "\nopenapi: 3.0.3\npaths: {}\n"


CASES = [
    (
        "bad-yaml",
        "api.yaml",
        HEAD + "paths:\n  /a: {get: [}\n",
        r"line 4, column \d+: invalid YAML",
    ),
    ("alias-bomb", "api.yaml", bomb(), r"aliases expand to more than \d+ nodes"),
    (
        "dangling-ref",
        "api.yaml",
        HEAD + "paths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: '#/components/responses/Nope'}\n",
        r"/paths/~1a/get/responses/200/\$ref: dangling \$ref '#/components/responses/Nope'",
    ),
    (
        "circular-ref",
        "api.yaml",
        HEAD + "paths:\n  /a:\n    get:\n      responses:\n"
        "        '200':\n          description: ok\n          content:\n"
        "            application/json:\n"
        "              schema: {$ref: '#/components/schemas/A'}\ncomponents:\n  schemas:\n"
        "    A: {$ref: '#/components/schemas/B'}\n    B: {$ref: '#/components/schemas/A'}\n",
        r"circular \$ref chain",
    ),
    (
        "remote-ref",
        "api.yaml",
        HEAD + "paths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: 'http://169.254.169.254/latest/meta-data#/x'}\n",
        r"remote \$ref 'http://169\.254\.169\.254/latest/meta-data#/x' is not allowed",
    ),
    (
        "local-file-outside",
        "api.yaml",
        HEAD + "paths:\n  /a:\n    get:\n      responses:\n"
        "        '200': {$ref: '/etc/passwd#/x'}\n",
        r"points outside the contract's folder",
    ),
    (
        "unsupported-version",
        "api.json",
        '{"openapi": "2.5.0", "paths": {}}',
        r"/openapi: unsupported OpenAPI version '2\.5\.0'",
    ),
    ("swagger-1", "api.json", '{"swaggerVersion": "1.2", "apis": []}', r"not an OpenAPI contract"),
    ("binary-junk", "api.yaml", "\x00\x01\x02 not yaml: [", r"api\.yaml"),
]


@pytest.mark.parametrize(("name", "file", "text", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_contract_exits_2_with_one_line(
    tmp_path: Path, name: str, file: str, text: str, message: str
) -> None:
    path = tmp_path / file
    path.write_text(text)
    result = serve_check(path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(path) in lines[0]
    import re

    assert re.search(message, lines[0]), lines[0]
    assert "Traceback" not in result.stderr


def test_pathological_pattern_does_not_backtrack_on_the_request_path(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(
        HEAD + "paths:\n  /a:\n    get:\n      parameters:\n"
        "        - {name: q, in: query, required: true, schema: {type: string, "
        "pattern: '^(a+)+$'}}\n      responses:\n        '200': {description: ok}\n"
    )
    evil = "a" * 64 + "!"
    with MockServer(path) as server:
        result: dict[str, int] = {}

        def hit() -> None:
            result["status"] = requests.get(
                f"{server.url}/a", params={"q": evil}, timeout=30
            ).status_code

        worker = threading.Thread(target=hit, daemon=True)
        worker.start()
        # a backtracking engine would take longer than the universe; ours answers at once
        worker.join(timeout=20)
        assert not worker.is_alive(), "the pattern check hung"
        assert result["status"] == 400
        assert requests.get(f"{server.url}/a", params={"q": "aaa"}, timeout=5).status_code == 200
