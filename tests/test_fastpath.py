"""The hot path answers plain job GETs before Flask, with the very bytes Flask would send."""

from __future__ import annotations

import pytest
from flask import Flask, request

from mockjobs.fastpath import FastPath

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
    slow = client.post(f"/arcgis/rest/jobs/{job}", data={"f": f})  # a form POST goes through Flask
    assert seen == [f"/arcgis/rest/jobs/{job}?"]
    assert fast.data == slow.data
    assert fast.headers == slow.headers


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


def test_token_security_turns_the_fast_path_off(make_app) -> None:
    assert isinstance(make_app().wsgi_app, FastPath)
    secured = make_app(AUTH=True)
    assert not isinstance(secured.wsgi_app, FastPath)
    assert secured.test_client().get(f"/arcgis/rest/jobs/{JOB}?f=json").json["error"]["code"] == 499
