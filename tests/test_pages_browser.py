"""The live pages in a real Chromium (Debian's) through Playwright: job page, dashboard, scenario page.

The server runs on a real socket from a thread, on the injected manual clock: the tests move
time, the pages' own scripts notice it. Every request the browser makes is checked to stay on
the app's origin, and every screenshot lands in test-artifacts/ (gitignored).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from mockjobs.clock import ManualTime
from tests.browsing import chromium, needs_chromium, served
from tests.conftest import REPO, scenario_folder

ARTIFACTS = REPO / "test-artifacts"
REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
WAIT_MS = 15_000  # the pages refresh every second or so; a loaded machine may be slow

pytestmark = [
    pytest.mark.slow,
    needs_chromium,
]

STEPS = """\
name: steps
description: Three steps in 30 seconds.
job:
  type: stepJob
  customAttributes: {title: "{params.title}"}
vars:
  colour: blue
trigger: {method: POST, path: /rest/services/startSteps}
timeline:
  - {at: 0, message: One., code: 1, status: EXECUTING, steps: 1}
  - {at: 10s, message: "Two ({colour}).", code: 2, steps: "+1"}
  - {at: 30s, message: Three., code: 3, steps: 3, status: COMPLETED}
on_cancel:
  - {at: 0, message: Stopping., code: 9, status: CANCELLING}
  - {at: 2s, message: Stopped., status: CANCELLED}
"""

HOSTILE_MESSAGE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE = f"""\
name: hostile
description: '<img src=x onerror="window.__pwned = 3">'
job:
  type: hostileJob
