"""The pages for people through HTTP: the job page's times, the scenario page, the dashboard's rows and log."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient

from mockjobs import picture
from mockjobs.clock import ManualTime
from mockjobs.pages import ASSETS, LIVE_HEADER
from tests.conftest import REPO, scenario_folder

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"

GAPS = """\
name: gaps
description: Messages with and without codes, <b>marked up</b>.
job:
  type: gapJob
  totalSteps: 4
  customAttributes: {title: "{params.title}", owner: "{params.owner}"}
vars:
  colour: blue
timeline:
  - {at: 0, message: First., code: 10, status: EXECUTING}
  - {at: 5s, message: "No code <i>here</i>."}
  - {at: 5s, steps: 2}
  - {at: 1m30s, message: "Third ({colour}).", code: 30, steps: 4, status: COMPLETED}
on_cancel:
  - {at: 0, message: Stopping., code: 90, status: CANCELLING}
  - {at: 3s, status: CANCELLED}
"""


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """add-mission (with the reference job) and the gaps scenario."""
    folder = scenario_folder(tmp_path / "scenarios", {"gaps.yaml": GAPS}, bundled=["add-mission.yaml"])
    return make_app(SCENARIOS=[str(folder)])


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of app."""
    return app.test_client()


def start(client: FlaskClient, scenario: str = "gaps", **extra: object) -> str:
    """A new job's id."""
    r = client.post("/__mock/jobs", json={"scenario": scenario, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["jobId"]


def items(html: str) -> list[tuple[str, str, str]]:
    """(offset, text, code) of each message of a job page."""
    found = re.findall(r'<li><time class="at"[^>]*>([^<]*)</time><span class="text">(.*?)</span>(.*?)</li>', html)
    return [(at, text, re.sub(r"<[^>]+>", "", code)) for at, text, code in found]


def test_job_page_times_codes_and_latest_message(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, params={"title": "T"})
    clock.advance(6_000)
    html = client.get(f"/arcgis/rest/jobs/{job_id}").get_data(as_text=True)
    assert items(html) == [("+0s", "First.", "10"), ("+5s", "No code &lt;i&gt;here&lt;/i&gt;.", "")]
    assert 'title="2023-11-14 22:13:25 UTC"' in html  # when the second message appeared
    assert re.search(r'id="elapsed">6s <span class="muted">\(next event at 1m30s\)', html)
    assert '<td id="latest">No code &lt;i&gt;here&lt;/i&gt;.</td>' in html
    assert '<span id="steps">2 of 4</span>' in html
    assert 'style="width: 50.0%"' in html
    assert 'data-terminal="false"' in html

    clock.advance(1_000)  # elapsed moves on while no event happens: the page is not a stale copy
    assert 'id="elapsed">7s ' in client.get(f"/arcgis/rest/jobs/{job_id}").get_data(as_text=True)


def test_finished_jobs_say_when_they_finished(client: FlaskClient, clock: ManualTime) -> None:
    html = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}").get_data(as_text=True)
    assert '<th>Finished</th><td id="elapsed">2020-05-26 20:01:27 UTC <span class="muted">after 1m6.3s</span>' in html
    assert "d " not in re.search(r'id="elapsed">(.*?)</td>', html).group(1)  # no elapsed in days
    assert 'data-terminal="true"' in html

    job_id = start(client)
    clock.advance(5_000)
    assert client.post(f"/__mock/jobs/{job_id}/cancel", json={}).status_code == 200
    clock.advance(3_000)
    html = client.get(f"/arcgis/rest/jobs/{job_id}").get_data(as_text=True)
    assert items(html)[-1] == ("+5s", "Stopping.", "90")  # on_cancel's messages, at the time of cancelling
    assert "2023-11-14 22:13:28 UTC" in html and "after 8s" in html


def test_live_refreshes_are_answered_but_not_journaled(client: FlaskClient) -> None:
    job_id = start(client)
    for _ in range(3):
        live = client.get(f"/arcgis/rest/jobs/{job_id}?f=html", headers={LIVE_HEADER: "1"})
        assert live.status_code == 200 and job_id in live.get_data(as_text=True)
        assert live.headers["Cache-Control"] == "no-store"
    assert client.get(f"/__mock/jobs/{job_id}/polls").get_json()["count"] == 0
    client.get(f"/arcgis/rest/jobs/{job_id}")
    polls = client.get(f"/__mock/jobs/{job_id}/polls").get_json()
    assert (polls["count"], polls["formats"]) == (1, ["html"])
    assert client.get("/__mock/requests").get_json()["count"] == 1


def test_a_poll_paced_job_page_shows_what_its_last_poll_saw(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client, pace="poll")
    clock.advance(3_600_000)  # the clock does not move a paced job
    for n, latest in ((1, "First."), (2, "No code &lt;i&gt;here&lt;/i&gt;.")):
        polled = client.get(f"/arcgis/rest/jobs/{job_id}").get_data(as_text=True)  # the Nth poll: the Nth event
        assert f'<td id="latest">{latest}</td>' in polled, n
        live = client.get(f"/arcgis/rest/jobs/{job_id}", headers={LIVE_HEADER: "1"}).get_data(as_text=True)
        assert f'<td id="latest">{latest}</td>' in live and 'data-terminal="false"' in live, n  # not a poll
    assert client.get(f"/__mock/jobs/{job_id}/polls").get_json()["count"] == 2


def test_scenario_page_is_a_readable_table(client: FlaskClient) -> None:
    r = client.get("/scenarios/gaps")
    assert (r.status_code, r.mimetype) == (200, "text/html")
    html = r.get_data(as_text=True)
    assert "Messages with and without codes, &lt;b&gt;marked up&lt;/b&gt;." in html
    rows = re.findall(r"<tr>\s*<td class=\"mono nowrap\">([^<]*)</td>", html)
    assert rows == ["0s", "5s", "5s", "1m30s", "0s", "3s"]  # the timeline, then on_cancel
    assert "No code &lt;i&gt;here&lt;/i&gt;." in html
    assert "params.title, params.owner" in html
    assert "generated" not in html and '<td class="mono">blue</td>' in html
    assert 'href="/__mock/scenarios/gaps"' in html
    assert "Faults" not in html
    assert client.get("/scenarios/nope").status_code == 404


def test_scenario_page_lists_faults_when_the_scenario_has_them(app: Flask, client: FlaskClient) -> None:
    detail = client.get("/__mock/scenarios/gaps").get_json()
    detail["faults"] = [{"when": {"poll": 3}, "do": {"http": 503, "retry_after": 5}}]
    with app.test_request_context("/scenarios/gaps"):
        html = render_template("scenario.html", s=detail, params=[], context="/arcgis", custom_json="{}")
    assert "Faults (1)" in html
    assert '{"poll": 3}' in html and '"http": 503' in html


def test_timeline_picture_of_polls_events_and_faults(app: Flask, client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    for _ in range(5):  # at 0, 30, 60, 90 (COMPLETED) and 120 s
        client.get(f"/arcgis/rest/jobs/{job_id}?f=json")
        clock.advance(30_000)
    m = app.extensions["mockjobs"]
    assert client.get(f"/__mock/jobs/{job_id}").get_json()["status"] == "COMPLETED"
    # a poll answered by a fault, journaled as faults are (SPEC section 8: fault {id, effect})
    fault = {"id": "f1", "effect": {"http": 503}}
    note = {"kind": "poll", "jobId": job_id, "seq": m.get(job_id).seq, "fault": fault}
    m.record("GET", f"/arcgis/rest/jobs/{job_id}", "f=json", "json", 503, note)
    r = client.get(f"/__mock/jobs/{job_id}/timeline.svg")
    assert (r.status_code, r.mimetype) == (200, "image/svg+xml")
    svg = r.get_data(as_text=True)
    assert svg.count('<g class="event">') == 4  # every event reached, none still to come
    assert svg.count('class="poll"') == 4 and svg.count('class="poll late"') == 1
    assert svg.count('class="poll fault"') == 1
    assert "fault f1: http 503" in svg
    assert "saw EXECUTING" in svg and "saw COMPLETED" in svg
    assert "No code &lt;i&gt;here&lt;/i&gt;." in svg
    assert "6 polls" in svg and "1 after the terminal status was seen" in svg and "1 with a fault" in svg
    assert 'class="now"' not in svg and 'class="terminal"' in svg

    log = client.get("/", query_string={"jobId": job_id}).get_data(as_text=True)
    assert '<tr class="fault">' in log and "f1: http 503" in log

    running = start(client)
    svg = client.get(f"/__mock/jobs/{running}/timeline.svg").get_data(as_text=True)
    assert (
        svg.count('<g class="event future">') == 3
        and svg.count('<g class="event">') == 1
        and 'class="now"' in svg
        and "no polls yet" in svg
    )
    assert client.get("/__mock/jobs/nope/timeline.svg").status_code == 404


def test_static_job_picture_cuts_the_years_between_its_events_and_its_polls(client: FlaskClient) -> None:
    client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json")
    svg = client.get(f"/__mock/jobs/{REFERENCE_JOB}/timeline.svg").get_data(as_text=True)
    assert "2023-11-14 UTC" in svg  # the date after the cut in the axis
    ticks = re.findall(r'text-anchor="middle">([^<]+)</text>', svg)
    assert ticks[0] == "+0s" and "+1m" in ticks  # offsets before the cut
    assert any(re.fullmatch(r"22:13:\d\d(\.\d)?", t) for t in ticks)  # the time of day of the poll after it


def test_dashboard_rows_start_forms_and_log_filter(client: FlaskClient, clock: ManualTime) -> None:
    mine, other = start(client), start(client)
    client.get(f"/arcgis/rest/jobs/{mine}?f=json")
    client.get(f"/arcgis/rest/jobs/{other}?f=pjson")
    client.get("/arcgis/rest/jobs/nope?f=json")
    html = client.get("/").get_data(as_text=True)
    assert "finished 2020-05-26 20:01 UTC" in html
    assert 'name="var:colour" placeholder="blue"' in html
    assert 'name="param:title"' in html and 'name="param:owner"' in html
    assert 'name="var:missionId" placeholder="hex32"' in html
    assert 'href="/scenarios/gaps"' in html
    assert html.count("<td>poll</td>") == 3
    assert "error 404" in html

    html = client.get("/", query_string={"jobId": mine}).get_data(as_text=True)
    log = html[html.index('id="log-rows"') :]
    assert log.count("<td>poll</td>") == 1 and f"{mine}?f=json" in log and other not in log
    assert f'<option value="{mine}" selected>' in html

    html = client.get("/", query_string={"jobId": "<script>x</script>"}).get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_scripts_and_style_are_served_by_the_app(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert re.findall(r'<script src="([^"]+)"', html) == ["/static/mockjobs.js", "/static/dashboard.js"]
    assert 'href="/static/mockjobs.css"' in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from another origin
    assert set(ASSETS) == {p.name for p in (REPO / "static").iterdir()}  # every shipped file is listed
    for name, mimetype in ASSETS.items():
        r = client.get(f"/static/{name}")
        assert (r.status_code, r.mimetype) == (200, mimetype) and r.data
        assert "innerHTML =" not in r.get_data(as_text=True)
    for other in ("nope.js", "..%2Fpyproject.toml", "../pyproject.toml", "%2e%2e/README.md"):
        assert client.get(f"/static/{other}").status_code == 404


def test_picture_draws_the_newest_polls_and_counts_them_all(client: FlaskClient, monkeypatch) -> None:
    monkeypatch.setattr(picture, "MAX_POLLS", 2)
    job_id = start(client)
    for _ in range(3):
        client.get(f"/arcgis/rest/jobs/{job_id}?f=json")
    svg = client.get(f"/__mock/jobs/{job_id}/timeline.svg").get_data(as_text=True)
    assert svg.count('class="poll"') == 2
    assert "3 polls" in svg and "(the last 2 drawn)" in svg
