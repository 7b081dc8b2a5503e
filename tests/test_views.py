"""The ArcGIS surface under the context path, through HTTP (test client, manual clock)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mockjobs import timeline
from mockjobs.clock import ManualTime
from tests.conftest import START_MS, scenario_folder
from tests.servers import Launcher

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
TRIGGER = "/arcgis/rest/services/startDemo"

DEMO = """\
name: demo
description: A short demo job.
job:
  type: demoJob
  totalSteps: 2
  customAttributes:
    title: "{params.title}"
    owner: "{username}"
trigger:
  method: POST
  path: /rest/services/startDemo
timeline:
  - {at: 0, message: Started., code: 1, status: EXECUTING}
  - {at: 10s, message: Half way., code: 2, steps: 1}
  - {at: 20s, message: "Done <b>bold</b>.", code: 3, steps: 2, status: COMPLETED}
"""

CUSTOM_RESPONSE = """\
name: custom-response
job: {type: other}
trigger:
  method: POST
  path: /rest/services/custom
  response: {jobId: "{jobId}", success: true, title: "{params.title}"}
timeline:
  - {at: 0, message: Go., status: EXECUTING}
"""

DOC_KEYS = ["jobId", "messages", "startTime", "endTime", "type", "status", "username", "customAttributes"]
JSON_FORMATS = ["json", "pjson"]


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """A scenario folder: the bundled add-mission (with the reference job) and the demo scenarios."""
    files = {"demo.yaml": DEMO, "custom-response.yaml": CUSTOM_RESPONSE}
    folder = scenario_folder(tmp_path / "scenarios", files, bundled=["add-mission.yaml"])
    return folder


@pytest.fixture
def make_app(make_app: Callable[..., Flask], scenario_dir: Path) -> Callable[..., Flask]:
    """conftest's make_app, serving the scenario folder above."""

    def make(**config: Any) -> Flask:
        return make_app(SCENARIOS=[str(scenario_dir)], **config)

    return make


def start(client: FlaskClient, scenario: str = "demo", **extra: Any) -> str:
    """Start a job through the control API; its id."""
    r = client.post("/__mock/jobs", json={"scenario": scenario, **extra})
    assert r.status_code == 201, r.get_json()
    return r.get_json()["jobId"]


def parse(r: Any, f: str) -> Any:
    """The JSON object of an answer in format f (json or pjson, maybe JSONP)."""
    text = r.get_data(as_text=True)
    if r.mimetype == "application/javascript":
        match = re.fullmatch(r"([\w$.]+)\((.*)\);", text, re.S)
        assert match, text
        text = match.group(2)
    else:
        assert r.mimetype == "application/json"
    obj = json.loads(text)
    if f == "json":
        assert text == json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    else:
        assert text == json.dumps(obj, indent=2, ensure_ascii=False)
    return obj


# --------------------------------------------------------------------------- site root


@pytest.mark.parametrize("path", ["/arcgis/rest", "/arcgis/rest/", "/arcgis/rest/info"])
@pytest.mark.parametrize("f", JSON_FORMATS)
def test_site_root_has_the_documented_keys(client: FlaskClient, path: str, f: str) -> None:
    r = client.get(f"{path}?f={f}")
    doc = parse(r, f)
    assert list(doc) == ["currentVersion", "fullVersion", "owningSystemUrl", "authInfo"]
    assert doc["currentVersion"] == 11.3
    assert doc["fullVersion"] == "11.3.0"
    assert doc["owningSystemUrl"] == "http://localhost/arcgis"
    assert doc["authInfo"] == {"isTokenBasedSecurity": False}


def test_site_root_values_come_from_the_config(make_app: Callable[..., Flask]) -> None:
    app = make_app(CURRENT_VERSION=10.8, FULL_VERSION="10.8.1", OWNING_SYSTEM_URL="https://gis.example/portal")
    doc = app.test_client().get("/arcgis/rest/info?f=json").get_json()
    assert doc["currentVersion"] == 10.8
    assert doc["fullVersion"] == "10.8.1"
    assert doc["owningSystemUrl"] == "https://gis.example/portal"


