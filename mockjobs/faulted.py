"""Answers to polls that a fault or the poll pace touches (the Flask side of mockjobs.polling).

The job is never changed here: a fault changes one answer (an HTTP error with Retry-After, an
ArcGIS error envelope, a delay, a dropped connection, a cut body, the previous document) and
the journal note of that poll says which fault fired.
"""

from __future__ import annotations

import contextlib
import http
import socket
import time
from typing import Any

from flask import Response, request

from . import formats, timeline
from .fastpath import Writer
from .faults import HIDING, retry_after_s
from .formats import Format
from .polling import PollPlan
from .scenarios import Scenario
from .service import MockService
from .timeline import Job, Position, State


def answer(
    m: MockService, job_id: str, fmt: Format, write: Writer, indent: int
) -> tuple[Response, dict[str, Any]] | None:
    """(the response, its journal note) for a touched job's poll; None when nothing touches the job."""
    job = m.store.get_job(job_id)
    if job is None:
        return None
    sc = m.scenario_of(job)
    now = m.now()
    plan = m.rules.plan(job, sc, now)
    if plan is None:
        return None
    note: dict[str, Any] = {"kind": "poll", "jobId": job_id, "seq": job.seq, "poll": plan.n, "now": now}
    pos = plan.position
    fault = plan.fault
    effect = fault.do.effect if fault is not None else None
    if fault is not None:
        note["fault"] = fault.firing
    if effect == "delay":
        assert fault is not None
        time.sleep(fault.do.delay_s())
        if not plan.paced:  # the answer is of the moment it is sent
            now = note["now"] = m.now()
            pos = timeline.position(sc, job, now)
    elif effect == "stale":
        pos = _previous(sc, job, pos)
    st = timeline.state_at(sc, job, pos)
    if effect not in HIDING:
        note.update(status=st.status, terminal=st.terminal)
    if effect == "http":
        assert fault is not None and fault.do.http is not None
        code = fault.do.http
        retry = fault.do.retry_after
        if retry is None:
            retry = retry_after_s(_next_event_in_ms(job, st, plan))
        response = formats.error_response(code, _phrase(code), fmt, http_status=code, indent=indent)
        response.headers["Retry-After"] = str(retry)
        return response, note
    if effect == "error":
        assert fault is not None and fault.do.error is not None
        err = fault.do.error
        details = list(err.get("details") or [])
        return formats.error_response(err["code"], err["message"], fmt, details, indent=indent), note
    if effect == "drop":
        note["http"] = None  # nothing was answered
        return _drop(), note
    body = write(sc, job, st)
    if effect == "truncate":
        body = body[: max(1, len(body) // 2)]
    if fmt.is_html:
        return Response(body, mimetype="text/html"), note
    return formats.wrap(body, fmt), note


def _previous(sc: Scenario, job: Job, pos: Position) -> Position:
    """The position one event back (stale: the document of the job's previous event)."""
    if pos.cancel:
        return Position(pos.main, pos.cancel - 1, pos.elapsed)
    if pos.cancel == 0:
        return Position(pos.main, None, pos.elapsed)
    return Position(max(0, pos.main - 1), None, pos.elapsed)


def _next_event_in_ms(job: Job, st: State, plan: PollPlan) -> float | None:
    """Mock-clock ms until job's next event (None: no next event, or the next poll brings it)."""
    if plan.paced or st.next_at is None:
        return None
    return (st.next_at - st.position.elapsed) / job.speed


def _phrase(code: int) -> str:
    """The standard reason phrase of an HTTP status."""
    try:
        return http.HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _drop() -> Response:
    """Close the connection without an answer; the server's write of the empty response then fails quietly."""
    sock = request.environ.get("gunicorn.socket") or request.environ.get("werkzeug.socket")
    if sock is None:  # no socket to drop (an in-process test client): the closest is an empty answer
        return Response(b"", status=502, headers={"Connection": "close"})
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", headers={"Connection": "close"})
