"""The poll forms real clients use, as wrk targets: each compared with the plain `GET ?f=json` poll."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ORIGIN = "http://app.example:3000"
FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class PollForm:
    """One way of polling a job: method, where f and the token go, extra headers."""

    key: str
    label: str
    method: str = "GET"
    auth: bool = False  # polled on the --auth server, with a token
    token_in: str = ""  # "query", "body", or a header name ("X-Esri-Authorization", "Authorization")
    headers: dict[str, str] = field(default_factory=dict)

    def url(self, base: str, job_id: str, token: str) -> str:
        query = "f=json" if self.method == "GET" else ""
        if self.token_in == "query":
            query += f"&token={token}"
        return f"{base}/arcgis/rest/jobs/{job_id}" + (f"?{query}" if query else "")

    def body(self, token: str) -> str | None:
        if self.method != "POST":
            return None
        return "f=json" + (f"&token={token}" if self.token_in == "body" else "")

    def all_headers(self, token: str) -> dict[str, str]:
        out = dict(self.headers)
        if self.method == "POST":
            out["Content-Type"] = FORM
        if self.token_in in ("X-Esri-Authorization", "Authorization"):
            out[self.token_in] = f"Bearer {token}"
        return out


FORMS = [
    PollForm("poll/form", "form POST f=json (ArcGIS REST JS)", method="POST"),
    PollForm("poll/origin", "GET f=json with Origin (CORS)", headers={"Origin": ORIGIN}),
    PollForm("poll/form+origin", "form POST with Origin (browser)", method="POST", headers={"Origin": ORIGIN}),
    PollForm("poll/token", "GET f=json&token= (--auth)", auth=True, token_in="query"),
    PollForm("poll/x-esri", "GET X-Esri-Authorization (--auth)", auth=True, token_in="X-Esri-Authorization"),
    PollForm("poll/bearer", "GET Authorization: Bearer (--auth)", auth=True, token_in="Authorization"),
    PollForm("poll/form+token", "form POST f=json&token= (--auth)", method="POST", auth=True, token_in="body"),
    PollForm(
        "poll/browser",
        "form POST, token, Origin (--auth, browser)",
        method="POST",
        auth=True,
        token_in="body",
        headers={"Origin": ORIGIN},
    ),
]


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def script(folder: Path, form: PollForm, token: str) -> Path:
    """A wrk Lua script sending form's method, body and headers."""
    lines = [f"wrk.method = {_lua(form.method)}"]
    body = form.body(token)
    if body is not None:
        lines.append(f"wrk.body = {_lua(body)}")
    lines += [f"wrk.headers[{_lua(k)}] = {_lua(v)}" for k, v in form.all_headers(token).items()]
    path = folder / f"{form.key.replace('/', '-').replace('+', '-')}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def check(base: str, form: PollForm, job_id: str, token: str) -> None:
    """One poll in this form answers the job document (not an error envelope), with CORS if it sent Origin."""
    body = form.body(token)
    req = urllib.request.Request(
        form.url(base, job_id, token),
        data=body.encode() if body is not None else None,
        headers=form.all_headers(token),
        method=form.method,
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            doc, headers = json.loads(r.read()), r.headers
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"{form.key}: HTTP {exc.code}") from None
    if doc.get("jobId") != job_id:
        raise RuntimeError(f"{form.key}: not the job document: {str(doc)[:300]}")
    if "Origin" in form.headers and headers.get("Access-Control-Allow-Origin") != form.headers["Origin"]:
        raise RuntimeError(f"{form.key}: no Access-Control-Allow-Origin in the answer")
