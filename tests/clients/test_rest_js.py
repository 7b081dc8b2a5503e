"""ArcGIS REST JS (`@esri/arcgis-rest-request` from npm, in node) against a live `mockjobs serve`.

Each test runs one scenario of tests/clients/js/rest.mjs in node and asserts here on what the
library returned or threw and on what the server journaled.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.clients.conftest import PASSWORD, REFERENCE_JOB, USER, journal, need_rest_js, run_node
from tests.servers import Server

pytestmark = pytest.mark.slow

PAST_CLOCK_MS = 1_590_523_287_507  # 2020-05-26, the reference job's startTime


@pytest.fixture(autouse=True)
def _rest_js() -> None:
    need_rest_js()


def rest(server: Server, scenario: str, **args: Any) -> Any:
    """Run one rest.mjs scenario against server."""
    return run_node(
        "rest.mjs",
        scenario=scenario,
        rest=server.url + "/arcgis/rest",
        mock=server.url,
        username=USER,
        password=PASSWORD,
        **args,
    )


def test_request_of_a_job_in_every_form_the_library_sends(plain: Server) -> None:
    seen = rest(plain, "job", jobId=REFERENCE_JOB)
    polls = [(e["method"], e["f"], e["kind"]) for e in journal(plain) if e.get("jobId") == REFERENCE_JOB]
    assert polls == [("GET", "pjson", "poll"), ("POST", "json", "poll"), ("GET", "json", "poll")]
    expected = plain.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json").json()
    assert seen["post"] == seen["get"] == json.loads(seen["pjson"]) == expected
    assert seen["pjson"].startswith("{\n")  # pretty-printed
    assert (seen["post"]["jobId"], seen["post"]["status"]) == (REFERENCE_JOB, "COMPLETED")


def test_create_mission_then_poll_to_completed(plain: Server) -> None:
    seen = rest(plain, "createAndPoll", title="Harbour patrol")
    job_id = seen["created"]["jobId"]
    statuses = [p["status"] for p in seen["polls"]]
    assert statuses[0] == "EXECUTING"
    assert statuses[-1] == "COMPLETED"
    assert set(statuses[:-1]) == {"EXECUTING"}
    last = seen["last"]
    messages = [p["messages"] for p in seen["polls"]]
    assert messages == list(range(1, len(last["messages"]) + 1))  # one more event per advance to "next"
    assert last["jobId"] == job_id and last["type"] == "createNewMissionService"
    assert last["customAttributes"]["stepsCompleted"] == last["customAttributes"]["totalSteps"] == 7
    assert 'Created mission group for "Harbour patrol".' in last["messages"]
    assert len(last["customAttributes"]["missionId"]) == 32
    entries = journal(plain)
    trigger = [e for e in entries if e["kind"] == "trigger"]
    assert [(e["method"], e["path"], e["jobId"]) for e in trigger] == [
        ("POST", "/arcgis/rest/services/createMission", job_id)
    ]
    polls = [e for e in entries if e["kind"] == "poll" and e["jobId"] == job_id]
    assert len(polls) == len(seen["polls"])
    assert {(e["method"], e["f"]) for e in polls} == {("POST", "json")}  # REST JS polls with a form POST


def test_unknown_job_throws_arcgis_request_error_404(plain: Server) -> None:
    seen = rest(plain, "unknownJob", jobId="j00000000-0000-0000-0000-000000000000")
    for how in ("post", "get"):
        error = seen[how]
        assert error["name"] == "ArcGISRequestError"
        assert error["isRequestError"] and not error["isAuthError"]
        assert error["code"] == 404
        assert error["message"] == "404: Job not found."


def test_fetch_token_from_rest_info_then_every_way_to_send_it(secured: Server) -> None:
    seen = rest(secured, "fetchToken", jobId=REFERENCE_JOB)
    assert seen["tokenServicesUrl"] == secured.url + "/arcgis/tokens/generateToken"
    assert abs(seen["expires"] - (seen["now"] + 60 * 60_000)) < 60_000  # real epoch ms, an hour from now
    assert seen["withoutToken"]["name"] == "ArcGISAuthError" and seen["withoutToken"]["code"] == 499
    for how in ("asParam", "asAuthentication", "asHeader"):
        assert seen[how]["jobId"] == REFERENCE_JOB, how
    assert seen["forged"]["name"] == "ArcGISAuthError" and seen["forged"]["code"] == 498
    entries = journal(secured)
    tokens = [(e["method"], e["path"], e.get("error")) for e in entries if e["kind"] == "token"]
    assert tokens == [("POST", "/arcgis/tokens/generateToken", None)]  # fetchToken POSTs the credentials
    assert "s3cret" not in str(entries)


def test_token_expires_when_the_mock_clock_moves(secured: Server) -> None:
    seen = rest(secured, "tokenExpiry", jobId=REFERENCE_JOB)
    assert seen["before"]["jobId"] == REFERENCE_JOB
    assert seen["after"]["name"] == "ArcGISAuthError"
    assert seen["after"]["code"] == 498
    assert seen["after"]["message"].lower() == "498: invalid token"  # "Invalid Token": Esri's Python client's words


def test_identity_manager_refreshes_its_token_after_a_498(secured: Server) -> None:
    seen = rest(secured, "identityManager", jobId=REFERENCE_JOB)
    assert seen["first"]["jobId"] == seen["again"]["jobId"] == seen["afterExpiry"]["jobId"] == REFERENCE_JOB
    assert seen["secondToken"] != seen["firstToken"]
    # the client's view of the first token: alive (expires after its own clock) when the server
    # refused it, so the refresh came from the 498, not from the client's own expiry check
    assert seen["firstExpires"] > seen["now"]
    asked = [(e["method"], e["path"].removeprefix("/arcgis"), e.get("error")) for e in journal(secured)]
    job = f"/rest/jobs/{REFERENCE_JOB}"
    assert asked == [
        ("POST", "/rest/info", None),  # refreshCredentials: the server's tokenServicesUrl
        ("POST", "/tokens/generateToken", None),
        ("POST", job, None),
        ("POST", job, None),  # the same token again
        ("POST", job, 498),  # the mock clock moved past the token's life
        ("POST", "/rest/info", None),
        ("POST", "/tokens/generateToken", None),
        ("POST", job, None),  # the retry with the new token
    ]


def test_identity_manager_keeps_its_token_while_the_mock_clock_is_in_the_past(secured: Server) -> None:
    started = time.time() * 1000
    seen = rest(secured, "identityManagerPastClock", jobId=REFERENCE_JOB, setClock=PAST_CLOCK_MS)
    assert [d["jobId"] for d in seen["docs"]] == [REFERENCE_JOB] * 3
    # expires is in real epoch ms (the client's time), about 5 minutes from now, not in 2020
    assert started + 4 * 60_000 < seen["expires"] <= seen["now"] + 5 * 60_000 + 1_000
    tokens = [e for e in journal(secured) if e["kind"] == "token"]
    assert len(tokens) == 1, "the identity manager fetched a new token before every request"
