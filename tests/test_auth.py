"""Token security (--auth): generateToken, then a token on every request under the context."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.servers import Launcher

JOB = "j522676d9-983a-48e2-a51c-5066966160f0"
JOB_URL = f"/arcgis/rest/jobs/{JOB}"


@pytest.fixture
def secured(make_app) -> FlaskClient:
    """A client of an app with token security on, user alice:s3cret."""
    return make_app(AUTH=True, USER="alice:s3cret").test_client()


def token(client: FlaskClient, minutes: int = 60) -> dict:
    """A token for alice."""
    r = client.post(
        "/arcgis/tokens/generateToken",
        data={"username": "alice", "password": "s3cret", "expiration": str(minutes), "f": "json", "client": "referer"},
    )
    return r.json


def test_site_root_stays_open_and_announces_token_security(secured: FlaskClient) -> None:
    for path in ("/arcgis/rest?f=json", "/arcgis/rest/info?f=json"):
        doc = secured.get(path).json
        assert doc["authInfo"] == {
            "isTokenBasedSecurity": True,
            "tokenServicesUrl": "http://localhost/arcgis/tokens/generateToken",
        }


def test_generate_token_answers_token_expires_ssl_on_the_mock_clock(secured: FlaskClient, clock) -> None:
    doc = token(secured, minutes=5)
    assert list(doc) == ["token", "expires", "ssl"]
    assert doc["expires"] == clock.now_ms() + 5 * 60_000
    assert doc["ssl"] is False


def test_expires_is_real_time_while_the_life_runs_on_the_mock_clock(secured: FlaskClient, clock) -> None:
    set_2020 = secured.post("/__mock/clock", json={"set": 1_577_836_800_000, "freeze": True})  # 2020-01-01
    assert set_2020.status_code == 200
    doc = token(secured, minutes=5)
    assert doc["expires"] == clock.now_ms() + 5 * 60_000  # the client's clock, not 2020
    clock.advance(60 * 60_000)  # real time moves on; the frozen mock clock does not
    assert secured.get(JOB_URL, query_string={"f": "json", "token": doc["token"]}).json["jobId"] == JOB
    secured.post("/__mock/clock", json={"advance": "4m59s"})
    assert secured.get(JOB_URL, query_string={"f": "json", "token": doc["token"]}).json["jobId"] == JOB
    secured.post("/__mock/clock", json={"advance": "1s"})
    expired = secured.get(JOB_URL, query_string={"f": "json", "token": doc["token"]}).json
    assert expired["error"] == {"code": 498, "message": "Invalid Token", "details": ["Token has expired."]}


@pytest.mark.parametrize("http_errors", [False, True])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "TRACE"])
def test_generate_token_is_post_only(make_app, http_errors: bool, method: str) -> None:
    secured = make_app(AUTH=True, USER="alice:s3cret", HTTP_ERRORS=http_errors).test_client()
    r = secured.open(
        "/arcgis/tokens/generateToken",
        method=method,
        query_string={"username": "alice", "password": "s3cret", "f": "json"},
    )  # no token needed to be told so: generateToken stays open by any method
    assert r.status_code == (405 if http_errors else 200)
    assert r.json["error"]["code"] == 405
    assert r.json["error"]["details"] == [f"{method} is not supported for /arcgis/tokens/generateToken; use POST."]
    assert "token" not in r.json
    assert set(r.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


def test_options_of_generate_token_names_post(secured: FlaskClient) -> None:
    r = secured.options("/arcgis/tokens/generateToken")
    assert (r.status_code, r.data) == (200, b"")
    assert set(r.headers["Allow"].split(", ")) == {"POST", "OPTIONS"}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "OPTIONS"])
def test_generate_token_is_404_without_token_security(client: FlaskClient, method: str) -> None:
    r = client.open("/arcgis/tokens/generateToken", method=method, query_string={"f": "json"})
    assert r.json["error"]["code"] == 404
    assert "Allow" not in r.headers


def test_a_wrong_method_at_the_open_site_root_needs_no_token(secured: FlaskClient) -> None:
    r = secured.put("/arcgis/rest/info", query_string={"f": "json"})
    assert r.json["error"]["code"] == 405
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    denied = secured.delete(JOB_URL, query_string={"f": "json"})  # elsewhere the token comes first
    assert denied.json["error"]["code"] == 499 and "Allow" not in denied.headers


def test_wrong_password_is_refused(secured: FlaskClient) -> None:
    r = secured.post("/arcgis/tokens/generateToken", data={"username": "alice", "password": "no", "f": "json"})
    assert r.status_code == 200
    assert r.json["error"]["code"] == 400
    assert r.json["error"]["details"] == ["Invalid username or password."]


@pytest.mark.parametrize("path", [JOB_URL, "/arcgis/rest/jobs", "/arcgis/rest/nothing-here"])
def test_missing_token_is_499_token_required(secured: FlaskClient, path: str) -> None:
    r = secured.get(path, query_string={"f": "json"})
    assert r.status_code == 200
    assert r.json == {"error": {"code": 499, "message": "Token Required", "details": []}}


@pytest.mark.parametrize(
    "how",
    ["param", "X-Esri-Authorization", "Authorization"],
)
def test_a_token_opens_the_job_every_way_clients_send_it(secured: FlaskClient, how: str) -> None:
    t = token(secured)["token"]
    if how == "param":
        r = secured.get(JOB_URL, query_string={"f": "json", "token": t})
    else:
        r = secured.get(JOB_URL, query_string={"f": "json"}, headers={how: f"Bearer {t}"})
    assert r.json["jobId"] == JOB


def test_wrong_and_expired_tokens_are_498(secured: FlaskClient, clock) -> None:
    t = token(secured, minutes=1)["token"]
    bad = secured.get(JOB_URL, query_string={"f": "json", "token": t[:-2] + "xx"}).json
    assert bad["error"] == {"code": 498, "message": "Invalid Token", "details": ["Invalid token."]}
    clock.advance(61_000)
    expired = secured.get(JOB_URL, query_string={"f": "json", "token": t}).json
    assert expired["error"] == {"code": 498, "message": "Invalid Token", "details": ["Token has expired."]}


def test_control_api_needs_no_token(secured: FlaskClient) -> None:
    assert secured.post("/__mock/jobs", json={"scenario": "add-mission"}).status_code == 201


def test_http_errors_turn_token_errors_into_401_and_403(make_app) -> None:
    client = make_app(AUTH=True, HTTP_ERRORS=True).test_client()
    assert client.get(JOB_URL, query_string={"f": "json"}).status_code == 401
    assert client.get(JOB_URL, query_string={"f": "json", "token": "x.1.y"}).status_code == 403


def test_without_auth_generate_token_is_unknown(client: FlaskClient) -> None:
    r = client.post("/arcgis/tokens/generateToken", data={"username": "admin", "password": "admin", "f": "json"})
    assert r.json["error"]["code"] == 404


def test_bad_user_setting_is_a_clear_error(make_app) -> None:
    from mockjobs.errors import MockjobsError

    with pytest.raises(MockjobsError, match="NAME:PASSWORD"):
        make_app(AUTH=True, USER="nopassword")


@pytest.mark.slow
def test_serve_auth_tokens_work_across_workers(launch: Launcher) -> None:
    srv = launch.serve("--auth", "--user", "ops:pw", "--workers", "2")
    assert srv.get(JOB_URL, params={"f": "json"}).json()["error"]["code"] == 499
    pids = srv.worker_pids(2)
    t = srv.post("/arcgis/tokens/generateToken", data={"username": "ops", "password": "pw", "f": "json"}).json()
    headers = {"X-Esri-Authorization": f"Bearer {t['token']}"}
    answers = srv.on_every_worker(
        lambda s: s.get(JOB_URL, params={"f": "json"}, headers=headers),
        pids,
        lambda r: r.json().get("jobId") == JOB,
    )
    assert set(answers) == pids  # a token from one worker is good on every worker


def test_unknown_paths_can_answer_404_before_the_token_check(make_app) -> None:
    client = make_app(AUTH=True, AUTH_UNKNOWN_PATHS="404").test_client()
    unknown = client.get("/arcgis/rest/nothing-here", query_string={"f": "json"}).json
    assert unknown["error"]["code"] == 404
    job_rest_info = client.get(f"{JOB_URL}/rest/info", query_string={"f": "json"}).json  # REST JS asks this
    assert job_rest_info["error"]["code"] == 404
    assert client.get(JOB_URL, query_string={"f": "json"}).json["error"]["code"] == 499  # known paths keep tokens
    assert client.delete(JOB_URL, query_string={"f": "json"}).json["error"]["code"] == 499  # so do known wrong methods
    trigger = client.post("/arcgis/rest/services/createMission", data={"f": "json", "title": "t"}).json
    assert trigger["error"]["code"] == 499
    for method in ("TRACE", "OPTIONS"):  # a method no route names, a plain OPTIONS: the same gate
        assert client.open("/arcgis/rest/nothing-here?f=json", method=method).json["error"]["code"] == 404, method
        assert client.open(f"{JOB_URL}?f=json", method=method).json["error"]["code"] == 499, method


@pytest.mark.parametrize("method", ["TRACE", "OPTIONS"])
def test_a_method_no_route_names_and_options_need_the_token_too(secured: FlaskClient, method: str) -> None:
    denied = secured.open(JOB_URL, method=method, query_string={"f": "json"})
    assert denied.json["error"]["code"] == 499 and "Allow" not in denied.headers
    unknown = secured.open("/arcgis/rest/nothing-here?f=json", method=method)
    assert unknown.json["error"]["code"] == 499  # what exists stays hidden without a token
    t = token(secured)["token"]
    r = secured.open(JOB_URL, method=method, query_string={"f": "json", "token": t})
    assert set(r.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    if method == "TRACE":
        assert r.json["error"]["code"] == 405
    else:
        assert (r.status_code, r.data) == (200, b"")


def test_a_bad_unknown_paths_setting_is_a_clear_error(make_app) -> None:
    from mockjobs.errors import MockjobsError

    with pytest.raises(MockjobsError, match="AUTH_UNKNOWN_PATHS must be 499 or 404"):
        make_app(AUTH_UNKNOWN_PATHS="403")