timeline:
  - {{at: 0, message: 'harmless', status: EXECUTING}}
  - at: 5s
    message: '{HOSTILE_MESSAGE}'
    code: 666
  - {{at: 10s, message: 'done', status: COMPLETED}}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path, request: pytest.FixtureRequest) -> Flask:
    """An app serving add-mission (with the reference job), steps, and hostile (or the bundled files of param)."""
    files = {"steps.yaml": STEPS}
    bundled = getattr(request, "param", None)
    if bundled is None:
        files["hostile.yaml"] = HOSTILE
    folder = scenario_folder(tmp_path / "scenarios", files, bundled=["add-mission.yaml", *(bundled or [])])
    return make_app(SCENARIOS=[str(folder)])


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app served over a real socket from a thread."""
    with served(app) as url:
        yield url


def _context(browser: Any, base_url: str, **options: Any) -> tuple[Any, Any, list[str], list[str]]:
    """A browser context and page whose every request is checked to stay on base_url's origin."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    foreign: list[str] = []
    problems: list[str] = []

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(base_url + "/") or url == base_url:
            route.continue_()
        else:
            foreign.append(url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.on("request", lambda r: None if r.url.startswith(base_url) else foreign.append(r.url))
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    pg.set_default_timeout(WAIT_MS)
    return context, pg, foreign, problems


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A fresh page with JavaScript; fails the test on a script error or a request off the origin."""
    context, pg, foreign, problems = _context(browser, base_url)
    yield pg
    context.close()
    assert foreign == []
    assert problems == []


def shot(page: Any, name: str, height: int | None = None) -> Path:
    """A full-page screenshot under test-artifacts/ (only its top height pixels, if given)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    clip = None if height is None else {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    page.screenshot(path=str(path), full_page=True, clip=clip)
    return path


def start(app: Flask, scenario: str = "steps", **extra: Any) -> str:
    """Start a job through the control API; its id."""
    r = app.test_client().post("/__mock/jobs", json={"scenario": scenario, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["jobId"]


def row(page: Any, job_id: str) -> Any:
    """The dashboard's row of a job."""
    return page.locator(f'#job-rows tr[data-job-id="{job_id}"]')


def test_start_from_the_dashboard_and_watch_the_job_page_to_completed(
    app: Flask, clock: ManualTime, base_url: str, page: Any
) -> None:
    page.goto(f"{base_url}/")
    form = page.locator('form.start-form[data-scenario="steps"]')
    form.locator('input[name="param:title"]').fill("Harbor demo")
    form.locator('input[name="var:colour"]').fill("green")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#flash.good")
    job_id = re.search(r"Started (\S+) \(steps\)", page.inner_text("#flash")).group(1)
    row(page, job_id).wait_for()  # the list shows it without a reload
    assert row(page, job_id).locator(".job-status").inner_text() == "EXECUTING"

    row(page, job_id).locator("a.job-link").click()
    page.wait_for_url(f"{base_url}/arcgis/rest/jobs/{job_id}")
    page.evaluate("window.__sameDocument = true")
    assert page.inner_text("#status") == "EXECUTING"
    assert page.inner_text("#steps") == "1 of 3"
    assert "Harbor demo" in page.inner_text("#job")
    assert page.locator("#messages li .text").all_inner_texts() == ["One."]
    assert page.locator("#messages li .code").all_inner_texts() == ["1"]
    assert page.inner_text("#messages li .at") == "+0s"
    assert page.locator("#live-note").inner_text() == "updating live"

    clock.advance(12_000)
    page.wait_for_function("document.getElementById('steps').textContent === '2 of 3'")
    assert page.locator("#messages li .text").all_inner_texts() == ["One.", "Two (green)."]
    assert page.inner_text("#latest") == "Two (green)."
    assert page.inner_text("#elapsed").startswith("12s")

    clock.advance(30_000)
    page.wait_for_function("document.getElementById('status').textContent === 'COMPLETED'")
    page.wait_for_selector("body[data-live-stopped=true]")
    assert page.evaluate("window.__sameDocument") is True  # updated in place, never reloaded
    assert page.inner_text("#steps") == "3 of 3"
    assert page.locator("#messages li .text").all_inner_texts() == ["One.", "Two (green).", "Three."]
    assert page.locator("#messages li").last.is_visible()
    assert page.inner_text("#elapsed").startswith("2023-11-14 22:13:50 UTC after 30s")
    assert page.locator("#live-note").inner_text() == "final"

    # the picture: three events, the page load as a poll that saw EXECUTING, drawn inline
    page.wait_for_selector("#picture svg .poll")
    assert page.locator("#picture svg .event").count() == 3
    assert "saw EXECUTING" in page.locator("#picture svg .poll title").first.text_content()
    shot(page, "job-page")

    # the journal holds the page load, not the page refreshing itself
    polls = app.test_client().get(f"/__mock/jobs/{job_id}/polls").get_json()
    assert polls["count"] == 1


def test_live_job_page_shows_markup_in_messages_as_text(
    app: Flask, clock: ManualTime, base_url: str, page: Any
) -> None:
    job_id = start(app, "hostile")
    page.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
    assert page.locator("#messages li .text").all_inner_texts() == ["harmless"]
    clock.advance(6_000)  # the hostile message arrives through the live refresh
    page.wait_for_function("document.querySelectorAll('#messages li').length === 2")
    assert page.locator("#messages li .text").all_inner_texts() == ["harmless", HOSTILE_MESSAGE]
    assert page.inner_text("#latest") == HOSTILE_MESSAGE
    assert page.locator("#messages script, #messages img, #latest img").count() == 0
    page.wait_for_selector("#picture svg")
    assert page.evaluate("window.__pwned") is None

    page.goto(f"{base_url}/scenarios/hostile")
    assert HOSTILE_MESSAGE in page.inner_text("#timeline")
    assert '<img src=x onerror="window.__pwned = 3">' in page.inner_text("#description")
    page.goto(f"{base_url}/?jobId={job_id}")
    assert '<img src=x onerror="window.__pwned = 3">' in page.inner_text("#scenarios")
    assert page.evaluate("window.__pwned") is None


@pytest.mark.parametrize("app", [["demo-long.yaml"]], indirect=True)
def test_newest_message_of_a_long_job_stays_in_view(app: Flask, clock: ManualTime, base_url: str, page: Any) -> None:
    job_id = start(app, "demo-long")
    clock.advance(200_000)
    page.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
    at_bottom = "(() => { const b = document.getElementById('messages-box'); "
    at_bottom += (
        "return b.scrollHeight > 2 * b.clientHeight && b.scrollTop + b.clientHeight >= b.scrollHeight - 2; })()"
    )
    assert page.evaluate(at_bottom)
    count = page.locator("#messages li").count()
    assert count > 100
    clock.advance(60_000)
    page.wait_for_function(f"document.querySelectorAll('#messages li').length > {count}")
    assert page.evaluate(at_bottom)
    newest = page.locator("#messages li").last
    box = page.locator("#messages-box").bounding_box()
    item = newest.bounding_box()
    assert box["y"] <= item["y"] and item["y"] + item["height"] <= box["y"] + box["height"] + 1
    assert page.inner_text("#latest") == newest.locator(".text").inner_text()


def test_dashboard_advances_scrubs_cancels_and_deletes(app: Flask, clock: ManualTime, base_url: str, page: Any) -> None:
    first = start(app)
    second = start(app)
    page.goto(f"{base_url}/")
    page.on("dialog", lambda dialog: dialog.accept())

    row(page, first).locator("button[data-action=next]").click()
    page.wait_for_function(
        f"document.querySelector('#job-rows tr[data-job-id=\"{first}\"] td.job-steps').textContent === '2'"
    )
    row(page, first).locator("button[data-action=end]").click()
    row(page, first).locator(".job-status", has_text="COMPLETED").wait_for()
    assert "finished 2023-11-14 22:13 UTC" in row(page, first).inner_text()

    row(page, first).locator("button[data-action=scrub]").click()
    page.wait_for_selector("#scrubber:not([hidden])")
    assert page.inner_text("#scrub-job") == first
    page.locator("#scrub-range").fill("15")
    page.wait_for_function("document.getElementById('scrub-steps').textContent === '2 of 3 steps'")
    assert page.inner_text("#scrub-status") == "EXECUTING"
    assert page.inner_text("#scrub-latest") == "Two (blue)."
    page.locator("#scrub-range").fill("0")
    page.wait_for_function("document.getElementById('scrub-steps').textContent === '1 of 3 steps'")
    assert app.test_client().get(f"/__mock/jobs/{first}").get_json()["status"] == "COMPLETED"  # scrubbing moves nothing

    row(page, second).locator("button[data-action=cancel]").click()
    row(page, second).locator(".job-status", has_text="CANCELLING").wait_for()
    clock.advance(2_000)
    row(page, second).locator(".job-status", has_text="CANCELLED").wait_for()
    assert row(page, second).locator("button[data-action=cancel]").count() == 0

    row(page, second).locator("button[data-action=delete]").click()
    row(page, second).wait_for(state="detached")
    assert app.test_client().get(f"/__mock/jobs/{second}").status_code == 404
    shot(page, "dashboard-driven")


def test_dashboard_drives_the_clock_and_resets(app: Flask, clock: ManualTime, base_url: str, page: Any) -> None:
    job_id = start(app)
    page.goto(f"{base_url}/")
    page.click("button[data-clock=freeze]")
    page.wait_for_function("document.getElementById('clock-mode').textContent === 'frozen'")
    clock.advance(60_000)  # real time goes on; the frozen mock clock does not
    page.wait_for_function("Number(document.body.dataset.refreshed) >= 2")
    assert app.test_client().get(f"/__mock/jobs/{job_id}").get_json()["elapsed"] == 0
    assert page.inner_text("#clock-now") == "2023-11-14 22:13:20 UTC"

    page.fill("#clock-by", "1h")
    page.click("button[data-clock=advance]")
    page.wait_for_function("document.getElementById('clock-now').textContent === '2023-11-14 23:13:20 UTC'")
    row(page, job_id).locator(".job-status", has_text="COMPLETED").wait_for()

    page.fill("#clock-set", "2024-01-02T03:04:05")
    page.click("button[data-clock=set]")
    page.wait_for_function("document.getElementById('clock-now').textContent === '2024-01-02 03:04:05 UTC'")

    page.click("button[data-clock=real]")
    page.wait_for_function("document.getElementById('clock-mode').textContent === 'real time'")
    assert app.test_client().get("/__mock/clock").get_json()["real"] is True

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("#reset")
    row(page, job_id).wait_for(state="detached")
    assert [r.get_attribute("data-job-id") for r in page.locator("#job-rows tr").all()] == [REFERENCE_JOB]


def test_request_log_grows_live_and_filters_by_job(app: Flask, base_url: str, page: Any) -> None:
    watched, other = start(app), start(app)
    page.goto(f"{base_url}/")
    assert page.locator("#log-rows tr td.empty").count() == 1
    for n in range(3):
        requests.get(f"{base_url}/arcgis/rest/jobs/{watched}", params={"f": "json"}, timeout=10)
        page.wait_for_function(f"document.querySelectorAll('#log-rows tr').length === {n + 1}")
    requests.get(f"{base_url}/arcgis/rest/jobs/{other}?f=pjson", timeout=10)
    requests.get(f"{base_url}/arcgis/rest/jobs/nope?f=json", timeout=10)
    page.wait_for_function("document.querySelectorAll('#log-rows tr').length === 5")
    first = page.locator("#log-rows tr").first.inner_text()  # newest first
    assert "/arcgis/rest/jobs/nope" in first and "error 404" in first
    assert "EXECUTING" in page.locator("#log-rows tr").nth(1).inner_text()

    page.select_option("#log-job", watched)
    page.wait_for_function("document.querySelectorAll('#log-rows tr').length === 3")
    assert all(watched[:12] in text for text in page.locator("#log-rows tr").all_inner_texts())
    assert page.url.endswith(f"/?jobId={watched}#log")
    requests.get(f"{base_url}/arcgis/rest/jobs/{other}?f=json", timeout=10)
    requests.get(f"{base_url}/arcgis/rest/jobs/{watched}?f=json", timeout=10)
    page.wait_for_function("document.querySelectorAll('#log-rows tr').length === 4")
    shot(page, "dashboard")


def test_scenario_page_is_readable(base_url: str, page: Any) -> None:
    page.goto(f"{base_url}/")
    page.click("#scenarios a.scenario-name >> text=steps")
    page.wait_for_url(f"{base_url}/scenarios/steps")
    assert page.inner_text("#scenario-name") == "steps"
    assert page.inner_text("#description") == "Three steps in 30 seconds."
    assert page.inner_text("#trigger").startswith("POST /arcgis/rest/services/startSteps")
    rows = [r.split("\t") for r in page.locator("#timeline tbody tr").all_inner_texts()]
    assert [r[:5] for r in rows] == [
        ["0s", "EXECUTING", "1", "1", "One."],
        ["10s", "", "+1", "2", "Two ({colour})."],
        ["30s", "COMPLETED", "3", "3", "Three."],
    ]
    assert page.locator("#on-cancel tbody tr").count() == 2
    assert "colour" in page.inner_text("#vars")
    shot(page, "scenario-page")
    page.click("#raw-json")
    assert '"name": "steps"' in page.inner_text("body") or '"name":"steps"' in page.inner_text("body")


def test_read_only_parts_work_without_javascript(app: Flask, browser: Any, base_url: str) -> None:
    job_id = start(app)
    requests.get(f"{base_url}/arcgis/rest/jobs/{job_id}?f=json", timeout=10)
    context, pg, foreign, problems = _context(browser, base_url, java_script_enabled=False)
    try:
        pg.goto(f"{base_url}/")
        assert row(pg, job_id).locator(".job-status").inner_text() == "EXECUTING"
        assert not pg.locator("#clock-controls").is_visible()
        assert not pg.locator("form.start-form").first.is_visible()
        assert pg.locator("#log-rows tr").count() == 1
        pg.goto(f"{base_url}/?jobId=nothing")
        assert pg.locator("#log-rows td.empty").count() == 1
        pg.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
        assert pg.inner_text("#steps") == "1 of 3"
        assert pg.locator("#picture img").evaluate("img => img.complete && img.naturalWidth > 0")
        pg.goto(f"{base_url}/arcgis/rest/jobs/{REFERENCE_JOB}")
        assert pg.inner_text("#elapsed") == "2020-05-26 20:01:27 UTC after 1m6.3s"
        shot(pg, "reference-job-without-js")
    finally:
        context.close()
    assert foreign == []
    assert problems == []


def test_dashboard_asks_once_for_the_control_token(browser: Any, base_url: str) -> None:
    seen: list[tuple[str | None, str | None]] = []

    def protected(route: Any) -> None:
        auth = route.request.headers.get("authorization")
        seen.append((auth, route.request.headers.get("content-type")))
        if auth != "Bearer s3cret":
            route.fulfill(status=401, content_type="application/json", body='{"error": "control token required"}')
        else:
            route.continue_()

    context, page, foreign, problems = _context(browser, base_url)
    try:
        page.goto(f"{base_url}/")
        page.route("**/__mock/clock", protected)
        prompts: list[str] = []

        def answer(dialog: Any) -> None:
            prompts.append(dialog.message)
            dialog.accept("s3cret")

        page.on("dialog", answer)
        page.click("button[data-clock=freeze]")
        page.wait_for_function("document.getElementById('clock-mode').textContent === 'frozen'")
        page.click("button[data-clock=real]")
        page.wait_for_function("document.getElementById('clock-mode').textContent === 'real time'")
        assert len(prompts) == 1 and "control token" in prompts[0]
        json_type = "application/json"
        assert seen == [(None, json_type), ("Bearer s3cret", json_type), ("Bearer s3cret", json_type)]
        assert page.evaluate("sessionStorage.getItem('mockjobs.controlToken')") == "s3cret"
    finally:
        context.close()
    assert foreign == []
    assert problems == ["console: Failed to load resource: the server responded with a status of 401 (Unauthorized)"]


@pytest.mark.parametrize("app", [["demo-long.yaml"]], indirect=True)
def test_picture_of_a_polled_job_and_the_readme_screenshots(
    app: Flask, clock: ManualTime, base_url: str, page: Any
) -> None:
    """A client polling add-mission every 4 s (and three times too many) as the job page draws it."""
    job_id = start(app, "add-mission", vars={"missionId": "d942d2bdb70c4104bcd1a76d4cf8a6b7"})
    polled = 0
    while True:
        doc = requests.get(f"{base_url}/arcgis/rest/jobs/{job_id}?f=json", timeout=10).json()
        polled += 1
        if doc["status"] == "COMPLETED":
            break
        clock.advance(4_000)
    for _ in range(3):  # a client that does not stop at the terminal status
        clock.advance(4_000)
        requests.get(f"{base_url}/arcgis/rest/jobs/{job_id}?f=json", timeout=10)

    svg = app.test_client().get(f"/__mock/jobs/{job_id}/timeline.svg")
    assert svg.mimetype == "image/svg+xml"
    text = svg.get_data(as_text=True)
    assert text.count('class="poll"') == polled
    assert text.count('class="poll late"') == 3
    assert text.count('class="event"') == 11
    assert "3 after the terminal status was seen" in text

    page.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
    page.wait_for_selector("#picture svg")
    assert page.locator("#picture svg .poll.late").count() == 4  # the page load is one more
    shot(page, "readme-job-page")

    long = start(app, "demo-long", speed=10)
    cancelled, running = start(app, params={"title": "Harbor demo"}), start(app)
    clock.advance(12_000)
    requests.get(f"{base_url}/arcgis/rest/jobs/{long}?f=json", timeout=10)
    requests.get(f"{base_url}/arcgis/rest/jobs/{running}?f=json", timeout=10)
    assert app.test_client().post(f"/__mock/jobs/{cancelled}/cancel", json={}).status_code == 200
    page.goto(f"{base_url}/")
    row(page, cancelled).locator(".job-status", has_text="CANCELLING").wait_for()
    row(page, running).locator("button[data-action=scrub]").click()
    page.locator("#scrub-range").fill("25")
    page.wait_for_function("document.getElementById('scrub-steps').textContent === '2 of 3 steps'")
    shot(page, "readme-dashboard", height=1330)


def test_control_token_goes_to_the_control_api_only(app: Flask, clock: ManualTime, base_url: str, page: Any) -> None:
    job_id = start(app)
    sent: list[tuple[str, str | None]] = []
    page.on("request", lambda r: sent.append((r.url, r.headers.get("authorization"))))
    page.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
    page.evaluate("sessionStorage.setItem('mockjobs.controlToken', 'T')")
    sent.clear()
    page.reload()
    clock.advance(12_000)
    page.wait_for_function("document.getElementById('steps').textContent === '2 of 3'")
    page.wait_for_selector("#picture svg")
    live = [auth for url, auth in sent if "/arcgis/rest/jobs/" in url and "f=html" in url]
    pictures = [auth for url, auth in sent if url.startswith(f"{base_url}/__mock/jobs/{job_id}/timeline.svg?")]
    assert live and set(live) == {None}  # ArcGIS would read it as its own token
    assert pictures and set(pictures) == {"Bearer T"}


@pytest.mark.parametrize("app", [["create-mission.yaml"]], indirect=True)
def test_a_mission_left_behind_is_browsable_from_the_dashboard(app: Flask, base_url: str, page: Any) -> None:
    m = app.extensions["mockjobs"]
    job = m.create("create-mission", params={"title": "Harbour <b>patrol</b>"})
    m.advance(job.job_id, to="end")
    mission_id = job.vars["missionId"]
    page.goto(f"{base_url}/")
    assert page.inner_text("#resources .resource-state") == "live"
    page.click("#resources a.resource-link")
    page.wait_for_url(f"{base_url}/arcgis/rest/services/{mission_id}/MissionServer")
    assert page.inner_text("#resource-title") == "MissionServer"
    assert mission_id in page.inner_text("#resource")
    assert page.locator("#operations li").all_inner_texts()[1].startswith("delete")
    shot(page, "mission-service")
    page.click("#children a >> text=connectionInfo")
    page.wait_for_url(f"{base_url}/arcgis/rest/services/{mission_id}/MissionServer/connectionInfo")
    assert f"/ws/services/{mission_id}/MessageServer" in page.inner_text("#resource")
    page.goto(f"{base_url}/arcgis/rest/services")
    assert page.inner_text("#services") == f"{mission_id} (MissionServer): Harbour <b>patrol</b>"  # text, not markup
