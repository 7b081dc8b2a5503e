"""ArcGIS REST JS's browser bundle in headless Chromium, on another origin than the live mock.

The page (and the library's UMD bundle from node_modules) comes from a tiny static server on
its own loopback port; the mock is a `mockjobs serve` on another port, so every call the
library makes is cross-origin and needs the mock's CORS answers. The same static server is
also reached as ``localhost`` instead of ``127.0.0.1``: a second origin, for `--cors-origins`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests import servers
from tests.browsing import CHROMIUM, NO_CHROMIUM, chromium
from tests.clients.conftest import JS, PASSWORD, REFERENCE_JOB, USER, journal, need, need_rest_js, reset
from tests.servers import Server

BUNDLE = JS / "node_modules" / "@esri" / "arcgis-rest-request" / "dist" / "bundled" / "request.umd.js"
PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>REST JS client</title>
<script src="/request.umd.js"></script></head>
<body><h1>ArcGIS REST JS, served from another origin than the mock</h1></body></html>
"""

pytestmark = pytest.mark.slow

# Runs in the page: one library call, its answer or what it threw (never a rejected promise).
CALL = """async ([how, url, options]) => {
    const R = window.arcgisRest;
    try {
        if (how === "fetchToken") {
            const t = await R.fetchToken(url, options);
            return {ok: {token: t.token, expires: t.expires.getTime()}};
        }
        return {ok: await R.request(url, options)};
    } catch (e) {
        return {error: {name: e.name, code: e.code === undefined ? null : e.code, message: e.message}};
    }
}"""


class _Static(BaseHTTPRequestHandler):
    """Two fixed answers, the page and the library's bundle; nothing from the request reaches the disk."""

    files: dict[str, tuple[str, bytes]] = {}

    def do_GET(self) -> None:
        found = self.files.get(self.path)
        if found is None:
            self.send_error(404)
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Say nothing."""


@pytest.fixture(scope="module")
def page_port() -> Iterator[int]:
    """The static server of the page and the bundle, on 127.0.0.1 and a free port."""
    need_rest_js()
    _Static.files = {
        "/": ("text/html; charset=utf-8", PAGE),
        "/request.umd.js": ("text/javascript; charset=utf-8", BUNDLE.read_bytes()),
        "/favicon.ico": ("image/x-icon", b""),
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Static)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Debian Chromium for the module."""
    need(CHROMIUM.exists(), NO_CHROMIUM)
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def restricted_server(request: pytest.FixtureRequest, page_port: int) -> Server:
    """`mockjobs serve --auth --cors-origins <the page's 127.0.0.1 origin>` for the module."""
    return servers.launcher(request).serve(
        "--reload-interval",
        "0",
        "--auth",
        "--user",
        f"{USER}:{PASSWORD}",
        "--cors-origins",
        f"http://127.0.0.1:{page_port}",
    )


