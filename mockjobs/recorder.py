"""Scenarios from real jobs: `mockjobs record` polls a running one, `mockjobs import` reads a finished one.

The pure part turns job documents into a scenario mapping (:func:`scenario_from_document`,
:func:`scenario_from_observations`), and :class:`Draft` writes it as YAML that has passed the
same validation as ``mockjobs check``. :class:`JobRecorder` is the polling loop; its fetch,
sleep and clocks are injectable, so tests drive it without a network and without sleeping.
:class:`HttpFetcher` is the real fetch (standard library only), and :func:`record_command`
and :func:`import_command` are what the command line runs.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any, TextIO

import yaml

from . import __version__
from .durations import format_ms
from .errors import MockjobsError, ScenarioErrors
from .scenarios import JOB_ID_RE, NAME_RE, RESERVED_ATTRIBUTES, STATUSES, TERMINAL, load_text

Fetch = Callable[[], Any]
TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})
EXIT_INTERRUPTED = 130


class RecordError(MockjobsError):
    """A job that cannot be recorded or imported: an ArcGIS error, a network failure, a bad document.

    ``transient`` marks failures worth another try in the middle of a recording (network
    errors, HTTP 5xx and 429); ArcGIS errors in the body never are.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class RecordTimeout(RecordError):
    """The job was not terminal when --timeout ran out."""


@dataclass(frozen=True)
class Observation:
    """One distinct job document and the job time (ms) at which it was first seen."""

    elapsed_ms: float
    document: Mapping[str, Any]


# --------------------------------------------------------------------------- documents


def check_document(doc: Any) -> dict[str, Any]:
    """doc (as a dict) if it is a job document; RecordError for an ArcGIS error envelope or anything else."""
    if isinstance(doc, Mapping):
        doc = dict(doc)
    if isinstance(doc, dict) and "error" in doc:
        raise RecordError(_arcgis_error(doc["error"]))
    if not isinstance(doc, dict):
        raise RecordError(f"not a job document: expected a JSON object, got {_kind(doc)}")
    if not isinstance(doc.get("status"), str):
        raise RecordError("not a job document: it has no status")
    if not isinstance(doc.get("type"), str) or not doc["type"]:
        raise RecordError("not a job document: it has no type")
    return doc


def _arcgis_error(error: Any) -> str:
    """'ArcGIS error 404: Job not found. (details)' from an error envelope's value."""
    if not isinstance(error, dict):
        return f"ArcGIS error: {error}"
    text = f"ArcGIS error {error.get('code', '?')}: {error.get('message', '(no message)')}"
    details = [str(d) for d in error.get("details") or [] if str(d)]
    return f"{text} ({'; '.join(details)})" if details else text


def _kind(value: Any) -> str:
    """A few words naming a JSON value's type."""
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def extract_document(text: str) -> dict[str, Any]:
    """The job document in text: a JSON file, pjson, JSONP, or a page quoting the JSON (e.g. Esri's reference).

    The first JSON object holding a status and messages or a jobId wins; failing that, an
    ArcGIS error envelope found in the text raises its RecordError.
    """
    stripped = text.strip()
    try:
        whole = json.loads(stripped)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        return check_document(whole)
    decoder = json.JSONDecoder()
    error: dict[str, Any] | None = None
    pos = text.find("{")
    while pos != -1:
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(obj, dict):
            if isinstance(obj.get("status"), str) and ("jobId" in obj or "messages" in obj):
                return check_document(obj)
            if "error" in obj and error is None:
                error = obj
        pos = text.find("{", end)
    if error is not None:
        check_document(error)
    raise RecordError("no job document found (a JSON object with jobId, messages and status)")


def _status(value: Any, notes: list[str]) -> str | None:
    """A scenario status for a document's status, or None (noted) for one a scenario cannot use."""
    text = str(value).upper()
    if text in STATUSES:
        return text
    _note(notes, f"status {value!r} is not one a scenario can use ({', '.join(STATUSES)}); left out")
    return None


def _note(notes: list[str], text: str) -> None:
    """Add text to notes once."""
    if text not in notes:
        notes.append(text)


def _int(value: Any, default: int = 0) -> int:
    """value if it is a whole number (not bool), else default."""
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _messages(doc: Mapping[str, Any]) -> list[str]:
    """The document's messages as text (non-text messages as their JSON)."""
    raw = doc.get("messages") or []
    return [m if isinstance(m, str) else json.dumps(m) for m in raw] if isinstance(raw, list) else []


