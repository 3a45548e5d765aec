"""The baseline: a bare Flask app answering fixed bytes, under mockserver's server settings.

``python benchmarks/bare_flask.py --port P --workers W --threads T --bodies FILE
[--server gunicorn|granian]``: FILE is
a JSON object ``{"METHOD /path": {"status": 200, "content_type": "...", "body": "..."}}``
(the harness fills it with mockserver's own answers, so both send the same bytes). Any
other request is 404. No validation, no state: the ceiling a Python mock can reach.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flask import Flask, Response, request

from mockserver.wsgi import SERVERS, serve_forever


def create_app(bodies: dict[str, dict[str, object]]) -> Flask:
    app = Flask("bare")
    by_path: dict[str, dict[str, dict[str, object]]] = {}
    for key, answer in bodies.items():
        method, _, path = key.partition(" ")
        by_path.setdefault(path, {})[method] = answer

    for path, answers in by_path.items():

        def view(answers: dict[str, dict[str, object]] = answers) -> Response:
            found = answers[request.method]
            return Response(
                str(found["body"]),
                status=int(str(found["status"])),
                content_type=str(found["content_type"]),
            )

        app.add_url_rule(path, endpoint=path, view_func=view, methods=list(answers))
    return app


def create_plain_app(bodies: dict[str, dict[str, object]]) -> Any:
    """The same answers from a plain WSGI callable (no Flask): the server's own ceiling."""
    answers = {}
    for key, answer in bodies.items():
        body = str(answer["body"]).encode()
        headers = [
            ("Content-Type", str(answer["content_type"])),
            ("Content-Length", str(len(body))),
        ]
        answers[key] = (f"{answer['status']} OK", headers, body)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        found = answers.get(f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}")
        if found is None:
            start_response("404 NOT FOUND", [("Content-Length", "0")])
            return []
        start_response(found[0], found[1])
        return [found[2]]

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--bodies", required=True)
    parser.add_argument("--server", choices=SERVERS, default="gunicorn")
    parser.add_argument("--plain", action="store_true", help="a plain WSGI app, no Flask")
    args = parser.parse_args()
    with open(args.bodies, encoding="utf-8") as f:
        bodies = json.load(f)
    serve_forever(create_app(bodies), args.server, args.host, args.port, args.workers, args.threads)


if __name__ == "__main__":
    main()
