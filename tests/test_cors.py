"""CORS as ArcGIS Server answers it: every answer under CTX, preflights before tokens, none on /__mock."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from mockjobs.cors import parse_origins
from mockjobs.errors import MockjobsError
from tests.servers import Launcher

JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
ORIGIN = "http://app.example:3000"


def _cors(r) -> dict[str, str]:
    return {k: v for k, v in r.headers.items() if k.lower().startswith("access-control-") or k == "Vary"}


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", f"/arcgis/rest/jobs/{JOB}?f=json", None),  # fast path
        ("GET", f"/arcgis/rest/jobs/{JOB}", None),  # html, Flask
        ("POST", f"/arcgis/rest/jobs/{JOB}", {"f": "json"}),  # form POST poll
        ("GET", "/arcgis/rest/jobs/nope?f=json", None),  # error envelope
        ("GET", "/arcgis/rest/nowhere", None),  # unknown path
        ("GET", "/arcgis/rest/info?f=json", None),
        ("POST", "/arcgis/rest/services/createMission", {"f": "json", "async": "true", "title": "t"}),  # trigger
    ],
)
def test_every_answer_under_ctx_echoes_the_origin(client: FlaskClient, method: str, path: str, data) -> None:
    r = client.open(path, method=method, data=data, headers={"Origin": ORIGIN})
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Vary"] == "Origin"
    assert "X-Mockjobs-Worker" in r.headers["Access-Control-Expose-Headers"]
    plain = client.open(path, method=method, data=data)
    assert _cors(plain) == {}  # no Origin, no CORS headers


def test_generate_token_and_token_errors_carry_cors(make_app) -> None:
    client = make_app(AUTH=True).test_client()
    headers = {"Origin": ORIGIN}
    ok = client.post(
        "/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "f": "json"}, headers=headers
    )
    assert ok.json["token"] and ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    denied = client.get(f"/arcgis/rest/jobs/{JOB}?f=json", headers=headers)
    assert denied.json["error"]["code"] == 499
    assert denied.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("auth", [False, True])
def test_a_preflight_is_204_before_any_token_check(make_app, auth: bool) -> None:
    client = make_app(AUTH=auth).test_client()
    r = client.options(
        f"/arcgis/rest/jobs/{JOB}",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-esri-authorization, content-type",
        },
    )
    assert r.status_code == 204
    assert r.data == b""
    assert _cors(r) == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Access-Control-Allow-Credentials": "true",
        "Access-Control-Allow-Methods": "GET, POST",
        "Access-Control-Allow-Headers": "x-esri-authorization, content-type",
        "Access-Control-Max-Age": "7200",
        "Vary": "Origin",
    }
    assert "Allow" not in r.headers  # a preflight is CORS's, not the views'
    plain_options = client.options(f"/arcgis/rest/jobs/{JOB}")  # not a preflight: the views answer it
    assert "Access-Control-Allow-Methods" not in plain_options.headers


def test_cors_origins_restricts(make_app) -> None:
    client = make_app(CORS_ORIGINS="https://ok.example, http://localhost:8080/").test_client()
    url = f"/arcgis/rest/jobs/{JOB}?f=json"
    assert client.get(url, headers={"Origin": "https://ok.example"}).headers["Access-Control-Allow-Origin"] == (
        "https://ok.example"
    )
    assert "Access-Control-Allow-Origin" in client.get(url, headers={"Origin": "http://localhost:8080"}).headers
    blocked = client.get(url, headers={"Origin": "https://evil.example"})
    assert blocked.json["jobId"] == JOB and _cors(blocked) == {}
    pre = client.options(url, headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 204 and _cors(pre) == {}


def test_cors_origins_from_the_environment(make_app, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKJOBS_CORS_ORIGINS", "https://ok.example")
    client = make_app().test_client()
    url = f"/arcgis/rest/jobs/{JOB}?f=json"
    assert "Access-Control-Allow-Origin" in client.get(url, headers={"Origin": "https://ok.example"}).headers
    assert "Access-Control-Allow-Origin" not in client.get(url, headers={"Origin": "https://no.example"}).headers


def test_a_bad_origin_setting_is_a_clear_error(make_app) -> None:
    with pytest.raises(MockjobsError, match="'ftp://x' is not an origin"):
        make_app(CORS_ORIGINS="ftp://x")
    assert parse_origins("*") is None and parse_origins(["HTTP://A.example"]) == frozenset({"http://a.example"})


@pytest.mark.parametrize("path", ["/__mock/health", "/__mock/jobs", "/"])
def test_the_control_api_and_dashboard_send_no_cors(client: FlaskClient, path: str) -> None:
    r = client.get(path, headers={"Origin": ORIGIN})
    assert _cors(r) == {}
    pre = client.options(path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
    assert _cors(pre) == {}


@pytest.mark.slow
def test_serve_cors_origins_under_gunicorn(launch: Launcher) -> None:
    srv = launch.serve("--cors-origins", ORIGIN, "--auth", "--workers", "2")
    url = f"/arcgis/rest/jobs/{JOB}"
    pre = srv.request(
        "OPTIONS",
        url,
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-esri-authorization",
        },
    )
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Headers"] == "x-esri-authorization"
    token = srv.post(
        "/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "f": "json"}
    ).json()["token"]
    for _ in range(4):  # both workers, fast path
        r = srv.get(url, params={"f": "json"}, headers={"Origin": ORIGIN, "X-Esri-Authorization": f"Bearer {token}"})
        assert r.json()["jobId"] == JOB and r.headers["Access-Control-Allow-Origin"] == ORIGIN
    other = srv.get(url, params={"f": "json", "token": token}, headers={"Origin": "http://other.example"})
    assert other.json()["jobId"] == JOB and "Access-Control-Allow-Origin" not in other.headers
    health = srv.get("/__mock/health", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in health.headers


def test_a_preflight_of_a_trigger_starts_nothing_and_is_not_journaled(client: FlaskClient) -> None:
    before = client.get("/arcgis/rest/jobs?f=json").json["asyncJobs"]
    client.delete("/__mock/requests")
    r = client.options(
        "/arcgis/rest/services/createMission",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert r.status_code == 204 and r.headers["Access-Control-Allow-Methods"] == "GET, POST"
    assert client.get("/__mock/requests").json["requests"] == []
    assert client.get("/arcgis/rest/jobs?f=json").json["asyncJobs"] == before
