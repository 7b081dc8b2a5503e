"""schemathesis against a live `mockjobs serve`: no 5xx, and every answer matches the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.servers import Launcher, Server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live() -> Iterator[Server]:
    """One real server (gunicorn, 2 workers) for the whole module."""
    launch = Launcher()
    try:
        yield launch.serve("--workers", "2", "--threads", "2")
    finally:
        launch.stop_all()


@pytest.fixture(scope="module")
def control_api(live: Server) -> schemathesis.BaseSchema:
    """The control API as its own /__mock/openapi.json describes it."""
    return schemathesis.openapi.from_url(f"{live.url}/__mock/openapi.json")


def test_control_api_honours_its_document(control_api: schemathesis.BaseSchema) -> None:
    operations = [result.ok() for result in control_api.get_all_operations()]
    labels = sorted(op.label for op in operations)
    assert len(operations) >= 17, " ".join(labels)  # all 18 but the document's own URL
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def honoured(case: schemathesis.Case) -> None:
            response = case.call(timeout=30)
            where = f"{case.method} {case.formatted_path}"
            assert response.status_code < 500, f"{where}: {response.status_code} {response.text}"
            # Every check but positive_data_acceptance: a body can be schema-valid and still name
            # a var its scenario lacks, or move a job back in time; those are honest 400s.
            case.validate_response(response, excluded_checks=[schemathesis.checks.positive_data_acceptance])

        honoured()
