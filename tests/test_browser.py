"""The HTML pages in a real Chromium (Debian's), driven by Playwright, over a real socket."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from mockjobs.clock import ManualTime
from tests.browsing import chromium, needs_chromium, served
from tests.conftest import scenario_folder

SCREENSHOT = Path("/tmp/mockjobs-job-page.png")
REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"

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
trigger: {method: POST, path: /rest/services/startSteps}
timeline:
  - {at: 0, message: One., code: 1, status: EXECUTING, steps: 1}
  - {at: 10s, message: Two., code: 2, steps: "+1"}
  - {at: 30s, message: Three., code: 3, steps: 3, status: COMPLETED}
"""

HOSTILE_MESSAGE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
HOSTILE = f"""\
name: hostile
description: '<img src=x onerror="window.__pwned = 3">'
job:
  type: hostileJob
  customAttributes: {{note: "<b onmouseover=alert(1)>bold</b>"}}
timeline:
  - at: 0
    message: '{HOSTILE_MESSAGE}'
    status: EXECUTING
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the module."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app serving add-mission (with the reference job) and the steps scenario."""
    folder = scenario_folder(tmp_path / "scenarios", {"steps.yaml": STEPS}, bundled=["add-mission.yaml"])
    return make_app(SCENARIOS=[str(folder)])


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    """The app served over a real socket from a thread."""
    with served(app) as url:
        yield url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page; fails the test on any JavaScript error or console error."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    pg.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)
    yield pg
    context.close()
    assert problems == []


def start(app: Flask, scenario: str = "steps", **extra: Any) -> str:
    """Start a job through the control API; its id."""
    r = app.test_client().post("/__mock/jobs", json={"scenario": scenario, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["jobId"]


def test_running_job_page(app: Flask, clock: ManualTime, base_url: str, page: Any) -> None:
    job_id = start(app, params={"title": "Demo"})
    clock.advance(12_000)
    page.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
    assert page.title() == f"Job: {job_id}"
    assert page.inner_text("#job-id") == job_id
    assert page.inner_text("#status") == "EXECUTING"
    assert page.inner_text("#steps") == "2 of 3"
    assert page.locator("#messages li .text").all_inner_texts() == ["One.", "Two."]
    assert page.locator("#messages li .code").all_inner_texts() == ["1", "2"]
    assert "Demo" in page.inner_text("#job")
    assert page.inner_text("#end-time") == "0"
    assert page.locator(".when").first.inner_text() == "2023-11-14 22:13:20 UTC"

    clock.advance(30_000)
    page.reload()
    assert page.inner_text("#status") == "COMPLETED"
    assert page.inner_text("#steps") == "3 of 3"

    page.click("text=JSON")
    doc = json.loads(page.inner_text("body"))
    assert (doc["jobId"], doc["status"]) == (job_id, "COMPLETED")


def test_completed_job_page_and_its_links(base_url: str, page: Any) -> None:
    page.goto(f"{base_url}/arcgis/rest/jobs/{REFERENCE_JOB}")
    assert page.inner_text("#status") == "COMPLETED"
    assert page.inner_text("#steps") == "5 of 5"
    messages = page.locator("#messages li .text").all_inner_texts()
    assert len(messages) == 11
    assert messages[0] == "Started mission creation."
    assert messages[-1] == "Finished creating mission d942d2bdb70c4104bcd1a76d4cf8a6b7."
    assert page.locator("#messages li .code").all_inner_texts()[::10] == ["1500", "1510"]
    assert "d942d2bdb70c4104bcd1a76d4cf8a6b7" in page.inner_text("#job")
    assert "2020-05-26 20:01:27 UTC" in page.inner_text("#job")
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    page.click("header nav >> text=jobs")
    assert page.url == f"{base_url}/arcgis/rest/jobs"
    page.click(f"#jobs >> text={REFERENCE_JOB}")
    assert page.inner_text("#job-id") == REFERENCE_JOB
    page.click("header nav >> text=Home")
    assert page.inner_text("#version") == "11.3"

    page.goto(f"{base_url}/arcgis/rest/jobs/{REFERENCE_JOB}")
    page.click("text=PJSON")
    assert json.loads(page.inner_text("body"))["jobId"] == REFERENCE_JOB


def test_error_page(base_url: str, page: Any) -> None:
    response = page.goto(f"{base_url}/arcgis/rest/jobs/jnope")
    assert response.status == 200
    assert page.inner_text("#code") == "404"
    assert page.inner_text("#message") == "Job not found."
    assert "jnope" in page.inner_text(".error")
    page.click("header nav >> text=jobs")
    assert REFERENCE_JOB in page.inner_text("#jobs")


def test_jobs_list_links_work(app: Flask, base_url: str, page: Any) -> None:
    ids = [start(app) for _ in range(3)]
    page.goto(f"{base_url}/arcgis/rest/jobs")
    assert page.locator("#jobs li").all_inner_texts() == [REFERENCE_JOB, *ids]
    page.click(f"text={ids[1]}")
    assert page.url == f"{base_url}/arcgis/rest/jobs/{ids[1]}"
    assert page.inner_text("#status") == "EXECUTING"


def test_trigger_form_shows_the_new_job_with_a_link(app: Flask, base_url: str, page: Any) -> None:
    page.goto(f"{base_url}/arcgis/rest")
    page.evaluate(
        """() => {
            const form = document.createElement("form");
            form.method = "POST";
            form.action = "/arcgis/rest/services/startSteps";
            form.innerHTML = '<input name="title" value="From a form">';
            document.body.appendChild(form);
            form.submit();
        }"""
    )
    page.wait_for_selector("#job-link")
    job_id = page.inner_text("#job-link")
    page.click("#job-link")
    assert page.inner_text("#job-id") == job_id
    assert "From a form" in page.inner_text("#job")


def test_dashboard(app: Flask, base_url: str, page: Any) -> None:
    job_id = start(app)
    page.goto(f"{base_url}/")
    assert page.inner_text("#health") == "ok"
    assert page.inner_text("#job-count") == "2"
    names = page.locator("#scenarios a.scenario-name").all_inner_texts()
    assert names == ["add-mission", "steps"]
    assert "EXECUTING" in page.inner_text("#jobs")
    page.click(f"#jobs >> text={job_id}")
    assert page.inner_text("#status") == "EXECUTING"
    page.go_back()
    page.click("#scenarios >> text=steps")
    assert page.inner_text("#scenario-name") == "steps"
    page.click("#raw-json")
    assert json.loads(page.inner_text("body"))["name"] == "steps"
    page.go_back()
    page.go_back()
    page.click("#control >> text=health")
    assert json.loads(page.inner_text("body"))["status"] == "ok"


def test_html_in_scenario_text_is_shown_escaped_not_run(app: Flask, base_url: str, page: Any) -> None:
    r = app.test_client().post("/__mock/scenarios", data=HOSTILE, content_type="application/yaml")
    assert r.status_code == 201, r.get_json()
    job_id = start(app, "hostile")

    page.goto(f"{base_url}/arcgis/rest/jobs/{job_id}")
    assert page.locator("#messages li .text").all_inner_texts() == [HOSTILE_MESSAGE]
    assert "<b onmouseover=alert(1)>bold</b>" in page.inner_text("#job")
    assert page.locator("#messages script, #messages img, #job b").count() == 0
    assert page.evaluate("window.__pwned") is None

    page.goto(f"{base_url}/")
    assert '<img src=x onerror="window.__pwned = 3">' in page.inner_text("#scenarios")
    assert page.evaluate("window.__pwned") is None
