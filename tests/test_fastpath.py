"""The hot path answers plain job GETs before Flask, with the very bytes Flask would send."""

from __future__ import annotations

import json

import pytest
from flask import Flask, request

from mockjobs.cors import Cors
from mockjobs.fastpath import FastPath
from mockjobs.store import OneMomentPerRequest

JOB = "j522676d9-983a-48e2-a51c-5066966160f0"


@pytest.fixture
def seen(app: Flask) -> list[str]:
    """Paths of the requests that reached Flask."""
    paths: list[str] = []
    app.before_request(lambda: paths.append(request.full_path) and None)
    return paths


@pytest.mark.parametrize("f", ["json", "pjson"])
def test_plain_get_skips_flask_and_matches_the_flask_answer(app: Flask, seen: list[str], f: str) -> None:
    client = app.test_client()
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    seen.clear()
    fast = client.get(f"/arcgis/rest/jobs/{job}?f={f}")
    assert seen == []  # answered by the fast path
    slow = client.get(f"/arcgis/rest/jobs/{job}?f={f}&other=1")  # another parameter goes through Flask
    assert seen == [f"/arcgis/rest/jobs/{job}?f={f}&other=1"]
    assert fast.data == slow.data
    assert fast.headers == slow.headers


@pytest.mark.parametrize("query", ["", "?f=html"])
def test_a_job_page_written_by_flask_is_served_by_the_fast_path_within_its_second(
    app: Flask, seen: list[str], clock, query: str
) -> None:
    client = app.test_client()
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    url = f"/arcgis/rest/jobs/{job}{query}"
    seen.clear()
    first = client.get(url)
    assert len(seen) == 1  # Flask writes the page (templates)
    clock.advance(300)
    again = client.get(url)
    assert len(seen) == 1  # the same second: the fast path answers Flask's bytes
    assert again.data == first.data and again.headers == first.headers
    assert again.headers["Content-Type"] == "text/html; charset=utf-8" and again.headers["Cache-Control"] == "no-store"
    clock.advance(1000)
    later = client.get(url)
    assert len(seen) == 2 and later.data != first.data  # the page shows whole seconds: a new one is written
    live = client.get(url, headers={"X-Mockjobs-Live": "1"})
    assert len(seen) == 3 and live.data == later.data  # the page's own refresh: Flask, not journaled
    entries = client.get("/__mock/requests", query_string={"jobId": job}).json["requests"]
    assert [(e["f"], e["kind"], e["query"], e["status"], e["http"]) for e in entries] == [
        ("html", "poll", query.lstrip("?"), "EXECUTING", 200)
    ] * 3
    assert [e["time"] for e in entries] == [clock.now_ms() - 1300, clock.now_ms() - 1000, clock.now_ms()]


def test_fast_answers_are_journaled_as_polls(client, clock) -> None:
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    for _ in range(3):
        assert client.get(f"/arcgis/rest/jobs/{job}?f=json").json["jobId"] == job
        clock.advance(2000)
    polls = client.get(f"/__mock/jobs/{job}/polls").json
    assert polls["count"] == 3
    assert polls["intervals"] == {"min": 2.0, "median": 2.0, "max": 2.0}
    entries = client.get("/__mock/requests", query_string={"jobId": job}).json["requests"]
    assert [(e["method"], e["f"], e["kind"], e["status"]) for e in entries] == [
        ("GET", "json", "poll", "EXECUTING")
    ] * 3


def test_a_moved_job_is_not_served_stale_bytes(client) -> None:
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    assert client.get(f"/arcgis/rest/jobs/{job}?f=json").json["status"] == "EXECUTING"
    client.post(f"/__mock/jobs/{job}/advance", json={"to": "end"})
    assert client.get(f"/arcgis/rest/jobs/{job}?f=json").json["status"] == "COMPLETED"


@pytest.mark.parametrize(
    "url",
    [f"/arcgis/rest/jobs/{JOB}?f=json&callback=cb", f"/arcgis/rest/jobs/{JOB}", "/arcgis/rest/jobs/nope?f=json"],
)
def test_anything_else_goes_to_flask(app: Flask, seen: list[str], url: str) -> None:
    app.test_client().get(url)
    assert len(seen) == 1


def test_the_fast_path_sits_inside_cors_with_and_without_auth(make_app) -> None:
    for app in (make_app(), make_app(AUTH=True)):
        assert isinstance(app.wsgi_app, OneMomentPerRequest)  # outermost: one look at the store's change signal
        assert isinstance(app.wsgi_app.app, Cors)
        assert isinstance(app.wsgi_app.app.app, FastPath)
    assert make_app(AUTH=True).test_client().get(f"/arcgis/rest/jobs/{JOB}?f=json").json["error"]["code"] == 499


# ------------------------------------------------------------------ every poll form