def test_site_root_html_is_a_page(client: FlaskClient) -> None:
    r = client.get("/arcgis/rest")
    assert r.mimetype == "text/html"
    assert "11.3.0" in r.get_data(as_text=True)


def test_context_path_is_configurable(make_app: Callable[..., Flask]) -> None:
    client = make_app(CONTEXT="/portal/server").test_client()
    assert client.get(f"/portal/server/rest/jobs/{REFERENCE_JOB}?f=json").get_json()["jobId"] == REFERENCE_JOB
    assert client.get("/arcgis/rest?f=json").status_code == 404  # outside the context: plain 404


# --------------------------------------------------------------------------- jobs list


def test_jobs_list_is_in_creation_order(client: FlaskClient) -> None:
    ids = [start(client, jobId=job_id) for job_id in ("jz", "ja", "jm")]
    listed = client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"]
    assert REFERENCE_JOB in listed
    assert listed[-3:] == ids


def test_jobs_list_html_links_every_job(client: FlaskClient) -> None:
    job_id = start(client)
    html = client.get("/arcgis/rest/jobs").get_data(as_text=True)
    assert f'href="/arcgis/rest/jobs/{job_id}"' in html
    assert f'href="/arcgis/rest/jobs/{REFERENCE_JOB}"' in html


# --------------------------------------------------------------------------- one job


@pytest.mark.parametrize(("method", "where"), [("GET", "query"), ("POST", "query"), ("POST", "form")])
@pytest.mark.parametrize("f", JSON_FORMATS)
def test_job_document_in_each_format_via_query_or_form(client: FlaskClient, method: str, where: str, f: str) -> None:
    url = f"/arcgis/rest/jobs/{REFERENCE_JOB}"
    r = client.open(f"{url}?f={f}", method=method) if where == "query" else client.post(url, data={"f": f})
    doc = parse(r, f)
    assert doc["jobId"] == REFERENCE_JOB
    assert doc["status"] == "COMPLETED"


def test_json_and_pjson_are_the_same_object(client: FlaskClient) -> None:
    url = f"/arcgis/rest/jobs/{REFERENCE_JOB}"
    assert parse(client.get(f"{url}?f=json"), "json") == parse(client.get(f"{url}?f=pjson"), "pjson")


@pytest.mark.parametrize("query", ["", "?f=html", "?f=HTML", "?f="])
def test_html_is_the_default_format(client: FlaskClient, query: str) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}{query}")
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert REFERENCE_JOB in html
    assert "COMPLETED" in html
    assert "Finished creating mission d942d2bdb70c4104bcd1a76d4cf8a6b7." in html


def test_job_document_keys_come_in_the_documented_order(client: FlaskClient) -> None:
    job_id = start(client, params={"title": "T"})
    doc = client.get(f"/arcgis/rest/jobs/{job_id}?f=json").get_json()
    assert list(doc) == DOC_KEYS
    assert list(doc["customAttributes"]) == [
        "stepsCompleted",
        "isCancelled",
        "title",
        "owner",
        "messageCodes",
        "totalSteps",
    ]
    assert doc["customAttributes"]["title"] == "T"
    assert doc["customAttributes"]["owner"] == "admin"


def test_reference_job_matches_the_facts_key_order(client: FlaskClient) -> None:
    doc = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json").get_json()
    assert list(doc) == DOC_KEYS
    assert list(doc["customAttributes"]) == ["stepsCompleted", "isCancelled", "missionId", "messageCodes", "totalSteps"]
    assert len(doc["messages"]) == len(doc["customAttributes"]["messageCodes"]) == 11


