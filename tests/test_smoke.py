"""The reference example, end to end through the test client."""

from __future__ import annotations

import json

from tests.conftest import REPO

REFERENCE_JOB = "j522676d9-983a-48e2-a51c-5066966160f0"


def reference_document() -> dict:
    """The JSON example of the Job resource's reference page."""
    text = (REPO / "tests" / "data" / "reference-job-page.txt").read_text()
    start = text.index("JSON Response example")
    body = text[text.index("{", start) : text.index("Your browser")]
    return json.loads(body)


def test_static_reference_job_equals_the_reference_page(client) -> None:
    r = client.get(f"/arcgis/rest/jobs/{REFERENCE_JOB}?f=json")
    assert r.status_code == 200
    assert r.data == json.dumps(reference_document(), separators=(",", ":")).encode()