def _token(client) -> str:
    r = client.post("/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "f": "json"})
    return r.json["token"]


def _poll(client, how: str, job: str, token: str | None, origin: str | None = None):
    """One poll of job in the form how; token (if any) sent as that form sends it."""
    url = f"/arcgis/rest/jobs/{job}"
    headers = {"Origin": origin} if origin else {}
    if how == "get":
        return client.get(url + "?f=json" + (f"&token={token}" if token else ""), headers=headers)
    if how == "form":
        return client.post(url, data={"f": "json", **({"token": token} if token else {})}, headers=headers)
    header = {"x-esri": "X-Esri-Authorization", "bearer": "Authorization"}[how]
    return client.get(url + "?f=json", headers={**headers, header: f"Bearer {token}"})


FORMS = [("get", False), ("form", False), ("get", True), ("form", True), ("x-esri", True), ("bearer", True)]


@pytest.mark.parametrize("origin", [None, "http://app.example"])
@pytest.mark.parametrize(("how", "auth"), FORMS)
def test_every_poll_form_is_answered_by_the_fast_path(make_app, how: str, auth: bool, origin: str | None) -> None:
    app = make_app(AUTH=auth)
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.full_path) and None)
    client = app.test_client()
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    token = _token(client) if auth else None
    seen.clear()
    fast = _poll(client, how, job, token, origin)
    assert seen == []  # answered before Flask
    assert fast.json["jobId"] == job
    param = f"&token={token}" if token else ""
    slow = client.get(f"/arcgis/rest/jobs/{job}?f=json&other=1{param}", headers={"Origin": origin} if origin else {})
    assert len(seen) == 1  # the same document through Flask
    assert fast.data == slow.data
    assert {k: v for k, v in fast.headers if k != "Content-Length"} == {
        k: v for k, v in slow.headers if k != "Content-Length"
    }
    assert (fast.headers.get("Access-Control-Allow-Origin") == origin) if origin else "Vary" not in fast.headers
    entries = client.get("/__mock/requests", query_string={"jobId": job}).json["requests"]
    method = "POST" if how == "form" else "GET"
    assert [(e["method"], e["kind"], e["f"], e["status"]) for e in entries][0] == (method, "poll", "json", "EXECUTING")
    if token:
        assert token not in json.dumps(entries)  # no secret in the journal


@pytest.mark.parametrize("how", ["get", "form", "x-esri", "bearer"])
def test_a_refused_token_is_never_served_from_the_cache(make_app, clock, how: str) -> None:
    app = make_app(AUTH=True)
    seen: list[str] = []
    app.before_request(lambda: seen.append(request.path) if request.path.startswith("/arcgis/rest/jobs/") else None)
    client = app.test_client()
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    client.post("/__mock/clock", json={"freeze": True})
    good = client.post(
        "/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "expiration": "1", "f": "json"}
    ).json["token"]
    assert _poll(client, how, job, good).json["jobId"] == job  # the document is cached now
    seen.clear()
    forged = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert _poll(client, how, job, forged).json["error"]["code"] == 498
    if how in ("get", "form"):
        assert _poll(client, how, job, None).json["error"]["code"] == 499
    client.post("/__mock/clock", json={"advance": "60s"})
    assert _poll(client, how, job, good).json["error"] == {
        "code": 498,
        "message": "Invalid Token",
        "details": ["Token has expired."],
    }
    assert len(seen) == (3 if how in ("get", "form") else 2)  # each refusal answered by Flask
    denied = [e for e in client.get("/__mock/requests").json["requests"] if e.get("kind") == "denied"]
    assert len(denied) == len(seen)


def test_a_post_that_is_not_a_poll_reaches_flask_with_its_body(app: Flask, seen: list[str]) -> None:
    client = app.test_client()
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    seen.clear()
    r = client.post(f"/arcgis/rest/jobs/{job}", data={"f": "pjson", "extra": "1"})
    assert seen == [f"/arcgis/rest/jobs/{job}?"]
    assert r.data.startswith(b'{\n  "jobId"')  # Flask read f=pjson from the body the fast path put back


def test_a_job_url_with_a_trailing_slash_is_the_job(app: Flask, seen: list[str]) -> None:
    client = app.test_client()
    job = client.post("/__mock/jobs", json={"scenario": "add-mission"}).json["jobId"]
    seen.clear()
    assert client.get(f"/arcgis/rest/jobs/{job}/?f=json").json["jobId"] == job
    assert seen == []
    page = client.get(f"/arcgis/rest/jobs/{job}/")
    assert page.status_code == 200 and job in page.text
    assert client.post(f"/arcgis/rest/jobs/{job}/", data={"f": "json", "x": "1"}).json["jobId"] == job


@pytest.mark.slow
def test_every_poll_form_under_gunicorn_workers_with_exact_tokens(launch) -> None:
    srv = launch.serve("--auth", "--workers", "2")
    pids = srv.worker_pids(2)
    srv.post("/__mock/clock", json={"freeze": True})
    token = srv.post(
        "/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "expiration": "1", "f": "json"}
    ).json()["token"]
    url = f"/arcgis/rest/jobs/{JOB}"
    origin = {"Origin": "http://app.example"}
    forms = {
        "get": lambda s, t: s.get(url, params={"f": "json", "token": t}, headers=origin),
        "form": lambda s, t: s.request("POST", url, data={"f": "json", "token": t}, headers=origin),
        "x-esri": lambda s, t: s.get(
            url, params={"f": "json"}, headers={**origin, "X-Esri-Authorization": f"Bearer {t}"}
        ),
        "bearer": lambda s, t: s.get(url, params={"f": "json"}, headers={**origin, "Authorization": f"Bearer {t}"}),
    }
    for ask in forms.values():
        srv.on_every_worker(
            lambda s, ask=ask: ask(s, token),
            pids,
            lambda r: r.json().get("jobId") == JOB and r.headers["Access-Control-Allow-Origin"] == origin["Origin"],
        )
        forged = ask(srv, token[:-4] + "AAAA").json()
        assert forged["error"]["code"] == 498
    srv.post("/__mock/clock", json={"advance": "61s"})
    for ask in forms.values():  # every worker has the document cached, none serves it to an expired token
        srv.on_every_worker(
            lambda s, ask=ask: ask(s, token), pids, lambda r: r.json().get("error", {}).get("code") == 498
        )
    journal = srv.get("/__mock/requests", params={"jobId": JOB}).text
    assert token not in journal