class Page:
    """A page of the static server in a fresh browser context, collecting console errors."""

    def __init__(self, browser: Any, origin: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.goto(origin + "/")
        assert self.page.evaluate("typeof window.arcgisRest.request") == "function"

    def call(self, how: str, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """One `arcgisRest.request` (or fetchToken) in the page: {"ok": answer} or {"error": {...}}."""
        return self.page.evaluate(CALL, [how, url, options or {}])


@pytest.fixture
def open_page(browser: Any) -> Iterator[Any]:
    """Opens pages; checks at the end that none had a script error."""
    pages: list[Page] = []

    def open_(origin: str) -> Page:
        pages.append(Page(browser, origin))
        return pages[-1]

    yield open_
    for pg in pages:
        pg.context.close()
        assert pg.page_errors == []


def test_get_and_form_post_from_another_origin(plain: Server, page_port: int, open_page: Any) -> None:
    pg = open_page(f"http://127.0.0.1:{page_port}")
    rest = plain.url + "/arcgis/rest"
    got = pg.call("request", f"{rest}/jobs/{REFERENCE_JOB}", {"httpMethod": "GET"})
    assert got["ok"]["jobId"] == REFERENCE_JOB and got["ok"]["status"] == "COMPLETED"

    created = pg.call("request", f"{rest}/services/createMission", {"params": {"title": "From a page", "async": True}})
    job_id = created["ok"]["jobId"]
    polled = pg.call("request", f"{rest}/jobs/{job_id}")  # the library's default: a form POST
    assert polled["ok"]["jobId"] == job_id and polled["ok"]["status"] == "EXECUTING"
    assert plain.post(f"/__mock/jobs/{job_id}/advance", json={"to": "end"}).status_code == 200
    done = pg.call("request", f"{rest}/jobs/{job_id}")
    assert done["ok"]["status"] == "COMPLETED"
    assert 'Created mission group for "From a page".' in done["ok"]["messages"]
    assert pg.console_errors == []

    asked = [(e["method"], e["path"], e["f"], e["http"]) for e in journal(plain)]
    assert asked == [
        ("GET", f"/arcgis/rest/jobs/{REFERENCE_JOB}", "json", 200),
        ("POST", "/arcgis/rest/services/createMission", "json", 200),
        ("POST", f"/arcgis/rest/jobs/{job_id}", "json", 200),
        ("POST", f"/arcgis/rest/jobs/{job_id}", "json", 200),
    ]


def test_token_in_x_esri_authorization_from_an_allowed_origin(
    restricted_server: Server, page_port: int, open_page: Any
) -> None:
    server = reset(restricted_server)
    pg = open_page(f"http://127.0.0.1:{page_port}")
    rest = server.url + "/arcgis/rest"
    info = pg.call("request", f"{rest}/info", {"httpMethod": "GET"})
    token_url = info["ok"]["authInfo"]["tokenServicesUrl"]
    issued = pg.call("fetchToken", token_url, {"params": {"username": USER, "password": PASSWORD, "expiration": 60}})
    token = issued["ok"]["token"]

    job_url = f"{rest}/jobs/{REFERENCE_JOB}"
    headers = {"X-Esri-Authorization": f"Bearer {token}"}  # not a simple header: Chromium sends a preflight
    got = pg.call("request", job_url, {"httpMethod": "GET", "headers": headers})
    assert got["ok"]["jobId"] == REFERENCE_JOB
    posted = pg.call("request", job_url, {"headers": headers})
    assert posted["ok"]["jobId"] == REFERENCE_JOB
    forged = pg.call("request", job_url, {"httpMethod": "GET", "headers": {"X-Esri-Authorization": "Bearer nope"}})
    assert forged["error"]["name"] == "ArcGISAuthError" and forged["error"]["code"] == 498
    missing = pg.call("request", job_url, {"httpMethod": "GET"})
    assert missing["error"]["name"] == "ArcGISAuthError" and missing["error"]["code"] == 499
    assert pg.console_errors == []

    asked = [(e["method"], e["path"].removeprefix("/arcgis"), e.get("error")) for e in journal(server)]
    job = f"/rest/jobs/{REFERENCE_JOB}"
    assert asked == [
        ("GET", "/rest/info", None),
        ("POST", "/tokens/generateToken", None),
        ("GET", job, None),
        ("POST", job, None),
        ("GET", job, 498),
        ("GET", job, 499),
    ]


def test_an_origin_not_in_cors_origins_is_blocked(restricted_server: Server, page_port: int, open_page: Any) -> None:
    server = reset(restricted_server)
    pg = open_page(f"http://localhost:{page_port}")  # same page, another origin: not in --cors-origins
    rest = server.url + "/arcgis/rest"
    issued = server.request(
        "POST", "/arcgis/tokens/generateToken", data={"username": USER, "password": PASSWORD, "f": "json"}
    )
    token = issued.json()["token"]  # a good token, got outside the browser
    for how, url, options in [
        ("request", f"{rest}/info", {"httpMethod": "GET"}),
        ("request", f"{rest}/jobs/{REFERENCE_JOB}", {"httpMethod": "GET", "headers": {"X-Esri-Authorization": "x"}}),
        ("fetchToken", f"{server.url}/arcgis/tokens/generateToken", {"params": {"username": USER, "password": "x"}}),
        ("request", f"{rest}/services/createMission", {"params": {"title": "Never seen", "token": token}}),
    ]:
        blocked = pg.call(how, url, options)
        assert "ok" not in blocked, (url, blocked)
        assert blocked["error"]["name"] == "TypeError"  # fetch() refused by the browser: the page sees no answer
        assert blocked["error"]["message"] == "Failed to fetch"
    cors = [text for text in pg.console_errors if "has been blocked by CORS policy" in text]
    assert len(cors) == 4 and len(pg.console_errors) == 8, pg.console_errors  # each with "net::ERR_FAILED"
    assert all(f"from origin 'http://localhost:{page_port}'" in text for text in cors), cors
    assert "Response to preflight request doesn't pass access control check" in cors[1]
    # The server answered the simple requests (a GET, form POSTs), but without CORS headers the
    # browser hid the answers; the preflighted GET never went out. As on a real server with
    # allowedOrigins set, a blocked origin's simple POST still acts: it started a job the page never saw.
    asked = [(e["method"], e["path"].removeprefix("/arcgis"), e.get("error")) for e in journal(server)]
    assert asked == [
        ("POST", "/tokens/generateToken", None),  # the test's own
        ("GET", "/rest/info", None),
        ("POST", "/tokens/generateToken", 400),  # wrong password, answered, hidden
        ("POST", "/rest/services/createMission", None),
    ]
    started = [e["jobId"] for e in journal(server) if e["kind"] == "trigger"]
    assert len(started) == 1
    assert server.get(f"/__mock/jobs/{started[0]}").status_code == 200
