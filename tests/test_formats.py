"""Output formats: negotiation and encoding, and every answer under the context in every format."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient

from mockjobs import formats
from mockjobs.formats import JSON, Format, FormatError
from tests.conftest import scenario_folder

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"

TRIGGERED = """\
name: triggered
job: {type: demoJob}
trigger: {method: POST, path: /rest/services/go}
timeline:
  - {at: 0, message: "Ünïcode ✓ </script>", status: EXECUTING}
"""


@pytest.fixture
def app(make_app: Callable[..., Flask], tmp_path: Path) -> Flask:
    """An app serving add-mission (the reference job) and a triggered scenario."""
    folder = scenario_folder(tmp_path / "scenarios", {"triggered.yaml": TRIGGERED}, bundled=["add-mission.yaml"])
    return make_app(SCENARIOS=[str(folder)])


# --------------------------------------------------------------------------- negotiation


def negotiate(app: Flask, method: str = "GET", **kwargs: Any) -> Format:
    """The format a request built from kwargs negotiates."""
    with app.test_request_context("/", method=method, **kwargs):
        return formats.negotiate(request)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, Format("html")),
        ({"f": ""}, Format("html")),
        ({"f": "json"}, Format("json")),
        ({"f": " PJSON "}, Format("pjson")),
        ({"f": "json", "callback": "cb"}, Format("json", "cb")),
        ({"f": "pjson", "callback": "a.b.c"}, Format("pjson", "a.b.c")),
        ({"f": "html", "callback": "cb"}, Format("html")),
        ({"callback": "cb"}, Format("html")),
    ],
)
def test_negotiate_reads_the_query(app: Flask, query: dict[str, str], expected: Format) -> None:
    assert negotiate(app, query_string=query) == expected


def test_negotiate_reads_the_form(app: Flask) -> None:
    assert negotiate(app, "POST", data={"f": "pjson", "callback": "cb"}) == Format("pjson", "cb")


def test_negotiate_prefers_the_query_over_the_form(app: Flask) -> None:
    assert negotiate(app, "POST", query_string={"f": "json"}, data={"f": "pjson"}) == Format("json")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"f": "xml"}, "Invalid format 'xml'"),
        ({"f": "json", "callback": "alert(1)"}, "Invalid callback name."),
        ({"f": "json", "callback": "a" * 129}, "Invalid callback name."),
    ],
)
def test_negotiate_refuses(app: Flask, query: dict[str, str], message: str) -> None:
    with pytest.raises(FormatError) as info:
        negotiate(app, query_string=query)
    assert info.value.message.startswith(message)
    assert info.value.details


def test_negotiate_or_json_falls_back_to_json(app: Flask) -> None:
    with app.test_request_context("/?f=xml"):
        assert formats.negotiate_or_json(request) == JSON


# --------------------------------------------------------------------------- encoding


def test_encode_json_is_compact_and_keeps_key_order_and_unicode() -> None:
    obj = {"z": 1, "a": ["é", None]}
    assert formats.encode(obj, Format("json")) == '{"z":1,"a":["é",null]}'.encode()


def test_encode_pjson_is_indented() -> None:
    assert formats.encode({"a": [1]}, Format("pjson"), indent=4) == b'{\n    "a": [\n        1\n    ]\n}'


def test_wrap_plain_and_jsonp() -> None:
    plain = formats.wrap(b"{}", Format("json"))
    assert (plain.mimetype, plain.get_data(), plain.status_code) == ("application/json", b"{}", 200)
    jsonp = formats.wrap(b"{}", Format("json", "cb"), status=404)
    assert (jsonp.mimetype, jsonp.get_data(), jsonp.status_code) == ("application/javascript", b"cb({});", 404)
    assert jsonp.headers["X-Content-Type-Options"] == "nosniff"


def test_respond_html_without_a_page_falls_back_to_json() -> None:
    r = formats.respond({"a": 1}, Format("html"))
    assert (r.mimetype, r.get_data()) == ("application/json", b'{"a":1}')


def test_error_envelope_shape() -> None:
    assert formats.error_envelope(404, "Nope", ["x"]) == {"error": {"code": 404, "message": "Nope", "details": ["x"]}}
    assert formats.error_envelope(500, "Oops")["error"]["details"] == []


# --------------------------------------------------------------------------- every answer, every format

ANSWERS = {
    "root": ("GET", "/arcgis/rest"),
    "info": ("GET", "/arcgis/rest/info"),
    "jobs": ("GET", "/arcgis/rest/jobs"),
    "job": ("GET", f"/arcgis/rest/jobs/{REFERENCE_JOB}"),
    "job-post": ("POST", f"/arcgis/rest/jobs/{REFERENCE_JOB}"),
    "trigger": ("POST", "/arcgis/rest/services/go"),
    "unknown-job": ("GET", "/arcgis/rest/jobs/nope"),
    "unknown-path": ("GET", "/arcgis/nope"),
    "wrong-method": ("DELETE", "/arcgis/rest/jobs"),
}

VARIANTS = {
    "json": ({"f": "json"}, "application/json", None),
    "pjson": ({"f": "pjson"}, "application/json", None),
    "json+callback": ({"f": "json", "callback": "cb"}, "application/javascript", "cb"),
    "pjson+callback": ({"f": "pjson", "callback": "ns.cb"}, "application/javascript", "ns.cb"),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_answer_honours_every_json_format(client: FlaskClient, answer: str, variant: str) -> None:
    method, path = ANSWERS[answer]
    query, mimetype, callback = VARIANTS[variant]
    r = client.open(path, method=method, query_string=query)
    assert (r.status_code, r.mimetype) == (200, mimetype)
    text = r.get_data(as_text=True)
    if callback:
        match = re.fullmatch(re.escape(callback) + r"\((.*)\);", text, re.S)
        assert match, text
        text = match.group(1)
    obj = json.loads(text)
    indented = query["f"] == "pjson"
    assert ("\n" in text) == indented
    assert obj
    if answer.startswith(("unknown", "wrong")):
        assert set(obj) == {"error"}


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_answer_honours_html(client: FlaskClient, answer: str) -> None:
    method, path = ANSWERS[answer]
    r = client.open(path, method=method, query_string={"f": "html"})
    assert (r.status_code, r.mimetype) == (200, "text/html")
    html = r.get_data(as_text=True)
    assert html.startswith("<!doctype html>")
    assert "Traceback" not in html


@pytest.mark.parametrize("answer", list(ANSWERS))
def test_every_answer_refuses_an_unsupported_f_in_json(client: FlaskClient, answer: str) -> None:
    method, path = ANSWERS[answer]
    r = client.open(path, method=method, query_string={"f": "geojson"})
    assert r.mimetype == "application/json"
    assert r.get_json()["error"]["code"] == 400


def test_pjson_indent_is_configurable(make_app: Callable[..., Flask]) -> None:
    text = make_app(PJSON_INDENT=4).test_client().get("/arcgis/rest?f=pjson").get_data(as_text=True)
    assert text.splitlines()[1].startswith('    "currentVersion"')


def test_non_ascii_and_script_text_survive_json(client: FlaskClient) -> None:
    job_id = client.post("/arcgis/rest/services/go?f=json").get_json()["jobId"]
    r = client.get(f"/arcgis/rest/jobs/{job_id}?f=json")
    assert "Ünïcode ✓ </script>" in r.get_data(as_text=True)
    assert r.get_json()["messages"] == ["Ünïcode ✓ </script>"]