def test_job_follows_the_clock_and_end_time_is_zero_until_terminal(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    url = f"/arcgis/rest/jobs/{job_id}?f=json"
    doc = client.get(url).get_json()
    assert (doc["status"], doc["endTime"], doc["messages"]) == ("EXECUTING", 0, ["Started."])
    clock.advance(10_000)
    doc = client.get(url).get_json()
    assert (doc["status"], doc["endTime"], doc["customAttributes"]["stepsCompleted"]) == ("EXECUTING", 0, 1)
    assert doc["customAttributes"]["messageCodes"] == [1, 2]
    clock.advance(10_000)
    doc = client.get(url).get_json()
    assert doc["status"] == "COMPLETED"
    assert doc["startTime"] == START_MS
    assert doc["endTime"] == START_MS + 20_000
    assert doc["messages"][-1] == "Done <b>bold</b>."


def test_job_html_escapes_messages_and_shows_steps(client: FlaskClient, clock: ManualTime) -> None:
    job_id = start(client)
    clock.advance(20_000)
    html = client.get(f"/arcgis/rest/jobs/{job_id}").get_data(as_text=True)
    assert "Done &lt;b&gt;bold&lt;/b&gt;." in html
    assert "<b>bold</b>" not in html
    assert "2 of 2" in html


# --------------------------------------------------------------------------- JSONP


@pytest.mark.parametrize("f", JSON_FORMATS)
@pytest.mark.parametrize("callback", ["cb", "jQuery_123", "ns.handle", "$cb"])
def test_callback_wraps_json_and_pjson(client: FlaskClient, f: str, callback: str) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f={f}&callback={callback}")
    assert r.mimetype == "application/javascript"
    assert r.get_data(as_text=True).startswith(callback + "(")
    assert parse(r, f)["jobId"] == REFERENCE_JOB


def test_callback_is_ignored_for_html(client: FlaskClient) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=html&callback=cb")
    assert r.mimetype == "text/html"
    assert not r.get_data(as_text=True).startswith("cb(")


@pytest.mark.parametrize(
    "callback", ["alert(1)", "a;b", "<script>", "x y", "1abc", "a..b", "a-b", "ns.", "x" * 200, "a\u2028b"]
)
def test_unsafe_callback_names_are_refused(client: FlaskClient, callback: str) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}", query_string={"f": "json", "callback": callback})
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    err = r.get_json()["error"]
    assert err["code"] == 400
    assert "callback" in err["message"].lower()
    body = r.get_data(as_text=True)
    assert body.startswith('{"error"')
    assert "<script>" not in body


def test_errors_are_wrapped_in_the_callback_too(client: FlaskClient) -> None:
    r = client.get("/arcgis/rest/jobs/nope?f=json&callback=cb")
    assert r.mimetype == "application/javascript"
    assert parse(r, "json")["error"]["code"] == 404


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("f", JSON_FORMATS)
def test_unknown_job_is_a_404_envelope_with_http_200(client: FlaskClient, f: str) -> None:
    r = client.get(f"/arcgis/rest/jobs/nope?f={f}")
    assert r.status_code == 200
    doc = parse(r, f)
    assert list(doc) == ["error"]
    assert list(doc["error"]) == ["code", "message", "details"]
    assert doc["error"]["code"] == 404
    assert doc["error"]["message"] == "Job not found."
    assert any("nope" in d for d in doc["error"]["details"])


def test_unknown_job_in_html_is_an_error_page(client: FlaskClient) -> None:
    r = client.get("/arcgis/rest/jobs/nope")
    assert (r.status_code, r.mimetype) == (200, "text/html")
    html = r.get_data(as_text=True)
    assert '<span id="code">404</span>' in html
    assert "Job not found." in html


@pytest.mark.parametrize(
    "path", ["/arcgis", "/arcgis/", "/arcgis/nothing", "/arcgis/rest/jobs/x/y", "/arcgis/rest/services/nope"]
)
def test_unknown_paths_under_the_context_are_404_envelopes(client: FlaskClient, path: str) -> None:
    r = client.get(f"{path}?f=json")
    assert r.status_code == 200
    assert r.get_json()["error"]["code"] == 404


@pytest.mark.parametrize("f", ["xml", "kmz", "JSONP", "html5"])
def test_unsupported_f_is_a_400_written_as_json(client: FlaskClient, f: str) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f={f}")
    assert (r.status_code, r.mimetype) == (200, "application/json")
    err = r.get_json()["error"]
    assert err["code"] == 400
    assert f in err["message"]
    text = err["message"] + " ".join(err["details"])
    assert all(name in text for name in ("html", "json", "pjson"))


