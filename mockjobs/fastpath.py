"""The hot path: a job's JSON document, answered before Flask for every poll form clients use.

Clients poll `CTX/rest/jobs/<id>` far more than anything else, as `GET ?f=json`, as a form
`POST` with `f=json` in the body (ArcGIS REST JS), and under token security with a token
(parameter, `X-Esri-Authorization` or `Authorization: Bearer`). Such a poll needs no routing,
no request object and no template: the document's bytes are cached per worker under (job,
revision, position in its timeline, format), the job row and the clock come from the store's
change-checked cache, a token is checked by the same `Tokens` as Flask's (never cached),
and the journal line is one write. Anything else (another format or parameter, a callback, a
refused token, an unknown job) goes to the Flask app unchanged, so both paths answer the same
bytes from the same function.
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote_plus

from . import formats, timeline
from .auth import TokenError, Tokens, token_from
from .formats import HTML, Format
from .heartbeat import Heartbeat
from .scenarios import Scenario
from .service import MockService
from .timeline import Job, State

_CACHE_SIZE = 4096
_FAST_QUERIES = {"f=json": Format("json"), "f=pjson": Format("pjson"), "f=html": HTML, "": HTML}
_FAST_FORMATS = {fmt.name: fmt for fmt in _FAST_QUERIES.values()}
_LIVE = "HTTP_X_MOCKJOBS_LIVE"  # the job page refreshing itself (pages.LIVE_HEADER): Flask answers, unjournaled
_HEADERS = {
    "json": [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")],
    "pjson": [("Content-Type", "application/json"), ("X-Content-Type-Options", "nosniff")],
    "html": [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
}
_FAST_KEYS = frozenset({"f", "token"})
_MAX_FORM = 4096  # a bigger form body is not a poll
_FORM = "application/x-www-form-urlencoded"

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Writer = Callable[[Scenario, Job, State], bytes]


def json_writer(fmt: Format, indent: int) -> Writer:
    """A Writer of the json or pjson document."""
    return lambda sc, job, st: formats.encode(timeline.render(sc, job, st), fmt, indent)


class DocumentCache:
    """Encoded documents and pages of this worker: a job's document only changes when it passes an
    event or is moved, so (job seq, revision, position, format) names the exact bytes; its HTML
    page also shows the elapsed time in whole seconds, so a page is kept per second too."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self.size = size
        self._docs: OrderedDict[tuple[Any, ...], tuple[bytes, str, bool]] = OrderedDict()

    def encoded(
        self, m: MockService, job_id: str, fmt: Format, write: Writer | None, now: int | None = None
    ) -> tuple[bytes, dict[str, Any]] | None:
        """(job_id's document at now (default: the mock clock's now), written by write(scenario, job,
        state), its journal note); None if the job is unknown, or if write is None and nothing is cached."""
        job = m.store.get_job(job_id)
        if job is None:
            return None
        if now is None:
            now = m.now()
        sc = m.scenario_of(job)
        pos = timeline.position(sc, job, now)
        second = int(max(0.0, pos.elapsed) // 1000) if fmt.is_html else None
        key = (job.seq, job.rev, pos.main, pos.cancel, fmt.name, second)
        hit = self._docs.get(key)
        if hit is None:
            if write is None:
                return None
            st = timeline.state_at(sc, job, pos)
            hit = write(sc, job, st), st.status, st.terminal
            self._docs[key] = hit
            if len(self._docs) > self.size:
                self._docs.popitem(last=False)
        body, status, terminal = hit
        note = {"kind": "poll", "jobId": job_id, "seq": job.seq, "status": status, "terminal": terminal, "now": now}
        return body, note


def _params(text: str, into: dict[str, str]) -> bool:
    """Add the f and token pairs of a query or form to into; False if anything else (or twice) is there."""
    for pair in text.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        if key not in _FAST_KEYS or key in into:
            return False
        into[key] = unquote_plus(value) if ("%" in value or "+" in value) else value
    return True


class FastPath:
    """WSGI middleware answering the polls of `CTX/rest/jobs/<id>` (json, pjson, html) itself.

    A poll is a GET with only `f` (and `token`) in its query, or a form POST with only those in
    its query and body. With tokens (under --auth) the token must pass `tokens.check` on the mock
    clock; a missing, forged or expired one is handed to Flask, which answers the error. An HTML
    page is answered here only once Flask has written it for that second (it needs templates).
    """

    def __init__(
        self,
        app: WsgiApp,
        service: MockService,
        docs: DocumentCache,
        context: str,
        indent: int,
        heartbeat: Heartbeat,
        tokens: Tokens | None = None,
    ) -> None:
        self.app = app
        self.heartbeat = heartbeat
        self.service = service
        self.docs = docs
        self.tokens = tokens
        self.prefix = context + "/rest/jobs/"
        self.writers = {name: json_writer(fmt, indent) for name, fmt in _FAST_FORMATS.items() if not fmt.is_html}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(self.prefix):
            return self.app(environ, start_response)
        self.heartbeat.ensure(environ)
        method = environ["REQUEST_METHOD"]
        query = environ.get("QUERY_STRING", "")
        fmt = _FAST_QUERIES.get(query)
        params: dict[str, str] | None = None
        if fmt is None or method != "GET" or self.tokens is not None:
            params = self._poll_params(environ, method, query)
            if params is None:
                return self.app(environ, start_response)
            fmt = _FAST_FORMATS.get(params.get("f", ""))
            if fmt is None:
                return self.app(environ, start_response)
        if fmt.is_html and environ.get(_LIVE):
            return self.app(environ, start_response)
        job_id = path[len(self.prefix) :]
        if job_id.endswith("/"):
            job_id = job_id[:-1]  # a job URL with a trailing slash is the job (see README, Choices)
        if not job_id or "/" in job_id:
            return self.app(environ, start_response)
        try:  # a fault or the poll pace: Flask answers (mockjobs.faulted); so does any failure
            touched = self.service.rules.touches(job_id)
        except Exception:
            touched = True
        if touched:
            return self.app(environ, start_response)
        try:
            now = None
            if self.tokens is not None:
                assert params is not None
                now = self.service.now()
                self.tokens.check(token_from(params, _token_headers(environ)), now)
            found = self.docs.encoded(self.service, job_id, fmt, self.writers.get(fmt.name), now)
        except TokenError:  # Flask answers the 498/499 envelope (and journals the refusal)
            found = None
        except Exception:  # Flask does it again and answers any failure in the error envelope
            found = None
        if found is None:
            return self.app(environ, start_response)  # Flask answers the 404 envelope (or writes the page)
        body, note = found
        headers = [*_HEADERS[fmt.name], ("Content-Length", str(len(body))), ("X-Mockjobs-Worker", str(os.getpid()))]
        start_response("200 OK", headers)
        self.service.record(method, path, query, fmt.name, 200, note)
        return [body]

    @staticmethod
    def _poll_params(environ: dict[str, Any], method: str, query: str) -> dict[str, str] | None:
        """The f and token of a GET or form-POST poll; None when the request is not one.

        A POST body read here is put back (as a new wsgi.input) for Flask when it is not a poll.
        """
        params: dict[str, str] = {}
        if not _params(query, params):
            return None
        if method == "GET":
            return params
        if method != "POST":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if not 0 < length <= _MAX_FORM or not environ.get("CONTENT_TYPE", "").startswith(_FORM):
            return None
        body = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again if this is not a poll
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError:
            return None
        return params if _params(text, params) else None


def _token_headers(environ: dict[str, Any]) -> dict[str, str]:
    """The headers that may carry a token, by name."""
    out = {}
    for name, key in (("X-Esri-Authorization", "HTTP_X_ESRI_AUTHORIZATION"), ("Authorization", "HTTP_AUTHORIZATION")):
        value = environ.get(key)
        if value:
            out[name] = value
    return out
