"""CORS as ArcGIS Server answers it, for every answer under the context path.

One WSGI middleware, outermost, so the fast path, Flask's views, its error envelopes and the
triggers all get the same headers: a request whose ``Origin`` is allowed gets
``Access-Control-Allow-Origin: <origin>`` and ``Vary: Origin``; a preflight (``OPTIONS`` with
``Access-Control-Request-Method``) is answered 204 here, before any token check. The control
API and the dashboard (anything outside the context path) get nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .errors import MockjobsError

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

ALLOW_METHODS = "GET, POST"
MAX_AGE_SECONDS = 7200  # Chromium caps a preflight's cache at two hours
EXPOSE_HEADERS = "X-Mockjobs-Worker"  # which worker answered (Content-Type and the like are exposed anyway)


def parse_origins(value: str | Sequence[str] | None) -> frozenset[str] | None:
    """The allowed origins of a CORS_ORIGINS setting ("A,B" or a list); None: every origin."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    origins = set()
    for item in items:
        origin = str(item).strip().rstrip("/")
        if not origin:
            continue
        if origin == "*":
            return None
        scheme, sep, host = origin.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not host or "/" in host:
            raise MockjobsError(f"cors origin {item!r} is not an origin like https://app.example.com:8443")
        origins.add(f"{scheme.lower()}://{host.lower()}")
    return frozenset(origins) or None


class Cors:
    """WSGI middleware adding CORS headers under context and answering its preflights."""

    def __init__(self, app: WsgiApp, context: str, origins: frozenset[str] | None) -> None:
        self.app = app
        self.context = context
        self.prefix = context + "/"
        self.origins = origins

    def allowed(self, origin: str) -> bool:
        """Whether origin may read answers (every origin when none are configured)."""
        return self.origins is None or origin.rstrip("/").lower() in self.origins

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        path = environ.get("PATH_INFO", "")
        if not (path.startswith(self.prefix) or path == self.context):
            return self.app(environ, start_response)
        if environ["REQUEST_METHOD"] == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return self.preflight(environ, origin, start_response)
        if not origin or not self.allowed(origin):
            return self.app(environ, start_response)
        added = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Credentials", "true"),
            ("Access-Control-Expose-Headers", EXPOSE_HEADERS),
            ("Vary", "Origin"),
        ]

        def with_cors(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, headers + added, exc_info)  # nothing under CTX sets CORS headers itself

        return self.app(environ, with_cors)

    def preflight(self, environ: dict[str, Any], origin: str | None, start_response: StartResponse) -> Iterable[bytes]:
        """204 to a preflight, with the allowed methods and headers when origin is allowed."""
        headers = [("Content-Length", "0")]
        if origin and self.allowed(origin):
            headers += [
                ("Access-Control-Allow-Origin", origin),
                ("Access-Control-Allow-Credentials", "true"),
                ("Access-Control-Allow-Methods", ALLOW_METHODS),
                ("Access-Control-Max-Age", str(MAX_AGE_SECONDS)),
                ("Vary", "Origin"),
            ]
            asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").strip()
            if asked:
                headers.append(("Access-Control-Allow-Headers", asked))
        start_response("204 No Content", headers)
        return [b""]