def test_unsupported_f_on_a_trigger_starts_no_job(client: FlaskClient) -> None:
    before = client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"]
    r = client.post(TRIGGER, data={"f": "xml"})
    assert r.get_json()["error"]["code"] == 400
    assert client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"] == before


GET_TRIGGER = "/arcgis/rest/services/startByGet"
BY_GET = """\
name: by-get
job: {type: other}
trigger: {method: GET, path: /rest/services/startByGet}
timeline:
  - {at: 0, message: Go., status: EXECUTING}
"""
READ = {"GET", "HEAD", "POST", "OPTIONS"}  # a document: GET (and so HEAD) or POST
# (a wrong method, a path of each kind under the context, the Allow that path answers with)
WRONG_METHODS = [
    ("PATCH", "/arcgis/rest", READ),
    ("PATCH", "/arcgis/rest/info", READ),
    ("PUT", "/arcgis/rest/jobs", READ),
    ("DELETE", f"/arcgis/rest/jobs/{REFERENCE_JOB}", READ),
    ("DELETE", f"/arcgis/rest/jobs/{REFERENCE_JOB}/", READ),
    ("DELETE", "/arcgis/rest/jobs/no-such-job", READ),  # a job URL takes GET and POST whatever the id
    ("DELETE", "/arcgis/rest/services", READ),
    ("GET", TRIGGER, {"POST", "OPTIONS"}),
    ("HEAD", TRIGGER, {"POST", "OPTIONS"}),
    ("PUT", TRIGGER, {"POST", "OPTIONS"}),
    ("POST", GET_TRIGGER, {"GET", "OPTIONS"}),
    ("HEAD", GET_TRIGGER, {"GET", "OPTIONS"}),  # HEAD would start a job too: refused
    ("TRACE", "/arcgis/rest/jobs", READ),  # a method no route names: the same answer
    ("TRACE", TRIGGER, {"POST", "OPTIONS"}),
]


def allow(r: Any) -> set[str]:
    """The methods an answer's Allow header names."""
    assert "Allow" in r.headers, dict(r.headers)
    return {m.strip() for m in r.headers["Allow"].split(",")}


@pytest.fixture
def by_get(scenario_dir: Path) -> Path:
    """The scenario folder with a scenario whose trigger is a GET."""
    (scenario_dir / "by-get.yaml").write_text(BY_GET)
    return scenario_dir


@pytest.mark.parametrize("http_errors", [False, True])
@pytest.mark.parametrize(("method", "path", "allowed"), WRONG_METHODS)
def test_wrong_method_is_a_405_envelope_with_allow(
    make_app: Callable[..., Flask], by_get: Path, http_errors: bool, method: str, path: str, allowed: set[str]
) -> None:
    client = make_app(HTTP_ERRORS=http_errors).test_client()
    before = client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"]
    r = client.open(f"{path}?f=json", method=method)
    assert r.status_code == (405 if http_errors else 200)
    assert allow(r) == allowed
    if method != "HEAD":
        err = r.get_json()["error"]
        assert err["code"] == 405
        usable = " or ".join(sorted(allowed - {"HEAD", "OPTIONS"}))
        assert err["details"] == [f"{method} is not supported for {path}; use {usable}."]
    assert client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"] == before  # no job started
    journaled = client.get("/__mock/requests", query_string={"method": method, "path": path}).get_json()["requests"]
    assert [(e["http"], e["error"]) for e in journaled] == [(r.status_code, 405)]


@pytest.mark.parametrize("http_errors", [False, True])
def test_a_405_page_carries_allow_too(make_app: Callable[..., Flask], http_errors: bool) -> None:
    r = make_app(HTTP_ERRORS=http_errors).test_client().get(f"{TRIGGER}?f=html")
    assert (r.status_code, r.mimetype) == (405 if http_errors else 200, "text/html")
    assert '<span id="code">405</span>' in r.get_data(as_text=True)
    assert allow(r) == {"POST", "OPTIONS"}


