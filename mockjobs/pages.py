"""Pages for people: the live job page, the readable scenario page, the dashboard's rows."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, abort, current_app, g, render_template, request

from . import timeline
from .config import static_dir
from .durations import format_ms
from .errors import ArcgisError, NotFound
from .fastpath import DocumentCache
from .formats import HTML
from .scenarios import Scenario
from .service import MockService
from .timeline import Job, State

bp = Blueprint("pages", __name__)

LIVE_HEADER = "X-Mockjobs-Live"  # the job page's own refreshes: answered, never journaled
_PARAM = re.compile(r"\{params\.([A-Za-z0-9_.-]+)\}")
# The pages' scripts and style sheet: a fixed list, so no path from a request reaches the file system.
ASSETS = {
    "mockjobs.js": "text/javascript",
    "job.js": "text/javascript",
    "dashboard.js": "text/javascript",
    "mockjobs.css": "text/css",
}


def mock() -> MockService:
    """This app's MockService."""
    return current_app.extensions["mockjobs"]


def utc_text(epoch_ms: int | float, *, seconds: bool = True) -> str:
    """Epoch ms as '2020-05-26 20:01:27 UTC' (or without seconds)."""
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def duration_text(ms: float) -> str:
    """Milliseconds for people: 12s, 1m6.3s, 3h2m, 2379d 2h."""
    if ms >= 86_400_000:
        days, rest = divmod(int(ms // 1000), 86_400)
        return f"{days}d {rest // 3600}h"
    if ms >= 60_000:
        ms = round(ms, -2)  # tenths of a second are enough beyond a minute
    return format_ms(round(ms))


@bp.app_template_filter("utc")
def utc_filter(epoch_ms: int | float, seconds: bool = True) -> str:
    """Jinja: epoch ms as UTC text."""
    return utc_text(epoch_ms, seconds=seconds)


@bp.app_template_filter("hms")
def hms_filter(epoch_ms: int | float) -> str:
    """Jinja: epoch ms as a time of day in UTC, to the millisecond."""
    when = datetime.fromtimestamp(epoch_ms / 1000, tz=timezone.utc)
    return when.strftime("%H:%M:%S.") + f"{int(epoch_ms) % 1000:03d}"


@bp.app_template_filter("ms")
def ms_filter(ms: float) -> str:
    """Jinja: milliseconds for people."""
    return duration_text(ms)


@bp.get("/static/<name>")
def asset(name: str) -> Response:
    """One of the pages' scripts or their style sheet (404 for any other name)."""
    mimetype = ASSETS.get(name)
    if mimetype is None:
        abort(404)
    body = (static_dir() / name).read_bytes()  # name is one of ASSETS' keys
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --------------------------------------------------------------------------- the job page


def message_offsets(sc: Scenario, job: Job, st: State) -> list[float]:
    """Scenario time (ms) at which each message of st appeared, in order."""
    n_main = sc.compiled.main.snapshots[st.position.main].n_messages
    out = [ev.at_ms for ev in sc.timeline if ev.message is not None][:n_main]
    if job.cancel_at is not None:
        out += [job.cancel_at + ev.at_ms for ev in sc.on_cancel if ev.message is not None]
    return out[: len(st.messages)]


def page_facts(sc: Scenario, job: Job, st: State) -> dict[str, Any]:
    """What the job page shows beyond the document: message times, elapsed or finish time."""
    offsets = message_offsets(sc, job, st)
    facts: dict[str, Any] = {
        "terminal": st.terminal,
        "speed": job.speed,
        "messageTimes": [timeline.time_of(job, at) for at in offsets],
        "messageOffsets": [duration_text(at) for at in offsets],
        "codes": list(st.codes),
        "elapsed": duration_text(max(0.0, st.position.elapsed)),
        "nextAt": None if st.next_at is None else duration_text(st.next_at),
        "totalSteps": sc.job.total_steps,
    }
    if st.terminal_at is not None:
        facts["took"] = duration_text(st.terminal_at)
    return facts


def html_page(sc: Scenario, job: Job, st: State) -> bytes:
    """The job's HTML page for state st (a fastpath.Writer)."""
    doc = timeline.render(sc, job, st)
    return render_template("job.html", doc=doc, facts=page_facts(sc, job, st), scenario=sc).encode()


def job_page(job_id: str) -> Response:
    """The job's HTML page for now; its own live refreshes (LIVE_HEADER) are not journaled.

    Pages are kept in the worker's DocumentCache (per second), where the fast path finds them.
    """
    m = mock()
    job = m.store.get_job(job_id)
    if job is None:
        g.journal = {"kind": "poll", "jobId": job_id}
        raise ArcgisError(404, "Job not found.", [f"Job '{job_id}' does not exist."])
    now = m.now()
    sc = m.scenario_of(job)
    if m.rules.paced(job, sc):  # a poll-paced job's page shows what its last poll showed
        st = m.view(job, now).state
        body = html_page(sc, job, st)
        note = {"kind": "poll", "jobId": job_id, "seq": job.seq, "status": st.status, "terminal": st.terminal}
    else:
        docs: DocumentCache = current_app.extensions["mockjobs.docs"]
        found = docs.encoded(m, job_id, HTML, html_page, now)
        if found is None:  # deleted meanwhile
            raise ArcgisError(404, "Job not found.", [f"Job '{job_id}' does not exist."])
        body, note = found
    if request.headers.get(LIVE_HEADER):
        g.unjournaled = True
    else:
        g.journal = {**note, "now": now}
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


# --------------------------------------------------------------------------- the scenario page


def param_names(detail: dict[str, Any]) -> list[str]:
    """The trigger parameters a scenario's templates use ({params.NAME}), in order of appearance."""
    names: list[str] = []
    for name in _PARAM.findall(json.dumps(detail)):
        if name not in names:
            names.append(name)
    return names


@bp.get("/scenarios/<name>")
def scenario_page(name: str) -> str:
    """A scenario for people: description, trigger, vars, timeline table, on_cancel, faults."""
    from .control import scenario_detail  # the control API owns the normalised form

    sc = mock().registry.get(name)
    if sc is None:
        raise NotFound(f"no scenario {name!r}")
    detail = scenario_detail(sc)
    return render_template(
        "scenario.html",
        s=detail,
        params=param_names(detail),
        context=current_app.config["CONTEXT"],
        custom_json=json.dumps(detail["job"]["customAttributes"], ensure_ascii=False),
    )


# --------------------------------------------------------------------------- the dashboard


def job_row(m: MockService, job: Job) -> dict[str, Any]:
    """A job as a dashboard row: its summary plus the times people read."""
    try:
        row = m.summary(job, polls=False)
        v = m.view(job)
    except NotFound:  # its scenario version is gone: list it without a state
        return {"jobId": job.job_id, "scenario": job.scenario, "status": "UNKNOWN", "elapsed": None}
    row["end"] = v.scenario.compiled.main.end / 1000
    row["terminal"] = v.state.terminal
    if v.state.terminal_at is not None:
        row["endTime"] = timeline.time_of(job, v.state.terminal_at)
        row["took"] = duration_text(v.state.terminal_at)
    return row


def journal_rows(m: MockService, job_id: str | None, limit: int = 200) -> tuple[list[dict[str, Any]], int]:
    """The newest journal entries (of one job, if given), newest first, and how many there are."""
    entries = m.journal.entries(job_id)
    return entries[::-1][:limit], len(entries)