def _codes(doc: Mapping[str, Any], notes: list[str]) -> list[int]:
    """customAttributes.messageCodes, whole numbers only (others noted and left out)."""
    raw = _custom(doc).get("messageCodes") or []
    codes = [c for c in raw if _int(c, -1) == c] if isinstance(raw, list) else []
    if isinstance(raw, list) and len(codes) != len(raw):
        _note(notes, "message codes that are not whole numbers were left out")
    return codes


def _custom(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """customAttributes, or {} when absent or not an object."""
    custom = doc.get("customAttributes")
    return custom if isinstance(custom, dict) else {}


def _extras(doc: Mapping[str, Any]) -> dict[str, Any]:
    """customAttributes without the keys the mock computes itself."""
    return {k: v for k, v in _custom(doc).items() if k not in RESERVED_ATTRIBUTES}


def literal(value: Any) -> Any:
    """value with every brace of its text doubled, so that scenario placeholders leave it as it is."""
    if isinstance(value, str):
        return value.replace("{", "{{").replace("}", "}}")
    if isinstance(value, dict):
        return {k: literal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [literal(v) for v in value]
    return value


def name_from_type(job_type: str, suffix: str = "") -> str:
    """A scenario name from a job type: addMission -> add-mission (plus -suffix)."""
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", job_type)
    name = safe_name(f"{kebab}-{suffix}" if suffix else kebab)
    return name or (suffix or "job")


def safe_name(text: str) -> str:
    """text made into a scenario name ([a-z0-9][a-z0-9._-]*), or "" if nothing usable is left."""
    name = re.sub(r"[^a-z0-9._-]+", "-", text.lower())
    name = re.sub(r"^[^a-z0-9]+", "", name).rstrip("-.")
    return name if NAME_RE.match(name) else ""


def _job_section(doc: Mapping[str, Any], extras: Mapping[str, Any], highest_steps: int) -> dict[str, Any]:
    """The scenario's job: mapping for a document (totalSteps at least the highest steps reached)."""
    job: dict[str, Any] = {"type": doc["type"]}
    if isinstance(doc.get("username"), str):
        job["username"] = doc["username"]
    total = _custom(doc).get("totalSteps")
    job["totalSteps"] = max(_int(total), highest_steps)
    job["status"] = "SUBMITTED"
    if extras:
        job["customAttributes"] = literal(dict(extras))
    return job


# --------------------------------------------------------------------------- scenarios


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line ({at: 0s, message: ...}): one event per line."""


class _Dumper(yaml.SafeDumper):
    """yaml.SafeDumper that indents lists under their key and writes _Flow mappings in flow style."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.add_representer(
    _Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)


@dataclass
class Draft:
    """A generated scenario: the mapping, a comment to open the file with, and notes on what it cannot show."""

    scenario: dict[str, Any]
    comment: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The scenario's name."""
        return str(self.scenario["name"])

    def to_yaml(self, file: str = "<generated>") -> str:
        """The scenario as YAML (one event per line), validated as `mockjobs check` would.

        Raises RecordError if the text does not validate: that is a bug of the generator,
        never a property of the job.
        """
        data = dict(self.scenario)
        for key in ("timeline", "on_cancel"):
            if key in data:
                data[key] = [_Flow(ev) for ev in data[key]]
        body = yaml.dump(
            data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30
        )
        head = "".join(f"# {line}".rstrip() + "\n" for text in self.comment for line in text.splitlines() or [""])
        text = head + body
        try:
            load_text(text, file, self.name)
        except ScenarioErrors as exc:
            raise RecordError(
                f"the generated scenario does not validate (a bug in mockjobs, please report it):\n{exc}"
            ) from None
        return text


_EVENT_KEYS = ("at", "message", "code", "steps", "status", "attributes")


def _ordered(event: Mapping[str, Any]) -> dict[str, Any]:
    """event's keys in the order scenario files write them."""
    return {key: event[key] for key in _EVENT_KEYS if key in event}


def _at(ms: float) -> str:
    """An event offset as scenario files write it, whole milliseconds: 1m6.311s."""
    return format_ms(max(0, round(ms)))


def scenario_from_document(
    doc: Mapping[str, Any], *, name: str | None = None, source: str = "", static: bool = True
) -> Draft:
    """A scenario replaying one finished job document (what `mockjobs import` writes).

    Its messages are spread evenly between startTime and endTime: the first at 0 (status
    EXECUTING), the last at endTime - startTime with the terminal status; codes are given to
    the messages in order; stepsCompleted rises evenly to its final value; the extras of
    customAttributes, type, username and totalSteps are kept. With ``static`` the scenario
    holds a ``jobs:`` entry with the original jobId and startTime, so the server answers the
    same document for that id. Raises RecordError unless the job is terminal.
    """
    doc = check_document(doc)
    notes: list[str] = []
    status = _status(doc["status"], notes)
    if status not in TERMINAL:
        raise RecordError(
            f"the job is {doc['status']}, not finished (COMPLETED, FAILED or CANCELLED);"
            " `mockjobs record JOB_URL` follows a running job"
        )
    start, end = _int(doc.get("startTime")), _int(doc.get("endTime"))
    if start > 0 and end >= start:
        duration = end - start
    else:
        duration = 0
        notes.append(f"startTime {start} and endTime {end} give no duration; every event is at 0")
    messages = _messages(doc)
    codes = _codes(doc, notes)
    if len(codes) > len(messages):
        notes.append(f"{len(codes) - len(messages)} message code(s) without a message were left out")
    steps = _int(_custom(doc).get("stepsCompleted"))
    n = len(messages)
    events: list[dict[str, Any]] = []
    current = 0
    for i, message in enumerate(messages):
        ev: dict[str, Any] = {"at": _at(duration * i / (n - 1)) if n > 1 else _at(0), "message": literal(message)}
        if i < len(codes):
            ev["code"] = codes[i]
        reached = steps * i // (n - 1) if n > 1 else 0
        if reached != current:
            ev["steps"] = current = reached
        events.append(ev)
    if not events:
        events.append({"at": _at(0)})
    if n <= 1 and duration > 0:  # the end, later than the only message (if any)
        events.append({"at": _at(duration)})
    if len(events) > 1:
        events[0]["status"] = "EXECUTING"
    last = events[-1]
    if steps != current:
        last["steps"] = steps
    last["status"] = status
    job_id = doc.get("jobId")
    scenario: dict[str, Any] = {
        "name": name or _default_name(source, str(doc["type"])),
        "description": f"Job {job_id} ({doc['type']}), {status} after {format_ms(duration)}"
        + (f", imported from {Path(source).name}" if source else "")
        + "; messages spread evenly.",
        "job": _job_section(doc, _extras(doc), steps),
        "timeline": events,
    }
    if static and isinstance(job_id, str):
        if JOB_ID_RE.match(job_id):
            entry: dict[str, Any] = {"jobId": job_id}
            if start > 0:
                entry["startTime"] = start
            scenario["jobs"] = [entry]
        else:
            notes.append(f"job id {job_id!r} cannot be a static job's id; no jobs: entry")
    comment = [
        f"Imported by `mockjobs import`{f' from {source}' if source else ''}: job {job_id}, {status}.",
        f"Its {n} message(s) are spread evenly over the {format_ms(duration)} between startTime and endTime;",
        "the real job's timing between them is not known.",
    ]
    if "jobs" in scenario:
        comment.append(f"The static job {job_id} answers the imported document.")
    return Draft(scenario, comment + [f"Note: {note}." for note in notes], notes)


def _default_name(source: str, job_type: str) -> str:
    """The stem of source made into a name, else one derived from the job type."""
    return (safe_name(Path(source).stem) if source else "") or name_from_type(job_type, "imported")


def scenario_from_observations(
    observations: Sequence[Observation], *, name: str | None = None, source: str = ""
) -> Draft:
    """A scenario replaying what a recording saw (what `mockjobs record` writes).

    Each new message is an event at the job time it was first seen, with its code. A new
    running status goes on the first new message of its poll; stepsCompleted, changed
    customAttributes extras (as ``attributes``) and a terminal status go on the last (a poll
    without new messages gives an event of its own). When the last document is terminal, its event is placed at
    endTime - startTime if both are known (earlier events never after it); otherwise the
    scenario simply has no terminal event. A job already finished at the first poll is
    imported as :func:`scenario_from_document` does, without a static job.
    """
    if not observations:
        raise RecordError("nothing was recorded")
    first = check_document(observations[0].document)
    if str(first["status"]).upper() in TERMINAL:
        draft = scenario_from_document(first, name=name or name_from_type(first["type"], "recorded"), static=False)
        draft.scenario["description"] = draft.scenario["description"].replace(
            "; messages spread evenly.", f", recorded from {source}." if source else ", recorded."
        )
        draft.notes.append("the job had already finished at the first poll; its messages are spread evenly")
        draft.comment = [
            f"Recorded by `mockjobs record`{f' from {source}' if source else ''}: the job had already finished.",
            *draft.comment[1:],
        ]
        return draft
    notes: list[str] = []
    events: list[dict[str, Any]] = []
    n_messages = n_codes = steps = highest = 0
    status = "SUBMITTED"
    extras = _extras(first)
    last = first
    for obs in observations:
        doc = check_document(obs.document)
        last = doc
        at = max(0.0, obs.elapsed_ms)
        messages = _messages(doc)
        codes = _codes(doc, notes)
        new_messages, new_codes = messages[n_messages:], codes[n_codes:]
        if len(messages) < n_messages:
            _note(notes, f"the messages list shrank from {n_messages} to {len(messages)}; only additions are replayed")
        if len(new_codes) > len(new_messages):
            _note(notes, f"{len(new_codes) - len(new_messages)} message code(s) without a message were left out")
        n_messages, n_codes = max(n_messages, len(messages)), max(n_codes, len(codes))
        group: list[dict[str, Any]] = []
        for k, message in enumerate(new_messages):
            ev: dict[str, Any] = {"at": at, "message": literal(message)}
            if k < len(new_codes):
                ev["code"] = new_codes[k]
            group.append(ev)
        changes: dict[str, Any] = {}
        new_status = _status(doc["status"], notes)
        if new_status is not None and new_status != status:
            changes["status"] = status = new_status
        new_steps = _int(_custom(doc).get("stepsCompleted"))
        if new_steps != steps:
            changes["steps"] = steps = new_steps
            highest = max(highest, steps)
        now_extras = _extras(doc)
        changed = {k: v for k, v in now_extras.items() if k not in extras or extras[k] != v}
        if changed:
            changes["attributes"] = literal(changed)
        gone = [k for k in extras if k not in now_extras]
        if gone:
            _note(notes, f"customAttributes {', '.join(gone)} disappeared mid-run; a scenario cannot remove them")
        extras = {**extras, **now_extras}
        if group and "status" in changes and status not in TERMINAL:
            group[0]["status"] = changes.pop("status")  # a new running status comes with the first new message
        if changes:
            if group:
                group[-1].update(changes)
            else:
                group.append({"at": at, **changes})
        events.extend(_ordered(ev) for ev in group)
        if status in TERMINAL:
            break
    if not events:  # nothing changed while recording: one event keeps the status it showed
        events.append({"at": max(0.0, observations[0].elapsed_ms), "status": status})
    finished = status in TERMINAL
    if finished:
        start, end = _int(last.get("startTime")), _int(last.get("endTime"))
        end_at = float(end - start) if start > 0 and end >= start else events[-1]["at"]
        for ev in events:
            ev["at"] = min(ev["at"], end_at)
        events[-1]["at"] = end_at
    for ev in events:
        ev["at"] = _at(ev["at"])
    job = _job_section(last, _extras(first), highest)
    pending = _int(first.get("endTime"))
    if pending:
        job["pendingEndTime"] = pending
    scenario: dict[str, Any] = {
        "name": name or name_from_type(first["type"], "recorded"),
        "description": f"Job {first.get('jobId')} ({first['type']}) as recorded"
        + (f" from {source}" if source else "")
        + (f", {status} after {events[-1]['at']}." if finished else f", stopped while {status}."),
        "job": job,
        "timeline": events,
    }
    polls = len(observations)
    comment = [
        f"Recorded by `mockjobs record`{f' from {source}' if source else ''}"
        f" on {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC: job {first.get('jobId')}.",
        f"Each event is at the job time its change was first seen ({polls} distinct document(s)).",
    ]
    if not finished:
        comment.append(f"Not finished: the recording stopped while the job was {status}; no terminal event.")
    return Draft(scenario, comment + [f"Note: {note}." for note in notes], notes)


# --------------------------------------------------------------------------- polling


class JobRecorder:
    """Polls a job until it is terminal, keeping each distinct document with the job time it was seen.

    Job time is measured from the job's startTime (the wall clock at the first poll minus
    startTime, then the monotonic clock); with no startTime, from the first poll. fetch
    returns the parsed JSON of one poll or raises RecordError; transient failures are tried
    again (up to ``retries`` in a row) once the first poll has succeeded. A KeyboardInterrupt
    leaves everything seen so far in :attr:`observations`.
    """

    def __init__(
        self,
        fetch: Fetch,
        *,
        interval_ms: float = 1000.0,
        timeout_ms: float | None = None,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        wall_ms: Callable[[], float] = lambda: time.time() * 1000,
        monotonic_ms: Callable[[], float] = lambda: time.monotonic() * 1000,
        progress: Callable[[Mapping[str, Any], float], None] | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.fetch = fetch
        self.interval_ms = interval_ms
        self.timeout_ms = timeout_ms
        self.retries = retries
        self.sleep = sleep
        self.wall_ms = wall_ms
        self.monotonic_ms = monotonic_ms
        self.progress = progress
        self.notice = notice
        self.observations: list[Observation] = []
        self.polls = 0
        self._base: tuple[float, float] | None = None  # (monotonic ms, job ms) at the first poll

    @property
    def last(self) -> Mapping[str, Any] | None:
        """The latest document seen, if any."""
        return self.observations[-1].document if self.observations else None

    def run(self) -> list[Observation]:
        """Poll until the job is terminal; the observations. Raises RecordError (RecordTimeout)."""
        began = self.monotonic_ms()
        failures = 0
        while True:
            wall, mono = self.wall_ms(), self.monotonic_ms()
            try:
                doc = check_document(self.fetch())
            except RecordError as exc:
                if not exc.transient or not self.observations or failures >= self.retries:
                    raise
                failures += 1
                if self.notice:
                    self.notice(f"poll failed ({exc}); trying again ({failures}/{self.retries})")
                self.sleep(self.interval_ms / 1000)
                continue
            failures = 0
            self.polls += 1
            elapsed = self._elapsed(doc, wall, mono)
            if not self.observations or doc != self.observations[-1].document:
                self.observations.append(Observation(elapsed, doc))
            if self.progress:
                self.progress(doc, elapsed)
            if str(doc["status"]).upper() in TERMINAL:
                return self.observations
            if self.timeout_ms is not None and self.monotonic_ms() - began + self.interval_ms > self.timeout_ms:
                raise RecordTimeout(f"timed out after {format_ms(self.timeout_ms)}: the job is still {doc['status']}")
            self.sleep(self.interval_ms / 1000)

    def _elapsed(self, doc: Mapping[str, Any], wall: float, mono: float) -> float:
        """Job time (ms) of a poll made at wall/mono."""
        if self._base is None:
            start = _int(doc.get("startTime"))
            self._base = (mono, max(0.0, wall - start) if start > 0 else 0.0)
        base_mono, base_job = self._base
        return base_job + (mono - base_mono)


class HttpFetcher:
    """GET JOB_URL?f=json with urllib, token as X-Esri-Authorization: Bearer and as the token parameter."""

    def __init__(self, url: str, token: str | None = None, timeout_s: float = 30.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RecordError(f"{url!r} is not an http(s) URL")
        query = [
            (k, v)
            for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
            if k not in ("f", "callback") and not (token and k == "token")
        ]
        query.append(("f", "json"))
        if token:
            query.append(("token", token))
        self.url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query), fragment=""))
        self.shown = urllib.parse.urlunsplit(parts._replace(query="", fragment=""))  # never shows a token
        self.headers = {"Accept": "application/json", "User-Agent": f"mockjobs-record/{__version__}"}
        if token:
            self.headers["X-Esri-Authorization"] = f"Bearer {token}"
        self.timeout_s = timeout_s

    def __call__(self) -> Any:
        """One poll: the parsed JSON answer; RecordError for HTTP, network and non-JSON answers."""
        request = urllib.request.Request(self.url, headers=self.headers, method="GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = response.read()
                content_type = response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as exc:
            detail = ""
            try:
                answer = json.loads(exc.read().decode("utf-8", "replace"))
                if isinstance(answer, dict) and "error" in answer:
                    detail = f": {_arcgis_error(answer['error'])}"
            except (ValueError, OSError):
                pass
            raise RecordError(
                f"{self.shown}: HTTP {exc.code} {exc.reason}{detail}", transient=exc.code in TRANSIENT_HTTP
            ) from None
        except urllib.error.URLError as exc:
            raise RecordError(f"cannot reach {self.shown}: {exc.reason}", transient=True) from None
        except (OSError, HTTPException) as exc:  # timeouts, resets, broken answers
            raise RecordError(f"cannot reach {self.shown}: {exc or type(exc).__name__}", transient=True) from None
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError:
            start = body[:80].decode("utf-8", "replace").strip().replace("\n", " ")
            raise RecordError(
                f"{self.shown} did not answer JSON (Content-Type {content_type or 'none'}): {start!r}"
            ) from None


# --------------------------------------------------------------------------- commands


class _Progress:
    """The progress line on stderr: rewritten in place on a terminal, one line per change otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.shown: tuple[Any, ...] | None = None
        self.open = False

    def __call__(self, doc: Mapping[str, Any], elapsed_ms: float) -> None:
        custom = _custom(doc)
        messages = doc.get("messages") or []
        state = (doc.get("status"), custom.get("stepsCompleted"), custom.get("totalSteps"), len(messages))
        line = (
            f"{state[0]}  steps {state[1] if state[1] is not None else '-'}/{state[2] if state[2] is not None else '-'}"
            f"  messages {state[3]}  elapsed {format_ms(round(max(0.0, elapsed_ms), -2))}"
        )
        if self.tty:
            self.stream.write(f"\r{line}\x1b[K")
            self.open = True
        elif state != self.shown:
            self.stream.write(line + "\n")
        self.shown = state
        self.stream.flush()

    def notice(self, text: str) -> None:
        """A line of its own (ends the rewritten line first)."""
        self.end()
        self.stream.write(f"mockjobs: {text}\n")
        self.stream.flush()

    def end(self) -> None:
        """Finish the rewritten line, if one is showing."""
        if self.open:
            self.stream.write("\n")
            self.open = False


def write_scenario(draft: Draft, out: str | None, stdout: TextIO, stderr: TextIO) -> None:
    """Validate draft and write it to out (a file) or stdout; notes and where it went to stderr."""
    text = draft.to_yaml(out or "<stdout>")
    for note in draft.notes:
        stderr.write(f"mockjobs: note: {note}\n")
    if out:
        try:
            Path(out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise RecordError(f"cannot write {out}: {exc.strerror or exc}") from None
        events = len(draft.scenario["timeline"])
        stderr.write(f"mockjobs: wrote {out}: scenario {draft.name}, {events} event(s)\n")
    else:
        stdout.write(text)
        stdout.flush()


def record_command(
    url: str,
    *,
    token: str | None = None,
    interval_ms: float = 1000.0,
    timeout_ms: float | None = None,
    out: str | None = None,
    name: str | None = None,
    fetch: Fetch | None = None,
    sleep: Callable[[float], None] = time.sleep,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`mockjobs record`: poll url until the job is terminal and write its scenario; the exit status.

    0 when the job finished and its scenario was written; 1 on errors (an ArcGIS error, an
    unreachable server, --timeout), writing what was seen so far if anything; 130 on Ctrl-C,
    after writing what was seen so far (a scenario without a terminal event).
    """
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        fetcher = fetch or HttpFetcher(url, token)
    except RecordError as exc:
        stderr.write(f"mockjobs: {exc}\n")
        return 2
    shown = getattr(fetcher, "shown", url.split("?", 1)[0])
    progress = _Progress(stderr)
    recorder = JobRecorder(
        fetcher,
        interval_ms=interval_ms,
        timeout_ms=timeout_ms,
        sleep=sleep,
        progress=progress,
        notice=progress.notice,
    )
    code = 0
    try:
        recorder.run()
    except KeyboardInterrupt:
        progress.end()
        stderr.write("mockjobs: interrupted; writing what was seen so far\n")
        code = EXIT_INTERRUPTED
    except RecordError as exc:
        progress.end()
        message = str(exc)
        stderr.write(f"mockjobs: {message if shown in message else f'{shown}: {message}'}\n")
        code = 1
    progress.end()
    if not recorder.observations:
        if code == EXIT_INTERRUPTED:
            stderr.write("mockjobs: nothing was recorded\n")
        return code
    if code == 1:
        stderr.write(f"mockjobs: writing the {len(recorder.observations)} document(s) seen so far\n")
    try:
        write_scenario(scenario_from_observations(recorder.observations, name=name, source=shown), out, stdout, stderr)
    except RecordError as exc:
        stderr.write(f"mockjobs: {exc}\n")
        return code or 1
    return code


def import_command(
    path: str,
    *,
    out: str | None = None,
    name: str | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """`mockjobs import`: a scenario from the finished job document in path; the exit status (0, or 1 on errors)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    try:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RecordError(f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
        draft = scenario_from_document(extract_document(text), name=name, source=path)
    except RecordError as exc:
        stderr.write(f"mockjobs: {path}: {exc}\n")
        return 1
    try:
        write_scenario(draft, out, stdout, stderr)
    except RecordError as exc:
        stderr.write(f"mockjobs: {exc}\n")
        return 1
    return 0