@pytest.mark.parametrize(("method", "path", "allowed"), WRONG_METHODS)
def test_options_names_the_same_methods_as_a_405(
    make_app: Callable[..., Flask], by_get: Path, method: str, path: str, allowed: set[str]
) -> None:
    r = make_app().test_client().options(f"{path}?f=json")  # no Access-Control-Request-Method: not a CORS preflight
    assert (r.status_code, r.data) == (200, b"")
    assert allow(r) == allowed


@pytest.mark.parametrize("http_errors", [False, True])
@pytest.mark.parametrize("method", ["PUT", "OPTIONS", "TRACE"])
def test_a_path_nothing_answers_is_404_without_allow(
    make_app: Callable[..., Flask], http_errors: bool, method: str
) -> None:
    r = make_app(HTTP_ERRORS=http_errors).test_client().open("/arcgis/rest/nothing?f=json", method=method)
    assert r.status_code == (404 if http_errors else 200)
    assert r.get_json()["error"]["code"] == 404
    assert "Allow" not in r.headers


@pytest.mark.parametrize("http_errors", [False, True])
def test_allow_over_a_real_socket(launch: Launcher, http_errors: bool) -> None:
    srv = launch.serve(*(["--http-errors"] if http_errors else []))  # real gunicorn, the bundled scenarios
    trigger = "/arcgis/rest/services/createMission"
    before = srv.get("/arcgis/rest/jobs?f=json").json()["asyncJobs"]
    for method, path, allowed in [
        ("DELETE", f"/arcgis/rest/jobs/{REFERENCE_JOB}", READ),
        ("GET", trigger, {"POST", "OPTIONS"}),
        ("TRACE", "/arcgis/rest/info", READ),
    ]:
        r = srv.request(method, f"{path}?f=json")
        assert r.status_code == (405 if http_errors else 200), (method, path)
        assert r.json()["error"]["code"] == 405
        assert allow(r) == allowed, (method, path)
    plain = srv.request("OPTIONS", trigger)
    assert (plain.status_code, plain.content, allow(plain)) == (200, b"", {"POST", "OPTIONS"})
    preflight = srv.request(
        "OPTIONS", trigger, headers={"Origin": "http://app.test", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204 and "Allow" not in preflight.headers  # CORS answers preflights as before
    assert srv.get("/arcgis/rest/jobs?f=json").json()["asyncJobs"] == before  # no job started


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/arcgis/rest/jobs/nope?f=json", 404),
        ("GET", "/arcgis/nothing?f=json", 404),
        ("GET", "/arcgis/rest/jobs?f=xml", 400),
        ("DELETE", "/arcgis/rest/jobs?f=json", 405),
        ("GET", "/arcgis/rest/jobs/nope?f=html", 404),
    ],
)
def test_http_errors_option_answers_real_statuses(
    make_app: Callable[..., Flask], method: str, path: str, status: int
) -> None:
    client = make_app(HTTP_ERRORS=True).test_client()
    r = client.open(path, method=method)
    assert r.status_code == status
    if r.mimetype == "application/json":
        assert r.get_json()["error"]["code"] == status
    else:
        assert f'<span id="code">{status}</span>' in r.get_data(as_text=True)


def test_http_errors_option_keeps_successes_at_200(make_app: Callable[..., Flask]) -> None:
    client = make_app(HTTP_ERRORS=True).test_client()
    assert client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json").status_code == 200


# --------------------------------------------------------------------------- injected failures


