"""The hot path: a job's JSON document, answered before Flask when the request is plain.

Clients poll `CTX/rest/jobs/<id>?f=json` far more than anything else. Such a GET needs no
routing, no request object and no template: the document's bytes are cached per worker under
(job, revision, position in its timeline, format), the job row and the clock come from the
store's change-checked cache, and the journal line is one write. Anything else (another
format, a callback, a token, a POST, an unknown job) goes to the Flask app unchanged, so both
paths answer the same bytes from the same function.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from . import formats, timeline
from .formats import Format
from .heartbeat import Heartbeat
from .scenarios import Scenario
from .service import MockService
from .timeline import Job, State

_CACHE_SIZE = 4096
_FAST_QUERIES = {"f=json": Format("json"), "f=pjson": Format("pjson")}

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Writer = Callable[[Scenario, Job, State], bytes]


def json_writer(fmt: Format, indent: int) -> Writer:
    """A Writer of the json or pjson document."""
    return lambda sc, job, st: formats.encode(timeline.render(sc, job, st), fmt, indent)


class DocumentCache:
    """Encoded documents of this worker: a job's document only changes when it passes an event
    or is moved, so (job seq, revision, position, format) names the exact bytes."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self.size = size
        self._docs: OrderedDict[tuple[Any, ...], tuple[bytes, str, bool]] = OrderedDict()

    def encoded(self, m: MockService, job_id: str, fmt: Format, write: Writer) -> tuple[bytes, dict[str, Any]] | None:
        """(job_id's document now, written by write(scenario, job, state), its journal note); None if unknown."""
        job = m.store.get_job(job_id)
        if job is None:
            return None
        now = m.now()
        sc = m.scenario_of(job)
        pos = timeline.position(sc, job, now)
        key = (job.seq, job.rev, pos.main, pos.cancel, fmt.name)
        hit = self._docs.get(key)
        if hit is None:
            st = timeline.state_at(sc, job, pos)
            hit = write(sc, job, st), st.status, st.terminal
            self._docs[key] = hit
            if len(self._docs) > self.size:
                self._docs.popitem(last=False)
        body, status, terminal = hit
        note = {"kind": "poll", "jobId": job_id, "seq": job.seq, "status": status, "terminal": terminal, "now": now}
        return body, note


class FastPath:
    """WSGI middleware answering plain `GET CTX/rest/jobs/<id>?f=json|pjson` itself."""

    def __init__(
        self, app: WsgiApp, service: MockService, docs: DocumentCache, context: str, indent: int, heartbeat: Heartbeat
    ) -> None:
        self.app = app
        self.heartbeat = heartbeat
        self.service = service
        self.docs = docs
        self.prefix = context + "/rest/jobs/"
        self.writers = {name: json_writer(fmt, indent) for name, fmt in _FAST_QUERIES.items()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        fmt = _FAST_QUERIES.get(environ.get("QUERY_STRING", ""))
        path = environ.get("PATH_INFO", "")
        if fmt is None or environ["REQUEST_METHOD"] != "GET" or not path.startswith(self.prefix):
            return self.app(environ, start_response)
        self.heartbeat.ensure(environ)
        job_id = path[len(self.prefix) :]
        if not job_id or "/" in job_id:
            return self.app(environ, start_response)
        try:
            found = self.docs.encoded(self.service, job_id, fmt, self.writers[environ["QUERY_STRING"]])
        except Exception:  # Flask does it again and answers any failure in the error envelope
            found = None
        if found is None:
            return self.app(environ, start_response)  # Flask answers the 404 envelope
        body, note = found
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
                ("X-Mockjobs-Worker", str(os.getpid())),
            ],
        )
        self.service.record("GET", path, environ["QUERY_STRING"], fmt.name, 200, note)
        return [body]
