"""SPEC section 10: no web page can drive the control API; beyond loopback it needs a token."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mockjobs.errors import MockjobsError
from mockjobs.exposure import TOKEN_COOKIE, is_loopback
from tests.servers import Launcher, wait_until

TOKEN = "s3cret-control-token"


# --------------------------------------------------------------------------- loopback


@pytest.mark.parametrize(
    ("path", "data", "content_type"),
    [
        ("/__mock/reset", None, None),  # no body at all: what a cross-site fetch(..., {method: "POST"}) sends
        ("/__mock/scenarios", "job: {type: x}\ntimeline: [{at: 0}]\n", "text/plain"),  # a "simple" request
        ("/__mock/jobs", "scenario=add-mission", "application/x-www-form-urlencoded"),  # a cross-site form
        ("/__mock/clock", "--b\r\n--b--\r\n", "multipart/form-data; boundary=b"),
    ],
)
def test_control_writes_that_a_page_could_send_are_refused(client, path: str, data, content_type) -> None:
    before = client.get("/__mock/jobs").json["total"]
    r = client.post(path, data=data, content_type=content_type)
    assert r.status_code == 415
    assert r.json["error"].startswith("control-API writes are JSON: send Content-Type: application/json")
    assert client.get("/__mock/jobs").json["total"] == before
    assert client.get("/__mock/scenarios").json["scenarios"][-1]["name"] != "scenario"


def test_json_writes_and_yaml_scenarios_are_served(client) -> None:
    assert client.post("/__mock/reset", json={}).json == {"reset": True}
    r = client.post(
        "/__mock/scenarios", data="name: y\njob: {type: x}\ntimeline: [{at: 0}]\n", content_type="text/yaml"
    )
    assert r.status_code == 201
    assert client.delete("/__mock/requests").status_code == 200  # DELETE needs no body


@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "127.0.0.1.nip.io", "10.0.0.5"])
def test_a_foreign_host_header_is_refused_on_loopback(client, host: str) -> None:
    for method, path in (("GET", "/__mock/jobs"), ("GET", "/"), ("POST", "/__mock/reset")):
        r = client.open(path, method=method, json={} if method == "POST" else None, headers={"Host": host})
        assert r.status_code == 403, (method, path)
        assert "DNS rebinding" in r.json["error"]
    assert client.get("/arcgis/rest/info?f=json", headers={"Host": host}).status_code == 200  # the ArcGIS surface


@pytest.mark.parametrize("host", ["localhost", "localhost:5000", "127.0.0.1:80", "[::1]:5000", "app.localhost"])
def test_loopback_host_headers_are_served(client, host: str) -> None:
    assert client.get("/__mock/jobs", headers={"Host": host}).status_code == 200


def test_the_bound_address_is_a_good_host(make_app) -> None:
    client = make_app(HOST="127.0.0.2").test_client()
    assert client.get("/__mock/jobs", headers={"Host": "127.0.0.2:8000"}).status_code == 200
    assert is_loopback("127.0.0.2") and is_loopback("::1") and not is_loopback("0.0.0.0")


# --------------------------------------------------------------------------- beyond loopback


def test_bound_elsewhere_without_a_token_does_not_start(make_app) -> None:
    with pytest.raises(MockjobsError, match="give --control-token TOKEN"):
        make_app(HOST="0.0.0.0")
    r = subprocess.run(
        [sys.executable, "-m", "mockjobs.cli", "serve", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.startswith("mockjobs: bound to 0.0.0.0, anyone who reaches it could drive the control API")
    assert len(r.stderr.splitlines()) == 1


def test_a_token_guards_the_control_api_and_dashboard(make_app) -> None:
    client = make_app(HOST="0.0.0.0", CONTROL_TOKEN=TOKEN).test_client()
    host = {"Host": "mockhost.example:5000"}
    for method, path in (
        ("GET", "/__mock/jobs"),
        ("POST", "/__mock/jobs"),
        ("GET", "/"),
        ("DELETE", "/__mock/requests"),
    ):
        r = client.open(
            path, method=method, json={"scenario": "add-mission"} if method == "POST" else None, headers=host
        )
        assert r.status_code == 401, (method, path)
        assert r.json["tokenRequired"] is True and "Authorization: Bearer" in r.json["error"]
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/__mock/jobs", headers={**host, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    bearer = {**host, "Authorization": f"Bearer {TOKEN}"}
    assert client.get("/__mock/jobs", headers=bearer).status_code == 200
    assert client.post("/__mock/jobs", json={"scenario": "add-mission"}, headers=bearer).status_code == 201
    assert client.get("/", headers=bearer).status_code == 200
    assert client.get("/arcgis/rest/info?f=json", headers=host).status_code == 200  # the ArcGIS surface is open
    client.set_cookie(TOKEN_COOKIE, TOKEN, domain="mockhost.example")
    assert client.get("/", headers=host).status_code == 200  # the dashboard page may read the cookie ...
    assert client.get("/__mock/jobs", headers=host).status_code == 401  # ... the control API never
    assert client.post("/__mock/reset", json={}, headers=host).status_code == 401


def test_control_open_serves_without_a_token(make_app) -> None:
    client = make_app(HOST="0.0.0.0", CONTROL_OPEN=True).test_client()
    assert client.get("/__mock/jobs", headers={"Host": "mockhost.example"}).status_code == 200
    assert client.post("/__mock/reset", headers={"Host": "mockhost.example"}).status_code == 415  # still JSON only


def test_the_token_comes_from_the_environment(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKJOBS_CONTROL_TOKEN", TOKEN)
    monkeypatch.setenv("MOCKJOBS_HOST", "0.0.0.0")
    client = make_app().test_client()
    assert client.get("/__mock/jobs").status_code == 401
    assert client.get("/__mock/jobs", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.slow
def test_serve_with_a_control_token(launch: Launcher) -> None:
    srv = launch.serve("--control-token", TOKEN, ready=False)
    srv.url = srv.wait_for(r"serving on (http://\S+)").group(1)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    wait_until(lambda: srv.get("/__mock/health", headers=auth).status_code == 200, timeout=60, what="health")
    refused = srv.post("/__mock/jobs", json={"scenario": "add-mission"})
    assert refused.status_code == 401 and refused.json()["tokenRequired"] is True
    assert srv.post("/__mock/jobs", json={"scenario": "add-mission"}, headers=auth).status_code == 201
    assert srv.get("/__mock/jobs", headers=auth).json()["total"] >= 1


def test_a_browser_without_the_token_gets_a_form_that_keeps_it(make_app) -> None:
    client = make_app(HOST="0.0.0.0", CONTROL_TOKEN=TOKEN).test_client()
    browser = {"Host": "mockhost.example:5000", "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    for path in ("/", "/scenarios/add-mission"):
        page = client.get(path, headers=browser)
        assert page.status_code == 401 and page.mimetype == "text/html", path
        assert page.headers["WWW-Authenticate"].startswith("Bearer")
        text = page.get_data(as_text=True)
        assert 'id="control-token"' in text and f"{TOKEN_COOKIE}=" in text and TOKEN not in text
    client.set_cookie(TOKEN_COOKIE, TOKEN, domain="mockhost.example")
    assert client.get("/scenarios/add-mission", headers=browser).status_code == 200
    assert client.get("/static/mockjobs.css", headers={"Host": "mockhost.example:5000"}).status_code == 200