@pytest.fixture
def broken_render(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make rendering a job document blow up."""

    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom in render")

    monkeypatch.setattr(timeline, "render", explode)


def _no_traceback(text: str) -> None:
    """Assert text carries no Python traceback."""
    assert "Traceback" not in text
    assert 'File "' not in text


@pytest.mark.usefixtures("broken_render")
@pytest.mark.parametrize("f", JSON_FORMATS)
def test_a_failure_answers_the_envelope_not_a_traceback(client: FlaskClient, f: str) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f={f}")
    assert r.status_code == 200
    _no_traceback(r.get_data(as_text=True))
    assert parse(r, f)["error"]["code"] == 500


@pytest.mark.usefixtures("broken_render")
def test_a_failure_in_html_is_an_error_page(client: FlaskClient) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}")
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    _no_traceback(html)
    assert '<span id="code">500</span>' in html


@pytest.mark.usefixtures("broken_render")
def test_a_failure_with_http_errors_is_a_real_500(make_app: Callable[..., Flask]) -> None:
    r = make_app(HTTP_ERRORS=True).test_client().get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json")
    assert r.status_code == 500
    assert r.get_json()["error"]["code"] == 500


def test_a_failure_in_the_control_api_is_a_json_error(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode() -> Any:
        raise RuntimeError("boom in health")

    monkeypatch.setattr(app.extensions["mockjobs"], "health", explode)
    r = app.test_client().get("/__mock/health")
    assert (r.status_code, r.mimetype) == (500, "application/json")
    assert "RuntimeError" in r.get_json()["error"]
    _no_traceback(r.get_data(as_text=True))


# --------------------------------------------------------------------------- triggers


@pytest.mark.parametrize("f", JSON_FORMATS)
def test_trigger_answers_the_new_job_id(client: FlaskClient, f: str) -> None:
    r = client.post(TRIGGER, data={"f": f, "title": "Mission A", "async": "true"})
    doc = parse(r, f)
    assert list(doc) == ["jobId"]
    job = client.get(f"/arcgis/rest/jobs/{doc['jobId']}?f=json").get_json()
    assert job["status"] == "EXECUTING"
    assert job["type"] == "demoJob"
    assert job["customAttributes"]["title"] == "Mission A"


def test_trigger_answers_jsonp(client: FlaskClient) -> None:
    r = client.post(f"{TRIGGER}?f=json&callback=started", data={"title": "x"})
    assert r.get_data(as_text=True).startswith("started(")
    assert parse(r, "json")["jobId"].startswith("j")


def test_trigger_html_shows_the_new_job_with_a_link(client: FlaskClient) -> None:
    r = client.post(TRIGGER, data={"title": "x"})
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    match = re.search(r'<a [^>]*id="job-link" href="([^"]+)">([^<]+)</a>', html)
    assert match, html
    href, job_id = match.groups()
    assert href == f"/arcgis/rest/jobs/{job_id}"
    assert job_id in client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"]
    assert client.get(href).status_code == 200


def test_trigger_takes_json_bodies_and_query_parameters(client: FlaskClient) -> None:
    r = client.post(f"{TRIGGER}?f=json", json={"title": "From JSON"})
    job = client.get(f"/arcgis/rest/jobs/{r.get_json()['jobId']}?f=json").get_json()
    assert job["customAttributes"]["title"] == "From JSON"


def test_trigger_response_template(client: FlaskClient) -> None:
    r = client.post("/arcgis/rest/services/custom", data={"f": "json", "title": "T"})
    doc = r.get_json()
    assert list(doc) == ["jobId", "success", "title"]
    assert (doc["success"], doc["title"]) == (True, "T")
    assert doc["jobId"] in client.get("/arcgis/rest/jobs?f=json").get_json()["asyncJobs"]


def test_trigger_is_journalled_as_a_trigger(client: FlaskClient) -> None:
    job_id = client.post(TRIGGER, data={"f": "json"}).get_json()["jobId"]
    entries = client.get("/__mock/requests?kind=trigger").get_json()["requests"]
    assert [e["jobId"] for e in entries] == [job_id]


def test_html_jobs_list_shows_the_newest_thousand_json_lists_all(app) -> None:
    service = app.extensions["mockjobs"]
    for _ in range(1005):
        service.create("add-mission")
    client = app.test_client()
    ids = client.get("/arcgis/rest/jobs?f=json").json["asyncJobs"]
    assert len(ids) == 1006
    page = client.get("/arcgis/rest/jobs").data.decode()
    assert "The newest 1000 of 1006 jobs" in page
    assert f'href="/arcgis/rest/jobs/{ids[-1]}"' in page
    assert ids[5] not in page and ids[6] in page
