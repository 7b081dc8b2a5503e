"""The contenders mockjobs is measured against, answering constant bytes.

Both read the exact bytes mockjobs answered for the same job in each format (a JSON file
named by ``BENCH_DOCS``: ``{"json": path, "pjson": path, "html": path}``), so bodies have the
same size. They route the same URL shape as mockjobs' job resource.

- :func:`flask_app`: a bare Flask app: one route, the format from ``request.args``.
- :func:`wsgi_app`: a raw WSGI callable, no framework: the ceiling for Python under gunicorn.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MIMETYPES = {"json": "application/json", "pjson": "application/json", "html": "text/html; charset=utf-8"}


def load_docs(spec: str | None = None) -> dict[str, bytes]:
    """Format name -> constant body, from the BENCH_DOCS file."""
    spec = spec or os.environ["BENCH_DOCS"]
    paths = json.loads(Path(spec).read_text())
    return {name: Path(path).read_bytes() for name, path in paths.items()}


def flask_app(docs: dict[str, bytes] | None = None, context: str = "/arcgis") -> Any:
    """The bare Flask baseline: GET/POST CTX/rest/jobs/<id> answers the constant document."""
    from flask import Flask, Response, request

    docs = docs if docs is not None else load_docs()
    app = Flask("bench-baseline")

    @app.route(f"{context}/rest/jobs/<job_id>", methods=["GET", "POST"])
    def job(job_id: str) -> Response:
        f = request.args.get("f", "html")
        return Response(docs[f], mimetype=MIMETYPES[f].split(";")[0])

    return app


def wsgi_app(docs: dict[str, bytes] | None = None) -> Callable[..., Iterable[bytes]]:
    """The raw WSGI baseline: the answer is looked up by the query string, nothing else."""
    docs = docs if docs is not None else load_docs()
    answers: dict[str, tuple[list[tuple[str, str]], list[bytes]]] = {}
    for name, body in docs.items():
        headers = [("Content-Type", MIMETYPES[name]), ("Content-Length", str(len(body)))]
        answers[f"f={name}"] = (headers, [body])
    default = answers.get("f=html") or next(iter(answers.values()))

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        headers, body = answers.get(environ.get("QUERY_STRING", ""), default)
        start_response("200 OK", headers)
        return body

    return application
